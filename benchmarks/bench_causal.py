"""Benchmark: ``econml.dml`` adapter vs raw EconML ``LinearDML`` fit + effect, same run.

Both sides get the same synthetic confounded data (``uniml.testing.causal.make_causal_data``),
the same nuisance models (``LinearRegression`` / ``LogisticRegression``), ``cv=2`` and
``random_state=0``, and are timed alternately (ABBA order) so neither side always runs
first; each side is summarised by its median. The adapter side includes building the
``CausalData`` contract, schema capture and the pandas output of ``predict``; the raw side
passes numpy arrays. Before timing, the two fitted models must give identical effects.

Run: ``python benchmarks/bench_causal.py [--rows 100000] [--repeats 3]``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    import numpy as np
    from econml.dml import LinearDML
    from sklearn.linear_model import LinearRegression, LogisticRegression

    import uniml
    from uniml.testing.causal import make_causal_data

    data, _ = make_causal_data(n=args.rows, seed=0)
    frame = data.frame
    roles = {"outcome": "y", "treatment": "t", "effect_modifiers": ["x1", "x2"], "confounders": ["w1", "w2"]}

    def adapter():
        model = uniml.make("econml.dml", model_y=LinearRegression(), model_t=LogisticRegression(), cv=2,
                           random_state=0).fit(frame, **roles)
        return model.predict(frame)["effect"].to_numpy()

    def raw():
        X, W = frame[["x1", "x2"]].to_numpy(float), frame[["w1", "w2"]].to_numpy(float)
        est = LinearDML(model_y=LinearRegression(), model_t=LogisticRegression(), cv=2, random_state=0,
                        discrete_treatment=True).fit(frame["y"].to_numpy(float), frame["t"].to_numpy(), X=X, W=W)
        lower, upper = est.effect_interval(X, T0=0, T1=1)  # the adapter's predict returns the interval too
        return est.effect(X, T0=0, T1=1)

    if not np.array_equal(adapter(), raw()):  # also warms both code paths up
        raise SystemExit("adapter and raw EconML disagree; benchmark aborted")
    times = {"adapter": [], "raw": []}
    for i in range(args.repeats):
        order = ("adapter", "raw") if i % 2 == 0 else ("raw", "adapter")
        for side in order:
            start = time.perf_counter()
            (adapter if side == "adapter" else raw)()
            times[side].append(time.perf_counter() - start)
    result = {
        "benchmark": "econml.dml fit+effect",
        "rows": args.rows,
        "repeats": args.repeats,
        "adapter_s": statistics.median(times["adapter"]),
        "raw_s": statistics.median(times["raw"]),
    }
    result["ratio"] = result["adapter_s"] / result["raw_s"]
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
