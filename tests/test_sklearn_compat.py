"""Tabular adapters are genuine scikit-learn estimators.

``fit(X, y)``, ``get_params``/``set_params``, ``clone``, Pipelines,
``GridSearchCV``, ``cross_val_score`` and meta-estimators work, and the
adapters pass scikit-learn's own ``check_estimator`` checks
(``parametrize_with_checks``), run over all five adapters — ``sklearn.estimator``
twice (wrapping ``Ridge`` and ``LogisticRegression``).

No check is skipped or marked xfail. A check that does not pass is listed in one
of two dicts, and the test asserts that it *really fails, for the stated
reason* (the exception must match ``Known.error``), so neither list can go stale:

* ``EXPECTED_FAILURES`` — the check conflicts with a documented uniml contract
  (DESIGN.md). What the check is after is tested explicitly further down where
  it can be.
* ``PENDING_FIXES`` — the check fails because of something in ``src/`` that
  can reasonably be fixed (the fix is in docs/sklearn-compatibility.md). Once a
  fix lands, the corresponding test fails with "remove it from PENDING_FIXES".

A check may be in both: then the pending fix comes first and, once applied, the
check fails for the (expected) reason in ``EXPECTED_FAILURES``.

``check_array_api_input`` skips itself unless ``SCIPY_ARRAY_API=1`` was set
before scipy was imported; instead of skipping, this module runs it in a
subprocess with that variable set.

The same lists, with reasons, are in docs/sklearn-compatibility.md.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import textwrap
import unittest
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightgbm  # noqa: F401
import numpy as np
import pandas as pd
import pytest
import xgboost  # noqa: F401
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import StackingClassifier, VotingRegressor
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

import uniml

# LogisticRegression() on unscaled data is what sklearn's checks use; its lbfgs warnings are noise
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SKLEARN_ADAPTER = "sklearn.estimator"
BOOSTER_ADAPTERS = (
    "lightgbm.regressor",
    "lightgbm.classifier",
    "xgboost.regressor",
    "xgboost.classifier",
)
CLASSIFIERS = ("sklearn.estimator[LogisticRegression]", "lightgbm.classifier", "xgboost.classifier")


def make_estimators() -> list:
    """The adapters under test, unfitted (small n_estimators; n_jobs=1 keeps tiny fits fast)."""
    return [
        uniml.make(SKLEARN_ADAPTER, estimator=Ridge()),
        uniml.make(SKLEARN_ADAPTER, estimator=LogisticRegression()),
        uniml.make("lightgbm.regressor", n_estimators=10, random_state=0, n_jobs=1, verbose=-1),
        uniml.make("lightgbm.classifier", n_estimators=10, random_state=0, n_jobs=1, verbose=-1),
        uniml.make("xgboost.regressor", n_estimators=10, max_depth=3, random_state=0, n_jobs=1),
        uniml.make("xgboost.classifier", n_estimators=10, max_depth=3, random_state=0, n_jobs=1),
    ]


def adapter_id(estimator) -> str:
    """``lightgbm.classifier``, or ``sklearn.estimator[Ridge]`` for the scikit-learn adapter."""
    if estimator.name == SKLEARN_ADAPTER:
        return f"{SKLEARN_ADAPTER}[{type(estimator.estimator).__name__}]"
    return estimator.name


# ------------------------------------------------------------------ known failures
@dataclass(frozen=True)
class Known:
    """Why a check fails, and how: ``error`` is a regex the check's exception must match."""

    reason: str
    error: str
    only: tuple[str, ...] = ()  # adapter ids it applies to; () = every adapter
    active: bool = True  # False where the installed versions do not have the conflict

    def applies_to(self, estimator) -> bool:
        return self.active and (not self.only or adapter_id(estimator) in self.only)

    def __str__(self) -> str:
        return self.reason


