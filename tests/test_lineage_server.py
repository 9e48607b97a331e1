"""Lineage against a real ``mlflow server`` process: logging over HTTP, and the fault path —
server stopped mid-session, fits go on and spool, server back, ``uniml lineage sync`` brings
every run in exactly once (twice run: still once)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import mlflow
from click.testing import CliRunner
from mlflow import MlflowClient

import uniml
import uniml.lineage as lineage
from lineage_server import mlflow_server  # noqa: F401  (the session fixture)
from uniml.lineage._cli import lineage as lineage_cli
from uniml.testing import make_tabular_data


def _fit(n_estimators: int, seed: int):
    X, y = make_tabular_data("regression", n=80, seed=seed)
    return uniml.make("lightgbm.regressor", n_estimators=n_estimators, verbose=-1).fit(X, y), X


def test_server_outage_spools_and_sync_replays_exactly_once(mlflow_server, tmp_path):  # noqa: F811
    spool = tmp_path / "spool"
    client = MlflowClient(mlflow_server.uri)
    with lineage.enable(
        tracking_uri=mlflow_server.uri, experiment="outage", spool=spool, explain_rows=10
    ) as handle:
        # 1. server up: logged over HTTP, artifacts proxied by the server
        live_model, live_X = _fit(3, seed=0)
        live = handle.last_run(timeout=120)
        assert not live.spooled, live.error
        assert client.get_run(live.run_id).info.status == "FINISHED"
        mlflow.set_tracking_uri(mlflow_server.uri)
        try:
            served = mlflow.pyfunc.load_model(live.model_uri).predict(live_X)
        finally:
            mlflow.set_tracking_uri(None)
        assert served.equals(live_model.predict(live_X))

        # 2. server down mid-session: fits succeed, lineage goes to the spool with a warning
        mlflow_server.stop()
        down = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(3):
                start = time.perf_counter()
                model, X = _fit(4 + i, seed=10 + i)
                assert time.perf_counter() - start < 5  # fit never waits for the dead server
                ref = handle.last_run(timeout=60)  # nor does flush for minutes of HTTP retries
                down.append((model, X, ref))
        assert all(ref.spooled for _, _, ref in down)
        assert (
            sum(
                str(spool) in str(w.message)
                for w in caught
                if issubclass(w.category, uniml.UnimlWarning)
            )
            == 3
        )
        assert sorted(p.name for p in spool.iterdir()) == sorted(
            ref.lineage_id for _, _, ref in down
        )

    # 3. server back on the same port and store: sync twice, every run exactly once
    mlflow_server.start()
    # the real console script (the `uniml` CLI mounts uniml.lineage._cli), then the group in-process
    uniml_cli = str(Path(sys.executable).with_name("uniml"))
    first = subprocess.run(
        [uniml_cli, "lineage", "sync", "--spool", str(spool)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "3 replayed, 0 failed" in first.stdout
    second = CliRunner().invoke(lineage_cli, ["sync", "--spool", str(spool)])
    assert second.exit_code == 0 and "nothing to replay" in second.output

    exp = client.get_experiment_by_name("outage")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    tags = sorted(r.data.tags["uniml.lineage_id"] for r in runs)
    expected = sorted(f"{ref.lineage_id}:fit" for ref in [live] + [r for _, _, r in down])
    assert tags == expected  # nothing lost, nothing twice
    for model, X, ref in down:
        (run,) = [r for r in runs if r.data.tags["uniml.lineage_id"] == f"{ref.lineage_id}:fit"]
        assert run.info.status == "FINISHED"
        assert run.data.params["n_estimators"] == str(model.get_params()["n_estimators"])
        assert len(run.inputs.dataset_inputs) == 1
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"model", "model_card.json", "model_card.md"} <= files
        card = json.loads(
            Path(
                mlflow.artifacts.download_artifacts(
                    run_id=run.info.run_id,
                    artifact_path="model_card.json",
                    tracking_uri=mlflow_server.uri,
                )
            ).read_text()
        )
        assert card["lineage"]["run_id"] == run.info.run_id
        replayed = lineage.load_adapter(
            f"runs:/{run.info.run_id}/model", tracking_uri=mlflow_server.uri
        )
        assert replayed.predict(X).equals(model.predict(X))


def test_eval_runs_over_http(mlflow_server, tmp_path):  # noqa: F811
    from test_lineage import _StandInReport
    from uniml.core import events

    with lineage.enable(
        tracking_uri=mlflow_server.uri, experiment="eval-http", spool=tmp_path / "s"
    ):
        events.emit("evaluate", report=_StandInReport(), spec=None)
        lineage.flush(timeout=120)
    client = MlflowClient(mlflow_server.uri)
    exp = client.get_experiment_by_name("eval-http")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1 + 2  # the parent and one run per model
    assert not any(tmp_path.joinpath("s").glob("*"))
