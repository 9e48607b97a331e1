"""Benchmark 3: peak memory of fit, adapter / raw library.

Each measurement is a fresh interpreter (``--child``) that imports
everything, builds the float32 data, collects garbage, resets the kernel's
peak-RSS counter (``/proc/self/clear_refs``), reads its RSS, fits once, and
reports ``peak RSS during fit - RSS before fit``: the memory the fit itself
needed on top of the data already held. Where the peak counter cannot be
reset, a thread sampling ``VmRSS`` every millisecond gives the peak instead.
Before the baseline each child runs a small warm-up fit of its own side,
so lazy imports and thread pools are not counted. Children alternate
adapter / raw / raw / adapter...; the medians are compared.

Run alone: ``python benchmarks/bench_memory.py lightgbm [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from _common import ratio_stats, row, summary, worker_main

TARGET = 1.05
SIZES = {
    False: {"rows": 1_000_000, "n_estimators": 100, "repeats": 3},
    True: {"rows": 200_000, "n_estimators": 30, "repeats": 1},
}
CHILD_MARK = "@@memory@@ "


class _Sampler(threading.Thread):
    """Fallback peak tracker: polls VmRSS until stopped."""

    def __init__(self, interval: float = 0.001):
        super().__init__(daemon=True)
        from _common import rss_kb

        self._rss = rss_kb
        self.interval = interval
        self.peak = rss_kb()
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, self._rss())
        return self.peak


def child(lib: str, side: str, rows: int, n_estimators: int) -> None:
    import gc

    from _common import hwm_kb, make_adapter, make_data, model_params, raw_class, reset_peak, rss_kb

    params = model_params(lib, n_estimators)
    Raw = raw_class(lib)

    def fit(X, y):
        if side == "adapter":
            return make_adapter(lib, **params).fit(X, y)
        return Raw(**params).fit(X, y)

    # A small warm-up fit first: lazy imports, thread pools and other one-off costs
    # land before the baseline, so the measured increase is what the data needs.
    fit(*make_data(500, seed=2))
    X, y = make_data(rows)
    gc.collect()
    hwm_ok = reset_peak()
    before = rss_kb()
    sampler = None if hwm_ok else _Sampler()
    if sampler is not None:
        sampler.start()
    t0 = time.perf_counter()
    model = fit(X, y)
    seconds = time.perf_counter() - t0
    peak = hwm_kb() if sampler is None else sampler.stop()
    del model
    out = {
        "params": params,
        "before_kb": before,
        "peak_kb": peak,
        "hwm_reset": hwm_ok,
        "fit_seconds": seconds,
        "data_mb": X.memory_usage(deep=False).sum() / 2**20,
    }
    sys.stdout.write(CHILD_MARK + json.dumps(out) + "\n")


def _measure(lib: str, side: str, rows: int, n_estimators: int) -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(here, "bench_memory.py"),
            "--child",
            lib,
            side,
            str(rows),
            str(n_estimators),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=here,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(CHILD_MARK):
            return json.loads(line[len(CHILD_MARK) :])
    raise RuntimeError(f"memory child ({lib}, {side}) failed:\n{proc.stdout}\n{proc.stderr}")


def run(lib: str, quick: bool) -> list[dict]:
    cfg = SIZES[quick]
    results: dict[str, list[dict]] = {"adapter": [], "raw": []}
    for i in range(cfg["repeats"]):
        for side in ("adapter", "raw") if i % 2 == 0 else ("raw", "adapter"):
            results[side].append(_measure(lib, side, cfg["rows"], cfg["n_estimators"]))
    mb = 1 / 1024
    inc = {s: [(r["peak_kb"] - r["before_kb"]) * mb for r in results[s]] for s in results}
    tot = {s: [r["peak_kb"] * mb for r in results[s]] for s in results}
    ma, mr = summary(inc["adapter"])["median"], summary(inc["raw"])["median"]
    ta, tr = summary(tot["adapter"])["median"], summary(tot["raw"])["median"]
    return [
        row(
            "memory",
            lib,
            f"fit peak RSS increase ({cfg['rows']:,} x 50 float32)",
            "MB",
            ma,
            mr,
            ma / mr,
            TARGET,
            adapter_increase_mb=inc["adapter"],
            raw_increase_mb=inc["raw"],
            adapter_total_peak_mb=tot["adapter"],
            raw_total_peak_mb=tot["raw"],
            total_peak_ratio=ta / tr,
            data_mb=results["raw"][0]["data_mb"],
            params=results["raw"][0]["params"],
            **{
                k: v
                for k, v in ratio_stats(inc["adapter"], inc["raw"], paired=False).items()
                if k != "ratio"
            },
            peak_source="VmHWM after clear_refs"
            if results["raw"][0]["hwm_reset"]
            else "1 ms VmRSS sampler",
            children=results,
        )
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        worker_main(run)
