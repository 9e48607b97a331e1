"""uniml.spark on a real local session: the same forecasts, scores and reports as the pandas path.

One local[2] SparkSession for the whole test session (tests/spark_session.py); small data, and every
Spark job's result is shared through module-scoped fixtures so each job runs once.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import uniml
from spark_session import spark  # noqa: F401  (the session fixture)
from uniml.core.errors import DataContractError, SchemaError
from uniml.spark import ManyModels, evaluate_many, fit_many, predict_many, score


def _series_frame(n_series=3, n=48, short=None, exog=False, seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        length = 1 if short == i else n
        t = np.arange(length)
        y = 20 + 0.1 * i * t + 2 * np.sin(2 * np.pi * t / 7) + rng.normal(scale=0.5, size=length)
        part = pd.DataFrame(
            {"id": f"s{i}", "ds": pd.date_range("2024-01-01", periods=length, freq="D"), "y": y}
        )
        if exog:
            part["x"] = rng.normal(size=length)
            part["y"] += 1.5 * part["x"]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _pandas_path(adapter, frame, **roles):
    """The pandas many-series path (errors='warn' keeps the good series, as the contract says)."""
    from sklearn.base import clone

    model = clone(adapter)
    model.set_params(errors="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(frame, **roles)


def _spark_df(spark, frame):  # noqa: F811
    return spark.createDataFrame(frame)


ROLES = {"time": "ds", "target": "y", "series_id": "id"}

ADAPTERS = {
    "statsmodels.ets": {"trend": "add"},
    "statsmodels.sarimax": {"order": (1, 0, 0)},
    "prophet.forecaster": {"weekly_seasonality": True, "yearly_seasonality": False},
}


@pytest.fixture(scope="module")
def history():
    return _series_frame(n_series=3, n=48, short=2)


@pytest.fixture(scope="module")
def many_fits(spark, history, tmp_path_factory):  # noqa: F811
    """fit_many for each adapter on the same data (one Spark job each), lineage to a SQLite store."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
    sdf = _spark_df(spark, history)
    out = {}
    for name, params in ADAPTERS.items():
        adapter = uniml.make(name, **params)
        out[name] = fit_many(adapter, sdf, **ROLES, tracking_uri=uri, experiment="spark-tests")
    return uri, out


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ADAPTERS))
def test_fit_many_predict_many_equal_the_pandas_path(spark, history, many_fits, name):  # noqa: F811
    _, fits = many_fits
    models = fits[name]
    ref = _pandas_path(uniml.make(name, **ADAPTERS[name]), history, **ROLES)
    got = predict_many(models, horizon=6, trusted=True).toPandas()
    got = got.sort_values(["id", "ds"]).reset_index(drop=True)
    want = ref.predict(horizon=6)
    assert list(got.columns) == list(want.columns)
    assert got["id"].astype(str).tolist() == want["id"].astype(str).tolist()
    assert (pd.DatetimeIndex(got["ds"]) == pd.DatetimeIndex(want["ds"])).all()
    num = [c for c in want.columns if c not in ("id", "ds")]
    np.testing.assert_allclose(got[num].to_numpy(), want[num].to_numpy(), rtol=0, atol=1e-9)
    # the bad series is reported exactly as the pandas path reports it, the rest are forecast
    assert models.failures == ref.failures_
    assert set(got["id"]) == {"s0", "s1"}
    assert models.status.set_index("id").loc["s2", "status"] == "failed"


def _sorted(frame):
    return frame.sort_values(["id", "ds"]).reset_index(drop=True)


