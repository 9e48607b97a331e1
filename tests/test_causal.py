"""Causal adapters (econml.*, dowhy.effect): known ground truth, parity with the raw libraries,
refutations, the data contract, and the NHEFS published answer."""

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import uniml
from uniml.testing.causal import make_causal_data

pytestmark = pytest.mark.filterwarnings("ignore")


def _rmse(pred: pd.DataFrame, truth) -> float:
    return float(np.sqrt(((pred["effect"] - truth["cate"].loc[pred.index]) ** 2).mean()))


def _dml(**params):
    return uniml.make(
        "econml.dml",
        model_y=LinearRegression(),
        model_t=LogisticRegression(),
        cv=2,
        random_state=0,
        **params,
    )


@pytest.fixture(scope="module")
def binary():
    return make_causal_data(n=2000, seed=0)


# ------------------------------------------------------------------ known truth
def test_linear_dml_recovers_ate_and_cate(binary):
    data, truth = binary
    model = _dml().fit(data)
    s = model.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"]
    assert (
        not s["lower"] <= truth["naive"] <= s["upper"]
    )  # confounding matters here: the naive contrast is off
    assert _rmse(model.predict(data.frame), truth) < 0.1


def test_causal_forest_dml_cate_rmse_is_bounded(binary):
    data, truth = binary
    model = _dml(estimator="causal_forest", n_estimators=100, min_samples_leaf=10, n_jobs=1).fit(
        data
    )
    s = model.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"]
    assert _rmse(model.predict(data.frame), truth) < 0.3
    assert s["method"] == "econml.dml.CausalForestDML"


def test_dml_continuous_treatment():
    data, truth = make_causal_data(n=1500, seed=3, treatment="continuous")
    model = uniml.make(
        "econml.dml", model_y=LinearRegression(), model_t=LinearRegression(), cv=2, random_state=0
    ).fit(
        data,
    )
    assert model.treatment_type_ == "continuous"
    pred = model.predict(data.frame)
    # per unit of dose: the contrast is lowest -> highest dose, so rescale to one unit
    span = model.treated_ - model.control_
    assert np.sqrt(((pred["effect"] / span - truth["cate"]) ** 2).mean()) < 0.1
    explicit = uniml.make(
        "econml.dml",
        model_y=LinearRegression(),
        model_t=LinearRegression(),
        cv=2,
        random_state=0,
        control_value=0.0,
        treated_value=1.0,
    ).fit(data)
    s = explicit.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"]


def test_dr_learner_and_metalearners_recover_ate(binary):
    data, truth = binary
    dr = uniml.make(
        "econml.dr",
        model_propensity=LogisticRegression(),
        model_regression=LinearRegression(),
        cv=2,
        random_state=0,
    ).fit(data)
    s = dr.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"]
    assert _rmse(dr.predict(data.frame), truth) < 0.15
    for kind in ("t", "x"):
        extra = {"propensity_model": LogisticRegression()} if kind == "x" else {}
        meta = uniml.make(
            "econml.metalearner",
            estimator=kind,
            models=LinearRegression(),
            n_bootstrap_samples=20,
            random_state=0,
            **extra,
        ).fit(data)
        assert abs(meta.effect_summary()["ate"] - truth["ate"]) < 0.15, kind
        assert _rmse(meta.predict(data.frame), truth) < 0.2, kind


def test_dowhy_linear_regression_recovers_ate_and_cate(binary):
    data, truth = binary
    model = uniml.make("dowhy.effect", random_state=0, num_simulations=5).fit(data)
    s = model.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"]
    assert _rmse(model.predict(data.frame), truth) < 0.1


def test_dowhy_propensity_weighting_covers_truth(binary):
    data, truth = binary
    model = uniml.make(
        "dowhy.effect", method="backdoor.propensity_score_weighting", random_state=0, n_bootstrap=30
    ).fit(data.frame, outcome="y", treatment="t", confounders=["w1", "w2", "x1"])
    s = model.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"]
    pred = model.predict(data.frame.head(3))  # average-effect methods: every row gets the ATE
    assert np.allclose(pred["effect"], s["ate"])