#: Checks that conflict with a documented uniml contract (DESIGN.md).
EXPECTED_FAILURES: dict[str, Known] = {
    "check_supervised_y_2d": Known(
        reason=(
            "predict returns a pandas Series aligned to X's index (DESIGN.md, 'Outputs'); the "
            "check ends with y_pred.ravel(), which pandas 3 Series no longer have. What the check "
            "verifies — a column-vector y gives the same predictions as a 1-D y — is tested in "
            "test_column_vector_y_gives_the_same_predictions."
        ),
        error=r"'Series' object has no attribute 'ravel'",
        # pandas 2 Series still have .ravel() (the oldest supported versions: nox -s oldest)
        active=int(pd.__version__.split(".")[0]) >= 3,
    ),
    "check_no_attributes_set_in_init": Known(
        reason=(
            "LightGBM/XGBoost adapters take the library's hyperparameters verbatim as **params "
            "(LibraryParams: passed through unchanged, defaults stay the library's), so __init__ "
            "has no named parameters and the check counts every stored hyperparameter as an "
            "attribute set in __init__. get_params/set_params/clone round-trip exactly "
            "(test_library_params_init_stores_exactly_the_given_params)."
        ),
        error=r"should not set any attribute apart from parameters during init",
        only=BOOSTER_ADAPTERS,
    ),
    "check_dataframe_column_names_consistency": Known(
        reason=(
            "SchemaError messages are uniml's own, naming the column (issue 15 item 6); "
            "scikit-learn's wording ('The feature names should match ...') is kept only as the "
            "error's __cause__, and the check matches the message text. What it is after is "
            "tested in test_feature_names_are_enforced and tests/test_schema.py."
        ),
        error=r"(predict|score|predict_proba|predict_log_proba) did not raise",
    ),
}

#: Checks failing because of something in src/ with a proposed fix (docs/sklearn-compatibility.md).
#: Remove an entry once its fix has landed (the test then tells you to).
PENDING_FIXES: dict[str, Known] = {}


def _check_name(check) -> str:
    while isinstance(check, functools.partial):
        check = check.func
    return check.__name__


def known_failures(estimator, check_name: str) -> list[tuple[str, Known]]:
    """[(dict name, entry)] recorded for ``check_name`` and ``estimator``; pending fix first."""
    found = []
    for label, table in (
        ("PENDING_FIXES", PENDING_FIXES),
        ("EXPECTED_FAILURES", EXPECTED_FAILURES),
    ):
        entry = table.get(check_name)
        if entry is not None and entry.applies_to(estimator):
            found.append((label, entry))
    return found


def run_check(estimator, check, check_name: str) -> None:
    """Run a check: it must pass, or fail exactly as its first known-failure entry says."""
    known = known_failures(estimator, check_name)
    try:
        check(estimator)
    except unittest.SkipTest as exc:
        pytest.fail(f"{check_name} skipped itself ({exc}); skips must be listed and handled")
    except Exception as exc:
        if not known:
            raise
        text = f"{type(exc).__name__}: {exc}"
        (label, entry), later = known[0], known[1:]
        if re.search(entry.error, text):
            return
        if later and re.search(later[0][1].error, text):
            pytest.fail(
                f"{check_name}: the pending fix has landed and the check now fails as "
                f"{later[0][0]} records: remove it from {label} in {__name__} and from "
                f"docs/sklearn-compatibility.md"
            )
        raise AssertionError(
            f"{check_name} is listed in {label} but failed differently than recorded "
            f"(expected /{entry.error}/):\n{text}"
        ) from exc
    for label, entry in known:
        pytest.fail(
            f"{check_name} passes for {adapter_id(estimator)} now: remove it from {label} in "
            f"{__name__} and from docs/sklearn-compatibility.md ({entry.reason})"
        )