def test_fit_many_with_a_horizon_forecasts_in_the_fitting_tasks(spark, history, many_fits):  # noqa: F811
    """One pass: the forecasts fit_many(horizon=) stores are the two-pass job's and the pandas
    path's; reading them loads no model, so they need no trust (Arrow data, not pickles)."""
    from uniml.core.errors import UntrustedArtifactError

    _, fits = many_fits
    name = "statsmodels.sarimax"  # pickle-based artifacts: the trust rule is visible
    adapter = uniml.make(name, **ADAPTERS[name])
    sdf = _spark_df(spark, history)
    models = fit_many(adapter, sdf, **ROLES, horizon=6, lineage=False)
    assert models.horizon == 6 and models.failures == fits[name].failures
    ref = _pandas_path(adapter, history, **ROLES)
    want = ref.predict(horizon=6)
    one_pass = _sorted(predict_many(models, horizon=6).toPandas())
    two_pass = _sorted(predict_many(fits[name], horizon=6, trusted=True).toPandas())
    num = [c for c in want.columns if c not in ("id", "ds")]
    for got in (one_pass, two_pass):
        assert list(got.columns) == list(want.columns)
        assert got["id"].astype(str).tolist() == want["id"].astype(str).tolist()
        assert (pd.DatetimeIndex(got["ds"]) == pd.DatetimeIndex(want["ds"])).all()
        np.testing.assert_allclose(got[num].to_numpy(), want[num].to_numpy(), rtol=0, atol=1e-9)
    # another horizon forecasts from the stored models, under the usual trust rule
    with pytest.raises(UntrustedArtifactError, match="pickle"):
        predict_many(models, horizon=3)
    other = _sorted(predict_many(models, horizon=3, trusted=True).toPandas())
    np.testing.assert_allclose(
        other["forecast"], ref.predict(horizon=3)["forecast"], rtol=0, atol=1e-9
    )
    for bad in (0, -2, 2.5, True):
        with pytest.raises(DataContractError, match="horizon must be a positive integer"):
            fit_many(adapter, sdf, **ROLES, horizon=bad, lineage=False)


def test_one_parent_mlflow_run_per_job_with_series_status(many_fits):
    import mlflow

    uri, fits = many_fits
    client = mlflow.tracking.MlflowClient(uri)
    exp = client.get_experiment_by_name("spark-tests")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == len(fits)  # one run per job, not one per series
    run = client.get_run(fits["statsmodels.ets"].run_id)
    assert run.data.tags["uniml.job"] == "fit_many"
    assert run.data.metrics["n_series"] == 3 and run.data.metrics["n_failed"] == 1
    path = client.download_artifacts(run.info.run_id, "series_status.csv")
    status = pd.read_csv(path)
    assert sorted(status["id"]) == ["s0", "s1", "s2"]
    assert status.set_index("id").loc["s2", "error"].startswith("DataContractError: series 's2'")


def test_model_table_blobs_load_and_match_their_digest(many_fits, history):
    import json

    from uniml.core.persistence import manifest_digest

    _, fits = many_fits
    models = fits["statsmodels.ets"]
    # the job that fitted also stored the table: reading it again never refits
    stored = models.table._jdf.queryExecution().analyzed().rdd()
    assert stored.isCheckpointed() and stored.getStorageLevel().useDisk()
    rows = (
        models.table.where("kind = 'shard' AND status = 'ok'")
        .select("shard", "digest", "manifest")
        .collect()
    )
    assert rows
    for row in rows:
        assert manifest_digest(json.loads(row["manifest"])) == row["digest"]
    # every ok series sits in a shard whose blob was saved
    ok_shards = {row["shard"] for row in rows}
    assert set(models.status.loc[models.status["status"] == "ok", "shard"]) <= ok_shards
    loaded = models.load("s0", trusted=True)
    assert loaded.series_ == ["s0"]
    want = _pandas_path(uniml.make("statsmodels.ets", trend="add"), history, **ROLES)
    pd.testing.assert_frame_equal(
        loaded.predict(horizon=3), want.predict(horizon=3).query("id == 's0'")
    )
    with pytest.raises(DataContractError, match="'s2'.*too short"):
        models.load("s2", trusted=True)


