"""Batch scoring on Spark: ``score(model, spark_df)`` through an Arrow iterator UDF (``mapInPandas``)."""

from __future__ import annotations

import pandas as pd

from uniml.core.errors import DataContractError
from uniml.spark._common import (
    active_session,
    check_trusted,
    pack_model,
    spark_schema_of,
    task_scope,
    to_arrow_safe,
    unpack_model,
)

__all__ = ["score"]


def _as_frame(prediction, index) -> pd.DataFrame:
    if isinstance(prediction, pd.DataFrame):
        return prediction.reset_index(drop=True)
    if isinstance(prediction, pd.Series):
        name = prediction.name if prediction.name is not None else "prediction"
        return prediction.rename(name).to_frame().reset_index(drop=True)
    return pd.DataFrame({"prediction": list(prediction)})


def score(model, spark_df, *, keep=None, trusted: bool = False, method: str | None = None):
    """Score a Spark DataFrame with any fitted tabular, causal or recommendation adapter.

    The model is saved once on the driver and shipped to the executors as a
    broadcast archive; each Python worker loads it once (hash-verified by
    :func:`uniml.load`) and scores Arrow batches with ``model.<method>``,
    so the output equals ``model.<method>(pandas_frame)`` row for row. The
    schema is checked on the driver first, with the core's typed errors.

    Parameters
    ----------
    model : uniml.Adapter
        A fitted adapter (not a forecaster: use :func:`predict_many`).
    spark_df : pyspark.sql.DataFrame
        Rows to score, with the columns the model was fitted on.
    keep : list of str, optional
        Input columns copied in front of the predictions (e.g. an id).
    trusted : bool, default False
        Allow pickle-based artifacts when the workers load the model.
    method : {"predict", "predict_proba", "score"}, optional
        Which method scores: default ``"score"`` for recommendation models (a
        frame of user/item pairs -> their scores) and ``"predict"`` otherwise.

    Returns
    -------
    pyspark.sql.DataFrame
        ``keep`` columns, then the prediction column(s) exactly as the
        pandas method names them (``prediction`` for an unnamed Series).

    Raises
    ------
    SchemaError
        A missing or extra column, a wrong dtype, an unseen category (from the
        model's schema, raised on the driver before any Spark job).
    DataContractError
        A forecasting model, or an unknown method.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1).fit(np.eye(4), np.arange(4.0))
    >>> score(m, None)
    Traceback (most recent call last):
    ...
    uniml.core.errors.DataContractError: expected a pyspark.sql.DataFrame, got NoneType
    """
    from uniml.core.forecasting import ForecastingAdapter

    spark = active_session(spark_df)
    if isinstance(model, ForecastingAdapter):
        raise DataContractError(
            "score scores tabular, causal and recommendation models; forecast with "
            "uniml.spark.fit_many/predict_many"
        )
    if method is None:
        method = "score" if str(getattr(model, "task", "")) == "recommendation" else "predict"
    if method not in ("predict", "predict_proba", "score") or not hasattr(model, method):
        raise DataContractError(
            f"method must be 'predict', 'predict_proba' or 'score' and exist on {type(model).__name__}, "
            f"got {method!r}"
        )
    keep = [keep] if isinstance(keep, str) else list(keep or [])
    # driver-side check on a few rows: the typed schema error before any executor runs
    schema_ = getattr(model, "schema_", None)
    features = set(schema_.names) if schema_ is not None else set()
    drop = [k for k in keep if k not in features]
    sample = spark_df.limit(16).toPandas()
    pred = _as_frame(getattr(model, method)(sample.drop(columns=drop)), sample.index)
    out_frame = pd.concat([sample[keep].reset_index(drop=True), pred], axis=1)
    schema = spark_schema_of(out_frame)
    names = list(out_frame.columns)
    blob, manifest, digest = pack_model(model)
    check_trusted(manifest, trusted, "the model")
    shipped = spark.sparkContext.broadcast(blob)

    def run(batches):
        m = unpack_model(shipped.value, trusted=trusted, digest=digest)
        call = getattr(m, method)
        with task_scope():
            for batch in batches:
                p = _as_frame(call(batch.drop(columns=drop)), batch.index)
                yield to_arrow_safe(
                    pd.concat([batch[keep].reset_index(drop=True), p], axis=1)[names]
                )

    return spark_df.mapInPandas(run, schema)
