"""Benchmark: drift of 1,000,000 rows x 50 columns against a cached profile of a 1,000,000-row reference.

Three sides on the same Parquet files, written once per run:

- **uniml**: ``monitor(Profile.load(...), current)`` -- the profile (quantile edges,
  10,000-point sketch per column) is fitted once beforehand and loaded from its
  file, as in production; each repeat runs in a fresh interpreter that reads the
  current Parquet file, runs the monitor and reports its time and peak RSS
  (the kernel's ``VmHWM``, so the data itself counts);
- **scipy**: a plain loop of ``scipy.stats.wasserstein_distance`` over the columns
  (what a hand-written monitor does), in-process, once;
- **Evidently** 0.7 ``Report([DataDriftPreset()])`` in its own virtual environment
  (Evidently needs pandas < 3; it is never a uniml dependency): created under
  ``/tmp/uniml-bench-evidently`` with pip on first use, or given with
  ``--evidently-python``. Its per-column normalised Wasserstein values are also
  compared with uniml's (they use the same definition).

The targets (issue 18): uniml <= 5 s and <= 1 GB peak on 2 cores, and >= 56x
faster than Evidently. Run::

    python benchmarks/bench_monitoring.py            # full: 1M x 50 (Evidently takes minutes)
    python benchmarks/bench_monitoring.py --quick    # 100k x 50, smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVIDENTLY_VENV = Path("/tmp/uniml-bench-evidently")
EVIDENTLY_PIN = "evidently==0.7.23"
MARK = "@@bench-monitoring@@ "
N_COLS = 50
N_SHIFTED = 10
#: allocator settings for the uniml child: return freed Arrow/pandas buffers to the OS
LEAN_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_MMAP_THRESHOLD_": "131072"}

# peak RSS from the kernel's VmHWM of this process image (ru_maxrss would carry the parent's
# peak across fork + exec)
HWM = """
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

UNIML_CHILD = (
    HWM
    + r"""
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
from uniml.monitoring import Profile, monitor, read_current
profile = Profile.load(sys.argv[1])
current = read_current(sys.argv[2])
t1 = time.perf_counter()
report = monitor(profile, current, emit=False)
t2 = time.perf_counter()
out = {"monitor_s": t2 - t1, "read_s": t1 - t0, "peak_mb": hwm(),
       "drifted": report.drifted_columns,
       "wasserstein": {c.name: c.statistics["wasserstein"] for c in report.columns}}
print("@@bench-monitoring@@ " + json.dumps(out))
"""
)

EVIDENTLY_CHILD = (
    HWM
    + r"""
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1]); current = pd.read_parquet(sys.argv[2])
t0 = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
elapsed = time.perf_counter() - t0
values = {}
for m in snapshot.dict()["metrics"]:
    cfg = m.get("config", {})
    if cfg.get("type", "").endswith("ValueDrift") and "Wasserstein" in str(cfg.get("method")):
        values[cfg["column"]] = float(m["value"])
import evidently
print("@@bench-monitoring@@ " + json.dumps({"seconds": elapsed, "version": evidently.__version__,
      "peak_mb": hwm(), "wasserstein": values}))
"""
)


def _result(done: subprocess.CompletedProcess) -> dict:
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise RuntimeError(f"child failed (exit {done.returncode}): {done.stderr[-2000:]}")


def make_data(folder: Path, rows: int) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    names = [f"f{i:02d}" for i in range(N_COLS)]

    def frame(shifted: bool) -> pd.DataFrame:
        data = {}
        for i, name in enumerate(names):
            base = rng.standard_normal(rows) if i % 2 == 0 else rng.gamma(2.0, size=rows)
            if shifted and i < N_SHIFTED:
                base = base + 0.3 * (i + 1) / N_SHIFTED  # 0.03 to 0.3 (x std for the normals)
            data[name] = base
        return pd.DataFrame(data)

    ref, cur = folder / "reference.parquet", folder / "current.parquet"
    frame(False).to_parquet(ref)
    frame(True).to_parquet(cur)
    return ref, cur


