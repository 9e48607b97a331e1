"""Task-specific monitors: forecasts (error per horizon, interval coverage), uplift (overlap, CATE
drift, Qini), recommendations (coverage, popularity bias, exposure Gini, new users).

Each returns a plain dict: the measures, and a ``level`` (``ok``/``warn``/``alert``) with
``reasons``, so a scheduled job can act on it like on a :class:`MonitorReport`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from uniml.monitoring import _stats
from uniml.monitoring._errors import MonitoringError

__all__ = [
    "forecast_monitor",
    "gini",
    "qini_coefficient",
    "recommendation_monitor",
    "uplift_monitor",
]

_ORDER = {"ok": 0, "warn": 1, "alert": 2}


def _need(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise MonitoringError(f"{what}: column(s) {missing} are not in the frame")


def _level(levels) -> str:
    return max(levels, key=_ORDER.__getitem__, default="ok")


def forecast_monitor(
    current: pd.DataFrame,
    backtest: pd.DataFrame | None = None,
    *,
    horizon: str = "horizon",
    y: str = "y",
    yhat: str = "yhat",
    lower: str | None = None,
    upper: str | None = None,
    coverage: float | None = None,
    ratio: tuple[float, float] = (1.2, 1.5),
) -> dict:
    """Forecast error per horizon against the backtest's, and prediction-interval coverage.

    Parameters
    ----------
    current : pandas.DataFrame
        Realised forecasts: horizon (steps ahead), actual, forecast, optional bounds.
    backtest : pandas.DataFrame, optional
        The evaluation's backtest predictions, same columns: the per-horizon baseline.
    horizon, y, yhat : str
    lower, upper : str, optional
        Interval bounds.
    coverage : float, optional
        Nominal coverage of the interval (``0.9``); needed with the bounds.
    ratio : tuple of float, default (1.2, 1.5)
        Current MAE / backtest MAE at which a horizon warns / alerts.

    Returns
    -------
    dict
        ``horizons`` (a DataFrame: ``horizon, n, mae, backtest_mae, ratio, level``),
        ``coverage`` (realised, nominal, lower bound of tolerance, level), ``level``,
        ``reasons``.

    Raises
    ------
    MonitoringError
        A named column is missing.

    Examples
    --------
    >>> bt = pd.DataFrame({"horizon": [1, 1, 2, 2], "y": [1.0, 2, 3, 4], "yhat": [1.1, 2.1, 3.2, 4.2]})
    >>> cur = bt.assign(yhat=bt["yhat"] + [0.0, 0.0, 1.0, 1.0])
    >>> out = forecast_monitor(cur, bt)
    >>> out["horizons"]["level"].tolist(), out["level"]
    (['ok', 'alert'], 'alert')
    """
    _need(current, [horizon, y, yhat, lower, upper], "forecast_monitor current")
    err = (current[y] - current[yhat]).abs()
    table = (
        err.groupby(current[horizon])
        .agg(["size", "mean"])
        .rename(columns={"size": "n", "mean": "mae"})
    )
    reasons = []
    levels = []
    if backtest is not None:
        _need(backtest, [horizon, y, yhat], "forecast_monitor backtest")
        base = (backtest[y] - backtest[yhat]).abs().groupby(backtest[horizon]).mean()
        table["backtest_mae"] = base.reindex(table.index)
        table["ratio"] = table["mae"] / table["backtest_mae"]
        lv = np.where(
            table["ratio"] >= ratio[1], "alert", np.where(table["ratio"] >= ratio[0], "warn", "ok")
        )
        table["level"] = lv
        for h, row in table[table["level"] != "ok"].iterrows():
            reasons.append(
                f"horizon {h}: MAE {row['mae']:.4g} is {row['ratio']:.2f}x the backtest's "
                f"{row['backtest_mae']:.4g}"
            )
        levels += [str(v) for v in lv]
    table = table.reset_index()
    cov = None
    if lower is not None and upper is not None:
        if coverage is None:
            raise MonitoringError("forecast_monitor: pass the interval's nominal coverage")
        inside = ((current[y] >= current[lower]) & (current[y] <= current[upper])).to_numpy()
        n = inside.size
        realised = float(inside.mean()) if n else float("nan")
        # below nominal by more than 3 binomial standard errors and 5 points: alert
        noise = 3 * math.sqrt(coverage * (1 - coverage) / max(n, 1))
        floor = coverage - max(noise, 0.05)
        level = "alert" if realised < floor else "warn" if realised < coverage - noise else "ok"
        cov = {"realised": realised, "nominal": coverage, "floor": floor, "n": n, "level": level}
        levels.append(level)
        if level != "ok":
            reasons.append(f"interval coverage {realised:.1%} vs nominal {coverage:.0%}")
    return {"horizons": table, "coverage": cov, "level": _level(levels), "reasons": reasons}


def qini_coefficient(outcome, treatment, score) -> float:
    """Qini coefficient: area between the Qini curve of ``score`` and the random line, normalised by n.

    Parameters
    ----------
    outcome, treatment, score : array-like
        Binary/continuous outcome, 0/1 treatment, predicted uplift.

    Returns
    -------
    float

    Examples
    --------
    >>> qini_coefficient([1, 0, 0, 0], [1, 1, 0, 0], [0.9, 0.1, 0.5, 0.2]) > 0
    True
    """
    y = np.asarray(outcome, float)
    t = np.asarray(treatment, int)
    order = np.argsort(-np.asarray(score, float), kind="stable")
    y, t = y[order], t[order]
    n_t = np.cumsum(t)
    n_c = np.cumsum(1 - t)
    y_t = np.cumsum(y * t)
    y_c = np.cumsum(y * (1 - t))
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = y_t - np.where(n_c > 0, y_c * n_t / n_c, 0.0)
    random = np.linspace(0, curve[-1], curve.size + 1)[1:]
    return float(np.mean(curve - random) / max(t.sum(), 1))


def uplift_monitor(
    current: pd.DataFrame,
    *,
    treatment: str,
    covariates: list[str],
    cate: str | None = None,
    reference_cate=None,
    outcome: str | None = None,
    smd: tuple[float, float] = (0.1, 0.25),
) -> dict:
    """Uplift monitoring: covariate balance of treatment groups, CATE drift, Qini on labelled rows.

    Parameters
    ----------
    current : pandas.DataFrame
    treatment : str
        0/1 treatment column.
    covariates : list of str
        Numeric covariates whose balance is checked.
    cate : str, optional
        Column of predicted effects.
    reference_cate : array-like, optional
        Predicted effects on the reference (CATE distribution drift).
    outcome : str, optional
        Observed outcome on a labelled holdout (Qini).
    smd : tuple of float, default (0.1, 0.25)
        Absolute standardised mean difference at which a covariate warns / alerts.

    Returns
    -------
    dict
        ``overlap`` (covariate -> SMD), ``cate_drift`` (normalised Wasserstein),
        ``qini``, ``level``, ``reasons``.

    Raises
    ------
    MonitoringError
        A named column is missing, or a treatment group is empty.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"t": rng.integers(0, 2, 2000), "x": rng.normal(size=2000)})
    >>> uplift_monitor(df, treatment="t", covariates=["x"])["level"]
    'ok'
    """
    _need(current, [treatment, *covariates, cate, outcome], "uplift_monitor")
    t = current[treatment].to_numpy()
    if not ((t == 1).any() and (t == 0).any()):
        raise MonitoringError("uplift_monitor: both treatment groups need rows")
    levels, reasons, overlap = [], [], {}
    for c in covariates:
        x = current[c].to_numpy(float)
        a, b = x[t == 1], x[t == 0]
        pooled = math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2)
        value = float(abs(a.mean() - b.mean()) / pooled) if pooled > 0 else 0.0
        lv = "alert" if value >= smd[1] else "warn" if value >= smd[0] else "ok"
        overlap[c] = {"smd": value, "level": lv}
        levels.append(lv)
        if lv != "ok":
            reasons.append(f"covariate {c!r}: |SMD| {value:.3g} between treatment groups")
    cate_drift = None
    if cate is not None and reference_cate is not None:
        ref = np.sort(np.asarray(reference_cate, float))
        cur = np.sort(current[cate].to_numpy(float))
        scale = float(ref.std()) or 1.0
        w = _stats.wasserstein_sorted(cur, ref) / scale
        lv = "alert" if w >= 0.2 else "warn" if w >= 0.1 else "ok"
        cate_drift = {"wasserstein": w, "level": lv}
        levels.append(lv)
        if lv != "ok":
            reasons.append(f"CATE distribution moved: normalised Wasserstein {w:.3g}")
    qini = None
    if outcome is not None and cate is not None:
        qini = qini_coefficient(current[outcome], t, current[cate])
    return {
        "overlap": overlap,
        "cate_drift": cate_drift,
        "qini": qini,
        "level": _level(levels),
        "reasons": reasons,
    }


def gini(values) -> float:
    """Gini coefficient of non-negative values (0: equal exposure, near 1: one item gets all).

    Parameters
    ----------
    values : array-like

    Returns
    -------
    float

    Examples
    --------
    >>> gini([1, 1, 1, 1]), gini([0, 0, 0, 4])
    (0.0, 0.75)
    """
    x = np.sort(np.asarray(values, float))
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * x) / (n * x.sum()))


def recommendation_monitor(
    recommendations: pd.DataFrame,
    *,
    user: str = "user",
    item: str = "item",
    catalogue=None,
    interactions: pd.DataFrame | None = None,
    reference: dict | None = None,
    tolerance: float = 0.1,
) -> dict:
    """Recommendation health: catalogue coverage, popularity bias, exposure Gini, new-user share.

    Parameters
    ----------
    recommendations : pandas.DataFrame
        One row per recommended (user, item).
    user, item : str
    catalogue : array-like, optional
        Every recommendable item (default: the items of ``interactions``).
    interactions : pandas.DataFrame, optional
        Training interactions (``user``, ``item``): item popularity and known users.
    reference : dict, optional
        The same measures from a healthy run; a measure that worsens by more than
        ``tolerance`` (absolute) warns, twice that alerts.
    tolerance : float, default 0.1

    Returns
    -------
    dict
        ``coverage``, ``popularity_bias`` (mean popularity percentile of recommended
        items, 0.5 = unbiased), ``exposure_gini``, ``new_user_share``, ``level``, ``reasons``.

    Raises
    ------
    MonitoringError
        A named column is missing.

    Examples
    --------
    >>> recs = pd.DataFrame({"user": [1, 1, 2, 2], "item": ["a", "b", "a", "c"]})
    >>> out = recommendation_monitor(recs, catalogue=["a", "b", "c", "d"])
    >>> out["coverage"], round(out["exposure_gini"], 3)
    (0.75, 0.375)
    """
    _need(recommendations, [user, item], "recommendation_monitor")
    if interactions is not None:
        _need(interactions, [user, item], "recommendation_monitor interactions")
    items = (
        pd.Index(catalogue)
        if catalogue is not None
        else pd.Index(interactions[item].unique())
        if interactions is not None
        else pd.Index(recommendations[item].unique())
    )
    exposure = recommendations[item].value_counts().reindex(items, fill_value=0)
    out: dict = {
        "coverage": float((exposure > 0).mean()) if len(items) else float("nan"),
        "exposure_gini": gini(exposure.to_numpy()),
        "popularity_bias": None,
        "new_user_share": None,
    }
    if interactions is not None:
        pop = interactions[item].value_counts().reindex(items, fill_value=0)
        pct = pop.rank(pct=True)
        out["popularity_bias"] = float(pct.reindex(recommendations[item]).mean())
        known = set(interactions[user].unique())
        users = recommendations[user].unique()
        out["new_user_share"] = (
            float(np.mean([u not in known for u in users])) if len(users) else 0.0
        )
    levels, reasons = [], []
    worse_if_lower = {"coverage"}
    for key, value in list(out.items()):
        if reference is None or value is None or reference.get(key) is None:
            continue
        delta = (reference[key] - value) if key in worse_if_lower else (value - reference[key])
        lv = "alert" if delta > 2 * tolerance else "warn" if delta > tolerance else "ok"
        levels.append(lv)
        if lv != "ok":
            reasons.append(f"{key} {value:.3g} vs reference {reference[key]:.3g}")
    out["level"] = _level(levels)
    out["reasons"] = reasons
    return out