def test_shards_are_partitions_and_any_sharding_gives_the_same_forecasts(spark):  # noqa: F811
    from pyspark.sql import functions as F

    from uniml.spark._common import SHARD, balanced_assignment, sharded

    # two key columns, one of them an integer; 7 series of different lengths over 3 shards
    frame = _series_frame(n_series=7, n=60, seed=3)
    length = 20 + 5 * frame["id"].str[1:].astype(int)
    frame = frame[frame.groupby("id").cumcount() < length].reset_index(drop=True)
    frame["store"] = frame["id"].str[1:].astype(int) % 2
    roles = {"time": "ds", "target": "y", "series_id": ["store", "id"]}
    sdf = _spark_df(spark, frame)
    for balance in (True, False):
        placed = sharded(sdf, ["store", "id"], 3, balance=balance).select(
            "store", "id", SHARD, F.spark_partition_id().alias("p")
        )
        got = placed.toPandas()
        assert len(got) == len(frame) and not got[SHARD].isna().any()  # no row lost
        assert (got[SHARD] == got["p"]).all()  # shard s runs in task s
        assert (got.groupby(["store", "id"])[SHARD].nunique() == 1).all()  # a series stays whole
    # balanced: the rows per shard are those of the LPT deal over pandas' own counts
    counts = frame.groupby(["store", "id"]).size()
    deal = balanced_assignment([(k, int(n)) for k, n in counts.items()], 3)
    want_rows = (
        pd.Series(counts.to_numpy(), index=[deal[k] for k in counts.index]).groupby(level=0).sum()
    )
    placed = sharded(sdf, ["store", "id"], 3, balance=True).groupBy(SHARD).count().toPandas()
    assert dict(zip(placed[SHARD], placed["count"], strict=True)) == want_rows.to_dict()
    adapter = uniml.make("statsmodels.ets")
    want = _pandas_path(adapter, frame, **roles).predict(horizon=4)
    for shards, balance in ((1, True), (3, True), (3, False)):
        models = fit_many(adapter, sdf, **roles, shards=shards, lineage=False, balance=balance)
        assert models.shards == shards and models.n_series == 7 and not models.failures
        assert set(models.status["shard"]) <= set(range(shards))
        got = predict_many(models, horizon=4, trusted=True).toPandas()
        got = got.sort_values(["store", "id", "ds"]).reset_index(drop=True)
        assert got[["store", "id"]].astype(str).values.tolist() == (
            want[["store", "id"]].astype(str).values.tolist()
        )
        np.testing.assert_allclose(got["forecast"], want["forecast"], rtol=0, atol=1e-9)
    with pytest.raises(DataContractError, match="shards"):
        fit_many(adapter, sdf, **roles, shards=0)
    with pytest.raises(DataContractError, match="balance must be True or False, got 'yes'"):
        fit_many(adapter, sdf, **roles, balance="yes")


def test_adaptive_shards_are_whole_runs_of_buckets_and_give_the_same_forecasts(spark):  # noqa: F811
    from pyspark.sql import functions as F

    from uniml.spark._common import adaptive_buckets, default_shards

    frame = _series_frame(n_series=24, n=90, seed=5)
    length = 30 + 2 * frame["id"].str[1:].astype(int)  # 30..76 rows: series of unequal cost
    frame = frame[frame.groupby("id").cumcount() < length].reset_index(drop=True)
    sdf = _spark_df(spark, frame)
    aqe = [
        "spark.sql.adaptive.coalescePartitions.initialPartitionNum",
        "spark.sql.adaptive.coalescePartitions.minPartitionNum",
        "spark.sql.adaptive.coalescePartitions.minPartitionSize",
    ]
    before = {k: spark.conf.get(k, None) for k in aqe}
    adapter = uniml.make("statsmodels.ets")
    models = fit_many(adapter, sdf, **ROLES, lineage=False)  # shards=None: adaptive
    assert {k: spark.conf.get(k, None) for k in aqe} == before  # the session is left as it was
    shards = sorted(set(models.status["shard"]))
    assert shards == list(range(models.shards)) and models.shards >= 2  # both cores get work
    # Spark's own hash of each key names its bucket; a task holds whole buckets, and the shards
    # are runs of neighbouring buckets in shard order (what the adaptive merge of partitions does)
    n_buckets = adaptive_buckets(default_shards(spark))
    bucket = F.pmod(F.hash(F.col("id").cast("string")), F.lit(n_buckets))
    buckets = sdf.select("id", bucket.alias("b")).distinct().toPandas()
    placed = buckets.merge(models.status[["id", "shard"]], on="id", validate="one_to_one")
    assert (placed.groupby("b")["shard"].nunique() == 1).all()
    runs = placed.groupby("shard")["b"].agg(["min", "max"]).sort_index()
    assert (runs["max"].to_numpy()[:-1] < runs["min"].to_numpy()[1:]).all()
    rows = frame.groupby("id").size()
    assert models.extra["shards"]["n_obs"].sum() == rows.sum()  # no row lost or repeated
    want = _pandas_path(adapter, frame, **ROLES).predict(horizon=5)
    got = predict_many(models, horizon=5, trusted=True).toPandas()
    got = got.sort_values(["id", "ds"]).reset_index(drop=True)
    assert got["id"].tolist() == want["id"].tolist()
    np.testing.assert_allclose(got["forecast"], want["forecast"], rtol=0, atol=1e-9)
    with pytest.raises(DataContractError, match="balance=True deals"):
        from uniml.spark._common import sharded

        sharded(sdf, ["id"], None, balance=True)


