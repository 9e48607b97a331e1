"""The champion gate on a project's first run: ``champion: {if_missing: skip}``."""

from __future__ import annotations

import warnings

import pytest
from sklearn.datasets import load_diabetes

import uniml
from uniml.evaluation.spec import SpecError, load_spec, parse_spec, run_spec

SPEC = """\
task: regression
data: {{path: d.csv, target: target}}
candidates: [{{name: ols, adapter: statsmodels.ols}}]
protocol: {{kind: kfold, n_splits: 3}}
n_boot: 200
champion: {champion}
gates:
  - rmse better than baseline
  - rmse not worse than champion by 50%
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("champ")
    load_diabetes(as_frame=True).frame.head(200).to_csv(folder / "d.csv", index=False)
    return folder


def _spec(folder, champion):
    path = folder / f"s{abs(hash(champion))}.yaml"
    path.write_text(SPEC.format(champion=champion))
    return load_spec(path)


def test_missing_champion_is_skipped_with_its_gates(folder):
    spec = _spec(folder, "{model: no-champion-yet, if_missing: skip}")
    with pytest.warns(UserWarning, match="no champion at .*no-champion-yet"):
        report = run_spec(spec)
    assert "champion" not in report.roles.values()
    assert report.passed
    texts = [g.name for g in report.gates]
    assert not any("champion" in t for t in texts), texts
    assert any("baseline" in t for t in texts)


def test_missing_champion_fails_by_default(folder):
    spec = _spec(folder, "{model: no-champion-yet}")
    with pytest.raises(SpecError, match="champion.model: no saved model folder"):
        run_spec(spec)


def test_existing_champion_is_used_and_gated(folder):
    X = load_diabetes(as_frame=True).frame.head(200)
    uniml.make("statsmodels.ols").fit(X.drop(columns="target"), X["target"]).save(folder / "champ")
    spec = _spec(folder, "{model: champ, if_missing: skip}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "no champion" warning
        report = run_spec(spec)
    assert "champion" in report.roles.values()
    texts = [g.name for g in report.gates]
    assert any("champion" in t for t in texts), texts
    # the same model as candidate and champion: identical predictions, the 50% margin holds
    assert report.passed


@pytest.mark.parametrize(
    "champion, message",
    [
        ("{model: 'models:/m@champion', if_missing: skip}", "applies to a saved champion folder"),
        ("{model: x, if_missing: later}", "if_missing"),
    ],
)
def test_bad_if_missing(champion, message):
    text = SPEC.format(champion=champion)
    with pytest.raises(SpecError, match=message):
        parse_spec(text)
