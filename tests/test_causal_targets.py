"""Effects on the treated / on the controls / on given rows, with intervals of that estimand (#14 items 10, 12).

The data has strong selection on the effect modifier ``x`` (units with a large effect are the
ones treated), so the ATT and the ATE differ by about one unit: an "ATT" that is really an ATE,
or an interval for the other quantity, fails these tests.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import uniml


@pytest.fixture(scope="module")
def selected():
    rng = np.random.default_rng(0)
    n = 2000
    x, w = rng.normal(size=n), rng.normal(size=n)
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-(1.5 * x + 0.5 * w)))).astype(int)
    tau = 1 + 2 * x
    y = tau * t + w + x + rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "t": t, "x": x, "w": w}, index=[f"u{i}" for i in range(n)])
    data = uniml.CausalData(
        frame, outcome="y", treatment="t", effect_modifiers=["x"], confounders=["w"]
    )
    truth = {"ate": tau.mean(), "att": tau[t == 1].mean(), "atc": tau[t == 0].mean()}
    assert truth["att"] - truth["ate"] > 0.8  # the targets really are different quantities
    return data, truth


ADAPTERS = {
    "dowhy.effect": {"random_state": 0},
    "econml.dml": {
        "model_y": LinearRegression(),
        "model_t": LogisticRegression(),
        "random_state": 0,
    },
    "econml.dr": {
        "model_propensity": LogisticRegression(),
        "model_regression": LinearRegression(),
        "random_state": 0,
    },
    "econml.metalearner": {
        "models": LinearRegression(),
        "n_bootstrap_samples": 20,
        "random_state": 0,
    },
}


@pytest.fixture(scope="module")
def fitted(selected):
    data, _ = selected
    return {name: uniml.make(name, **kw).fit(data) for name, kw in ADAPTERS.items()}


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_each_target_interval_covers_its_own_truth_and_not_the_others(name, selected, fitted):
    data, truth = selected
    model = fitted[name]
    t = data.frame["t"]
    for target, n in (("ate", len(t)), ("att", int(t.sum())), ("atc", int((t == 0).sum()))):
        s = model.effect_summary(target=target)
        assert s["target"] == target and s[target] == s["effect"] and s["n"] == n
        assert s["lower"] <= truth[target] <= s["upper"], (target, s)
        # a valid interval for this target, not the ATE's stretched over it
        others = [v for k, v in truth.items() if k != target]
        assert not any(s["lower"] <= v <= s["upper"] for v in others), (target, s)
        assert s["upper"] - s["lower"] < 0.8
    # a frame of units: the treated rows themselves give the ATT
    rows = model.effect_summary(target=data.frame[t == 1])
    att = model.effect_summary(target="att")
    assert rows["target"] == "rows" and "att" not in rows
    assert rows["effect"] == pytest.approx(att["effect"], abs=1e-12)
    assert rows["n"] == att["n"]
    # the default stays the ATE
    assert model.effect_summary()["ate"] == model.effect_summary(target="ate")["ate"]


def test_dowhy_linear_att_equals_an_independent_ols(selected, fitted):
    """The ATT of the linear model: b_t + b_tx * mean(x | treated), SE from the OLS covariance."""
    import statsmodels.api as sm
    from scipy.stats import norm

    data, _ = selected
    f = data.frame
    design = pd.DataFrame(
        {"const": 1.0, "t": f["t"], "x": f["x"], "w": f["w"], "tx": f["t"] * f["x"]}
    )
    ols = sm.OLS(f["y"].to_numpy(), design.to_numpy()).fit()
    for target, rows in (("att", f["t"] == 1), ("atc", f["t"] == 0)):
        c = np.array([0, 1, 0, 0, f.loc[rows, "x"].mean()])
        effect, se = c @ ols.params, np.sqrt(c @ ols.cov_params() @ c)
        s = fitted["dowhy.effect"].effect_summary(target=target, alpha=0.1)
        z = norm.ppf(0.95)
        np.testing.assert_allclose(
            [s["effect"], s["lower"], s["upper"]],
            [effect, effect - z * se, effect + z * se],
            rtol=1e-8,
        )


def test_econml_linear_dml_att_equals_raw_econml(selected, fitted):
    from econml.dml import LinearDML

    data, _ = selected
    f = data.frame
    raw = LinearDML(
        model_y=LinearRegression(),
        model_t=LogisticRegression(),
        discrete_treatment=True,
        random_state=0,
    )
    raw.fit(f["y"].to_numpy(), f["t"].to_numpy(), X=f[["x"]].to_numpy(), W=f[["w"]].to_numpy())
    treated = f.loc[f["t"] == 1, ["x"]].to_numpy()
    s = fitted["econml.dml"].effect_summary(target="att")
    lower, upper = raw.ate_interval(treated, T0=0, T1=1, alpha=0.05)
    np.testing.assert_allclose(
        [s["effect"], s["lower"], s["upper"]], [raw.ate(treated, T0=0, T1=1), lower, upper]
    )


def test_dowhy_weighting_att_equals_a_hand_computed_ipw_and_bootstraps_the_att(selected):
    """Item 10: the ATT's interval is a bootstrap of the ATT, centred on it, never widened."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data, truth = selected
    f = data.frame
    kw = {"method": "backdoor.propensity_score_weighting", "n_bootstrap": 30, "random_state": 0}
    model = uniml.make("dowhy.effect", **kw).fit(data)
    s = model.effect_summary(target="att")
    # independent: odds-weighted controls against the treated, same (scaled) propensity model
    ps_model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=10_000))
    ps = ps_model.fit(f[["x", "w"]], f["t"]).predict_proba(f[["x", "w"]])[:, 1]
    ps = np.clip(ps, 0.05, 0.95)  # DoWhy's default trimming of propensity scores
    odds = ps / (1 - ps)
    treated, control = f["t"] == 1, f["t"] == 0
    att = f.loc[treated, "y"].mean() - np.average(f.loc[control, "y"], weights=odds[control])
    assert s["effect"] == pytest.approx(att, abs=1e-6)
    assert s["lower"] <= truth["att"] <= s["upper"]
    assert (s["upper"] + s["lower"]) / 2 == pytest.approx(s["effect"], abs=1e-9)  # centred
    # fitting for the ATT directly gives the same estimate and the same interval
    direct = uniml.make("dowhy.effect", **kw).fit(data, target_units="att")
    d = direct.effect_summary()
    assert d["target"] == "att"
    np.testing.assert_allclose(
        [d["effect"], d["lower"], d["upper"]], [s["effect"], s["lower"], s["upper"]], rtol=1e-9
    )
    # ... and that model's ATE is the ATE's own estimate, not the ATT relabelled
    assert direct.effect_summary(target="ate")["effect"] == pytest.approx(
        model.effect_summary()["effect"], abs=1e-12
    )
    with pytest.raises(uniml.UnimlError, match="one average effect"):
        model.effect_summary(target=f.head(5))


