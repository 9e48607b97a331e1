"""Realised performance when actuals arrive; label-free estimates (CBPE, DLE) until they do."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from uniml.monitoring._errors import MonitoringError
from uniml.monitoring._profile import Profile, encode_features

__all__ = ["cbpe_accuracy", "dle_mae", "performance"]

#: a metric must also move this much to alert (absolute for accuracy, relative for errors)
TOLERANCE = {"accuracy": 0.01, "mae": 0.05, "rmse": 0.05}
Z95 = 1.959963984540054

CBPE_ASSUMPTIONS = (
    "CBPE: the model's probabilities, recalibrated on the reference, stay calibrated on the "
    "current data (covariate shift only, no concept drift: P(y | x) unchanged)"
)
DLE_ASSUMPTIONS = (
    "DLE: the absolute error, as a function of the features and the prediction learned on the "
    "reference, is unchanged (covariate shift only, no concept drift)"
)


def _judge(metric: str, value: float, ref: dict, n: int, n_ref: int, k: float, extra_sd=0.0):
    """Level and threshold of ``value`` against the reference metric (sampling noise and tolerance)."""
    noise = math.sqrt(ref["row_std"] ** 2 * (1 / max(n, 1) + 1 / max(n_ref, 1)) + extra_sd**2)
    tol = TOLERANCE.get(metric, 0.0)
    tol = tol if metric == "accuracy" else tol * abs(ref["value"])
    worse = (ref["value"] - value) if ref["greater_is_better"] else (value - ref["value"])
    margin = max(k * noise, tol)
    level = "alert" if worse > margin else "warn" if worse > max((k - 1) * noise, tol / 2) else "ok"
    sign = -1 if ref["greater_is_better"] else 1
    return level, ref["value"] + sign * margin


def cbpe_accuracy(profile: Profile, proba, y_pred=None) -> dict:
    """Confidence-based performance estimation of accuracy for a binary classifier.

    Each row is correct with probability ``q`` (predicted the positive class) or
    ``1 - q``, ``q`` being the model's probability recalibrated on the
    reference (isotonic). The estimate is the mean of those probabilities; its
    interval is the normal approximation of the Poisson-binomial spread
    ``sqrt(sum c (1 - c)) / n``.

    Parameters
    ----------
    profile : Profile
        Fitted on a binary classifier with reference probabilities and targets.
    proba : array-like
        Current probabilities of the positive class.
    y_pred : array-like, optional
        Current predicted labels (default: positive when ``proba >= 0.5``).

    Returns
    -------
    dict
        ``value``, ``interval`` (95 %), ``method``, ``assumptions``.

    Raises
    ------
    MonitoringError
        The profile has no CBPE calibration.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000); p = 1 / (1 + np.exp(-2 * x)); y = (rng.random(4000) < p).astype(int)
    >>> ref = pd.DataFrame({"x": x, "y": y, "proba": p, "prediction": (p >= 0.5).astype(int)})
    >>> profile = Profile.fit(ref, target="y", proba="proba", predictions="prediction",
    ...                       task="classification")
    >>> est = cbpe_accuracy(profile, p)
    >>> est["interval"][0] < est["value"] < est["interval"][1]
    True
    """
    cal = profile.cbpe
    if cal is None:
        raise MonitoringError(
            "the profile has no CBPE calibration (binary classifier with reference probabilities "
            "and targets needed)"
        )
    proba = np.asarray(proba, dtype=float)
    q = (
        np.interp(proba, cal["x"], cal["y"])
        if len(cal["x"]) > 1
        else np.full_like(proba, cal["y"][0])
    )
    positive = cal["labels"][1]
    if y_pred is None:
        predicted_positive = proba >= 0.5
    else:
        predicted_positive = np.asarray(y_pred) == positive
        if not predicted_positive.any() and pd.api.types.is_numeric_dtype(np.asarray(y_pred)):
            predicted_positive = np.asarray(y_pred).astype(str) == str(positive)
    c = np.where(predicted_positive, q, 1 - q)
    n = c.size
    value = float(c.mean()) if n else float("nan")
    sd = float(math.sqrt(np.sum(c * (1 - c))) / n) if n else float("nan")
    return {
        "value": value,
        "sd": sd,
        "interval": [value - Z95 * sd, value + Z95 * sd],
        "method": "CBPE",
        "assumptions": CBPE_ASSUMPTIONS,
    }


def dle_mae(profile: Profile, current: pd.DataFrame, prediction, random_state: int = 0) -> dict:
    """Direct loss estimation of the mean absolute error for a regressor.

    A gradient-boosting model learns ``|y - prediction|`` from the features and
    the prediction on the reference sample kept in the profile; its mean over
    the current rows is the estimate. The interval uses the out-of-fold
    residual spread of that model on the reference: ``z * sd / sqrt(n)``.

    Parameters
    ----------
    profile : Profile
        Fitted on a regressor with reference targets.
    current : pandas.DataFrame
        Current features.
    prediction : array-like
        Current predictions.
    random_state : int, default 0

    Returns
    -------
    dict
        ``value``, ``interval`` (95 %), ``method``, ``assumptions``.

    Raises
    ------
    MonitoringError
        The profile has no DLE sample.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000); y = x + rng.normal(scale=np.abs(x), size=2000)
    >>> ref = pd.DataFrame({"x": x, "y": y, "prediction": x})
    >>> profile = Profile.fit(ref, target="y", predictions="prediction", task="regression")
    >>> est = dle_mae(profile, ref[["x"]], x)
    >>> bool(abs(est["value"] - np.mean(np.abs(y - x))) < 0.1)
    True
    """
    d = profile.dle
    if d is None:
        raise MonitoringError("the profile has no DLE sample (a regressor with reference targets)")
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.model_selection import cross_val_predict

    X_ref = np.column_stack([d["features"], d["prediction"]])
    target = d["abs_error"]

    def nanny():
        return HistGradientBoostingRegressor(max_iter=60, random_state=random_state)

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small data: OpenMP threads only contend on a busy machine
        oof = cross_val_predict(nanny(), X_ref, target, cv=2)
        resid_sd = float(np.std(target - oof))
        model = nanny().fit(X_ref, target)
    feats = {n: c for n, c in profile.columns.items() if c.role == "feature"}
    X_cur = np.column_stack([encode_features(current, feats), np.asarray(prediction, float)])
    est = np.clip(model.predict(X_cur), 0, None)
    n = est.size
    value = float(est.mean()) if n else float("nan")
    sd = resid_sd / math.sqrt(n) if n else float("nan")
    return {
        "value": value,
        "sd": sd,
        "interval": [value - Z95 * sd, value + Z95 * sd],
        "method": "DLE",
        "assumptions": DLE_ASSUMPTIONS,
    }


def performance(profile: Profile, current: pd.DataFrame, y_true, *, k: float = 3.0, random_state=0):
    """Realised metrics (with actuals) or label-free estimates, each judged against the reference.

    Parameters
    ----------
    profile : Profile
    current : pandas.DataFrame
    y_true : numpy.ndarray or None
    k : float, default 3
    random_state : int, default 0

    Returns
    -------
    dict
        ``realised`` and/or ``estimated``: metric -> entry; ``notes``.
    """
    out: dict[str, Any] = {"realised": {}, "estimated": {}, "notes": []}
    ref = profile.performance
    if not ref or profile.task is None or len(current) == 0:
        if y_true is not None:
            out["notes"].append("actuals given but the profile has no reference performance")
        return out
    pred_name = profile.prediction
    y_pred = current[pred_name].to_numpy() if pred_name and pred_name in current.columns else None
    n_ref = ref["n"]
    if y_true is not None:
        known = ~pd.isna(pd.Series(y_true)).to_numpy()
        if not known.any():
            out["notes"].append("no actual has arrived yet: performance is estimated")
            y_true = None
        elif not known.all():
            out["notes"].append(
                f"{int((~known).sum())} of {known.size} rows have no actual yet: realised "
                "metrics use the other rows"
            )
            y_true = np.asarray(y_true)[known]
            y_pred = None if y_pred is None else y_pred[known]
    if y_true is not None:
        if y_pred is None:
            out["notes"].append("actuals given but no prediction column: nothing to score")
            return out
        from uniml.monitoring._profile import reference_performance

        now = reference_performance(profile.task, y_true, y_pred)
        for metric, entry in now["metrics"].items():
            level, threshold = _judge(
                metric, entry["value"], ref["metrics"][metric], len(y_true), n_ref, k
            )
            out["realised"][metric] = {
                "value": entry["value"],
                "reference": ref["metrics"][metric]["value"],
                "reference_source": ref.get("source"),
                "threshold": threshold,
                "level": level,
                "n": len(y_true),
            }
        return out
    if profile.task == "classification" and profile.cbpe is not None:
        if "proba" not in current.columns:
            out["notes"].append("no 'proba' column in the current data: CBPE needs probabilities")
            return out
        est = cbpe_accuracy(profile, current["proba"].to_numpy(float), y_pred)
        metric = "accuracy"
    elif profile.task == "regression" and profile.dle is not None:
        if y_pred is None:
            out["notes"].append("no prediction column in the current data: DLE needs predictions")
            return out
        est = dle_mae(profile, current, y_pred, random_state)
        metric = "mae"
    else:
        return out
    level, threshold = _judge(
        metric, est["value"], ref["metrics"][metric], len(current), n_ref, k, extra_sd=est["sd"]
    )
    out["estimated"][metric] = {
        **est,
        "reference": ref["metrics"][metric]["value"],
        "reference_source": ref.get("source"),
        "threshold": threshold,
        "level": level,
        "n": len(current),
    }
    return out
