"""Lineage against a real SQLite MLflow store: every catalog adapter, the card, the pyfunc,
nesting, refits, evaluation runs, the registry, spool/sync, plugins and the environment switch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

import uniml
import uniml.lineage as lineage
from uniml.core import events
from uniml.core.catalog import get_adapter_class
from uniml.core.dependencies import distribution_version
from uniml.lineage._pyfunc import predict_frame
from uniml.testing import make_tabular_data
from uniml.testing.causal import make_causal_data
from uniml.testing.forecasting import make_forecast_data
from uniml.testing.recommendation import make_interaction_data

REPO = Path(__file__).resolve().parents[1]
CATALOG = uniml.adapters()


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    """The pyfunc convention: category columns travel as strings (MLflow has no category type)."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype({c: object for c in cats}).astype({c: str for c in cats}) if cats else frame


def _same(a, b) -> bool:
    if isinstance(a, pd.Series):
        return isinstance(b, pd.Series) and a.equals(b) and a.name == b.name
    return isinstance(b, pd.DataFrame) and a.equals(b) and list(a.columns) == list(b.columns)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("lineage-store")
    uri = f"sqlite:///{root / 'mlruns.db'}"
    handle = lineage.enable(
        tracking_uri=uri,
        experiment="tests",
        spool=root / "spool",
        artifact_location=str(root / "artifacts"),
        explain_rows=20,
        intended_use="unit tests",
        limitations="synthetic data only",
    )
    yield {"uri": uri, "root": root, "client": MlflowClient(uri), "handle": handle}
    handle.close()


def _fit_case(name: str, params: dict):
    """Fit adapter ``name`` on the conformance data of its task; return (model, X, y, new_input, raw_new)."""
    cls = get_adapter_class(name)
    model = cls(**params)
    task = str(model.task_kind)
    if task in ("regression", "classification"):
        kind = task
        X, y = make_tabular_data(kind, categorical=model._accepts_categorical(), seed=3)
        model.fit(X, y)
        new, _ = make_tabular_data(kind, categorical=model._accepts_categorical(), n=12, seed=7)
        return model, X, y, _strings(new), new
    if task == "forecasting":
        df = make_forecast_data(exog=cls.supports_exog)
        train = df[df["date"] < "2023-02-26"]
        model.fit(
            train,
            time="date",
            target="sales",
            series_id="store",
            exog=["promo"] if cls.supports_exog else None,
        )
        if cls.supports_exog:
            future = df[df["date"] >= "2023-02-26"].drop(columns="sales")
            return model, train, None, future, future
        horizon = pd.DataFrame({"horizon": [5]})
        return model, train, None, horizon, horizon
    if task == "causal":
        data, _ = make_causal_data(n=300, seed=2)
        model.fit(data)
        new, _ = make_causal_data(n=15, seed=9)
        return model, data.frame, data.Y, new.frame, new.frame
    data = make_interaction_data(n_users=30, n_items=20, per_user=5)
    model.fit(data)
    users = pd.DataFrame({"user": ["u1", "u5", "u7"], "k": 4})
    return model, data.frame, None, users, users


def _cases():
    out = []
    for name in CATALOG.loc[CATALOG["installed"], "name"]:
        for i, params in enumerate(get_adapter_class(name)._test_params()):
            out.append(pytest.param(name, params, id=f"{name}-{i}"))
    return out