# ---------------------------------------------------------------------- parity
def test_linear_dml_equals_raw_econml(binary):
    from econml.dml import LinearDML

    data, _ = binary
    model = _dml().fit(data)
    X, W = data.X.to_numpy(float), data.W.to_numpy(float)
    raw = LinearDML(
        model_y=LinearRegression(),
        model_t=LogisticRegression(),
        cv=2,
        random_state=0,
        discrete_treatment=True,
    ).fit(data.Y.to_numpy(float), data.T.to_numpy(), X=X, W=W)
    pred = model.predict(data.frame)
    np.testing.assert_array_equal(pred["effect"].to_numpy(), raw.effect(X, T0=0, T1=1))
    lower, upper = raw.effect_interval(X, T0=0, T1=1, alpha=0.05)
    np.testing.assert_array_equal(pred["lower"].to_numpy(), lower)
    np.testing.assert_array_equal(pred["upper"].to_numpy(), upper)
    s = model.effect_summary()
    assert s["ate"] == raw.ate(X, T0=0, T1=1)
    assert (s["lower"], s["upper"]) == tuple(
        float(v) for v in raw.ate_interval(X, T0=0, T1=1, alpha=0.05)
    )


def test_causal_forest_equals_raw_econml():
    from econml.dml import CausalForestDML

    data, _ = make_causal_data(n=600, seed=4)
    params = {
        "model_y": LinearRegression(),
        "model_t": LogisticRegression(),
        "cv": 2,
        "n_estimators": 40,
        "min_samples_leaf": 10,
        "random_state": 0,
        "n_jobs": 1,
    }
    model = uniml.make("econml.dml", estimator="causal_forest", **params).fit(data)
    X, W = data.X.to_numpy(float), data.W.to_numpy(float)
    raw = CausalForestDML(discrete_treatment=True, **params).fit(
        data.Y.to_numpy(float), data.T.to_numpy(), X=X, W=W
    )
    np.testing.assert_array_equal(
        model.predict(data.frame)["effect"].to_numpy(), raw.effect(X, T0=0, T1=1)
    )


def test_dowhy_equals_raw_dowhy(binary):
    import dowhy

    data, _ = binary
    model = uniml.make("dowhy.effect").fit(data)
    raw = dowhy.CausalModel(
        data=data.frame.reset_index(drop=True),
        treatment="t",
        outcome="y",
        common_causes=["w1", "w2"],
        effect_modifiers=["x1", "x2"],
    )
    estimand = raw.identify_effect(
        proceed_when_unidentifiable=True, method_name="maximal-adjustment"
    )
    value = raw.estimate_effect(estimand, method_name="backdoor.linear_regression").value
    assert model.effect_summary()["ate"] == pytest.approx(value, abs=1e-10)


def test_dowhy_internal_pandas_deprecations_do_not_reach_the_user(binary):
    """Raw DoWhy triggers pandas 3's copy= deprecation inside its own code; the adapter drops it."""
    import warnings

    import dowhy

    data, _ = binary
    rows = data.frame.head(30)

    def copy_notes(record):
        return [w for w in record if "copy keyword is deprecated" in str(w.message)]

    with warnings.catch_warnings(record=True) as raw_record:
        warnings.simplefilter("always")
        raw = dowhy.CausalModel(
            data=data.frame.reset_index(drop=True),
            treatment="t",
            outcome="y",
            common_causes=["w1", "w2"],
            effect_modifiers=["x1", "x2"],
        )
        estimand = raw.identify_effect(
            proceed_when_unidentifiable=True, method_name="maximal-adjustment"
        )
        raw.estimate_effect(estimand, method_name="backdoor.linear_regression")
    assert copy_notes(raw_record), "raw DoWhy no longer warns: this test needs a new trigger"

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = uniml.make("dowhy.effect", random_state=0).fit(data)
        model.predict(rows)
        warnings.warn("a user's own deprecation", DeprecationWarning, stacklevel=1)
    assert copy_notes(record) == []
    # the filter is scoped to DoWhy's modules and to the adapter's calls
    assert any("a user's own deprecation" in str(w.message) for w in record)


