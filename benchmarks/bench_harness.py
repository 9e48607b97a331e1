"""Evaluation harness benchmark: parallel speed-up, and overhead against a hand-written CV loop.

Workload (the issue's): 5-fold CV of 3 LightGBM candidates (different
``num_leaves``) on 200,000 rows x 50 float32 features, metric RMSE.

* ``harness n_jobs=2 speed-up`` — wall time of ``uniml.evaluate(..., n_jobs=1)``
  / ``uniml.evaluate(..., n_jobs=2)`` (target >= 1.7 on 2 idle cores). Each
  candidate fits with one LightGBM thread (``n_jobs=1``) in both runs, so the
  ratio measures the harness's own parallelism over (candidate, fold) jobs
  rather than LightGBM's threading.
* ``harness / hand loop`` — ``uniml.evaluate(..., n_jobs=1)`` against a plain
  ``for`` loop over scikit-learn's ``KFold`` doing the same fits (a clone of
  each candidate per fold, the mean-predicting baseline too) and computing
  RMSE with numpy (target <= 1.05). Both sides use the same uniml adapters,
  so the ratio is the harness's bookkeeping alone (adapter-vs-raw overhead is
  ``bench_fit_predict.py``'s business).

Sides alternate (ABBA...) and are summarised by medians; both runs must
produce identical fold scores before anything is timed.

Run::

    python benchmarks/bench_harness.py lightgbm            # full (~10 min on 2 idle cores)
    python benchmarks/bench_harness.py lightgbm --quick    # 20,000 rows, 30 trees, smoke test (~1 min)
"""

from __future__ import annotations

import os
import sys

import numpy as np

from _common import interleaved, make_data, ratio_stats, row, summary, worker_main

SPEEDUP_TARGET = 1.7
OVERHEAD_TARGET = 1.05
SIZES = {
    False: {"rows": 200_000, "n_estimators": 100, "repeats": 3},
    True: {"rows": 20_000, "n_estimators": 30, "repeats": 2},
}
LEAVES = (15, 31, 63)


def candidates(n_estimators: int) -> dict:
    import uniml

    return {
        f"lgbm_{k}": uniml.make(
            "lightgbm.regressor",
            n_estimators=n_estimators,
            num_leaves=k,
            n_jobs=1,
            random_state=0,
            verbose=-1,
        )
        for k in LEAVES
    }


def hand_loop(models: dict, X, y) -> dict:
    """What a user would write without the harness: the same folds, fits and metric."""
    from sklearn.base import clone
    from sklearn.dummy import DummyRegressor
    from sklearn.model_selection import KFold

    scores = {}
    everything = {**models, "dummy_mean": DummyRegressor()}
    for name, model in everything.items():
        for fold, (train, test) in enumerate(KFold(5, shuffle=True, random_state=0).split(X)):
            m = clone(model).fit(X.iloc[train], y.iloc[train])
            pred = np.asarray(m.predict(X.iloc[test]), dtype=float)
            scores[(name, fold)] = float(np.sqrt(np.mean((y.to_numpy()[test] - pred) ** 2)))
    return scores


def run(lib: str, quick: bool) -> list[dict]:
    if lib != "lightgbm":
        raise SystemExit(
            "bench_harness.py measures LightGBM candidates only: run it with 'lightgbm'"
        )
    import uniml
    from uniml.evaluation import KFold

    cfg = SIZES[quick]
    X, y = make_data(cfg["rows"])
    models = candidates(cfg["n_estimators"])

    def harness(n_jobs):
        return uniml.evaluate(
            models,
            (X, y),
            protocol=KFold(5, random_state=0),
            metrics=["rmse"],
            n_jobs=n_jobs,
            random_state=0,
            n_boot=200,
        )

    # correctness first: the three ways give the same fold scores
    one, two, loop = harness(1), harness(2), hand_loop(models, X, y)
    a = one.fold_scores.set_index(["model", "fold"])["value"]
    b = two.fold_scores.set_index(["model", "fold"])["value"]
    if not a.equals(b):
        raise AssertionError("n_jobs=1 and n_jobs=2 fold scores differ")
    worst = max(abs(a[key] - value) for key, value in loop.items())
    if worst > 1e-9:
        raise AssertionError(f"harness and hand loop fold scores differ by {worst}")

    (t_loop, t_one, t_two), (c_loop, c_one, c_two) = interleaved(
        [lambda: hand_loop(models, X, y), lambda: harness(1), lambda: harness(2)],
        repeats=cfg["repeats"],
        warmup=0,
    )
    shape = f"{cfg['rows']:,} x {X.shape[1]}, 3 candidates x 5 folds, {cfg['n_estimators']} trees"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    speed = summary(t_one)["median"] / summary(t_two)["median"]
    overhead = ratio_stats(t_one, t_loop)
    rows = [
        row(
            "harness",
            lib,
            f"evaluate n_jobs=2 speed-up over n_jobs=1 ({shape})",
            "x",
            summary(t_two)["median"],
            summary(t_one)["median"],
            speed,
            SPEEDUP_TARGET,
            op=">=",
            n_jobs1_times=t_one,
            n_jobs2_times=t_two,
            n_jobs1_cpu=c_one,
            n_jobs2_cpu=c_two,
            loadavg_1min=load,
            cores=os.cpu_count(),
        ),
        row(
            "harness",
            lib,
            f"evaluate n_jobs=1 / hand-written CV loop ({shape})",
            "s",
            summary(t_one)["median"],
            summary(t_loop)["median"],
            overhead.pop("ratio"),
            OVERHEAD_TARGET,
            harness_times=t_one,
            loop_times=t_loop,
            harness_cpu=c_one,
            loop_cpu=c_loop,
            loadavg_1min=load,
            **overhead,
        ),
    ]
    for r in rows:
        verdict = {True: "PASS", False: "MISS", None: "-"}[r["passed"]]
        print(
            f"{r['measure']}: {r['ratio']:.3f} (target {r['op']} {r['target']}) {verdict}",
            file=sys.stderr,
        )
    return rows


if __name__ == "__main__":
    worker_main(run)
