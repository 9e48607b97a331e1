"""Causal metrics: errors against a known effect (ATE error, PEHE) and uplift metrics.

With the true effect known (simulations, semi-synthetic benchmarks):

* ``ate_error`` — ``|mean(predicted effect) - mean(true effect)|``;
* ``pehe`` — precision in estimating heterogeneous effects,
  ``sqrt(mean((predicted - true)^2))``.

Without it, on held-out *randomised* data (binary treatment ``t``, outcome
``y``), rows are ranked by predicted effect, best first, and for the top
``n`` rows:

* uplift curve ``U(n) = (mean y of treated - mean y of controls among the top n) * n``
  (0 while one arm is empty);
* Qini curve ``Q(n) = Y_t(n) - Y_c(n) * N_t(n) / N_c(n)`` (sums of outcomes
  ``Y`` and counts ``N`` per arm; 0 while there are no controls).

Curves are evaluated at the end of each group of tied scores (so a
constant score gives a straight line, as a random ranking would), scaled by
``1/N`` on both axes and integrated with the trapezoid rule:

* ``auuc`` — area under the scaled uplift curve;
* ``qini`` (Qini coefficient) — area between the scaled Qini curve and the
  random line from ``(0, 0)`` to ``(1, Q(N)/N)``: 0 for a random or
  constant ranking, positive when high scores find responders;
* ``uplift_at_k`` — treated minus control mean outcome in the top ``k`` share.

Examples
--------
>>> qini([2.0, 1.0, 0.0, -1.0], treatment=[1, 0, 1, 0], outcome=[1.0, 0.0, 0.0, 0.0])
0.09375
"""

from __future__ import annotations

import numpy as np

__all__ = ["ate_error", "auuc", "pehe", "qini", "qini_curve", "uplift_at_k", "uplift_curve"]


def ate_error(true_effect, effect) -> float:
    """Absolute error of the average treatment effect.

    Parameters
    ----------
    true_effect : array-like of float
        The known effect of each row.
    effect : array-like of float
        The predicted effect of each row.

    Returns
    -------
    float
        ``|mean(effect) - mean(true_effect)|``; lower is better.

    Examples
    --------
    >>> ate_error([1.0, 3.0], [2.5, 2.5])
    0.5
    """
    return float(
        abs(
            np.mean(np.asarray(effect, dtype=float)) - np.mean(np.asarray(true_effect, dtype=float))
        )
    )


def pehe(true_effect, effect) -> float:
    """Root mean squared error of the individual (conditional) effects.

    Parameters
    ----------
    true_effect : array-like of float
        The known effect of each row.
    effect : array-like of float
        The predicted effect of each row.

    Returns
    -------
    float
        ``sqrt(mean((effect - true_effect)^2))``; lower is better.

    Examples
    --------
    >>> pehe([1.0, 3.0], [1.0, 1.0])
    1.4142135623730951
    """
    t = np.asarray(true_effect, dtype=float)
    e = np.asarray(effect, dtype=float)
    return float(np.sqrt(np.mean((t - e) ** 2)))


def _cumulative(score, treatment, outcome):
    s = np.asarray(score, dtype=float)
    t = np.asarray(treatment)
    y = np.asarray(outcome, dtype=float)
    if not (len(s) == len(t) == len(y)) or len(s) == 0:
        raise ValueError(
            f"score, treatment and outcome need the same non-zero length, got {len(s)}, {len(t)}, {len(y)}"
        )
    values = np.unique(t)
    if not np.all(np.isin(values, [0, 1])):
        raise ValueError(f"uplift metrics need a 0/1 treatment, got values {values[:5].tolist()}")
    t = t.astype(float)
    order = np.argsort(-s, kind="stable")
    s, t, y = s[order], t[order], y[order]
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last row of each tie group
    n = ends + 1.0
    n_t = np.cumsum(t)[ends]
    n_c = n - n_t
    y_t = np.cumsum(y * t)[ends]
    y_c = np.cumsum(y * (1.0 - t))[ends]
    return n, n_t, n_c, y_t, y_c


def uplift_curve(score, treatment, outcome):
    """Points ``(n, U(n))`` of the cumulative uplift curve, starting at ``(0, 0)``.

    Parameters
    ----------
    score : array-like of float
        Predicted effect (uplift) of each row; higher is targeted first.
    treatment : array-like of {0, 1}
        Whether each row was treated (randomised assignment).
    outcome : array-like of float
        Observed outcome of each row.

    Returns
    -------
    tuple of numpy.ndarray
        ``n`` (rows targeted, at the end of each group of tied scores) and ``U(n)``.

    Raises
    ------
    ValueError
        Inputs of different or zero length, or a treatment that is not 0/1.

    Examples
    --------
    >>> uplift_curve([1.0, 0.0], [1, 0], [1.0, 0.0])[1].tolist()
    [0.0, 0.0, 2.0]
    """
    n, n_t, n_c, y_t, y_c = _cumulative(score, treatment, outcome)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where((n_t > 0) & (n_c > 0), (y_t / n_t - y_c / n_c) * n, 0.0)
    return np.r_[0.0, n], np.r_[0.0, u]


