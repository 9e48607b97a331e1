"""The conformance suite's bad-input checks are not vacuous (#14 acceptance).

tests/test_conformance.py runs ``bad_input`` over every catalog adapter; here adapters that break
one rule each must fail it, naming the check.
"""

import numpy as np
import pandas as pd
import pytest

from uniml.core.catalog import _registry, register
from uniml.testing import adapter_checks, make_tabular_data


def _run(adapter, check: str, dataset: str | None = None):
    funcs = [
        f
        for cid, f in adapter_checks(adapter)
        if cid.endswith("/" + check) and (dataset is None or f"/{dataset}/" in cid)
    ]
    assert funcs, check
    for f in funcs:
        f()


def _lgbm():
    from uniml.adapters.lightgbm import LightGBMRegressor

    return LightGBMRegressor


def test_every_catalog_adapter_has_the_bad_input_check():
    import uniml

    for name in uniml.adapters()["name"]:
        assert any(cid.endswith("/bad_input") for cid, _ in adapter_checks(name)), name


def test_silent_nan_predictions_fail_the_check():
    class SilentNaN(_lgbm()):
        name = "test.silent_nan"

        def _predict(self, X):
            out = super()._predict(X)
            return np.where(pd.DataFrame(X).iloc[:, 0].isna().to_numpy(), np.nan, out)

    with pytest.raises(AssertionError, match=r"\[bad_input\].*NaN predictions silently"):
        _run(SilentNaN(n_estimators=5, verbose=-1, n_jobs=1), "bad_input")


def test_a_raw_library_error_for_a_text_column_fails_the_check():
    class RawText(_lgbm()):
        name = "test.raw_text"
        numeric_only = False  # lets the text column through to the library

        def _fit(self, X, y, **fit_params):
            if any(str(X[c].dtype) in ("object", "str", "string") for c in X.columns):
                raise ValueError("could not convert string to float: 'free text'")
            return super()._fit(X, y, **fit_params)

    with pytest.raises(AssertionError, match=r"\[bad_input\] a text column at fit.*ValueError"):
        _run(RawText(n_estimators=5, verbose=-1, n_jobs=1), "bad_input")


def test_accepting_an_infinite_target_fails_the_check():
    from uniml.adapters.statsmodels import StatsmodelsOLS

    class InfOK(StatsmodelsOLS):
        name = "test.inf_ok"

        def fit(self, X, y=None, **fit_params):
            y = pd.Series(y)
            if np.isinf(y.to_numpy(dtype=float)).any():
                return self  # swallows it
            return super().fit(X, y, **fit_params)

    with pytest.raises(AssertionError, match=r"\[bad_input\] inf in the target"):
        _run(InfOK(), "bad_input")


def test_pickle_trust_is_decided_by_the_class_not_the_manifest():
    """A class that declares no code runs on load but writes pickle-flagged artifacts fails; one
    that declares code runs on load passes although its manifest flags nothing as pickle (the
    suite used to read the flags and then tried, and failed, an untrusted load)."""
    from uniml.adapters.statsmodels import StatsmodelsOLS

    class FlagsPickle(StatsmodelsOLS):
        name = "test.flags_pickle"

        def _save(self, folder):
            entries = super()._save(folder)
            return {k: {**v, "pickle": True} for k, v in entries.items()}

    class ClaimsCode(StatsmodelsOLS):
        name = "test.claims_code"
        runs_code_on_load = True

    register(FlagsPickle)
    try:
        with pytest.raises(AssertionError, match=r"\[save_load_roundtrip\].*flagged pickle but"):
            _run(FlagsPickle(), "save_load_roundtrip")
    finally:
        _registry.pop(FlagsPickle.name)
    register(ClaimsCode)
    try:
        _run(ClaimsCode(), "save_load_roundtrip")
    finally:
        _registry.pop(ClaimsCode.name)


def test_check_uses_float_targets_for_classifiers_too():
    X, y = make_tabular_data("classification")
    assert y.dtype.kind not in "f"  # the check turns labels into floats to plant an inf
