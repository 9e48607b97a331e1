"""Shared helpers of the uniml benchmark suite (stdlib + numpy only at import time).

Every benchmark compares the uniml adapter with the raw library *in the same
process and the same run*: the two sides are measured alternately (ABBA
order, so neither side always runs first) and each side is summarised by its
median. A benchmark module exposes ``run(lib, quick) -> list[dict]`` (one dict
per result row, see :func:`row`) and is executed by ``run.py`` in a fresh
interpreter per library, so that LightGBM's and XGBoost's OpenMP runtimes
(two different ``libgomp`` copies) never share a process and spin against
each other.
"""

from __future__ import annotations

import gc
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence

LIBRARIES = ("lightgbm", "xgboost")
ADAPTER_NAMES = {"lightgbm": "lightgbm.regressor", "xgboost": "xgboost.regressor"}
RESULT_MARK = "@@uniml-benchmark-result@@ "
N_FEATURES = 50
SEED = 0


def n_jobs() -> int:
    """Threads given to both sides: ``$UNIML_BENCH_N_JOBS`` (``run.py --n-jobs``), else every core."""
    value = os.environ.get("UNIML_BENCH_N_JOBS", "")
    return int(value) if value else (os.cpu_count() or 1)


def model_params(lib: str, n_estimators: int = 100) -> dict:
    """Identical hyperparameters for the adapter and the raw estimator."""
    params = {"n_estimators": n_estimators, "random_state": SEED, "n_jobs": n_jobs()}
    if lib == "lightgbm":
        params["verbose"] = -1  # the adapter's default; set explicitly so both sides match
    return params


def raw_class(lib: str):
    """The raw scikit-learn-API estimator class of ``lib``."""
    if lib == "lightgbm":
        import lightgbm

        return lightgbm.LGBMRegressor
    if lib == "xgboost":
        import xgboost

        return xgboost.XGBRegressor
    raise ValueError(f"unknown library {lib!r}")


def make_adapter(lib: str, **params):
    import uniml

    return uniml.make(ADAPTER_NAMES[lib], **params)