def qini_curve(score, treatment, outcome):
    """Points ``(n, Q(n))`` of the Qini curve, starting at ``(0, 0)``.

    Parameters
    ----------
    score : array-like of float
        Predicted effect (uplift) of each row; higher is targeted first.
    treatment : array-like of {0, 1}
        Whether each row was treated (randomised assignment).
    outcome : array-like of float
        Observed outcome of each row.

    Returns
    -------
    tuple of numpy.ndarray
        ``n`` (rows targeted, at the end of each group of tied scores) and ``Q(n)``.

    Raises
    ------
    ValueError
        Inputs of different or zero length, or a treatment that is not 0/1.

    Examples
    --------
    >>> qini_curve([1.0, 0.0], [1, 0], [1.0, 0.0])[1].tolist()
    [0.0, 1.0, 1.0]
    """
    n, n_t, n_c, y_t, y_c = _cumulative(score, treatment, outcome)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(n_c > 0, y_t - y_c * n_t / n_c, y_t)
    return np.r_[0.0, n], np.r_[0.0, q]


def _area(x, y) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def auuc(score, treatment, outcome) -> float:
    """Area under the uplift curve, both axes scaled by ``1/N``.

    Parameters
    ----------
    score : array-like of float
        Predicted effect (uplift) of each row; higher is targeted first.
    treatment : array-like of {0, 1}
        Whether each row was treated (randomised assignment).
    outcome : array-like of float
        Observed outcome of each row.

    Returns
    -------
    float
        Higher is better.

    Examples
    --------
    >>> auuc([1.0, 0.0], [1, 0], [1.0, 0.0])
    0.25
    """
    n, u = uplift_curve(score, treatment, outcome)
    total = n[-1]
    return _area(n / total, u / total)


def qini(score, treatment, outcome) -> float:
    """Qini coefficient: area between the scaled Qini curve and the random line.

    Parameters
    ----------
    score : array-like of float
        Predicted effect (uplift) of each row; higher is targeted first.
    treatment : array-like of {0, 1}
        Whether each row was treated (randomised assignment).
    outcome : array-like of float
        Observed outcome of each row.

    Returns
    -------
    float
        0 for a random or constant ranking; higher is better.

    Examples
    --------
    >>> qini([0.0, 0.0, 0.0, 0.0], [1, 0, 1, 0], [1.0, 0.0, 0.0, 0.0])  # constant score = random
    0.0
    """
    n, q = qini_curve(score, treatment, outcome)
    total = n[-1]
    x, yq = n / total, q / total
    return _area(x, yq) - _area(x, x * yq[-1])


def uplift_at_k(score, treatment, outcome, k: float = 0.3) -> float:
    """Treated minus control mean outcome among the top ``k`` share of rows by score.

    Ties at the cut are broken by input order (stable sort).

    Parameters
    ----------
    score : array-like of float
        Predicted effect (uplift) of each row; higher is targeted first.
    treatment : array-like of {0, 1}
        Whether each row was treated (randomised assignment).
    outcome : array-like of float
        Observed outcome of each row.

    k : float, default 0.3
        Share of the rows to target, in (0, 1]; at least one row is taken.

    Returns
    -------
    float
        NaN when the top rows hold no treated or no control row.

    Raises
    ------
    ValueError
        ``k`` outside (0, 1].

    Examples
    --------
    >>> uplift_at_k([3.0, 2.0, 1.0, 0.0], [1, 0, 1, 0], [5.0, 1.0, 0.0, 0.0], k=0.5)
    4.0
    """
    if not 0.0 < k <= 1.0:
        raise ValueError(f"k is a share of rows in (0, 1], got {k}")
    s = np.asarray(score, dtype=float)
    t = np.asarray(treatment, dtype=float)
    y = np.asarray(outcome, dtype=float)
    top = np.argsort(-s, kind="stable")[: max(1, int(np.ceil(k * len(s))))]
    tt, yy = t[top], y[top]
    if tt.sum() == 0 or (1 - tt).sum() == 0:
        return float("nan")
    return float(yy[tt == 1].mean() - yy[tt == 0].mean())
