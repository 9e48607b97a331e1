"""Drift statistics on sorted samples and reference bins (numpy only).

Every function takes arrays already prepared by the profile (sorted values,
bin edges computed once from the reference) so that a monitoring run sorts
each current column once and reads everything else from that sort.

Examples
--------
>>> import numpy as np
>>> a, b = np.sort(np.array([0.0, 1.0, 3.0])), np.sort(np.array([5.0, 6.0, 8.0]))
>>> wasserstein_sorted(a, b), ks_sorted(a, b)
(5.0, 1.0)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "benjamini_hochberg",
    "bin_counts",
    "js_distance",
    "ks_sorted",
    "psi",
    "wasserstein_sorted",
]

#: proportions are clipped to this before the logarithm of PSI (empty bins)
PSI_EPS = 1e-4


def _quantile_l1(a: np.ndarray, b: np.ndarray) -> float:
    """``integral_0^1 |Q_a(u) - Q_b(u)| du`` for sorted ``a`` at least as long as ``b``.

    Each of ``a``'s quantile steps ``(i/n, (i+1)/n]`` meets at most one of
    ``b``'s breakpoints ``j/m`` (``n >= m``), so the integral is one pass over
    ``a`` with integer index arithmetic: no merge, no search.
    """
    n, m = a.size, b.size
    starts = (np.arange(m + 1, dtype=np.int64) * n + m - 1) // m  # first a-step of each b-step
    total = float(np.abs(a - np.repeat(b, np.diff(starts))).sum()) / n
    k = np.arange(1, m, dtype=np.int64)
    split = (k * n) % m != 0  # b's breakpoint k/m falls strictly inside a-step i
    k = k[split]
    i = (k * n) // m
    w_hi = (i + 1) / n - k / m  # the share of the step that belongs to b[k]
    total += float(np.dot(w_hi, np.abs(a[i] - b[k]) - np.abs(a[i] - b[k - 1])))
    return total


def wasserstein_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """First Wasserstein distance between two sorted samples (equal weights each).

    Parameters
    ----------
    a, b : numpy.ndarray
        Sorted 1-d float arrays, no NaN.

    Returns
    -------
    float
        ``integral |F_a(x) - F_b(x)| dx`` (``scipy.stats.wasserstein_distance``),
        computed as the L1 distance of the quantile functions in one pass.

    Examples
    --------
    >>> wasserstein_sorted(np.array([0.0, 1.0]), np.array([0.0, 2.0]))
    0.5
    """
    if a.size == 0 or b.size == 0:
        return float("nan")
    return _quantile_l1(a, b) if a.size >= b.size else _quantile_l1(b, a)


def ks_sorted(a: np.ndarray, b: np.ndarray, b_steps: tuple | None = None) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of two sorted samples.

    Parameters
    ----------
    a, b : numpy.ndarray
        Sorted 1-d float arrays, no NaN.
    b_steps : tuple of numpy.ndarray, optional
        ``b``'s own CDF at and just left of its points (``searchsorted(b, b, "right")``
        and ``"left"``), cached by a profile; used when ``b`` is the shorter sample.

    Returns
    -------
    float
        ``max |F_a - F_b|`` (the statistic of ``scipy.stats.ks_2samp``). Between
        two points of the shorter sample its CDF is constant and the other's
        increases, so the supremum is at those points or just left of them:
        ``O(m log n)`` for ``m`` the shorter length.

    Examples
    --------
    >>> ks_sorted(np.array([0.0, 1.0]), np.array([0.5, 2.0]))
    0.5
    """
    if a.size == 0 or b.size == 0:
        return float("nan")
    if a.size < b.size:
        a, b, b_steps = b, a, None
    n, m = a.size, b.size
    right, left = (
        b_steps
        if b_steps is not None
        else (
            np.searchsorted(b, b, "right"),
            np.searchsorted(b, b, "left"),
        )
    )
    at = np.abs(np.searchsorted(a, b, "right") / n - right / m)
    before = np.abs(np.searchsorted(a, b, "left") / n - left / m)
    return float(max(at.max(), before.max()))


def bin_counts(sorted_values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Counts per bin ``[e_{k-1}, e_k)`` with open outer bins, from a sorted sample.

    Parameters
    ----------
    sorted_values : numpy.ndarray
        Sorted sample without NaN.
    inner_edges : numpy.ndarray
        Increasing inner bin edges (``len(inner_edges) + 1`` bins).

    Returns
    -------
    numpy.ndarray
        Integer counts, one per bin.

    Examples
    --------
    >>> bin_counts(np.array([0.0, 1.0, 1.0, 5.0]), np.array([1.0, 2.0]))
    array([1, 2, 1])
    """
    cuts = np.searchsorted(sorted_values, inner_edges, side="left")
    return np.diff(np.concatenate([[0], cuts, [sorted_values.size]])).astype(np.int64)


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two distributions.

    Parameters
    ----------
    p, q : numpy.ndarray
        Non-negative weights over the same bins (normalised here).

    Returns
    -------
    float
        The square root of the JS divergence in bits, as
        ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.

    Examples
    --------
    >>> js_distance(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    1.0
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2

    def _kl(x):
        nz = x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / m[nz])))

    div = max((_kl(p) + _kl(q)) / 2, 0.0)
    return float(np.sqrt(div))


def psi(p: np.ndarray, q: np.ndarray, eps: float = PSI_EPS) -> float:
    """Population stability index ``sum((q - p) ln(q / p))`` of reference ``p`` and current ``q``.

    Parameters
    ----------
    p, q : numpy.ndarray
        Bin proportions of the reference and the current sample.
    eps : float, default 1e-4
        Proportions are clipped below at ``eps`` (empty bins).

    Returns
    -------
    float

    Examples
    --------
    >>> round(psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])), 6)
    0.0
    """
    p = np.clip(np.asarray(p, dtype=float) / np.sum(p), eps, None)
    q = np.clip(np.asarray(q, dtype=float) / np.sum(q), eps, None)
    return float(np.sum((q - p) * np.log(q / p)))


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN and is not counted).

    Parameters
    ----------
    pvalues : array-like

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, as ``scipy.stats.false_discovery_control``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    v = p[ok]
    if v.size == 0:
        return out
    order = np.argsort(v)
    ranked = v[order] * v.size / np.arange(1, v.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty_like(v)
    res[order] = np.clip(adjusted, 0, 1)
    out[ok] = res
    return out