def test_bad_targets_are_typed_errors(selected, fitted):
    data, _ = selected
    model = fitted["econml.dml"]
    with pytest.raises(uniml.ParameterError, match="target must be one of") as err:
        model.effect_summary(target="atx")
    assert err.value.parameter == "target"
    with pytest.raises(uniml.SchemaError, match="'x'"):
        model.effect_summary(target=data.frame[["w"]])
    with pytest.raises(uniml.DataContractError, match="empty"):
        model.effect_summary(target=data.frame.iloc[:0])


def test_att_survives_save_and_load(tmp_path, fitted):
    model = fitted["econml.metalearner"]
    loaded = uniml.load(model.save(tmp_path / "m"), trusted=True)
    assert loaded.effect_summary(target="att") == model.effect_summary(target="att")


# ------------------------------------------------ EconML bad input -> typed uniml errors (#14)
@pytest.fixture(scope="module")
def small():
    from uniml.testing.causal import make_causal_data

    return make_causal_data(n=120, seed=0)[0]


def _roles(frame):
    return {
        "outcome": "y",
        "treatment": "t",
        "effect_modifiers": ["x1", "x2"],
        "confounders": ["w1", "w2"],
    }


def test_metalearner_without_models_names_the_argument(small):
    with pytest.raises(uniml.ParameterError, match="needs models=") as err:
        uniml.make("econml.metalearner").fit(small)
    assert err.value.parameter == "models"


