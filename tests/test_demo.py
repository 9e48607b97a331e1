"""The demo (``python -m uniml.demo`` / ``uniml demo``): every task kind evaluated, reported, tracked."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

import uniml
from uniml import demo
from uniml.cli import cli

# the cheapest adapter of each task kind: the demo's full model list runs in the README command
ONE_PER_TASK = [
    "statsmodels.ols",
    "statsmodels.logit",
    "statsmodels.ets",
    "econml.dr",
    "lightfm.recommender",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    code = demo.main(
        [
            "--out",
            str(folder / "out"),
            "--folds",
            "2",
            "--only",
            *ONE_PER_TASK,
            "--no-lineage",
            "--quiet",
        ]
    )
    return code, folder / "out"


def test_demo_covers_every_task_kind_and_exits_0(demo_run):
    code, out = demo_run
    assert code == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r"href='([^']+)'", index)
    assert sorted(links) == sorted(f"{task}.html" for task in demo.TASKS)
    for link in links:
        report = (out / link).read_text(encoding="utf-8")
        assert 'data-plot="fold-metrics"' in report and "<svg" in report
        assert "PASSED" in report


def test_demo_models_reload_and_predict_like_a_fresh_fit(demo_run):
    _, out = demo_run
    saved = sorted(p.name for p in (out / "models").iterdir())
    assert saved == sorted(demo.TASKS)
    ols = uniml.load(out / "models" / "regression")
    data = demo._regression_data()
    fresh = uniml.make("statsmodels.ols").fit(data.X, data.y)
    assert (ols.predict(data.X) == fresh.predict(data.X)).all()


def test_demo_lineage_records_the_evaluation_and_the_final_fit(tmp_path, capsys):
    import mlflow

    store = f"sqlite:///{tmp_path / 'mlruns.db'}"
    code = demo.main(
        [
            "--out",
            str(tmp_path / "out"),
            "--folds",
            "2",
            "--only",
            "statsmodels.ols",
            "--tracking-uri",
            store,
            "--quiet",
        ]
    )
    assert code == 0
    assert f"lineage: MLflow store {store}" in capsys.readouterr().out
    client = mlflow.MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("uniml-demo")
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    kinds = [r.data.tags.get("uniml.kind") for r in runs]
    evaluation = [r for r in runs if r.data.tags.get("uniml.kind") == "evaluate"]
    assert len(evaluation) == 1 and evaluation[0].data.tags["uniml.task"] == "regression"
    # the best candidate refit on all the data has its own run, with the model logged
    fits = [r for r in runs if r.data.tags.get("uniml.kind") not in ("evaluate", "evaluate-model")]
    assert len(fits) == 1, kinds
    assert "model" in {a.path for a in client.list_artifacts(fits[0].info.run_id)}
    assert uniml.lineage.enabled_sinks() == []


def test_a_crash_is_reported_and_exits_1(tmp_path, capsys):
    # more folds than rows: the protocol raises inside the evaluation; the demo reports it and goes on
    code = demo.main(
        [
            "--out",
            str(tmp_path),
            "--folds",
            "500",
            "--only",
            "statsmodels.ols",
            "--no-lineage",
            "--quiet",
        ]
    )
    assert code == 1
    captured = capsys.readouterr()
    assert "regression: CRASHED" in captured.out and "n_splits" in captured.out
    assert "CRASHED" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_bad_options_exit_2(tmp_path, capsys):
    assert demo.main(["--out", str(tmp_path), "--only", "no.such.adapter"]) == 2
    assert "unknown --only name" in capsys.readouterr().err
    assert demo.main(["--folds", "1"]) == 2


def test_uniml_demo_passes_its_arguments_through():
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    assert (
        "uniml demo" in result.output
        and "--only" in result.output
        and "--tracking-uri" in result.output
    )


def test_python_dash_m_uniml_demo_help():
    done = subprocess.run(
        [sys.executable, "-m", "uniml.demo", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "--no-lineage" in done.stdout
