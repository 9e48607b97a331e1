"""Parity: every tabular adapter predicts exactly what the raw library predicts.

On scikit-learn's bundled datasets — diabetes (regression), breast cancer
(binary) and wine (multiclass) — each adapter is fitted next to the raw
library estimator with the same hyperparameters and seed on the same frame,
and the two must agree:

* ``predict`` and ``predict_proba``: **bit-for-bit** (``np.array_equal``) for
  every adapter. No pair needs a tolerance: the adapters hand the library the
  same float64 data and call the same prediction routine (LightGBM/XGBoost
  adapters call the Booster directly, on a single thread for small batches,
  but per-row tree traversal is the same arithmetic in the same order whatever
  the thread count).
* explanations: LightGBM/XGBoost adapter contributions equal the raw booster's
  ``pred_contrib`` / ``pred_contribs`` output bit-for-bit, and scikit-learn
  tree models' contributions equal ``shap.TreeExplainer`` on the raw model
  bit-for-bit.
* string class labels: raw XGBoost refuses them, so the adapter is compared
  with the raw classifier fitted on the sorted integer codes (which is what the
  adapter feeds it); raw LightGBM and scikit-learn accept strings and are
  compared directly as well.

Hyperparameters include row/column subsampling so that the seed actually
matters: a seed that was dropped or changed on the way to the library would
show up as a different model.

Predictions are compared on the full training frame and on a 7-row slice:
LightGBM's adapter predicts batches of <= 512 rows single-threaded, so the
two sizes exercise both code paths (breast cancer has 569 rows).
"""

from __future__ import annotations

from functools import cache

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import uniml

# --------------------------------------------------------------------- data
_LOADERS = {"regression": load_diabetes, "binary": load_breast_cancer, "multiclass": load_wine}


@cache
def _bunch(task: str):
    return _LOADERS[task](as_frame=True)


def dataset(task: str) -> tuple[pd.DataFrame, pd.Series]:
    """(X, y) of the bundled dataset for ``task``; fresh copies, so no test can leak into another."""
    bunch = _bunch(task)
    return bunch.data.copy(), bunch.target.copy()


