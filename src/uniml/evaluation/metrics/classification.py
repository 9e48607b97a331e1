"""Classification metrics: ROC AUC, log loss, Brier score, F1 and expected calibration error.

Probability metrics take ``(y_true, proba)`` where ``proba`` is the
positive-class probability (binary) or an ``(n, n_classes)`` matrix whose
columns follow ``labels`` (multiclass); F1 takes predicted labels.

Examples
--------
>>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
0.75
"""

from __future__ import annotations

import numpy as np

__all__ = ["brier", "ece", "f1", "log_loss", "roc_auc"]


def _onehot(y_true, labels):
    y = np.asarray(y_true)
    labels = np.asarray(labels)
    out = (y[:, None] == labels[None, :]).astype(float)
    unknown = out.sum(axis=1) == 0
    if unknown.any():
        raise ValueError(
            f"label {y[unknown][0]!r} is not among the model's classes {labels.tolist()}"
        )
    return out


def _proba_matrix(y_true, proba, labels):
    p = np.asarray(proba, dtype=float)
    if labels is None:
        labels = np.unique(np.asarray(y_true))
    labels = np.asarray(labels)
    if p.ndim == 1:
        if len(labels) > 2:
            raise ValueError(
                f"1-d probabilities need a binary target, got classes {labels.tolist()}"
            )
        p = np.column_stack([1.0 - p, p])
        if len(labels) == 1:
            raise ValueError(
                "a binary probability needs both class labels; pass labels=[negative, positive]"
            )
    return _onehot(y_true, labels), p


def roc_auc(y_true, proba, labels=None) -> float:
    """Area under the ROC curve (one-vs-rest macro average for multiclass).

    Parameters
    ----------
    y_true : array-like
        True class labels.
    proba : array-like of float
        Positive-class probability (binary) or an ``(n, n_classes)`` matrix.
    labels : array-like, optional
        Class order of the matrix columns (binary: ``[negative, positive]``).

    Returns
    -------
    float
        In [0, 1]; 0.5 for a random ranking, higher is better.

    Examples
    --------
    >>> roc_auc([0, 1, 0, 1], [0.2, 0.9, 0.3, 0.6])
    1.0
    """
    from sklearn.metrics import roc_auc_score

    p = np.asarray(proba, dtype=float)
    y = np.asarray(y_true)
    if p.ndim == 1:
        if labels is not None:
            y = y == np.asarray(labels)[-1]
        return float(roc_auc_score(y, p))
    return float(roc_auc_score(y, p, multi_class="ovr", labels=labels))


