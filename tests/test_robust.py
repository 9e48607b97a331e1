"""Bad input becomes a typed uniml error naming the column or argument (issue 14, issue 15 item 2)."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import uniml
from uniml.core.catalog import get_adapter_class

TABULAR = {
    "lightgbm.regressor": {"n_estimators": 5, "verbose": -1, "n_jobs": 1},
    "xgboost.regressor": {"n_estimators": 5, "n_jobs": 1},
    "sklearn.estimator": {"estimator": LinearRegression()},
    "statsmodels.ols": {},
}
CLASSIFIERS = {
    "lightgbm.classifier": {"n_estimators": 5, "verbose": -1, "n_jobs": 1},
    "xgboost.classifier": {"n_estimators": 5, "n_jobs": 1},
    "sklearn.estimator": {"estimator": LogisticRegression()},
    "statsmodels.logit": {},
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = pd.Series(X["a"] * 2 + rng.normal(size=60), name="target")
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return {name: uniml.make(name, **kw).fit(X, y) for name, kw in TABULAR.items()}


# ------------------------------------------------------------------ item 7: inf
@pytest.mark.parametrize("name", [*TABULAR, "lightgbm.classifier", "xgboost.classifier"])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_target_is_refused_naming_it(name, value, data):
    X, y = data
    kwargs = TABULAR[name] if name in TABULAR else CLASSIFIERS[name]
    target = (y > 0).astype(float) if "classifier" in name else y.copy()
    target.iloc[3] = value
    with pytest.raises(uniml.DataContractError, match=r"target 'target' has 1 infinite"):
        uniml.make(name, **kwargs).fit(X, target)


@pytest.mark.parametrize("name", list(TABULAR))
def test_infinite_feature_is_refused_at_fit_and_predict(name, data, fitted):
    X, y = data
    bad = X.assign(b=X["b"].where(X.index != 5, np.inf))
    with pytest.raises(uniml.SchemaError, match="column 'b' has 1 infinite") as err:
        uniml.make(name, **TABULAR[name]).fit(bad, y)
    assert err.value.column == "b"
    with pytest.raises(uniml.SchemaError, match="column 'b'"):
        fitted[name].predict(bad)
    # arrays are named by position, as the schema names them
    with pytest.raises(uniml.SchemaError, match="column 'x1'"):
        uniml.make(name, **TABULAR[name]).fit(bad.to_numpy(), y.to_numpy())


def test_lightgbm_no_longer_extrapolates_from_an_inf_target(data):
    """The report's case: LightGBM predicted ~1e36 after an inf target; now it never fits."""
    X, y = data
    with pytest.raises(uniml.DataContractError):
        uniml.make("lightgbm.regressor", **TABULAR["lightgbm.regressor"]).fit(
            X, y.where(y.index != 0, np.inf)
        )


def test_infinite_values_in_causal_and_forecast_roles_are_refused():
    frame = pd.DataFrame({"y": [1.0, np.inf, 2.0, 3.0], "t": [0, 1, 0, 1], "w": [1.0, 2, 3, 4]})
    with pytest.raises(uniml.DataContractError, match="role 'outcome': column 'y' has 1 infinite"):
        uniml.CausalData(frame, outcome="y", treatment="t", confounders=["w"])
    ts = pd.DataFrame({"ds": pd.date_range("2024", periods=4), "y": [1.0, 2.0, -np.inf, 3.0]})
    with pytest.raises(uniml.DataContractError, match="role 'target': column 'y' has 1 infinite"):
        uniml.ForecastData(ts, time="ds", target="y")


# ------------------------------------------------------- item 8: statsmodels NaN
@pytest.mark.parametrize("name", ["statsmodels.ols", "statsmodels.glm", "statsmodels.logit"])
def test_statsmodels_linear_models_refuse_missing_features(name, data):
    X, y = data
    target = (y > 0).astype(int) if name.endswith("logit") else y
    holed = X.assign(a=X["a"].where(X.index != 2))
    with pytest.raises(uniml.SchemaError, match="column 'a' has 1 missing") as err:
        uniml.make(name).fit(holed, target)
    assert err.value.column == "a"
    model = uniml.make(name).fit(X, target)
    for method in ("predict", "explain") + (("predict_proba",) if name.endswith("logit") else ()):
        with pytest.raises(uniml.SchemaError, match="column 'a' has 1 missing"):
            getattr(model, method)(holed)


