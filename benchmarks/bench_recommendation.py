"""Benchmark: lightfm.recommender vs raw LightFM, in the same run.

* fit: adapter ``fit`` vs ``LightFM.fit`` on the same interaction matrix,
  same epochs and threads (target ratio <= 1.05);
* top-k: adapter ``predict(users, k=10)`` (vectorised scoring, seen items
  excluded) in users/second, next to raw LightFM scoring every item of each
  user through ``LightFM.predict`` and an ``argpartition``.

Usage::

    python benchmarks/bench_recommendation.py [--users 10000] [--items 5000] [--per-user 20]
        [--epochs 5] [--threads 2] [--repeat 3] [--quick]

The defaults are the issue's workload (10k users x 5k items; about a minute on
2 idle cores). ``--quick`` runs 1,000 users x 500 items, 2 epochs, 2 repeats as
a smoke test (a few seconds). Fit rounds alternate which side goes first.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp


def make_frame(n_users: int, n_items: int, per_user: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.7
    popularity /= popularity.sum()
    users = np.repeat(np.arange(n_users), per_user)
    items = rng.choice(n_items, size=len(users), p=popularity)
    frame = pd.DataFrame({"user": [f"u{u}" for u in users], "item": items + 100_000})
    return frame.drop_duplicates(ignore_index=True)


def best_of(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> dict:
    import lightfm

    import uniml
    from uniml.core.recommendation import IdMap

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.items, args.epochs, args.repeat = 1_000, 500, 2, 2

    frame = make_frame(args.users, args.items, args.per_user)
    params = {"loss": "warp", "no_components": 32, "random_state": 0}

    users = IdMap.from_values(frame["user"])
    items = IdMap.from_values(frame["item"])
    u, i = users.lookup(frame["user"]), items.lookup(frame["item"])

    def raw_fit():
        matrix = sp.coo_matrix(
            (np.ones(len(u), dtype=np.float32), (u, i)), shape=(len(users), len(items))
        )
        model = lightfm.LightFM(**params)
        model.fit(matrix, epochs=args.epochs, num_threads=args.threads)
        return model

    def ours_fit():
        return uniml.make(
            "lightfm.recommender", **params, epochs=args.epochs, num_threads=args.threads
        ).fit(frame)

    raw_fit(), ours_fit()  # warm up (imports, page cache)
    t_raw, t_ours = [], []
    for r in range(args.repeat):  # interleaved (ABBA), so drift in machine load hits both alike
        if r % 2 == 0:
            t_raw.append(best_of(raw_fit, 1))
            t_ours.append(best_of(ours_fit, 1))
        else:
            t_ours.append(best_of(ours_fit, 1))
            t_raw.append(best_of(raw_fit, 1))
    fit_raw, fit_ours = min(t_raw), min(t_ours)

    model = ours_fit()
    raw = model.model_
    all_users = users.ids.to_numpy()
    predict_time = best_of(lambda: model.predict(all_users, k=args.k), args.repeat)

    n_sample = min(200, len(all_users))
    item_rows = np.arange(len(items), dtype=np.int32)

    def raw_topk():
        for row in range(n_sample):
            scores = raw.predict(np.full(len(items), row, dtype=np.int32), item_rows, num_threads=1)
            np.argpartition(-scores, args.k)[: args.k]

    raw_time = best_of(raw_topk, 1)
    result = {
        "users": len(users),
        "items": len(items),
        "interactions": len(frame),
        "epochs": args.epochs,
        "threads": args.threads,
        "fit_raw_s": round(fit_raw, 3),
        "fit_adapter_s": round(fit_ours, 3),
        "fit_ratio": round(fit_ours / fit_raw, 3),
        "topk_adapter_users_per_s": round(len(all_users) / predict_time),
        "topk_raw_predict_loop_users_per_s": round(n_sample / raw_time),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
