"""The evaluation harness: :func:`evaluate`.

Candidates, baselines and the champion are run on the same folds of the
task's protocol (in parallel with joblib), scored with the task's metrics,
compared with paired bootstrap intervals and judged by the gates.

The comparison intervals resample the out-of-fold predictions, not the
per-fold scores: every model's full out-of-fold arrays are kept in memory
(never in the report, whose ``predictions`` is a sample for plots) and
:class:`~uniml.evaluation._bootstrap.RowBootstrap` draws the same rows
(users; series x origin blocks of a backtest) for every model, within each
fold, recomputing each metric per fold and averaging over folds.

How the work is cut: one joblib job per (model, fold) — or per model for a
backtest that ``update``-s its model origin after origin, since those folds
depend on each other. Every job fits a fresh ``sklearn.base.clone`` of the
model, so the result of a job depends only on the model's parameters and
the fold, never on which worker ran it or in which order: the same
``random_state`` gives the same report whatever ``n_jobs`` is. The per-model
lifecycle events are muted inside each job (the fits are bookkeeping of one
evaluation, not models to track), and one ``evaluate`` event is emitted with
the report at the end.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uniml.core import events
from uniml.core.errors import DataContractError, UnimlError, UnimlWarning
from uniml.evaluation._bootstrap import RowBootstrap, kernel, paired_bootstrap, user_values
from uniml.evaluation._report import EvalReport, GateResult
from uniml.evaluation.baselines import default_baselines
from uniml.evaluation.gates import (
    GateError,
    RelativeGate,
    judge_relative,
    judge_threshold,
    parse_gates,
)
from uniml.evaluation.metrics import Metric, MetricError, default_metrics, get_metric
from uniml.evaluation.splitters import (
    Fold,
    GroupKFold,
    LeaveOut,
    ProtocolError,
    RollingOrigin,
    TimeSeriesSplit,
    default_protocol,
)

__all__ = ["EvaluationError", "evaluate"]

_TASKS = ("regression", "classification", "forecasting", "causal", "recommendation")
_THREADED_LIBRARIES = ("lightgbm", "xgboost")


class EvaluationError(UnimlError, ValueError):
    """The candidates, champion or options of an evaluation are inconsistent.

    Examples
    --------
    >>> issubclass(EvaluationError, ValueError)
    True
    """


# ----------------------------------------------------------------------------- problem
@dataclass
class _Problem:
    """The data of one evaluation, in the shape the workers need."""

    task: str
    # the task's data contract (TabularData, ForecastData, CausalData or InteractionData;
    # None in the tabular workers, which get X and y only), told apart by ``task``
    data: Any
    X: pd.DataFrame | None = None
    y: pd.Series | None = None
    sample_weight: pd.Series | None = None
    true_effect: np.ndarray | None = None
    k: int = 10
    extra: dict = field(default_factory=dict)


def _continuous(y: pd.Series) -> bool:
    from sklearn.utils.multiclass import type_of_target

    return y.dtype.kind == "f" and type_of_target(y.to_numpy()) == "continuous"


def _task_of_model(model) -> str | None:
    try:  # an adapter's task_kind follows what it wraps (sklearn.estimator: the estimator's kind)
        task = getattr(getattr(model, "task_kind", None), "value", None)
    except (AttributeError, TypeError, ValueError):
        task = None
    task = task or getattr(model, "task", None)
    if isinstance(task, str) and task in _TASKS:
        return task
    try:
        from sklearn.base import is_classifier, is_regressor

        if is_classifier(model):
            return "classification"
        if is_regressor(model):
            return "regression"
    except (ImportError, TypeError, AttributeError):
        pass
    return None


def _problem(data, candidates: dict, true_effect, protocol) -> _Problem:
    from uniml.core.causal import CausalData
    from uniml.core.forecasting import ForecastData
    from uniml.core.recommendation import InteractionData
    from uniml.core.tasks import TabularData

    tasks = {name: _task_of_model(m) for name, m in candidates.items()}
    if isinstance(data, tuple) and len(data) == 2:
        X, y = data
        X = (
            X
            if isinstance(X, pd.DataFrame)
            else pd.DataFrame(np.asarray(X)).rename(columns=lambda c: f"x{c}")
        )
        y = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y), name="y", index=X.index)
        if len(X) != len(y):
            raise DataContractError(f"X has {len(X)} rows but y has {len(y)}")
        data = TabularData(
            X.assign(**{"__target__": y.to_numpy()}), target="__target__", features=list(X.columns)
        )
    if isinstance(data, TabularData):
        kinds = {t for t in tasks.values() if t is not None}
        bad = {n: t for n, t in tasks.items() if t not in ("regression", "classification")}
        if bad:
            name, t = next(iter(bad.items()))
            raise DataContractError(
                f"candidate {name!r} is a {t or 'non-uniml'} model, but the data is tabular "
                f"(regression/classification)"
            )
        if len(kinds) != 1:
            raise DataContractError(
                f"candidates mix tasks {sorted(kinds)}; evaluate one task at a time"
            )
        task = kinds.pop()
        if task == "regression" and data.y.dtype.kind not in "biuf":
            raise DataContractError(
                f"regression candidates, but target {data.target!r} has dtype {data.y.dtype}"
            )
        if task == "classification" and _continuous(data.y):
            raise DataContractError(
                f"classification candidates, but target {data.target!r} is continuous "
                f"(non-integer floats); evaluate regression models on it"
            )
        return _Problem(task, data, X=data.X, y=data.y, sample_weight=data.sample_weight)
    data_kinds = {
        ForecastData: "forecasting",
        CausalData: "causal",
        InteractionData: "recommendation",
    }
    found = next((t for cls, t in data_kinds.items() if isinstance(data, cls)), None)
    if found is None:
        raise DataContractError(
            f"data must be a TabularData, ForecastData, CausalData, InteractionData or an (X, y) pair, "
            f"got {type(data).__name__}"
        )
    task = found
    for name, t in tasks.items():
        if t != task:
            raise DataContractError(
                f"candidate {name!r} is a {t or 'non-uniml'} model, but the data is {task} data"
            )
    problem = _Problem(task, data)
    if task == "causal":
        if true_effect is not None:
            if not isinstance(true_effect, str) or true_effect not in data.frame.columns:
                raise DataContractError(
                    f"true_effect={true_effect!r} must name a column of the causal frame"
                )
            roles = {
                c
                for v in data.roles().values()
                if v is not None
                for c in (
                    [v] if isinstance(v, str) else (v if isinstance(v, (list, tuple)) else [])
                )
            }
            if true_effect in roles:
                raise DataContractError(
                    f"true_effect column {true_effect!r} also has a role; the truth must not "
                    f"be a model input"
                )
            problem.true_effect = data.frame[true_effect].to_numpy(dtype=float)
        elif not set(np.unique(data.T.to_numpy())) <= {0, 1}:
            raise DataContractError(
                f"uplift metrics (no true_effect= given) need a 0/1 treatment; column {data.treatment!r} has "
                f"values {np.unique(data.T.to_numpy())[:5].tolist()}"
            )
    if task == "recommendation" and isinstance(protocol, LeaveOut):
        problem.k = int(protocol.k)
    return problem


def _folds(problem: _Problem, protocol, random_state) -> list[Fold]:
    protocol.check_task(problem.task)
    if problem.task in ("regression", "classification"):
        groups, order = None, None
        frame = problem.data.frame
        X, y = problem.X, problem.y
        assert X is not None and y is not None  # _problem sets both for tabular tasks
        if isinstance(protocol, GroupKFold) and isinstance(protocol.groups, str):
            if protocol.groups not in frame.columns:
                raise ProtocolError(
                    f"GroupKFold: group column {protocol.groups!r} is not in the data"
                )
            groups = frame[protocol.groups].to_numpy()
        if isinstance(protocol, TimeSeriesSplit):
            if protocol.time is not None:
                if protocol.time not in frame.columns:
                    raise ProtocolError(
                        f"TimeSeriesSplit: time column {protocol.time!r} is not in the data"
                    )
                order = np.argsort(frame[protocol.time].to_numpy(), kind="stable")
            ordered = X if order is None else X.iloc[order]
            return protocol.split_arrays(
                ordered, y.to_numpy(), random_state=random_state, order=order
            )
        return protocol.split_arrays(X, y.to_numpy(), groups, random_state=random_state)
    if problem.task == "forecasting":
        return protocol.split_frame(problem.data)
    if problem.task == "causal":
        return protocol.split_arrays(
            problem.data.frame, problem.data.T.to_numpy(), random_state=random_state
        )
    return protocol.split_frame(problem.data, random_state=random_state)


# ----------------------------------------------------------------------------- workers
def _prepare(model, inner_threads, refit: bool):
    """A fresh clone (unless scoring a frozen model), with the library's threads capped."""
    from sklearn.base import clone

    if not refit:
        return model
    m = clone(model, safe=False)  # objects without get_params are deep-copied
    if inner_threads is not None:
        library = getattr(type(m), "library", "")
        params = m.get_params(deep=False) if hasattr(m, "get_params") else {}
        # "all cores" in every worker would oversubscribe; an explicit thread count is the user's choice
        if (library in _THREADED_LIBRARIES and params.get("n_jobs") in (None, -1, 0)) or params.get(
            "n_jobs"
        ) == -1:
            m.set_params(n_jobs=inner_threads)
    return m


