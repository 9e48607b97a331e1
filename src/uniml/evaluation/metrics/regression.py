"""Regression metrics: RMSE, MAE, R² and MAPE on 1-d arrays.

Each function takes ``(y_true, y_pred)`` (array-likes of equal length) and
returns a float; they agree with scikit-learn's ``mean_squared_error`` (root),
``mean_absolute_error``, ``r2_score`` and ``mean_absolute_percentage_error``.

Examples
--------
>>> rmse([1.0, 2.0], [1.0, 4.0]), mae([1.0, 2.0], [1.0, 4.0])
(1.4142135623730951, 1.0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["mae", "mape", "r2", "rmse"]


def _pair(y_true, y_pred):
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("cannot score zero rows")
    return t, p


def rmse(y_true, y_pred) -> float:
    """Root mean squared error.

    Parameters
    ----------
    y_true, y_pred : array-like of float
        Actual and predicted values, of equal length.

    Returns
    -------
    float
        Lower is better.

    Raises
    ------
    ValueError
        Lengths differ or there are no rows.

    Examples
    --------
    >>> rmse([0.0, 0.0], [3.0, 4.0])
    3.5355339059327378
    """
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error.

    Parameters
    ----------
    y_true, y_pred : array-like of float
        Actual and predicted values, of equal length.

    Returns
    -------
    float
        Lower is better.

    Raises
    ------
    ValueError
        Lengths differ or there are no rows.

    Examples
    --------
    >>> mae([0.0, 0.0], [3.0, -4.0])
    3.5
    """
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination, ``1 - SSE / SST``.

    Follows scikit-learn's ``r2_score``: a constant ``y_true`` scores 1.0 for a
    perfect prediction and 0.0 otherwise.

    Parameters
    ----------
    y_true, y_pred : array-like of float
        Actual and predicted values, of equal length.

    Returns
    -------
    float
        At most 1.0 (perfect); negative when worse than predicting the mean.

    Raises
    ------
    ValueError
        Lengths differ or there are no rows.

    Examples
    --------
    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    """
    t, p = _pair(y_true, y_pred)
    sse = float(np.sum((t - p) ** 2))
    sst = float(np.sum((t - t.mean()) ** 2))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def mape(y_true, y_pred) -> float:
    """Mean absolute percentage error, as a fraction (0.1 = 10%).

    Like scikit-learn, a zero ``y_true`` is guarded by machine epsilon
    rather than dropped, so MAPE explodes on zero targets: prefer MAE there.

    Parameters
    ----------
    y_true, y_pred : array-like of float
        Actual and predicted values, of equal length.

    Returns
    -------
    float
        Lower is better.

    Raises
    ------
    ValueError
        Lengths differ or there are no rows.

    Examples
    --------
    >>> mape([10.0, 20.0], [11.0, 18.0])
    0.1
    """
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p) / np.maximum(np.abs(t), np.finfo(float).eps)))
