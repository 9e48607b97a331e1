"""Benchmark: what lineage costs a LightGBM fit (issue 6).

Three measures, all in one process against a SQLite MLflow store in a
temporary folder:

* **blocking overhead** — the time until ``fit`` returns with lineage on,
  minus the same fit with lineage off (runs alternated ABBA; "off" is the
  same enabled sink silenced with ``uniml.core.events.muted()``, which is
  exactly the state of a process without lineage). Target: at most 5 % of
  the fit or 0.3 s, whichever is larger.
* **time inside the lineage hooks** on the training thread (snapshotting the
  model, queueing the job) — the same cost measured directly, immune to the
  noise of other jobs on the machine. Same target.
* **total logging time** — from ``fit`` returning until ``uniml.lineage.flush()``
  returns: fingerprint, in-sample metrics, explanation summary, pyfunc model,
  card and every MLflow call (context, no target).
* **fingerprint / fit** — ``uniml.lineage.fingerprint(X, y)`` on 1,000,000 x 50
  against a LightGBM fit on the same data. Target: at most 10 %.

Reference (issue 6): ``mlflow.lightgbm.autolog()`` turned a 3.1 s ``lgb.train``
into 11.1 s on this machine.

Run alone: ``python benchmarks/bench_lineage.py lightgbm [--quick]``.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time

from _common import make_adapter, make_data, model_params, row, summary, worker_main

SIZES = {
    False: {
        "rows": 100_000,
        "n_estimators": 100,
        "repeats": 7,
        "fp_rows": 1_000_000,
        "fp_repeats": 3,
        "big_fit_repeats": 2,
    },
    True: {
        "rows": 10_000,
        "n_estimators": 30,
        "repeats": 3,
        "fp_rows": 100_000,
        "fp_repeats": 2,
        "big_fit_repeats": 1,
    },
}
OVERHEAD_SHARE = 0.05
OVERHEAD_FLOOR_S = 0.3
FINGERPRINT_SHARE = 0.10


def run(lib: str, quick: bool) -> list[dict]:
    if lib != "lightgbm":
        raise SystemExit("bench_lineage measures the LightGBM fit of issue 6 only")
    import uniml.lineage as lineage
    from uniml.core import events

    cfg = SIZES[quick]
    X, y = make_data(cfg["rows"])
    params = model_params(lib, cfg["n_estimators"])
    folder = tempfile.mkdtemp(prefix="uniml-bench-lineage-")
    store = f"sqlite:///{folder}/mlruns.db"
    shape = f"{cfg['rows']:,} x {X.shape[1]} float32"

    from uniml.lineage._hooks import dispatch

    hook_time: list[float] = []

    def timed_dispatch(event, payload):  # the exact time lineage spends on the training thread
        t0 = time.perf_counter()
        dispatch(event, payload)
        hook_time.append(time.perf_counter() - t0)

    off, blocking, logging_total, in_hooks = [], [], [], []
    with lineage.enable(tracking_uri=store, experiment="bench", spool=f"{folder}/spool"):
        events.unsubscribe(dispatch)
        events.subscribe(timed_dispatch)
        # warm-up: imports MLflow, creates the store's tables, first pyfunc save
        make_adapter(lib, **params).fit(X, y)
        lineage.flush()
        for i in range(cfg["repeats"]):
            for side in ("off", "on") if i % 2 == 0 else ("on", "off"):
                gc.collect()
                if side == "off":
                    with events.muted():
                        t0 = time.perf_counter()
                        make_adapter(lib, **params).fit(X, y)
                        off.append(time.perf_counter() - t0)
                else:
                    hook_time.clear()
                    t0 = time.perf_counter()
                    make_adapter(lib, **params).fit(X, y)
                    t1 = time.perf_counter()
                    in_hooks.append(sum(hook_time))
                    lineage.flush()
                    blocking.append(t1 - t0)
                    logging_total.append(time.perf_counter() - t1)
        ref = lineage.last_run()
        if ref is None or ref.spooled:
            raise AssertionError(f"lineage was not logged: {ref}")
        events.unsubscribe(timed_dispatch)

    fit_off = statistics.median(off)
    fit_on = statistics.median(blocking)
    overhead = fit_on - fit_off
    budget = max(OVERHEAD_SHARE * fit_off, OVERHEAD_FLOOR_S)
    rows = [
        row(
            "lineage",
            lib,
            f"blocking overhead of lineage on fit ({shape})",
            "s",
            overhead,
            None,
            None,
            budget,
            fit_with_lineage_s=summary(blocking),
            fit_without_s=summary(off),
            overhead_share_of_fit=overhead / fit_off,
            params=params,
        ),
        row(
            "lineage",
            lib,
            f"time inside lineage hooks on the training thread ({shape})",
            "s",
            statistics.median(in_hooks),
            None,
            None,
            budget,
            hooks_s=summary(in_hooks),
        ),
        row(
            "lineage",
            lib,
            f"fit with lineage / without, until fit returns ({shape})",
            "x",
            fit_on,
            fit_off,
            fit_on / fit_off,
            context=True,
        ),
        row(
            "lineage",
            lib,
            f"total logging time after fit returns, until flush ({shape})",
            "s",
            statistics.median(logging_total),
            None,
            None,
            context=True,
            logging_s=summary(logging_total),
            logging_share_of_fit=statistics.median(logging_total) / fit_off,
        ),
    ]

    # fingerprint of a big frame against a LightGBM fit of the same data
    del X, y
    gc.collect()
    Xb, yb = make_data(cfg["fp_rows"])
    fp_times = []
    for _ in range(cfg["fp_repeats"]):
        t0 = time.perf_counter()
        lineage.fingerprint(Xb, yb)
        fp_times.append(time.perf_counter() - t0)
    fit_times = []
    for _ in range(cfg["big_fit_repeats"]):
        gc.collect()
        t0 = time.perf_counter()
        make_adapter(lib, **params).fit(Xb, yb)  # lineage is off here
        fit_times.append(time.perf_counter() - t0)
    fp, fit_big = statistics.median(fp_times), statistics.median(fit_times)
    big = f"{cfg['fp_rows']:,} x {Xb.shape[1]} float32"
    rows.append(
        row(
            "lineage",
            lib,
            f"data fingerprint / LightGBM fit ({big})",
            "x",
            fp,
            fit_big,
            fp / fit_big,
            FINGERPRINT_SHARE,
            fingerprint_s=summary(fp_times),
            fit_s=summary(fit_times),
            mb_per_s=Xb.memory_usage(index=False).sum() / 1e6 / fp,
        )
    )
    return rows


if __name__ == "__main__":
    worker_main(run)
