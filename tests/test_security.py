"""Security: code execution, tamper evidence, path confinement and YAML limits (issue 14).

Every hostile case asserts both the typed refusal and that the payload did not
run: no marker file is created and nothing is written outside the test folders.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import uniml
from uniml.core.persistence import (
    MANIFEST_NAME,
    SEAL_KEY,
    artifact_digest,
    load,
    manifest_digest,
    read_manifest,
    read_pickle,
)
from uniml.core.safe_yaml import YAMLInputError, load_yaml, read_yaml
from uniml.evaluation.spec import SpecError, build_model, parse_spec

SRC = Path(uniml.__file__).parent

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )
    + "h: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
)


class _Touch:
    """A pickle payload: unpickling it creates ``path``."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST_NAME).read_text())


def _write(folder: Path, manifest: dict, *, reseal: bool = True) -> None:
    """Write an edited manifest; ``reseal`` recomputes the seal as an attacker can."""
    if reseal:
        manifest[SEAL_KEY] = manifest_digest(manifest)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = pd.Series(np.where(X["a"] + 0.3 * rng.normal(size=60) > 0, "yes", "no"), name="y")
    return X, y


@pytest.fixture(scope="module")
def classifier(frame):
    X, y = frame
    return uniml.make("lightgbm.classifier", n_estimators=5, verbose=-1).fit(X, y)


@pytest.fixture
def saved(classifier, tmp_path):
    return classifier.save(tmp_path / "model")


@pytest.fixture(scope="module")
def ets_folder(tmp_path_factory):
    series = pd.DataFrame(
        {
            "ds": pd.date_range("2020-01-01", periods=30, freq="D"),
            "y": np.sin(np.arange(30) / 3.0) + 10.0,
        }
    )
    model = uniml.make("statsmodels.ets").fit(series, time="ds", target="y")
    return model.save(tmp_path_factory.mktemp("ets") / "model")


# ---------------------------------------------------------------- 4: the manifest seal
@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda m: m["state"].__setitem__("classes", ["yes", "no"]), id="labels"),
        pytest.param(lambda m: m["schema"].__setitem__("tampered", 1), id="schema"),
        pytest.param(lambda m: m["params"].__setitem__("n_estimators", 1), id="params"),
        pytest.param(
            lambda m: next(iter(m["artifacts"].values())).__setitem__("bytes", 1), id="artifacts"
        ),
        pytest.param(lambda m: m.pop(SEAL_KEY), id="seal removed"),
        pytest.param(
            lambda m: m.update(format_version=1, state={**m["state"], "classes": ["a", "b"]}),
            id="relabelled format 1 with a stale seal",
        ),
    ],
)
def test_any_manifest_edit_is_refused(saved, frame, edit):
    m = _manifest(saved)
    edit(m)
    _write(saved, m, reseal=False)
    with pytest.raises(uniml.IntegrityError, match="uniml.json"):
        load(saved, trusted=True)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_every_edit_of_a_sealed_manifest_is_refused(saved, data):
    original = (saved / MANIFEST_NAME).read_text()  # restored after every example
    m = json.loads(original)
    assert load(saved) is not None
    key = data.draw(st.sampled_from(sorted(k for k in m if k != SEAL_KEY)), label="key")
    value = data.draw(_JSON.filter(lambda v: v != m[key]), label="value")
    m[key] = value
    (saved / MANIFEST_NAME).write_text(json.dumps(m))
    try:
        with pytest.raises(uniml.IntegrityError):
            load(saved, trusted=True)
    finally:
        (saved / MANIFEST_NAME).write_text(original)


def test_swapped_labels_no_longer_flip_predictions(saved, classifier, frame):
    X, _ = frame
    m = _manifest(saved)
    m["state"]["classes"] = m["state"]["classes"][::-1]
    _write(saved, m, reseal=False)
    with pytest.raises(uniml.IntegrityError, match="seal"):
        load(saved)
    # reformatting the manifest keeps its identity (the digest is over canonical JSON)
    m["state"]["classes"] = m["state"]["classes"][::-1]
    (saved / MANIFEST_NAME).write_text(json.dumps(m, indent=7, sort_keys=True))
    assert (load(saved).predict(X) == classifier.predict(X)).all()