def test_a_model_table_written_to_parquet_reads_back_and_forecasts_alike(
    spark,  # noqa: F811
    history,
    many_fits,
    tmp_path,
):
    _, fits = many_fits
    adapter = uniml.make("statsmodels.ets", **ADAPTERS["statsmodels.ets"])
    where = tmp_path / "models.parquet"
    models = fit_many(adapter, _spark_df(spark, history), **ROLES, lineage=False, path=str(where))
    assert where.is_dir() and any(where.glob("*.parquet"))  # Parquet files, not a checkpoint
    stored = spark.read.parquet(str(where))
    assert stored.where("kind = 'shard'").count() == models.shards
    assert models.failures == fits["statsmodels.ets"].failures
    got = predict_many(models, horizon=4, trusted=True).toPandas()
    want = predict_many(fits["statsmodels.ets"], horizon=4, trusted=True).toPandas()
    got, want = (f.sort_values(["id", "ds"]).reset_index(drop=True) for f in (got, want))
    pd.testing.assert_frame_equal(got, want)


def test_the_arrow_byte_cap_is_lifted_only_while_our_job_runs(spark, history):  # noqa: F811
    from uniml.spark._common import rows_only_arrow_batches

    key = "spark.sql.execution.arrow.maxBytesPerBatch"
    assert spark.conf.get(key, None) is None  # Spark's default, not set by the session
    with rows_only_arrow_batches(spark):
        assert spark.conf.get(key) == str(2**31 - 1)  # Spark's "no byte cap"
    assert spark.conf.get(key, None) is None
    spark.conf.set(key, "32m")  # a user's own cap survives a job, and a failing one
    try:
        with pytest.raises(ZeroDivisionError), rows_only_arrow_batches(spark):
            raise ZeroDivisionError("a failing job")
        assert spark.conf.get(key) == "32m"
        fit_many(uniml.make("statsmodels.ets"), _spark_df(spark, history), **ROLES, lineage=False)
        assert spark.conf.get(key) == "32m"
    finally:
        spark.conf.unset(key)


def test_a_task_leaves_its_live_objects_out_of_the_workers_full_collection():
    import gc

    from uniml.spark._common import task_scope

    gc.freeze()  # something frozen before: the task's start gives it back to the collector
    try:
        with task_scope():
            assert gc.get_freeze_count() == 0
            kept = [[i] for i in range(1000)]  # what a task keeps alive (a fitted shard)
            assert gc.is_tracked(kept[0])
        # frozen at the end: the reused worker's gc.collect() after the task skips them
        assert gc.get_freeze_count() >= len(kept)
        with task_scope():
            assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_route_hash_is_sparks_hash(spark):  # noqa: F811
    from pyspark.sql import functions as F

    from uniml.spark._common import partition_routes, spark_hash_int

    values = [0, 1, -1, 7, 2**31 - 1, -(2**31), *range(-300, 300, 7)]
    got = (
        spark.createDataFrame([(v,) for v in values], "v int")
        .select("v", F.hash("v").alias("h"))
        .toPandas()
    )
    assert got["h"].tolist() == [spark_hash_int(v) for v in got["v"]]
    for n in (1, 2, 5, 16):
        routes = partition_routes(n)
        placed = (
            spark.createDataFrame([(r,) for r in routes], "r int")
            .repartition(n, "r")
            .select("r", F.spark_partition_id().alias("p"))
            .toPandas()
        )
        assert dict(zip(placed["r"], placed["p"], strict=True)) == {
            r: s for s, r in enumerate(routes)
        }


