"""Behaviour of the tabular adapters beyond the conformance suite."""

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

import uniml
from uniml.core import events
from uniml.core.adapter import ProbabilityFrame
from uniml.core.schema import Column

FAST = {
    "lightgbm": {"n_estimators": 10, "verbose": -1, "n_jobs": 1},
    "xgboost": {"n_estimators": 10, "n_jobs": 1},
}


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True, as_frame=True)


@pytest.mark.parametrize("lib", ["lightgbm", "xgboost"])
def test_fit_on_tabular_data_contract_equals_fit_xy(lib, diabetes):
    X, y = diabetes
    frame = X.assign(progression=y)
    a = uniml.make(f"{lib}.regressor", **FAST[lib]).fit(
        uniml.TabularData(frame, target="progression")
    )
    b = uniml.make(f"{lib}.regressor", **FAST[lib]).fit(X, y.rename("progression"))
    assert np.array_equal(a.predict(X), b.predict(X))
    assert a.predict(X).name == "progression"


def test_tabular_data_weight_reaches_the_library(diabetes):
    X, y = diabetes
    w = pd.Series(np.where(y > y.median(), 10.0, 0.1), index=X.index)
    frame = X.assign(y=y, w=w)
    weighted = uniml.make("lightgbm.regressor", **FAST["lightgbm"]).fit(
        uniml.TabularData(frame, target="y", weight="w")
    )
    plain = uniml.make("lightgbm.regressor", **FAST["lightgbm"]).fit(X, y)
    explicit = uniml.make("lightgbm.regressor", **FAST["lightgbm"]).fit(X, y, sample_weight=w)
    assert np.array_equal(weighted.predict(X), explicit.predict(X))
    assert not np.array_equal(weighted.predict(X), plain.predict(X))


@pytest.mark.parametrize(
    ("y_change", "message"),
    [
        (lambda y: y.iloc[:-1], "X has 442 rows but y has 441"),
        (lambda y: y.sample(frac=1.0, random_state=0), "index differs"),
        (lambda y: y.where(y > 50), "missing value"),
        (lambda y: None, "needs a target"),
    ],
)
def test_bad_targets_get_data_contract_errors(diabetes, y_change, message):
    X, y = diabetes
    with pytest.raises(uniml.DataContractError, match=message):
        uniml.make("lightgbm.regressor", **FAST["lightgbm"]).fit(X, y_change(y))


def test_single_class_is_refused(cancer):
    X, y = cancer
    with pytest.raises(uniml.DataContractError, match="at least 2 classes"):
        uniml.make("xgboost.classifier", **FAST["xgboost"]).fit(X, pd.Series(1, index=X.index))


def test_xgboost_categorical_without_enable_categorical_is_a_clear_error():
    X = pd.DataFrame({"c": pd.Categorical(["a", "b"] * 10), "x": np.arange(20.0)})
    with pytest.raises(
        uniml.DataContractError, match="column 'c' is categorical.*enable_categorical"
    ):
        uniml.make("xgboost.regressor", **FAST["xgboost"]).fit(X, np.arange(20.0))


@pytest.mark.parametrize("lib", ["lightgbm", "xgboost"])
def test_categories_listed_in_another_order_predict_the_same(lib):
    rng = np.random.default_rng(0)
    levels = ["red", "green", "blue"]
    X = pd.DataFrame(
        {"c": pd.Categorical(rng.choice(levels, 300), categories=levels), "x": rng.normal(size=300)}
    )
    y = X["c"].map({"red": 3.0, "green": 0.0, "blue": -3.0}).astype(float) + X["x"]
    params = {
        **FAST[lib],
        **({"enable_categorical": True} if lib == "xgboost" else {"min_child_samples": 5}),
    }
    model = uniml.make(f"{lib}.regressor", **params).fit(X, y)
    shuffled = X.assign(
        c=pd.Categorical(X["c"].astype(str), categories=["blue", "red", "green", "purple"])
    )
    assert np.array_equal(model.predict(X), model.predict(shuffled))
    assert shuffled["c"].cat.categories.tolist() == [
        "blue",
        "red",
        "green",
        "purple",
    ]  # input untouched


@pytest.mark.parametrize(
    "scoring", ["roc_auc", "neg_log_loss", "neg_brier_score", "average_precision"]
)
def test_probability_scorers_work_in_cross_validation(cancer, scoring):
    from sklearn.model_selection import cross_val_score

    X, y = cancer
    scores = cross_val_score(
        uniml.make("lightgbm.classifier", **FAST["lightgbm"]),
        X,
        y,
        scoring=scoring,
        cv=3,
        error_score="raise",
    )
    assert np.all(np.isfinite(scores))


def test_predict_proba_is_a_frame_aligned_to_the_input(cancer):
    X, y = cancer
    model = uniml.make("xgboost.classifier", **FAST["xgboost"]).fit(
        X, y.map({0: "malignant", 1: "benign"})
    )
    sub = X.iloc[[5, 1, 3]]
    proba = model.predict_proba(sub)
    assert isinstance(proba, pd.DataFrame)
    assert proba.index.equals(sub.index)
    assert list(proba.columns) == ["benign", "malignant"]
    assert np.array_equal(proba[:, 1], proba["malignant"].to_numpy())
    assert list(model.predict(sub)) == list(proba.idxmax(axis=1))