def test_format_1_folders_need_trust(saved, frame):
    X, _ = frame
    m = _manifest(saved)
    m.pop(SEAL_KEY)
    m["format_version"] = 1
    _write(saved, m, reseal=False)
    with pytest.raises(uniml.UntrustedArtifactError, match="unsealed manifest"):
        load(saved)
    assert len(load(saved, trusted=True).predict(X)) == len(X)


def test_expected_digest(saved):
    digest = artifact_digest(saved)
    assert load(saved, expected_digest=digest) is not None
    with pytest.raises(uniml.IntegrityError, match="expected"):
        load(saved, expected_digest="0" * 64)


@pytest.mark.parametrize(
    "content, message",
    [("[1, 2]", "not an object"), ('{"format_version": 2}', "no 'artifacts'"), ("{", "JSON")],
)
def test_malformed_manifests_are_typed(tmp_path, content, message):
    (tmp_path / MANIFEST_NAME).write_text(content)
    with pytest.raises(uniml.IntegrityError, match=message):
        read_manifest(tmp_path)


# ---------------------------------------------------------------- 2: pickle decided by the class
@pytest.mark.parametrize("variant", ["flag cleared", "entry dropped", "relabelled"])
def test_pickle_refusal_does_not_trust_the_manifest(ets_folder, tmp_path, variant):
    import shutil

    folder = tmp_path / "ets"
    shutil.copytree(ets_folder, folder)
    marker = tmp_path / "pwned"
    pkl = folder / "statsmodels_results.pkl"
    pkl.write_bytes(pickle.dumps(_Touch(marker)))
    m = _manifest(folder)
    entry = m["artifacts"]["statsmodels_results.pkl"]
    entry["sha256"], entry["bytes"] = _sha(pkl), pkl.stat().st_size
    if variant == "flag cleared":
        entry["pickle"] = False
    elif variant == "entry dropped":
        del m["artifacts"]["statsmodels_results.pkl"]
    else:
        entry.update(format="npz-json", pickle=False)
    _write(folder, m)  # a valid seal: the seal is a checksum, not a signature
    with pytest.raises(uniml.UntrustedArtifactError, match="trusted=True"):
        load(folder)
    assert not marker.exists()


def test_read_pickle_is_the_trust_check(tmp_path):
    marker = tmp_path / "pwned"
    file = tmp_path / "x.pkl"
    file.write_bytes(pickle.dumps(_Touch(marker)))
    with pytest.raises(uniml.UntrustedArtifactError):
        read_pickle(file, trusted=False)
    with pytest.raises(uniml.UntrustedArtifactError):
        read_pickle(file, trusted="yes")  # only True itself trusts
    assert not marker.exists()


def test_every_adapter_class_declares_whether_it_runs_code():
    from uniml.core.catalog import get_adapter_class

    for name in uniml.catalog()["name"]:
        cls = get_adapter_class(name)
        runs = cls.loads_code()
        assert isinstance(runs, bool)
        assert runs == ("pickle" in cls.persistence), name


def test_trusted_ets_still_round_trips(ets_folder):
    assert load(ets_folder, trusted=True).predict(horizon=3).shape[0] == 3


# ---------------------------------------------------------------- 3: skops types
def test_skops_function_payload_needs_trust(frame, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = frame
    pipe = make_pipeline(FunctionTransformer(), LogisticRegression())
    model = uniml.make("sklearn.estimator", estimator=pipe).fit(X, y)
    model.estimator_.steps[0][1].func = builtins.exec  # what a hostile folder would hold
    folder = model.save(tmp_path / "m")
    with pytest.raises(uniml.UntrustedArtifactError, match="builtins.exec"):
        load(folder)
    from uniml.adapters.sklearn import _safe_skops_types

    names = _safe_skops_types()
    assert not any(n.startswith(("builtins.", "operator.", "posix.", "os.")) for n in names)


def test_common_sklearn_models_load_without_trust(frame, tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier

    X, y = frame
    for i, est in enumerate(
        [
            RandomForestClassifier(n_estimators=3, random_state=0),
            HistGradientBoostingClassifier(max_iter=3),
            KNeighborsClassifier(),
        ]
    ):
        model = uniml.make("sklearn.estimator", estimator=est).fit(X, y)
        loaded = load(model.save(tmp_path / str(i)))
        assert (loaded.predict(X) == model.predict(X)).all()


# ---------------------------------------------------------------- 5: paths confined
@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "manifest"])
def test_artifact_paths_are_confined(saved, tmp_path, kind):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    m = _manifest(saved)
    name, entry = next(iter(m["artifacts"].items()))
    del m["artifacts"][name]
    if kind == "dotdot":
        new = os.path.relpath(outside, saved)
    elif kind == "absolute":
        new = str(outside)
    elif kind == "manifest":
        new = MANIFEST_NAME
    else:
        new = "link.txt"
        (saved / new).symlink_to(outside)
    entry["sha256"] = _sha(outside)
    m["artifacts"][new] = entry
    _write(saved, m)
    before = _listing(tmp_path)
    with pytest.raises(uniml.IntegrityError) as info:
        load(saved, trusted=True)
    assert _sha(outside) not in str(info.value)
    assert _listing(tmp_path) == before


