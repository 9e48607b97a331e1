"""Evaluation metrics against scikit-learn and hand computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from uniml.evaluation.metrics import (
    Metric,
    MetricError,
    causal,
    classification,
    forecasting,
    get_metric,
    regression,
)

floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(floats, floats), min_size=2, max_size=50))
def test_regression_metrics_match_sklearn(pairs):
    t, p = np.array(pairs).T
    assert regression.rmse(t, p) == pytest.approx(
        np.sqrt(skm.mean_squared_error(t, p)), rel=1e-9, abs=1e-9
    )
    assert regression.mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-9, abs=1e-9)
    assert regression.r2(t, p) == pytest.approx(skm.r2_score(t, p), rel=1e-7, abs=1e-7)
    assert regression.mape(t, p) == pytest.approx(
        skm.mean_absolute_percentage_error(t, p), rel=1e-9
    )


def test_classification_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
    assert classification.roc_auc(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    assert classification.log_loss(y, p, labels=[0, 1]) == pytest.approx(skm.log_loss(y, p))
    assert classification.brier(y, p, labels=[0, 1]) == pytest.approx(skm.brier_score_loss(y, p))
    assert classification.f1(y, p > 0.5) == pytest.approx(skm.f1_score(y, p > 0.5))
    # multiclass
    y3 = rng.integers(0, 3, 300)
    P = rng.dirichlet([1, 1, 1], 300)
    assert classification.roc_auc(y3, P, labels=[0, 1, 2]) == pytest.approx(
        skm.roc_auc_score(y3, P, multi_class="ovr")
    )
    assert classification.log_loss(y3, P, labels=[0, 1, 2]) == pytest.approx(skm.log_loss(y3, P))
    assert classification.f1(y3, P.argmax(1)) == pytest.approx(
        skm.f1_score(y3, P.argmax(1), average="macro")
    )


def test_ece_hand_computation():
    # bins of width 0.5: confidences 0.6, 0.7 (bin 2, both correct?) and 0.9
    y = np.array([1, 0, 1])
    p = np.array([0.6, 0.3, 0.9])  # top-label confidences 0.6, 0.7, 0.9; all correct
    # n_bins=2: all in the upper bin, accuracy 1, mean confidence (0.6+0.7+0.9)/3
    assert classification.ece(y, p, labels=[0, 1], n_bins=2) == pytest.approx(
        1 - (0.6 + 0.7 + 0.9) / 3
    )
    # n_bins=10: bins 0.6 / 0.7 / 0.9, each of 1 row: gaps 0.4, 0.3, 0.1 -> mean 0.8/3
    assert classification.ece(y, p, labels=[0, 1], n_bins=10) == pytest.approx(0.8 / 3)


def test_forecasting_metrics_hand():
    assert forecasting.smape([100.0], [50.0]) == pytest.approx(2 * 50 / 150)
    hist = [1.0, 3.0, 2.0, 5.0]
    assert forecasting.mase_scale(hist) == pytest.approx((2 + 1 + 3) / 3)
    assert forecasting.mase([4.0, 6.0], [5.0, 5.0], forecasting.mase_scale(hist)) == pytest.approx(
        0.5
    )
    assert forecasting.coverage([1, 2, 3], [0, 2.5, 2], [1.5, 3, 4]) == pytest.approx(2 / 3)


def test_qini_auuc_hand_example():
    # 6 rows, distinct scores; treated rows 0, 2, 4; controls 1, 3, 5
    score = [6, 5, 4, 3, 2, 1]
    t = [1, 0, 1, 0, 1, 0]
    y = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    # cumulative after each row: n_t, n_c, Y_t, Y_c
    # n=1: 1,0,1,0  Q = 1 (no controls yet)      U = 0
    # n=2: 1,1,1,0  Q = 1 - 0 = 1                 U = (1 - 0) * 2 = 2
    # n=3: 2,1,2,0  Q = 2                         U = (1 - 0) * 3 = 3
    # n=4: 2,2,2,1  Q = 2 - 1 * 2/2 = 1           U = (1 - 0.5) * 4 = 2
    # n=5: 3,2,2,1  Q = 2 - 1 * 3/2 = 0.5         U = (2/3 - 1/2) * 5 = 5/6
    # n=6: 3,3,2,1  Q = 2 - 1 = 1                 U = (2/3 - 1/3) * 6 = 2
    q = np.array([0, 1, 1, 2, 1, 0.5, 1]) / 6
    u = np.array([0, 0, 2, 3, 2, 5 / 6, 2]) / 6
    x = np.arange(7) / 6
    trap = lambda xs, ys: float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2))  # noqa: E731
    assert causal.qini_curve(score, t, y)[1] == pytest.approx(q * 6)
    assert causal.qini(score, t, y) == pytest.approx(trap(x, q) - q[-1] / 2)
    assert causal.auuc(score, t, y) == pytest.approx(trap(x, u))
    # top 50% = rows 0..2: treated mean 1, control mean 0
    assert causal.uplift_at_k(score, t, y, k=0.5) == pytest.approx(1.0)


def test_uplift_ties_behave_like_random():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 2, 200)
    y = rng.normal(size=200) + t
    assert causal.qini(np.zeros(200), t, y) == pytest.approx(0.0, abs=1e-12)
    ate = y[t == 1].mean() - y[t == 0].mean()
    assert causal.auuc(np.zeros(200), t, y) == pytest.approx(ate / 2)


def test_pehe_ate_error():
    rng = np.random.default_rng(2)
    tau, est = rng.normal(size=50), rng.normal(size=50)
    assert causal.pehe(tau, est) == pytest.approx(np.sqrt(np.mean((tau - est) ** 2)))
    assert causal.ate_error(tau, est) == pytest.approx(abs(est.mean() - tau.mean()))


def test_uplift_needs_binary_treatment():
    with pytest.raises(ValueError, match="0/1 treatment"):
        causal.qini([1.0, 2.0], [0, 2], [1.0, 1.0])


def test_metric_registry_errors():
    with pytest.raises(MetricError, match="unknown regression metric 'auc'"):
        get_metric("regression", "auc")
    with pytest.raises(MetricError, match="needs a name and a direction"):
        get_metric("regression", lambda t, p: 0.0)
    assert get_metric("causal", "uplift@10%").options == (("k", 0.1),)
    m = Metric("maxerr", lambda t, p: 1.0, greater_is_better=False)
    assert get_metric("regression", m) is m