def test_predict_proba_is_absent_for_regressors(diabetes):
    from sklearn.linear_model import Ridge

    X, y = diabetes
    model = uniml.make("sklearn.estimator", estimator=Ridge()).fit(X, y)
    assert not hasattr(model, "predict_proba")
    assert not hasattr(uniml.make("lightgbm.regressor"), "predict_proba")


def test_permutation_importance_for_models_without_native_explanations(diabetes):
    from sklearn.neighbors import KNeighborsRegressor

    X, y = diabetes
    model = uniml.make("sklearn.estimator", estimator=KNeighborsRegressor()).fit(X, y)
    against_y = model.explain(X, y=y)
    own = model.explain(X)
    for exp in (against_y, own):
        assert exp.kind == "permutation" and exp.additive is False and exp.contributions is None
        assert set(exp.importance.index) == set(X.columns)
    assert against_y.meta["reference"] == "y" and own.meta["reference"] == "own predictions"
    # the two strongest diabetes drivers dominate both ways
    assert {"bmi", "s5"} & set(against_y.importance.index[:3])
    assert against_y.to_frame().columns.tolist() == ["feature", "importance"]


def test_linear_pipeline_explanations_are_over_transformed_features(diabetes):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    X, y = diabetes
    model = uniml.make(
        "sklearn.estimator", estimator=make_pipeline(PolynomialFeatures(2), Ridge())
    ).fit(X, y)
    exp = model.explain(X.head(20))
    assert exp.kind == "linear" and exp.additive
    assert "bmi^2" in exp.contributions.columns
    assert exp.additivity_error() < 1e-9
    assert np.allclose(exp.reconstruction(), model.predict(X.head(20)), rtol=0, atol=1e-9)


def test_events_fire_for_fit_predict_explain(diabetes):
    X, y = diabetes
    seen = []
    listener = events.subscribe(lambda name, payload: seen.append((name, payload)))
    try:
        model = uniml.make("lightgbm.regressor", **FAST["lightgbm"]).fit(X, y)
        model.predict(X.head(2))
        model.explain(X.head(2))
    finally:
        events.unsubscribe(listener)
    assert [name for name, _ in seen] == ["fit_start", "fit_end", "predict", "explain"]
    assert seen[1][1]["adapter"] is model and seen[1][1]["duration"] > 0
    model.predict(X.head(1))
    assert len(seen) == 4  # unsubscribed


def test_a_failing_listener_never_breaks_fit(diabetes):
    X, y = diabetes

    def broken(name, payload):
        raise RuntimeError("sink down")

    events.subscribe(broken)
    try:
        with pytest.warns(uniml.UnimlWarning, match="sink down"):
            uniml.make("lightgbm.regressor", **FAST["lightgbm"]).fit(X, y)
    finally:
        events.unsubscribe(broken)


def test_lightgbm_is_quiet_by_default(diabetes, capfd):
    X, y = diabetes
    uniml.make("lightgbm.regressor", n_estimators=5, n_jobs=1).fit(X, y)
    assert "[LightGBM]" not in capfd.readouterr().out
    uniml.make("lightgbm.regressor", n_estimators=5, n_jobs=1, verbose=1).fit(X, y)
    assert "[LightGBM]" in capfd.readouterr().out


def test_early_stopping_best_iteration_is_used_and_survives_save(diabetes, tmp_path):
    import xgboost

    X, y = diabetes
    Xtr, Xva, ytr, yva = X.iloc[:350], X.iloc[350:], y.iloc[:350], y.iloc[350:]
    params = {"n_estimators": 300, "learning_rate": 0.3, "early_stopping_rounds": 5, "n_jobs": 1}
    model = uniml.make("xgboost.regressor", **params).fit(
        Xtr, ytr, eval_set=[(Xva, yva)], verbose=False
    )
    raw = xgboost.XGBRegressor(**params).fit(Xtr, ytr, eval_set=[(Xva, yva)], verbose=False)
    assert raw.best_iteration < 299
    assert np.array_equal(model.predict(Xva).to_numpy(), raw.predict(Xva))
    loaded = uniml.load(model.save(tmp_path / "m"))
    assert np.array_equal(loaded.predict(Xva), model.predict(Xva))


def test_categorical_dtype_of_a_non_categorical_column_is_a_clear_type_error():
    with pytest.raises(TypeError, match="'price' is not categorical"):
        Column("price", "float64", "float").categorical_dtype()


def test_probability_frame_constructor_is_dataframes():
    proba = ProbabilityFrame([[0.2, 0.8]], index=["r"], columns=["no", "yes"])
    assert proba[:, 1].tolist() == [0.8]
    assert type(proba * 2) is pd.DataFrame
    assert list(inspect.signature(ProbabilityFrame).parameters) == [
        "data",
        "index",
        "columns",
        "dtype",
        "copy",
    ]