def _limits(inner_threads):
    import contextlib

    if inner_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=inner_threads)


def _score(metric: Metric, source: dict) -> float:
    opts = dict(metric.options)
    src = metric.source
    if src == "pred":
        if "y_true" not in source:
            raise MetricError(
                f"metric {metric.name!r}: this evaluation has no ground truth to compare with"
            )
        return float(metric.func(source["y_true"], source["y_pred"]))
    if src in ("proba", "label"):
        if src == "proba" and source.get("proba") is None:
            raise MetricError(
                f"metric {metric.name!r} needs predicted probabilities; model "
                f"{source['model']!r} has no predict_proba"
            )
        value = source["proba"] if src == "proba" else source["y_pred"]
        return float(metric.func(source["y_true"], value, labels=source["labels"]))
    if src == "interval":
        level = opts["level"]
        lo, hi = source["intervals"].get(level, (None, None))
        if lo is None:
            raise MetricError(
                f"metric {metric.name!r}: model {source['model']!r} gives no {level:.0%} interval"
            )
        if metric.name.startswith("coverage"):
            return float(metric.func(source["y_true"], lo, hi))
        return float(metric.func(lo, hi))
    if src == "scaled":
        return float(metric.func(source["y_true"], source["y_pred"], source["scale"]))
    if src == "effect":
        if source.get("true_effect") is None:
            raise MetricError(
                f"metric {metric.name!r} needs the true effect: pass true_effect=<column>"
            )
        return float(metric.func(source["true_effect"], source["effect"]))
    if src == "uplift":
        return float(metric.func(source["effect"], source["treatment"], source["outcome"], **opts))
    if src == "ranking":
        return float(metric.func(source["recs"], source["truth"], **opts))
    if src == "coverage":
        return float(metric.func(source["recs"], source["catalogue"], **opts))
    raise MetricError(f"metric {metric.name!r} has an unknown source {src!r}")


