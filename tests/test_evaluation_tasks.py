"""Harness protocols for forecasting, causal and report serialisation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold as SkKFold

import uniml
from uniml.evaluation import EvalReport, GateResult, ProtocolError, RollingOrigin, evaluate
from uniml.evaluation.metrics import causal as cm

# ---------------------------------------------------------------- forecasting


@st.composite
def panels(draw):
    n_series = draw(st.integers(1, 3))
    frames = []
    for s in range(n_series):
        start = draw(st.integers(0, 5))
        length = draw(st.integers(12, 40))
        t = pd.date_range("2024-01-01", periods=length, freq="D") + pd.Timedelta(days=start)
        frames.append(pd.DataFrame({"sid": f"s{s}", "ds": t, "y": np.arange(length, dtype=float)}))
    df = pd.concat(frames, ignore_index=True)
    return uniml.ForecastData(df, time="ds", target="y", series_id="sid")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    panels(),
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 4),
    st.sampled_from(["expanding", "sliding"]),
    st.one_of(st.none(), st.integers(3, 10)),
)
def test_rolling_origin_never_trains_on_the_future(data, horizon, step, n_origins, window, size):
    protocol = RollingOrigin(
        horizon=horizon, step=step, n_origins=n_origins, window=window, window_size=size
    )
    axis = pd.DatetimeIndex(data.frame["ds"].unique()).sort_values()
    need = horizon + step * (n_origins - 1) + 2
    if len(axis) < need:
        with pytest.raises(ProtocolError, match="needs at least"):
            protocol.split_frame(data)
        return
    folds = protocol.split_frame(data)
    assert len(folds) == n_origins
    times = pd.DatetimeIndex(data.frame["ds"])
    last_origin = axis[len(axis) - horizon - 1]
    for i, f in enumerate(folds):
        origin = f.info["origin"]
        # origins are exactly `step` apart, the last one `horizon` before the end
        assert origin == axis[axis.get_loc(last_origin) - step * (n_origins - 1 - i)]
        train_t, test_t = times[f.train], times[f.test]
        assert train_t.max() == origin < test_t.min()  # no training at or after the test start
        # the test window is exactly the next `horizon` times of the axis
        assert list(pd.DatetimeIndex(test_t.unique()).sort_values()) == list(
            axis[axis > origin][:horizon]
        )
        if window == "sliding":
            span = pd.DatetimeIndex(train_t.unique())
            expected = size or (axis.get_loc(folds[0].info["origin"]) + 1)
            assert len(span) == min(expected, axis.get_loc(origin) + 1)


_SPY = []


class Spy(BaseEstimator):
    """A forecaster that records what it was trained on and asked to forecast."""

    task = "forecasting"

    def fit(self, data, y=None):
        self.last_ = data.frame.groupby("sid")["y"].last().to_dict()
        _SPY.append(("fit", data.frame["ds"].max()))
        return self

    def predict(self, X):
        _SPY.append(("predict", X["ds"].min(), X["ds"].max()))
        f = X["sid"].map(self.last_).to_numpy(dtype=float)
        return pd.DataFrame({"forecast": f, "lower_80": f - 1, "upper_80": f + 1}, index=X.index)


def _panel():
    rng = np.random.default_rng(0)
    frames = []
    for s, (start, n) in enumerate([(0, 60), (10, 50)]):
        t = pd.date_range("2024-01-01", periods=n, freq="D") + pd.Timedelta(days=start)
        frames.append(
            pd.DataFrame({"sid": f"s{s}", "ds": t, "y": 10 + rng.normal(size=n).cumsum()})
        )
    return uniml.ForecastData(
        pd.concat(frames, ignore_index=True), time="ds", target="y", series_id="sid"
    )


def test_backtest_origins_horizons_and_metrics():
    _SPY.clear()
    data = _panel()
    protocol = RollingOrigin(horizon=5, step=3, n_origins=4)
    r = evaluate({"spy": Spy()}, data, protocol=protocol, n_jobs=1)
    end = data.frame["ds"].max()
    expected = [end - pd.Timedelta(days=5 + 3 * j) for j in (3, 2, 1, 0)]
    assert r.protocol["origins"] == [str(o) for o in expected]
    fits = [e[1] for e in _SPY if e[0] == "fit"]
    preds = [e[1:] for e in _SPY if e[0] == "predict"]
    assert fits == expected
    assert preds == [(o + pd.Timedelta(days=1), o + pd.Timedelta(days=5)) for o in expected]
    # metrics recomputed by hand from the predictions frame (naive forecast = last training value)
    p = r.predictions[r.predictions.model == "spy"]
    for i, (origin, grp) in enumerate(p.groupby("origin", sort=True)):
        assert grp["time"].min() > origin
        s = r.fold_scores[(r.fold_scores.model == "spy") & (r.fold_scores.fold == i)].set_index(
            "metric"
        )["value"]
        assert s["mae"] == pytest.approx(np.mean(np.abs(grp.y_true - grp.y_pred)))
        assert s["coverage_80"] == pytest.approx(
            np.mean((grp.y_true >= grp.lower) & (grp.y_true <= grp.upper))
        )
        train = data.frame[data.frame.ds <= origin]
        scale = {k: np.mean(np.abs(np.diff(g["y"].to_numpy()))) for k, g in train.groupby("sid")}
        mase = np.mean(np.abs(grp.y_true - grp.y_pred) / grp.series.map(scale))
        assert s["mase"] == pytest.approx(mase)
    # the naive baseline is the same forecast as the spy: identical scores
    np.testing.assert_allclose(
        r.fold_scores.query("model == 'spy' and metric == 'mae'")["value"].to_numpy(),
        r.fold_scores.query("model == 'naive' and metric == 'mae'")["value"].to_numpy(),
    )
    assert {"naive", "seasonal_naive"} <= {m for m, role in r.roles.items() if role == "baseline"}
    back = EvalReport.from_json(r.to_json())
    assert back == r


def test_backtest_update_mode_uses_update():
    data = _panel()
    r = evaluate(
        {"ets": uniml.make("statsmodels.ets")},
        data,
        protocol=RollingOrigin(horizon=4, n_origins=3, refit="update"),
        n_jobs=1,
        metrics=["mae"],
    )
    refit = evaluate(
        {"ets": uniml.make("statsmodels.ets")},
        data,
        protocol=RollingOrigin(horizon=4, n_origins=3),
        n_jobs=1,
        metrics=["mae"],
    )
    # first origin: both fitted on the same rows; later origins: the updated model is not refit
    a, b = (
        x.fold_scores.query("model == 'ets'").sort_values("fold")["value"].to_numpy()
        for x in (r, refit)
    )
    assert a[0] == pytest.approx(b[0])
    assert r.protocol["refit"] == "update"
    with pytest.raises(ProtocolError, match="expanding"):
        evaluate(
            {"ets": uniml.make("statsmodels.ets")},
            data,
            protocol=RollingOrigin(horizon=4, n_origins=2, refit="update", window="sliding"),
            n_jobs=1,
        )


# --------------------------------------------------------------------- causal


def test_causal_known_effect_against_direct_computation():
    from uniml.testing.causal import make_causal_data

    data, truth = make_causal_data(n=400, seed=3)
    frame = data.frame.assign(tau=truth["cate"].reindex(data.frame.index).to_numpy())
    data = uniml.CausalData(
        frame, outcome="y", treatment="t", effect_modifiers=["x1", "x2"], confounders=["w1", "w2"]
    )
    dml = uniml.make(
        "econml.dml", model_y=LinearRegression(), model_t=LogisticRegression(), random_state=0
    )
    r = evaluate(
        {"dml": dml},
        data,
        true_effect="tau",
        n_jobs=1,
        keep_predictions=None,
        gates=["pehe better than baseline"],
    )
    assert r.metrics == ["pehe", "ate_error"]
    tau, t, y = frame["tau"].to_numpy(), frame["t"].to_numpy(), frame["y"].to_numpy()
    for i, (tr, te) in enumerate(SkKFold(5, shuffle=True, random_state=0).split(frame)):
        effect = y[tr][t[tr] == 1].mean() - y[tr][t[tr] == 0].mean()
        s = r.fold_scores[(r.fold_scores.fold == i)]
        const = s[s.model == "constant_effect"].set_index("metric")["value"]
        zero = s[s.model == "zero_effect"].set_index("metric")["value"]
        assert const["pehe"] == pytest.approx(np.sqrt(np.mean((tau[te] - effect) ** 2)))
        assert const["ate_error"] == pytest.approx(abs(effect - tau[te].mean()))
        assert zero["pehe"] == pytest.approx(np.sqrt(np.mean(tau[te] ** 2)))
        p = r.predictions[(r.predictions.model == "dml") & (r.predictions.fold == i)]
        assert np.array_equal(np.sort(p["row"].to_numpy()), np.sort(te))
        dml = s[s.model == "dml"].set_index("metric")["value"]
        assert dml["pehe"] == pytest.approx(cm.pehe(p["true_effect"], p["effect"]))
    assert r.passed  # an adjusting estimator beats the unadjusted constant effect


def test_causal_uplift_on_randomised_data():
    rng = np.random.default_rng(4)
    n = 1500
    x = rng.normal(size=n)
    t = rng.integers(0, 2, n)
    y = np.where(x > 0, 2.0, 0.0) * t + rng.normal(size=n)
    data = uniml.CausalData(
        pd.DataFrame({"x": x, "t": t, "y": y}), outcome="y", treatment="t", effect_modifiers=["x"]
    )
    dr = uniml.make(
        "econml.dr",
        model_propensity=LogisticRegression(),
        model_regression=LinearRegression(),
        random_state=0,
    )
    r = evaluate(
        {"dr": dr}, data, n_jobs=1, keep_predictions=None, gates=["qini better than baseline"]
    )
    assert r.metrics == ["qini", "auuc", "uplift@30%"]
    assert set(r.roles) == {"dr", "zero_effect"}
    for i, grp in r.predictions[r.predictions.model == "dr"].groupby("fold"):
        s = r.fold_scores[(r.fold_scores.model == "dr") & (r.fold_scores.fold == i)].set_index(
            "metric"
        )["value"]
        assert s["qini"] == pytest.approx(cm.qini(grp.effect, grp.treatment, grp.outcome))
        assert s["uplift@30%"] == pytest.approx(
            cm.uplift_at_k(grp.effect, grp.treatment, grp.outcome, 0.3)
        )
    assert (
        r.fold_scores.query("model == 'zero_effect' and metric == 'qini'")["value"].abs() < 1e-12
    ).all()
    assert r.passed
    with pytest.raises(uniml.DataContractError, match="0/1 treatment"):
        evaluate(
            {"dr": dr},
            uniml.CausalData(
                pd.DataFrame({"x": x, "t": t * 2.5, "y": y}),
                outcome="y",
                treatment="t",
                effect_modifiers=["x"],
            ),
            n_jobs=1,
        )


# --------------------------------------------------------------- serialisation

names = st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=8)
values = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(names, min_size=1, max_size=4, unique=True),
    st.lists(values, min_size=1, max_size=12),
    st.booleans(),
    st.one_of(st.none(), st.integers(0, 2**31)),
)
def test_report_json_round_trip(models, vals, passed, seed):
    rows = [
        {"model": models[i % len(models)], "fold": i, "metric": "rmse", "value": v}
        for i, v in enumerate(vals)
    ]
    folds = pd.DataFrame(rows)
    board = (
        folds.groupby("model")["value"].agg(["mean", "std"]).rename(columns=lambda c: f"rmse_{c}")
    )
    board.insert(0, "role", "candidate")
    board.index.name = "model"
    gate = GateResult("rmse <= 1", passed, "r", models[0], "rmse", vals[0], 1.0, None, vals[-1])
    report = EvalReport(
        "regression",
        {"kind": "kfold", "n_splits": len(vals), "seed": seed},
        ["rmse"],
        {"rmse": False},
        dict.fromkeys(models, "candidate"),
        {m: {"a": 1} for m in models},
        fold_scores=folds,
        leaderboard=board,
        gates=[gate],
        passed=passed,
        random_state=seed,
    )
    back = EvalReport.from_json(report.to_json())
    assert back == report
    pd.testing.assert_frame_equal(back.fold_scores, report.fold_scores)
    pd.testing.assert_frame_equal(back.leaderboard, report.leaderboard)
    assert [g.to_dict() for g in back.gates] == [g.to_dict() for g in report.gates]
