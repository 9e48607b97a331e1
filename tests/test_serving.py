"""The scoring service, against a real uvicorn process on 127.0.0.1 (and a real MLflow server)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import uniml
from lineage_server import mlflow_server  # noqa: F401  (the session fixture)
from uniml.core.persistence import artifact_digest

N_FEATURES = 6


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(entry.name))
    return out


class Server:
    """``python -m uniml serve ...`` in its own process group; stopped by that group."""

    def __init__(self, args: list[str], cwd: Path, env: dict | None = None):
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"serve-{self.port}.log"
        cmd = [sys.executable, "-m", "uniml", "serve", *args, "--port", str(self.port)]
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=cwd,
                env={**os.environ, **(env or {})},
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, N_FEATURES)), columns=[f"f{i}" for i in range(N_FEATURES)])
    y = X["f0"] * 2 + X["f1"] - X["f2"] + rng.normal(scale=0.1, size=n)
    return X, y


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    X, y = _data()
    reg = uniml.make("lightgbm.regressor", n_estimators=20, verbose=-1).fit(X, y)
    clf = uniml.make("lightgbm.classifier", n_estimators=10, verbose=-1).fit(X, (y > 0).astype(int))
    return {
        "root": root,
        "X": X,
        "reg": reg,
        "reg_path": reg.save(root / "reg"),
        "clf": clf,
        "clf_path": clf.save(root / "clf"),
    }


@pytest.fixture(scope="module")
def server(models, request):
    log_dir = models["root"] / "plog"
    srv = Server(
        [
            str(models["reg_path"]),
            "--workers",
            "2",
            "--prediction-log",
            str(log_dir),
            "--max-rows",
            "50",
            "--max-bytes",
            "20000",
        ],
        models["root"],
    )
    srv.log_dir = log_dir
    srv.sent_rows = 0
    srv.logged_ids = {}  # request id -> rows, for requests the log must hold
    # fit the other task kinds and start their servers while this one boots
    request.getfixturevalue("task_launch")
    srv.wait_ready()
    yield srv
    srv.stop()


def _split(X):
    return {"dataframe_split": {"columns": list(X.columns), "data": X.to_numpy().tolist()}}


def test_every_payload_format_returns_the_adapters_predictions(server, models):
    X, reg = models["X"].iloc[:5], models["reg"]
    expected = reg.predict(X).tolist()
    payloads = [
        {"json": _split(X)},
        {"json": {"dataframe_records": X.to_dict("records")}},
        {"json": {"instances": X.to_dict("records")}},
        {"json": {"inputs": X.to_dict("list")}},
        {"content": X.to_csv(index=False), "headers": {"content-type": "text/csv"}},
    ]
    with httpx.Client(base_url=server.url) as client:
        for kwargs in payloads:
            r = client.post("/invocations", **kwargs)
            assert r.status_code == 200, r.text
            assert r.json()["predictions"] == pytest.approx(expected, rel=1e-12, abs=1e-12)
            assert r.headers["x-model-name"] == "reg"
            assert r.headers["x-model-version"] == artifact_digest(models["reg_path"])[:12]
            timing = r.headers["server-timing"]
            assert [part.split(";")[0] for part in timing.split(", ")] == [
                "parse",
                "validate",
                "predict",
            ], timing
            server.sent_rows += len(X)
        v2 = {
            "inputs": [
                {"name": c, "shape": [5], "datatype": "FP64", "data": X[c].tolist()}
                for c in X.columns
            ]
        }
        r = client.post("/v2/models/reg/infer", json=v2)
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][0]["data"] == pytest.approx(expected, rel=1e-12)
        server.sent_rows += len(X)
        meta = client.get("/v2/models/reg").json()
        assert [i["name"] for i in meta["inputs"]] == list(X.columns)
        assert client.get("/v2/models/other").status_code == 404
        for path in ("/ping", "/health", "/version", "/v2/health/live", "/v2/health/ready"):
            assert client.get(path).status_code == 200, path
        spec = client.get("/openapi.json").json()
        body = spec["paths"]["/invocations"]["post"]["requestBody"]["content"]["application/json"]
        row = body["schema"]["properties"]["dataframe_records"]["items"]["properties"]
        assert list(row) == list(X.columns) and row["f0"]["type"] == "number"


def test_explain_contributions_add_up_to_the_prediction(server, models):
    X = models["X"].iloc[:3]
    r = httpx.post(f"{server.url}/explain", json=_split(X))
    assert r.status_code == 200, r.text
    body = r.json()
    sums = [sum(row.values()) + body["base_value"] for row in body["contributions"]]
    assert sums == pytest.approx(models["reg"].predict(X).tolist(), abs=1e-6)


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({"dataframe_records": [{f"f{i}": 1.0 for i in range(1, N_FEATURES)}]}, 422, "f0"),
        (
            {"dataframe_records": [{**{f"f{i}": 1.0 for i in range(N_FEATURES)}, "zz": 1.0}]},
            422,
            "zz",
        ),
        (
            {"dataframe_records": [{**{f"f{i}": 1.0 for i in range(N_FEATURES)}, "f3": "x"}]},
            422,
            "f3",
        ),
        (
            {"dataframe_split": {"columns": [f"f{i}" for i in range(N_FEATURES)], "data": [[1.0]]}},
            400,
            "row 0",
        ),
        ({"nothing": 1}, 400, "dataframe_split"),
        (
            {
                "dataframe_split": {
                    "columns": [f"f{i}" for i in range(N_FEATURES)],
                    "data": [[1.0] * N_FEATURES] * 51,
                }
            },
            413,
            "limit of 50",
        ),
    ],
)
def test_bad_payloads_get_a_4xx_naming_the_problem(server, payload, status, needle):
    r = httpx.post(f"{server.url}/invocations", json=payload)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]
    assert "Traceback" not in r.text
    if status == 422 and needle.startswith("f"):
        assert r.json()["column"] == needle


def test_malformed_and_oversized_bodies(server):
    r = httpx.post(
        f"{server.url}/invocations",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
    r = httpx.post(
        f"{server.url}/invocations",
        content=b"x" * 30000,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    r = httpx.post(f"{server.url}/invocations", content=b"a", headers={"content-type": "text/xml"})
    assert r.status_code == 415


@pytest.mark.parametrize("route", ["/invocations", "/predict"])
def test_a_chunked_body_over_the_limit_is_refused(server, route):
    """No Content-Length to check first: the body is cut off at the byte limit as it arrives."""

    def chunks():
        for _ in range(40):  # 40,000 bytes against the server's --max-bytes 20000
            yield b" " * 1000

    r = httpx.post(
        f"{server.url}{route}", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and "exceeds the limit" in r.json()["error"], r.text


def test_prediction_log_carries_a_binary_classifiers_probability(models, tmp_path):
    """With log_proba the served traffic of a classifier is enough for a CBPE estimate."""
    from fastapi.testclient import TestClient

    from uniml.monitoring import Profile, cbpe_accuracy, monitor, read_current
    from uniml.serving import create_app

    clf, X = models["clf"], models["X"]
    logs = {}
    for flag in (True, False):
        logs[flag] = tmp_path / f"log-{flag}"
        app = create_app(
            str(models["clf_path"]),
            access_log=False,
            prediction_log=str(logs[flag]),
            log_proba=flag,
        )
        with TestClient(app) as client:
            for lo in range(0, 200, 40):
                r = client.post("/invocations", json=_split(X.iloc[lo : lo + 40]))
                assert r.status_code == 200, r.text
            r = client.post("/predict", json=_split(X.iloc[200:230]))
            assert r.status_code == 200, r.text
    served = read_current(logs[True])
    assert len(served) == 230 and served["proba"].notna().all()
    # the same rows, looked up by their features: the logged probability is the model's
    served = served.sort_values("f0").reset_index(drop=True)
    ref = X.iloc[:230].sort_values("f0").reset_index(drop=True)
    want = clf.predict_proba(ref).iloc[:, 1].to_numpy()
    np.testing.assert_allclose(served["proba"].to_numpy(float), want, rtol=1e-12, atol=0)
    # without the flag only /predict (which computed the probabilities anyway) logs them
    plain = read_current(logs[False])
    assert plain["proba"].notna().sum() == 30
    # monitoring estimates accuracy from the served log exactly as from the model itself
    y = (X["f0"] * 2 + X["f1"] - X["f2"] > 0).astype(int)
    profile = Profile.fit(X.assign(y=y), clf, target="y")
    report = monitor(profile, served, emit=False)
    direct = cbpe_accuracy(profile, want, clf.predict(ref).to_numpy())
    assert report.performance["estimated"]["accuracy"]["value"] == pytest.approx(
        direct["value"], rel=1e-12
    )


def test_invocations_take_the_fast_path_unless_middleware_is_added(models):
    """POST /invocations is answered before FastAPI's middleware and router (a performance
    contract: a regression here once cost micro-batching 40 % of its throughput unnoticed)."""
    from fastapi.testclient import TestClient

    from uniml.serving import create_app

    X = models["X"].iloc[:2]
    for with_middleware in (False, True):
        app = create_app(str(models["reg_path"]), access_log=False)
        taken = []
        fast = app.state.fast_invocations

        async def counting(scope, receive, send, fast=fast, taken=taken):
            taken.append(scope["path"])
            await fast(scope, receive, send)

        app.state.fast_invocations = counting
        if with_middleware:

            @app.middleware("http")
            async def passthrough(request, call_next):
                return await call_next(request)

        with TestClient(app) as client:
            r = client.post("/invocations", json=_split(X))
            client.post("/predict", json=_split(X))
        assert r.status_code == 200
        assert r.json()["predictions"] == pytest.approx(models["reg"].predict(X).tolist())
        assert taken == ([] if with_middleware else ["/invocations"])


def test_a_responses_writes_leave_as_one_send_in_order():
    """CoalescingTransport: the writes of one loop step reach the socket as one write; close
    sends what is queued first, abort drops it; other attributes are the transport's."""
    import asyncio

    from uniml.serving._server import CoalescingTransport

    class Recorder:
        def __init__(self):
            self.calls, self.closing = [], False

        def write(self, data):
            self.calls.append(("write", bytes(data)))

        def close(self):
            self.calls.append(("close", b""))
            self.closing = True

        def abort(self):
            self.calls.append(("abort", b""))

        def is_closing(self):
            return self.closing

        def get_write_buffer_size(self):
            return 0

        def get_extra_info(self, name):
            return f"info:{name}"

    async def scenario():
        loop = asyncio.get_running_loop()
        raw = Recorder()
        t = CoalescingTransport(raw, loop)
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(b"")
        t.writelines([b"{", b"}"])
        assert raw.calls == [] and t.get_write_buffer_size() == 21
        await asyncio.sleep(0)
        first = list(raw.calls)
        t.write(b"second")
        t.close()  # queued bytes go out before the close
        aborted = Recorder()
        a = CoalescingTransport(aborted, loop)
        a.write(b"lost")
        a.abort()
        await asyncio.sleep(0)
        return first, raw.calls, aborted.calls, t.get_extra_info("peername")

    first, calls, aborted, info = asyncio.run(scenario())
    assert first == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}")]
    assert calls[1:] == [("write", b"second"), ("close", b"")]
    assert aborted == [("abort", b"")]
    assert info == "info:peername"