def make_data(n_rows: int, n_features: int = N_FEATURES, seed: int = SEED):
    """A float32 regression frame (named columns) and a float32 target Series.

    Generated directly in float32 (no float64 temporary), so that building
    the data never sets a higher memory peak than the fit measured after it.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    coef = rng.standard_normal(n_features, dtype=np.float32) * (rng.random(n_features) < 0.3)
    target = values @ coef + np.sin(values[:, 0]) * values[:, 1]
    target += rng.standard_normal(n_rows, dtype=np.float32) * np.float32(0.5)
    columns = [f"f{i}" for i in range(n_features)]
    X = pd.DataFrame(values, columns=columns, copy=False)
    y = pd.Series(target.astype(np.float32), name="y")
    return X, y


# ------------------------------------------------------------------ timing
def interleaved(
    funcs: Sequence[Callable[[], object]], repeats: int, warmup: int = 1, collect: bool = True
) -> tuple[list[list[float]], list[list[float]]]:
    """Time each function ``repeats`` times, alternating them call by call.

    The order reverses every round (A B, B A, A B... for two functions), so
    slow drift of the machine and "who runs first" effects hit every side
    equally. ``gc.collect()`` runs outside the timed region before each call
    when ``collect`` is true.

    Returns ``(wall, cpu)``: per function, the list of wall times
    (``perf_counter``) and of process CPU times (``process_time``, all
    threads) in seconds.
    """
    for _ in range(warmup):
        for f in funcs:
            f()
    wall: list[list[float]] = [[] for _ in funcs]
    cpu: list[list[float]] = [[] for _ in funcs]
    k = len(funcs)
    for i in range(repeats):
        order = range(k) if i % 2 == 0 else range(k - 1, -1, -1)
        for j in order:
            if collect:
                gc.collect()
            c0 = time.process_time()
            t0 = time.perf_counter()
            funcs[j]()
            wall[j].append(time.perf_counter() - t0)
            cpu[j].append(time.process_time() - c0)
    return wall, cpu


def interleaved_calls(
    funcs: Sequence[Callable[[int], object]], calls: int, warmup: int = 50
) -> list[list[float]]:
    """Per-call wall times of cheap functions taking the call number, alternated call by call.

    Garbage collection is left on (it is part of real per-call cost) but
    each side triggers it equally often because calls alternate.
    """
    for i in range(warmup):
        for f in funcs:
            f(i)
    times: list[list[float]] = [[] for _ in funcs]
    k = len(funcs)
    perf = time.perf_counter
    for i in range(calls):
        order = range(k) if i % 2 == 0 else range(k - 1, -1, -1)
        for j in order:
            f = funcs[j]
            t0 = perf()
            f(i)
            times[j].append(perf() - t0)
    return times


def summary(samples: Sequence[float]) -> dict:
    """Median, quartiles and count of a sample."""
    s = sorted(samples)
    if len(s) >= 4:
        q1, _, q3 = statistics.quantiles(s, n=4)
    else:
        q1, q3 = s[0], s[-1]
    return {"median": statistics.median(s), "q1": q1, "q3": q3, "min": s[0], "n": len(s)}


def _bootstrap(
    stat,
    samples: Sequence[Sequence[float]],
    paired: bool,
    resamples: int = 2000,
    level: float = 0.95,
) -> list[float]:
    """Percentile bootstrap interval of ``stat(*resampled samples)``.

    ``paired`` resamples whole rounds (the same indices for every sample, as
    round i of each side was measured back to back); otherwise each sample is
    resampled on its own.
    """
    import numpy as np

    rng = np.random.default_rng(SEED)
    arrays = [np.asarray(x, dtype=float) for x in samples]
    values = []
    for start in range(0, resamples, 100):  # chunks keep memory small for 5,000-call samples
        k = min(100, resamples - start)
        shared = rng.integers(0, len(arrays[0]), (k, len(arrays[0]))) if paired else None
        picks = [a[shared] if paired else a[rng.integers(0, len(a), (k, len(a)))] for a in arrays]
        values.append(stat(*picks))
    lo, hi = np.quantile(np.concatenate(values), [(1 - level) / 2, (1 + level) / 2])
    return [float(lo), float(hi)]


def ratio_stats(adapter: Sequence[float], raw: Sequence[float], paired: bool = True) -> dict:
    """The adapter/raw ratio of a benchmark, with a bootstrap 95% interval.

    Paired samples (side A and side B measured back to back, round after
    round): ``ratio`` is the median over rounds of ``A_i / B_i``, which
    cancels drift slower than one round. Unpaired samples (one process per
    measurement): ``ratio`` is ``median(A) / median(B)``. Both are reported
    in either case where they exist.
    """
    import numpy as np

    a, b = np.asarray(adapter, dtype=float), np.asarray(raw, dtype=float)
    out = {"ratio_of_medians": float(np.median(a) / np.median(b))}
    if paired:
        pair = a / b
        ps = summary(pair.tolist())
        out.update(
            ratio=ps["median"],
            ratio_ci95=_bootstrap(lambda r: np.median(r, axis=1), [pair], paired=True),
            ratio_kind="median of per-round ratios",
            paired_ratio_median=ps["median"],
            paired_ratio_q1=ps["q1"],
            paired_ratio_q3=ps["q3"],
        )
    else:
        out.update(
            ratio=out["ratio_of_medians"],
            ratio_ci95=_bootstrap(
                lambda x, y: np.median(x, axis=1) / np.median(y, axis=1), [a, b], paired=False
            ),
            ratio_kind="ratio of medians",
        )
    return out


# ------------------------------------------------------------------ result rows
def row(
    benchmark: str,
    library: str,
    measure: str,
    unit: str,
    adapter,
    raw=None,
    ratio=None,
    target: float | None = None,
    op: str = "<=",
    context: bool = False,
    **detail,
) -> dict:
    """One result row. ``passed`` compares ``ratio`` (or ``adapter`` when no ratio) with ``target``."""
    value = ratio if ratio is not None else adapter
    passed = None
    if target is not None and value is not None:
        passed = bool(value <= target) if op == "<=" else bool(value >= target)
    return {
        "benchmark": benchmark,
        "library": library,
        "measure": measure,
        "unit": unit,
        "adapter": adapter,
        "raw": raw,
        "ratio": ratio,
        "target": target,
        "op": op,
        "passed": passed,
        "context": context,
        "detail": detail,
    }


def emit(rows: list[dict]) -> None:
    """Hand rows to the parent process (one marked JSON line on stdout)."""
    sys.stdout.write(RESULT_MARK + json.dumps(rows) + "\n")
    sys.stdout.flush()


def worker_main(run: Callable[[str, bool], list[dict]]) -> None:
    """``python bench_x.py LIB [--quick]``: run one benchmark for one library and emit its rows."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("lib")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    emit(run(args.lib, args.quick))


# ------------------------------------------------------------------ memory (/proc)
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        match = re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.MULTILINE)
    return int(match.group(1)) if match else -1


def rss_kb() -> int:
    """Current resident set size of this process (kB)."""
    return _status_kb("VmRSS")


def hwm_kb() -> int:
    """Peak resident set size of this process since start or the last :func:`reset_peak` (kB)."""
    return _status_kb("VmHWM")


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``, Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return hwm_kb() <= rss_kb() + 64


# ------------------------------------------------------------------ machine
def machine_info() -> dict:
    import platform

    model = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as fh:
            mem_gb = round(int(fh.readline().split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cpu_model": model,
        "nproc": os.cpu_count(),
        "mem_total_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg": load,
    }


def library_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("uniml", "numpy", "pandas", "scikit-learn", "lightgbm", "xgboost", "shap"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out