@pytest.mark.parametrize("name", ["econml.dml", "econml.dr", "econml.metalearner"])
def test_a_single_treated_unit_is_a_data_contract_error(name, small):
    frame = small.frame.assign(t=0)
    frame.iloc[0, frame.columns.get_loc("t")] = 1
    kw = {"models": LinearRegression()} if name.endswith("metalearner") else {}
    with pytest.raises(uniml.DataContractError, match=r"level 1 of column 't' has 1 row"):
        uniml.make(name, **kw).fit(uniml.CausalData(frame, **_roles(frame)))


def test_continuous_treatment_with_a_classifier_or_discrete_flag_is_refused():
    from uniml.testing.causal import make_causal_data

    data, _ = make_causal_data(n=120, seed=0, treatment="continuous")
    with pytest.raises(uniml.ParameterError, match="model_t is a classifier") as err:
        uniml.make("econml.dml", model_y=LinearRegression(), model_t=LogisticRegression()).fit(data)
    assert err.value.parameter == "model_t"
    with pytest.raises(uniml.DataContractError, match="'t' is continuous"):
        uniml.make("econml.dml", discrete_treatment=True).fit(data)


def test_econml_typos_and_classifier_outcome_models_are_named(small):
    with pytest.raises(uniml.UnknownParameterError, match="'model_yy'") as err:
        uniml.make("econml.dml", model_yy=LinearRegression()).fit(small)
    assert "model_y" in err.value.suggestions
    with pytest.raises(uniml.ParameterError, match="models is a classifier") as err:
        uniml.make("econml.metalearner", models=LogisticRegression()).fit(small)
    assert err.value.parameter == "models"


def test_anything_else_econml_refuses_is_a_uniml_error_with_the_cause(small):
    class Broken(LinearRegression):
        def fit(self, X, y, sample_weight=None):
            raise ValueError("nuisance model exploded")

    with pytest.raises(uniml.UnimlError, match="could not fit: .*exploded") as err:
        uniml.make("econml.dml", model_y=Broken(), model_t=LogisticRegression()).fit(small)
    assert isinstance(err.value.__cause__, ValueError)


def test_lineage_names_the_summary_after_the_fitted_estimand(selected, fitted):
    """A model fitted for the ATT is recorded as the ATT, not under the ATE's name."""
    from uniml.lineage._mlflow import _in_sample_metrics

    data, _ = selected
    ate = _in_sample_metrics(fitted["dowhy.effect"], data.frame, data.Y)
    assert set(ate) == {"ate", "ate_lower", "ate_upper"}
    att_model = uniml.make("dowhy.effect", random_state=0).fit(data, target_units="att")
    att = _in_sample_metrics(att_model, data.frame, data.Y)
    assert set(att) == {"att", "att_lower", "att_upper"}
    assert att["att"] == att_model.effect_summary(target="att")["effect"]


def test_att_of_a_continuous_treatment_is_refused_by_name():
    from uniml.testing.causal import make_causal_data

    data, _ = make_causal_data(n=200, seed=0, treatment="continuous")
    model = uniml.make("dowhy.effect").fit(data)
    with pytest.raises(uniml.DataContractError, match="treatment is continuous"):
        model.effect_summary(target="att")
    rows = model.effect_summary(target=data.frame.head(50))  # a frame of units still works
    assert rows["n"] == 50 and rows["lower"] <= rows["effect"] <= rows["upper"]
