"""Every adapter in the catalog passes the conformance suite (uniml.testing)."""

import pytest

import uniml
from uniml.core.catalog import _registry, register
from uniml.testing import adapter_checks, check_adapter

CATALOG = uniml.adapters()
INSTALLED = CATALOG[CATALOG["installed"]]


def _all_checks():
    params = []
    for name in INSTALLED["name"]:
        for check_id, func in adapter_checks(name):
            params.append(pytest.param(func, id=f"{name}/{check_id.split('/', 1)[1]}"))
    return params


@pytest.mark.parametrize("check", _all_checks())
def test_adapter_conformance(check):
    check()


def test_every_catalog_adapter_is_checked():
    # a newly registered adapter is checked the moment it is registered; CI installs every
    # extra, so every catalog entry must be installed there
    checked = {pid.split("/")[0] for pid in (p.id for p in _all_checks())}
    assert checked == set(CATALOG["name"])
    assert len(CATALOG) >= 5


def test_check_adapter_reports_a_broken_adapter():
    """The suite is not vacuous: an adapter that breaks index alignment fails it."""
    from uniml.adapters.lightgbm import LightGBMRegressor

    class Misaligned(LightGBMRegressor):
        name = "test.misaligned"

        def predict(self, X):
            return super().predict(X).reset_index(drop=True)

    with pytest.raises(AssertionError, match=r"\[fit_predict_shapes\].*index"):
        check_adapter(Misaligned(n_estimators=5, verbose=-1, n_jobs=1))


def test_check_adapter_catches_non_additive_explanations():
    from uniml.adapters.lightgbm import LightGBMRegressor

    class Drifting(LightGBMRegressor):
        name = "test.drifting"

        def _explain(self, X, **kwargs):
            exp = super()._explain(X, **kwargs)
            exp.base_value += 1e-3
            return exp

    with pytest.raises(AssertionError, match=r"\[explanation\].*misses the prediction"):
        check_adapter(Drifting(n_estimators=5, verbose=-1, n_jobs=1))


def test_check_adapter_catches_lossy_persistence():
    from uniml.adapters.xgboost import XGBoostRegressor

    class Lossy(XGBoostRegressor):
        name = "test.lossy"

        def _load(self, folder, manifest, trusted):
            super()._load(folder, manifest, trusted)
            self._iteration_range = (0, 1)  # forgets all but the first tree

    register(Lossy)  # uniml.load resolves adapters through the catalog
    try:
        with pytest.raises(AssertionError, match=r"\[save_load_roundtrip\].*differs"):
            check_adapter(Lossy(n_estimators=10, enable_categorical=True, n_jobs=1))
    finally:
        _registry.pop("test.lossy")
