"""Benchmark 1: fit and batch-predict wall time, adapter / raw library.

Both sides get the same float32 DataFrame and Series, the same
hyperparameters (``n_estimators``, ``random_state=0``, ``n_jobs``) and are
timed alternately (ABBA...). Fit times include building the estimator
object; predict times include the adapter's schema check and its pandas
Series output (the raw side returns a numpy array, as the library does).
Before predict is timed, the two fitted models must predict identical values.
Process CPU times are recorded next to wall times as a cross-check on a
noisy machine.

Run alone: ``python benchmarks/bench_fit_predict.py lightgbm [--quick]``.
"""

from __future__ import annotations

import numpy as np

from _common import (
    interleaved,
    make_adapter,
    make_data,
    model_params,
    ratio_stats,
    raw_class,
    row,
    summary,
    worker_main,
)

TARGET = 1.03
SIZES = {
    False: {"rows": 100_000, "n_estimators": 100, "fit_repeats": 9, "predict_repeats": 31},
    True: {"rows": 10_000, "n_estimators": 30, "fit_repeats": 5, "predict_repeats": 9},
}


def run(lib: str, quick: bool) -> list[dict]:
    cfg = SIZES[quick]
    X, y = make_data(cfg["rows"])
    params = model_params(lib, cfg["n_estimators"])
    Raw = raw_class(lib)

    (fit_a, fit_r), (cfit_a, cfit_r) = interleaved(
        [lambda: make_adapter(lib, **params).fit(X, y), lambda: Raw(**params).fit(X, y)],
        repeats=cfg["fit_repeats"],
    )
    adapter = make_adapter(lib, **params).fit(X, y)
    raw = Raw(**params).fit(X, y)
    diff = float(np.max(np.abs(adapter.predict(X).to_numpy() - raw.predict(X))))
    if diff != 0.0:
        raise AssertionError(f"{lib}: adapter and raw predictions differ by {diff}")

    (pred_a, pred_r), (cpred_a, cpred_r) = interleaved(
        [lambda: adapter.predict(X), lambda: raw.predict(X)], repeats=cfg["predict_repeats"]
    )
    shape = f"{cfg['rows']:,} x {X.shape[1]} float32"
    rows = []
    for case, ta, tr, ca, cr in (
        ("fit", fit_a, fit_r, cfit_a, cfit_r),
        ("predict", pred_a, pred_r, cpred_a, cpred_r),
    ):
        stats = ratio_stats(ta, tr)
        rows.append(
            row(
                "fit_predict",
                lib,
                f"{case} wall time ({shape})",
                "s",
                summary(ta)["median"],
                summary(tr)["median"],
                stats.pop("ratio"),
                TARGET,
                adapter_times=ta,
                raw_times=tr,
                adapter_cpu=ca,
                raw_cpu=cr,
                cpu_ratio_of_medians=summary(ca)["median"] / summary(cr)["median"],
                params=params,
                **stats,
                **({"max_abs_prediction_diff": diff} if case == "predict" else {}),
            )
        )
    return rows


if __name__ == "__main__":
    worker_main(run)