# ------------------------------------------------------------------- check_estimator
ESTIMATORS = make_estimators()
ARRAY_API_CHECK = "check_array_api_input"


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_check_estimator(estimator, check, request):
    name = _check_name(check)
    if name == ARRAY_API_CHECK and os.environ.get("SCIPY_ARRAY_API") != "1":
        # scikit-learn skips this check unless SCIPY_ARRAY_API=1 was set before scipy was
        # imported; the fixture ran it in a subprocess with the variable set
        inner = check.func if isinstance(check.func, functools.partial) else check
        assert inner.keywords == ARRAY_API_KWARGS, "sklearn changed how it calls the check"
        error = request.getfixturevalue("array_api_results")[adapter_id(estimator)]
        if error is not None:
            pytest.fail(f"{ARRAY_API_CHECK} failed with SCIPY_ARRAY_API=1:\n{error}")
        return
    run_check(estimator, check, name)


ARRAY_API_KWARGS = {"array_namespace": "numpy", "expect_only_array_outputs": False}


@pytest.fixture(scope="module")
def array_api_results() -> dict[str, str | None]:
    """check_array_api_input for every adapter, in a subprocess with SCIPY_ARRAY_API=1."""
    code = textwrap.dedent(
        f"""
        import importlib.util, json, sys, traceback, warnings
        warnings.simplefilter("ignore")
        spec = importlib.util.spec_from_file_location("compat", {str(Path(__file__))!r})
        compat = sys.modules["compat"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(compat)
        from sklearn.utils.estimator_checks import check_array_api_input
        results = {{}}
        for est in compat.make_estimators():
            try:
                check_array_api_input(type(est).__name__, est, **{ARRAY_API_KWARGS!r})
                results[compat.adapter_id(est)] = None
            except Exception:
                results[compat.adapter_id(est)] = traceback.format_exc()
        sys.stdout.write("RESULTS" + json.dumps(results))
        """
    )
    env = {
        **os.environ,
        "SCIPY_ARRAY_API": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.rpartition("RESULTS")[2])


def test_every_adapter_is_checked():
    """The check run covers all five catalog adapters (sklearn.estimator as regressor and classifier)."""
    ids = {adapter_id(e) for e in ESTIMATORS}
    assert {e.name for e in ESTIMATORS} == {SKLEARN_ADAPTER, *BOOSTER_ADAPTERS}
    assert {"sklearn.estimator[Ridge]", "sklearn.estimator[LogisticRegression]"} <= ids


def test_known_failure_lists_are_documented():
    """Every listed check (and its reason's key words) appears in docs/sklearn-compatibility.md."""
    doc = (Path(__file__).parents[1] / "docs" / "sklearn-compatibility.md").read_text()
    for table in (EXPECTED_FAILURES, PENDING_FIXES):
        for check_name in table:
            assert f"`{check_name}`" in doc, f"{check_name} is not documented"


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_check_dataframe_column_names_consistency(estimator):
    """scikit-learn's feature-name check (not part of check_estimator), called explicitly."""
    run_check(
        estimator,
        functools.partial(check_dataframe_column_names_consistency, type(estimator).__name__),
        "check_dataframe_column_names_consistency",
    )


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_feature_names_are_enforced(estimator):
    """What check_dataframe_column_names_consistency is after, in uniml's terms."""
    X, y = _data(estimator, n=120)
    X.columns = [f"col_{i}" for i in range(X.shape[1])]
    model = clone(estimator).fit(X, y)
    assert (
        isinstance(model.feature_names_in_, np.ndarray) and model.feature_names_in_.dtype == object
    )
    assert list(model.feature_names_in_) == list(X.columns)
    assert model.n_features_in_ == X.shape[1]
    model.predict(X)
    cases = {
        "reordered": (X[X.columns[::-1]], "col_9"),
        "renamed": (X.rename(columns={"col_2": "other"}), "col_2"),
        "missing": (X.drop(columns="col_3"), "col_3"),
        "extra": (X.assign(extra=1.0), "extra"),
    }
    for case, (X_bad, column) in cases.items():
        for method in ("predict", "score"):
            call = getattr(model, method)
            with pytest.raises(uniml.SchemaError, match=re.escape(repr(column))) as info:
                call(X_bad) if method == "predict" else call(X_bad, y)
            assert isinstance(info.value, ValueError), case
            assert info.value.column == column, case
    # a model fitted on a DataFrame refuses a bare array (columns could not be checked by name)
    with pytest.raises(uniml.SchemaError, match="fitted on a DataFrame"):
        model.predict(X.to_numpy())


