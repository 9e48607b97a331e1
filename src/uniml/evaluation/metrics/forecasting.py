"""Forecast accuracy metrics: MAE, RMSE, sMAPE, MASE, interval coverage and width.

Examples
--------
>>> smape([100.0, 200.0], [110.0, 180.0])
0.10025062656641603
"""

from __future__ import annotations

import numpy as np

from uniml.evaluation.metrics.regression import mae, rmse

__all__ = ["coverage", "mae", "mase", "mase_scale", "rmse", "smape", "width"]


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE as a fraction in [0, 2]: ``mean(2|y - f| / (|y| + |f|))`` (0/0 counts as 0).

    Parameters
    ----------
    y_true, y_pred : array-like of float
        Actual and forecast values, of equal length.

    Returns
    -------
    float
        In [0, 2]; lower is better.

    Examples
    --------
    >>> smape([1.0, 0.0], [1.0, 0.0])
    0.0
    """
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    den = np.abs(t) + np.abs(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den == 0, 0.0, 2.0 * np.abs(t - p) / den)
    return float(np.mean(ratio))


def mase_scale(history, season: int = 1) -> float:
    """In-sample MAE of the (seasonal) naive forecast on ``history``: the MASE denominator.

    Parameters
    ----------
    history : array-like of float
        A series' training values in time order; NaNs are dropped.
    season : int, default 1
        Lag of the naive forecast (1: last value; the season length: seasonal naive).

    Returns
    -------
    float
        ``mean(|h[t] - h[t - season]|)``; NaN when the history has at most ``season`` values.

    Examples
    --------
    >>> mase_scale([1.0, 2.0, 4.0])
    1.5
    """
    h = np.asarray(history, dtype=float)
    h = h[~np.isnan(h)]
    if len(h) <= season:
        return float("nan")
    return float(np.mean(np.abs(h[season:] - h[:-season])))


def mase(y_true, y_pred, scale) -> float:
    """Mean absolute scaled error: mean of ``|y - f| / scale`` (``scale`` per row or a scalar).

    Parameters
    ----------
    y_true, y_pred : array-like of float
        Actual and forecast values, of equal length.
    scale : float or array-like
        :func:`mase_scale` of each row's series training history.

    Returns
    -------
    float
        Below 1 beats the naive forecast in-sample; rows with a scale that is
        not positive are left out (NaN when none is left).

    Examples
    --------
    >>> mase([2.0, 4.0], [1.0, 4.0], scale=2.0)
    0.25
    """
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    s = np.broadcast_to(np.asarray(scale, dtype=float), t.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.nanmean(np.where(s > 0, np.abs(t - p) / s, np.nan)))


def coverage(y_true, lower, upper) -> float:
    """Share of actuals inside ``[lower, upper]``.

    Parameters
    ----------
    y_true : array-like of float
        Actual values.
    lower, upper : array-like of float
        Interval bounds of each forecast (bounds included).

    Returns
    -------
    float
        In [0, 1]; closest to the interval's nominal level is best.

    Examples
    --------
    >>> coverage([1.0, 5.0], [0.0, 0.0], [2.0, 2.0])
    0.5
    """
    t = np.asarray(y_true, dtype=float)
    return float(
        np.mean((t >= np.asarray(lower, dtype=float)) & (t <= np.asarray(upper, dtype=float)))
    )


def width(lower, upper) -> float:
    """Mean interval width.

    Parameters
    ----------
    lower, upper : array-like of float
        Interval bounds of each forecast.

    Returns
    -------
    float
        ``mean(upper - lower)``; narrower is better at equal coverage.

    Examples
    --------
    >>> width([0.0, 1.0], [2.0, 2.0])
    1.5
    """
    return float(np.mean(np.asarray(upper, dtype=float) - np.asarray(lower, dtype=float)))
