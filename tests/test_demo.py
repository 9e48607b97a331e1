"""The demo (``python -m uniml.demo`` / ``uniml demo``): every task kind evaluated, reported, tracked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
    assert sorted(links) == sorted(
        [f"{task}.html" for task in demo.TASKS] + ["lifecycle/monitoring.html"]
    )
    assert "<svg" in (out / "lifecycle" / "monitoring.html").read_text(encoding="utf-8")
    for link in (f"{task}.html" for task in demo.TASKS):
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
                "--no-lifecycle",
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


def test_the_lifecycle_tour_registers_promotes_refuses_and_serves(demo_run):
    """register -> refused self-approval -> four-eyes promote -> challenger refused by its gate
    -> @champion served, on the demo's own SQLite store; checked in the registry itself."""
    import numpy as np
    from sklearn.linear_model import Ridge

    import uniml.registry as reg

    result, out, _ = demo_run
    life = result.lifecycle
    assert life is not None and life.ok, (life.error, life.steps)
    store = life.tracking_uri
    assert store == f"sqlite:///{(out / 'lifecycle' / 'mlflow.db').resolve()}"
    assert life.refusals == ["self_approval", "gate_failed"]
    log = reg.audit_log(demo.LIFECYCLE_MODEL, tracking_uri=store)
    assert reg.verify_chain(log) == []
    assert [(e["action"], e["decision"], e.get("refusal"), e["actor"]) for e in log] == [
        ("register", "approved", None, "ann"),
        ("promote", "refused", "self_approval", "ann"),
        ("promote", "approved", None, "bob"),
        ("register", "approved", None, "ann"),
        ("promote", "refused", "gate_failed", "bob"),
    ]
    assert [h["version"] for h in reg.history(demo.LIFECYCLE_MODEL, tracking_uri=store)] == ["1"]
    assert life.champion == "1" and life.served_equal is True and life.governed is True
    assert reg.verify(tracking_uri=store).ok
    # the served champion is the model the demo says: a ridge fit on the diabetes data
    data = demo._regression_data()
    champion = reg.load(f"{demo.LIFECYCLE_MODEL}@champion", tracking_uri=store)
    raw = Ridge(alpha=1.0).fit(data.X, data.y)
    np.testing.assert_allclose(champion.predict(data.X), raw.predict(data.X), rtol=1e-12)
    assert "Lifecycle: register, approve, serve, monitor" in result.index.read_text()
    assert len(life.steps) == 7 and "refused" in life.steps[3]
    # monitoring: every served row reached the prediction log, the planted bmi shift (one
    # standard deviation) is the one drifted feature, and v1's profile is stored beside it
    import mlflow

    from uniml.monitoring import Profile, monitor, read_current

    served = read_current(out / "lifecycle" / "prediction-log")
    assert len(served) == 5 + 5 + 300
    assert life.drift_found is True and Path(life.monitoring_report).is_file()
    client = mlflow.MlflowClient(store)
    run_id = client.get_model_version(demo.LIFECYCLE_MODEL, "1").run_id
    stored = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="", tracking_uri=store, dst_path=str(out / "dl")
    )
    profiles = list(Path(stored).rglob("profile.npz"))
    assert len(profiles) == 1
    again = monitor(Profile.load(profiles[0]), served)
    assert again.drifted_columns == ["bmi"]


def test_no_lifecycle_option_skips_the_tour(tmp_path):
    result = demo.run(
        tmp_path, folds=2, only=["statsmodels.ols"], lineage=False, lifecycle=True
    )  # lineage off: nothing to register, so no tour either
    assert result.lifecycle is None and result.ok
    assert "--no-lifecycle" in CliRunner().invoke(cli, ["demo", "--help"]).output
