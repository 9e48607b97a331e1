"""Benchmark: ``econml.dml`` adapter vs raw EconML ``LinearDML`` fit + effect, same run.

Both sides get the same synthetic confounded data (``uniml.testing.causal.make_causal_data``),
the same nuisance models (``LinearRegression`` / ``LogisticRegression``), ``cv=2`` and
``random_state=0``, and are timed alternately (ABBA order) so neither side always runs
first; each side is summarised by its median. The adapter side includes building the
``CausalData`` contract, schema capture and the pandas output of ``predict``; the raw side
passes numpy arrays. Before timing, the two fitted models must give identical effects.

Run: ``python benchmarks/bench_causal.py [--rows 100000] [--repeats 15]`` (the issue's 100k-row
workload is the default; a few minutes on 2 idle cores); ``--quick`` runs 5,000 rows, 3 repeats,
as a smoke test. Prints one JSON line: median wall times, their ratio (target <= 1.05), the median
of the per-round ratios, and the ratio of median CPU times (less sensitive to other load).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
import warnings


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 5_000, 3
    warnings.filterwarnings("ignore")

    import numpy as np
    from econml.dml import LinearDML
    from sklearn.linear_model import LinearRegression, LogisticRegression

    import uniml
    from uniml.testing.causal import make_causal_data

    data, _ = make_causal_data(n=args.rows, seed=0)
    frame = data.frame
    roles = {
        "outcome": "y",
        "treatment": "t",
        "effect_modifiers": ["x1", "x2"],
        "confounders": ["w1", "w2"],
    }

    def adapter():
        model = uniml.make(
            "econml.dml",
            model_y=LinearRegression(),
            model_t=LogisticRegression(),
            cv=2,
            random_state=0,
        ).fit(frame, **roles)
        return model.predict(frame)["effect"].to_numpy()

    def raw():
        X, W = frame[["x1", "x2"]].to_numpy(float), frame[["w1", "w2"]].to_numpy(float)
        est = LinearDML(
            model_y=LinearRegression(),
            model_t=LogisticRegression(),
            cv=2,
            random_state=0,
            discrete_treatment=True,
        ).fit(frame["y"].to_numpy(float), frame["t"].to_numpy(), X=X, W=W)
        lower, upper = est.effect_interval(
            X, T0=0, T1=1
        )  # the adapter's predict returns the interval too
        return est.effect(X, T0=0, T1=1)

    if not np.array_equal(adapter(), raw()):  # also warms both code paths up
        raise SystemExit("adapter and raw EconML disagree; benchmark aborted")
    times = {"adapter": [], "raw": []}
    cpu = {"adapter": [], "raw": []}
    for i in range(args.repeats):
        order = ("adapter", "raw") if i % 2 == 0 else ("raw", "adapter")
        for side in order:
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            (adapter if side == "adapter" else raw)()
            times[side].append(time.perf_counter() - start)
            cpu[side].append(time.process_time() - start_cpu)
    result = {
        "benchmark": "econml.dml fit+effect",
        "rows": args.rows,
        "repeats": args.repeats,
        "adapter_s": round(statistics.median(times["adapter"]), 4),
        "raw_s": round(statistics.median(times["raw"]), 4),
    }
    result["ratio"] = round(result["adapter_s"] / result["raw_s"], 4)
    result["ratio_per_round_median"] = round(
        statistics.median(a / r for a, r in zip(times["adapter"], times["raw"], strict=True)), 4
    )
    result["cpu_ratio"] = round(
        statistics.median(cpu["adapter"]) / statistics.median(cpu["raw"]), 4
    )
    result["load_avg_1min"] = round(os.getloadavg()[0], 2)
    result["target"] = 1.05
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