# -------------------------------------------------------------------- data helpers
@functools.cache
def _dataset(kind: str):
    """Bundled data with standardised features (LogisticRegression converges in a few iterations)."""
    loader = {"regression": load_diabetes, "binary": load_breast_cancer, "multiclass": load_wine}[
        kind
    ]
    X, y = loader(return_X_y=True, as_frame=True)
    return (X - X.mean()) / X.std(), y


@pytest.fixture(autouse=True)
def _single_threaded():
    """Tiny fits: thread start-up (BLAS, OpenMP) costs more than it saves, on a busy runner a lot more."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _data(
    estimator, n: int | None = None, kind: str | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    kind = kind or ("binary" if is_classifier(estimator) else "regression")
    X, y = _dataset(kind)
    if n is not None:
        X, y = X.iloc[:n], y.iloc[:n]
    return X.iloc[:, :10].copy(), y.copy()


def _sklearn_params(estimator) -> dict:
    """get_params without the nested estimator objects (which clone replaces by copies)."""
    return {
        k: v for k, v in estimator.get_params(deep=True).items() if not hasattr(v, "get_params")
    }


# --------------------------------------------------------------- estimator contract
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_fit_returns_self_and_sets_fitted_attributes(estimator):
    model = clone(estimator)
    X, y = _data(model, n=150)
    assert model.fit(X, y) is model
    assert model.__sklearn_is_fitted__()
    assert model.n_features_in_ == X.shape[1]
    assert is_classifier(model) == (adapter_id(model) in CLASSIFIERS)
    assert is_regressor(model) == (adapter_id(model) not in CLASSIFIERS)
    score = model.score(X, y)
    assert np.isfinite(score) and score > 0.2
    if is_classifier(model):
        assert list(model.classes_) == [0, 1]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_clone_preserves_params(estimator):
    model = clone(estimator).fit(*_data(estimator, n=100))
    copy = clone(model)
    assert type(copy) is type(model)
    assert copy.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    assert _sklearn_params(copy) == _sklearn_params(model)
    assert not copy.__sklearn_is_fitted__()  # clone drops fitted state
    assert not hasattr(copy, "schema_")


@pytest.mark.parametrize(
    ("estimator", "params"),
    [
        (ESTIMATORS[0], {"estimator__alpha": 3.5}),
        (ESTIMATORS[1], {"estimator__C": 0.25}),
        (ESTIMATORS[2], {"n_estimators": 7, "num_leaves": 5}),
        (ESTIMATORS[3], {"n_estimators": 7, "learning_rate": 0.2}),
        (ESTIMATORS[4], {"n_estimators": 7, "max_depth": 2}),
        (ESTIMATORS[5], {"n_estimators": 7, "reg_lambda": 2.0}),
    ],
    ids=lambda v: adapter_id(v) if hasattr(v, "name") else None,
)
def test_set_params_reaches_the_library(estimator, params):
    model = clone(estimator)
    assert model.set_params(**params) is model
    got = model.get_params(deep=True)
    assert {k: got[k] for k in params} == params
    model.fit(*_data(model, n=100))
    fitted = model.estimator_ if model.name == SKLEARN_ADAPTER else model.model_
    fitted_params = fitted.get_params()
    for key, value in params.items():
        assert fitted_params[key.removeprefix("estimator__")] == value
    # a new LightGBM/XGBoost hyperparameter can be introduced by set_params, like any sklearn param
    if model.name != SKLEARN_ADAPTER:
        model.set_params(min_child_weight=2.0)
        assert clone(model).get_params()["min_child_weight"] == 2.0


@pytest.mark.parametrize("name", BOOSTER_ADAPTERS)
def test_library_params_init_stores_exactly_the_given_params(name):
    """What check_no_attributes_set_in_init protects: __init__ stores the params and nothing else."""
    params = {"n_estimators": 12, "learning_rate": 0.3, "random_state": 4}
    model = uniml.make(name, **params)
    assert vars(model) == params
    assert model.get_params() == params
    assert uniml.make(name).get_params() == {}  # library defaults stay the library's
    copy = clone(model)
    assert vars(copy) == params
    copy.set_params(n_estimators=3)
    assert model.n_estimators == 12


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_column_vector_y_gives_the_same_predictions(estimator):
    """What check_supervised_y_2d is after: y of shape (n, 1) fits the same model as y of shape (n,)."""
    X, y = _data(estimator, n=150)
    X_arr, y_arr = X.to_numpy(), y.to_numpy()
    flat = clone(estimator).fit(X_arr, y_arr).predict(X_arr)
    with warnings.catch_warnings():  # the pending fix adds sklearn's DataConversionWarning
        warnings.simplefilter("ignore", DataConversionWarning)
        column = clone(estimator).fit(X_arr, y_arr[:, np.newaxis]).predict(X_arr)
    np.testing.assert_array_equal(np.asarray(column), np.asarray(flat))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_predictions_are_pandas_and_convert_to_numpy(estimator):
    """The documented output contract behind check_supervised_y_2d's expected failure."""
    X, y = _data(estimator, n=100)
    X.index = y.index = X.index + 1000
    model = clone(estimator).fit(X, y)
    pred = model.predict(X)
    assert isinstance(pred, pd.Series) and pred.index.equals(X.index)
    assert np.asarray(pred).shape == (len(X),)
    if is_classifier(model):
        proba = model.predict_proba(X)
        assert isinstance(proba, pd.DataFrame) and proba.index.equals(X.index)
        assert np.asarray(proba).shape == (len(X), 2)


