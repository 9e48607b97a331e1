"""Metrics per task kind, and :class:`Metric`: a named score with a direction.

Built-in names by task (``evaluate(metrics=[...])``; the first is the primary
metric, which orders the leaderboard):

==============  ============================================================  ==================
task            names                                                          default
==============  ============================================================  ==================
regression      rmse, mae, r2, mape                                            rmse, mae, r2
classification roc_auc, log_loss, brier, f1, ece                               all (roc_auc first)
forecasting     mae, rmse, smape, mase, coverage_80, coverage_95, width_80,    mae, rmse, smape,
                width_95                                                       mase, coverage_80,
                                                                               width_80
causal          pehe, ate_error (known effects); qini, auuc, uplift@30%        by data
recommendation  precision@k, recall@k, ndcg@k, map@k, hit_rate@k, coverage@k    all but hit rate
==============  ============================================================  ==================

A user metric is a :class:`Metric` wrapping ``func(y_true, y_pred) -> float``
(for causal data: ``func(true_effect, effect)``).

Examples
--------
>>> m = Metric("max_error", lambda t, p: float(abs(t - p).max()), greater_is_better=False)
>>> m.name, m.greater_is_better
('max_error', False)
>>> get_metric("regression", "r2").greater_is_better
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from uniml.core.errors import UnimlError

__all__ = ["Metric", "MetricError", "default_metrics", "get_metric"]


class MetricError(UnimlError, ValueError):
    """An unknown metric name, a metric that does not fit the task, or a callable without a direction.

    Examples
    --------
    >>> issubclass(MetricError, ValueError)
    True
    """


@dataclass(frozen=True)
class Metric:
    """A named score and whether larger values are better.

    Parameters
    ----------
    name : str
    func : callable
        ``func(y_true, y_pred) -> float`` for user metrics; built-in metrics
        read what they need from the fold's predictions (``source``).
    greater_is_better : bool, default False
    source : str, default "pred"
        What the harness passes: ``"pred"`` (``y_true, y_pred``); built-ins
        use ``"proba"``, ``"label"``, ``"interval"``, ``"scaled"``,
        ``"effect"``, ``"uplift"``, ``"ranking"``.
    options : tuple, default ()
        Extra keyword arguments for ``func`` as ``(key, value)`` pairs.

    Examples
    --------
    >>> Metric("rmse", abs).source
    'pred'
    """

    name: str
    func: Callable
    greater_is_better: bool = False
    source: str = "pred"
    options: tuple = ()

    @classmethod
    def from_callable(cls, func) -> Metric:
        """Wrap a callable that carries ``greater_is_better`` (and optionally ``metric_name``).

        Parameters
        ----------
        func : callable or Metric
            ``func(y_true, y_pred) -> float`` with a ``greater_is_better``
            attribute; its ``metric_name`` attribute, else its ``__name__``,
            names the metric. A :class:`Metric` is returned as it is.

        Returns
        -------
        Metric
            With ``source="pred"``.

        Raises
        ------
        MetricError
            The callable does not say which direction is better.

        Examples
        --------
        >>> def hit(t, p):
        ...     return 1.0
        >>> hit.greater_is_better = True
        >>> Metric.from_callable(hit).name
        'hit'
        """
        if isinstance(func, Metric):
            return func
        direction = getattr(func, "greater_is_better", None)
        name = getattr(func, "metric_name", getattr(func, "__name__", None))
        if direction is None or not name or name == "<lambda>":
            raise MetricError(
                f"metric {func!r} needs a name and a direction: wrap it as "
                f"Metric('my_metric', func, greater_is_better=True|False)"
            )
        return cls(str(name), func, bool(direction))


def _tables():
    from uniml.evaluation.metrics import causal, classification, forecasting, regression

    return {
        "regression": {
            "rmse": Metric("rmse", regression.rmse, False),
            "mae": Metric("mae", regression.mae, False),
            "r2": Metric("r2", regression.r2, True),
            "mape": Metric("mape", regression.mape, False),
        },
        "classification": {
            "roc_auc": Metric("roc_auc", classification.roc_auc, True, "proba"),
            "log_loss": Metric("log_loss", classification.log_loss, False, "proba"),
            "brier": Metric("brier", classification.brier, False, "proba"),
            "f1": Metric("f1", classification.f1, True, "label"),
            "ece": Metric("ece", classification.ece, False, "proba"),
        },
        "forecasting": {
            "mae": Metric("mae", forecasting.mae, False),
            "rmse": Metric("rmse", forecasting.rmse, False),
            "smape": Metric("smape", forecasting.smape, False),
            "mase": Metric("mase", forecasting.mase, False, "scaled"),
            "coverage_80": Metric(
                "coverage_80", forecasting.coverage, True, "interval", (("level", 0.8),)
            ),
            "coverage_95": Metric(
                "coverage_95", forecasting.coverage, True, "interval", (("level", 0.95),)
            ),
            "width_80": Metric("width_80", forecasting.width, False, "interval", (("level", 0.8),)),
            "width_95": Metric(
                "width_95", forecasting.width, False, "interval", (("level", 0.95),)
            ),
        },
        "causal": {
            "pehe": Metric("pehe", causal.pehe, False, "effect"),
            "ate_error": Metric("ate_error", causal.ate_error, False, "effect"),
            "qini": Metric("qini", causal.qini, True, "uplift"),
            "auuc": Metric("auuc", causal.auuc, True, "uplift"),
        },
    }


_AT_K = re.compile(r"^(precision|recall|ndcg|map|hit_rate|coverage)@(\d+)$")
_UPLIFT_AT = re.compile(r"^uplift@(\d+(?:\.\d+)?)%$")


def get_metric(task: str, name) -> Metric:
    """The built-in metric ``name`` of ``task`` (or wrap a user callable / :class:`Metric`).

    Parameters
    ----------
    task : str
    name : str, Metric or callable
        ``"rmse"``, ``"precision@10"``, ``"uplift@30%"``...

    Returns
    -------
    Metric

    Raises
    ------
    MetricError
        Unknown for this task, listing the known names.

    Examples
    --------
    >>> get_metric("recommendation", "ndcg@5").options
    (('k', 5),)
    >>> get_metric("regression", "roc_auc")
    Traceback (most recent call last):
    ...
    uniml.evaluation.metrics.MetricError: unknown regression metric 'roc_auc'; known: mae, mape, r2, rmse
    """
    if not isinstance(name, str):
        return Metric.from_callable(name)
    if task == "recommendation":
        m = _AT_K.match(name)
        if m:
            from uniml.evaluation.metrics import ranking

            funcs: dict[str, Callable[..., float]] = {
                "precision": ranking.precision_at_k,
                "recall": ranking.recall_at_k,
                "ndcg": ranking.ndcg_at_k,
                "map": ranking.map_at_k,
                "hit_rate": ranking.hit_rate_at_k,
                "coverage": ranking.catalogue_coverage,
            }
            func = funcs[m.group(1)]
            k = int(m.group(2))
            if k < 1:
                raise MetricError(f"metric {name!r}: k must be >= 1")
            return Metric(
                name, func, True, "coverage" if m.group(1) == "coverage" else "ranking", (("k", k),)
            )
        raise MetricError(
            f"unknown recommendation metric {name!r}; known: precision@k, recall@k, ndcg@k, "
            f"map@k, hit_rate@k, coverage@k (k a positive integer)"
        )
    if task == "causal":
        m = _UPLIFT_AT.match(name)
        if m:
            from uniml.evaluation.metrics import causal

            share = float(m.group(1)) / 100.0
            if not 0.0 < share <= 1.0:
                raise MetricError(f"metric {name!r}: the share must be in (0%, 100%]")
            return Metric(name, causal.uplift_at_k, True, "uplift", (("k", share),))
    table = _tables().get(task)
    if table is None:
        raise MetricError(f"unknown task {task!r}")
    if name not in table:
        extra = ", uplift@<k>%" if task == "causal" else ""
        raise MetricError(
            f"unknown {task} metric {name!r}; known: {', '.join(sorted(table))}{extra}"
        )
    return table[name]


def default_metrics(task: str, known_effect: bool = False, k: int = 10) -> list[str]:
    """Metric names :func:`uniml.evaluate` reports when none are given (primary first).

    Parameters
    ----------
    task : str
        One of ``"regression"``, ``"classification"``, ``"forecasting"``,
        ``"causal"``, ``"recommendation"``.
    known_effect : bool, default False
        Causal only: the data carries the true effect, so error metrics
        (``pehe``, ``ate_error``) apply; otherwise uplift metrics.
    k : int, default 10
        Recommendation only: the cut-off of the ranking metrics.

    Returns
    -------
    list of str
        Names :func:`get_metric` accepts for ``task``; the first is the primary metric.

    Raises
    ------
    MetricError
        Unknown task.

    Examples
    --------
    >>> default_metrics("regression")
    ['rmse', 'mae', 'r2']
    >>> default_metrics("causal", known_effect=True)
    ['pehe', 'ate_error']
    """
    if task == "regression":
        return ["rmse", "mae", "r2"]
    if task == "classification":
        return ["roc_auc", "log_loss", "brier", "f1", "ece"]
    if task == "forecasting":
        return ["mae", "rmse", "smape", "mase", "coverage_80", "width_80"]
    if task == "causal":
        return ["pehe", "ate_error"] if known_effect else ["qini", "auuc", "uplift@30%"]
    if task == "recommendation":
        return [f"ndcg@{k}", f"precision@{k}", f"recall@{k}", f"map@{k}", f"coverage@{k}"]
    raise MetricError(f"unknown task {task!r}")
