"""The governed registry (issue 16) on a real MLflow store: SQLite, and the shared ``mlflow server``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import uniml
import uniml.lineage
import uniml.registry as reg
from lineage_server import mlflow_server  # noqa: F401  (the one session-wide server)
from uniml.registry._cli import registry as cli

NAME = "main.retail.demand"  # Unity Catalog style, with dots
CARD = {
    "owner": "ann",
    "intended_use": "weekly demand per store",
    "out_of_scope_use": "pricing decisions",
    "limitations": "trained on one region",
    "ethical_considerations": "no personal data",
    "code_version": "0123abc",
}
APPROVERS = ["ann", "bob", "carol"]  # ann is on the list: self-approval must still be refused
GATE = "rmse not worse than champion by 1% at 95%"


def _data():
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(160, 3)), columns=["a", "b", "c"])
    y = 3.0 * X["a"] + X["b"] - 0.5 * X["c"] + rng.normal(scale=0.2, size=len(X))
    return X, y


def _fit(estimator, X, y, store, tmp):
    with uniml.lineage.enable(tracking_uri=store, experiment="train", spool=str(tmp / "spool")):
        model = uniml.make("sklearn.estimator", estimator=estimator).fit(X, y)
        uniml.lineage.flush()
    return model


def _evaluate(model, X, y, gates, champion=None, store=None):
    kwargs = {"champion": champion, "champion_trusted": True} if champion else {}
    if champion:
        os.environ["MLFLOW_TRACKING_URI"] = store
    try:
        return uniml.evaluate(model, (X, y), gates=gates, n_boot=200, n_jobs=1, **kwargs)
    finally:
        if champion:
            os.environ.pop("MLFLOW_TRACKING_URI", None)


def _lifecycle(store: str, tmp: Path) -> dict:
    """fit -> evaluate -> register -> promote -> worse challenger refused -> better promoted -> rollback."""
    from sklearn.dummy import DummyRegressor
    from sklearn.linear_model import Ridge

    X, y = _data()
    out: dict = {"X": X, "y": y}
    first = _fit(Ridge(alpha=300.0), X, y, store, tmp)  # over-regularised: beatable
    rep1 = _evaluate(first, X, y, ["rmse < 3"])
    assert (
        rep1.passed
        and rep1.extra["artifact_digests"]["sklearn.estimator"] == first.artifact_digest_
    )
    v1 = reg.register(first, NAME, CARD, report=rep1, actor="ann", tracking_uri=store)
    out["v1"] = v1
    with pytest.raises(reg.GovernanceError) as self_approval:
        reg.promote(NAME, v1["version"], approver="ann", approvers=APPROVERS, tracking_uri=store)
    out["self_approval"] = self_approval.value
    with pytest.raises(reg.GovernanceError) as stranger:
        reg.promote(
            NAME, v1["version"], approver="mallory", approvers=APPROVERS, tracking_uri=store
        )
    out["stranger"] = stranger.value
    reg.promote(
        NAME,
        v1["version"],
        approver="bob",
        approvers=APPROVERS,
        reason="first model",
        tracking_uri=store,
    )

    worse = _fit(DummyRegressor(), X, y, store, tmp)
    rep2 = _evaluate(worse, X, y, [GATE], champion=f"models:/{NAME}@champion", store=store)
    assert not rep2.passed
    v2 = reg.register(worse, NAME, CARD, report=rep2, actor="ann", tracking_uri=store)
    with pytest.raises(reg.GovernanceError) as failed:
        reg.promote(NAME, v2["version"], approver="bob", approvers=APPROVERS, tracking_uri=store)
    out["v2"], out["worse_refusal"] = v2, failed.value

    better = _fit(Ridge(alpha=0.01), X, y, store, tmp)
    rep3 = _evaluate(better, X, y, [GATE], champion=f"models:/{NAME}@champion", store=store)
    assert rep3.passed
    v3 = reg.register(better, NAME, CARD, report=rep3, actor="ann", tracking_uri=store)
    reg.promote(
        NAME,
        v3["version"],
        approver="carol",
        approvers=APPROVERS,
        reason="better",
        tracking_uri=store,
    )
    out["v3"] = v3
    out["after_promote"] = _holder(store)
    out["rollback"] = reg.rollback(NAME, actor="bob", reason="incident", tracking_uri=store)
    out["better_model"] = better
    return out


def _client(store):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=store, registry_uri=store)


def _holder(store, alias="champion"):
    return str(_client(store).get_model_version_by_alias(NAME, alias).version)


@pytest.fixture(scope="module")
def sqlite_life(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registry")
    store = f"sqlite:///{tmp}/mlflow.db"
    cwd = os.getcwd()
    os.chdir(tmp)  # MLflow's default artifact root is relative to the working folder
    try:
        life = _lifecycle(store, tmp)
    finally:
        os.chdir(cwd)
    life["store"], life["tmp"] = store, tmp
    return life


def _check_lifecycle(life):
    store = life["store"]
    v1, v2, v3 = (life[k]["version"] for k in ("v1", "v2", "v3"))
    assert life["self_approval"].reason == "self_approval"
    assert life["stranger"].reason == "not_on_allow_list"
    assert life["worse_refusal"].reason == "gate_failed" and "rmse" in str(life["worse_refusal"])
    assert life["after_promote"] == v3
    assert life["rollback"]["version"] == v1 and _holder(store) == v1
    moves = [(h["action"], h["version"], h["actor"]) for h in reg.history(NAME, tracking_uri=store)]
    assert moves == [("promote", v1, "bob"), ("promote", v3, "carol"), ("rollback", v1, "bob")]
    log = reg.audit_log(NAME, tracking_uri=store)
    assert reg.verify_chain(log) == []
    refused = [(e["refusal"], e["version"]) for e in log if e["decision"] == "refused"]
    assert refused == [("self_approval", v1), ("not_on_allow_list", v1), ("gate_failed", v2)]
    assert [e["action"] for e in log if e["decision"] == "approved"].count("register") == 3
    result = reg.verify(tracking_uri=store)
    assert result.ok, result.problems
    assert (result.governed, result.aliased) == (1, 1)


def test_lifecycle_sqlite(sqlite_life):
    _check_lifecycle(sqlite_life)


@pytest.mark.slow
def test_lifecycle_mlflow_server(mlflow_server, tmp_path):  # noqa: F811
    life = _lifecycle(mlflow_server.uri, tmp_path)
    life["store"] = mlflow_server.uri
    _check_lifecycle(life)
    loaded = reg.load(f"{NAME}@champion", tracking_uri=mlflow_server.uri)
    assert loaded.artifact_digest_ == life["v1"]["digest"]


def test_version_tags_and_trace(sqlite_life):
    store, v1 = sqlite_life["store"], sqlite_life["v1"]
    from uniml.core.persistence import artifact_digest

    mv = _client(store).get_model_version(NAME, v1["version"])
    assert mv.tags["uniml.artifact_digest"] == v1["digest"]
    assert mv.tags["uniml.owner"] == "ann" and mv.tags["uniml.git_commit"] == "0123abc"
    card = reg.read_card(NAME, v1["version"], tracking_uri=store)
    assert card.sha256() == mv.tags["uniml.card_sha256"] and card.complete()
    assert card["training_data"]["fingerprint"] == mv.tags["uniml.data_fingerprint"]
    assert "rmse" in card["metrics"] and len(card["metrics"]["rmse"]["ci"]) == 2
    # the digest is the one of the folder lineage logged, recomputed independently
    import mlflow.artifacts

    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=mv.source, tracking_uri=store))
    folder = next(local.rglob("uniml.json")).parent
    assert artifact_digest(folder) == v1["digest"]
    info = reg.trace(f"{NAME}@champion", tracking_uri=store)
    assert info["version"] == v1["version"] and info["run_id"] == mv.run_id
    assert {e["action"] for e in info["approvals"]} >= {"promote", "rollback"}
    table = reg.trace_table(f"{NAME}@champion", tracking_uri=store)
    assert list(table.columns) == ["step", "value"] and "artifact_digest" in set(table["step"])


def test_gate_must_match_the_exact_artifact(sqlite_life, tmp_path):
    """A passed report for the same name but another artifact (a refit) does not count."""
    from sklearn.linear_model import Ridge

    store, X, y = sqlite_life["store"], sqlite_life["X"], sqlite_life["y"]
    other = _fit(Ridge(alpha=0.01), X, y, store, tmp_path)
    report = reg.read_report(NAME, sqlite_life["v3"]["version"], tracking_uri=store)
    assert report.passed and other.artifact_digest_ != sqlite_life["v3"]["digest"]
    v = reg.register(
        other,
        NAME,
        CARD,
        report=report,
        candidate="sklearn.estimator",
        actor="ann",
        tracking_uri=store,
    )
    with pytest.raises(reg.GovernanceError) as err:
        reg.promote(NAME, v["version"], approver="bob", approvers=APPROVERS, tracking_uri=store)
    assert err.value.reason == "no_passed_gate"
    assert _holder(store) == sqlite_life["v1"]["version"]


def test_incomplete_card_named(sqlite_life):
    store, model = sqlite_life["store"], sqlite_life["better_model"]
    partial = {k: v for k, v in CARD.items() if k not in ("limitations", "ethical_considerations")}
    partial["limitations"] = reg.UNKNOWN
    with pytest.raises(reg.IncompleteCardError) as err:
        reg.register(model, NAME, partial, actor="ann", tracking_uri=store)
    # no report given: the harness metrics are missing too
    assert set(err.value.missing) == {"limitations", "ethical_considerations", "metrics"}
    assert "limitations" in str(err.value) and "ethical_considerations" in str(err.value)
    assert set(reg.REQUIRED_FIELDS) >= set(err.value.missing)


def test_retired_version_refused(sqlite_life):
    store, v2, v1 = sqlite_life["store"], sqlite_life["v2"]["version"], sqlite_life["v1"]["version"]
    with pytest.raises(reg.GovernanceError) as holds:
        reg.retire(NAME, v1, "still champion", actor="bob", tracking_uri=store)
    assert holds.value.reason == "holds_alias"
    reg.retire(NAME, v2, "failed its gate", actor="bob", tracking_uri=store)
    with pytest.raises(reg.GovernanceError) as err:
        reg.promote(NAME, v2, approver="bob", approvers=APPROVERS, tracking_uri=store)
    assert err.value.reason == "retired"
    with pytest.raises(reg.GovernanceError) as never:
        reg.rollback(NAME, to=v2, actor="bob", tracking_uri=store)
    assert never.value.reason in ("never_gated", "retired")
    assert reg.verify_chain(reg.audit_log(NAME, tracking_uri=store)) == []


def test_evidence_bundle(sqlite_life, tmp_path):
    page = reg.evidence(f"{NAME}@champion", tmp_path / "ev", tracking_uri=sqlite_life["store"])
    html = page.read_text()
    for section in ("lineage", "card", "evaluation", "gates", "approvals", "hashes", "libraries"):
        assert f"id='{section}'" in html
    data = json.loads((tmp_path / "ev" / "evidence.json").read_text())
    assert data["hashes"]["artifact_digest"] == sqlite_life["v1"]["digest"]
    assert data["hashes"]["audit_chain_problems"] == []
    assert data["gates"] and all(g["passed"] for g in data["gates"])
    assert "http" not in html.split("<body>")[0]  # self-contained: no external resources


def test_attach_artifact(sqlite_life, tmp_path):
    store, v1 = sqlite_life["store"], sqlite_life["v1"]["version"]
    profile = tmp_path / "profile.json"
    profile.write_text('{"rows": 160}')
    uri = reg.attach_artifact(NAME, v1, profile, tracking_uri=store)
    import mlflow.artifacts

    back = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, tracking_uri=store))
    assert json.loads(back.read_text()) == {"rows": 160}


# ------------------------------------------------------------------ tampering
@pytest.fixture()
def small_registry(sqlite_life, tmp_path):
    """A fresh registry with one governed champion (v1 of a copy of the lifecycle store)."""
    import shutil

    src = Path(sqlite_life["tmp"])
    shutil.copy(src / "mlflow.db", tmp_path / "mlflow.db")
    shutil.copytree(src / "mlruns", tmp_path / "mlruns")
    store = f"sqlite:///{tmp_path}/mlflow.db"
    # artifact URIs recorded in the copy point at the original folder: reading them still works
    assert reg.verify(tracking_uri=store).ok
    return store


def test_tampered_audit_entry_fails_verify(small_registry):
    store = small_registry
    client = _client(store)
    run_id = reg._core.AuditLog(client, NAME).run_id
    key = "uniml.audit.000004"
    original = client.get_run(run_id).data.tags[key]
    entry = json.loads(original)
    client.set_tag(run_id, key, json.dumps({**entry, "actor": "mallory"}, sort_keys=True))
    result = reg.verify(tracking_uri=store, check_digests=False)
    assert not result.ok and any("entry 4" in p for p in result.problems)
    with pytest.raises(reg.AuditChainError):  # nothing is appended to a broken chain
        reg.rollback(NAME, actor="bob", tracking_uri=store)
    client.set_tag(run_id, key, original)
    assert reg.verify(tracking_uri=store, check_digests=False).ok


def test_alias_moved_outside_promote_fails_verify(small_registry, sqlite_life):
    store = small_registry
    client = _client(store)
    client.set_registered_model_alias(NAME, "champion", sqlite_life["v3"]["version"])
    result = reg.verify(tracking_uri=store, check_digests=False)
    assert not result.ok and any("moved outside" in p for p in result.problems)
    assert result.share == 0.0
    client.set_registered_model_alias(NAME, "champion", sqlite_life["v1"]["version"])
    assert reg.verify(tracking_uri=store, check_digests=False).ok


def test_digest_tag_mismatch_fails_verify(small_registry, sqlite_life):
    store, v1 = small_registry, sqlite_life["v1"]["version"]
    _client(store).set_model_version_tag(NAME, v1, "uniml.artifact_digest", "0" * 64)
    result = reg.verify(tracking_uri=store)
    assert not result.ok and any("digest" in p for p in result.problems)


# ------------------------------------------------------------------ concurrency
# Each worker promotes v1, rolls back, promotes v3, rolls back. Interleaved with the others, a
# promotion of v1 can find v3 holding the alias: v1's gate never compared it with v3, so the
# registry rightly refuses it (``not_compared_with_holder``), and that refusal is audited too.
# (The old worker only expected ConflictError and crashed on that refusal: the flaky failure.)
WORKER = textwrap.dedent(
    """
    import json, sys, uniml.registry as reg
    store, name, versions = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    out = {"ok": 0, "conflicts": 0, "refused": []}
    for i in range(4):
        try:
            if i % 2:
                reg.rollback(name, actor="bob", wait=60, tracking_uri=store)
            else:
                reg.promote(name, versions[i // 2 % len(versions)], approver="carol",
                            approvers=["carol"], wait=60, tracking_uri=store)
            out["ok"] += 1
        except reg.ConflictError:
            out["conflicts"] += 1
        except reg.GovernanceError as exc:
            out["refused"].append(exc.reason)
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_concurrent_promotions_keep_chain_and_alias_in_step(small_registry, sqlite_life, tmp_path):
    store = small_registry
    before = reg.audit_log(NAME, tracking_uri=store)
    versions = ",".join(sqlite_life[k]["version"] for k in ("v1", "v3"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store, NAME, versions],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
            start_new_session=True,
        )
        for _ in range(3)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        outs.append(json.loads(out))
    log = reg.audit_log(NAME, tracking_uri=store)
    assert reg.verify_chain(log) == []
    assert log[: len(before)] == before  # nothing earlier was rewritten
    new = log[len(before) :]
    # every call that was not a lock conflict left exactly one audit decision, and nothing else
    assert len(new) == sum(o["ok"] + len(o["refused"]) for o in outs)
    assert all(o["ok"] + len(o["refused"]) + o["conflicts"] == 4 for o in outs)
    approved = [e for e in new if e["decision"] == "approved"]
    assert {e["action"] for e in approved} <= {"promote", "rollback"}
    assert len(approved) == sum(o["ok"] for o in outs)
    refused = sorted(e["refusal"] for e in new if e["decision"] == "refused")
    assert refused == sorted(r for o in outs for r in o["refused"])
    assert set(refused) <= {"not_compared_with_holder", "no_previous_holder"}
    # the alias is where the replayed log says it is
    assert reg._core._holders(log, "champion")[-1] == _holder(store)
    assert reg.verify(tracking_uri=store, check_digests=False).ok
    locks = [
        m.name
        for m in _client(store).search_registered_models()
        if m.name.startswith("uniml-lock.")
    ]
    assert locks == []  # every lock was released


def test_interleaved_promotion_of_an_uncompared_version_is_refused(small_registry, sqlite_life):
    """The interleaving behind the concurrency test's refusals, played in one process."""
    store = small_registry
    v1, v3 = sqlite_life["v1"]["version"], sqlite_life["v3"]["version"]
    reg.promote(NAME, v3, approver="carol", approvers=["carol"], tracking_uri=store)
    with pytest.raises(reg.GovernanceError) as err:
        reg.promote(NAME, v1, approver="carol", approvers=["carol"], tracking_uri=store)
    assert err.value.reason == "not_compared_with_holder"
    assert _holder(store) == v3
    assert reg.audit_log(NAME, tracking_uri=store)[-1]["refusal"] == "not_compared_with_holder"


# ------------------------------------------------------------------ legacy models
@pytest.fixture(scope="module")
def legacy_files(tmp_path_factory):
    sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "registry"))
    try:
        import make_legacy
    finally:
        sys.path.pop(0)
    return make_legacy.make(tmp_path_factory.mktemp("legacy"))


