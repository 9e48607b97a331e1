"""Rolling-origin backtests per series on Spark, aggregated into the harness's ``EvalReport``."""

from __future__ import annotations

import time as _time
import warnings

import numpy as np
import pandas as pd

from uniml.core.errors import DataContractError
from uniml.spark._common import (
    active_session,
    check_shards,
    iter_shards,
    job_confs,
    require_columns,
    sharded,
    task_scope,
    to_arrow_safe,
)

__all__ = ["evaluate_many"]

_LEVELS = ((0.8, "80"), (0.95, "95"))


def _series_text(frame: pd.DataFrame, keys: list) -> np.ndarray:
    return frame[keys].astype(str).agg("|".join, axis=1).to_numpy()


def _backtest_fn(models, updates, windows, keys, time, target, exog):
    """The per-series worker: every model on every fold of one series, as the pandas harness does."""
    from sklearn.base import clone

    from uniml.core import events
    from uniml.core.errors import UnimlWarning
    from uniml.core.forecasting import ForecastData
    from uniml.evaluation.metrics.forecasting import mase_scale

    def rows_of(name, fold_id, m, train, test):
        if (
            train.empty or test.empty
        ):  # the pandas path drops test rows of series it never trained on
            return None
        test = test.reset_index(drop=True)
        future = test[[*keys, time, *exog]]
        pred = m.predict(future).reindex(future.index)
        out = test[[*keys, time]].copy()
        out["model"], out["fold"] = name, fold_id
        out["y_true"] = test[target].to_numpy(dtype=float)
        out["y_pred"] = pred["forecast"].to_numpy(dtype=float)
        for _, label in _LEVELS:
            has = f"lower_{label}" in pred.columns
            out[f"has_{label}"] = has
            out[f"lower_{label}"] = pred[f"lower_{label}"].to_numpy(dtype=float) if has else np.nan
            out[f"upper_{label}"] = pred[f"upper_{label}"].to_numpy(dtype=float) if has else np.nan
        out["scale"] = mase_scale(train[target].to_numpy(dtype=float))
        out["error"] = None
        return out

    def data_of(frame):
        return ForecastData(frame, time=time, target=target, series_id=keys, exog=exog or None)

    def run(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values(time, kind="stable").reset_index(drop=True)
        t = frame[time]
        parts = []
        for name, model in models.items():
            try:
                with events.muted(), warnings.catch_warnings():
                    for category in (
                        UserWarning,
                        FutureWarning,
                        DeprecationWarning,
                        RuntimeWarning,
                    ):
                        warnings.simplefilter("ignore", category=category)
                    warnings.simplefilter("default", category=UnimlWarning)
                    m = None
                    seen = np.zeros(len(frame), dtype=bool)
                    for fold_id, (train_start, origin, test_start, test_end) in enumerate(windows):
                        train_mask = ((t >= train_start) & (t <= origin)).to_numpy()
                        train = frame[train_mask]
                        test = frame[((t >= test_start) & (t <= test_end)).to_numpy()]
                        if train.empty:
                            continue
                        if not updates[name] or m is None:
                            m = clone(model, safe=False)
                            m.fit(data_of(train))
                        else:
                            new = train_mask & ~seen
                            if new.any():
                                m.update(frame[new])
                        seen = train_mask
                        out = rows_of(name, fold_id, m, train, test)
                        if out is not None:
                            parts.append(out)
            except Exception as exc:  # reported on the driver, naming the model and series
                err = frame[keys].iloc[:1].copy()
                err["model"], err["error"] = name, f"{type(exc).__name__}: {exc}"
                parts.append(err)
        if not parts:
            return pd.DataFrame(columns=_COLUMNS(keys, time))
        return to_arrow_safe(
            pd.concat(parts, ignore_index=True).reindex(columns=_COLUMNS(keys, time))
        )

    def run_shards(batches):
        """mapInPandas: every series of every shard of the partition, one after the other."""
        with task_scope():
            for _, shard in iter_shards(batches):
                shard = shard.sort_values(keys, kind="stable")
                for _, series in shard.groupby(keys, sort=True):
                    out = run(series)
                    if len(out):
                        yield out

    return run_shards


def _COLUMNS(keys, time):
    cols = [*keys, time, "model", "fold", "y_true", "y_pred"]
    for _, label in _LEVELS:
        cols += [f"has_{label}", f"lower_{label}", f"upper_{label}"]
    return [*cols, "scale", "error"]


def evaluate_many(
    candidates,
    spark_df,
    *,
    time: str,
    target: str,
    series_id,
    exog=None,
    protocol=None,
    metrics=None,
    baselines="auto",
    champion=None,
    gates=None,
    random_state=0,
    champion_trusted=False,
    confidence=0.95,
    n_boot=2000,
    shards=None,
    balance=False,
):
    """The harness's rolling-origin backtest, run per series on Spark, as the same ``EvalReport``.

    The series are dealt into shards as by :func:`~uniml.spark.fit_many` (one
    Spark task each, ``mapInPandas``); a task runs every (model, series)
    backtest of its shard; the out-of-fold rows come back to the driver (one row per series x origin x
    horizon step x model) and go through the pandas harness's own scoring,
    bootstrap, leaderboard and gates. For data sorted by series and time, the
    report equals ``uniml.evaluate(candidates, ForecastData(...), protocol)``.

    Parameters
    ----------
    candidates : model, list or dict name -> model
        Unfitted forecasting adapters.
    spark_df : pyspark.sql.DataFrame
        Long-format history.
    time, target, series_id, exog
        Column roles as for :class:`~uniml.ForecastData`.
    protocol : RollingOrigin, optional
        Default ``RollingOrigin()``; origins sit on the distinct times of all series.
    metrics, baselines, champion, gates, random_state, champion_trusted, confidence, n_boot
        As for :func:`uniml.evaluate` (the champion is refit per fold).
    shards : int, optional
        As for :func:`~uniml.spark.fit_many`: default adaptive shards (about
        twice the session's default parallelism tasks of equal rows, no extra
        job); an int hashes the series into that many shards, one task each.
    balance : bool, default False
        As for :func:`~uniml.spark.fit_many`: the series dealt out one by one
        into shards of about equal rows (one extra counting job).

    Returns
    -------
    EvalReport

    Raises
    ------
    DataContractError, SchemaError
        Not a Spark DataFrame, missing columns, non-forecasting protocol.
    EvaluationError
        A model failed on a series, naming both.

    Examples
    --------
    >>> import uniml
    >>> evaluate_many(uniml.make("statsmodels.ets"), None, time="ds", target="y", series_id="id")
    Traceback (most recent call last):
    ...
    uniml.core.errors.DataContractError: expected a pyspark.sql.DataFrame, got NoneType
    """
    from uniml.core import events
    from uniml.evaluation._harness import (
        EvaluationError,
        assemble_report,
        forecast_fold_result,
        model_set,
        named_models,
        resolve_metrics,
    )
    from uniml.evaluation.gates import parse_gates
    from uniml.evaluation.splitters import ProtocolError, RollingOrigin

    start = _time.perf_counter()
    spark = active_session(spark_df)
    n_shards = check_shards(shards, spark, balance)
    keys = [series_id] if isinstance(series_id, str) else list(series_id)
    exog = [exog] if isinstance(exog, str) else list(exog or [])
    require_columns(spark_df, [*keys, time, target, *exog], "the backtest data")
    protocol = RollingOrigin() if protocol is None else protocol
    if not isinstance(protocol, RollingOrigin):
        raise ProtocolError(
            f"evaluate_many runs rolling-origin backtests; got {type(protocol).__name__}"
        )
    cands = named_models(candidates, "candidate")
    if not cands:
        raise EvaluationError("no candidates to evaluate")
    gate_objs = parse_gates(gates)
    metric_objs = resolve_metrics("forecasting", metrics, gate_objs, False, 10)
    models, roles, champ = model_set(
        cands, "forecasting", baselines, champion, champion_trusted, gate_objs
    )
    for name, m in models.items():
        kind = str(
            getattr(getattr(m, "task_kind", None), "value", getattr(m, "task", "forecasting"))
        )
        if kind != "forecasting":
            raise DataContractError(f"model {name!r} is a {kind} model, not a forecaster")

    axis = pd.DatetimeIndex(spark_df.select(time).distinct().toPandas()[time]).sort_values()
    folds = protocol.split_times(axis)
    windows = [
        (f.info["train_start"], f.info["origin"], f.info["test_start"], f.info["test_end"])
        for f in folds
    ]
    update = protocol.refit == "update"
    if update and protocol.window != "expanding":
        raise ProtocolError(
            "RollingOrigin(refit='update') needs window='expanding': an updated model keeps its history"
        )
    updates = {
        name: update and hasattr(m, "update") and roles[name] != "baseline"
        for name, m in models.items()
    }
    from pyspark.sql import types as T

    fields = [spark_df.schema[k] for k in keys] + [
        T.StructField(time, spark_df.schema[time].dataType),
        T.StructField("model", T.StringType()),
        T.StructField("fold", T.LongType()),
        T.StructField("y_true", T.DoubleType()),
        T.StructField("y_pred", T.DoubleType()),
    ]
    for _, label in _LEVELS:
        fields += [
            T.StructField(f"has_{label}", T.BooleanType()),
            T.StructField(f"lower_{label}", T.DoubleType()),
            T.StructField(f"upper_{label}", T.DoubleType()),
        ]
    fields += [T.StructField("scale", T.DoubleType()), T.StructField("error", T.StringType())]
    worker = _backtest_fn(models, updates, windows, keys, time, target, exog)
    with job_confs(spark, n_shards):
        rows = (
            sharded(spark_df.select(*keys, time, target, *exog), keys, n_shards, balance=balance)
            .mapInPandas(worker, T.StructType(fields))
            .toPandas()
        )
    bad = rows[rows["error"].notna()]
    if len(bad):
        first = bad.iloc[0]
        series = "|".join(str(first[k]) for k in keys)
        raise EvaluationError(
            f"model {first['model']!r} failed on series {series!r}: {first['error']}"
            + (f" (and {len(bad) - 1} more model/series failures)" if len(bad) > 1 else "")
        )
    rows = rows.sort_values([*keys, time], kind="stable")
    results = []
    for name in models:
        per_model = rows[rows["model"] == name]
        out = []
        for f in folds:
            part = per_model[per_model["fold"] == f.id]
            intervals = {
                level: (
                    part[f"lower_{label}"].to_numpy(dtype=float),
                    part[f"upper_{label}"].to_numpy(dtype=float),
                )
                for level, label in _LEVELS
                if len(part) and bool(part[f"has_{label}"].all())
            }
            arrays = {
                "series": _series_text(part, keys),
                "time": part[time].to_numpy(),
                "y_true": part["y_true"].to_numpy(dtype=float),
                "y_pred": part["y_pred"].to_numpy(dtype=float),
                "scale": part["scale"].to_numpy(dtype=float),
            }
            out.append(
                forecast_fold_result(name, f.id, f.info["origin"], arrays, intervals, metric_objs)
            )
        results.append(out)
    report = assemble_report(
        "forecasting",
        protocol,
        folds,
        list(models),
        results,
        metric_objs,
        gate_objs,
        models,
        roles,
        champ,
        start=start,
        workers=int(spark.sparkContext.defaultParallelism),
        random_state=random_state,
        confidence=confidence,
        n_boot=n_boot,
        keep_predictions=None,
        champion=champion,
    )
    report.extra["engine"] = "spark"
    events.emit("evaluate", report=report, spec=None)
    return report