# --------------------------------------------------------------- nuisance models
def test_nuisance_models_accept_uniml_adapters(binary):
    data, truth = binary
    lgb = {"n_estimators": 40, "num_leaves": 7, "random_state": 0, "verbose": -1, "n_jobs": 1}
    model = uniml.make(
        "econml.dml",
        model_y=uniml.make("lightgbm.regressor", **lgb),
        model_t=uniml.make("lightgbm.classifier", **lgb),
        cv=2,
        random_state=0,
    ).fit(data)
    s = model.effect_summary()
    assert abs(s["ate"] - truth["ate"]) < 0.2
    # the nested adapter's parameters are reachable the scikit-learn way
    assert model.get_params()["model_y__n_estimators"] == 40


# ---------------------------------------------------------------- explanations
def test_linear_dml_explanation_is_additive_to_the_cate(binary):
    data, _ = binary
    model = _dml().fit(data)
    rows = data.frame.head(20)
    exp = model.explain(rows)
    assert exp.kind == "causal_drivers" and exp.additive
    assert np.max(np.abs(exp.reconstruction() - model.predict(rows)["effect"])) < 1e-6
    assert exp.importance.index[0] == "x1"  # the true driver of the effect


def test_dowhy_refuters_pass_on_a_correct_model_and_fail_on_a_broken_one():
    data, _ = make_causal_data(n=1000, seed=0)
    good = uniml.make("dowhy.effect", random_state=0, num_simulations=5).fit(data)
    exp = good.explain(data.frame.head(5))
    table = exp.tables["refutations"]
    assert exp.kind == "refutation" and not exp.additive and exp.contributions is None
    assert set(table["refuter"]) == {
        "placebo_treatment_refuter",
        "random_common_cause",
        "data_subset_refuter",
    }
    assert table["passed"].all(), table
    assert "backdoor" in exp.tables["estimand"].iloc[0, 0]
    # broken: an "instrument" that does not move the treatment -> an unstable, placebo-sensitive estimate
    frame = data.frame.assign(z=np.random.default_rng(5).normal(size=len(data)))
    bad = uniml.make(
        "dowhy.effect", method="iv.instrumental_variable", random_state=0, num_simulations=10
    ).fit(frame, outcome="y", treatment="t", instruments=["z"])
    refuted = bad.refute().set_index("refuter")
    assert not refuted.loc["placebo_treatment_refuter", "passed"]
    assert not refuted.loc["data_subset_refuter", "passed"]


# --------------------------------------------------------------- data contract
def test_data_contract_errors_name_the_role(binary):
    data, _ = binary
    frame = data.frame
    with pytest.raises(uniml.DataContractError, match="two roles"):
        _dml().fit(frame, outcome="y", treatment="t", effect_modifiers=["x1"], confounders=["x1"])
    with pytest.raises(uniml.DataContractError, match="role 'treatment'.*encode"):
        _dml().fit(frame.assign(t=frame["t"].map({0: "no", 1: "yes"})), outcome="y", treatment="t")
    with pytest.raises(uniml.DataContractError, match="continuous"):
        uniml.make("econml.dr").fit(make_causal_data(n=50, treatment="continuous")[0])
    with pytest.raises(uniml.DataContractError, match="instrument"):
        uniml.make("dowhy.effect", method="iv.instrumental_variable").fit(data)
    with pytest.raises(uniml.DataContractError, match="besides a CausalData"):
        _dml().fit(data, outcome="y")