def test_legacy_audit_inventory(legacy_files, tmp_path):
    from uniml.core.persistence import sha256_file

    rows = {r["path"]: r for r in reg.audit(legacy_files, out=tmp_path / "inv.json")}
    ridge = rows["ridge_sklearn_1_0.pkl"]
    assert ridge["library"] == "sklearn" and ridge["version"] == "1.0.2"
    assert ridge["loadable"] and ridge["action"] == "migrate"
    assert ridge["sha256"] == sha256_file(legacy_files / "ridge_sklearn_1_0.pkl")
    assert ridge["size"] == (legacy_files / "ridge_sklearn_1_0.pkl").stat().st_size
    assert rows["notes.pkl"]["action"] == "retire"
    assert not rows["broken.pkl"]["loadable"] and rows["broken.pkl"]["action"] == "retire"
    assert json.loads((tmp_path / "inv.json").read_text())[0]["path"] == sorted(rows)[0]


def test_legacy_untrusted_refused(legacy_files, tmp_path):
    sample = pd.read_csv(legacy_files / "sample.csv")
    with pytest.raises(uniml.UntrustedArtifactError):
        reg.import_legacy(
            legacy_files / "ridge_sklearn_1_0.pkl",
            "legacy.ridge",
            sample,
            tracking_uri=f"sqlite:///{tmp_path}/m.db",
        )