# ------------------------------------------------------------ raw library errors
@pytest.mark.parametrize("name", ["lightgbm.regressor", "xgboost.regressor", "statsmodels.ols"])
def test_text_columns_at_fit_are_named(name, data):
    X, y = data
    with pytest.raises(uniml.SchemaError, match="column 's' has dtype") as err:
        uniml.make(name, **TABULAR[name]).fit(X.assign(s=["u", "v"] * 30), y)
    assert err.value.column == "s"


def test_empty_frame_at_predict_gives_an_empty_result_for_every_tabular_adapter(data, fitted):
    X, y = data
    for name, model in fitted.items():
        pred = model.predict(X.iloc[:0])
        assert len(pred) == 0 and pred.name == "target" and pred.dtype == float, name
    labels = (y > 0).map({True: "yes", False: "no"})
    for name, kw in CLASSIFIERS.items():
        model = uniml.make(name, **kw).fit(X, labels)
        assert model.predict(X.iloc[:0]).dtype == model.classes_.dtype, name
        proba = model.predict_proba(X.iloc[:0])
        assert proba.shape == (0, 2) and list(proba.columns) == ["no", "yes"], name


def test_duplicated_column_names_at_predict_are_named(data, fitted):
    X, _ = data
    dup = pd.concat([X, X[["a"]]], axis=1)
    for name, model in fitted.items():
        with pytest.raises(uniml.SchemaError, match="column 'a' appears more than once") as err:
            model.predict(dup)
        assert err.value.column == "a", name


@pytest.mark.parametrize("horizon", [2.5, 0, -1, "3", True])
def test_forecast_horizon_must_be_a_whole_positive_number(horizon):
    ts = pd.DataFrame({"ds": pd.date_range("2024", periods=30), "y": np.arange(30.0) % 7})
    model = uniml.make("statsmodels.ets").fit(uniml.ForecastData(ts, time="ds", target="y"))
    with pytest.raises(uniml.ParameterError, match="horizon") as err:
        model.predict(horizon=horizon)
    assert err.value.parameter == "horizon"
    assert len(model.predict(horizon=3.0)) == 3  # a whole float is that many steps


def test_recommendation_k_zero_is_a_parameter_error():
    inter = pd.DataFrame({"user": ["a", "a", "b"], "item": [1, 2, 1]})
    model = uniml.make("lightfm.recommender", epochs=1, random_state=0).fit(inter)
    with pytest.raises(uniml.ParameterError, match="k must be a positive integer") as err:
        model.predict(["a"], k=0)
    assert err.value.parameter == "k"


# --------------------------------------------------------------------- save()
def test_save_onto_a_file_is_a_typed_error(tmp_path, fitted):
    target = tmp_path / "model"
    target.write_text("not a folder")
    with pytest.raises(uniml.FolderExistsError, match="not a folder"):
        fitted["statsmodels.ols"].save(target)
    assert target.read_text() == "not a folder"


def test_overwrite_replaces_a_previous_save_but_never_unrelated_files(tmp_path, data, fitted):
    X, _ = data
    folder = tmp_path / "m"
    fitted["lightgbm.regressor"].save(folder)
    with pytest.raises(uniml.FolderExistsError, match="overwrite=True"):
        fitted["xgboost.regressor"].save(folder)
    (folder / "notes.md").write_text("my notes")
    with pytest.raises(uniml.FolderExistsError, match="notes.md"):
        fitted["xgboost.regressor"].save(folder, overwrite=True)
    assert (folder / "notes.md").read_text() == "my notes"
    assert (folder / "model.txt").exists()  # the refused overwrite removed nothing
    (folder / "notes.md").unlink()
    fitted["xgboost.regressor"].save(folder, overwrite=True)
    manifest = json.loads((folder / "uniml.json").read_text())
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*manifest["artifacts"], "uniml.json"]
    )
    np.testing.assert_array_equal(
        uniml.load(folder).predict(X), fitted["xgboost.regressor"].predict(X)
    )


