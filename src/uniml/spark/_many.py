"""Many-series forecasting on Spark: ``fit_many`` and ``predict_many``.

The series are dealt into *shards* (about two per core); each Spark task
receives whole shards (``repartition`` on the key, ``mapInPandas``) and runs
the pandas many-series path on each: one clone of the adapter fits every
series of the shard with the same checks and library calls, so forecasts are
those of the pandas path by construction, at one Python call and one saved
model per shard instead of per series. The result is the *model table*, a flat
Spark DataFrame: one ``kind="series"`` row per series (key, shard, status,
reason, observations) and one ``kind="shard"`` row per shard carrying the saved
uniml folder as a tar blob with its manifest and digest. It can be written as
Parquet/Delta by the caller; nothing assumes the driver's filesystem is
visible to the executors.
"""

from __future__ import annotations

import copy
import json
import time as _time
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from uniml.core.errors import DataContractError
from uniml.spark._common import (
    SHARD,
    active_session,
    check_shards,
    check_trusted,
    iter_shards,
    job_confs,
    key_aliases,
    left_join_on_keys,
    pack_model,
    remember_fitted,
    require_columns,
    sharded,
    task_scope,
    to_arrow_safe,
    unpack_model,
)

__all__ = ["ManyModels", "fit_many", "predict_many"]

#: columns of the model table after the key column(s)
_TABLE_COLUMNS = (
    "status",
    "error",
    "n_obs",
    "seconds",
    "digest",
    "manifest",
    "model",
    "forecast",
)


def _key_list(series_id) -> list[str]:
    if series_id is None:
        raise DataContractError("fit_many needs series_id= (the column(s) naming each series)")
    return [series_id] if isinstance(series_id, str) else list(series_id)


def _failure_reason(exc: Exception) -> str:
    """The reason the pandas many-series path records for a failed series."""
    text = str(exc)
    marker = " failed to fit: "
    if isinstance(exc, DataContractError) and marker in text:  # a single series' library failure
        return text.split(marker, 1)[1]
    return f"{type(exc).__name__}: {exc}"


def _key_value(values: list):
    import numpy as np

    plain = [v.item() if isinstance(v, np.generic) else v for v in values]
    return plain[0] if len(plain) == 1 else tuple(plain)


@dataclass
class ManyModels:
    """The result of :func:`fit_many`: the model table and what failed.

    Parameters
    ----------
    table : pyspark.sql.DataFrame
        The model table: columns ``kind``, ``shard``, the key column(s),
        ``status`` (``"ok"`` or ``"failed"``), ``error``, ``n_obs``,
        ``seconds``, ``digest``, ``manifest`` (JSON), ``model`` (the saved
        uniml folder as a tar archive) and ``forecast`` (the shard's forecasts
        as an Arrow IPC stream when ``fit_many`` was given ``horizon=``, else
        null). ``kind="series"`` rows give each series' status and reason;
        ``kind="shard"`` rows (null keys) carry the adapter fitted on the
        shard's series. Checkpointed (or written to ``path=``), so reading it
        does not refit.
    adapter : uniml.Adapter
        The unfitted template adapter.
    keys : list of str
        The series key column(s).
    time, target : str
        Column roles of the training data.
    exog : list of str
        Exogenous columns.
    failures : dict
        Series key -> reason, exactly as the pandas path's ``failures_``.
    status : pandas.DataFrame
        Per-series status (no blobs): keys, shard, status, error, n_obs.
    run_id : str or None
        The parent MLflow run of the job.
    seconds : float
        Wall time of the job on the driver.
    extra : dict
        Free-form details (``"shards"``: per-shard status, seconds and digest).
    shards : int
        Number of shards (tasks) the series were fitted in.
    horizon : int or None
        The horizon forecast in the fitting tasks (``fit_many(horizon=)``),
        else None.

    Examples
    --------
    >>> ManyModels.__name__
    'ManyModels'
    """

    table: Any
    adapter: Any
    keys: list
    time: str
    target: str
    exog: list
    failures: dict
    status: pd.DataFrame
    run_id: str | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    shards: int = 0
    horizon: int | None = None

    @property
    def n_series(self) -> int:
        """Number of series in the job (fitted and failed)."""
        return len(self.status)

    def load(self, key, trusted: bool = False):
        """Collect the shard holding one series and load its fitted adapter on the driver.

        Parameters
        ----------
        key : scalar or tuple
            The series key.
        trusted : bool, default False
            As :func:`uniml.load`.

        Returns
        -------
        uniml.Adapter
            The adapter restricted to that one series (``series_ == [key]``).
        """
        parts = key if isinstance(key, tuple) else (key,)
        if len(parts) != len(self.keys):
            raise DataContractError(f"a series key has {len(self.keys)} part(s); got {key!r}")
        mask = self.status["status"] == "ok"
        for name, value in zip(self.keys, parts, strict=True):
            mask &= self.status[name] == value
        if not mask.any():
            reason = self.failures.get(key)
            raise DataContractError(
                f"series {key!r} has no fitted model in this job"
                + (f" (it failed to fit: {reason})" if reason else "")
            )
        shard = int(self.status.loc[mask, "shard"].iloc[0])
        rows = (
            self.table.where(f"kind = 'shard' AND shard = {shard}")
            .select("digest", "model")
            .collect()
        )
        model = unpack_model(bytes(rows[0]["model"]), trusted=trusted)
        return _only(model, key)


