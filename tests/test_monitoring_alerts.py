"""Monitoring alerts: typed events through the lineage hooks, sinks (webhook on a real local server,
file, log, MLflow on a real SQLite store), the retrain policy, profiles as MLflow artifacts."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

import uniml.lineage
from uniml.core.errors import UnimlWarning
from uniml.monitoring import (
    DriftAlert,
    FileSink,
    LogSink,
    MlflowSink,
    Profile,
    RetrainPolicy,
    RetrainRequested,
    WebhookSink,
    monitor,
)

SERVER = textwrap.dedent(
    """
    import http.server, sys, threading, time
    out, port, lifetime = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            size = int(self.headers.get("Content-Length", 0))
            if size > 1_000_000:
                self.send_response(413); self.end_headers(); return
            body = self.rfile.read(size)
            with open(out, "ab") as f:
                f.write(body + b"\\n")
            self.send_response(200 if self.path == "/hook" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    threading.Timer(lifetime, server.shutdown).start()  # stops by itself
    server.serve_forever()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def webhook_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("webhook")
    out = folder / "received.jsonl"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(out), str(port), "120"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("webhook test server did not start")
    yield f"http://127.0.0.1:{port}", out
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def drifting():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    profile = Profile.fit(ref, model_info={"name": "churn", "version": "3"})
    ok = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(["a", "b"], 3000)})
    bad = ok.assign(x=ok["x"] + 1.0)
    return profile, ok, bad


def _received(path) -> list[dict]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not path.exists():
        time.sleep(0.05)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_webhook_alert_is_received_by_a_real_local_server(webhook_server, drifting):
    url, received = webhook_server
    profile, _, bad = drifting
    sink = WebhookSink(f"{url}/hook", headers={"X-Token": "t"}, runs=True)
    report = monitor(profile, bad, sinks=[sink])
    bodies = _received(received)
    alerts = [b["alert"] for b in bodies if b["event"] == "alert"]
    assert [a["kind"] for a in alerts] == ["DriftAlert"]
    assert alerts[0]["column"] == "x" and alerts[0]["model"] == {"name": "churn", "version": "3"}
    assert alerts[0]["value"] == pytest.approx(report.column("x").statistics["wasserstein"])
    summary = [b["summary"] for b in bodies if b["event"] == "monitor"]
    assert summary and summary[0]["drifted_columns"] == ["x"]
    assert sink.delivered == 2 and sink.failed == 0
    assert uniml.lineage.enabled_sinks() == []  # sinks= enables them for the run only


def test_webhook_failure_is_a_warning_not_an_error(webhook_server, drifting):
    url, _ = webhook_server
    profile, _, bad = drifting
    sink = WebhookSink(f"{url}/nowhere", retries=1, timeout=2)
    with pytest.warns(UnimlWarning, match="not delivered: HTTP 404 Not Found"):
        monitor(profile, bad, sinks=[sink])
    assert sink.failed == 1
    with pytest.raises(ValueError, match="http:// or https://"):
        WebhookSink("file:///etc/passwd")


def test_alerts_are_events_any_enabled_lineage_sink_receives(tmp_path, drifting, caplog):
    profile, ok, bad = drifting
    file_sink = FileSink(tmp_path / "alerts.jsonl", runs=True)
    with uniml.lineage.enable(file_sink), uniml.lineage.enable(LogSink()):
        with caplog.at_level(logging.WARNING, logger="uniml.monitoring"):
            monitor(profile, ok)
            monitor(profile, bad)
    records = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["MonitorRun", "MonitorRun", "DriftAlert"]
    assert [r["level"] for r in records[:2]] == ["ok", "alert"]
    assert any("DriftAlert: column 'x' drifted" in m for m in caplog.messages)
    # emit=False: nothing leaves the process
    with uniml.lineage.enable(file_sink):
        monitor(profile, bad, emit=False)
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 3


def test_retrain_requested_after_exactly_k_breaches_with_cooldown(tmp_path, drifting):
    profile, ok, bad = drifting
    requests = []

    class Recorder:
        @uniml.lineage.hookimpl
        def uniml_alert(self, alert):
            if isinstance(alert, RetrainRequested):
                requests.append(alert)

    policy = RetrainPolicy(k=3, cooldown=2)
    sequence = [bad, bad, ok, bad, bad, bad, bad, bad, bad, bad, bad]
    fired_at = []
    with uniml.lineage.enable(Recorder()):
        for i, batch in enumerate(sequence):
            before = len(requests)
            monitor(profile, batch, retrain=policy)
            if len(requests) > before:
                fired_at.append(i)
    # a clean run resets the count; k=3 consecutive -> index 5; 2 runs of cool-down (6, 7);
    # then 8, 9, 10 count again -> index 10
    assert fired_at == [5, 10]
    assert requests[0].breaches == 3 and requests[0].k == 3
    assert requests[0].model == {"name": "churn", "version": "3"}
    assert "x" in requests[0].reasons[0]
    assert policy.counts() == {"breaches": 0, "cooling": 2, "requests": 2}


def test_retrain_policy_state_survives_processes(tmp_path, drifting):
    profile, _, bad = drifting
    state = tmp_path / "state.json"
    report = monitor(profile, bad, emit=False)
    got = [RetrainPolicy(k=2, state=state).observe(report, emit=False) for _ in range(2)]
    assert got[0] is None and isinstance(got[1], RetrainRequested)
    assert json.loads(state.read_text())["requests"] == 1
    only_prediction = RetrainPolicy(k=1, on=("prediction",))
    assert only_prediction.observe(report, emit=False) is None  # feature drift does not count


def test_profile_is_an_mlflow_artifact_and_metrics_go_over_time(tmp_path, drifting):
    from mlflow.tracking import MlflowClient

    profile, ok, bad = drifting
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("models", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(exp)
    artifact = profile.log_to_mlflow(run.info.run_id, tracking_uri=uri)
    assert artifact == f"runs:/{run.info.run_id}/monitoring/profile.npz"
    back = Profile.from_mlflow(run.info.run_id, tracking_uri=uri)
    np.testing.assert_array_equal(back.columns["x"].sketch, profile.columns["x"].sketch)

    sink = MlflowSink(tracking_uri=uri)
    monitor(profile, ok, sinks=[sink])
    time.sleep(1.1)  # metric steps are Unix seconds
    report = monitor(profile, bad, sinks=[sink])
    history = client.get_metric_history(sink.run_id, "drift.x")
    assert [round(m.value, 9) for m in history] == [
        pytest.approx(v, abs=1e-9)
        for v in (
            monitor(profile, ok, emit=False).column("x").statistics["wasserstein"],
            report.column("x").statistics["wasserstein"],
        )
    ]
    tags = client.get_run(sink.run_id).data.tags
    assert tags["uniml.monitoring.model"] == "churn" and tags["uniml.monitoring.version"] == "3"
    assert tags["uniml.monitoring.last_alert"].startswith("DriftAlert: column 'x' drifted")
    # the same run is found again by a new sink
    assert (
        MlflowSink(tracking_uri=uri).resolve_run({"name": "churn", "version": "3"}) == sink.run_id
    )


def test_alert_events_are_declared_hooks():
    from uniml.core import events
    from uniml.lineage._hooks import HookSpecs

    assert {"monitor", "alert"} <= set(events.EVENTS)
    assert hasattr(HookSpecs, "uniml_alert") and hasattr(HookSpecs, "uniml_monitor")
    alert = DriftAlert("x drifted", column="x", value=0.3, threshold=0.2)
    assert alert.to_dict()["kind"] == "DriftAlert"