def test_overwrite_refuses_a_folder_that_is_not_a_uniml_save(tmp_path, fitted):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n")
    with pytest.raises(uniml.FolderExistsError, match="data.csv"):
        fitted["statsmodels.ols"].save(folder, overwrite=True)
    assert (folder / "data.csv").read_text() == "a,b\n"


def test_overwrite_ignores_manifest_entries_outside_the_folder(tmp_path, fitted):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    folder = fitted["statsmodels.ols"].save(tmp_path / "m")
    manifest = json.loads((folder / "uniml.json").read_text())
    manifest["artifacts"]["../precious.txt"] = {"format": "npz-json"}
    (folder / "uniml.json").write_text(json.dumps(manifest))
    fitted["statsmodels.ols"].save(folder, overwrite=True)
    assert outside.read_text() == "keep"


# ------------------------------------------------- issue 15 item 2: typos
TYPOS = [
    ("lightgbm.regressor", "num_leafs", "num_leaves"),
    ("lightgbm.classifier", "learning_rat", "learning_rate"),
    ("xgboost.regressor", "max_dept", "max_depth"),
    ("xgboost.classifier", "n_estimator", "n_estimators"),
    ("statsmodels.ets", "trnd", "trend"),
    ("statsmodels.sarimax", "seasonal_ordr", "seasonal_order"),
    ("prophet.forecaster", "growht", "growth"),
    ("lightfm.recommender", "no_component", "no_components"),
]


@pytest.mark.parametrize(("name", "typo", "meant"), TYPOS)
def test_hyperparameter_typos_are_caught_with_close_matches(name, typo, meant):
    with pytest.raises(uniml.UnknownParameterError) as err:
        get_adapter_class(name).check_param_names([typo])
    assert isinstance(err.value, uniml.ParameterError) and isinstance(err.value, TypeError)
    assert err.value.parameter == typo
    assert meant in err.value.suggestions and repr(meant) in str(err.value)


@pytest.mark.parametrize("name", ["lightgbm.regressor", "xgboost.regressor"])
def test_typos_also_fail_at_fit_after_set_params(name, data):
    X, y = data
    model = uniml.make(name, **TABULAR[name]).set_params(colsample_bytre=0.5)
    with pytest.raises(uniml.UnknownParameterError, match="colsample_bytree"):
        model.fit(X, y)


def test_library_aliases_are_accepted_and_mean_the_same(data):
    X, y = data
    base = {"n_estimators": 5, "verbose": -1, "n_jobs": 1}
    canonical = uniml.make("lightgbm.regressor", num_leaves=3, **base).fit(X, y).predict(X)
    alias = uniml.make("lightgbm.regressor", max_leaves=3, **base).fit(X, y).predict(X)
    np.testing.assert_array_equal(canonical, alias)
    xgb = {"n_estimators": 5, "n_jobs": 1}
    a = uniml.make("xgboost.regressor", learning_rate=0.2, **xgb).fit(X, y).predict(X)
    b = uniml.make("xgboost.regressor", eta=0.2, **xgb).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


def test_extra_params_pass_keywords_through_unchecked(data):
    X, y = data
    base = {"n_estimators": 5, "verbose": -1, "n_jobs": 1}
    plain = uniml.make("lightgbm.regressor", num_leaves=3, **base).fit(X, y)
    hatch = uniml.make("lightgbm.regressor", extra_params={"num_leaves": 3}, **base).fit(X, y)
    np.testing.assert_array_equal(plain.predict(X), hatch.predict(X))
    assert hatch.booster_.params["num_leaves"] == 3
    with pytest.raises(uniml.ParameterError, match="extra_params must be a dict"):
        uniml.make("lightgbm.regressor", extra_params=["num_leaves"], **base).fit(X, y)


def test_every_checked_adapter_knows_its_own_test_params():
    for name in uniml.adapters()["name"]:
        cls = get_adapter_class(name)
        if getattr(cls, "_known_params", None) is None or not cls.info()["installed"]:
            continue
        for params in cls._test_params():
            cls.check_param_names(params)  # never a false alarm on our own settings