# ---------------------------------------------------------------- 1: the spec constructs classes only
def _spec(estimator: str) -> str:
    return (
        "task: regression\ndata: {path: d.csv, target: y}\ncandidates:\n"
        "  - adapter: sklearn.estimator\n"
        f"    params: {{estimator: {estimator}}}\n"
    )


@pytest.mark.parametrize(
    "estimator",
    [
        "{class: sklearn.utils._testing.assert_run_python_script_without_output, "
        'params: {source_code: \'open("MARKER", "w")\'}}',
        "{class: sklearn.datasets.dump_svmlight_file, params: {f: MARKER}}",
        "{class: os.system, params: {command: 'touch MARKER'}}",
        "{class: builtins.exec}",
        "{class: sklearn.pipeline.make_pipeline}",
        "{class: sklearn.pipeline.Pipeline, params: {steps: [[a, {class: sklearn.datasets.dump_svmlight_file, params: {f: MARKER}}]]}}",
    ],
)
def test_spec_refuses_functions_before_building_anything(tmp_path, monkeypatch, estimator):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    text = _spec(estimator.replace("MARKER", str(marker)))
    with pytest.raises(SpecError, match="class"):
        parse_spec(text, source=tmp_path / "s.yaml")
    assert not marker.exists()
    assert _listing(tmp_path) == set()


def test_spec_allows_estimators_and_documented_classes(tmp_path):
    spec = parse_spec(
        _spec(
            "{class: sklearn.pipeline.Pipeline, params: {steps: [[s, {class: sklearn.preprocessing.StandardScaler}], "
            "[m, {class: lightgbm.LGBMRegressor, params: {n_estimators: 3}}]]}}"
        ),
        source=tmp_path / "s.yaml",
    )
    model = build_model(spec, spec.candidates[0], ("candidates", 0))
    assert type(model.estimator).__name__ == "Pipeline"


def test_spec_dowhy_methods_are_restricted(tmp_path):
    text = (
        "task: causal\ndata: {path: d.csv, outcome: y, treatment: t}\ncandidates:\n"
        "  - adapter: dowhy.effect\n    params: {method: backdoor.os.system}\n"
    )
    with pytest.raises(SpecError, match="method"):
        parse_spec(text)
    ok = text.replace("backdoor.os.system", "backdoor.propensity_score_weighting")
    assert parse_spec(ok).candidates[0].params["method"] == "backdoor.propensity_score_weighting"


@pytest.mark.parametrize("target", ["../escape.html", "/tmp/escape.html", "a/../../escape.html"])
def test_spec_outputs_stay_in_the_spec_folder(tmp_path, target):
    text = (
        "task: regression\ndata: {path: d.csv, target: y}\ncandidates: [{adapter: statsmodels.ols}]\n"
        f"output: {{html: '{target}'}}\n"
    )
    with pytest.raises(SpecError, match="outside the spec's folder"):
        parse_spec(text, source=tmp_path / "sub" / "s.yaml")
    ok = text.replace(target, "reports/r.html")
    assert parse_spec(ok, source=tmp_path / "s.yaml").output.html == "reports/r.html"


def test_cli_exit_2_for_a_hostile_spec(tmp_path):
    from uniml.cli import cli

    marker = tmp_path / "MARKER"
    spec = tmp_path / "s.yaml"
    spec.write_text(
        _spec("{class: sklearn.datasets.dump_svmlight_file, params: {f: " + str(marker) + "}}")
    )
    result = CliRunner().invoke(cli, ["eval", str(spec)])
    assert result.exit_code == 2, result.output
    assert not marker.exists()