def test_untrusted_load_is_refused_and_trusted_load_is_exact(tmp_path, binary):
    data, _ = binary
    model = _dml().fit(data)
    folder = model.save(tmp_path / "dml")
    with pytest.raises(uniml.UntrustedArtifactError):
        uniml.load(folder)
    loaded = uniml.load(folder, trusted=True)
    pd.testing.assert_frame_equal(
        loaded.predict(data.frame), model.predict(data.frame), check_exact=True
    )


def test_importing_dowhy_through_the_adapter_keeps_the_displayhook():
    before = sys.displayhook
    uniml.make("dowhy.effect").require_library()
    assert sys.displayhook is before


# ------------------------------------------------------------ published answer
@pytest.fixture(scope="module")
def nhefs():
    """NHEFS (Hernán & Robins, What If, ch. 12-13) with the book's confounders as numeric columns."""
    import causaldata

    d = causaldata.nhefs_complete.load_pandas().data
    frame = pd.DataFrame(
        {
            "qsmk": d["qsmk"].astype(int),
            "wt82_71": d["wt82_71"].astype(float),
            "sex": d["sex"].astype(int),
            "race": d["race"].astype(int),
        }
    )
    for c in ("age", "smokeintensity", "smokeyrs", "wt71"):
        frame[c] = d[c].astype(float)
        frame[f"{c}_sq"] = frame[c] ** 2
    for c in ("education", "exercise", "active"):
        dummies = pd.get_dummies(d[c].astype(str), prefix=c, drop_first=True, dtype=float)
        frame = pd.concat([frame, dummies], axis=1)
    confounders = [c for c in frame.columns if c not in ("qsmk", "wt82_71")]
    return uniml.CausalData(frame, outcome="wt82_71", treatment="qsmk", confounders=confounders)


#: the book's estimates: standardization 3.5 kg (95% CI 2.6, 4.5), IP weighting 3.4 kg (2.4, 4.5)
BOOK_CI = (2.4, 4.5)


def test_nhefs_backdoor_estimates_land_in_the_books_interval(nhefs):
    linear = uniml.make("dowhy.effect").fit(nhefs).effect_summary()
    assert 3.3 < linear["ate"] < 3.6
    assert BOOK_CI[0] <= linear["ate"] <= BOOK_CI[1]
    dml = (
        uniml.make(
            "econml.dml",
            model_y=LinearRegression(),
            model_t=make_pipeline(StandardScaler(), LogisticRegression()),
            cv=5,
            random_state=0,
        )
        .fit(nhefs)
        .effect_summary()
    )
    assert BOOK_CI[0] <= dml["ate"] <= BOOK_CI[1]
    # and the intervals agree with the book's to within a few tenths of a kilo
    for s in (linear, dml):
        assert abs(s["lower"] - 2.5) < 0.4 and abs(s["upper"] - 4.5) < 0.4


# ------------------------------------------------------ multi-valued treatment
@pytest.fixture(scope="module")
def three_arms():
    return make_causal_data(n=3000, seed=7, treatment="multi")


def _arrays(data):
    return data.Y.to_numpy(float), data.T.to_numpy(), data.X.to_numpy(float), data.W.to_numpy(float)


def test_econml_multi_valued_treatment_recovers_each_arm(three_arms):
    data, truth = three_arms
    models = {
        "dml": _dml(),
        "dr": uniml.make(
            "econml.dr",
            model_propensity=LogisticRegression(),
            model_regression=LinearRegression(),
            cv=2,
            random_state=0,
        ),
    }
    for name, model in models.items():
        model.fit(data)
        assert model.treatment_type_ == "multi" and model.treatment_levels_ == [0, 1, 2], name
        assert (model.control_, model.treated_) == (0, 2)  # default contrast: lowest -> highest arm
        for k in (1, 2):
            s = model.effect_summary(treated=k)
            level = truth["levels"][k]
            assert s["treated"] == k and s["control"] == 0
            assert s["lower"] <= level["ate"] <= s["upper"], (name, k, s, level["ate"])
            pred = model.predict(data.frame, treated=k)
            rmse = float(np.sqrt(((pred["effect"] - level["cate"].loc[pred.index]) ** 2).mean()))
            assert rmse < 0.15, (name, k, rmse)
        # arm 2 is not twice arm 1 here (curvature): each arm is estimated on its own
        gap = model.effect_summary(treated=2)["ate"] - 2 * model.effect_summary(treated=1)["ate"]
        assert abs(gap - 0.5) < 0.3, (name, gap)
        pd.testing.assert_frame_equal(
            model.predict(data.frame), model.predict(data.frame, treated=2)
        )