@pytest.fixture(scope="module")
def legacy_store(tmp_path_factory):
    """One SQLite store for the legacy imports (each under its own name): one schema setup."""
    folder = tmp_path_factory.mktemp("legacy-store")
    return folder, f"sqlite:///{folder}/m.db"


@pytest.mark.parametrize("filename", ["ridge_sklearn_1_0.pkl", "gbm.joblib"])
def test_legacy_import_predicts_identically(legacy_files, legacy_store, monkeypatch, filename):
    import pickle
    import warnings

    folder, store = legacy_store
    monkeypatch.chdir(folder)
    name = f"legacy.{filename.split('.')[0]}"
    sample = pd.read_csv(legacy_files / "sample.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the old-version warning of the pickled estimator
        if filename.endswith(".joblib"):
            import joblib

            raw = joblib.load(legacy_files / filename)
        else:
            raw = pickle.loads((legacy_files / filename).read_bytes())
        result = reg.import_legacy(
            legacy_files / filename,
            name,
            sample,
            trusted=True,
            card={"owner": "ops"},
            actor="ann",
            tracking_uri=store,
        )
        loaded = reg.load(f"{name}/1", trusted=True, tracking_uri=store)
    rng = np.random.default_rng(3)
    fresh = pd.DataFrame(rng.normal(size=(50, 3)), columns=sample.columns)
    np.testing.assert_array_equal(loaded.predict(fresh), raw.predict(fresh))
    mv = _client(store).get_model_version(name, result["version"])
    assert mv.tags["uniml.legacy"] == "true" and mv.tags["uniml.card_complete"] == "false"
    assert "ethical_considerations" in result["missing"] and "owner" not in result["missing"]
    with pytest.raises(reg.GovernanceError) as err:  # kept out of guarded aliases
        reg.promote(
            name,
            result["version"],
            approver="bob",
            approvers=APPROVERS,
            tracking_uri=store,
        )
    assert err.value.reason == "incomplete_card"


# ------------------------------------------------------------------ CLI
def test_cli_exit_codes(sqlite_life, small_registry, tmp_path):
    runner = CliRunner()
    store = small_registry
    ok = runner.invoke(cli, ["verify", "--no-digests", "--tracking-uri", store])
    assert ok.exit_code == 0 and "1/1" in ok.output
    refused = runner.invoke(
        cli,
        [
            "promote",
            NAME,
            sqlite_life["v1"]["version"],
            "--approver",
            "ann",
            "--tracking-uri",
            store,
        ],
        env={"UNIML_APPROVERS": "ann,bob"},
    )
    assert refused.exit_code == 1 and "cannot also approve" in refused.output
    bad = runner.invoke(cli, ["promote", NAME, "99", "--approver", "bob", "--tracking-uri", store])
    assert bad.exit_code == 2 and "no version 99" in bad.output
    hist = runner.invoke(cli, ["history", NAME, "--tracking-uri", store])
    assert hist.exit_code == 0 and [h["action"] for h in json.loads(hist.output)][-1] == "rollback"
    _client(store).set_registered_model_alias(NAME, "champion", sqlite_life["v3"]["version"])
    failed = runner.invoke(cli, ["verify", "--no-digests", "--tracking-uri", store])
    assert failed.exit_code == 1 and "0/1" in failed.output


def test_cli_lineage_tells_no_alias_from_a_dead_store(sqlite_life, monkeypatch):
    """Exit 2 for an unknown alias or model; exit 3 when the store cannot be reached (a CI
    step must not read a dead server as "no champion yet")."""
    import socket

    runner = CliRunner()
    store = sqlite_life["store"]
    found = runner.invoke(cli, ["lineage", f"{NAME}@champion", "--tracking-uri", store])
    assert (
        found.exit_code == 0 and json.loads(found.output)["version"] == sqlite_life["v1"]["version"]
    )
    for ref in (f"{NAME}@nobody", "no.such.model@champion"):
        missing = runner.invoke(cli, ["lineage", ref, "--tracking-uri", store])
        assert missing.exit_code == 2 and "no alias" in missing.output, missing.output
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    crashed = runner.invoke(cli, ["lineage", f"{NAME}@champion", "--tracking-uri", dead])
    assert crashed.exit_code == 3 and "crash" in crashed.output, crashed.output


def test_unguarded_lineage_register_model_is_flagged_by_verify(small_registry, sqlite_life):
    """uniml.lineage.register_model(alias=...) is the documented unguarded call: verify flags it."""
    store = small_registry
    run_id = _client(store).get_model_version(NAME, sqlite_life["v3"]["version"]).run_id
    uniml.lineage.register_model(
        f"runs:/{run_id}/model", NAME, alias="champion", tracking_uri=store
    )
    result = reg.verify(tracking_uri=store, check_digests=False)
    assert not result.ok and any("moved outside" in p for p in result.problems)