def string_labels(task: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """X, y as the dataset's class *names* (object array), and those names' sorted integer codes.

    For breast cancer the names sort in the opposite order to the integer target
    (0 = 'malignant', 1 = 'benign'), so the codes are not the original target.
    """
    bunch = _bunch(task)
    y_str = np.asarray(bunch.target_names, dtype=object)[bunch.target.to_numpy()]
    codes = np.unique(y_str, return_inverse=True)[1]
    return bunch.data.copy(), y_str, codes


# ------------------------------------------------------------- the models
# subsampling makes the seed matter; n_estimators ~50 keeps the file fast
# n_jobs=1: on a busy CI runner OpenMP thread start-up makes 50-tree fits on a few hundred
# rows take seconds instead of milliseconds (both sides get the same value, like every param)
LGB_PARAMS = {
    "n_estimators": 50,
    "num_leaves": 15,
    "learning_rate": 0.1,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "random_state": 7,
    "verbose": -1,
    "n_jobs": 1,
}
XGB_PARAMS = {
    "n_estimators": 50,
    "max_depth": 4,
    "learning_rate": 0.1,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "random_state": 7,
    "n_jobs": 1,
}
BOOSTERS = {
    # adapter name: (raw estimator class, params)
    "lightgbm.regressor": (lightgbm.LGBMRegressor, LGB_PARAMS),
    "lightgbm.classifier": (lightgbm.LGBMClassifier, LGB_PARAMS),
    "xgboost.regressor": (xgboost.XGBRegressor, XGB_PARAMS),
    "xgboost.classifier": (xgboost.XGBClassifier, XGB_PARAMS),
}
BOOSTER_CASES = [
    pytest.param(name, task, id=f"{name}-{task}")
    for name, task in [
        ("lightgbm.regressor", "regression"),
        ("lightgbm.classifier", "binary"),
        ("lightgbm.classifier", "multiclass"),
        ("xgboost.regressor", "regression"),
        ("xgboost.classifier", "binary"),
        ("xgboost.classifier", "multiclass"),
    ]
]


def _logit():
    return Pipeline([("scale", StandardScaler()), ("logit", LogisticRegression(max_iter=1000))])


SKLEARN_ESTIMATORS = {
    # id: (factory, tasks)
    "ridge": (lambda: Ridge(alpha=1.0), ("regression",)),
    "scaled-logit": (_logit, ("binary", "multiclass")),
    "random-forest-reg": (
        lambda: RandomForestRegressor(
            n_estimators=50, max_depth=6, max_features=0.5, random_state=7
        ),
        ("regression",),
    ),
    "random-forest-clf": (
        lambda: RandomForestClassifier(n_estimators=50, max_depth=6, random_state=7),
        ("binary", "multiclass"),
    ),
    "hist-gb-reg": (
        lambda: HistGradientBoostingRegressor(max_iter=50, max_features=0.5, random_state=7),
        ("regression",),
    ),
    "hist-gb-clf": (
        lambda: HistGradientBoostingClassifier(max_iter=50, max_features=0.5, random_state=7),
        ("binary", "multiclass"),
    ),
}
SKLEARN_CASES = [
    pytest.param(key, task, id=f"sklearn.estimator[{key}]-{task}")
    for key, (_, tasks) in SKLEARN_ESTIMATORS.items()
    for task in tasks
]


def fit_booster_pair(name: str, X, y):
    """(adapter, raw) fitted with identical parameters on the same data."""
    raw_class, params = BOOSTERS[name]
    raw = raw_class(**params).fit(X, y)
    adapter = uniml.make(name, **params).fit(X, y)
    return adapter, raw


def fit_sklearn_pair(key: str, X, y):
    estimator = SKLEARN_ESTIMATORS[key][0]()
    raw = clone(estimator).fit(X, y)
    adapter = uniml.make("sklearn.estimator", estimator=estimator).fit(X, y)
    return adapter, raw


# ---------------------------------------------------------------- asserts
@pytest.fixture(autouse=True)
def _single_threaded_openmp():
    """HistGradientBoosting has no n_jobs: pin OpenMP (and BLAS) for the same reason as n_jobs=1."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _leaf_params(estimator) -> dict:
    """Deep parameters without the (unfitted vs fitted) estimator objects themselves."""
    return {
        k: v
        for k, v in estimator.get_params(deep=True).items()
        if k != "steps" and not hasattr(v, "get_params")
    }


def assert_same_predictions(adapter, raw, X, classes=None):
    """predict (and predict_proba for classifiers) bit-for-bit, on the full frame and a small slice.

    ``classes`` maps the raw model's predicted labels to the adapter's (string-label tests).
    """
    for part in (X, X.iloc[[0, 3, 11, 50, 99, 120, 150]]):
        pred = adapter.predict(part)
        assert isinstance(pred, pd.Series)
        assert pred.index.equals(part.index)
        expected = raw.predict(part)
        if classes is not None:
            expected = classes[expected]
        np.testing.assert_array_equal(pred.to_numpy(), expected, strict=False)
        assert np.array_equal(pred.to_numpy(), expected)
        if is_classifier(raw):
            proba = adapter.predict_proba(part)
            raw_proba = raw.predict_proba(part)
            assert isinstance(proba, pd.DataFrame)
            assert proba.index.equals(part.index)
            assert list(proba.columns) == list(adapter.classes_)
            assert proba.to_numpy().dtype == raw_proba.dtype
            assert np.array_equal(proba.to_numpy(), raw_proba), (
                "predict_proba differs from the raw library"
            )


# ------------------------------------------------------------ predictions
@pytest.mark.parametrize(("name", "task"), BOOSTER_CASES)
def test_booster_predictions_equal_raw_library(name, task):
    X, y = dataset(task)
    adapter, raw = fit_booster_pair(name, X, y)
    # parameters reach the library unchanged (LightGBM's verbose=-1 is explicit here)
    assert adapter.model_.get_params() == raw.get_params()
    if is_classifier(raw):
        assert np.array_equal(adapter.classes_, raw.classes_)
    assert_same_predictions(adapter, raw, X)


@pytest.mark.parametrize(("key", "task"), SKLEARN_CASES)
def test_sklearn_predictions_equal_raw_library(key, task):
    X, y = dataset(task)
    adapter, raw = fit_sklearn_pair(key, X, y)
    assert _leaf_params(adapter.estimator_) == _leaf_params(raw)
    if is_classifier(raw):
        assert np.array_equal(adapter.classes_, raw.classes_)
    assert_same_predictions(adapter, raw, X)


def test_adapter_does_not_mutate_the_wrapped_estimator():
    X, y = dataset("regression")
    estimator = RandomForestRegressor(n_estimators=5, random_state=0)
    adapter = uniml.make("sklearn.estimator", estimator=estimator).fit(X, y)
    assert adapter.estimator is estimator
    assert not hasattr(estimator, "estimators_")  # fitted state lives in the clone, estimator_


# ---------------------------------------------------------- string labels
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_raw_xgboost_refuses_string_labels(task):
    """Why the adapter encodes labels itself: XGBoost insists on 0..k-1."""
    X, y_str, _ = string_labels(task)
    with pytest.raises(ValueError, match="Invalid classes"):
        xgboost.XGBClassifier(n_estimators=2).fit(X, y_str)


@pytest.mark.parametrize("name", ["xgboost.classifier", "lightgbm.classifier"])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_booster_string_labels_equal_raw_fit_on_codes(name, task):
    X, y_str, codes = string_labels(task)
    raw_class, params = BOOSTERS[name]
    raw = raw_class(**params).fit(X, codes)
    adapter = uniml.make(name, **params).fit(X, y_str)
    classes = np.unique(y_str)
    assert np.array_equal(adapter.classes_, classes)
    assert_same_predictions(adapter, raw, X, classes=classes)
    pred = adapter.predict(X)
    assert set(pred) <= set(classes)


def test_lightgbm_string_labels_equal_raw_fit_on_strings():
    """LightGBM encodes string labels itself; the adapter's encoding gives the same model."""
    X, y_str, _ = string_labels("binary")
    _, params = BOOSTERS["lightgbm.classifier"]
    raw = lightgbm.LGBMClassifier(**params).fit(X, y_str)
    adapter = uniml.make("lightgbm.classifier", **params).fit(X, y_str)
    assert np.array_equal(adapter.classes_, raw.classes_)
    assert_same_predictions(adapter, raw, X)


@pytest.mark.parametrize("key", ["scaled-logit", "random-forest-clf", "hist-gb-clf"])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_sklearn_string_labels_equal_raw(key, task):
    X, y_str, _ = string_labels(task)
    adapter, raw = fit_sklearn_pair(key, X, y_str)
    assert np.array_equal(adapter.classes_, raw.classes_)
    assert_same_predictions(adapter, raw, X)


# ----------------------------------------------------------- explanations
def _per_output(explanation, n_outputs: int, n_features: int) -> np.ndarray:
    """Contributions as an (n, k, p) array (k = 1 for single-output models)."""
    values = explanation.contributions.to_numpy()
    return values.reshape(len(values), n_outputs, n_features)


@pytest.mark.parametrize(
    ("name", "task"), [p for p in BOOSTER_CASES if p.values[0].startswith("lightgbm")]
)
def test_lightgbm_contributions_equal_pred_contrib(name, task):
    X, y = dataset(task)
    adapter, raw = fit_booster_pair(name, X, y)
    exp = adapter.explain(X)
    p = X.shape[1]
    native = raw.predict(X, pred_contrib=True)  # (n, k * (p + 1)), bias last in each block
    k = native.shape[1] // (p + 1)
    native = native.reshape(len(X), k, p + 1)
    assert exp.kind == "tree_shap"
    assert exp.contributions.index.equals(X.index)
    assert np.array_equal(_per_output(exp, k, p), native[:, :, :-1])
    assert np.array_equal(np.atleast_1d(np.asarray(exp.base_value, dtype=float)), native[0, :, -1])
    raw_score = raw.predict(X, raw_score=True)
    assert np.array_equal(np.asarray(exp.prediction).reshape(raw_score.shape), raw_score)


@pytest.mark.parametrize(
    ("name", "task"), [p for p in BOOSTER_CASES if p.values[0].startswith("xgboost")]
)
def test_xgboost_contributions_equal_pred_contribs(name, task):
    X, y = dataset(task)
    adapter, raw = fit_booster_pair(name, X, y)
    exp = adapter.explain(X)
    p = X.shape[1]
    native = raw.get_booster().predict(xgboost.DMatrix(X), pred_contribs=True)  # float32
    native = native.reshape(len(X), -1, p + 1)  # (n, k, p + 1); k = 1 unless multiclass
    k = native.shape[1]
    assert exp.kind == "tree_shap"
    assert exp.contributions.index.equals(X.index)
    # the adapter widens XGBoost's float32 to float64, which is exact
    assert np.array_equal(_per_output(exp, k, p), native[:, :, :-1].astype(np.float64))
    assert np.array_equal(np.atleast_1d(np.asarray(exp.base_value, dtype=float)), native[0, :, -1])
    margin = raw.predict(X, output_margin=True)
    assert np.array_equal(np.asarray(exp.prediction).reshape(margin.shape), margin)


SHAP_CASES = [
    pytest.param(factory, task, id=f"{label}-{task}")
    for label, factory, task in [
        ("random-forest-reg", SKLEARN_ESTIMATORS["random-forest-reg"][0], "regression"),
        ("random-forest-clf", SKLEARN_ESTIMATORS["random-forest-clf"][0], "binary"),
        ("random-forest-clf", SKLEARN_ESTIMATORS["random-forest-clf"][0], "multiclass"),
        (
            "extra-trees-reg",
            lambda: ExtraTreesRegressor(n_estimators=30, max_depth=6, random_state=7),
            "regression",
        ),
        (
            "gradient-boosting-clf",
            lambda: GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=7),
            "binary",
        ),
        (
            "decision-tree-clf",
            lambda: DecisionTreeClassifier(max_depth=5, random_state=7),
            "multiclass",
        ),
        ("hist-gb-reg", SKLEARN_ESTIMATORS["hist-gb-reg"][0], "regression"),
        ("hist-gb-clf", SKLEARN_ESTIMATORS["hist-gb-clf"][0], "binary"),
        ("hist-gb-clf", SKLEARN_ESTIMATORS["hist-gb-clf"][0], "multiclass"),
    ]
]


@pytest.mark.parametrize(("factory", "task"), SHAP_CASES)
def test_sklearn_tree_contributions_equal_shap_tree_explainer(factory, task):
    import shap

    X, y = dataset(task)
    estimator = factory()
    raw = clone(estimator).fit(X, y)
    adapter = uniml.make("sklearn.estimator", estimator=estimator).fit(X, y)
    exp = adapter.explain(X)
    explainer = shap.TreeExplainer(raw)
    values = np.asarray(explainer.shap_values(X))  # (n, p) or (n, p, k)
    expected_value = np.atleast_1d(explainer.expected_value)
    p = X.shape[1]
    k = 1 if values.ndim == 2 else values.shape[2]
    native = values.reshape(len(X), p, k).transpose(0, 2, 1)  # (n, k, p)
    assert exp.kind == "tree_shap"
    assert exp.contributions.index.equals(X.index)
    assert np.array_equal(_per_output(exp, k, p), native)
    assert np.array_equal(np.atleast_1d(np.asarray(exp.base_value, dtype=float)), expected_value)