def test_econml_multi_valued_treatment_equals_raw_econml(three_arms):
    from econml.dml import LinearDML
    from econml.dr import LinearDRLearner
    from econml.metalearners import TLearner

    data, _ = three_arms
    y, t, X, W = _arrays(data)
    dml = _dml().fit(data)
    raw = LinearDML(
        model_y=LinearRegression(),
        model_t=LogisticRegression(),
        cv=2,
        random_state=0,
        discrete_treatment=True,
    ).fit(y, t, X=X, W=W)
    dr = uniml.make(
        "econml.dr",
        model_propensity=LogisticRegression(),
        model_regression=LinearRegression(),
        cv=2,
        random_state=0,
    ).fit(data)
    raw_dr = LinearDRLearner(
        model_propensity=LogisticRegression(),
        model_regression=LinearRegression(),
        cv=2,
        random_state=0,
    ).fit(y, t, X=X, W=W)
    meta = uniml.make(
        "econml.metalearner", models=LinearRegression(), n_bootstrap_samples=10, random_state=0
    ).fit(data)
    XW = np.column_stack([X, W])
    raw_meta = TLearner(models=LinearRegression()).fit(y, t, X=XW)
    for k in (1, 2):
        np.testing.assert_array_equal(
            dml.predict(data.frame, treated=k)["effect"], raw.effect(X, T0=0, T1=k)
        )
        lower, upper = raw.effect_interval(X, T0=0, T1=k, alpha=0.1)
        got = dml.predict(data.frame, alpha=0.1, treated=k)
        np.testing.assert_array_equal(got["lower"], lower)
        np.testing.assert_array_equal(got["upper"], upper)
        assert dml.effect_summary(treated=k)["ate"] == raw.ate(X, T0=0, T1=k)
        np.testing.assert_array_equal(
            dr.predict(data.frame, treated=k)["effect"], raw_dr.effect(X, T0=0, T1=k)
        )
        np.testing.assert_allclose(
            meta.predict(data.frame, treated=k)["effect"],
            raw_meta.effect(XW, T0=0, T1=k),
            rtol=1e-12,
            atol=1e-12,
        )
    # the explanation follows the contrast: SHAP of arm 2's CATE, additive to it
    exp = dml.explain(data.frame.head(10))
    assert exp.meta["contrast"] == (0, 2) and exp.additive
    np.testing.assert_allclose(
        exp.reconstruction(), dml.predict(data.frame.head(10))["effect"], atol=1e-6
    )


def test_dowhy_multi_valued_treatment_each_level_against_truth_and_raw_dowhy():
    import dowhy

    # DoWhy's linear regression is linear in the treatment value: generate data for which that is right
    data, truth = make_causal_data(n=3000, seed=8, treatment="multi", curvature=0.0)
    model = uniml.make("dowhy.effect", random_state=0, num_simulations=3).fit(data)
    raw = dowhy.CausalModel(
        data=data.frame.reset_index(drop=True),
        treatment="t",
        outcome="y",
        common_causes=["w1", "w2"],
        effect_modifiers=["x1", "x2"],
    )
    estimand = raw.identify_effect(
        proceed_when_unidentifiable=True, method_name="maximal-adjustment"
    )
    for k in (1, 2):
        s = model.effect_summary(treated=k)
        assert s["lower"] <= truth["levels"][k]["ate"] <= s["upper"], (k, s)
        pred = model.predict(data.frame, treated=k)
        rmse = float(
            np.sqrt(((pred["effect"] - truth["levels"][k]["cate"].loc[pred.index]) ** 2).mean())
        )
        assert rmse < 0.08 * k, (k, rmse)  # the error scales with the dose k (the fit is per unit)
        value = raw.estimate_effect(
            estimand, method_name="backdoor.linear_regression", control_value=0, treatment_value=k
        ).value
        assert s["ate"] == pytest.approx(float(value), abs=1e-9)