def _tabular_fold(problem, model, fold, metrics, inner, refit, name):
    X, y = problem.X, problem.y
    m = _prepare(model, inner, refit)
    if refit:
        kw = {}
        if problem.sample_weight is not None:
            kw["sample_weight"] = problem.sample_weight.iloc[fold.train].to_numpy()
        m.fit(X.iloc[fold.train], y.iloc[fold.train], **kw)
    Xt = X.iloc[fold.test]
    y_true = y.iloc[fold.test].to_numpy()
    y_pred = np.asarray(m.predict(Xt))
    source = {"model": name, "y_true": y_true, "y_pred": y_pred}
    out = {"model": name, "fold": fold.id, "row": fold.test, "y_true": y_true, "y_pred": y_pred}
    if problem.task == "classification":
        labels = np.asarray(getattr(m, "classes_", np.unique(y.iloc[fold.train])))
        proba = None
        if hasattr(m, "predict_proba"):
            p = np.asarray(m.predict_proba(Xt), dtype=float)
            proba = p[:, 1] if p.shape[1] == 2 else p
            if p.shape[1] == 2:
                out["proba"] = proba
            else:  # multiclass: the probability the model gave the label it predicted
                out["confidence"] = _confidence(p, labels, y_pred)
        source.update(labels=labels, proba=proba)
    scores = {mt.name: _score(mt, source) for mt in metrics}
    return [(fold.id, scores, pd.DataFrame(out), _raw(source))]


