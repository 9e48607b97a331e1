"""Benchmark 4: explanations, adapter ``.explain(X)`` against ``shap.TreeExplainer``.

The raw estimator and the adapter are fitted with the same data, parameters
and seed, and must predict identical values on the explained rows (checked
first). Then the adapter's contributions and base value are compared with
``shap.TreeExplainer(raw_model).shap_values(X)`` / ``expected_value`` on the
same rows (max absolute difference), and the two calls are timed
alternately. The explainer is built once, outside the timed region (its
build time is recorded in the details), so the baseline is the cheapest
thing a SHAP user can call. A context row repeats the timing on a small
batch (256 rows), where the adapters pick a different thread count.

Run alone: ``python benchmarks/bench_explain.py lightgbm [--quick]``.
"""

from __future__ import annotations

import time

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

TARGET_DIFF = 1e-6
TARGET_RATIO = 1.05
SMALL_BATCH = 256
SIZES = {
    False: {
        "train_rows": 20_000,
        "explain_rows": 10_000,
        "n_estimators": 100,
        "repeats": 7,
        "small_repeats": 15,
    },
    True: {
        "train_rows": 2_000,
        "explain_rows": 600,
        "n_estimators": 30,
        "repeats": 9,
        "small_repeats": 5,
    },
}


def _timing_row(lib, adapter, explainer, X, repeats, target, context, **extra):
    (t_a, t_s), (c_a, c_s) = interleaved(
        [lambda: adapter.explain(X), lambda: explainer.shap_values(X)], repeats=repeats
    )
    stats = ratio_stats(t_a, t_s)
    label = f"explain wall time vs shap_values ({len(X):,} x {X.shape[1]})" + (
        " (context)" if context else ""
    )
    return row(
        "explain",
        lib,
        label,
        "s",
        summary(t_a)["median"],
        summary(t_s)["median"],
        stats.pop("ratio"),
        target,
        context=context,
        adapter_times=t_a,
        shap_times=t_s,
        adapter_cpu=c_a,
        shap_cpu=c_s,
        cpu_ratio_of_medians=summary(c_a)["median"] / summary(c_s)["median"],
        **stats,
        **extra,
    )


def run(lib: str, quick: bool) -> list[dict]:
    import shap

    cfg = SIZES[quick]
    X, y = make_data(cfg["train_rows"])
    Xe, _ = make_data(cfg["explain_rows"], seed=1)
    params = model_params(lib, cfg["n_estimators"])
    adapter = make_adapter(lib, **params).fit(X, y)
    raw = raw_class(lib)(**params).fit(X, y)
    pred_diff = float(np.max(np.abs(adapter.predict(Xe).to_numpy() - raw.predict(Xe))))
    if pred_diff != 0.0:
        raise AssertionError(f"{lib}: adapter and raw model predictions differ by {pred_diff}")

    t0 = time.perf_counter()
    explainer = shap.TreeExplainer(raw)
    build_s = time.perf_counter() - t0

    exp = adapter.explain(Xe)
    sv = np.asarray(explainer.shap_values(Xe))
    contrib_diff = float(np.max(np.abs(exp.contributions.to_numpy() - sv)))
    base_diff = float(
        abs(float(exp.base_value) - float(np.asarray(explainer.expected_value).reshape(-1)[0]))
    )
    shape = f"{cfg['explain_rows']:,} x {Xe.shape[1]}"
    return [
        row(
            "explain",
            lib,
            f"max |contribution - shap| ({shape})",
            "abs",
            max(contrib_diff, base_diff),
            target=TARGET_DIFF,
            contributions_max_abs_diff=contrib_diff,
            base_value_abs_diff=base_diff,
            shap_dtype=str(sv.dtype),
            additivity_error=exp.additivity_error(),
            columns_match=list(exp.contributions.columns) == list(Xe.columns),
            index_match=bool(exp.contributions.index.equals(Xe.index)),
            prediction_diff=pred_diff,
        ),
        _timing_row(
            lib,
            adapter,
            explainer,
            Xe,
            cfg["repeats"],
            TARGET_RATIO,
            False,
            shap_explainer_build_s=build_s,
            train_rows=cfg["train_rows"],
            params=params,
        ),
        _timing_row(
            lib,
            adapter,
            explainer,
            Xe.iloc[:SMALL_BATCH],
            cfg["small_repeats"],
            None,
            True,
            params=params,
        ),
    ]


if __name__ == "__main__":
    worker_main(run)