def test_treated_level_is_checked(three_arms):
    data, _ = three_arms
    model = _dml().fit(data)
    with pytest.raises(
        uniml.DataContractError,
        match=r"treated=5 is not a treatment level seen at fit; levels are \[0, 1, 2\]",
    ):
        model.predict(data.frame, treated=5)
    with pytest.raises(uniml.DataContractError, match="control level itself"):
        model.effect_summary(treated=0)
    with pytest.raises(uniml.DataContractError, match="needs a binary treatment.*multi"):
        uniml.make("dowhy.effect", method="backdoor.propensity_score_weighting").fit(data)


# ------------------------------------------------ the libraries' own generators
def test_known_truth_from_dowhys_linear_dataset():
    import dowhy.datasets

    from uniml.core.causal import seeded_global_numpy

    # a continuous treatment: DoWhy 0.14's binary conversion (np.vectorize) fails under numpy 2.4
    with seeded_global_numpy(3):  # DoWhy's generator draws from numpy's global state
        ds = dowhy.datasets.linear_dataset(
            beta=10,
            num_common_causes=3,
            num_effect_modifiers=0,
            num_samples=3000,
            treatment_is_binary=False,
        )
    frame = ds["df"]
    roles = {
        "outcome": ds["outcome_name"],
        "treatment": ds["treatment_name"][0],
        "confounders": list(ds["common_causes_names"]),
    }
    truth = float(ds["ate"])  # per unit of treatment: the contrast 0 -> 1
    unit = {"control_value": 0.0, "treated_value": 1.0}
    for model in (
        uniml.make("dowhy.effect", random_state=0, **unit),
        uniml.make(
            "econml.dml",
            model_y=LinearRegression(),
            model_t=LinearRegression(),
            cv=2,
            random_state=0,
            **unit,
        ),
    ):
        s = model.fit(frame, **roles).effect_summary()
        assert s["lower"] <= truth <= s["upper"], (model.name, s, truth)


def test_known_truth_from_econmls_ihdp_surfaces():
    from econml.data.dgps import ihdp_surface_A, ihdp_surface_B

    for surface, seed in ((ihdp_surface_A, 0), (ihdp_surface_B, 1)):
        Y, T, X, true_te = surface(random_state=seed)
        names = [f"x{i}" for i in range(X.shape[1])]
        frame = pd.DataFrame(X, columns=names).assign(y=Y, t=T.astype(int))
        model = uniml.make(
            "econml.dml",
            model_y=LinearRegression(),
            model_t=LogisticRegression(max_iter=2000),
            cv=3,
            random_state=0,
        )
        s = model.fit(frame, outcome="y", treatment="t", effect_modifiers=names).effect_summary()
        assert s["lower"] <= float(np.mean(true_te)) <= s["upper"], (
            surface.__name__,
            s,
            np.mean(true_te),
        )
        if (
            surface is ihdp_surface_A
        ):  # constant effect 4: the linear CATE model is right, rows stay close
            rmse = float(
                np.sqrt(np.mean((model.predict(frame)["effect"].to_numpy() - true_te) ** 2))
            )
            assert rmse < 1.0, rmse


