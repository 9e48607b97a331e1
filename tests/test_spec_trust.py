"""A spec cannot grant trust to itself (#14 item 5 of the hardening brief, docs/security.md).

``trusted: true`` in a spec is a request; only the caller (``uniml eval --trusted``,
``run_spec(..., trusted=True)``, ``build_model(..., trusted=True)``) can grant it. The hostile
folder here holds a resealed pickle payload: unpickling it would create a marker file.
"""

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import uniml
from uniml.cli import cli
from uniml.core.persistence import MANIFEST_NAME, SEAL_KEY, manifest_digest
from uniml.evaluation.spec import SpecError, build_model, parse_spec


class _Touch:
    """Unpickling it creates ``path``."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.fixture(scope="module")
def ets_folder(tmp_path_factory):
    series = pd.DataFrame(
        {"ds": pd.date_range("2020-01-01", periods=40, freq="D"), "y": np.arange(40.0) % 7 + 10}
    )
    root = tmp_path_factory.mktemp("trust")
    series.to_csv(root / "d.csv", index=False)
    uniml.make("statsmodels.ets").fit(series, time="ds", target="y").save(root / "model")
    return root / "model"


def _spec_text(mark: bool) -> str:
    trusted = ", trusted: true" if mark else ""
    return (
        "task: forecasting\ndata: {path: d.csv, time: ds, target: y}\n"
        f"candidates: [{{name: saved, model: model{trusted}}}]\n"
    )


@pytest.fixture
def hostile(ets_folder, tmp_path):
    """A copy of the folder whose pickle is a payload, with artifact hash and seal recomputed."""
    root = tmp_path / "pr"
    shutil.copytree(ets_folder.parent, root)
    marker = tmp_path / "MARKER"
    pkl = next(p for p in (root / "model").iterdir() if p.suffix == ".pkl")
    pkl.write_bytes(pickle.dumps(_Touch(marker)))
    manifest = json.loads((root / "model" / MANIFEST_NAME).read_text())
    entry = manifest["artifacts"][pkl.name]
    entry["sha256"] = hashlib.sha256(pkl.read_bytes()).hexdigest()
    entry["bytes"] = pkl.stat().st_size
    manifest[SEAL_KEY] = manifest_digest(manifest)
    (root / "model" / MANIFEST_NAME).write_text(json.dumps(manifest))
    return root, marker


def test_a_spec_marking_its_own_model_trusted_gets_no_trust(hostile):
    root, marker = hostile
    spec = parse_spec(_spec_text(mark=True), source=root / "s.yaml")
    with pytest.raises(SpecError, match="cannot grant trust to itself") as err:
        build_model(spec, spec.candidates[0], ("candidates", 0))
    assert "--trusted" in str(err.value)
    assert not marker.exists()


def test_cli_without_trusted_refuses_with_exit_2_and_runs_nothing(hostile):
    root, marker = hostile
    (root / "s.yaml").write_text(_spec_text(mark=True))
    result = CliRunner().invoke(cli, ["eval", str(root / "s.yaml"), "-q"])
    assert result.exit_code == 2, result.output
    assert "--trusted" in result.output and "cannot grant trust" in result.output
    assert not marker.exists()


def test_the_callers_grant_alone_does_not_trust_unmarked_models(hostile):
    root, marker = hostile
    spec = parse_spec(_spec_text(mark=False), source=root / "s.yaml")
    with pytest.raises(SpecError, match="mark it 'trusted: true'"):
        build_model(spec, spec.candidates[0], ("candidates", 0), trusted=True)
    assert not marker.exists()


def test_mark_and_grant_together_load_the_model(ets_folder):
    spec = parse_spec(_spec_text(mark=True), source=ets_folder.parent / "s.yaml")
    model = build_model(spec, spec.candidates[0], ("candidates", 0), trusted=True)
    assert len(model.predict(horizon=3)) == 3
    # only True itself grants: a truthy string from a careless caller does not
    with pytest.raises(SpecError, match="cannot grant trust"):
        build_model(spec, spec.candidates[0], ("candidates", 0), trusted="yes")


def test_cli_with_trusted_evaluates_a_marked_model(ets_folder, tmp_path):
    root = tmp_path / "ok"
    shutil.copytree(ets_folder.parent, root)
    (root / "s.yaml").write_text(
        _spec_text(mark=True) + "protocol: {kind: rolling_origin, horizon: 3, n_origins: 2}\n"
    )
    result = CliRunner().invoke(
        cli, ["eval", str(root / "s.yaml"), "--trusted", "--report", str(tmp_path / "r.html")]
    )
    assert result.exit_code in (0, 1), result.output  # evaluated: the gate decides, not trust
    assert (tmp_path / "r.html").exists()
