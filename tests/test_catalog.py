"""The catalog: make(), adapters(), close-match errors, missing extras, entry-point plug-ins."""

import subprocess
import sys
import textwrap

import pytest

import uniml
from uniml.core.catalog import get_adapter_class


def test_adapters_lists_builtin_tabular_adapters_with_metadata():
    table = uniml.adapters()
    expected = {
        "sklearn.estimator",
        "xgboost.regressor",
        "xgboost.classifier",
        "lightgbm.regressor",
        "lightgbm.classifier",
    }
    assert expected <= set(table["name"])
    row = table.set_index("name").loc["lightgbm.classifier"]
    assert row["task"] == "classification"
    assert row["library"] == "lightgbm"
    assert bool(row["installed"]) is True
    assert row["version"] == __import__("importlib.metadata").metadata.version("lightgbm")
    assert row["persistence"] == "lightgbm-text"
    assert table.set_index("name").loc["sklearn.estimator", "task"] == "regression|classification"


def test_make_passes_params_unchanged():
    model = uniml.make("xgboost.regressor", max_depth=3, learning_rate=0.2, tree_method="hist")
    assert model.get_params() == {"learning_rate": 0.2, "max_depth": 3, "tree_method": "hist"}


def test_unknown_name_lists_close_matches():
    with pytest.raises(uniml.AdapterNotFoundError, match="did you mean 'xgboost.classifier'"):
        uniml.make("xgboost.clasifier")
    with pytest.raises(KeyError):  # also a KeyError for generic handlers
        uniml.make("nothing-like-it")


def test_missing_library_gives_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # makes `import lightgbm` fail
    with pytest.raises(uniml.MissingDependencyError) as info:
        uniml.make("lightgbm.regressor")
    assert info.value.install_command == "pip install 'uniml[lightgbm]'"
    assert "pip install 'uniml[lightgbm]'" in str(info.value)
    assert isinstance(info.value, ImportError)


def test_missing_library_at_load_time(monkeypatch, tmp_path):
    import numpy as np

    m = uniml.make("xgboost.regressor", n_estimators=2).fit(np.eye(4), np.arange(4.0))
    folder = m.save(tmp_path / "m")
    monkeypatch.setitem(sys.modules, "xgboost", None)
    with pytest.raises(uniml.MissingDependencyError, match=r"uniml\[xgboost\]"):
        uniml.load(folder)


def test_register_rejects_bad_metadata_and_name_clashes():
    from uniml.core.adapter import RegressorAdapter
    from uniml.core.catalog import register

    class NoName(RegressorAdapter):
        library = "numpy"

    with pytest.raises(ValueError, match="name must look like"):
        register(NoName)

    class Clash(RegressorAdapter):
        name, library = "lightgbm.regressor", "numpy"

    with pytest.raises(ValueError, match="already registered"):
        register(Clash)
    assert get_adapter_class("lightgbm.regressor").__name__ == "LightGBMRegressor"


PLUGIN = '''
import json
import numpy as np
import pandas as pd
from uniml.core.adapter import RegressorAdapter
from uniml.core.explanation import Explanation


class MeanRegressor(RegressorAdapter):
    """Predicts the training mean; a complete third-party adapter in 30 lines."""

    name = "acme.mean"
    library = "numpy"
    extra = "acme"
    explanation_kind = "linear"
    additive = True
    persistence = "npz-json"

    def __init__(self, shrink=0.0):
        self.shrink = shrink

    def _fit(self, X, y, **fit_params):
        self.mean_ = float(np.mean(y)) * (1.0 - self.shrink)

    def _predict(self, X):
        return np.full(len(X), self.mean_)

    def _explain(self, X, **kwargs):
        zeros = pd.DataFrame(0.0, index=range(len(X)), columns=list(self.schema_.names))
        return Explanation(zeros, self.mean_, "linear", True, pd.Series(self._predict(X)))

    def _save(self, folder):
        (folder / "mean.json").write_text(json.dumps({"mean": self.mean_}))
        return {"mean.json": {"format": "npz-json"}}

    def _load(self, folder, manifest, trusted):
        self.mean_ = json.loads((folder / "mean.json").read_text())["mean"]
'''


def test_third_party_adapter_joins_through_entry_point_and_passes_conformance(tmp_path):
    (tmp_path / "acme_uniml.py").write_text(PLUGIN)
    dist = tmp_path / "acme_uniml-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-uniml\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[uniml.adapters]\nmean = acme_uniml:MeanRegressor\n")
    code = textwrap.dedent(
        """
        import uniml
        from uniml.testing import check_adapter
        assert "acme.mean" in set(uniml.adapters()["name"])
        model = uniml.make("acme.mean", shrink=0.5)
        passed = check_adapter(model)
        print(",".join(passed))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert "save_load_roundtrip" in out.stdout and "schema_errors" in out.stdout


def test_broken_plugin_warns_but_catalog_survives(tmp_path):
    dist = tmp_path / "broken_uniml-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-uniml\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[uniml.adapters]\nbroken = not_a_module_xyz:Thing\n")
    code = (
        "import warnings, uniml\nwith warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n    n = len(uniml.adapters())\n"
        "print(n, any('broken' in str(x.message) for x in w))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    n, warned = out.stdout.split()
    assert int(n) >= 5 and warned == "True"