# ------------------------------------------------------- more DoWhy estimators
@pytest.mark.parametrize(
    "method",
    [
        "backdoor.propensity_score_matching",
        "backdoor.propensity_score_stratification",
        "backdoor.econml.dml.LinearDML",
    ],
)
def test_dowhy_methods_cover_truth_and_equal_raw_dowhy(method):
    import dowhy

    data, truth = make_causal_data(n=1500, seed=0)
    extra = {}
    if "econml" in method:  # an EconML estimator through DoWhy
        extra["method_params"] = {
            "init_params": {
                "model_y": LinearRegression(),
                "model_t": LogisticRegression(),
                "discrete_treatment": True,
                "cv": 2,
                "random_state": 0,
            },
            "fit_params": {},
        }
    model = uniml.make("dowhy.effect", method=method, random_state=0, n_bootstrap=8, **extra).fit(
        data
    )
    s = model.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"], s
    raw = dowhy.CausalModel(
        data=data.frame.reset_index(drop=True),
        treatment="t",
        outcome="y",
        common_causes=["w1", "w2"],
        effect_modifiers=["x1", "x2"],
    )
    estimand = raw.identify_effect(
        proceed_when_unidentifiable=True, method_name="maximal-adjustment"
    )
    raw_params = extra.get("method_params")
    if "propensity_score" in method:  # uniml's default propensity model: scaled, converging
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        raw_params = {
            "propensity_score_model": make_pipeline(
                StandardScaler(), LogisticRegression(max_iter=10_000)
            )
        }
    value = raw.estimate_effect(
        estimand,
        method_name=method,
        control_value=0,
        treatment_value=1,
        method_params=raw_params,
    ).value
    assert s["ate"] == pytest.approx(float(np.ravel(value)[0]), abs=1e-9)


def test_dowhy_bootstrap_refuter_passes_on_a_correct_model():
    data, _ = make_causal_data(n=800, seed=1)
    # without effect modifiers: DoWhy's bootstrap then skips its slow per-subgroup effects
    model = uniml.make(
        "dowhy.effect", random_state=0, num_simulations=3, refuters=("bootstrap_refuter",)
    ).fit(data.frame, outcome="y", treatment="t", confounders=["w1", "w2", "x1", "x2"])
    table = model.refute()
    assert table["refuter"].tolist() == ["bootstrap_refuter"]
    assert table["passed"].all(), table
    with pytest.raises(uniml.UnimlError, match="unknown refuter"):
        uniml.make("dowhy.effect", refuters=("nope",)).fit(data).refute()


def test_generic_dr_learner_gets_seeded_bootstrap_intervals_equal_to_raw_econml():
    from econml.dr import DRLearner
    from econml.inference import BootstrapInference

    from uniml.core.causal import seeded_global_numpy

    data, truth = make_causal_data(n=1000, seed=2)
    params = {
        "model_propensity": LogisticRegression(),
        "model_regression": LinearRegression(),
        "model_final": LinearRegression(),
        "cv": 2,
        "random_state": 0,
    }
    model = uniml.make("econml.dr", estimator="dr", n_bootstrap_samples=10, **params).fit(data)
    s = model.effect_summary()
    assert s["lower"] <= truth["ate"] <= s["upper"]
    pred = model.predict(data.frame.head(50))
    assert (pred["lower"] <= pred["effect"]).all() and (pred["effect"] <= pred["upper"]).all()
    y, t, X, W = _arrays(data)
    with seeded_global_numpy(0):
        raw = DRLearner(**params).fit(
            y, t, X=X, W=W, inference=BootstrapInference(n_bootstrap_samples=10, n_jobs=1)
        )
    lower, upper = raw.effect_interval(X[:50], T0=0, T1=1, alpha=0.05)
    np.testing.assert_array_equal(pred["effect"], raw.effect(X[:50], T0=0, T1=1))
    np.testing.assert_array_equal(pred["lower"], lower)
    np.testing.assert_array_equal(pred["upper"], upper)


def test_dowhy_explain_without_refuters_converts_to_a_frame():
    data, _ = make_causal_data(n=200, seed=0)
    model = uniml.make("dowhy.effect", random_state=0).fit(data)
    exp = model.explain(data.frame.head(3), refute=False)
    assert exp.importance is None
    assert exp.to_frame().columns.tolist() == ["feature", "importance"]