def _only(model, key):
    """A shallow copy of a fitted many-series adapter that holds one series."""
    out = copy.copy(model)
    out.models_ = {key: model.models_[key]}
    out.freq_ = {key: model.freq_[key]}
    out.last_time_ = {key: model.last_time_[key]}
    out.failures_ = {}
    return out


def _ipc_bytes(frame: pd.DataFrame) -> bytes:
    """A pandas frame as one Arrow IPC stream (data only: reading it runs no code)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _fit_shard_fn(adapter, keys, time, target, exog, horizon=None, names=None):
    """The task: fit every series of each shard of the partition with one adapter clone
    (and, given ``horizon``, forecast them with the same fitted object)."""
    from sklearn.base import clone

    from uniml.core import events
    from uniml.core.forecasting import SeriesFitError

    def series_frame(part, shard, model_failures):
        counts = part.groupby(keys, sort=True)[target].count()
        index = counts.index
        rows = pd.DataFrame(
            index.to_frame(index=False) if len(keys) > 1 else {keys[0]: index.to_numpy()}
        )
        labels = [_key_value(list(k) if isinstance(k, tuple) else [k]) for k in index]
        rows["kind"], rows[SHARD] = "series", shard
        rows["status"] = ["failed" if k in model_failures else "ok" for k in labels]
        rows["error"] = [model_failures.get(k) for k in labels]
        rows["n_obs"] = counts.to_numpy(dtype="int64")
        for c in ("seconds", "digest", "manifest", "model", "forecast"):
            rows[c] = None
        return rows

    def fit_shard(shard: int, part: pd.DataFrame):
        part = part.sort_values([*keys, time], kind="stable").reset_index(drop=True)
        start = _time.perf_counter()
        model = clone(adapter).set_params(errors="warn", n_jobs=1, progress=False)
        blob = manifest = digest = forecast = None
        try:
            model.fit(part, time=time, target=target, series_id=keys, exog=exog or None)
            failures = dict(model.failures_)
            blob, manifest, digest = pack_model(model)
            remember_fitted(model, manifest, digest)
        except SeriesFitError as exc:  # every series of the shard failed
            failures = dict(exc.failures)
        except Exception as exc:  # a one-series shard's failure, or a shard-wide one
            reason = _failure_reason(exc)
            groups = part.groupby(keys, sort=True).size().index
            failures = {
                _key_value(list(k) if isinstance(k, tuple) else [k]): reason for k in groups
            }
        if horizon is not None and blob is not None:
            # what predict_many(horizon=) would give, without a reload; outside the fit's
            # try: a forecasting error fails the job loudly, never reads as a fit failure
            forecast = _ipc_bytes(model.predict(horizon=horizon)[names])
        series = series_frame(part, shard, failures)
        head = {c: pd.Series([None], dtype=object) for c in keys}
        shard_row = pd.DataFrame(
            {
                "kind": "shard",
                SHARD: shard,
                **head,
                "status": "ok" if blob is not None else "failed",
                "error": None,
                "n_obs": int(series["n_obs"].sum()),
                "seconds": _time.perf_counter() - start,
                "digest": digest,
                "manifest": manifest,
                "model": [blob],
                "forecast": [forecast],
            }
        )
        return series, shard_row

    def run(batches):
        with task_scope(), events.muted(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for shard, part in iter_shards(batches):
                series, shard_row = fit_shard(shard, part)
                order = ["kind", SHARD, *keys, *_TABLE_COLUMNS]
                yield to_arrow_safe(series[order])
                yield to_arrow_safe(shard_row[order])

    return run


def fit_many(
    adapter,
    spark_df,
    *,
    time: str,
    target: str,
    series_id,
    exog=None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    lineage: bool = True,
    path: str | None = None,
    shards: int | None = None,
    horizon: int | None = None,
    balance: bool = False,
) -> ManyModels:
    """Fit one model per series on Spark, a shard of series per task.

    The series are hashed into ``shards`` groups; each Spark task fits its
    shard's series with one clone of ``adapter`` exactly as the pandas
    many-series path does (same checks, same library call per series, BLAS
    pinned to one thread per task); a series that fails is reported with the
    reason the pandas path gives and never loses the others.

    Parameters
    ----------
    adapter : ForecastingAdapter
        An unfitted forecasting adapter (``uniml.make("statsmodels.ets")``, ...).
    spark_df : pyspark.sql.DataFrame
        Long-format training data (any row order).
    time, target : str
        Time and target columns.
    series_id : str or list of str
        The group key (one model per distinct value).
    exog : list of str, optional
        Exogenous regressor columns.
    tracking_uri, experiment : str, optional
        MLflow tracking store and experiment of the job's parent run (default:
        MLflow's current ones).
    lineage : bool, default True
        Log ONE parent MLflow run for the job, with ``series_status.csv`` (per-series
        status, reason, observations, shard) as its artifact.
    path : str, optional
        Write the model table as Parquet there (a location every executor and
        the driver can reach) and read it back; default: a local checkpoint in
        the executors' storage.
    shards : int, optional
        Number of shards (Spark tasks), the series hashed into them by key.
        Default: *adaptive* shards, about twice the session's default
        parallelism of them, of equal rows: the series are hashed into fine
        buckets, and Spark's adaptive execution, which knows each bucket's
        size once the shuffle is written, deals whole neighbouring buckets out
        to the tasks (no extra job; a task holds at most the session's
        ``spark.sql.adaptive.advisoryPartitionSizeInBytes`` of shuffled rows,
        so a large input gets more tasks). A task's series are one shard. A
        shard's rows must fit in one Python worker's memory.
    horizon : int, optional
        Also forecast this many steps ahead of each series' end, in the task
        that fitted it (one pass over the data instead of a second job that
        reloads every model). The forecasts are stored in the model table and
        :func:`predict_many` with the same ``horizon`` returns them.
    balance : bool, default False
        Deal the series out one by one so every shard gets about the same
        number of rows (longest series first, each to the lightest shard),
        ``shards`` of them (default twice the default parallelism). It costs
        one extra small job (rows counted per series, one row per series
        collected on the driver) and evens out what adaptive shards cannot:
        a few very long series among many short ones, where a bucket holds
        several series. See docs/spark.md.

    Returns
    -------
    ManyModels

    Raises
    ------
    DataContractError
        Not a forecasting adapter, no series key, not a Spark DataFrame, a
        bad ``shards``, a non-positive ``horizon``, or ``horizon`` with ``exog``.
    SchemaError
        A role column is missing.

    Examples
    --------
    >>> import uniml
    >>> fit_many(uniml.make("statsmodels.ets"), None, time="ds", target="y", series_id="id")
    Traceback (most recent call last):
    ...
    uniml.core.errors.DataContractError: expected a pyspark.sql.DataFrame, got NoneType
    """
    from uniml.core.forecasting import ForecastingAdapter

    if not isinstance(adapter, ForecastingAdapter):
        raise DataContractError(
            f"fit_many fits forecasting adapters; got {type(adapter).__name__} "
            f"(use uniml.spark.score for tabular, causal and recommendation models)"
        )
    spark = active_session(spark_df)
    keys = _key_list(series_id)
    exog = [exog] if isinstance(exog, str) else list(exog or [])
    extras = list(adapter._extra_columns().values())
    require_columns(spark_df, [*keys, time, target, *exog, *extras], "the training data")
    n_shards = check_shards(shards, spark, balance)
    h = _check_horizon(horizon) if horizon is not None else None
    if h is not None and exog:
        raise DataContractError(
            f"fit_many(horizon=) forecasts from the series' ends alone; a model with regressors "
            f"{exog} forecasts at the rows of a future frame: predict_many(models, future_df)"
        )
    from pyspark.sql import types as T

    start = _time.perf_counter()
    out_schema = T.StructType(
        [
            T.StructField("kind", T.StringType()),
            T.StructField(SHARD, T.IntegerType()),
            *[T.StructField(k, spark_df.schema[k].dataType) for k in keys],
            T.StructField("status", T.StringType()),
            T.StructField("error", T.StringType()),
            T.StructField("n_obs", T.LongType()),
            T.StructField("seconds", T.DoubleType()),
            T.StructField("digest", T.StringType()),
            T.StructField("manifest", T.StringType()),
            T.StructField("model", T.BinaryType()),
            T.StructField("forecast", T.BinaryType()),
        ]
    )
    columns = [*keys, time, target, *exog, *extras]
    names = _forecast_columns(keys, time, adapter)
    task = _fit_shard_fn(adapter, keys, time, target, exog, h, names)
    # built, planned and run in here (a repartition takes its bucket count from the confs
    # in force when it is built): the job that fits
    with job_confs(spark, n_shards):
        fitted = (
            sharded(spark_df.select(*columns), keys, n_shards, balance=balance)
            .mapInPandas(task, out_schema)
            .withColumnRenamed(SHARD, "shard")
        )
        if path is not None:
            fitted.write.mode("overwrite").parquet(path)
            table = spark.read.parquet(path)
        else:
            # lazy: the status collection below is the job that fits, and it stores every row
            # (blobs too) in the executors' storage as it goes, so no second job reads them back
            table = fitted.localCheckpoint(eager=False)
        small = table.select(
            "kind", "shard", *keys, "status", "error", "n_obs", "seconds", "digest"
        ).toPandas()
    status = (
        small[small["kind"] == "series"][[*keys, "shard", "status", "error", "n_obs"]]
        .sort_values(keys, kind="stable")
        .reset_index(drop=True)
    )
    shard_info = (
        small[small["kind"] == "shard"][["shard", "status", "n_obs", "seconds", "digest"]]
        .sort_values("shard")
        .reset_index(drop=True)
    )
    failures = {
        _key_value([r[k] for k in keys]): r["error"]
        for _, r in status.iterrows()
        if r["status"] != "ok"
    }
    seconds = _time.perf_counter() - start
    result = ManyModels(
        table=table,
        adapter=adapter,
        keys=keys,
        time=time,
        target=target,
        exog=exog,
        failures=failures,
        status=status,
        seconds=seconds,
        extra={"shards": shard_info},
        shards=len(shard_info) if n_shards is None else n_shards,
        horizon=h,
    )
    if lineage:
        result.run_id = _log_job(
            "fit_many",
            adapter,
            status,
            {
                "n_series": len(status),
                "n_failed": len(failures),
                "n_shards": result.shards,
                "seconds": seconds,
                "task_seconds": float(shard_info["seconds"].sum()),
            },
            {
                "series_id": ",".join(keys),
                "time": time,
                "target": target,
                "shards": "adaptive" if n_shards is None else n_shards,
                "horizon": h,
                "balance": balance,
            },
            tracking_uri,
            experiment,
        )
    return result


def _log_job(kind, adapter, status, metrics, params, tracking_uri, experiment) -> str:
    """One parent MLflow run for a Spark job, with the per-series status as a CSV artifact."""
    import tempfile
    from pathlib import Path

    import mlflow

    client_uri = tracking_uri or mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(client_uri)
    if experiment is not None:
        mlflow.set_experiment(experiment)
    flat = {f"adapter.{k}": str(v)[:500] for k, v in adapter.get_params(deep=False).items()}
    with mlflow.start_run(
        run_name=f"{kind} {adapter.name}", nested=mlflow.active_run() is not None
    ) as run:
        mlflow.set_tags({"uniml.job": kind, "uniml.adapter": adapter.name, "uniml.engine": "spark"})
        mlflow.log_params({**flat, **params})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "series_status.csv"
            status.to_csv(out, index=False)
            mlflow.log_artifact(str(out))
        return run.info.run_id


def _interval_pairs(adapter) -> list[tuple[str, str]]:
    from uniml.core.forecasting import interval_columns

    cov = adapter.get_params(deep=False).get("coverage", (0.8, 0.95))
    return [(lo, hi) for _, lo, hi in interval_columns(cov)]


def _forecast_columns(keys, time, adapter) -> list[str]:
    """The columns of a forecast frame, in the pandas path's order."""
    return [*keys, time, "forecast", *[c for pair in _interval_pairs(adapter) for c in pair]]