def evidently_python(explicit: str | None) -> str:
    if explicit:
        return explicit
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        base = shutil.which("python3.11") or shutil.which("python3.12") or sys.executable
        subprocess.run([base, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", EVIDENTLY_PIN, "pandas<3", "pyarrow"],
            check=True,
        )
    return str(python)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument("--no-scipy", action="store_true")
    parser.add_argument("--evidently-python", help="a python with evidently 0.7 and pandas < 3")
    args = parser.parse_args(argv)
    rows = 100_000 if args.quick else 1_000_000
    repeats = 1 if args.quick else args.repeats
    sys.path.insert(0, str(ROOT / "src"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **LEAN_ENV}

    with tempfile.TemporaryDirectory(prefix="uniml-bench-monitoring-") as tmp:
        folder = Path(tmp)
        ref_path, cur_path = make_data(folder, rows)
        import pandas as pd

        from uniml.monitoring import Profile

        reference = pd.read_parquet(ref_path)
        t0 = time.perf_counter()
        profile = Profile.fit(reference)
        fit_s = time.perf_counter() - t0
        profile_path = profile.save(folder / "profile.npz")
        del reference
        results = {
            "rows": rows,
            "columns": N_COLS,
            "profile_fit_s": fit_s,
            "profile_mb": profile_path.stat().st_size / 1e6,
            "load_average": os.getloadavg()[0],
        }
        runs = []
        for _ in range(repeats):
            done = subprocess.run(
                [sys.executable, "-c", UNIML_CHILD, str(profile_path), str(cur_path)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            runs.append(_result(done))
        results["uniml_s"] = statistics.median(r["monitor_s"] for r in runs)
        results["uniml_runs_s"] = [round(r["monitor_s"], 3) for r in runs]
        results["uniml_peak_mb"] = statistics.median(r["peak_mb"] for r in runs)
        results["uniml_drifted"] = runs[0]["drifted"]
        ours = runs[0]["wasserstein"]
        print(
            f"uniml: {results['uniml_runs_s']} s, peak {results['uniml_peak_mb']:.0f} MB",
            file=sys.stderr,
            flush=True,
        )

        if not args.no_scipy:
            import numpy as np
            from scipy.stats import wasserstein_distance

            ref = pd.read_parquet(ref_path)
            cur = pd.read_parquet(cur_path)
            t0 = time.perf_counter()
            plain = {c: wasserstein_distance(ref[c], cur[c]) / np.std(ref[c]) for c in ref.columns}
            results["scipy_s"] = time.perf_counter() - t0
            results["max_abs_diff_vs_scipy"] = max(abs(plain[c] - ours[c]) for c in plain)
            del ref, cur

        if not args.no_evidently:
            python = evidently_python(args.evidently_python)
            done = subprocess.run(
                [python, "-c", EVIDENTLY_CHILD, str(ref_path), str(cur_path)],
                capture_output=True,
                text=True,
                check=False,
            )
            ev = _result(done)
            results["evidently_version"] = ev["version"]
            results["evidently_s"] = ev["seconds"]
            results["evidently_peak_mb"] = ev["peak_mb"]
            common = [c for c in ev["wasserstein"] if c in ours]
            if common:
                results["max_abs_diff_vs_evidently"] = max(
                    abs(ev["wasserstein"][c] - ours[c]) for c in common
                )
            results["speedup_vs_evidently"] = ev["seconds"] / results["uniml_s"]
        if "scipy_s" in results:
            results["speedup_vs_scipy"] = results["scipy_s"] / results["uniml_s"]
    print(json.dumps(results, indent=2))
    ok = results["uniml_s"] <= 5.0 and results["uniml_peak_mb"] <= 1024
    if "speedup_vs_evidently" in results:
        ok = ok and results["speedup_vs_evidently"] >= 56
    if not args.quick:
        print("targets (<= 5 s, <= 1 GB, >= 56x Evidently):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
