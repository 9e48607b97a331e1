"""Paired bootstrap of the difference between two models scored on the same folds.

Examples
--------
>>> r = paired_bootstrap([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], seed=0)
>>> r["diff"], r["ci_low"], r["ci_high"]
(-1.0, -1.0, -1.0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["paired_bootstrap"]


def paired_bootstrap(values, reference, *, confidence: float = 0.95, n_boot: int = 2000, seed=0) -> dict:
    """Mean paired difference ``values - reference`` with percentile bootstrap intervals.

    The folds (or rows) are resampled with replacement, the same draw for
    both models (paired), ``n_boot`` times. Besides the absolute difference
    of the means it returns the relative one, ``(mean - mean_ref) / |mean_ref|``,
    with its interval from the same draws.

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
        raise ValueError(f"paired bootstrap needs two equal-length 1-d arrays, got {a.shape} and {b.shape}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n_boot, len(a)))
    ma, mb = a[idx].mean(axis=1), b[idx].mean(axis=1)
    lo, hi = (1.0 - confidence) / 2.0 * 100.0, (1.0 + confidence) / 2.0 * 100.0
    d = ma - mb
    mean_a, mean_b = float(a.mean()), float(b.mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = d / np.abs(mb)
        rel_point = (mean_a - mean_b) / abs(mean_b) if mean_b != 0 else float("nan")
    rel_ok = rel[np.isfinite(rel)]
    return {
        "mean": mean_a,
        "reference_mean": mean_b,
        "diff": mean_a - mean_b,
        "ci_low": float(np.percentile(d, lo)),
        "ci_high": float(np.percentile(d, hi)),
        "rel_diff": float(rel_point),
        "rel_ci_low": float(np.percentile(rel_ok, lo)) if len(rel_ok) else float("nan"),
        "rel_ci_high": float(np.percentile(rel_ok, hi)) if len(rel_ok) else float("nan"),
        "confidence": float(confidence),
        "n": int(len(a)),
    }
