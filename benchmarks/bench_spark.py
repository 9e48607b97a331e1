"""Spark scale-out benchmark: ``uniml.spark`` on ``local[2]`` vs the pandas many-series path.

Measured in one process and one run, sides alternated (pandas, spark, spark,
pandas...) and summarised by their medians:

* ``ets`` — ``fit_many(horizon=30)`` + ``predict_many(horizon=30)`` on Spark ``local[2]``
  (one pass: each task forecasts the series it fitted, and ``predict_many`` returns those
  forecasts) vs the pandas path (``fit`` + ``predict``, ``n_jobs=1``, a sequential loop
  over the series), forecasts checked identical (target: speed-up >= 1.7x); also each
  round's own ratio (its pandas and one-pass runs are back to back), robust to a machine
  whose speed drifts during the run;
* ``hashed`` — measured in the same rounds: the one-pass job with ``shards=4`` (the
  series hashed into four shards, one task each) instead of the default adaptive shards
  (Spark's adaptive execution deals whole hash buckets out to tasks of equal rows);
* ``spark two-pass`` — measured in the same rounds: ``fit_many`` without a horizon, then
  ``predict_many(horizon=30)`` as a second job that reloads every shard's model;
* ``joblib2`` — a control measured in the same rounds: the pandas path with ``n_jobs=2``
  (two joblib processes), i.e. what two processes gain on this machine at this load;
* ``fork2`` — the ceiling, measured in the same rounds: two forked processes, each running
  the pandas path on half of the series with nothing sent back, i.e. the most two
  processes can gain on this machine at this load (two busy cores run each process a few
  per cent slower than one);
* ``prophet`` — the same on a subset of the series;
* ``ets per-series overhead`` — Spark's CPU-seconds per series (wall x 2 cores / series)
  minus a raw ``ETSModel(...).fit()`` + ``forecast`` loop's seconds per series, next to
  the in-task seconds per series (the shards' own fit + save time);
* ``skew`` — ``fit_many`` (ETS) with hashed shards (``shards=4``), adaptive shards (the
  default) and ``balance=True``, on series of very different lengths (a tenth of them ~9x
  longer than the rest), alternated, medians, with each mode's largest shard over the mean;
* ``score`` — ``uniml.spark.score`` of a LightGBM model over 1M x 20 rows (written to
  Spark's ``noop`` sink), rows/s (target >= 100k rows/s), next to ``model.predict`` on
  the same rows in pandas.

BLAS is pinned to one thread on both sides (the Spark tasks pin it themselves). Before
the timed runs, one untimed Spark job on four series lets the reused Python workers import
uniml and the library (a fixed cost per worker process, not per series).
The issue's workload is the default (1,000 daily series x 3 years; ~20 minutes on 2
loaded cores, with 3 repeats); ``--series/--days/--prophet-series/--rows/--repeats`` shrink it and
``--quick`` is a one-minute smoke test::

    python benchmarks/bench_spark.py
    python benchmarks/bench_spark.py --series 200 --prophet-series 20 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd


def make_series(n_series: int, days: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    parts = []
    for i in range(n_series):
        level = rng.uniform(50, 150)
        y = (
            level
            + rng.uniform(-0.02, 0.05) * t
            + rng.uniform(2, 8) * np.sin(2 * np.pi * t / 7 + rng.uniform(0, 6))
            + rng.normal(scale=rng.uniform(1, 4), size=days)
        )
        parts.append(
            pd.DataFrame(
                {
                    "id": f"s{i:05d}",
                    "ds": pd.date_range("2021-01-01", periods=days, freq="D"),
                    "y": y,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def session(partitions: int, batch: int):
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("uniml-bench")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.python.worker.reuse", "true")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def table_of(spark, frame, partitions):
    """The frame as a Spark table read from Parquet, cached in memory, as a job meets its input.

    ``spark.createDataFrame(pandas_frame)`` is a ``LocalRelation``: the rows sit inside the
    query plan, and the analyzer walks all of them for every query built on it (a third of the
    JVM's CPU samples of a fit_many job on 1.1M rows, in a Java Flight Recorder profile). A
    table read from storage carries no rows in its plan.
    """
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="uniml-bench-")
    atexit.register(shutil.rmtree, folder, True)
    spark.createDataFrame(frame).write.mode("overwrite").parquet(folder)
    sdf = spark.read.parquet(folder).repartition(partitions, "id").cache()
    sdf.count()
    return sdf


def pandas_path(adapter_name, params, frame, horizon, n_jobs=1):
    from threadpoolctl import threadpool_limits

    import uniml

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = uniml.make(adapter_name, n_jobs=n_jobs, **params)
        model.fit(frame, time="ds", target="y", series_id="id")
        return model.predict(horizon=horizon)


def spark_path(adapter_name, params, sdf, horizon, shards=None, one_pass=True):
    import uniml
    from uniml.spark import fit_many, predict_many

    models = fit_many(
        uniml.make(adapter_name, **params),
        sdf,
        time="ds",
        target="y",
        series_id="id",
        lineage=False,
        shards=shards,
        horizon=horizon if one_pass else None,
    )
    out = predict_many(models, horizon=horizon, trusted=True).toPandas()
    return out.sort_values(["id", "ds"]).reset_index(drop=True), models


def raw_ets_seconds(frame, n, horizon, params):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from threadpoolctl import threadpool_limits

    ids = frame["id"].unique()[:n]
    # the series are cut out before the clock starts (a mask over every row per series
    # would charge the raw loop milliseconds the library does not spend)
    series = [
        part["y"].reset_index(drop=True)
        for _, part in frame[frame["id"].isin(ids)].groupby("id", sort=False)
    ]
    start = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in series:
            ETSModel(y, **params).fit(disp=False).get_prediction(
                start=len(y), end=len(y) + horizon - 1
            ).summary_frame(alpha=0.05)
    return (time.perf_counter() - start) / len(ids)


def _half(adapter_name, params, part, horizon, gate):
    gate.wait()  # both halves start together
    pandas_path(adapter_name, params, part, horizon)


def two_processes(adapter_name, params, halves, horizon) -> float:
    """Wall seconds of two forked processes each running the pandas path on one half."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    gate = ctx.Barrier(3)
    procs = [
        ctx.Process(target=_half, args=(adapter_name, params, h, horizon, gate)) for h in halves
    ]
    for proc in procs:
        proc.start()
    gate.wait()
    start = time.perf_counter()
    for proc in procs:
        proc.join()
    if any(proc.exitcode != 0 for proc in procs):
        raise RuntimeError(f"a half failed: exit codes {[proc.exitcode for proc in procs]}")
    return time.perf_counter() - start


def compare(name, adapter_name, params, frame, sdf, horizon, repeats, shards=None):
    from pyspark.sql import functions as F

    from uniml.spark._common import default_shards

    pandas_t, spark_t, task_t, joblib_t, two_t, fork_t, hashed_t = [], [], [], [], [], [], []
    spread = {"spark": [], "hashed": []}
    ids = frame["id"].unique()
    halves = [frame[frame["id"].isin(ids[i::2])] for i in (0, 1)]
    n_shards = None
    # warm-up (untimed): the Python workers import uniml and the library once per worker
    # process (Spark reuses them), a fixed cost per executor, not per series
    few = list(frame["id"].unique()[:4])
    spark_path(adapter_name, params, sdf.where(F.col("id").isin(few)), horizon, shards)
    pandas_path(adapter_name, params, frame[frame["id"].isin(few)], horizon, n_jobs=2)
    want = got = got2 = None
    for r in range(repeats):
        sides = ("pandas", "spark", "hashed", "two_pass", "joblib2", "fork2")
        for side in sides if r % 2 == 0 else reversed(sides):
            start = time.perf_counter()
            if side == "pandas":
                want = pandas_path(adapter_name, params, frame, horizon)
                pandas_t.append(time.perf_counter() - start)
            elif side == "fork2":
                fork_t.append(two_processes(adapter_name, params, halves, horizon))
            elif side == "joblib2":
                pandas_path(adapter_name, params, frame, horizon, n_jobs=2)
                joblib_t.append(time.perf_counter() - start)
            elif side == "hashed":
                _, hashed = spark_path(
                    adapter_name, params, sdf, horizon, shards or default_shards(sdf.sparkSession)
                )
                hashed_t.append(time.perf_counter() - start)
                rows = hashed.extra["shards"]["n_obs"]
                spread["hashed"].append(float(rows.max() / rows.mean()))
            elif side == "two_pass":
                got2, _ = spark_path(adapter_name, params, sdf, horizon, shards, one_pass=False)
                two_t.append(time.perf_counter() - start)
            else:
                got, models = spark_path(adapter_name, params, sdf, horizon, shards)
                spark_t.append(time.perf_counter() - start)
                task_t.append(float(models.extra["shards"]["seconds"].sum()))
                n_shards = models.shards
                rows = models.extra["shards"]["n_obs"]
                spread["spark"].append(float(rows.max() / rows.mean()))
    assert want is not None and got is not None and got2 is not None
    num = [c for c in want.columns if c not in ("id", "ds")]
    for side in (got, got2):
        assert side["id"].astype(str).tolist() == want["id"].astype(str).tolist()
        assert (pd.DatetimeIndex(side["ds"]) == pd.DatetimeIndex(want["ds"])).all()
    diff = float(np.abs(got[num].to_numpy() - want[num].to_numpy()).max())
    diff2 = float(np.abs(got2[num].to_numpy() - want[num].to_numpy()).max())
    p, s = statistics.median(pandas_t), statistics.median(spark_t)
    # each round runs the pandas and the Spark one-pass side back to back (the order flips
    # every round), so a round's ratio sees one machine speed even when the speed drifts
    rounds = [a / b for a, b in zip(pandas_t, spark_t, strict=True)]
    return {
        "name": name,
        "series": int(frame["id"].nunique()),
        "pandas_s": round(p, 2),
        "spark_s": round(s, 2),
        "speedup": round(p / s, 2),
        "round_speedups": [round(x, 2) for x in rounds],
        "median_round_speedup": round(statistics.median(rounds), 2),
        "hashed_s": round(statistics.median(hashed_t), 2),
        "hashed_speedup": round(p / statistics.median(hashed_t), 2),
        "largest_shard_rows_over_mean": round(statistics.median(spread["spark"]), 3),
        "hashed_largest_shard_rows_over_mean": round(statistics.median(spread["hashed"]), 3),
        "two_pass_s": round(statistics.median(two_t), 2),
        "two_pass_speedup": round(p / statistics.median(two_t), 2),
        "joblib2_s": round(statistics.median(joblib_t), 2),
        "joblib2_speedup": round(p / statistics.median(joblib_t), 2),
        "fork2_s": round(statistics.median(fork_t), 2),
        "fork2_ceiling": round(p / statistics.median(fork_t), 2),
        "shards": n_shards,
        "in_task_s_per_series": round(statistics.median(task_t) / frame["id"].nunique(), 4),
        "max_abs_forecast_diff": diff,
        "max_abs_forecast_diff_two_pass": diff2,
        "pandas_runs": [round(x, 2) for x in pandas_t],
        "spark_runs": [round(x, 2) for x in spark_t],
    }


def bench_skew(spark, n_long, n_short, days, repeats, partitions, shards=None):
    import uniml
    from uniml.spark import fit_many
    from uniml.spark._common import default_shards

    short = make_series(n_short, max(30, days // 9), seed=2)
    short["id"] = "t" + short["id"]
    frame = pd.concat([make_series(n_long, days, seed=1), short], ignore_index=True)
    sdf = table_of(spark, frame, partitions)
    ets = uniml.make("statsmodels.ets", trend="add")
    roles = {"time": "ds", "target": "y", "series_id": "id", "lineage": False}
    n_shards = shards or default_shards(spark)
    modes = {
        "hashed": {"shards": n_shards},
        "adaptive": {"shards": None},
        "balanced": {"shards": n_shards, "balance": True},
    }
    fit_many(ets, sdf.where("id < 's00004'"), **roles)  # warm the workers
    runs: dict[str, list[float]] = {m: [] for m in modes}
    spread: dict[str, list[float]] = {m: [] for m in modes}
    for r in range(repeats):
        for mode in modes if r % 2 == 0 else reversed(modes):
            start = time.perf_counter()
            models = fit_many(ets, sdf, **roles, **modes[mode])
            runs[mode].append(time.perf_counter() - start)
            rows = models.extra["shards"]["n_obs"]
            spread[mode].append(float(rows.max() / rows.mean()))
    sdf.unpersist()
    med = {m: statistics.median(runs[m]) for m in modes}
    out = {"name": "skew", "series": int(frame["id"].nunique())}
    for m in modes:
        out[f"{m}_s"] = round(med[m], 2)
    out["adaptive_speedup"] = round(med["hashed"] / med["adaptive"], 2)
    out["balanced_speedup"] = round(med["hashed"] / med["balanced"], 2)
    for m in modes:
        out[f"{m}_largest_shard_rows_over_mean"] = round(statistics.median(spread[m]), 3)
    for m in modes:
        out[f"{m}_runs"] = [round(x, 2) for x in runs[m]]
    return out


def bench_score(spark, rows, features, repeats):
    from pyspark.sql import functions as F

    import uniml
    from uniml.spark import score

    rng = np.random.default_rng(0)
    cols = [f"f{i}" for i in range(features)]
    Xtr = pd.DataFrame(rng.normal(size=(50_000, features)), columns=cols)
    ytr = Xtr["f0"] * 2 - Xtr["f1"] + rng.normal(scale=0.1, size=len(Xtr))
    model = uniml.make("lightgbm.regressor", n_estimators=100, n_jobs=1, verbose=-1).fit(Xtr, ytr)
    sdf = spark.range(rows).select(*[F.randn(seed=i).alias(c) for i, c in enumerate(cols)])
    sdf = sdf.repartition(4).cache()
    sdf.count()
    pdf = sdf.toPandas()
    spark_t, pandas_t = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        score(model, sdf).write.format("noop").mode("overwrite").save()
        spark_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.set_params(n_jobs=2).predict(pdf)
        model.set_params(n_jobs=1)
        pandas_t.append(time.perf_counter() - start)
    # identical scores on a sample
    sample = sdf.limit(2000).toPandas()
    got = score(model, spark.createDataFrame(sample)).toPandas()["prediction"].to_numpy()
    diff = float(np.abs(got - model.predict(sample).to_numpy()).max())
    s, p = statistics.median(spark_t), statistics.median(pandas_t)
    sdf.unpersist()
    return {
        "name": "score lightgbm",
        "rows": rows,
        "features": features,
        "spark_s": round(s, 2),
        "spark_rows_per_s": round(rows / s),
        "pandas_predict_s (2 threads)": round(p, 2),
        "pandas_rows_per_s": round(rows / p),
        "max_abs_diff": diff,
        "spark_runs": [round(x, 2) for x in spark_t],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--days", type=int, default=1095)
    ap.add_argument("--prophet-series", type=int, default=100)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--shards", type=int, default=None, help="fit_many shards (default 2 x cores)")
    ap.add_argument("--batch", type=int, default=10_000, help="Arrow records per batch")
    ap.add_argument("--only", choices=["ets", "prophet", "skew", "score"], default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.series, args.days, args.prophet_series, args.rows, args.repeats = (
            20,
            365,
            4,
            100_000,
            1,
        )
    spark = session(args.partitions, args.batch)
    spark.range(4).rdd.map(lambda x: x).count()  # start the Python workers once
    results = []
    ets = {"trend": "add"}
    if args.only in (None, "ets"):
        frame = make_series(args.series, args.days)
        sdf = table_of(spark, frame, args.partitions)
        load = os.getloadavg()[0]
        row = compare("ets", "statsmodels.ets", ets, frame, sdf, 30, args.repeats, args.shards)
        raw = raw_ets_seconds(frame, min(50, args.series), 30, ets)
        per = row["spark_s"] * 2 / row["series"]
        row.update(
            load_before=round(load, 1),
            load_after=round(os.getloadavg()[0], 1),
            pandas_s_per_series=round(row["pandas_s"] / row["series"], 4),
            raw_ets_s_per_series=round(raw, 4),
            spark_cpu_s_per_series=round(per, 4),
            spark_overhead_s_per_series=round(per - raw, 4),
        )
        results.append(row)
        print(json.dumps(row), flush=True)
        sdf.unpersist()
    if args.only in (None, "prophet"):
        frame = make_series(args.prophet_series, args.days, seed=1)
        sdf = table_of(spark, frame, args.partitions)
        params = {"weekly_seasonality": True, "yearly_seasonality": False}
        load = os.getloadavg()[0]
        row = compare(
            "prophet", "prophet.forecaster", params, frame, sdf, 30, args.repeats, args.shards
        )
        row.update(load_before=round(load, 1), load_after=round(os.getloadavg()[0], 1))
        results.append(row)
        print(json.dumps(row), flush=True)
        sdf.unpersist()
    if args.only in (None, "skew"):
        load = os.getloadavg()[0]
        n_long = max(2, args.series // 16)
        row = bench_skew(
            spark, n_long, 10 * n_long, args.days, args.repeats, args.partitions, args.shards
        )
        row.update(load_before=round(load, 1), load_after=round(os.getloadavg()[0], 1))
        results.append(row)
        print(json.dumps(row), flush=True)
    if args.only in (None, "score"):
        load = os.getloadavg()[0]
        row = bench_score(spark, args.rows, args.features, args.repeats)
        row.update(load_before=round(load, 1), load_after=round(os.getloadavg()[0], 1))
        results.append(row)
        print(json.dumps(row), flush=True)
    print("load average:", os.getloadavg())
    spark.stop()
    return results


if __name__ == "__main__":
    main()