def _confidence(proba: np.ndarray, labels: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Each row's probability of its predicted label (NaN where that label has no column).

    Examples
    --------
    >>> p = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    >>> _confidence(p, np.array(["a", "b", "c"]), np.array(["b", "a"])).tolist()
    [0.5, 0.6]
    """
    column = {label: i for i, label in enumerate(labels.tolist())}
    index = np.array([column.get(label, -1) for label in y_pred.tolist()], dtype=int)
    picked = proba[np.arange(len(proba)), np.clip(index, 0, None)]
    return np.where(index >= 0, picked, np.nan)


def _forecast_frames(problem, rows):
    from uniml.core.forecasting import ForecastData

    d = problem.data
    return ForecastData(
        d.frame.iloc[rows],
        time=d.time,
        target=d.target,
        series_id=list(d.series_id) or None,
        exog=list(d.exog) or None,
    )


def _forecast_score(problem, m, fold, metrics, name, train_rows):
    from uniml.evaluation.metrics.forecasting import mase_scale

    d = problem.data
    train = d.frame.iloc[train_rows]
    test = d.frame.iloc[fold.test]
    sid = list(d.series_id)
    if sid:  # series the training window never saw cannot be forecast
        seen = pd.MultiIndex.from_frame(train[sid]).unique()
        test = test[pd.MultiIndex.from_frame(test[sid]).isin(seen)]
    test = test.reset_index(
        drop=True
    )  # predictions come back indexed like the future frame: 0..n-1
    future = test[[*sid, d.time, *d.exog]]
    pred = m.predict(future).reindex(future.index)
    y_true = test[d.target].to_numpy(dtype=float)
    y_pred = pred["forecast"].to_numpy(dtype=float)
    intervals = {}
    for level, label in ((0.8, "80"), (0.95, "95")):
        if f"lower_{label}" in pred.columns:
            intervals[level] = (
                pred[f"lower_{label}"].to_numpy(dtype=float),
                pred[f"upper_{label}"].to_numpy(dtype=float),
            )
    keys = test[sid].astype(str).agg("|".join, axis=1).to_numpy() if sid else np.full(len(test), "")
    train_keys = (
        train[sid].astype(str).agg("|".join, axis=1).to_numpy() if sid else np.full(len(train), "")
    )
    scales = {
        k: mase_scale(train[d.target].to_numpy(dtype=float)[train_keys == k])
        for k in np.unique(keys)
    }
    rows = {
        "series": keys,
        "time": test[d.time].to_numpy(),
        "y_true": y_true,
        "y_pred": y_pred,
        "scale": np.array([scales[k] for k in keys]),
    }
    return forecast_fold_result(name, fold.id, fold.info["origin"], rows, intervals, metrics)


def forecast_fold_result(name, fold_id, origin, rows: dict, intervals: dict, metrics) -> tuple:
    """Score one (model, fold) of a backtest from its out-of-fold rows.

    Shared by the pandas harness and ``uniml.spark.evaluate_many`` (which
    computes the rows per series on Spark and concatenates them in the
    pandas path's row order), so both produce the same fold result.

    Parameters
    ----------
    name : str
        Model name.
    fold_id : int
        Fold number.
    origin : Timestamp
        The fold's forecast origin.
    rows : dict
        Arrays of equal length: ``series`` (the key as text), ``time``,
        ``y_true``, ``y_pred`` and ``scale`` (the series' MASE scale).
    intervals : dict
        Coverage -> (lower, upper) arrays, for the coverages the model gives.
    metrics : list of Metric

    Returns
    -------
    tuple
        ``(fold_id, scores, prediction frame, raw arrays for the bootstrap)``.

    Examples
    --------
    >>> import numpy as np
    >>> from uniml.evaluation.metrics import get_metric
    >>> rows = {"series": np.array(["a", "a"]), "time": np.array([1, 2]), "y_true": np.array([1.0, 2.0]),
    ...         "y_pred": np.array([1.0, 3.0]), "scale": np.array([1.0, 1.0])}
    >>> forecast_fold_result("m", 0, None, rows, {}, [get_metric("forecasting", "mae")])[1]
    {'mae': 0.5}
    """
    y_true, y_pred = rows["y_true"], rows["y_pred"]
    source = {
        "model": name,
        "y_true": y_true,
        "y_pred": y_pred,
        "intervals": intervals,
        "scale": rows["scale"],
        "keys": rows["series"],
    }
    scores = {mt.name: _score(mt, source) for mt in metrics}
    n = len(y_true)
    lo, hi = intervals.get(0.8, (np.full(n, np.nan), np.full(n, np.nan)))
    frame = pd.DataFrame(
        {
            "model": name,
            "origin": origin,
            "series": rows["series"],
            "time": rows["time"],
            "y_true": y_true,
            "y_pred": y_pred,
            "lower": lo,
            "upper": hi,
        }
    )
    return fold_id, scores, frame, _raw(source)


def _forecast_folds(problem, model, folds, metrics, inner, refit, name, update):
    out = []
    if not update:
        for fold in folds:
            m = _prepare(model, inner, refit)
            if refit:
                m.fit(_forecast_frames(problem, fold.train))
            out.append(_forecast_score(problem, m, fold, metrics, name, fold.train))
        return out
    m = _prepare(model, inner, refit)
    seen = None
    for fold in folds:
        if seen is None:
            m.fit(_forecast_frames(problem, fold.train))
        else:
            new = np.setdiff1d(fold.train, seen, assume_unique=False)
            if len(new):
                m.update(problem.data.frame.iloc[np.sort(new)])
        seen = fold.train
        out.append(_forecast_score(problem, m, fold, metrics, name, fold.train))
    return out


def _causal_fold(problem, model, fold, metrics, inner, refit, name):
    from uniml.core.causal import CausalData

    d = problem.data
    m = _prepare(model, inner, refit)
    if refit:
        roles = {k: v for k, v in d.roles().items()}
        m.fit(CausalData(d.frame.iloc[fold.train], **roles))
    test = d.frame.iloc[fold.test]
    effect = m.predict(test)["effect"].to_numpy(dtype=float)
    t = test[d.treatment].to_numpy()
    y = test[d.outcome].to_numpy(dtype=float)
    truth = None if problem.true_effect is None else problem.true_effect[fold.test]
    source = {"model": name, "effect": effect, "treatment": t, "outcome": y, "true_effect": truth}
    if truth is not None:
        source.update(y_true=truth, y_pred=effect)
    scores = {mt.name: _score(mt, source) for mt in metrics}
    frame = {
        "model": name,
        "fold": fold.id,
        "row": fold.test,
        "treatment": t,
        "outcome": y,
        "effect": effect,
    }
    if truth is not None:
        frame["true_effect"] = truth
    return [(fold.id, scores, pd.DataFrame(frame), _raw(source))]


def _recommendation_fold(problem, model, fold, metrics, inner, refit, name):
    from uniml.core.recommendation import InteractionData
    from uniml.evaluation.metrics import ranking

    d = problem.data
    m = _prepare(model, inner, refit)
    train = d.frame.iloc[fold.train]
    if refit:
        m.fit(
            InteractionData(
                train,
                user=d.user,
                item=d.item,
                weight=d.weight,
                timestamp=d.timestamp,
                user_features=d.user_features,
                item_features=d.item_features,
            )
        )
    test = d.frame.iloc[fold.test]
    truth = pd.DataFrame({"user": test[d.user].to_numpy(), "item": test[d.item].to_numpy()})
    k_max = max([problem.k, *(dict(mt.options).get("k", 0) for mt in metrics)])
    users = pd.unique(truth["user"])
    recs = m.predict(users, k=k_max)
    recs = recs.rename(columns={d.user: "user", d.item: "item"}) if d.user in recs.columns else recs
    source = {
        "model": name,
        "recs": recs,
        "truth": truth,
        "catalogue": pd.unique(train[d.item].to_numpy()),
        "y_true": truth,
        "y_pred": recs,
    }
    scores = {mt.name: _score(mt, source) for mt in metrics}
    per_user = {mt.name: user_values(mt, recs, truth) for mt in metrics if mt.source == "ranking"}
    raw = {"user_values": {k: v for k, v in per_user.items() if v is not None}}
    ks = np.arange(1, k_max + 1)
    curve = pd.DataFrame(
        {
            "model": name,
            "fold": fold.id,
            "k": ks,
            "precision": [ranking.precision_at_k(recs, truth, int(k)) for k in ks],
            "recall": [ranking.recall_at_k(recs, truth, int(k)) for k in ks],
            "ndcg": [ranking.ndcg_at_k(recs, truth, int(k)) for k in ks],
        }
    )
    return [(fold.id, scores, curve, raw)]


def _raw(source: dict) -> dict:
    """What the per-row bootstrap needs of a fold's predictions (kept in memory, never in the report)."""
    return {k: v for k, v in source.items() if k != "model"}


def _job(problem, name, model, folds, metrics, inner, refit, update):
    """One unit of parallel work: fit/predict/score ``model`` on ``folds``. Runs in a worker."""
    with events.muted(), _limits(inner), warnings.catch_warnings():
        for category in (UserWarning, FutureWarning, DeprecationWarning, RuntimeWarning):
            warnings.simplefilter("ignore", category=category)  # library chatter, once per fold
        warnings.simplefilter("default", category=UnimlWarning)
        try:
            if problem.task in ("regression", "classification"):
                return [
                    r
                    for f in folds
                    for r in _tabular_fold(problem, model, f, metrics, inner, refit, name)
                ]
            if problem.task == "forecasting":
                return _forecast_folds(problem, model, folds, metrics, inner, refit, name, update)
            if problem.task == "causal":
                return [
                    r
                    for f in folds
                    for r in _causal_fold(problem, model, f, metrics, inner, refit, name)
                ]
            return [
                r
                for f in folds
                for r in _recommendation_fold(problem, model, f, metrics, inner, refit, name)
            ]
        except UnimlError:
            raise  # already typed and naming the problem
        except Exception as exc:  # a library failing inside one fold: say which model and fold
            where = f"fold {folds[0].id}" if len(folds) == 1 else f"folds {[f.id for f in folds]}"
            raise EvaluationError(
                f"model {name!r} failed on {where}: {type(exc).__name__}: {exc}"
            ) from exc


# ----------------------------------------------------------------------------- inputs
def _named(models, what: str) -> dict:
    if models is None:
        return {}
    if isinstance(models, dict):
        out = {}
        for k, v in models.items():
            if not isinstance(k, str) or not k:
                raise EvaluationError(f"{what} names must be non-empty strings, got {k!r}")
            out[k] = v
        return out
    if not isinstance(models, (list, tuple)):
        models = [models]
    out = {}
    for m in models:
        own = getattr(m, "name", None)
        base = own if isinstance(own, str) else type(m).__name__
        name, i = base, 2
        while name in out:
            name, i = f"{base}#{i}", i + 1
        out[name] = m
    return out


def _load_champion(champion, trusted: bool):
    if champion is None or not isinstance(champion, (str, Path)):
        return champion
    text = str(champion)
    if "://" in text or text.startswith(("models:/", "runs:/")):
        from uniml.lineage import load_adapter

        return load_adapter(text, trusted=trusted)
    from uniml.core.persistence import load

    if not Path(text).exists():
        raise EvaluationError(
            f"champion {text!r} is neither a saved uniml folder nor an MLflow model URI"
        )
    return load(text, trusted=trusted)


def _flat_params(model) -> dict:
    try:
        params = model.get_params(deep=True)
    except (AttributeError, TypeError):
        return {}
    out = {}
    for k, v in sorted(params.items()):
        if (
            v is None
            or isinstance(v, (bool, int, str))
            or (isinstance(v, float) and math.isfinite(v))
        ):
            out[k] = v
        elif isinstance(v, (np.integer, np.floating, np.bool_)):
            out[k] = v.item()
        else:
            out[k] = repr(v)
    return out


def _resolve_metrics(task, metrics, gates, known_effect, k):
    names = list(
        default_metrics(task, known_effect=known_effect, k=k)
        if metrics is None
        else ([metrics] if isinstance(metrics, (str, Metric)) or callable(metrics) else metrics)
    )
    if not names:
        raise MetricError("metrics must name at least one metric")
    resolved = [get_metric(task, n) for n in names]
    have = {m.name for m in resolved}
    for g in gates:
        if g.metric not in have:
            try:
                resolved.append(get_metric(task, g.metric))
            except MetricError as exc:
                raise GateError(f"invalid gate {g.name!r}: {exc}") from None
            have.add(g.metric)
    if len(have) != len(resolved):
        raise MetricError(f"metric names must be unique, got {[m.name for m in resolved]}")
    if task == "causal":
        sources = {m.source for m in resolved}
        if not known_effect and ("effect" in sources or "pred" in sources):
            bad = next(m.name for m in resolved if m.source in ("effect", "pred"))
            raise MetricError(f"metric {bad!r} needs the true effect: pass true_effect=<column>")
    return resolved


# ----------------------------------------------------------------------------- assembly
def _leaderboard(fold_scores, metrics, roles) -> pd.DataFrame:
    primary = metrics[0]
    stats = fold_scores.groupby(["model", "metric"], sort=False)["value"].agg(["mean", "std"])
    board = pd.DataFrame(index=pd.Index(list(roles), name="model"))
    board["role"] = [roles[m] for m in board.index]
    for mt in metrics:
        for stat in ("mean", "std"):
            board[f"{mt.name}_{stat}"] = [
                float(stats[stat].get((m, mt.name), np.nan)) for m in board.index
            ]
    key = board[f"{primary.name}_mean"] * (-1.0 if primary.greater_is_better else 1.0)
    order = sorted(
        range(len(board)), key=lambda i: (math.isnan(key.iloc[i]), key.iloc[i], board.index[i])
    )
    return board.iloc[order]


_BOOTSTRAP_NOTE = (
    "Comparison intervals are paired percentile bootstraps: the out-of-fold units (rows; series x origin "
    "blocks or rows of a backtest; users) are resampled within each fold, the same draw for both models, "
    "and the metric is recomputed per fold and averaged over folds. Metrics without a per-row form "
    "(catalogue coverage, user metrics of recommendations) resample the per-fold values instead (unit 'folds')."
)
_MIN_SERIES_BLOCKS = 10


def _fold_units(task: str, raw: dict) -> tuple[np.ndarray, str]:
    """Resampling units of one fold's test rows, and their name."""
    if task == "recommendation":
        values = next(iter(raw.get("user_values", {}).values()), np.zeros(0))
        return np.arange(len(values)), "users"
    n = len(raw.get("y_true", raw.get("effect", ())))
    if task == "forecasting":
        codes, uniques = pd.factorize(raw["keys"])
        if len(uniques) >= _MIN_SERIES_BLOCKS:
            return codes.astype(np.int64), "series x origin blocks"
        return np.arange(n), "backtest rows"
    return np.arange(n), "rows"


def _kernel_rows(k) -> int:
    return k.stats.shape[0] if hasattr(k, "stats") else k.n_rows


def _row_bootstrap(task, raws: dict, metrics, n_boot, seed, n_jobs=1) -> tuple[RowBootstrap, str]:
    """Register the per-row form of every (model, fold, metric) in one shared paired resampler, and run it."""
    units, names = {}, set()
    for (_, fold), raw in sorted(raws.items(), key=lambda kv: kv[0][1]):
        if fold not in units:
            units[fold], name = _fold_units(task, raw)
            names.add(name)
    # a backtest with few series in any origin resamples rows everywhere, never a mix of units
    if "backtest rows" in names and len(names) > 1:
        units = {f: np.arange(len(u)) for f, u in units.items()}
        names = {"backtest rows"}
    boot = RowBootstrap(units, n_boot=n_boot, seed=seed)
    for (model, fold), raw in raws.items():
        for mt in metrics:
            k = kernel(mt, raw)
            if k is not None and _kernel_rows(k) != len(units[fold]):
                k = None  # not aligned with the fold's units: this metric falls back to per-fold values
            boot.add(model, mt.name, fold, k)
    boot.run(n_jobs=n_jobs)
    return boot, names.pop() if names else "rows"


def _compare(
    boot, fold_scores_wide, model, ref, metric, confidence, n_boot, seed, unit
) -> dict | None:
    """Per-row paired bootstrap when both models have one for ``metric``, else the per-fold one."""
    if boot is not None and boot.supports(model, metric) and boot.supports(ref, metric):
        r = boot.compare(model, ref, metric, confidence)
        if r is not None:
            r["unit"] = unit
            return r
    if (model, metric) not in fold_scores_wide.columns or (
        ref,
        metric,
    ) not in fold_scores_wide.columns:
        return None
    both = fold_scores_wide[[(model, metric), (ref, metric)]].dropna()
    if both.empty:
        return None
    r = paired_bootstrap(
        both.iloc[:, 0].to_numpy(),
        both.iloc[:, 1].to_numpy(),
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
    )
    r["unit"], r["n_folds"] = "folds", r["n"]
    return r


def _comparisons(
    fold_scores, metrics, roles, confidence, n_boot, seed, boot=None, unit="rows"
) -> tuple[pd.DataFrame, dict]:
    wide = fold_scores.pivot_table(
        index="fold", columns=["model", "metric"], values="value", aggfunc="first"
    )
    rows, raw = [], {}
    baselines = [m for m, r in roles.items() if r == "baseline"]
    champions = [m for m, r in roles.items() if r == "champion"]
    pairs = []
    for model, role in roles.items():
        if role == "baseline":
            continue
        pairs += [(model, b) for b in baselines]
        if role == "candidate":
            pairs += [(model, c) for c in champions]
    for model, ref in pairs:
        for mt in metrics:
            r = _compare(boot, wide, model, ref, mt.name, confidence, n_boot, seed, unit)
            if r is None:
                continue
            raw[(model, ref, mt.name)] = r
            rows.append(
                {
                    "model": model,
                    "reference": ref,
                    "metric": mt.name,
                    "diff": r["diff"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                    "confidence": confidence,
                    "rel_diff": r["rel_diff"],
                    "rel_ci_low": r["rel_ci_low"],
                    "rel_ci_high": r["rel_ci_high"],
                    "n_folds": r["n_folds"],
                    "unit": r["unit"],
                    "n_units": r["n"],
                }
            )
    cols = [
        "model",
        "reference",
        "metric",
        "diff",
        "ci_low",
        "ci_high",
        "confidence",
        "rel_diff",
        "rel_ci_low",
        "rel_ci_high",
        "n_folds",
        "unit",
        "n_units",
    ]
    return pd.DataFrame(rows, columns=cols), raw


def _judge(
    gates, board, roles, metrics, fold_scores, n_boot, seed, boot=None, unit="rows"
) -> list[GateResult]:
    direction = {m.name: m.greater_is_better for m in metrics}
    candidates = [m for m, r in roles.items() if r == "candidate"]
    results = []
    wide = fold_scores.pivot_table(
        index="fold", columns=["model", "metric"], values="value", aggfunc="first"
    )
    for gate in gates:
        targets = [gate.model] if gate.model else candidates
        for model in targets:
            mean = float(board.loc[model, f"{gate.metric}_mean"])
            if not isinstance(gate, RelativeGate):
                ok, reason = judge_threshold(gate, model, mean)
                results.append(
                    GateResult(gate.name, ok, reason, model, gate.metric, mean, gate.threshold)
                )
                continue
            ref = gate.reference
            if ref == "baseline":
                base = [m for m, r in roles.items() if r == "baseline"]
                col = board.loc[base, f"{gate.metric}_mean"]
                ref = str(col.idxmax() if direction[gate.metric] else col.idxmin())
            elif ref == "champion":
                ref = next(m for m, r in roles.items() if r == "champion")
            cmp = _compare(boot, wide, model, ref, gate.metric, gate.confidence, n_boot, seed, unit)
            if cmp is None:
                raise GateError(
                    f"gate {gate.name!r}: {model!r} and {ref!r} have no {gate.metric} on common folds"
                )
            ok, reason, value, threshold, lo, hi = judge_relative(
                gate, model, ref, cmp, direction[gate.metric]
            )
            if (
                cmp["unit"] == "folds" and cmp["n"] < 3
            ):  # a bootstrap over one or two folds says nothing
                reason += f" (only {cmp['n']} fold{'s' if cmp['n'] != 1 else ''}: the interval cannot show spread)"
            results.append(
                GateResult(gate.name, ok, reason, model, gate.metric, value, threshold, lo, hi)
            )
    return results


def _check_gates(gates, roles):
    names = set(roles)
    for g in gates:
        if g.model is not None and g.model not in names:
            raise GateError(
                f"invalid gate {g.name!r}: no model named {g.model!r}; models are {sorted(names)}"
            )
        if isinstance(g, RelativeGate):
            if g.reference == "champion" and "champion" not in roles.values():
                raise GateError(
                    f"invalid gate {g.name!r}: it compares with the champion, but champion= was not given"
                )
            if g.reference not in ("baseline", "champion") and g.reference not in names:
                raise GateError(
                    f"invalid gate {g.name!r}: unknown reference {g.reference!r}; use 'baseline', "
                    f"'champion' or one of {sorted(names)}"
                )


def assemble_report(
    task,
    protocol,
    folds,
    job_names,
    results,
    metric_objs,
    gate_objs,
    models,
    roles,
    champ,
    *,
    start,
    workers,
    random_state,
    confidence,
    n_boot,
    keep_predictions,
    true_effect=None,
    champion=None,
    champion_refit=True,
) -> EvalReport:
    """Build the :class:`EvalReport` from the fold results of every job (one list per job).

    Shared by :func:`evaluate` and ``uniml.spark.evaluate_many``: leaderboard,
    paired bootstrap comparisons and gates come from the same code.
    """
    score_rows, pred_frames, raws = [], [], {}
    for name, result in zip(job_names, results, strict=True):
        for fold_id, scores, frame, raw in result:
            score_rows += [
                {"model": name, "fold": int(fold_id), "metric": k, "value": float(v)}
                for k, v in scores.items()
            ]
            pred_frames.append(frame)
            raws[(name, int(fold_id))] = raw
    fold_scores = pd.DataFrame(score_rows, columns=["model", "fold", "metric", "value"])
    fold_scores = fold_scores.astype({"fold": "int64", "value": "float64"})
    predictions = pd.concat(pred_frames, ignore_index=True) if pred_frames else pd.DataFrame()
    if keep_predictions is not None and "row" in predictions.columns:
        rows = np.unique(predictions["row"].to_numpy())
        if len(rows) > keep_predictions:
            keep = np.random.default_rng(random_state).choice(
                rows, size=int(keep_predictions), replace=False
            )
            predictions = predictions[predictions["row"].isin(keep)].reset_index(drop=True)

    board = _leaderboard(fold_scores, metric_objs, roles)
    boot, unit = _row_bootstrap(task, raws, metric_objs, n_boot, random_state, workers)
    del raws
    comparisons, _ = _comparisons(
        fold_scores, metric_objs, roles, confidence, n_boot, random_state, boot, unit
    )
    gate_results = _judge(
        gate_objs, board, roles, metric_objs, fold_scores, n_boot, random_state, boot, unit
    )
    per_row = sorted(
        {
            m
            for m in comparisons["metric"]
            if (comparisons.loc[comparisons["metric"] == m, "unit"] != "folds").all()
        }
    )
    per_fold = sorted(set(comparisons["metric"]) - set(per_row))

    described = protocol.describe()
    if described.get("random_state", "absent") is None and described.get("shuffle", True):
        described["random_state"] = random_state
    described["n_folds"] = len(folds)
    described["bootstrap"] = (
        f"paired, {unit} resampled within folds" if per_row else "paired, folds resampled"
    )
    if isinstance(protocol, RollingOrigin):
        described["origins"] = [str(f.info["origin"]) for f in folds]
    report = EvalReport(
        task=task,
        protocol=described,
        metrics=[m.name for m in metric_objs],
        greater_is_better={m.name: bool(m.greater_is_better) for m in metric_objs},
        roles=roles,
        params={name: _flat_params(m) for name, m in models.items()},
        fold_scores=fold_scores,
        leaderboard=board,
        comparisons=comparisons,
        gates=gate_results,
        passed=all(g.passed for g in gate_results),
        predictions=predictions,
        duration=time.perf_counter() - start,
        random_state=random_state,
        n_jobs=int(workers),
        extra={
            "confidence": confidence,
            "n_boot": n_boot,
            "bootstrap": {
                "unit": unit,
                "per_row_metrics": per_row,
                "per_fold_metrics": per_fold,
                "note": _BOOTSTRAP_NOTE,
            },
            "true_effect": true_effect,
            "champion_refit": bool(champion_refit) if champ is not None else None,
            "champion_source": str(champion) if isinstance(champion, (str, Path)) else None,
            # registry (issue 16): the gate is bound to the exact saved artifact. Lineage sets
            # ``artifact_digest_`` on a model when it saves its fit (and on models it loads), so
            # the report names the digest of every candidate / champion that has one.
            "artifact_digests": {
                n: models[n].artifact_digest_
                for n in models
                if roles[n] != "baseline" and getattr(models[n], "artifact_digest_", None)
            },
        },
    )
    return report


def model_set(
    cands: dict, task: str, baselines, champion, champion_trusted, gate_objs, uplift=False
):
    """The models of an evaluation: candidates, the task's baselines and the champion, with roles.

    Shared by :func:`evaluate` and ``uniml.spark.evaluate_many``.

    Returns
    -------
    tuple
        ``(models, roles, champion model or None)``; names map to models and to
        ``"candidate"`` / ``"baseline"`` / ``"champion"``.
    """
    base = default_baselines(task, uplift=uplift)
    if baselines not in ("auto", None):
        base.update(_named(baselines, "baseline"))
    models: dict = {}
    roles: dict = {}
    for name, m in cands.items():
        models[name], roles[name] = m, "candidate"
    for name, m in base.items():
        if name in models:
            raise EvaluationError(
                f"candidate name {name!r} is taken by a baseline; rename the candidate"
            )
        models[name], roles[name] = m, "baseline"
    champ = _load_champion(champion, champion_trusted)
    if champ is not None:
        if "champion" in models:
            raise EvaluationError(
                "the name 'champion' is reserved for champion=; rename the candidate"
            )
        t = _task_of_model(champ)
        if t is not None and t != task:
            raise DataContractError(f"the champion is a {t} model, but the data is {task} data")
        models["champion"], roles["champion"] = champ, "champion"
    _check_gates(gate_objs, roles)
    return models, roles, champ


def evaluate(
    candidates,
    data,
    protocol=None,
    metrics=None,
    baselines="auto",
    champion=None,
    gates=None,
    n_jobs=-1,
    random_state=0,
    *,
    spec=None,
    true_effect=None,
    champion_refit=True,
    champion_trusted=False,
    confidence=0.95,
    n_boot=2000,
    keep_predictions=5000,
    progress=None,
) -> EvalReport:
    """Evaluate candidates against baselines and a champion on the task's protocol.

    Parameters
    ----------
    candidates : model, list of models or dict name -> model
        Unfitted uniml adapters (or scikit-learn estimators for tabular
        data). Each is cloned and fitted once per fold. Unnamed models are
        named by their catalog name.
    data : TabularData, ForecastData, CausalData, InteractionData or (X, y)
        The task comes from the data and must match the candidates'.
    protocol : protocol object, optional
        :mod:`uniml.evaluation.splitters`; default :class:`KFold` (regression,
        causal), :class:`StratifiedKFold` (classification),
        :class:`RollingOrigin` (forecasting), :class:`LeaveOut` (recommendation).
    metrics : list of str, Metric or callables, optional
        The first is the primary metric. Default per task (see
        :mod:`uniml.evaluation.metrics`). Metrics named by gates are added.
    baselines : "auto", list or dict, default "auto"
        The task's baselines always run; models given here run as extra baselines.
    champion : model, str or Path, optional
        The current champion: a fitted or unfitted model, a saved uniml
        folder, or an MLflow model URI (``models:/name@champion``,
        ``runs:/<id>/model``). It is refit per fold with its own
        hyperparameters (a clone), so it is scored on exactly the same
        training and test rows as the candidates.
    gates : list of str, dict or Gate, optional
        See :mod:`uniml.evaluation.gates`.
    n_jobs : int, default -1
        Parallel jobs over (model, fold). When more than one, libraries with
        their own threads (LightGBM, XGBoost) left at their default thread
        count get ``cores // n_jobs`` threads each to avoid oversubscription.
    random_state : int or None, default 0
        Seeds the folds' shuffle and the bootstrap.
    spec : dict, optional
        The evaluation spec (from ``uniml eval``), passed on in the ``evaluate`` event.
    true_effect : str, optional
        Causal data: column of the known individual effect (enables PEHE and
        ATE error; otherwise uplift metrics on held-out randomised data).
    champion_refit : bool, default True
        False scores the fitted champion as it is on every test fold; its
        training rows are unknown to the harness, so those scores are
        optimistic if they overlap the test folds.
    champion_trusted : bool, default False
        Allow pickle-based artifacts when loading a champion folder.
    confidence : float, default 0.95
        Level of the comparison intervals.
    n_boot : int, default 2000
        Bootstrap resamples. The comparison intervals resample the
        out-of-fold rows (users for recommendation; series x origin blocks,
        or rows, of a backtest) within each fold, the same rows for both
        models, recomputing the metric; metrics without a per-row form fall
        back to resampling per-fold values (see ``report.comparisons["unit"]``).
    keep_predictions : int or None, default 5000
        Rows of out-of-fold predictions kept per model for plots (tabular
        and causal; a seeded sample of the same rows for every model). None keeps all.
    progress : callable, optional
        Called as ``progress(done, total)`` after each (model, fold) job, in
        the main process (e.g. to drive a progress bar).

    Returns
    -------
    EvalReport

    Raises
    ------
    DataContractError
        Data of the wrong kind, or candidates of another task.
    ProtocolError, MetricError, GateError, EvaluationError
        A protocol, metric, gate or option that does not fit, naming it.

    Examples
    --------
    >>> import uniml
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> report = uniml.evaluate({"ridge": uniml.make("sklearn.estimator", estimator=Ridge())}, (X, y),
    ...                         gates=["rmse better than baseline"], n_jobs=1)
    >>> list(report.leaderboard.index), report.passed
    (['ridge', 'dummy_mean'], True)
    """
    start = time.perf_counter()
    from uniml.evaluation.splitters import KFold  # noqa: F401  (documented default)

    cands = _named(candidates, "candidate")
    if not cands:
        raise EvaluationError("no candidates to evaluate")
    gate_objs = parse_gates(gates)
    protocol = default_protocol_for(data, cands) if protocol is None else protocol
    problem = _problem(data, cands, true_effect, protocol)
    task = problem.task
    if protocol is None or not hasattr(protocol, "check_task"):
        raise ProtocolError(
            f"protocol must be a uniml.evaluation.splitters object, got {protocol!r}"
        )
    metric_objs = _resolve_metrics(
        task, metrics, gate_objs, problem.true_effect is not None, problem.k
    )

    models, roles, champ = model_set(
        cands,
        task,
        baselines,
        champion,
        champion_trusted,
        gate_objs,
        uplift=task == "causal" and problem.true_effect is None,
    )

    folds = _folds(problem, protocol, random_state)
    update = isinstance(protocol, RollingOrigin) and protocol.refit == "update"
    if update and protocol.window != "expanding":
        raise ProtocolError(
            "RollingOrigin(refit='update') needs window='expanding': an updated model keeps its history"
        )

    jobs = []
    for name, m in models.items():
        refit = champion_refit or roles[name] != "champion"
        model_update = update and hasattr(m, "update") and roles[name] != "baseline"
        if model_update:
            jobs.append((name, m, folds, refit, True))
        else:
            jobs += [(name, m, [f], refit, False) for f in folds]

    from joblib import Parallel, delayed, effective_n_jobs

    if task in (
        "regression",
        "classification",
    ):  # workers need X and y only: ship the data once, not twice
        problem = _Problem(
            task, None, X=problem.X, y=problem.y, sample_weight=problem.sample_weight
        )

    workers = max(1, min(effective_n_jobs(n_jobs), len(jobs)))
    inner = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
    if workers > 1:
        stream = Parallel(n_jobs=workers, return_as="generator")(
            delayed(_job)(problem, name, m, fs, metric_objs, inner, refit, upd)
            for name, m, fs, refit, upd in jobs
        )
    else:
        stream = (
            _job(problem, name, m, fs, metric_objs, None, refit, upd)
            for name, m, fs, refit, upd in jobs
        )
    results = []
    for result in stream:  # in submission order, whichever worker finished first
        results.append(result)
        if progress is not None:
            progress(len(results), len(jobs))

    report = assemble_report(
        task,
        protocol,
        folds,
        [name for name, *_ in jobs],
        results,
        metric_objs,
        gate_objs,
        models,
        roles,
        champ,
        start=start,
        workers=workers,
        random_state=random_state,
        confidence=confidence,
        n_boot=n_boot,
        keep_predictions=keep_predictions,
        true_effect=true_effect,
        champion=champion,
        champion_refit=champion_refit,
    )
    events.emit("evaluate", report=report, spec=spec)
    return report


def default_protocol_for(data, candidates: dict):
    """The default protocol for ``data`` (its task decides; tabular asks the candidates).

    Examples
    --------
    >>> import pandas as pd
    >>> from uniml.core.forecasting import ForecastData
    >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2.0, 3.0]})
    >>> default_protocol_for(ForecastData(df, "ds", "y"), {})
    RollingOrigin(horizon=7, step=7, n_origins=3, window='expanding', window_size=None, refit=True)
    """
    task = getattr(data, "task", None)
    if task is not None and str(task) not in ("regression", "classification", "None"):
        return default_protocol(str(task))
    kinds = {_task_of_model(m) for m in candidates.values()}
    return default_protocol("classification" if kinds == {"classification"} else "regression")


#: names the Spark layer (``uniml.spark.evaluate_many``) shares with :func:`evaluate`
named_models = _named
resolve_metrics = _resolve_metrics