def test_user_middleware_sees_the_scoring_route(models):
    """The fast /invocations path steps aside when the app has middleware of its own."""
    from fastapi.testclient import TestClient

    from uniml.serving import create_app

    app = create_app(str(models["reg_path"]), access_log=False)

    @app.middleware("http")
    async def stamp(request, call_next):
        response = await call_next(request)
        response.headers["x-stamped"] = "yes"
        return response

    X = models["X"].iloc[:2]
    with TestClient(app) as client:
        r = client.post("/invocations", json=_split(X))
    assert r.status_code == 200 and r.headers.get("x-stamped") == "yes"
    assert r.json()["predictions"] == pytest.approx(models["reg"].predict(X).tolist(), rel=1e-12)


def test_metrics_count_requests_by_code(server):
    httpx.post(f"{server.url}/invocations", json={"nothing": 1})
    text = httpx.get(f"{server.url}/metrics").text
    assert 'uniml_requests_total{code="400",route="/invocations"}' in text
    assert "uniml_request_seconds_bucket" in text and "uniml_model_info" in text


def test_a_killed_worker_is_replaced(server, models):
    workers = {
        p for p in _children(server.proc.pid) if "spawn" in Path(f"/proc/{p}/cmdline").read_text()
    }
    assert len(workers) == 2, workers
    victim = sorted(workers)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    now = workers
    while time.monotonic() < deadline:
        now = {
            p
            for p in _children(server.proc.pid)
            if p != victim
            and Path(f"/proc/{p}").exists()
            and "spawn" in Path(f"/proc/{p}/cmdline").read_text()
        }
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.2)
    assert len(now) == 2 and victim not in now
    server.wait_ready()
    X = models["X"].iloc[:1]
    for _ in range(10):
        r = httpx.post(f"{server.url}/invocations", json=_split(X))
        assert r.status_code == 200
        server.sent_rows += 1
        server.logged_ids[r.headers["x-request-id"]] = 1