def log_loss(y_true, proba, labels=None, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of the true class (probabilities clipped to ``[eps, 1-eps]``).

    Parameters
    ----------
    y_true : array-like
        True class labels.
    proba : array-like of float
        Positive-class probability (binary) or an ``(n, n_classes)`` matrix.
    labels : array-like, optional
        Class order of the matrix columns (binary: ``[negative, positive]``);
        default the sorted classes of ``y_true``.
    eps : float, default 1e-15
        Clipping bound; rows are renormalised after clipping.

    Returns
    -------
    float
        Lower is better.

    Raises
    ------
    ValueError
        A label of ``y_true`` is not in ``labels``, or the probabilities do not fit the classes.

    Examples
    --------
    >>> round(log_loss([0, 1], [0.5, 0.5], labels=[0, 1]), 6)
    0.693147
    """
    onehot, p = _proba_matrix(y_true, proba, labels)
    p = np.clip(p, eps, 1.0 - eps)
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.sum(onehot * np.log(p), axis=1)))


def brier(y_true, proba, labels=None) -> float:
    """Brier score: mean squared error of the probabilities.

    Binary: ``mean((p - y)^2)`` on the positive class (scikit-learn's
    ``brier_score_loss``); multiclass: mean over rows of the summed squared
    error across classes.

    Parameters
    ----------
    y_true : array-like
        True class labels.
    proba : array-like of float
        Positive-class probability (binary) or an ``(n, n_classes)`` matrix.
    labels : array-like, optional
        Class order of the matrix columns (binary: ``[negative, positive]``);
        default the sorted classes of ``y_true``.

    Returns
    -------
    float
        Lower is better.

    Raises
    ------
    ValueError
        A label of ``y_true`` is not in ``labels``, or the probabilities do not fit the classes.

    Examples
    --------
    >>> brier([0, 1], [0.0, 0.5], labels=[0, 1])
    0.125
    """
    onehot, p = _proba_matrix(y_true, proba, labels)
    if p.shape[1] == 2:
        return float(np.mean((p[:, 1] - onehot[:, 1]) ** 2))
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def f1(y_true, y_pred, labels=None) -> float:
    """F1 score: binary for two classes (positive = the last label), macro average otherwise.

    Parameters
    ----------
    y_true : array-like
        True class labels.
    y_pred : array-like
        Predicted class labels.
    labels : array-like, optional
        The classes, positive last for a binary target; default the sorted
        labels seen in ``y_true`` and ``y_pred``.

    Returns
    -------
    float
        In [0, 1] (0 when a class is never predicted); higher is better.

    Examples
    --------
    >>> f1([0, 1, 1, 0], [0, 1, 0, 0])
    0.6666666666666666
    """
    from sklearn.metrics import f1_score

    y = np.asarray(y_true)
    labels = (
        np.unique(np.concatenate([y, np.asarray(y_pred)])) if labels is None else np.asarray(labels)
    )
    if len(labels) <= 2:
        return float(f1_score(y, y_pred, pos_label=labels[-1], average="binary", zero_division=0.0))
    return float(f1_score(y, y_pred, labels=labels, average="macro", zero_division=0.0))


def calibration_bins(y_true, proba, labels=None, n_bins: int = 10):
    """Top-label reliability table: per equal-width confidence bin, count, mean confidence and accuracy.

    Parameters
    ----------
    y_true : array-like
        True class labels.
    proba : array-like of float
        Positive-class probability (binary) or an ``(n, n_classes)`` matrix.
    labels : array-like, optional
        Class order of the matrix columns (binary: ``[negative, positive]``);
        default the sorted classes of ``y_true``.
    n_bins : int, default 10
        Number of equal-width confidence bins over [0, 1].

    Returns
    -------
    tuple of numpy.ndarray
        ``(count, confidence, accuracy)``, each of length ``n_bins`` (NaN in empty bins).

    Examples
    --------
    >>> count, conf, acc = calibration_bins([0, 1], [0.1, 0.8], labels=[0, 1], n_bins=2)
    >>> count.tolist()
    [0.0, 2.0]
    """
    onehot, p = _proba_matrix(y_true, proba, labels)
    return reliability_bins(p.max(axis=1), onehot[np.arange(len(p)), p.argmax(axis=1)], n_bins)


def reliability_bins(confidence, correct, n_bins: int = 10):
    """Per equal-width confidence bin: count, mean confidence and accuracy.

    Parameters
    ----------
    confidence : array-like of float
        Each row's probability of the label predicted for it, in [0, 1].
    correct : array-like of bool or float
        Whether that predicted label was right.
    n_bins : int, default 10
        Number of equal-width bins over [0, 1]; a confidence on an edge goes to the
        lower bin.

    Returns
    -------
    tuple of numpy.ndarray
        ``(count, confidence, accuracy)``, each of length ``n_bins`` (NaN in empty bins).

    Examples
    --------
    >>> count, conf, acc = reliability_bins([0.4, 0.9, 0.95], [True, True, False], n_bins=2)
    >>> count.tolist(), acc.tolist()
    ([1.0, 2.0], [1.0, 0.5])
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    which = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, confidence, minlength=n_bins) / count
        acc = np.bincount(which, correct, minlength=n_bins) / count
    return count, conf, acc


def ece(y_true, proba, labels=None, n_bins: int = 10) -> float:
    """Expected calibration error (top-label, ``n_bins`` equal-width bins, Guo et al. 2017).

    ``sum_b (n_b / n) * |accuracy_b - confidence_b|``.

    Parameters
    ----------
    y_true : array-like
        True class labels.
    proba : array-like of float
        Positive-class probability (binary) or an ``(n, n_classes)`` matrix.
    labels : array-like, optional
        Class order of the matrix columns (binary: ``[negative, positive]``);
        default the sorted classes of ``y_true``.
    n_bins : int, default 10
        Number of equal-width confidence bins over [0, 1].

    Returns
    -------
    float
        In [0, 1]; lower is better.

    Examples
    --------
    >>> ece([0, 1, 1, 1], [0.1, 0.9, 0.9, 0.9], labels=[0, 1])
    0.1
    """
    count, conf, acc = calibration_bins(y_true, proba, labels, n_bins)
    full = count > 0
    return float(np.sum(count[full] / count.sum() * np.abs(acc[full] - conf[full])))
