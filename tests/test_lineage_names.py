"""Lineage names and delivery (issue 15 item 1, issue 14 item 9): the reversible MLflow name
mapping, rejected vs unreachable, quarantine instead of endless retries, no run left RUNNING,
an unusable spool, unserialisable parameters and effective (default-including) parameters.
All against a real SQLite MLflow store."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient

import uniml
import uniml.lineage as lineage
from uniml.core.errors import UnimlWarning
from uniml.lineage import _mlflow, _spool
from uniml.lineage._names import is_valid, mlflow_key, mlflow_name, original_name
from uniml.testing import make_tabular_data


# ----------------------------------------------------------------- the name mapping
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_mapping_is_reversible_and_always_valid_for_mlflow(name):
    from mlflow.utils.validation import _validate_metric_name, _validate_param_name

    mapped = mlflow_name(name)
    assert original_name(mapped) == name
    if name:
        key = mlflow_key(name)  # cut to 250 characters when long
        assert is_valid(key) and (key == mapped or len(mapped) > 250)
        _validate_metric_name(key)  # MLflow's own checks accept it
        _validate_param_name(key)


@given(st.text(alphabet="_atu0123456789abcdef@", max_size=30))
def test_mapping_is_reversible_on_escape_look_alikes(name):
    assert original_name(mlflow_name(name)) == name


def test_documented_examples_and_long_keys():
    assert mlflow_name("ndcg@10_mean") == "ndcg_at_10_mean"
    assert mlflow_name("train_rmse") == "train_rmse"  # ordinary names are unchanged
    long = mlflow_key("m@" * 200)
    assert len(long) == 250 and is_valid(long)


# ----------------------------------------------------------------- fixtures
@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    return {"uri": uri, "client": MlflowClient(uri)}


def _dead_uri() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _record(folder: Path, uri: str, metric: str, fmt: int = 2, artifact: str | None = None):
    runs = [
        {
            "key": "eval",
            "parent": None,
            "name": "uniml-eval",
            "start_ms": 1,
            "end_ms": 2,
            "params": {},
            "tags": {"uniml.kind": "evaluate"},
            "metrics": {},
            "datasets": [],
            "artifacts": [{"path": artifact, "dest": ""}] if artifact else [],
            "card": None,
        },
        {
            "key": "model:pop",
            "parent": "eval",
            "name": "pop",
            "start_ms": 1,
            "end_ms": 2,
            "params": {},
            "tags": {"uniml.kind": "evaluate-model"},
            "metrics": {metric: 0.5},
            "datasets": [],
            "artifacts": [],
            "card": None,
        },
    ]
    _spool.write_record(
        folder,
        {
            "lineage_id": folder.name,
            "kind": "evaluate",
            "tracking_uri": uri,
            "experiment": "names",
            "runs": runs,
        },
    )
    if fmt == 1:  # a spool written before names were mapped
        import json

        data = json.loads((folder / "record.json").read_text())
        data["format"] = 1
        (folder / "record.json").write_text(json.dumps(data))


def _runs(client, experiment="names"):
    exp = client.get_experiment_by_name(experiment)
    return [] if exp is None else client.search_runs([exp.experiment_id])


# ----------------------------------------------------------------- rejected vs unreachable
def test_an_old_spool_with_an_at_sign_metric_is_replayed_under_the_mapped_name(store, tmp_path):
    spool = tmp_path / "spool"
    _record(spool / "old1", store["uri"], "ndcg@10_mean", fmt=1)
    (result,) = lineage.sync(spool=spool)
    assert result.status == "replayed", result.error
    runs = _runs(store["client"])
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED"]
    child = next(r for r in runs if r.data.tags.get("uniml.kind") == "evaluate-model")
    assert {original_name(k) for k in child.data.metrics} == {"ndcg@10_mean"}


def test_a_rejected_record_is_quarantined_with_its_reason_and_never_retried(store, tmp_path):
    from click.testing import CliRunner

    from uniml.lineage._cli import lineage as group

    spool = tmp_path / "spool"
    _record(spool / "bad1", store["uri"], "ndcg@10")  # claims to be mapped, is not
    first = CliRunner().invoke(group, ["sync", "--spool", str(spool)])
    assert first.exit_code == 1
    assert "quarantined bad1 (rejected by the store" in first.output
    assert "ndcg@10" in first.output and "0 failed, 1 quarantined" in first.output
    assert _spool.pending(spool) == []
    assert [f.name for f, _ in _spool.quarantined(spool)] == ["bad1"]
    again = CliRunner().invoke(group, ["sync", "--spool", str(spool)])
    assert again.exit_code == 0, again.output  # listed, not retried, not a new failure
    assert "1 quarantined" in again.output
    assert _runs(store["client"]) == []


def test_delivery_warning_says_rejected_not_unreachable(store, tmp_path):
    stage = tmp_path / "stage" / "rej1"
    _record(stage, store["uri"], "recall@5")
    with pytest.warns(UnimlWarning, match="rejected") as caught:
        ref = _mlflow._deliver(stage, "rej1", store["uri"], tmp_path / "spool")
    assert "could not reach" not in str(caught[0].message)
    assert ref.run_id is None and "recall@5" in ref.error
    assert _spool.pending(tmp_path / "spool") == []  # never spooled for an endless retry
    assert [f.name for f, _ in _spool.quarantined(tmp_path / "spool")] == ["rej1"]


def test_a_dead_server_is_reported_as_unreachable(tmp_path):
    stage = tmp_path / "stage" / "dead1"
    _record(stage, "http://x", "ok_metric")
    with pytest.warns(UnimlWarning, match="could not reach"):
        ref = _mlflow._deliver(stage, "dead1", _dead_uri(), tmp_path / "spool")
    assert ref.spooled and [f.name for f, _ in _spool.pending(tmp_path / "spool")] == ["dead1"]


def test_no_run_is_left_running_when_logging_fails_half_way(store, tmp_path):
    spool = tmp_path / "spool"
    folder = spool / "half1"
    _record(folder, store["uri"], "ok_metric", artifact="missing.json")
    (result,) = lineage.sync(spool=spool)  # the artifact is missing: fails after create_run
    assert result.status == "failed"
    statuses = [r.info.status for r in _runs(store["client"])]
    assert statuses and "RUNNING" not in statuses and "FINISHED" not in statuses
    (folder / "missing.json").write_text("{}")
    (result,) = lineage.sync(spool=spool)
    assert result.status == "replayed"
    runs = _runs(store["client"])  # the failed attempt was replaced, not duplicated
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED"]
    parent = next(r for r in runs if r.data.tags["uniml.kind"] == "evaluate")
    child = next(r for r in runs if r.data.tags["uniml.kind"] == "evaluate-model")
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id


# ----------------------------------------------------------------- issue 14 item 9
def test_unusable_spool_and_dead_server_fall_back_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    not_a_folder = tmp_path / "spool-is-a-file"
    not_a_folder.write_text("x")
    X, y = make_tabular_data("regression", n=40, seed=1)
    with pytest.warns(UnimlWarning) as caught:
        with lineage.enable(
            tracking_uri=_dead_uri(), experiment="fb", spool=not_a_folder, explain_rows=0
        ) as h:
            uniml.make("statsmodels.ols").fit(X, y)
            ref = h.last_run(timeout=120)
    message = next(str(w.message) for w in caught if ref.lineage_id in str(w.message))
    fallback = _spool.fallback_spool()
    assert str(fallback) in message and str(not_a_folder) in message and "unusable" in message
    assert "statsmodels.ols" in message
    assert [f.name for f, _ in _spool.pending(fallback)] == [ref.lineage_id]
    assert not_a_folder.read_text() == "x"


def test_a_model_with_unserialisable_params_still_gets_its_run(store, tmp_path):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = make_tabular_data("regression", n=40, seed=1)
    model = uniml.make(
        "sklearn.estimator",
        estimator=make_pipeline(FunctionTransformer(lambda a: a), Ridge(alpha=3.0)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lineage.enable(
            tracking_uri=store["uri"], experiment="lam", spool=tmp_path / "s", explain_rows=0
        ) as h:
            model.fit(X, y)
            ref = h.last_run(timeout=120)
    assert ref.run_id is not None, ref.error
    run = store["client"].get_run(ref.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["estimator__ridge__alpha"] == "3.0"
    assert "uniml.model_error" in run.data.tags or "uniml.record_error" in run.data.tags


# ----------------------------------------------------------------- effective parameters
def test_effective_params_include_the_library_defaults(store, tmp_path):
    import lightgbm as lgb

    X, y = make_tabular_data("regression", n=60, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lineage.enable(
            tracking_uri=store["uri"], experiment="eff", spool=tmp_path / "s", explain_rows=0
        ) as h:
            uniml.make("lightgbm.regressor", n_estimators=7, verbose=-1).fit(X, y)
            ref = h.last_run(timeout=120)
    params = store["client"].get_run(ref.run_id).data.params
    defaults = lgb.LGBMRegressor().get_params()
    assert params["n_estimators"] == "7"
    for key in ("num_leaves", "learning_rate", "min_child_samples", "reg_lambda"):
        assert params[key] == str(defaults[key]), key


# ----------------------------------------------------------------- the model card (item 8)
def _parse_tables(markdown: str) -> list[list[list[str]]]:
    """GitHub-flavoured tables: split rows on unescaped pipes (an independent little parser)."""
    import re

    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_card_tables_are_well_formed_and_unknown_reads_unknown():
    from uniml.lineage._card import render_markdown

    card = {
        "model_details": {"adapter": "x", "task": "regression"},
        "training_data": {"fingerprint": "f", "n_rows": 3, "n_columns": 1, "source": None},
        "parameters": {"alpha": 1.0, "pipe": "a|b"},
        "metrics": {"train_rmse": 0.5},
        "explanation": {
            "kind": "k",
            "n_rows": 3,
            "top_drivers": [{"feature": "a", "importance": 1}],
        },
        "lineage": {"git_commit": None, "git_dirty": None, "run_id": "r1"},
    }
    text = render_markdown(card)
    assert "None" not in text
    tables = _parse_tables(text)
    assert len(tables) == 6
    for table in tables:
        header, rule, *rows = table
        assert all(set(c) == {"-"} for c in rule) and len(rule) == len(header)
        assert all(len(row) == len(header) for row in rows), table
    drivers = next(t for t in tables if t[0][0] == "top driver")
    assert drivers[0] == ["top driver", "mean |contribution|"]
    lineage_rows = dict(next(t for t in tables if t[0][0] == "id")[2:])
    assert lineage_rows["git_commit"] == "_unknown_" and lineage_rows["run_id"] == "r1"
    params = dict(next(t for t in tables if t[0][0] == "parameter")[2:])
    assert params["pipe"] == "a|b"
