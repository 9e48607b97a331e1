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
from uniml.core.errors import UnimlWarning

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
    store = f"sqlite:///{folder / 'mlruns.db'}"
    # 3 origins: with 2, the forecasting candidate does not beat naive with 95% confidence
    result = demo.run(folder / "out", folds=3, only=ONE_PER_TASK, tracking_uri=store)
    return result, folder / "out", store


def test_demo_covers_every_task_kind_and_is_ok(demo_run):
    result, out, _ = demo_run
    assert result.ok, [t.error for t in result.tasks] + result.lineage_problems
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r"href='([^']+)'", index)
    assert sorted(links) == sorted(f"{task}.html" for task in demo.TASKS)
    for link in links:
        report = (out / link).read_text(encoding="utf-8")
        assert 'data-plot="fold-metrics"' in report and "<svg" in report
        assert "PASSED" in report


def test_demo_models_reload_and_predict_like_a_fresh_fit(demo_run):
    _, out, _ = demo_run
    saved = sorted(p.name for p in (out / "models").iterdir())
    assert saved == sorted(demo.TASKS)
    ols = uniml.load(out / "models" / "regression")
    data = demo._regression_data()
    fresh = uniml.make("statsmodels.ols").fit(data.X, data.y)
    assert (ols.predict(data.X) == fresh.predict(data.X)).all()


def test_every_run_of_every_task_kind_reached_the_store(demo_run):
    import mlflow

    result, _, store = demo_run
    client = mlflow.MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("uniml-demo")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    assert runs and all(r.info.status == "FINISHED" for r in runs)
    for task_result in result.tasks:
        task = task_result.task
        parents = [
            r
            for r in runs
            if r.data.tags.get("uniml.kind") == "evaluate" and r.data.tags["uniml.task"] == task
        ]
        assert len(parents) == 1, task
        children = [
            r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id
        ]
        # one child per leaderboard row (candidates and baselines), each with its metrics
        board = task_result.report.leaderboard
        assert sorted(c.data.tags["uniml.model"] for c in children) == sorted(board.index), task
        assert all(c.data.metrics for c in children), task
        fits = [
            r
            for r in runs
            if r.data.tags.get("uniml.kind") == "fit" and r.data.tags.get("uniml.task") == task
        ]
        assert len(fits) == 1, task
        assert "model" in {a.path for a in client.list_artifacts(fits[0].info.run_id)}
    assert sorted(t.task for t in result.tasks) == sorted(demo.TASKS)
    assert result.lineage_problems == [] and result.lineage_runs == len(runs)
    assert "checked FINISHED in the MLflow store" in result.index.read_text()
    assert uniml.lineage.enabled_sinks() == []


def test_the_demo_fails_loudly_when_its_lineage_does_not_reach_the_store(
    tmp_path, capsys, monkeypatch
):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("UNIML_LINEAGE_SPOOL", str(tmp_path / "spool"))
    with pytest.warns(UnimlWarning, match="could not reach"):
        code = demo.main(
            [
                "--out",
                str(tmp_path / "out"),
                "--folds",
                "2",
                "--only",
                "statsmodels.ols",
                "--tracking-uri",
                dead,
                "--quiet",
            ]
        )
    assert code == 1
    err = capsys.readouterr().err
    assert "LINEAGE INCOMPLETE" in err and "is not in the store" in err
    assert "Lineage INCOMPLETE" in (tmp_path / "out" / "index.html").read_text()


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
