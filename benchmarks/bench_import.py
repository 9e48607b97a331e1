"""Benchmark 5: ``import uniml`` wall time and what it drags in.

Fresh interpreters run ``python -c "import uniml"`` and ``python -c "pass"``
alternately; the import cost is the difference of the medians. The target
row uses a warm bytecode cache (as after ``pip``/``conda`` install, which
compile ``.pyc`` files); the cache lives in a temporary
``PYTHONPYCACHEPREFIX`` so the source tree is never written to. A context
row repeats the measurement with the interpreter environment exactly as
inherited (with ``PYTHONDONTWRITEBYTECODE=1`` and an editable install there
is no cache, so every run also compiles uniml's modules).

A separate interpreter then lists which heavy libraries ``import uniml`` put
into ``sys.modules`` (none of them may be there), and ``-X importtime``
records the slowest imports for the details.

Run alone: ``python benchmarks/bench_import.py uniml [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from _common import row, summary, worker_main

TARGET_SECONDS = 0.3
FORBIDDEN = (
    "xgboost",
    "lightgbm",
    "prophet",
    "statsmodels",
    "dowhy",
    "econml",
    "lightfm",
    "shap",
    "mlflow",
    "pandas",
    "sklearn",
)
SIZES = {False: {"runs": 21}, True: {"runs": 10}}

_CHECK = """
import json, sys
import uniml
heavy = {forbidden!r}
loaded = sorted({{m.split('.')[0] for m in sys.modules}})
print(json.dumps({{"forbidden_loaded": [m for m in heavy if m in loaded],
                  "numpy_loaded": "numpy" in loaded,
                  "n_modules": len(sys.modules),
                  "uniml_modules": sorted(m for m in sys.modules if m.split('.')[0] == 'uniml')}}))
"""


def _timed(code: str, env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def _import_cost(env: dict, runs: int) -> tuple[float, float, float, list, list]:
    for _ in range(2):  # warm the OS page cache (and the bytecode cache, where writable)
        _timed("import uniml", env)
        _timed("pass", env)
    t_imp, t_pass = [], []
    for i in range(runs):
        order = (("import uniml", t_imp), ("pass", t_pass))
        for code, out in order if i % 2 == 0 else order[::-1]:
            out.append(_timed(code, env))
    mi, mp = summary(t_imp)["median"], summary(t_pass)["median"]
    return mi - mp, mi, mp, t_imp, t_pass


def _importtime(env: dict) -> list:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import uniml"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    entries = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cum_us, name = line[len("import time:") :].split("|", 2)
        entries.append(
            {"module": name.strip(), "self_us": int(self_us), "cumulative_us": int(cum_us)}
        )
    return sorted(entries, key=lambda e: -e["cumulative_us"])[:8]


def run(lib: str, quick: bool) -> list[dict]:
    runs = SIZES[quick]["runs"]
    inherited = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="uniml-bench-pycache-") as prefix:
        warm = dict(inherited, PYTHONPYCACHEPREFIX=prefix)
        warm.pop("PYTHONDONTWRITEBYTECODE", None)
        cost, t_i, t_p, s_i, s_p = _import_cost(warm, runs)
        top = _importtime(warm)
    cold_cost, cold_i, cold_p, cs_i, cs_p = _import_cost(inherited, runs)

    check = subprocess.run(
        [sys.executable, "-c", _CHECK.format(forbidden=FORBIDDEN)],
        capture_output=True,
        text=True,
        check=True,
    )
    mods = json.loads(check.stdout)
    return [
        row(
            "import",
            "uniml",
            "`import uniml` time (warm .pyc cache)",
            "s",
            cost,
            target=TARGET_SECONDS,
            python_import_uniml_s=t_i,
            python_pass_s=t_p,
            import_times=s_i,
            pass_times=s_p,
            slowest_imports=top,
        ),
        row(
            "import",
            "uniml",
            "`import uniml` time (environment as inherited)",
            "s",
            cold_cost,
            context=True,
            python_import_uniml_s=cold_i,
            python_pass_s=cold_p,
            import_times=cs_i,
            pass_times=cs_p,
            PYTHONDONTWRITEBYTECODE=inherited.get("PYTHONDONTWRITEBYTECODE"),
        ),
        row(
            "import",
            "uniml",
            "heavy libraries in sys.modules after `import uniml`",
            "modules",
            len(mods["forbidden_loaded"]),
            target=0,
            checked=list(FORBIDDEN),
            **mods,
        ),
    ]


if __name__ == "__main__":
    worker_main(run)
