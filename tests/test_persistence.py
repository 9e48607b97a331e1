"""Saved folders: manifest contents, hash verification, trust rules, version warnings."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import uniml
from uniml.core.persistence import MANIFEST_NAME, manifest_digest


@pytest.fixture(scope="module")
def data():
    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture
def saved(data, tmp_path):
    X, y = data
    model = uniml.make("lightgbm.regressor", n_estimators=10, verbose=-1, n_jobs=1).fit(X, y)
    return model, model.save(tmp_path / "model")


def _manifest(folder):
    return json.loads((folder / MANIFEST_NAME).read_text())


def test_manifest_records_versions_schema_params_and_hashes(saved):
    import hashlib

    model, folder = saved
    m = _manifest(folder)
    assert m["adapter"] == "lightgbm.regressor"
    assert m["library_versions"]["lightgbm"] == __import__("lightgbm").__version__
    assert m["uniml_version"] == uniml.__version__
    assert m["params"]["n_estimators"] == 10
    assert [c["name"] for c in m["schema"]["columns"]] == list(model.schema_.names)
    art = m["artifacts"]["model.txt"]
    assert art["format"] == "lightgbm-text" and art["pickle"] is False
    assert art["sha256"] == hashlib.sha256((folder / "model.txt").read_bytes()).hexdigest()


def test_refuses_to_overwrite_without_permission(saved):
    model, folder = saved
    with pytest.raises(FileExistsError):
        model.save(folder)
    assert model.save(folder, overwrite=True) == folder


@pytest.mark.parametrize(
    "damage", ["delete_artifact", "edit_artifact", "delete_manifest", "bad_json"]
)
def test_damaged_folders_raise_integrity_error(saved, damage):
    _, folder = saved
    if damage == "delete_artifact":
        (folder / "model.txt").unlink()
    elif damage == "edit_artifact":
        text = (folder / "model.txt").read_text().replace("leaf_value=", "leaf_value=1", 1)
        (folder / "model.txt").write_text(text)
    elif damage == "delete_manifest":
        (folder / MANIFEST_NAME).unlink()
    else:
        (folder / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(uniml.IntegrityError):
        uniml.load(folder)


def test_pickle_artifacts_need_trust(saved):
    _, folder = saved
    m = _manifest(folder)
    m["artifacts"]["model.txt"]["pickle"] = True  # as a pickle-based adapter would record it
    m["manifest_sha256"] = manifest_digest(m)  # resealed: the flag can only add a refusal
    (folder / MANIFEST_NAME).write_text(json.dumps(m))
    with pytest.raises(uniml.UntrustedArtifactError, match="trusted=True"):
        uniml.load(folder)
    assert uniml.load(folder, trusted=True) is not None


def _double(x):
    return x * 2.0


def test_skops_custom_function_needs_trust(data, tmp_path):
    X, y = data
    pipe = make_pipeline(FunctionTransformer(_double), Ridge())
    model = uniml.make("sklearn.estimator", estimator=pipe).fit(X, y)
    folder = model.save(tmp_path / "m")
    assert any(
        "_double" in t for t in _manifest(folder)["artifacts"]["model.skops"]["untrusted_types"]
    )
    with pytest.raises(uniml.UntrustedArtifactError, match="_double"):
        uniml.load(folder)
    loaded = uniml.load(folder, trusted=True)
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_sklearn_tree_models_load_without_trust(data, tmp_path):
    from sklearn.ensemble import RandomForestRegressor

    X, y = data
    model = uniml.make(
        "sklearn.estimator", estimator=RandomForestRegressor(n_estimators=5, random_state=0)
    )
    folder = model.fit(X, y).save(tmp_path / "rf")
    loaded = uniml.load(folder)  # sklearn.tree._tree.Tree is within the safe list
    assert np.array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params()["estimator"].get_params()["n_estimators"] == 5


def test_version_mismatch_warns(saved):
    _, folder = saved
    m = _manifest(folder)
    m["library_versions"]["lightgbm"] = "0.0.1"
    m["manifest_sha256"] = manifest_digest(m)  # as if saved under that version
    (folder / MANIFEST_NAME).write_text(json.dumps(m))
    with pytest.warns(uniml.VersionMismatchWarning, match="saved with lightgbm 0.0.1"):
        uniml.load(folder)


def test_newer_manifest_format_is_refused(saved):
    _, folder = saved
    m = _manifest(folder)
    m["format_version"] = 99
    (folder / MANIFEST_NAME).write_text(json.dumps(m))
    with pytest.raises(uniml.IntegrityError, match="upgrade uniml"):
        uniml.load(folder)


def test_classifier_labels_and_target_name_survive(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    y = pd.Series(np.where(X["a"] > 0, "up", "down"), name="direction")
    for name in ("lightgbm.classifier", "xgboost.classifier"):
        model = uniml.make(name, n_estimators=5, n_jobs=1).fit(X, y)
        loaded = uniml.load(model.save(tmp_path / name))
        assert loaded.classes_.tolist() == ["down", "up"]
        assert loaded.predict(X).name == "direction"
        assert loaded.predict(X).equals(model.predict(X))


def test_unknown_adapter_in_manifest(saved):
    _, folder = saved
    m = _manifest(folder)
    m["adapter"] = "ghost.model"
    m["manifest_sha256"] = manifest_digest(m)  # a sealed folder of an adapter not installed here
    (folder / MANIFEST_NAME).write_text(json.dumps(m))
    with pytest.raises(uniml.AdapterNotFoundError, match="ghost.model"):
        uniml.load(folder)
