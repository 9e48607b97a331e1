"""Task-specific monitors: forecasts, uplift and recommendations, against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

from uniml.monitoring import (
    MonitoringError,
    forecast_monitor,
    gini,
    qini_coefficient,
    recommendation_monitor,
    uplift_monitor,
)


def _forecasts(rng, n, noise, width):
    h = np.tile(np.arange(1, 8), n)
    y = rng.normal(size=h.size) * noise * np.sqrt(h)
    return pd.DataFrame(
        {"horizon": h, "y": y, "yhat": 0.0, "lo": -width * np.sqrt(h), "hi": width * np.sqrt(h)}
    )


def test_forecast_error_per_horizon_and_coverage():
    rng = np.random.default_rng(0)
    backtest = _forecasts(rng, 400, 1.0, 1.645)  # a 90 % interval for unit noise
    same = forecast_monitor(
        _forecasts(rng, 200, 1.0, 1.645), backtest, lower="lo", upper="hi", coverage=0.9
    )
    assert same["level"] == "ok" and same["coverage"]["level"] == "ok"
    worse = _forecasts(rng, 200, 2.0, 1.645)  # errors doubled: every horizon, and coverage drops
    out = forecast_monitor(worse, backtest, lower="lo", upper="hi", coverage=0.9)
    expected = (worse["y"] - worse["yhat"]).abs().groupby(worse["horizon"]).mean()
    np.testing.assert_allclose(out["horizons"]["mae"], expected.to_numpy())
    assert set(out["horizons"]["level"]) == {"alert"}
    inside = ((worse["y"] >= worse["lo"]) & (worse["y"] <= worse["hi"])).mean()
    assert (
        out["coverage"]["realised"] == pytest.approx(inside) and out["coverage"]["level"] == "alert"
    )
    with pytest.raises(MonitoringError, match=r"\['yhat'\]"):
        forecast_monitor(worse.drop(columns="yhat"))


def test_uplift_overlap_cate_drift_and_qini():
    rng = np.random.default_rng(1)
    n = 4000
    x = rng.normal(size=n)
    balanced = rng.integers(0, 2, n)
    confounded = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)  # the old treat the old
    tau = 0.5 + x  # true effect
    y = rng.normal(size=n) + confounded * tau
    frame = pd.DataFrame({"x": x, "t": confounded, "tb": balanced, "cate": tau, "y": y})
    out = uplift_monitor(
        frame, treatment="t", covariates=["x"], cate="cate", reference_cate=tau - 0.3, outcome="y"
    )
    a, b = x[confounded == 1], x[confounded == 0]
    smd = abs(a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    assert (
        out["overlap"]["x"]["smd"] == pytest.approx(smd) and out["overlap"]["x"]["level"] == "alert"
    )
    assert out["cate_drift"]["wasserstein"] == pytest.approx(
        st.wasserstein_distance(tau, tau - 0.3) / np.std(tau - 0.3)
    )
    assert out["level"] == "alert"
    assert uplift_monitor(frame, treatment="tb", covariates=["x"])["level"] == "ok"
    # the true effect ranks better than noise, and its reverse worse
    good = qini_coefficient(y, confounded, tau)
    assert (
        good
        > qini_coefficient(y, confounded, rng.normal(size=n))
        > qini_coefficient(y, confounded, -tau)
    )


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.integers(0, 100), min_size=1, max_size=40))
def test_gini_equals_the_mean_absolute_difference_form(values):
    x = np.array(values, float)
    if x.sum() == 0:
        assert gini(x) == 0.0
        return
    mad = np.abs(x[:, None] - x[None, :]).mean()
    assert gini(x) == pytest.approx(mad / (2 * x.mean()), abs=1e-12)


def test_recommendation_health_measures():
    rng = np.random.default_rng(2)
    items = [f"i{k}" for k in range(200)]
    popularity = 1 / np.arange(1, 201)
    interactions = pd.DataFrame(
        {
            "user": rng.integers(0, 500, 20_000),
            "item": rng.choice(items, 20_000, p=popularity / popularity.sum()),
        }
    )
    users = np.r_[np.arange(100), np.arange(1000, 1025)]  # 25 of 125 are new
    diverse = pd.DataFrame({"user": np.repeat(users, 10), "item": rng.choice(items, 1250)})
    top = interactions["item"].value_counts().index[:10]
    popular = pd.DataFrame({"user": np.repeat(users, 10), "item": np.tile(top, 125)})
    healthy = recommendation_monitor(diverse, interactions=interactions)
    assert healthy["new_user_share"] == pytest.approx(25 / 125)
    assert healthy["coverage"] == pytest.approx(diverse["item"].nunique() / 200)
    assert 0.4 < healthy["popularity_bias"] < 0.6  # uniform picks: the median percentile
    skewed = recommendation_monitor(popular, interactions=interactions, reference=healthy)
    assert skewed["coverage"] == pytest.approx(10 / 200) and skewed["popularity_bias"] > 0.9
    exposure = popular["item"].value_counts().reindex(items, fill_value=0)
    assert skewed["exposure_gini"] == pytest.approx(gini(exposure.to_numpy()))
    assert skewed["level"] == "alert" and any("coverage" in r for r in skewed["reasons"])