def test_zz_prediction_log_holds_every_request_after_shutdown(server, models):
    X = models["X"].iloc[:2]
    with httpx.Client(base_url=server.url) as client:
        for _ in range(20):
            r = client.post("/invocations", json=_split(X))
            assert r.status_code == 200
            server.sent_rows += 2
            server.logged_ids[r.headers["x-request-id"]] = 2
    server.stop()  # graceful: SIGTERM, the writers drain their queues
    files = sorted(server.log_dir.glob("date=*/part-*.jsonl"))
    records = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    # every request answered after the worker kill is in the log, with every row (what the
    # SIGKILLed worker had not flushed yet is the only thing that may be missing)
    rows_by_id: dict = {}
    for rec in records:
        rows_by_id.setdefault(rec["request_id"], set()).add(rec["row"])
    assert len(server.logged_ids) == 30
    for request_id, n_rows in server.logged_ids.items():
        assert rows_by_id.get(request_id) == set(range(n_rows)), request_id
    assert {
        "ts",
        "request_id",
        "row",
        "model_name",
        "model_version",
        "run_id",
        "features",
        "prediction",
    } <= set(records[0])
    last = [r for r in records if r["features"]["f0"] == X["f0"].iloc[1]]
    assert last[0]["prediction"] == pytest.approx(models["reg"].predict(X.iloc[[1]]).iloc[0])


