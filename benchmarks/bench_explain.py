"""Benchmark 4: explanations, adapter ``.explain(X)`` against ``shap.TreeExplainer``.

The raw estimator and the adapter are fitted with the same data, parameters
and seed, and must predict identical values on the explained rows (checked
first). Then the adapter's contributions and base value are compared with
``shap.TreeExplainer(raw_model).shap_values(X)`` / ``expected_value`` on the
same rows (max absolute difference), and the two calls are timed
alternately. The explainer is built once, outside the timed region (its
build time is recorded in the details), so the baseline is the cheapest
thing a SHAP user can call.

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
SIZES = {False: {"train_rows": 20_000, "explain_rows": 10_000, "repeats": 7},
         True: {"train_rows": 5_000, "explain_rows": 1_000, "repeats": 3}}


def run(lib: str, quick: bool) -> list[dict]:
    import shap

    cfg = SIZES[quick]
    X, y = make_data(cfg["train_rows"])
    Xe, _ = make_data(cfg["explain_rows"], seed=1)
    params = model_params(lib)
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
    base_diff = float(abs(float(exp.base_value) - float(np.asarray(explainer.expected_value).reshape(-1)[0])))
    columns_match = list(exp.contributions.columns) == list(Xe.columns)
    index_match = exp.contributions.index.equals(Xe.index)

    t_a, t_s = interleaved(
        [lambda: adapter.explain(Xe), lambda: explainer.shap_values(Xe)], repeats=cfg["repeats"]
    )
    stats = ratio_stats(t_a, t_s)
    shape = f"{cfg['explain_rows']:,} x {Xe.shape[1]}"
    return [
        row("explain", lib, f"max |contribution - shap| ({shape})", "abs", max(contrib_diff, base_diff),
            target=TARGET_DIFF, contributions_max_abs_diff=contrib_diff, base_value_abs_diff=base_diff,
            shap_dtype=str(sv.dtype), additivity_error=exp.additivity_error(),
            columns_match=columns_match, index_match=index_match, prediction_diff=pred_diff),
        row("explain", lib, f"explain wall time vs shap_values ({shape})", "s",
            summary(t_a)["median"], summary(t_s)["median"], stats["ratio_of_medians"], TARGET_RATIO,
            adapter_times=t_a, shap_times=t_s, shap_explainer_build_s=build_s,
            train_rows=cfg["train_rows"], params=params, **stats),
    ]


if __name__ == "__main__":
    worker_main(run)