@pytest.mark.parametrize(("name", "params"), _cases())
def test_every_adapter_fit_is_tracked_and_served_as_pyfunc(store, name, params):
    model, X, y, new, raw_new = _fit_case(name, params)
    ref = lineage.last_run(timeout=120)
    assert not ref.spooled, ref.error
    client = store["client"]
    run = client.get_run(ref.run_id)
    cls = type(model)
    assert run.info.status == "FINISHED"
    # params: every constructor parameter, nested estimator params flattened
    for key in model.get_params(deep=False):
        assert key in run.data.params, key
    nested = {k for k in model.get_params(deep=True) if "__" in k}
    assert nested <= set(run.data.params)
    tags = run.data.tags
    assert tags["uniml.adapter"] == name
    assert tags["uniml.task"] == str(model.task_kind)
    assert tags["uniml.library"] == cls.library
    assert tags["uniml.library_version"] == str(distribution_version(cls.library))
    assert tags["uniml.version"] == uniml.__version__
    assert tags["uniml.python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert tags["uniml.intended_use"] == "unit tests"
    # dataset input: the fingerprint of what was fitted on, its size
    (inp,) = run.inputs.dataset_inputs
    tabular = str(model.task_kind) in ("regression", "classification")
    expected = lineage.fingerprint(X, y if tabular else None)
    assert inp.dataset.digest == expected[:32]
    profile = json.loads(inp.dataset.profile)
    assert profile["fingerprint"] == expected
    assert profile["num_rows"] == len(X)
    # model card: JSON and Markdown, tied to this run
    local = Path(
        mlflow.artifacts.download_artifacts(
            run_id=ref.run_id, artifact_path="model_card.json", tracking_uri=store["uri"]
        )
    )
    card = json.loads(local.read_text())
    assert card["lineage"]["run_id"] == ref.run_id
    assert card["training_data"]["fingerprint"] == expected
    assert card["model_details"]["adapter"] == name
    assert card["limitations"] == "synthetic data only"
    artifacts = {a.path for a in client.list_artifacts(ref.run_id)}
    assert {"model", "model_card.md", "model_card.json"} <= artifacts
    # the pyfunc predicts exactly what the adapter does on new data
    mlflow.set_tracking_uri(store["uri"])
    try:
        served = mlflow.pyfunc.load_model(ref.model_uri).predict(new)
    finally:
        mlflow.set_tracking_uri(None)
    direct = predict_frame(model, raw_new)
    assert _same(direct, served), (direct, served)
    model_dir = Path(
        mlflow.artifacts.download_artifacts(
            run_id=ref.run_id, artifact_path="model", tracking_uri=store["uri"]
        )
    )
    mlmodel = (model_dir / "MLmodel").read_text()
    assert "signature:" in mlmodel and "uniml_adapter: " + name in mlmodel
    requirements = (model_dir / "requirements.txt").read_text().split()
    extra = cls.extra if cls.extra and cls.extra != "core" else None
    wanted = f"uniml[{extra}]=={uniml.__version__}" if extra else f"uniml=={uniml.__version__}"
    assert wanted in requirements
    # and load_adapter gives back an equivalent adapter
    loaded = lineage.load_adapter(ref.model_uri, tracking_uri=store["uri"], trusted=True)
    assert _same(predict_frame(loaded, raw_new), direct)


def test_in_sample_metrics_match_scikit_learn(store):
    from sklearn.metrics import (
        log_loss,
        mean_absolute_error,
        r2_score,
        roc_auc_score,
        root_mean_squared_error,
    )

    X, y = make_tabular_data("regression", n=200, seed=4)
    reg = uniml.make("lightgbm.regressor", n_estimators=15, verbose=-1).fit(X, y)
    m = store["client"].get_run(lineage.last_run().run_id).data.metrics
    pred = reg.predict(X)
    assert m["train_rmse"] == pytest.approx(root_mean_squared_error(y, pred))
    assert m["train_mae"] == pytest.approx(mean_absolute_error(y, pred))
    assert m["train_r2"] == pytest.approx(r2_score(y, pred))
    Xc, yc = make_tabular_data("classification", n=200, seed=4)
    with warnings.catch_warnings(record=True) as record:  # on the lineage thread as well
        warnings.simplefilter("always")
        clf = uniml.make("xgboost.classifier", n_estimators=10).fit(Xc, yc)
        m = store["client"].get_run(lineage.last_run().run_id).data.metrics
    # XGBoost's float32 probabilities do not sum to one in float64: no scikit-learn warning
    assert not [w for w in record if "do not sum to one" in str(w.message)]
    proba = clf.predict_proba(Xc)
    assert m["train_accuracy"] == pytest.approx(float((clf.predict(Xc) == yc).mean()))
    values = proba.to_numpy(dtype=float)
    assert m["train_log_loss"] == pytest.approx(
        log_loss(yc, values / values.sum(axis=1, keepdims=True), labels=list(proba.columns)),
        abs=1e-12,
    )
    assert m["train_roc_auc"] == pytest.approx(
        roc_auc_score(yc == proba.columns[1], proba.iloc[:, 1])
    )


def test_git_commit_user_and_host_tags(store):
    X, y = make_tabular_data("regression", n=60)
    uniml.make("statsmodels.ols").fit(X, y)
    tags = store["client"].get_run(lineage.last_run().run_id).data.tags
    # pytest's __main__ lives in the venv inside this repository; other commits may land meanwhile,
    # so the tag must be this repository's HEAD or one of its ancestors
    commit = tags["mlflow.source.git.commit"]
    assert len(commit) == 40
    check = subprocess.run(["git", "-C", str(REPO), "merge-base", "--is-ancestor", commit, "HEAD"])
    assert check.returncode == 0
    assert tags["uniml.git.dirty"] in ("true", "false")
    assert tags["mlflow.user"] and tags["uniml.host"]


def test_refit_right_after_fit_logs_the_first_model(store):
    X, y = make_tabular_data("regression", n=120, seed=5)
    model = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1)
    model.fit(X, y)
    first_run = lineage._mlflow._last_fit
    first = model.predict(X)
    model.set_params(n_estimators=40).fit(X, -y)  # same object, immediately
    ref = first_run.result(timeout=60)
    logged = lineage.load_adapter(ref.model_uri, tracking_uri=store["uri"])
    assert logged.predict(X).equals(first)
    assert store["client"].get_run(ref.run_id).data.params["n_estimators"] == "5"
    lineage.flush()