def test_classifier_routes(models, tmp_path):
    from fastapi.testclient import TestClient

    from uniml.serving import create_app

    X = models["X"].iloc[:4]
    with TestClient(create_app(str(models["clf_path"]), access_log=False)) as client:
        r = client.post("/predict", json=_split(X))
    assert r.status_code == 200
    proba = models["clf"].predict_proba(X)
    assert r.json()["predictions"] == models["clf"].predict(X).tolist()
    assert r.json()["probabilities"]["1"] == pytest.approx(proba[1].tolist())


def test_batch_score_streams_chunks_and_names_rows(models, tmp_path):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from uniml.cli import cli

    X = models["X"]
    X.to_parquet(tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    res = CliRunner().invoke(
        cli,
        [
            "score",
            str(models["reg_path"]),
            str(tmp_path / "in.parquet"),
            str(out),
            "--chunk-rows",
            "64",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    got = pq.read_table(out)["prediction"].to_numpy()
    np.testing.assert_array_equal(got, models["reg"].predict(X).to_numpy())
    bad = X.astype({"f2": object})
    bad.loc[200, "f2"] = "oops"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    res = CliRunner().invoke(
        cli,
        [
            "score",
            str(models["reg_path"]),
            str(tmp_path / "bad.csv"),
            str(out),
            "--chunk-rows",
            "64",
        ],
    )
    assert res.exit_code == 2
    assert "rows 192..255" in res.output and "f2" in res.output


@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(st.integers(), max_size=12), depth=st.integers(1, 3), fail_at=st.integers(0, 14)
)
def test_read_ahead_keeps_order_raises_the_readers_error_and_stops_early(items, depth, fail_at):
    from uniml.serving._batch import _read_ahead

    def reader(values, fail=None):
        for i, v in enumerate(values):
            if i == fail:
                raise ValueError(f"bad chunk {i}")
            yield v

    assert list(_read_ahead(reader(items), depth)) == items
    got = []
    if fail_at < len(items):
        with pytest.raises(ValueError, match=f"bad chunk {fail_at}"):
            for v in _read_ahead(reader(items, fail_at), depth):
                got.append(v)
        assert got == items[:fail_at]
    # leaving early stops the reader thread (it never waits forever on a full queue)
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    stream = _read_ahead(endless(), depth)
    assert next(stream) == 0
    stream.close()
    assert not any(t.name == "uniml-score-reader" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= depth + 3  # bounded: never more than a few chunks ahead


def test_dockerfile_passes_hadolint(tmp_path):
    from click.testing import CliRunner

    from uniml.cli import cli

    path = tmp_path / "Dockerfile"
    res = CliRunner().invoke(cli, ["serve", "--dockerfile", str(path)])
    assert res.exit_code == 0, res.output
    text = path.read_text()
    assert "USER 10001" in text and "/v2/health/ready" in text
    hadolint = Path(sys.executable).with_name("hadolint")
    lint = subprocess.run([str(hadolint), str(path)], capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_follow_swaps_versions_under_load_with_zero_failures(mlflow_server, models, tmp_path):  # noqa: F811
    from mlflow import MlflowClient

    X, y = _data(seed=1)
    v2_model = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1).fit(X, -y)
    client = MlflowClient(mlflow_server.uri, registry_uri=mlflow_server.uri)
    name = f"serve-follow-{os.getpid()}"
    client.create_registered_model(name)
    exp = client.create_experiment(f"serve-{os.getpid()}-{time.time_ns()}")
    versions = []
    for adapter in (models["reg"], v2_model):
        run = client.create_run(exp)
        folder = adapter.save(tmp_path / run.info.run_id / "uniml")
        client.log_artifacts(run.info.run_id, str(folder), "model")
        client.set_terminated(run.info.run_id)
        mv = client.create_model_version(
            name,
            f"{run.info.artifact_uri}/model",
            run_id=run.info.run_id,
            tags={"uniml.artifact_digest": artifact_digest(folder)},
        )
        versions.append(str(mv.version))
    client.set_registered_model_alias(name, "champion", versions[0])
    srv = Server(
        [
            f"models:/{name}@champion",
            "--follow",
            "--poll-seconds",
            "0.3",
            "--tracking-uri",
            mlflow_server.uri,
            "--no-access-log",
        ],
        tmp_path,
    )
    try:
        srv.wait_ready()
        row = X.iloc[:1]
        expect = {
            versions[0]: models["reg"].predict(row).iloc[0],
            versions[1]: v2_model.predict(row).iloc[0],
        }
        seen, failures, stop = [], [], threading.Event()

        def load():
            with httpx.Client(base_url=srv.url, timeout=10) as c:
                while not stop.is_set():
                    r = c.post("/invocations", json=_split(row))
                    if r.status_code != 200:
                        failures.append(r.text)
                        continue
                    version = r.headers["x-model-version"]
                    if r.json()["predictions"][0] != pytest.approx(expect[version]):
                        failures.append(f"version {version} answered with another model")
                    seen.append(version)

        thread = threading.Thread(target=load)
        thread.start()
        try:
            for target in (versions[1], versions[0]):  # promotion, then rollback
                client.set_registered_model_alias(name, "champion", target)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and (not seen or seen[-1] != target):
                    time.sleep(0.1)
                assert seen[-1] == target
        finally:
            stop.set()
            thread.join(15)
        assert failures == []
        assert versions[1] in seen and seen[-1] == versions[0]
    finally:
        srv.stop()


# ------------------------------------------------------------------ every task kind, real uvicorn
@pytest.fixture(scope="module")
def task_launch(models):
    """A classifier, a forecaster, a causal model and a recommender, each behind its own
    ``uniml serve`` process (started together, one worker each; not waited for here)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from uniml.testing.causal import make_causal_data
    from uniml.testing.forecasting import make_forecast_data
    from uniml.testing.recommendation import make_interaction_data

    root = models["root"]
    frame = make_forecast_data(n_series=2, n=60, exog=False)
    forecaster = uniml.make("statsmodels.ets").fit(
        uniml.ForecastData(frame, time="date", target="sales", series_id="store")
    )
    causal_data, _ = make_causal_data(n=200, seed=0)
    causal = uniml.make(
        "econml.dml",
        model_y=LinearRegression(),
        model_t=LogisticRegression(),
        cv=2,
        random_state=0,
    ).fit(causal_data)
    interactions = make_interaction_data(n_users=30, n_items=20, per_user=5, seed=0)
    recommender = uniml.make("lightfm.recommender", epochs=5, random_state=0, num_threads=1)
    recommender.fit(interactions)
    fitted = {
        "classification": models["clf"],
        "forecasting": forecaster,
        "causal": causal,
        "recommendation": recommender,
    }
    servers = {}
    try:
        for task, model in fitted.items():
            path = model.save(root / f"task-{task}") if task != "classification" else None
            path = path or models["clf_path"]
            # statsmodels and EconML persist with pickle: the test trusts what it just saved
            args = [str(path), "--trusted", "--no-access-log"]
            if task == "classification":  # also the micro-batching server
                args += ["--batch-max-rows", "8", "--batch-max-wait-ms", "20"]
            servers[task] = Server(args, root)
        yield {
            "servers": servers,
            "models": fitted,
            "causal_frame": causal_data.frame,
            "X": models["X"],
        }
    finally:
        for srv in servers.values():  # signal all first: they shut down in parallel
            if srv.proc.poll() is None:
                os.killpg(srv.proc.pid, signal.SIGTERM)
        for srv in servers.values():
            srv.stop()


@pytest.fixture(scope="module")
def task_servers(task_launch):
    for srv in task_launch["servers"].values():
        srv.wait_ready(120)
    return task_launch


def test_classifier_over_uvicorn_answers_labels_and_probabilities(task_servers):
    srv, model = task_servers["servers"]["classification"], task_servers["models"]["classification"]
    X = task_servers["X"].iloc[:7]
    r = httpx.post(f"{srv.url}/predict", json=_split(X))
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == model.predict(X).tolist()
    proba = model.predict_proba(X)
    for label in proba.columns:
        assert r.json()["probabilities"][str(label)] == pytest.approx(
            proba[label].tolist(), rel=1e-12, abs=1e-15
        )
    r = httpx.post(f"{srv.url}/invocations", json=_split(X))
    assert r.json()["predictions"] == model.predict(X).tolist()


def test_forecaster_over_uvicorn_answers_the_adapters_forecast(task_servers):
    srv, model = task_servers["servers"]["forecasting"], task_servers["models"]["forecasting"]
    r = httpx.post(f"{srv.url}/forecast", json={"horizon": 4})
    assert r.status_code == 200, r.text
    got = pd.DataFrame(r.json()["forecast"])
    expected = model.predict(horizon=4).reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    assert got["store"].tolist() == expected["store"].tolist()
    assert pd.to_datetime(got["date"]).tolist() == expected["date"].tolist()
    for col in expected.columns.drop(["store", "date"]):
        np.testing.assert_allclose(got[col], expected[col], rtol=1e-12)
    one = httpx.post(f"{srv.url}/forecast", json={"horizon": 2, "series": ["s1"]}).json()
    assert {row["store"] for row in one["forecast"]} == {"s1"} and len(one["forecast"]) == 2
    for bad, needle in (({"horizon": 0}, "horizon"), ({"horizon": "3"}, "horizon")):
        r = httpx.post(f"{srv.url}/forecast", json=bad)
        assert r.status_code == 422 and needle in r.json()["error"], r.text


def test_causal_model_over_uvicorn_answers_effects_with_intervals(task_servers):
    srv, model = task_servers["servers"]["causal"], task_servers["models"]["causal"]
    frame = task_servers["causal_frame"].iloc[:6]
    modifiers = frame[list(model.schema_.names)]
    r = httpx.post(f"{srv.url}/effect", json=_split(modifiers))
    assert r.status_code == 200, r.text
    got = pd.DataFrame(r.json()["effects"])
    expected = model.predict(modifiers)
    assert list(got.columns) == ["effect", "lower", "upper"]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-10)
    r = httpx.post(f"{srv.url}/effect", json=_split(modifiers.drop(columns="x2")))
    assert r.status_code == 422 and r.json()["column"] == "x2", r.text


def test_recommender_over_uvicorn_answers_the_adapters_top_k(task_servers):
    srv, model = task_servers["servers"]["recommendation"], task_servers["models"]["recommendation"]
    r = httpx.post(f"{srv.url}/recommend", json={"users": ["u1", "u2"], "k": 3})
    assert r.status_code == 200, r.text
    got = pd.DataFrame(r.json()["recommendations"])
    expected = model.predict(["u1", "u2"], k=3).reset_index(drop=True)
    assert got[["user", "item", "rank"]].to_dict("list") == expected[
        ["user", "item", "rank"]
    ].to_dict("list")
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-6)
    for bad, needle in (({"users": ["u1"], "k": 0}, "k"), ({"k": 3}, "users")):
        r = httpx.post(f"{srv.url}/recommend", json=bad)
        assert r.status_code == 422 and needle in r.json()["error"], r.text
    assert httpx.post(f"{srv.url}/recommend", content=b"[1,").status_code == 400


def test_skew_counters_count_values_the_training_data_never_showed(task_servers):
    """uniml_feature_skew_total: outside the fitted min..max, or missing where none were."""
    srv, model = task_servers["servers"]["classification"], task_servers["models"]["classification"]
    X = task_servers["X"]
    low, high = X["f0"].min(), X["f0"].max()
    assert model.schema_["f0"].range == (low, high)
    rows = X.iloc[:4].copy()
    rows["f0"] = [low - 1.0, high + 1.0, high + 2.0, low]  # 1 below, 2 above, 1 at the edge
    rows["f3"] = [np.nan, 0.0, np.nan, 0.0]  # f3 had no missing values at fit
    before = _skew(srv)
    records = [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in rows.to_dict("records")
    ]  # NaN as JSON null; floats at full precision (the edge value must stay in range)
    payload = {"dataframe_records": records}
    assert httpx.post(f"{srv.url}/invocations", json=payload).status_code == 200
    after = _skew(srv)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert {k: v for k, v in delta.items() if v} == {
        ("f0", "below_range"): 1,
        ("f0", "above_range"): 2,
        ("f3", "missing"): 2,
    }


def _skew(srv) -> dict:
    out = {}
    for line in httpx.get(f"{srv.url}/metrics").text.splitlines():
        if line.startswith("uniml_feature_skew_total{"):
            labels, value = line[len("uniml_feature_skew_total{") :].rsplit("} ", 1)
            parts = dict(p.split("=", 1) for p in labels.split(","))
            out[(parts["feature"].strip('"'), parts["kind"].strip('"'))] = float(value)
    return out


def test_categorical_model_refuses_unseen_levels_and_mixed_types_by_name(tmp_path):
    """422 naming the column for an unseen category and for a string in a numeric column."""
    from fastapi.testclient import TestClient

    from uniml.serving import create_app

    X = pd.DataFrame(
        {"size": pd.Categorical(["s", "m", "l"] * 20), "price": np.linspace(1.0, 9.0, 60)}
    )
    model = uniml.make("lightgbm.regressor", n_estimators=5, min_child_samples=2, verbose=-1)
    folder = model.fit(X, np.arange(60.0)).save(tmp_path / "cat")
    with TestClient(create_app(str(folder), access_log=False)) as client:
        ok = client.post("/invocations", json={"dataframe_records": [{"size": "m", "price": 2.0}]})
        unseen = client.post(
            "/invocations", json={"dataframe_records": [{"size": "xl", "price": 2.0}]}
        )
        mixed = client.post(
            "/invocations",
            json={"dataframe_split": {"columns": ["size", "price"], "data": [["s", "2.0"]]}},
        )
    assert ok.status_code == 200, ok.text
    expected = model.predict(X.iloc[[1]].assign(price=2.0)).tolist()
    assert ok.json()["predictions"] == pytest.approx(expected, rel=1e-12)
    assert unseen.status_code == 422 and unseen.json()["column"] == "size", unseen.text
    assert "xl" in unseen.json()["error"]
    assert mixed.status_code == 422 and mixed.json()["column"] == "price", mixed.text


def test_micro_batched_requests_each_get_their_own_rows_answer(task_servers):
    """Concurrent one-row requests scored together still get their own row's prediction."""
    from concurrent.futures import ThreadPoolExecutor

    srv, model = task_servers["servers"]["classification"], task_servers["models"]["classification"]
    X = task_servers["X"].iloc[:24]
    expected = model.predict(X).tolist()

    def one(i):
        r = httpx.post(f"{srv.url}/invocations", json=_split(X.iloc[[i]]), timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["predictions"]

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(one, range(len(X))))
    assert answers == [[p] for p in expected]
    # a bad row among good ones gets its own 422; the others are still answered
    bad = X.iloc[[0]].rename(columns={"f1": "zz"})
    with ThreadPoolExecutor(4) as pool:
        codes = list(
            pool.map(
                lambda frame: httpx.post(f"{srv.url}/invocations", json=_split(frame)).status_code,
                [X.iloc[[1]], bad, X.iloc[[2]], X.iloc[[3]]],
            )
        )
    assert codes == [200, 422, 200, 200]
