"""Many-series forecasting on Spark: ``fit_many`` and ``predict_many``.

One model per series (or per any group key) is fitted in ``groupBy().applyInPandas``
with the same adapter the pandas path uses; each model travels as a row of a
Spark DataFrame (the *model table*): the key columns, the series' status and
failure reason, and the saved uniml folder as a tar blob with its manifest and
digest. The table can be written as Parquet/Delta by the caller; nothing
assumes the driver's filesystem is visible to the executors.
"""

from __future__ import annotations

import json
import time as _time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from uniml.core.errors import DataContractError
from uniml.spark._common import (
    SparkJobError,
    active_session,
    check_trusted,
    one_thread,
    pack_model,
    require_columns,
    to_arrow_safe,
    unpack_model,
)

__all__ = ["ManyModels", "fit_many", "predict_many"]

_STATUS_COLUMNS = ("status", "error", "n_obs", "fit_seconds", "digest", "manifest", "model")


def _key_list(series_id) -> list[str]:
    if series_id is None:
        raise DataContractError("fit_many needs series_id= (the column(s) naming each series)")
    return [series_id] if isinstance(series_id, str) else list(series_id)


def _failure_reason(exc: Exception) -> str:
    """The reason the pandas many-series path records for a failed series."""
    from uniml.core.forecasting import SeriesFitError

    if isinstance(exc, SeriesFitError):
        return next(iter(exc.failures.values()))
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
        One row per series: the key column(s), ``status`` (``"ok"`` or
        ``"failed"``), ``error``, ``n_obs``, ``fit_seconds``, ``digest``,
        ``manifest`` (JSON) and ``model`` (the saved uniml folder as a tar
        archive; null for failed series). Checkpointed (or written to
        ``path=``), so reading it does not refit.
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
        Per-series status (no blobs): keys, status, error, n_obs, fit_seconds, digest.
    run_id : str or None
        The parent MLflow run of the job.
    seconds : float
        Wall time of the job on the driver.
    extra : dict
        Free-form details.

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

    @property
    def n_series(self) -> int:
        """Number of series in the job (fitted and failed)."""
        return len(self.status)

    def load(self, key, trusted: bool = False):
        """Collect and load the fitted adapter of one series on the driver.

        Parameters
        ----------
        key : scalar or tuple
            The series key.
        trusted : bool, default False
            As :func:`uniml.load`.

        Returns
        -------
        uniml.Adapter
        """
        from pyspark.sql import functions as F

        parts = key if isinstance(key, tuple) else (key,)
        cond = F.col("status") == "ok"
        for name, value in zip(self.keys, parts, strict=True):
            cond = cond & (F.col(name) == F.lit(value))
        rows = self.table.where(cond).select("model").collect()
        if not rows:
            raise DataContractError(f"series {key!r} has no fitted model in this job")
        return unpack_model(bytes(rows[0]["model"]), trusted=trusted)


