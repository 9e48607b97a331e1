"""Paired bootstrap of the difference between two models scored on the same test units.

Two levels:

* :class:`RowBootstrap` (what :func:`uniml.evaluate` uses) resamples the
  out-of-fold *units* of an evaluation — rows for tabular and causal data,
  users for recommendation, series x origin blocks (or rows) of a backtest —
  within each fold, with replacement, the same draw for every model
  (paired). On each resample every metric is recomputed per fold and
  averaged over folds, so the point estimate is exactly the leaderboard's
  mean over folds, and the interval reflects the row-to-row variation of
  all the out-of-fold predictions, not only 5 fold means.
* :func:`paired_bootstrap` resamples per-fold values: the fallback for
  metrics without a per-row form (catalogue coverage of recommendations,
  user metrics of recommendations).

The resampling is vectorised: per fold and chunk of resamples a matrix of
unit counts is drawn once and shared by all models and metrics; metrics that
are sums over rows (squared/absolute error, log loss, Brier, MAPE, sMAPE,
MASE, coverage, width, PEHE, ATE error, the per-user ranking metrics) and
those that are functions of such sums (R² from sums of ``t``, ``t²`` and
squared errors; F1 from true/false positive and false negative counts; ECE
from per-bin sums of ``correct - confidence``) are one matrix product; ROC
AUC is recomputed per resample from weighted counts over the score order
(ties as half, like scikit-learn), the Qini coefficient and AUUC from
weighted running sums along the score order. User metric callables and
``uplift@k%`` are called on each resample's rows.

Examples
--------
>>> r = paired_bootstrap([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], seed=0)
>>> r["diff"], r["ci_low"], r["ci_high"]
(-1.0, -1.0, -1.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RowBootstrap", "kernel", "paired_bootstrap", "user_values"]

_CHUNK_ELEMENTS = 1 << 21  # unit-by-resample cells per chunk (8 MB of int32 counts)


def _index_dtype(n: int):
    return np.int32 if n < 2**31 else np.int64


def _percentiles(d: np.ndarray, confidence: float) -> tuple[float, float]:
    d = d[np.isfinite(d)]
    if not len(d):
        return float("nan"), float("nan")
    lo, hi = (1.0 - confidence) / 2.0 * 100.0, (1.0 + confidence) / 2.0 * 100.0
    return float(np.percentile(d, lo)), float(np.percentile(d, hi))


def _summary(
    mean_a: float, mean_b: float, ma: np.ndarray, mb: np.ndarray, confidence: float, n: int
) -> dict:
    d = ma - mb
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = d / np.abs(mb)
        rel_point = (mean_a - mean_b) / abs(mean_b) if mean_b != 0 else float("nan")
    lo, hi = _percentiles(d, confidence)
    rlo, rhi = _percentiles(rel, confidence)
    return {
        "mean": float(mean_a),
        "reference_mean": float(mean_b),
        "diff": float(mean_a - mean_b),
        "ci_low": lo,
        "ci_high": hi,
        "rel_diff": float(rel_point),
        "rel_ci_low": rlo,
        "rel_ci_high": rhi,
        "confidence": float(confidence),
        "n": int(n),
    }


def paired_bootstrap(
    values, reference, *, confidence: float = 0.95, n_boot: int = 2000, seed=0
) -> dict:
    """Mean paired difference ``values - reference`` with percentile bootstrap intervals.

    The values (per-fold scores) are resampled with replacement, the same
    draw for both models (paired), ``n_boot`` times. Besides the absolute
    difference of the means it returns the relative one,
    ``(mean - mean_ref) / |mean_ref|``, with its interval from the same draws.

    Parameters
    ----------
    values, reference : array-like of float
        Per-fold scores of the model and of the reference, aligned by fold.
    confidence : float, default 0.95
        Two-sided interval level.
    n_boot : int, default 2000
    seed : int or sequence of int
        Seed of the draws (``numpy.random.default_rng``).

    Returns
    -------
    dict
        ``mean``, ``reference_mean``, ``diff``, ``ci_low``, ``ci_high``,
        ``rel_diff``, ``rel_ci_low``, ``rel_ci_high``, ``confidence``, ``n``.

    Raises
    ------
    ValueError
        Unequal lengths, no values, or a confidence outside (0, 1).

    Examples
    --------
    >>> r = paired_bootstrap([10.0, 12.0], [10.0, 10.0], seed=1)
    >>> r["rel_diff"], r["rel_ci_low"] >= 0.0
    (0.1, True)
    """
    a = np.asarray(values, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(
            f"paired bootstrap needs two equal-length 1-d arrays, got {a.shape} and {b.shape}"
        )
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n_boot, len(a)))
    return _summary(
        float(a.mean()),
        float(b.mean()),
        a[idx].mean(axis=1),
        b[idx].mean(axis=1),
        confidence,
        len(a),
    )


# ----------------------------------------------------------------------------- per-row kernels
@dataclass
class _Additive:
    """A metric that is a function of weighted column sums of per-row statistics."""

    stats: np.ndarray  # (n_rows, k)
    finish: Callable[[np.ndarray], np.ndarray]  # (c, k) sums -> (c,) values

    def values(self, sums: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(self.finish(sums), dtype=float)


@dataclass
class _RocAuc:
    """ROC AUC from resampled row weights (one-vs-rest columns averaged).

    Per column the negatives are sorted by score once; for each positive the
    negatives strictly below (``lt``) and at most equal (``le``) are found
    by binary search. For a weight matrix the weighted Mann-Whitney count is
    then ``sum_i w_i * (C[lt_i] + C[le_i]) / 2`` with ``C`` the running sum of
    the negatives' weights: ties count half, as in scikit-learn.
    """

    n_rows: int
    columns: list = field(default_factory=list)  # [(negatives by score, positives, lt, le or None)]

    @classmethod
    def build(cls, positive_by_column, score_by_column):
        out = None
        for pos, score in zip(positive_by_column, score_by_column, strict=True):
            pos = np.asarray(pos, dtype=bool)
            score = np.asarray(score, dtype=float)
            out = out or cls(len(score))
            neg = np.flatnonzero(~pos)
            neg = neg[np.argsort(score[neg], kind="stable")]
            pos_rows = np.flatnonzero(pos)
            s_neg, s_pos = score[neg], score[pos_rows]
            if len(score) and np.all(
                score == score[0]
            ):  # one tie group (a prior): 0.5 whenever both classes occur
                out.columns.append((neg, pos_rows, None, None))
                continue
            lt = np.searchsorted(s_neg, s_pos, side="left")
            le = np.searchsorted(s_neg, s_pos, side="right")
            out.columns.append((neg, pos_rows, lt, None if np.array_equal(lt, le) else le))
        return out

    def values(self, weights: np.ndarray) -> np.ndarray:
        """AUC for each column of ``weights``, an integer ``(n_rows, n_resamples)`` matrix of row counts."""
        result = np.zeros(weights.shape[1])
        for neg, pos_rows, lt, le in self.columns:
            if lt is None:
                both = (weights[neg].sum(axis=0) > 0) & (weights[pos_rows].sum(axis=0) > 0)
                result += np.where(both, 0.5, np.nan)
                continue
            cum = np.zeros((len(neg) + 1, weights.shape[1]), dtype=weights.dtype)
            np.cumsum(weights[neg], axis=0, out=cum[1:])  # exact in integers
            wp = weights[pos_rows]
            num = (wp * cum[lt]).sum(axis=0, dtype=np.int64)
            if le is not None:  # ties count half
                num = 0.5 * (num + (wp * cum[le]).sum(axis=0, dtype=np.int64))
            with np.errstate(divide="ignore", invalid="ignore"):
                result += num / (wp.sum(axis=0, dtype=np.int64) * cum[-1].astype(np.int64))
        return result / len(self.columns)


@dataclass
class _Uplift:
    """Qini coefficient or AUUC from resampled row weights.

    Rows are sorted by score once; on a resample the curves' running sums
    (rows, treated rows, outcomes of treated and of control rows) are
    weighted cumulative sums evaluated at the end of each tie group, which
    is exactly the metric on the resample with its rows repeated.
    """

    n_rows: int
    kind: str  # "qini" or "auuc"
    order: np.ndarray
    starts: np.ndarray | None  # tie groups in score order (None: no ties)
    pieces: np.ndarray  # (n_rows, 3) in score order: t, y*t, y*(1-t)

    @classmethod
    def build(cls, kind, score, treatment, outcome):
        s = np.asarray(score, dtype=float)
        t = np.asarray(treatment)
        if not np.all(np.isin(np.unique(t), [0, 1])):
            raise ValueError("uplift metrics need a 0/1 treatment")
        t = t.astype(float)
        y = np.asarray(outcome, dtype=float)
        order = np.argsort(-s, kind="stable")
        ss = s[order]
        starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
        pieces = np.column_stack([t, y * t, y * (1.0 - t)])[order]
        return cls(len(s), kind, order, None if len(starts) == len(s) else starts, pieces)

    def values(self, weights: np.ndarray) -> np.ndarray:
        w = weights[self.order].astype(float)  # (n_rows, c) in score order
        parts = [w] + [w * self.pieces[:, [j]] for j in range(3)]
        if self.starts is not None:
            parts = [np.add.reduceat(p, self.starts, axis=0) for p in parts]
        n, n_t, y_t, y_c = (np.cumsum(p, axis=0) for p in parts)
        n_c = n - n_t
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.kind == "qini":
                curve = np.where(n_c > 0, y_t - y_c * n_t / n_c, y_t)
            else:
                curve = np.where((n_t > 0) & (n_c > 0), (y_t / n_t - y_c / n_c) * n, 0.0)
            total = n[-1]
            x = np.vstack([np.zeros((1, w.shape[1])), n]) / total
            v = np.vstack([np.zeros((1, w.shape[1])), curve]) / total
            area = np.sum((x[1:] - x[:-1]) * (v[1:] + v[:-1]) / 2.0, axis=0)
            if self.kind == "qini":  # minus the random line from (0, 0) to (1, Q(N)/N)
                area = area - np.sum((x[1:] - x[:-1]) * (x[1:] + x[:-1]) * v[-1] / 2.0, axis=0)
        return area


@dataclass
class _Loop:
    """Any metric, recomputed by calling it on each resample's rows.

    The rows are passed in fold order, each repeated as often as drawn (as
    the fold's own score sees them); this matters only for metrics that
    depend on row order, such as ``uplift@k%`` breaking ties at its cut.
    """

    n_rows: int
    score: Callable[[np.ndarray], float]  # row indices -> float

    def values(self, weights: np.ndarray) -> np.ndarray:
        rows = np.arange(self.n_rows)
        out = np.empty(weights.shape[1])
        for j in range(weights.shape[1]):
            try:
                out[j] = self.score(np.repeat(rows, weights[:, j]))
            except (
                ValueError,
                ZeroDivisionError,
                FloatingPointError,
            ):  # e.g. one class in a resample
                out[j] = np.nan
        return out


def _col(x) -> np.ndarray:
    return np.asarray(x, dtype=float).reshape(-1, 1)


def _ones(n) -> np.ndarray:
    return np.ones((n, 1))


def _rmse(t, p):
    return _Additive(
        np.hstack([_ones(len(t)), _col((t - p) ** 2)]), lambda s: np.sqrt(s[:, 1] / s[:, 0])
    )


def _mean_of(v):
    v = np.asarray(v, dtype=float)
    return _Additive(np.hstack([_ones(len(v)), _col(v)]), lambda s: s[:, 1] / s[:, 0])


def _r2(t, p):
    tc = t - t.mean()  # shift-invariant; centring avoids cancellation in sum(t^2) - sum(t)^2/n

    def finish(s):
        sst = s[:, 2] - s[:, 1] ** 2 / s[:, 0]
        sse = s[:, 3]
        tiny = sst <= 1e-12 * np.maximum(s[:, 2], 1e-300)
        return np.where(tiny, np.where(sse == 0, 1.0, 0.0), 1.0 - sse / np.where(tiny, 1.0, sst))

    return _Additive(np.column_stack([np.ones(len(t)), tc, tc**2, (t - p) ** 2]), finish)


def _nanmean_of(v):
    v = np.asarray(v, dtype=float)
    ok = np.isfinite(v)
    return _Additive(
        np.column_stack([ok.astype(float), np.where(ok, v, 0.0)]), lambda s: s[:, 1] / s[:, 0]
    )


def _proba_pieces(y_true, proba, labels):
    from uniml.evaluation.metrics.classification import _proba_matrix

    return _proba_matrix(y_true, proba, labels)


def _log_loss(y, proba, labels, eps=1e-15):
    onehot, p = _proba_pieces(y, proba, labels)
    p = np.clip(p, eps, 1.0 - eps)
    p = p / p.sum(axis=1, keepdims=True)
    return _mean_of(-np.sum(onehot * np.log(p), axis=1))


def _brier(y, proba, labels):
    onehot, p = _proba_pieces(y, proba, labels)
    if p.shape[1] == 2:
        return _mean_of((p[:, 1] - onehot[:, 1]) ** 2)
    return _mean_of(np.sum((p - onehot) ** 2, axis=1))


def _ece(y, proba, labels, n_bins=10):
    onehot, p = _proba_pieces(y, proba, labels)
    confidence = p.max(axis=1)
    correct = onehot[np.arange(len(p)), p.argmax(axis=1)]
    which = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    stats = np.zeros((len(p), n_bins + 1))
    stats[:, 0] = 1.0
    stats[np.arange(len(p)), which + 1] = correct - confidence
    return _Additive(stats, lambda s: np.abs(s[:, 1:]).sum(axis=1) / s[:, 0])


def _f1(y, y_pred, labels):
    y, y_pred = np.asarray(y), np.asarray(y_pred)
    labels = np.unique(np.concatenate([y, y_pred])) if labels is None else np.asarray(labels)
    classes = labels[-1:] if len(labels) <= 2 else labels
    cols = []
    for c in classes:
        t, q = y == c, y_pred == c
        cols += [2.0 * (t & q), (~t & q).astype(float) + (t & ~q)]

    def finish(s):
        num, den = s[:, 0::2], s[:, 0::2] + s[:, 1::2]
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0).mean(axis=1)

    return _Additive(np.column_stack(cols), finish)


def _roc_auc(y, proba, labels):
    p = np.asarray(proba, dtype=float)
    y = np.asarray(y)
    if p.ndim == 1:
        pos = (y == np.asarray(labels)[-1]) if labels is not None else y == np.unique(y)[-1]
        return _RocAuc.build([pos], [p])
    labels = np.unique(y) if labels is None else np.asarray(labels)
    return _RocAuc.build([y == c for c in labels], [p[:, j] for j in range(p.shape[1])])


def kernel(metric, source: dict):
    """The per-row form of a built-in metric on one fold's predictions, or None if it has none.

    Parameters
    ----------
    metric : uniml.evaluation.metrics.Metric
    source : dict
        The fold's arrays as the harness scores them (``y_true``, ``y_pred``,
        ``proba``, ``labels``, ``intervals``, ``scale``, ``true_effect``,
        ``effect``, ``user_values``).

    Returns
    -------
    object or None
        An object whose ``values(...)`` recomputes the metric for resampled
        row weights: from per-row statistics for the built-in metrics, by
        calling the function on each resample's rows for user callables
        and uplift metrics; None for metrics without a per-row form
        (catalogue coverage, user metrics of recommendations).

    Examples
    --------
    >>> import numpy as np
    >>> from uniml.evaluation.metrics import get_metric
    >>> k = kernel(get_metric("regression", "rmse"), {"y_true": np.array([0.0, 0.0]), "y_pred": np.array([3.0, 4.0])})
    >>> float(k.values(k.stats.sum(axis=0, keepdims=True))[0])
    3.5355339059327378
    """
    from uniml.evaluation.metrics import causal, classification, forecasting, ranking, regression

    f, src, opts = metric.func, metric.source, dict(metric.options)
    try:
        if (
            src == "pred"
            and "y_true" in source
            and f
            in (regression.rmse, regression.mae, regression.r2, regression.mape, forecasting.smape)
        ):
            t = np.asarray(source["y_true"], dtype=float)
            p = np.asarray(source["y_pred"], dtype=float)
            if f is regression.rmse:
                return _rmse(t, p)
            if f is regression.mae:
                return _mean_of(np.abs(t - p))
            if f is regression.r2:
                return _r2(t, p)
            if f is regression.mape:
                return _mean_of(np.abs(t - p) / np.maximum(np.abs(t), np.finfo(float).eps))
            den = np.abs(t) + np.abs(p)
            with np.errstate(invalid="ignore", divide="ignore"):
                return _mean_of(np.where(den == 0, 0.0, 2.0 * np.abs(t - p) / den))
        if src == "proba" and source.get("proba") is not None:
            y, proba, labels = source["y_true"], source["proba"], source.get("labels")
            if f is classification.roc_auc:
                return _roc_auc(y, proba, labels)
            if f is classification.log_loss:
                return _log_loss(y, proba, labels)
            if f is classification.brier:
                return _brier(y, proba, labels)
            if f is classification.ece:
                return _ece(y, proba, labels, **opts)
        if src == "label" and f is classification.f1:
            return _f1(source["y_true"], source["y_pred"], source.get("labels"))
        if src == "scaled" and f is forecasting.mase:
            t = np.asarray(source["y_true"], dtype=float)
            p = np.asarray(source["y_pred"], dtype=float)
            s = np.broadcast_to(np.asarray(source["scale"], dtype=float), t.shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                return _nanmean_of(np.where(s > 0, np.abs(t - p) / s, np.nan))
        if src == "interval" and f in (forecasting.coverage, forecasting.width):
            lo, hi = source.get("intervals", {}).get(opts["level"], (None, None))
            if lo is None:
                return None
            t = np.asarray(source["y_true"], dtype=float)
            if f is forecasting.coverage:
                return _mean_of((t >= lo) & (t <= hi))
            return _mean_of(np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float))
        if (
            src == "effect"
            and source.get("true_effect") is not None
            and f in (causal.pehe, causal.ate_error)
        ):
            e = np.asarray(source["effect"], dtype=float) - np.asarray(
                source["true_effect"], dtype=float
            )
            if f is causal.pehe:
                return _rmse(e, np.zeros_like(e))
            return _Additive(
                np.hstack([_ones(len(e)), _col(e)]), lambda s: np.abs(s[:, 1] / s[:, 0])
            )
        if src == "ranking" and source.get("user_values") is not None:
            v = source["user_values"].get(metric.name)
            if v is None or f not in (
                ranking.precision_at_k,
                ranking.recall_at_k,
                ranking.ndcg_at_k,
                ranking.map_at_k,
                ranking.hit_rate_at_k,
            ):
                return None
            return _mean_of(v)
        if (
            src == "pred"
            and isinstance(source.get("y_true"), np.ndarray)
            and isinstance(source.get("y_pred"), np.ndarray)
        ):
            t, p = source["y_true"], source["y_pred"]  # a user metric: called once per resample
            return _Loop(len(t), lambda i: float(f(t[i], p[i])))
        if src == "uplift" and source.get("effect") is not None:
            e, tr, y = (np.asarray(source[k]) for k in ("effect", "treatment", "outcome"))
            if f in (causal.qini, causal.auuc):
                return _Uplift.build("qini" if f is causal.qini else "auuc", e, tr, y)
            return _Loop(len(e), lambda i: float(f(e[i], tr[i], y[i], **opts)))
    except (ValueError, KeyError, IndexError):  # the fold's own score says what is wrong
        return None
    return None


def user_values(metric, recs, truth) -> np.ndarray | None:
    """Per-user values of a ranking metric, in the order of the users of ``truth`` (their mean is the metric).

    Examples
    --------
    >>> import pandas as pd
    >>> from uniml.evaluation.metrics import get_metric
    >>> recs = pd.DataFrame({"user": [1, 2], "item": ["a", "a"], "rank": [1, 1]})
    >>> user_values(get_metric("recommendation", "hit_rate@1"), recs,
    ...             pd.DataFrame({"user": [1, 2], "item": ["a", "b"]})).tolist()
    [1.0, 0.0]
    """
    from uniml.evaluation.metrics import ranking

    k = int(dict(metric.options).get("k", 10))
    f = metric.func
    if f not in (
        ranking.precision_at_k,
        ranking.recall_at_k,
        ranking.ndcg_at_k,
        ranking.map_at_k,
        ranking.hit_rate_at_k,
    ):
        return None
    hits, n_rel = ranking._hits(recs, truth, k, "user", "item")
    if f is ranking.precision_at_k:
        return hits.sum(axis=1) / k
    if f is ranking.recall_at_k:
        return hits.sum(axis=1) / n_rel
    if f is ranking.hit_rate_at_k:
        return hits.any(axis=1).astype(float)
    if f is ranking.ndcg_at_k:
        disc = 1.0 / np.log2(np.arange(2, k + 2))
        ideal = np.cumsum(disc)[np.minimum(n_rel, k).astype(int) - 1]
        return (hits * disc).sum(axis=1) / ideal
    prec = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return (prec * hits).sum(axis=1) / np.minimum(n_rel, k)


# ----------------------------------------------------------------------------- the engine
class RowBootstrap:
    """Paired resampling of the out-of-fold units of an evaluation, shared by all models and metrics.

    Parameters
    ----------
    units : dict
        Fold id -> int array mapping each test row of the fold (in the order
        the models' predictions come) to its resampling unit ``0..n_units-1``
        (``numpy.arange(n_rows)`` for rows).
    n_boot : int
    seed : int, None or sequence of int
        The draws of fold ``f`` (the ``f``-th fold in ``units`` order) come
        from ``numpy.random.default_rng(SeedSequence(seed).spawn(n_folds)[f])``:
        ``integers(0, n_units, size=(n_boot, n_units), dtype=numpy.int32)``
        (int64 beyond 2**31 units), drawn in chunks of resamples (the same
        stream as one draw).

    Examples
    --------
    >>> import numpy as np
    >>> from uniml.evaluation.metrics import get_metric
    >>> rng = np.random.default_rng(0)
    >>> t = rng.normal(size=200)
    >>> boot = RowBootstrap({0: np.arange(100), 1: np.arange(100)}, n_boot=500, seed=0)
    >>> rmse = get_metric("regression", "rmse")
    >>> for fold, rows in ((0, slice(0, 100)), (1, slice(100, 200))):
    ...     boot.add("good", "rmse", fold, kernel(rmse, {"y_true": t[rows], "y_pred": t[rows] + 0.1}))
    ...     boot.add("bad", "rmse", fold, kernel(rmse, {"y_true": t[rows], "y_pred": t[rows] + 0.5}))
    >>> boot.run()
    >>> r = boot.compare("bad", "good", "rmse")
    >>> # a constant shift of 0.4: every resample's difference is 0.4 up to rounding
    >>> round(r["diff"], 6), round(r["ci_low"], 9) == round(r["ci_high"], 9) == 0.4, r["n"]
    (0.4, True, 200)
    """

    def __init__(self, units: dict, n_boot: int = 2000, seed=0):
        if n_boot < 1:
            raise ValueError(f"n_boot must be >= 1, got {n_boot}")
        self.units = {f: np.asarray(u, dtype=np.int64) for f, u in units.items()}
        self.n_units = {f: int(u.max()) + 1 if len(u) else 0 for f, u in self.units.items()}
        self.n_boot = int(n_boot)
        self.seed = seed
        self._kernels: dict = {}  # (model, metric) -> {fold: kernel}
        self._points: dict = {}  # (model, metric) -> {fold: value}
        self._draws: dict = {}  # (model, metric) -> {fold: (n_boot,) values}

    def add(self, model: str, metric: str, fold, k) -> None:
        """Register the per-row kernel of ``model``'s ``metric`` on ``fold`` (None: no per-row form).

        Examples
        --------
        >>> RowBootstrap({0: [0, 1]}, n_boot=2).add("m", "rmse", 0, None)
        """
        self._kernels.setdefault((model, metric), {})[fold] = k

    def supports(self, model: str, metric: str) -> bool:
        """Whether ``model``'s ``metric`` has a per-row form on every fold it was scored on.

        Examples
        --------
        >>> RowBootstrap({0: [0]}, n_boot=2).supports("m", "rmse")
        False
        """
        ks = self._kernels.get((model, metric))
        if not ks:
            return False
        return all(k is not None for k in ks.values())

    def _seeds(self):
        seed = self.seed
        if not (
            seed is None
            or isinstance(seed, (int, np.integer))
            or (
                isinstance(seed, (list, tuple))
                and all(isinstance(s, (int, np.integer)) for s in seed)
            )
        ):
            seed = int(np.random.default_rng(seed).integers(2**63))
        return np.random.SeedSequence(seed).spawn(len(self.units))

    def run(self, n_jobs: int = 1) -> None:
        """Draw the resamples and compute every registered metric on each (fills :meth:`compare`).

        Parameters
        ----------
        n_jobs : int, default 1
            Threads over folds (numpy releases the GIL in the heavy steps).
            Each fold has its own seeded stream, so the result is identical
            whatever ``n_jobs`` is.

        Examples
        --------
        >>> RowBootstrap({0: [0, 1, 2]}, n_boot=3).run()
        """
        keys = [key for key in self._kernels if self.supports(*key)]
        tasks = [
            (fold, units, ss, keys)
            for (fold, units), ss in zip(self.units.items(), self._seeds(), strict=True)
        ]
        if n_jobs is not None and n_jobs > 1 and len(tasks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            from threadpoolctl import threadpool_limits

            with (
                threadpool_limits(limits=1),
                ThreadPoolExecutor(max_workers=min(n_jobs, len(tasks))) as pool,
            ):
                results = list(pool.map(lambda t: self._fold(*t), tasks))
        else:
            results = [self._fold(*t) for t in tasks]
        for (fold, *_), (points, draws) in zip(tasks, results, strict=True):
            for key, value in points.items():
                self._points.setdefault(key, {})[fold] = value
            for key, value in draws.items():
                self._draws.setdefault(key, {})[fold] = value

    def _fold(self, fold, units, ss, keys) -> tuple[dict, dict]:
        """Point values and resampled values of every metric registered on one fold."""
        ks = [(key, self._kernels[key][fold]) for key in keys if fold in self._kernels[key]]
        if not ks:
            return {}, {}
        n_u, n_rows = self.n_units[fold], len(units)
        if n_u == 0:  # an empty test fold: nothing to score or resample
            return {key: float("nan") for key, _ in ks}, {
                key: np.full(self.n_boot, np.nan) for key, _ in ks
            }
        rows_are_units = n_u == n_rows and np.array_equal(units, np.arange(n_rows))
        additive = [(key, k) for key, k in ks if isinstance(k, _Additive)]
        ranked = [(key, k) for key, k in ks if not isinstance(k, _Additive)]
        stats = np.hstack([k.stats for _, k in additive]) if additive else np.zeros((n_rows, 0))
        spans = np.cumsum([0] + [k.stats.shape[1] for _, k in additive])
        if not rows_are_units:  # sum the row statistics per unit once
            unit_stats = np.zeros((n_u, stats.shape[1]))
            np.add.at(unit_stats, units, stats)
        else:
            unit_stats = stats
        points = {}
        sums = np.ones((1, n_rows)) @ stats
        for i, (key, k) in enumerate(additive):
            points[key] = float(k.values(sums[:, spans[i] : spans[i + 1]])[0])
        for key, k in ranked:
            points[key] = float(k.values(np.ones((n_rows, 1), dtype=np.int32))[0])
        out = {key: np.empty(self.n_boot) for key, _ in ks}
        rng = np.random.default_rng(ss)
        chunk = max(1, min(self.n_boot, _CHUNK_ELEMENTS // max(n_u, n_rows, 1)))
        counts = np.empty((chunk, n_u), dtype=np.int32)  # resample x unit
        for start in range(0, self.n_boot, chunk):
            c = min(chunk, self.n_boot - start)
            idx = rng.integers(0, n_u, size=(c, n_u), dtype=_index_dtype(n_u))
            counts = counts[:c]
            for i in range(c):  # one resample at a time: its counts stay in cache
                counts[i] = np.bincount(idx[i], minlength=n_u)
            if additive:
                sums = counts.astype(float) @ unit_stats
                for i, (key, k) in enumerate(additive):
                    out[key][start : start + c] = k.values(sums[:, spans[i] : spans[i + 1]])
            if (
                ranked
            ):  # row x resample, so that gathering rows in score order reads contiguous memory
                weights = np.ascontiguousarray(counts.T if rows_are_units else counts[:, units].T)
                for key, k in ranked:
                    out[key][start : start + c] = k.values(weights)
        return points, out

    def compare(
        self, model: str, reference: str, metric: str, confidence: float = 0.95
    ) -> dict | None:
        """Paired difference ``model - reference`` of the mean over folds, with percentile intervals.

        Only folds where both models have a finite score count. Returns None
        when either model's metric has no per-row form.

        Returns
        -------
        dict or None
            Like :func:`paired_bootstrap`, with ``n`` the number of units
            resampled (summed over the folds) and ``n_folds``.

        Examples
        --------
        >>> RowBootstrap({0: [0]}, n_boot=2).compare("a", "b", "rmse") is None
        True
        """
        ka, kb = (model, metric), (reference, metric)
        if ka not in self._draws or kb not in self._draws:
            return None
        pa, pb = self._points[ka], self._points[kb]
        folds = [f for f in pa if f in pb and math.isfinite(pa[f]) and math.isfinite(pb[f])]
        if not folds:
            return None
        mean_a = float(np.mean([pa[f] for f in folds]))
        mean_b = float(np.mean([pb[f] for f in folds]))
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", RuntimeWarning
            )  # a resample where a fold's metric is undefined
            ma = np.nanmean(np.vstack([self._draws[ka][f] for f in folds]), axis=0)
            mb = np.nanmean(np.vstack([self._draws[kb][f] for f in folds]), axis=0)
        out = _summary(mean_a, mean_b, ma, mb, confidence, sum(self.n_units[f] for f in folds))
        out["n_folds"] = len(folds)
        return out