# ----------------------------------------------------------------- composition
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
@pytest.mark.parametrize("output", ["default", "pandas"])
def test_inside_a_pipeline_with_standard_scaler(estimator, output):
    X, y = _data(estimator, n=200)
    pipe = make_pipeline(StandardScaler(), clone(estimator))
    if output == "pandas":
        pipe.set_output(transform="pandas")  # the adapter then sees named columns
    pipe.fit(X, y)
    model = pipe[-1]
    # the same as scaling by hand and fitting the adapter on the result
    scaler = StandardScaler().set_output(transform=output)
    Z = scaler.fit_transform(X)
    by_hand = clone(estimator).fit(Z, y)
    np.testing.assert_array_equal(
        np.asarray(pipe.predict(X)), np.asarray(by_hand.predict(scaler.transform(X)))
    )
    assert model.n_features_in_ == X.shape[1]
    if output == "pandas":
        assert list(model.feature_names_in_) == list(X.columns)
    else:
        assert model.schema_.from_array
    assert np.isfinite(pipe.score(X, y))
    if is_classifier(pipe):
        assert np.asarray(pipe.predict_proba(X)).shape == (len(X), 2)


GRIDS = {
    # adapter id: (param grid, the value that must win)
    "sklearn.estimator[Ridge]": ({"estimator__alpha": [1e-3, 1e4]}, 1e-3),
    "sklearn.estimator[LogisticRegression]": ({"estimator__C": [1e-4, 1.0]}, 1.0),
    "lightgbm.regressor": ({"n_estimators": [1, 40]}, 40),
    "lightgbm.classifier": ({"n_estimators": [1, 40]}, 40),
    "xgboost.regressor": ({"n_estimators": [1, 40]}, 40),
    "xgboost.classifier": ({"n_estimators": [1, 40]}, 40),
}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_grid_search_finds_the_best_param_and_refits(estimator):
    X, y = _data(estimator, n=300)
    grid, winner = GRIDS[adapter_id(estimator)]
    ((param, values),) = grid.items()
    scoring = "neg_log_loss" if is_classifier(estimator) else "r2"  # log loss: uses predict_proba
    search = GridSearchCV(clone(estimator), grid, cv=3, scoring=scoring, error_score="raise").fit(
        X, y
    )
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert search.best_params_ == {param: values[int(np.argmax(scores))]}
    assert search.best_params_[param] == winner
    best = search.best_estimator_
    assert type(best) is type(estimator) and best.get_params()[param] == winner
    # refit on all of X: the same predictions as fitting the winning params by hand
    by_hand = clone(estimator).set_params(**{param: winner}).fit(X, y)
    np.testing.assert_array_equal(np.asarray(search.predict(X)), np.asarray(by_hand.predict(X)))
    if is_classifier(estimator):
        np.testing.assert_array_equal(
            np.asarray(search.predict_proba(X)), np.asarray(by_hand.predict_proba(X))
        )