@given(
    sizes=st.lists(st.integers(1, 500), min_size=1, max_size=60),
    shards=st.integers(1, 9),
)
def test_the_balanced_deal_is_within_one_series_of_even(sizes, shards):
    from uniml.spark._common import balanced_assignment

    counts = [(f"k{i}", n) for i, n in enumerate(sizes)]
    deal = balanced_assignment(counts, shards)
    assert set(deal) == {k for k, _ in counts} and set(deal.values()) <= set(range(shards))
    loads = [0] * shards
    for key, n in counts:
        loads[deal[key]] += n
    # greedy: the fullest shard was the emptiest when it got its last series
    assert max(loads) - min(loads) <= max(sizes)
    assert max(loads) <= sum(sizes) / shards + max(sizes)
    assert deal == balanced_assignment(list(reversed(counts)), shards)  # order-free


def test_untrusted_pickled_models_are_refused_on_the_workers(many_fits):
    _, fits = many_fits
    from uniml.core.errors import UntrustedArtifactError

    with pytest.raises(UntrustedArtifactError, match="pickle"):
        predict_many(fits["statsmodels.sarimax"], horizon=2)


def test_predict_many_with_a_future_frame_and_regressors(spark):  # noqa: F811
    frame = _series_frame(n_series=2, n=40, exog=True, seed=4)
    last = frame.groupby("id").tail(5).index
    train, future = frame.drop(index=last), frame.loc[last, ["id", "ds", "x"]]
    adapter = uniml.make("statsmodels.sarimax", order=(1, 0, 0))
    models = fit_many(adapter, _spark_df(spark, train), **ROLES, exog=["x"], lineage=False)
    got = predict_many(models, _spark_df(spark, future), trusted=True).toPandas()
    got = got.sort_values(["id", "ds"]).reset_index(drop=True)
    want = _pandas_path(adapter, train, **ROLES, exog=["x"]).predict(future).reset_index(drop=True)
    np.testing.assert_allclose(got["forecast"], want["forecast"], rtol=0, atol=1e-9)
    with pytest.raises(SchemaError, match="'x'"):
        predict_many(models, _spark_df(spark, future.drop(columns="x")), trusted=True)
    stranger = future.assign(id="s9")  # a series that was never fitted is named, not dropped
    with pytest.raises(Exception, match="series 's9' was not fitted"):
        predict_many(models, _spark_df(spark, stranger), trusted=True).toPandas()
    with pytest.raises(DataContractError, match=r"regressors \['x'\].*future frame"):
        fit_many(adapter, _spark_df(spark, train), **ROLES, exog=["x"], horizon=3)


def test_bad_arguments_are_typed_errors(spark, history):  # noqa: F811
    sdf = _spark_df(spark, history)
    with pytest.raises(SchemaError, match="'missing'"):
        fit_many(uniml.make("statsmodels.ets"), sdf, time="ds", target="missing", series_id="id")
    with pytest.raises(DataContractError, match="forecasting adapters"):
        fit_many(uniml.make("lightgbm.regressor"), sdf, **ROLES)
    with pytest.raises(DataContractError, match="exactly one"):
        predict_many(ManyModels(None, None, [], "ds", "y", [], {}, pd.DataFrame()))


# ----------------------------------------------------------------------------------- score
@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(400, 4)), columns=["a", "b", "c", "d"])
    y = X["a"] * 2 - X["b"] + rng.normal(scale=0.1, size=len(X))
    return X, y


def _check_score(spark, model, frame, want, **kw):  # noqa: F811
    got = score(model, _spark_df(spark, frame), **kw).toPandas()
    want = want.to_frame() if isinstance(want, pd.Series) else want
    want = want.reset_index(drop=True)
    assert list(got.columns)[-len(want.columns) :] == [str(c) for c in want.columns]
    for c in want.columns:
        w, g = want[c], got[str(c)]
        if pd.api.types.is_numeric_dtype(w):
            np.testing.assert_allclose(
                g.to_numpy(dtype=float), w.to_numpy(dtype=float), rtol=0, atol=1e-12
            )
        else:
            assert g.astype(str).tolist() == w.astype(str).tolist()
    return got