def test_fit_nests_under_the_users_active_run(store):
    X, y = make_tabular_data("regression", n=60)
    mlflow.set_tracking_uri(store["uri"])
    try:
        experiment = mlflow.set_experiment("user-experiment")
        with mlflow.start_run() as parent:
            uniml.make("statsmodels.ols").fit(X, y)
            ref = lineage.last_run()
    finally:
        mlflow.set_tracking_uri(None)
    run = store["client"].get_run(ref.run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert run.info.experiment_id == experiment.experiment_id


def test_muted_fits_are_not_logged(store):
    X, y = make_tabular_data("regression", n=60)
    before = lineage.last_run()
    with events.muted():
        uniml.make("statsmodels.ols").fit(X, y)
    lineage.flush()
    assert lineage.last_run() is before


def test_long_and_odd_params_are_truncated_not_fatal(store):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = make_tabular_data("regression", n=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # xgboost says it does not use 'note'
        uniml.make("xgboost.regressor", n_estimators=3, extra_params={"note": "x" * 9000}).fit(X, y)
    ref = lineage.last_run()
    assert not ref.spooled, ref.error
    value = store["client"].get_run(ref.run_id).data.params["note"]
    assert len(value) <= 6000 and value.endswith("9000 characters in all]")
    step = "s" * 300  # nested keys longer than MLflow's 250 characters
    uniml.make(
        "sklearn.estimator", estimator=Pipeline([(step, StandardScaler()), ("ridge", Ridge())])
    ).fit(X, y)
    ref = lineage.last_run()
    assert not ref.spooled, ref.error
    keys = store["client"].get_run(ref.run_id).data.params
    assert keys["estimator__ridge__alpha"] == "1.0"
    assert max(map(len, keys)) <= 250


class _Gate:
    def __init__(self, name, passed, reason):
        self.name, self.passed, self.reason = name, passed, reason


class _StandInReport:
    """Exactly the attributes the harness's EvalReport promises (duck typing)."""

    def __init__(self):
        self.task = "regression"
        self.protocol = {"kind": "kfold", "n_splits": 3, "seed": 0}
        self.leaderboard = pd.DataFrame(
            {"rmse_mean": [1.5, 2.5], "rmse_std": [0.1, 0.2], "role": ["candidate", "baseline"]},
            index=pd.Index(["lgbm", "mean"], name="model"),
        )
        self.fold_scores = pd.DataFrame(
            {"model": ["lgbm", "mean"], "fold": [0, 0], "metric": "rmse", "value": [1.5, 2.5]}
        )
        self.gates = [
            _Gate("beats_baseline", True, "1.5 < 2.5"),
            _Gate("max_rmse", False, "1.5 > 1.0"),
        ]
        self.passed = False
        self.params = {"lgbm": {"n_estimators": 10, "inner": {"depth": 3}}, "mean": {}}

    def to_json(self):
        return json.dumps({"task": self.task, "passed": self.passed})

    def to_html(self, path):
        Path(path).write_text("<html>report</html>")
        return Path(path)


def test_evaluate_event_logs_parent_and_child_runs(store):
    client = store["client"]
    report = _StandInReport()
    events.emit("evaluate", report=report, spec={"candidates": ["lgbm"]})
    lineage.flush()
    exp = client.get_experiment_by_name("tests")
    (parent,) = client.search_runs([exp.experiment_id], "tags.`uniml.kind` = 'evaluate'")
    assert parent.info.run_name == "uniml-eval"
    assert parent.data.tags["uniml.eval.passed"] == "false"
    assert parent.data.tags["uniml.gate.beats_baseline"] == "passed"
    assert parent.data.tags["uniml.gate.max_rmse"].startswith("failed")
    assert parent.data.params["protocol.n_splits"] == "3"
    files = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"report.json", "report.html", "gates.json", "spec.json"} <= files
    children = client.search_runs(
        [exp.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    by_name = {r.info.run_name: r for r in children}
    assert set(by_name) == {"lgbm", "mean"}
    assert by_name["lgbm"].data.metrics == {"rmse_mean": 1.5, "rmse_std": 0.1}
    assert by_name["lgbm"].data.tags["uniml.role"] == "candidate"
    assert by_name["mean"].data.tags["uniml.role"] == "baseline"
    assert by_name["lgbm"].data.params == {"n_estimators": "10", "inner.depth": "3"}


def test_register_and_promote_then_load_by_alias_and_version(store):
    seen = []

    class Recorder:
        @lineage.hookimpl
        def uniml_register(self, name, version):
            seen.append(("register", name, version))

        @lineage.hookimpl
        def uniml_promote(self, name, version, alias, previous_version):
            seen.append(("promote", name, version, alias, previous_version))

    X, y = make_tabular_data("regression", n=80, seed=6)
    with lineage.enable(Recorder()):
        m1 = uniml.make("lightgbm.regressor", n_estimators=4, verbose=-1).fit(X, y)
        v1 = lineage.register_model(
            lineage.last_run().model_uri, "tests-model", alias="champion", tracking_uri=store["uri"]
        )
        m2 = uniml.make("lightgbm.regressor", n_estimators=9, verbose=-1).fit(X, y)
        v2 = lineage.register_model(
            lineage.last_run().model_uri, "tests-model", alias="champion", tracking_uri=store["uri"]
        )
    assert (v1["version"], v2["version"], v2["previous_version"]) == ("1", "2", "1")
    assert seen == [
        ("register", "tests-model", "1"),
        ("promote", "tests-model", "1", "champion", None),
        ("register", "tests-model", "2"),
        ("promote", "tests-model", "2", "champion", "1"),
    ]
    champion = lineage.load_adapter("models:/tests-model@champion", tracking_uri=store["uri"])
    first = lineage.load_adapter("models:/tests-model/1", tracking_uri=store["uri"])
    assert champion.predict(X).equals(m2.predict(X))
    assert first.predict(X).equals(m1.predict(X))
    lineage.flush()
    version = store["client"].get_model_version("tests-model", "2")
    assert version.tags["uniml.promoted_to"] == "champion"


def test_load_adapter_errors_are_typed(tmp_path):
    with pytest.raises(lineage.LineageError, match="does not exist"):
        lineage.load_adapter(str(tmp_path / "missing"))
    with pytest.raises(lineage.LineageError, match="no uniml model"):
        lineage.load_adapter(str(tmp_path))


def test_mlflow_models_predict_cli_tabular_and_forecasting(store, tmp_path):
    X, y = make_tabular_data("regression", n=80, seed=8)
    reg = uniml.make("lightgbm.regressor", n_estimators=6, verbose=-1).fit(X, y)
    reg_uri = lineage.last_run().model_uri
    df = make_forecast_data(exog=False)
    ets = uniml.make("statsmodels.ets", trend="add").fit(
        df, time="date", target="sales", series_id="store"
    )
    ets_uri = lineage.last_run().model_uri
    X.head(5).to_csv(tmp_path / "input.csv", index=False)
    (tmp_path / "horizon.json").write_text(
        json.dumps({"dataframe_split": {"columns": ["horizon"], "data": [[4]]}})
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": store["uri"]}
    exe = str(Path(sys.executable).with_name("mlflow"))
    for uri, inp, kind, out in [
        (reg_uri, "input.csv", "csv", "reg.json"),
        (ets_uri, "horizon.json", "json", "ets.json"),
    ]:
        subprocess.run(
            [
                exe,
                "models",
                "predict",
                "-m",
                uri,
                "-i",
                str(tmp_path / inp),
                "-t",
                kind,
                "-o",
                str(tmp_path / out),
                "--env-manager",
                "local",
            ],
            env=env,
            check=True,
            capture_output=True,
            cwd=tmp_path,
            timeout=300,
        )
    got = pd.DataFrame(
        json.loads((tmp_path / "reg.json").read_text())["predictions"]
    )  # a named Series
    np.testing.assert_allclose(
        got["target"].to_numpy(), reg.predict(X.head(5)).to_numpy(), rtol=0, atol=1e-12
    )
    forecast = pd.DataFrame(json.loads((tmp_path / "ets.json").read_text())["predictions"])
    expected = ets.predict(horizon=4)
    np.testing.assert_allclose(
        forecast["forecast"].to_numpy(), expected["forecast"].to_numpy(), atol=1e-12
    )
    assert forecast["store"].tolist() == expected["store"].tolist()


# ----------------------------------------------------------------- spool and sync (no server)
def _dead_uri() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there


def test_unreachable_store_spools_and_sync_replays_exactly_once(store, tmp_path):
    spool = tmp_path / "spool"
    X, y = make_tabular_data("regression", n=60, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lineage.enable(
            tracking_uri=_dead_uri(), experiment="spooled", spool=spool, explain_rows=10
        ) as h:
            model = uniml.make("xgboost.regressor", n_estimators=5).fit(X, y)  # the fit succeeds
            ref = h.last_run(timeout=120)
    assert ref.spooled and Path(ref.spool_path).parent == spool
    assert any(
        issubclass(w.category, uniml.UnimlWarning) and str(spool) in str(w.message) for w in caught
    )
    record = json.loads((Path(ref.spool_path) / "record.json").read_text())
    assert record["runs"][0]["params"]["n_estimators"] == "5"
    assert (Path(ref.spool_path) / "model" / "MLmodel").is_file()
    assert (Path(ref.spool_path) / "model_card.json").is_file()
    backup = tmp_path / "backup"
    shutil.copytree(ref.spool_path, backup)

    results = lineage.sync(tracking_uri=store["uri"], spool=spool)
    assert [r.status for r in results] == ["replayed"]
    assert not any(spool.iterdir())
    # a record replayed again (e.g. a crash after the runs went in but before the spool was
    # cleaned) creates nothing new
    shutil.copytree(backup, spool / ref.lineage_id)
    assert [r.status for r in lineage.sync(tracking_uri=store["uri"], spool=spool)] == ["replayed"]
    client = store["client"]
    exp = client.get_experiment_by_name("spooled")
    runs = client.search_runs(
        [exp.experiment_id], f"tags.`uniml.lineage_id` = '{ref.lineage_id}:fit'"
    )
    assert len(runs) == 1
    (run,) = runs
    assert run.data.params["n_estimators"] == "5"
    assert len(run.inputs.dataset_inputs) == 1
    replayed = lineage.load_adapter(f"runs:/{run.info.run_id}/model", tracking_uri=store["uri"])
    assert replayed.predict(X).equals(model.predict(X))


def test_sync_replaces_a_half_written_run(store, tmp_path):
    spool = tmp_path / "spool"
    X, y = make_tabular_data("regression", n=60, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lineage.enable(
            tracking_uri=_dead_uri(), experiment="half", spool=spool, explain_rows=0
        ) as h:
            uniml.make("statsmodels.ols").fit(X, y)
            ref = h.last_run(timeout=120)
    client = store["client"]
    exp_id = client.create_experiment("half")
    partial = client.create_run(
        exp_id, tags={"uniml.lineage_id": f"{ref.lineage_id}:fit"}
    )  # never finished
    (result,) = lineage.sync(tracking_uri=store["uri"], spool=spool)
    assert result.status == "replayed"
    runs = client.search_runs([exp_id], f"tags.`uniml.lineage_id` = '{ref.lineage_id}:fit'")
    assert [r.info.run_id for r in runs] == [result.run_id] != [partial.info.run_id]
    assert runs[0].info.status == "FINISHED"


def test_cli_sync_group(store, tmp_path):
    from click.testing import CliRunner

    from uniml.lineage._cli import lineage as group

    spool = tmp_path / "spool"
    X, y = make_tabular_data("regression", n=60, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lineage.enable(
            tracking_uri=_dead_uri(), experiment="cli", spool=spool, explain_rows=0
        ) as h:
            uniml.make("statsmodels.ols").fit(X, y)
            ref = h.last_run(timeout=120)
    out = CliRunner().invoke(group, ["sync", "--tracking-uri", store["uri"], "--spool", str(spool)])
    assert out.exit_code == 0, out.output
    assert f"replayed {ref.lineage_id}" in out.output and "1 replayed, 0 failed" in out.output
    again = CliRunner().invoke(
        group, ["sync", "--tracking-uri", store["uri"], "--spool", str(spool)]
    )
    assert again.output.strip() == "nothing to replay: the spool is empty"
    failing = tmp_path / "failing"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lineage.enable(
            tracking_uri=_dead_uri(), experiment="cli", spool=failing, explain_rows=0
        ):
            uniml.make("statsmodels.ols").fit(X, y)
            lineage.flush()
    bad = CliRunner().invoke(group, ["sync", "--spool", str(failing)])  # its own (dead) URI
    assert bad.exit_code == 1 and "0 replayed, 1 failed" in bad.output


# ----------------------------------------------------------------- hooks and plugins
SINK_MODULE = """
from uniml.lineage import hookimpl

EVENTS = []


class RecorderSink:
    def __init__(self, **options):
        self.options = options

    @hookimpl
    def uniml_fit_end(self, adapter, duration):
        EVENTS.append(("fit_end", adapter.name, duration >= 0, self.options.get("label")))

    @hookimpl
    def uniml_predict(self, adapter, X, prediction):
        EVENTS.append(("predict", adapter.name, len(X), len(prediction)))

    @hookimpl
    def uniml_explain(self, explanation):
        EVENTS.append(("explain", explanation.kind))
"""


def test_entry_point_sink_receives_events(tmp_path, monkeypatch):
    (tmp_path / "recorder_sink.py").write_text(textwrap.dedent(SINK_MODULE))
    dist = tmp_path / "recorder_sink-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: recorder-sink\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[uniml.lineage]\nrecorder = recorder_sink:RecorderSink\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    X, y = make_tabular_data("regression", n=50)
    with lineage.enable("recorder", label="from-options") as handle:
        model = uniml.make("statsmodels.ols").fit(X, y)
        model.predict(X.head(4))
        model.explain(X.head(3))
    import recorder_sink

    assert type(handle.sink).__name__ == "RecorderSink"
    assert recorder_sink.EVENTS == [
        ("fit_end", "statsmodels.ols", True, "from-options"),
        ("predict", "statsmodels.ols", 4, 4),
        ("explain", "linear"),
    ]
    assert handle.sink not in lineage.enabled_sinks()
    model.predict(X.head(2))  # disabled: no more events
    assert len(recorder_sink.EVENTS) == 3


def test_spool_location_from_the_environment(tmp_path, monkeypatch):
    from uniml.lineage._spool import default_spool

    monkeypatch.setenv("UNIML_LINEAGE_SPOOL", str(tmp_path / "elsewhere"))
    assert default_spool() == tmp_path / "elsewhere"
    monkeypatch.delenv("UNIML_LINEAGE_SPOOL")
    monkeypatch.chdir(tmp_path)
    assert default_spool() == tmp_path / ".uniml-spool"


def test_unknown_sink_is_a_typed_error():
    with pytest.raises(lineage.SinkNotFoundError, match="no lineage sink named 'nope'"):
        lineage.enable("nope")


def test_a_failing_sink_never_breaks_fit():
    class Broken:
        @lineage.hookimpl
        def uniml_fit_end(self):
            raise RuntimeError("sink down")

    X, y = make_tabular_data("regression", n=50)
    with lineage.enable(Broken()), pytest.warns(uniml.UnimlWarning, match="sink down"):
        model = uniml.make("statsmodels.ols").fit(X, y)
    assert hasattr(model, "schema_")


def test_flush_timeout_is_typed():
    import threading

    from uniml.lineage import _mlflow

    gate = threading.Event()
    _mlflow._WORKER.submit(gate.wait, 30)
    try:
        with pytest.raises(lineage.LineageTimeoutError, match="still writing"):
            lineage.flush(timeout=0.2)
    finally:
        gate.set()
    lineage.flush(timeout=30)


# ----------------------------------------------------------------- the environment switch
def test_env_switch_keeps_import_uniml_light():
    env = {**os.environ, "UNIML_LINEAGE": "mlflow"}
    code = "import sys, uniml; print(sorted(m for m in ('mlflow', 'pandas', 'sklearn', 'pluggy') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_env_switch_enables_lineage_without_importing_mlflow_at_import(tmp_path):
    code = textwrap.dedent("""
        import sys, json
        import numpy as np, uniml
        imported_at_import = "mlflow" in sys.modules
        X = np.random.default_rng(0).normal(size=(40, 2))
        uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1).fit(X, X[:, 0])
        ref = uniml.lineage.last_run(timeout=120)
        print(json.dumps({"at_import": imported_at_import, "run_id": ref.run_id, "spooled": ref.spooled}))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(UNIML_LINEAGE="mlflow", MLFLOW_EXPERIMENT_NAME="from-env")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["at_import"] is False and result["spooled"] is False
    assert (
        tmp_path / "mlruns.db"
    ).is_file()  # the embedded default store, in the working directory
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlruns.db'}")
    run = client.get_run(result["run_id"])
    assert client.get_experiment(run.info.experiment_id).name == "from-env"


def test_real_harness_evaluation_is_logged_with_a_registered_champion(store):
    """uniml.evaluate with lineage on: the champion comes from the registry through load_adapter,
    the per-fold fits stay muted, and the evaluation is one parent run with a child per model."""
    from uniml.evaluation import EvalReport, evaluate

    client = store["client"]
    X, y = make_tabular_data("regression", n=150, seed=11)
    uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1).fit(X, y)
    champion = lineage.register_model(
        lineage.last_run().model_uri,
        "harness-champion",
        alias="champion",
        tracking_uri=store["uri"],
    )
    before = {
        r.info.run_id
        for r in client.search_runs(
            [client.get_experiment_by_name("tests").experiment_id], max_results=1000
        )
    }
    mlflow.set_tracking_uri(store["uri"])  # the harness resolves models:/ URIs through MLflow
    try:
        report = evaluate(
            {"lgbm": uniml.make("lightgbm.regressor", n_estimators=10, verbose=-1)},
            (X, y),
            champion=f"models:/{champion['name']}@champion",
            n_jobs=1,
            n_boot=200,
        )
    finally:
        mlflow.set_tracking_uri(None)
    assert isinstance(report, EvalReport)
    lineage.flush()
    exp = client.get_experiment_by_name("tests")
    new = [
        r
        for r in client.search_runs([exp.experiment_id], max_results=1000)
        if r.info.run_id not in before
    ]
    parents = [r for r in new if r.data.tags.get("uniml.kind") == "evaluate"]
    assert len(parents) == 1, [r.data.tags.get("uniml.kind") for r in new]
    (parent,) = parents
    children = [r for r in new if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(new) == 1 + len(children)  # no per-fold fit runs
    assert {r.info.run_name for r in children} == set(report.leaderboard.index)
    assert parent.data.tags["uniml.eval.passed"] == str(report.passed).lower()
    for child in children:
        row = report.leaderboard.loc[child.info.run_name]
        assert child.data.tags["uniml.role"] == row["role"]
        for col, value in row.items():
            if col.endswith(("_mean", "_std")) and np.isfinite(value):
                assert child.data.metrics[col] == pytest.approx(float(value))


@pytest.mark.parametrize("exit_timeout", ["120", "0"])
def test_interpreter_exit_flushes_or_spools(tmp_path, exit_timeout):
    """A script that ends right after fit: its lineage is in the store (enough time at exit) or, with
    no time allowed, in the store or the spool -- never lost, never both."""
    code = textwrap.dedent("""
        import numpy as np, uniml, uniml.lineage
        uniml.lineage.enable(explain_rows=0)
        X = np.random.default_rng(0).normal(size=(40, 2))
        for n in (3, 4, 5):
            uniml.make("lightgbm.regressor", n_estimators=n, verbose=-1).fit(X, X[:, 0])
    """)  # no flush(): the exit hook must do it
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        UNIML_LINEAGE_EXIT_TIMEOUT=exit_timeout,
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'exit.db'}",
    )
    # the store exists already (a process killed while MLflow creates a SQLite store's tables
    # leaves it half-migrated, which is MLflow's business, not lineage's)
    MlflowClient(f"sqlite:///{tmp_path / 'exit.db'}").search_experiments()
    subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        check=True,
        timeout=300,
        capture_output=True,
    )
    logged = []
    if (tmp_path / "exit.db").exists():
        client = MlflowClient(f"sqlite:///{tmp_path / 'exit.db'}")
        exp = client.get_experiment_by_name("uniml")
        runs = client.search_runs([exp.experiment_id]) if exp else []
        assert all(r.info.status == "FINISHED" for r in runs)
        logged = [r.data.params["n_estimators"] for r in runs]
    spool = tmp_path / ".uniml-spool"
    spooled = [
        json.loads((d / "record.json").read_text())["runs"][0]["params"]["n_estimators"]
        for d in (spool.iterdir() if spool.exists() else [])
    ]
    assert sorted(logged + spooled) == ["3", "4", "5"]
    if exit_timeout == "120":
        assert spooled == []


def test_an_unsavable_model_is_still_tracked_without_its_model(store):
    from uniml.adapters.lightgbm import LightGBMRegressor

    class Unsavable(LightGBMRegressor):
        name = "test.unsavable"

        def _save(self, folder):
            raise RuntimeError("no disk for you")

    X, y = make_tabular_data("regression", n=80, seed=12)
    model = Unsavable(n_estimators=4, verbose=-1).fit(X, y)
    ref = lineage.last_run()
    assert not ref.spooled and ref.model_uri is None
    run = store["client"].get_run(ref.run_id)
    assert "no disk for you" in run.data.tags["uniml.model_error"]
    assert run.data.params["n_estimators"] == "4"
    assert run.data.metrics["train_rmse"] == pytest.approx(
        float(np.sqrt(np.mean((y - model.predict(X)) ** 2)))
    )
    assert "model_card.json" in {a.path for a in store["client"].list_artifacts(ref.run_id)}
