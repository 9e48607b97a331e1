"""Benchmark 2: single-row predict latency, schema enforcement included.

The adapter's ``predict(one_row_df)`` (schema check + library call + pandas
Series output) against the raw scikit-learn API ``Regressor.predict(one_row_df)``
on the same one-row DataFrames. The calls rotate one by one (A B C, C B A...)
and each call is timed on its own, so the medians are per-call latencies.
For context the bare booster on a numpy row runs in the same rotation:
``lightgbm.Booster.predict(row)`` (default threads, and ``num_threads=1``,
which is what the adapter uses for small batches) and
``xgboost.Booster.inplace_predict(row)`` (XGBoost's ``Booster.predict`` only
takes a DMatrix).

Run alone: ``python benchmarks/bench_latency.py lightgbm [--quick]``.
"""

from __future__ import annotations

import numpy as np

from _common import (
    interleaved_calls,
    make_adapter,
    make_data,
    model_params,
    ratio_stats,
    raw_class,
    row,
    summary,
    worker_main,
)

TARGET = 1.0
SIZES = {
    False: {"train_rows": 100_000, "n_estimators": 100, "calls": 5_000},
    True: {"train_rows": 5_000, "n_estimators": 30, "calls": 1_000},
}
N_DISTINCT_ROWS = 64
US = 1e6


def run(lib: str, quick: bool) -> list[dict]:
    cfg = SIZES[quick]
    X, y = make_data(cfg["train_rows"])
    params = model_params(lib, cfg["n_estimators"])
    adapter = make_adapter(lib, **params).fit(X, y)
    Raw = raw_class(lib)
    raw = Raw(**params).fit(X, y)

    frames = [X.iloc[[i]] for i in range(N_DISTINCT_ROWS)]  # one-row DataFrames
    arrays = [f.to_numpy() for f in frames]  # the same rows as (1, 50) float32 arrays
    m = N_DISTINCT_ROWS
    calls = {
        "adapter": lambda i: adapter.predict(frames[i % m]),
        f"{Raw.__name__}.predict(df)": lambda i: raw.predict(frames[i % m]),
    }
    if lib == "lightgbm":
        booster = raw.booster_
        calls["Booster.predict(numpy row)"] = lambda i: booster.predict(arrays[i % m])
        calls["Booster.predict(numpy row, num_threads=1)"] = lambda i: booster.predict(
            arrays[i % m], num_threads=1
        )
    else:
        booster = raw.get_booster()
        calls["Booster.inplace_predict(numpy row)"] = lambda i: booster.inplace_predict(
            arrays[i % m]
        )

    outputs = [
        np.concatenate([np.asarray(f(i), dtype=float).reshape(-1) for i in range(m)])
        for f in calls.values()
    ]
    diff = float(max(np.max(np.abs(outputs[0] - o)) for o in outputs[1:]))
    if diff != 0.0:
        raise AssertionError(f"{lib}: single-row predictions differ by {diff}")

    times = dict(
        zip(calls, interleaved_calls(list(calls.values()), calls=cfg["calls"]), strict=True)
    )
    t_a = times.pop("adapter")
    sa = summary(t_a)
    common = {"calls": cfg["calls"], "train_rows": cfg["train_rows"], "params": params}
    rows = []
    for k, (label, t_b) in enumerate(times.items()):
        sb = summary(t_b)
        stats = ratio_stats(t_a, t_b)
        rows.append(
            row(
                "latency",
                lib,
                f"1-row predict vs {label}" + ("" if k == 0 else " (context)"),
                "µs",
                sa["median"] * US,
                sb["median"] * US,
                stats.pop("ratio"),
                TARGET if k == 0 else None,
                context=k > 0,
                adapter_q=[sa["q1"] * US, sa["q3"] * US],
                raw_q=[sb["q1"] * US, sb["q3"] * US],
                max_abs_prediction_diff=diff,
                **stats,
                **common,
            )
        )
    return rows


if __name__ == "__main__":
    worker_main(run)