@pytest.mark.parametrize("name", ["lightgbm.regressor", "xgboost.regressor"])
def test_score_equals_predict_for_boosted_trees(spark, tabular, name):  # noqa: F811
    X, y = tabular
    model = uniml.make(name, n_estimators=20, random_state=0, n_jobs=1).fit(X, y)
    got = _check_score(
        spark, model, X.assign(key=np.arange(len(X))), model.predict(X), keep=["key"]
    )
    assert got["key"].tolist() == list(range(len(X)))  # rows stay in order, ids ride along


def test_score_schema_is_enforced_with_typed_errors(spark, tabular):  # noqa: F811
    X, y = tabular
    model = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1).fit(X, y)
    with pytest.raises(SchemaError, match="'d'"):
        score(model, _spark_df(spark, X.drop(columns="d")))
    with pytest.raises(SchemaError):
        score(model, _spark_df(spark, X.assign(d=X["d"].astype(str))))


def test_score_equals_predict_for_econml(spark):  # noqa: F811
    from sklearn.linear_model import LinearRegression

    from uniml.testing.causal import make_causal_data

    data, _ = make_causal_data(n=300, seed=1)
    model = uniml.make(
        "econml.dml", model_y=LinearRegression(), model_t=LinearRegression(), cv=2, random_state=0
    ).fit(data)
    _check_score(spark, model, data.frame, model.predict(data.frame), trusted=True)


def test_score_equals_pair_scores_for_lightfm(spark):  # noqa: F811
    from uniml.testing.recommendation import make_interaction_data

    data = make_interaction_data(n_users=40, n_items=25, seed=2)
    model = uniml.make(
        "lightfm.recommender", epochs=3, no_components=4, random_state=0, num_threads=1
    )
    model.fit(data)
    pairs = data.frame[["user", "item"]].head(150).reset_index(drop=True)
    _check_score(spark, model, pairs, model.score(pairs))


# ----------------------------------------------------------------------------- evaluate_many
@pytest.mark.slow
def test_evaluate_many_gives_the_pandas_harness_report(spark):  # noqa: F811
    from uniml.evaluation import RollingOrigin

    frame = _series_frame(n_series=3, n=40, seed=7)
    protocol = RollingOrigin(horizon=4, n_origins=2)
    cands = {"ets": uniml.make("statsmodels.ets", trend="add")}
    gates = ["mase better than baseline"]
    want = uniml.evaluate(
        cands,
        uniml.ForecastData(frame, **ROLES),
        protocol,
        gates=gates,
        n_jobs=1,
        n_boot=200,
    )
    for balance in (False, True):
        got = evaluate_many(
            cands,
            _spark_df(spark, frame),
            **ROLES,
            protocol=protocol,
            gates=gates,
            n_boot=200,
            balance=balance,
        )
        pd.testing.assert_frame_equal(
            got.fold_scores.reset_index(drop=True),
            want.fold_scores.reset_index(drop=True),
            atol=1e-9,
        )
        pd.testing.assert_frame_equal(got.leaderboard, want.leaderboard, atol=1e-9)
        pd.testing.assert_frame_equal(got.comparisons, want.comparisons, atol=1e-9)
        assert got.passed == want.passed
        assert [g.passed for g in got.gates] == [g.passed for g in want.gates]
        assert got.protocol["origins"] == want.protocol["origins"]


def test_a_remembered_fitted_shard_keeps_the_trust_rule(history):
    from uniml.core.errors import UntrustedArtifactError
    from uniml.spark._common import pack_model, remember_fitted, unpack_model

    model = uniml.make("statsmodels.ets").fit(history[history["id"] == "s0"], **ROLES)
    blob, manifest, digest = pack_model(model)
    remember_fitted(model, manifest, digest)
    assert unpack_model(blob, trusted=True, digest=digest) is model  # no reload in this process
    with pytest.raises(UntrustedArtifactError):  # pickled: still refused without trusted=True
        unpack_model(blob, trusted=False, digest=digest)