# ---------------------------------------------------------------- 6: YAML limits
def test_alias_bomb_is_refused_fast(tmp_path):
    start = time.perf_counter()
    with pytest.raises(YAMLInputError, match="alias"):
        load_yaml(ALIAS_BOMB)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: [1, *a]}\n", "[" * 200 + "]" * 200])
def test_cycles_and_depth_are_typed(text):
    with pytest.raises(YAMLInputError):
        load_yaml(text)


def test_yaml_keeps_shared_aliases_and_refuses_python_tags(tmp_path):
    assert load_yaml("a: &x {k: 1}\nb: [*x, *x]\n") == {"a": {"k": 1}, "b": [{"k": 1}, {"k": 1}]}
    marker = tmp_path / "MARKER"
    with pytest.raises(YAMLInputError, match="constructor"):
        load_yaml(f"!!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()
    big = tmp_path / "big.yaml"
    big.write_text("x: " + "a" * (5 * 1024 * 1024) + "\n")
    with pytest.raises(YAMLInputError, match="limit"):
        read_yaml(big)


@pytest.mark.parametrize("text", [ALIAS_BOMB, "a: &a [*a]\n"])
def test_cli_exit_2_for_hostile_yaml(tmp_path, text):
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "uniml", "eval", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(SRC.parent)},
    )
    assert proc.returncode == 2, proc.stderr
    assert "s.yaml" in proc.stderr + proc.stdout
    assert time.perf_counter() - start < 30


# ---------------------------------------------------------------- static: one loader each
def _calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)
        elif isinstance(node, ast.ImportFrom) and node.module in (
            "pickle",
            "joblib",
            "cloudpickle",
            "dill",
            "yaml",
            "skops.io",
        ):
            for alias in node.names:
                if alias.name in ("load", "loads", "safe_load", "full_load", "unsafe_load"):
                    yield node, f"{node.module}.{alias.name}"


_LOADS = {
    "pickle": (
        "pickle.load",
        "pickle.loads",
        "pickle.Unpickler",
        "cloudpickle.load",
        "cloudpickle.loads",
        "joblib.load",
        "dill.load",
        "dill.loads",
    ),
    "skops": ("sio.load", "skops.io.load", "sio.loads", "skops.io.loads"),
    "yaml": (
        "yaml.load",
        "yaml.safe_load",
        "yaml.full_load",
        "yaml.unsafe_load",
        "yaml.load_all",
        "yaml.safe_load_all",
        "yaml.compose",
        "yaml.compose_all",
    ),
}


@pytest.mark.parametrize(
    "kind, home",
    [
        ("pickle", "core/persistence.py"),  # read_pickle
        ("skops", "adapters/sklearn.py"),  # _read_skops
        ("yaml", "core/safe_yaml.py"),  # load_yaml
    ],
)
def test_one_loader_per_format(kind, home):
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).as_posix() == home:
            continue
        for node, name in _calls(path):
            if name not in _LOADS[kind]:
                continue
            # an in-memory round-trip of an object just pickled (conformance checks) reads no file
            if (
                isinstance(node, ast.Call)
                and node.args
                and isinstance(node.args[0], ast.Call)
                and ast.unparse(node.args[0].func) == "pickle.dumps"
            ):
                continue
            offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: {name}")
    assert offenders == []


def test_numpy_loads_never_allow_pickle():
    for path in SRC.rglob("*.py"):
        for node, name in _calls(path):
            if name in ("np.load", "numpy.load") and isinstance(node, ast.Call):
                flags = {k.arg: ast.unparse(k.value) for k in node.keywords}
                assert flags.get("allow_pickle") == "False", f"{path}:{node.lineno}"


def test_spec_champion_digest_is_enforced(saved, tmp_path):
    spec_file = saved.parent / "s.yaml"
    text = (
        "task: classification\ndata: {path: d.csv, target: y}\n"
        "candidates: [{adapter: statsmodels.logit}]\n"
        "champion: {model: model, digest: 'DIGEST'}\n"
    )
    good = parse_spec(text.replace("DIGEST", artifact_digest(saved)), source=spec_file)
    assert build_model(good, good.champion, ("champion",)) is not None
    bad = parse_spec(text.replace("DIGEST", "0" * 64), source=spec_file)
    with pytest.raises(SpecError, match="expected"):
        build_model(bad, bad.champion, ("champion",))
