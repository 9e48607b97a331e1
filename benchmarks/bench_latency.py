"""Benchmark 2: single-row predict latency, schema enforcement included.

The adapter's ``predict(one_row_df)`` (schema check + library call + pandas
Series output) against the raw scikit-learn API ``Regressor.predict(one_row_df)``
on the same one-row DataFrames; the calls alternate one by one and each call
is timed on its own, so the medians are per-call latencies. For context the
bare booster on a numpy row is measured in the same rotation:
``lightgbm.Booster.predict(row)`` and ``xgboost.Booster.inplace_predict(row)``
(XGBoost's ``Booster.predict`` only takes a DMatrix).

Run alone: ``python benchmarks/bench_latency.py lightgbm [--quick]``.
"""

from __future__ import annotations

import numpy as np
from _common import (
    interleaved_calls,
    make_adapter,
    make_data,
    model_params,
    raw_class,
    row,
    summary,
    worker_main,
)

TARGET = 1.0
SIZES = {False: {"train_rows": 100_000, "calls": 5_000},
         True: {"train_rows": 20_000, "calls": 2_000}}
N_DISTINCT_ROWS = 64


def run(lib: str, quick: bool) -> list[dict]:
    cfg = SIZES[quick]
    X, y = make_data(cfg["train_rows"])
    params = model_params(lib)
    adapter = make_adapter(lib, **params).fit(X, y)
    raw = raw_class(lib)(**params).fit(X, y)

    frames = [X.iloc[[i]] for i in range(N_DISTINCT_ROWS)]  # one-row DataFrames
    arrays = [f.to_numpy() for f in frames]                # the same rows as (1, 50) float32
    if lib == "lightgbm":
        booster = raw.booster_
        booster_call, booster_label = (lambda i: booster.predict(arrays[i % N_DISTINCT_ROWS])), "Booster.predict"
    else:
        booster = raw.get_booster()
        booster_call, booster_label = (
            lambda i: booster.inplace_predict(arrays[i % N_DISTINCT_ROWS])
        ), "Booster.inplace_predict"

    a0 = np.concatenate([adapter.predict(f).to_numpy() for f in frames])
    r0 = np.concatenate([raw.predict(f) for f in frames])
    b0 = np.concatenate([np.asarray(booster_call(i)).reshape(-1) for i in range(N_DISTINCT_ROWS)])
    diff = float(max(np.max(np.abs(a0 - r0)), np.max(np.abs(a0 - b0))))

    t_a, t_r, t_b = interleaved_calls(
        [
            lambda i: adapter.predict(frames[i % N_DISTINCT_ROWS]),
            lambda i: raw.predict(frames[i % N_DISTINCT_ROWS]),
            booster_call,
        ],
        calls=cfg["calls"],
    )
    sa, sr, sb = summary(t_a), summary(t_r), summary(t_b)
    us = 1e6
    common = {"calls": cfg["calls"], "train_rows": cfg["train_rows"], "params": params}
    return [
        row("latency", lib, f"1-row predict vs {raw_class(lib).__name__}.predict(df)", "µs",
            sa["median"] * us, sr["median"] * us, sa["median"] / sr["median"], TARGET,
            adapter_q=[sa["q1"] * us, sa["q3"] * us], raw_q=[sr["q1"] * us, sr["q3"] * us],
            max_abs_prediction_diff=diff, **common),
        row("latency", lib, f"1-row predict vs {booster_label}(numpy row) (context)", "µs",
            sa["median"] * us, sb["median"] * us, sa["median"] / sb["median"], None, context=True,
            raw_q=[sb["q1"] * us, sb["q3"] * us], **common),
    ]


if __name__ == "__main__":
    worker_main(run)