def _check_horizon(horizon) -> int:
    import numbers

    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise DataContractError(f"horizon must be a positive integer, got {horizon!r}")
    return int(horizon)


def predict_many(
    models: ManyModels,
    spark_df=None,
    *,
    horizon: int | None = None,
    trusted: bool = False,
):
    """Forecast every fitted series on Spark, equal to the pandas path's ``predict``.

    Parameters
    ----------
    models : ManyModels
        From :func:`fit_many`.
    spark_df : pyspark.sql.DataFrame, optional
        Future frame (key columns, time, exogenous columns), when the models
        have regressors; forecasts are made at its rows (its rows are hashed to
        their shards, ``groupBy(shard).cogroup().applyInPandas``).
    horizon : int, optional
        Steps ahead of each series' end (``mapInPandas`` over the model
        table's shard rows: one load and one ``predict`` per shard). When
        ``fit_many`` was given the same ``horizon``, the forecasts its tasks
        stored are returned instead (no model is loaded).
    trusted : bool, default False
        Allow pickle-based model artifacts (statsmodels results are pickled;
        pass True for a model table your own job wrote).

    Returns
    -------
    pyspark.sql.DataFrame
        Key column(s), time, ``forecast`` and ``lower_<c>`` / ``upper_<c>``
        per coverage; failed series are absent (see ``models.failures``).

    Raises
    ------
    DataContractError
        Neither or both of ``spark_df`` and ``horizon``, a non-positive horizon.
    SchemaError
        The future frame lacks a key, time or regressor column.

    Examples
    --------
    >>> predict_many(None, horizon=3)
    Traceback (most recent call last):
    ...
    uniml.core.errors.DataContractError: predict_many needs the ManyModels returned by fit_many, got NoneType
    """
    if not isinstance(models, ManyModels):
        raise DataContractError(
            f"predict_many needs the ManyModels returned by fit_many, got {type(models).__name__}"
        )
    if (spark_df is None) == (horizon is None):
        raise DataContractError("predict_many needs exactly one of a future frame or horizon=")
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from uniml.core import events

    keys, time = models.keys, models.time
    table = models.table.where("kind = 'shard' AND status = 'ok'")
    h = _check_horizon(horizon) if horizon is not None else None
    stored_forecasts = h is not None and models.horizon == h  # data only: no trust needed
    if not trusted and not stored_forecasts:
        first = table.select("manifest").first()
        check_trusted(first["manifest"] if first else None, trusted, "the model table")
    time_type = T.TimestampType()
    extras = list(models.adapter._extra_columns().values())
    if spark_df is not None:
        active_session(spark_df)
        require_columns(spark_df, [*keys, time, *models.exog, *extras], "the future frame")
        time_type = spark_df.schema[time].dataType
    names = _forecast_columns(keys, time, models.adapter)
    types = {k: models.table.schema[k].dataType for k in keys} | {time: time_type}
    schema = T.StructType([T.StructField(n, types.get(n, T.DoubleType())) for n in names])

    if h is not None:
        if stored_forecasts:  # forecast in the fitting tasks: decode, load nothing

            def stored(batches):
                import pyarrow as pa

                for batch in batches:
                    for blob in batch["forecast"]:
                        frame = pa.ipc.open_stream(bytes(blob)).read_pandas()
                        yield to_arrow_safe(frame[names])

            return table.select("forecast").mapInPandas(stored, schema)

        def by_horizon(batches):
            with task_scope(), events.muted():
                for batch in batches:
                    for digest, blob in zip(batch["digest"], batch["model"], strict=True):
                        model = unpack_model(bytes(blob), trusted=trusted, digest=digest)
                        yield to_arrow_safe(model.predict(horizon=h)[names])

        return table.select("digest", "model").mapInPandas(by_horizon, schema)

    if models.shards < 1:
        raise DataContractError("this ManyModels has no shard count; refit it with fit_many")
    columns = [*keys, time, *models.exog, *extras]
    failures = dict(models.failures)

    def by_frame(model_rows: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
        if future.empty:
            return pd.DataFrame({n: [] for n in names})
        if model_rows.empty:  # every series of this shard failed to fit
            key = _key_value([future[k].iloc[0] for k in keys])
            reason = failures.get(key)
            raise DataContractError(
                f"series {key!r} was not fitted"
                + (f" (it failed to fit: {reason})" if reason else "")
                + "; cannot forecast it"
            )
        row = model_rows.iloc[0]
        model = unpack_model(bytes(row["model"]), trusted=trusted, digest=row["digest"])
        with task_scope(), events.muted():
            out = model.predict(future[columns].reset_index(drop=True))
        return to_arrow_safe(out.reset_index(drop=True)[names])

    # each row goes to the shard that holds its series' model (a left join: a series that was
    # never fitted gets a null shard, and by_frame names it)
    where = models.table.where("kind = 'series'").select(
        *[F.col(k).alias(n) for k, n in zip(keys, key_aliases(keys), strict=True)],
        F.col("shard").alias("shard"),  # a new column: the cogroup below meets the table again
    )
    future = left_join_on_keys(spark_df.select(*columns), where, keys)
    return (
        table.select("shard", "digest", "model")
        .groupBy("shard")
        .cogroup(future.groupBy("shard"))
        .applyInPandas(by_frame, schema)
    )


def status_json(models: ManyModels) -> str:
    """The per-series status as JSON records (what the MLflow artifact holds, as CSV)."""
    return json.dumps(json.loads(models.status.to_json(orient="records")))