def _fit_group_fn(adapter, keys, time, target, exog, out_columns):
    from sklearn.base import clone

    def fit_group(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values(time, kind="stable").reset_index(drop=True)
        row: dict[str, Any] = {k: frame[k].iloc[0] for k in keys}
        start = _time.perf_counter()
        try:
            model = clone(adapter).set_params(errors="raise", n_jobs=1, progress=False)
            with one_thread():
                model.fit(frame, time=time, target=target, series_id=keys, exog=exog or None)
            blob, manifest, digest = pack_model(model)
            row.update(status="ok", error=None, digest=digest, manifest=manifest, model=blob)
        except Exception as exc:  # a bad series never loses the good ones
            row.update(
                status="failed", error=_failure_reason(exc), digest=None, manifest=None, model=None
            )
        row.update(n_obs=int(frame[target].notna().sum()), fit_seconds=_time.perf_counter() - start)
        return to_arrow_safe(pd.DataFrame([row])[out_columns])

    return fit_group


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
) -> ManyModels:
    """Fit one model per series on Spark (``groupBy(series_id).applyInPandas``).

    Each group is fitted by a clone of ``adapter`` exactly as the pandas
    many-series path fits that series (same checks, same library call, BLAS
    pinned to one thread per task); a series that fails is reported with the
    reason the pandas path gives and never loses the others.

    Parameters
    ----------
    adapter : ForecastingAdapter
        An unfitted forecasting adapter (``uniml.make("statsmodels.ets")``, ...).
    spark_df : pyspark.sql.DataFrame
        Long-format training data.
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
        status, reason, observations, seconds, digest) as its artifact.
    path : str, optional
        Write the model table as Parquet there (a location every executor and
        the driver can reach) and read it back; default: a local checkpoint in
        the executors' storage.

    Returns
    -------
    ManyModels

    Raises
    ------
    DataContractError
        Not a forecasting adapter, no series key, or not a Spark DataFrame.
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
    from pyspark.sql import types as T

    start = _time.perf_counter()
    key_fields = [spark_df.schema[k] for k in keys]
    out_schema = T.StructType(
        [
            *key_fields,
            T.StructField("status", T.StringType()),
            T.StructField("error", T.StringType()),
            T.StructField("n_obs", T.LongType()),
            T.StructField("fit_seconds", T.DoubleType()),
            T.StructField("digest", T.StringType()),
            T.StructField("manifest", T.StringType()),
            T.StructField("model", T.BinaryType()),
        ]
    )
    out_columns = [*keys, *_STATUS_COLUMNS]
    columns = [*keys, time, target, *exog, *extras]
    fitted = (
        spark_df.select(*columns)
        .groupBy(*keys)
        .applyInPandas(_fit_group_fn(adapter, keys, time, target, exog, out_columns), out_schema)
    )
    if path is not None:
        fitted.write.mode("overwrite").parquet(path)
        table = spark.read.parquet(path)
    else:
        table = fitted.localCheckpoint(eager=True)
    status = (
        table.select(*keys, "status", "error", "n_obs", "fit_seconds", "digest")
        .toPandas()
        .sort_values(keys, kind="stable")
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
    )
    if lineage:
        result.run_id = _log_job(
            "fit_many",
            adapter,
            status,
            {"n_series": len(status), "n_failed": len(failures), "seconds": seconds},
            {"series_id": ",".join(keys), "time": time, "target": target},
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


def _predict_columns(models: ManyModels) -> list[tuple[str, str]]:
    from uniml.core.forecasting import interval_columns

    cov = models.adapter.get_params(deep=False).get("coverage", (0.8, 0.95))
    return [(lo, hi) for _, lo, hi in interval_columns(cov)]


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
        have regressors; forecasts are made at its rows
        (``groupBy().cogroup().applyInPandas``).
    horizon : int, optional
        Steps ahead of each series' end (``mapInPandas`` over the model table).
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
    from pyspark.sql import types as T

    keys, time = models.keys, models.time
    table = models.table.where("status = 'ok'")
    if not trusted:
        first = table.select("manifest").first()
        check_trusted(first["manifest"] if first else None, trusted, "the model table")
    time_type = T.TimestampType()
    if spark_df is not None:
        active_session(spark_df)
        extras = list(models.adapter._extra_columns().values())
        require_columns(spark_df, [*keys, time, *models.exog, *extras], "the future frame")
        time_type = spark_df.schema[time].dataType
    key_fields = [models.table.schema[k] for k in keys]
    fields = [
        *key_fields,
        T.StructField(time, time_type),
        T.StructField("forecast", T.DoubleType()),
    ]
    for lo, hi in _predict_columns(models):
        fields += [T.StructField(lo, T.DoubleType()), T.StructField(hi, T.DoubleType())]
    schema = T.StructType(fields)
    names = [f.name for f in fields]

    if horizon is not None:
        h = int(horizon)
        if h < 1:
            raise DataContractError(f"horizon must be a positive integer, got {horizon}")

        def by_horizon(batches):
            for batch in batches:
                outs = []
                for _, row in batch.iterrows():
                    model = unpack_model(bytes(row["model"]), trusted=trusted, digest=row["digest"])
                    with one_thread():
                        outs.append(model.predict(horizon=h))
                if outs:
                    yield to_arrow_safe(pd.concat(outs, ignore_index=True)[names])

        return table.select(*keys, "digest", "model").mapInPandas(by_horizon, schema)

    columns = [*keys, time, *models.exog, *extras]

    def by_frame(model_rows: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
        if model_rows.empty or future.empty:
            if not future.empty:
                key = _key_value([future[k].iloc[0] for k in keys])
                raise DataContractError(f"series {key!r} was not fitted; cannot forecast it")
            return pd.DataFrame({n: [] for n in names})
        row = model_rows.iloc[0]
        model = unpack_model(bytes(row["model"]), trusted=trusted, digest=row["digest"])
        with one_thread():
            out = model.predict(future[columns].reset_index(drop=True))
        return to_arrow_safe(out.reset_index(drop=True)[names])

    return (
        table.select(*keys, "digest", "model")
        .groupBy(*keys)
        .cogroup(spark_df.select(*columns).groupBy(*keys))
        .applyInPandas(by_frame, schema)
    )


def status_json(models: ManyModels) -> str:
    """The per-series status as JSON records (what the MLflow artifact holds, as CSV)."""
    return json.dumps(json.loads(models.status.to_json(orient="records")))


_ = SparkJobError  # re-exported by the package