def test_grid_search_over_a_pipeline_of_adapters():
    X, y = _data(ESTIMATORS[2], n=300)
    pipe = Pipeline([("scale", StandardScaler()), ("model", clone(ESTIMATORS[2]))])
    search = GridSearchCV(
        pipe, {"model__n_estimators": [1, 30], "model__num_leaves": [3, 15]}, cv=3
    ).fit(X, y)
    assert search.best_params_["model__n_estimators"] == 30
    assert search.best_estimator_["model"].__sklearn_is_fitted__()


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=adapter_id)
def test_cross_val_score_and_predict(estimator):
    X, y = _data(estimator, n=240)
    scores = cross_val_score(
        clone(estimator), X, y, cv=KFold(4, shuffle=True, random_state=0), error_score="raise"
    )
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    assert scores.mean() > (0.8 if is_classifier(estimator) else 0.1)
    pred = cross_val_predict(clone(estimator), X, y, cv=4)
    assert pred.shape == (len(X),)
    if is_classifier(estimator):
        auc = cross_val_score(clone(estimator), X, y, cv=4, scoring="roc_auc", error_score="raise")
        assert np.all(auc > 0.8)
        proba = cross_val_predict(clone(estimator), X, y, cv=4, method="predict_proba")
        assert proba.shape == (len(X), 2)


def test_string_labels_in_grid_search_and_cross_validation():
    X, y = _dataset("multiclass")
    X = X * 10 + 3  # the scaler in the pipeline has something to do
    y = pd.Series(np.asarray(["barolo", "grignolino", "barbera"], dtype=object)[y], index=y.index)
    for estimator in (ESTIMATORS[1], ESTIMATORS[3], ESTIMATORS[5]):
        scores = cross_val_score(make_pipeline(StandardScaler(), clone(estimator)), X, y, cv=3)
        # far above chance (about 0.4); XGBoost 2.1's 10 trees reach 0.797 on one fold
        assert np.all(scores > 0.75)
        search = GridSearchCV(clone(estimator), {}, cv=3, scoring="neg_log_loss").fit(X, y)
        assert list(search.best_estimator_.classes_) == ["barbera", "barolo", "grignolino"]
        assert set(search.predict(X)) <= set(y)


def test_meta_estimators_stacking_and_voting():
    X, y = _data(ESTIMATORS[3], n=300)
    stack = StackingClassifier(
        [
            ("lgb", clone(ESTIMATORS[3])),
            ("xgb", clone(ESTIMATORS[5])),
            ("logit", clone(ESTIMATORS[1])),
        ],
        final_estimator=LogisticRegression(max_iter=1000),
        cv=3,
    ).fit(X, y)
    assert stack.score(X, y) > 0.9
    X, y = _data(ESTIMATORS[0], n=300)
    vote = VotingRegressor(
        [(str(i), clone(e)) for i, e in enumerate(ESTIMATORS) if is_regressor(e)]
    ).fit(X, y)
    assert vote.score(X, y) > 0.3
