"""Register, promote, roll back, retire, trace and verify, on MLflow's registry (aliases only)."""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uniml.registry._audit import LOCK_PREFIX, AuditLog, chain_problems, lock
from uniml.registry._card import ModelCard, build_card
from uniml.registry._errors import GovernanceError, IncompleteCardError, RegistryError

ACTOR_ENV = "UNIML_ACTOR"
APPROVERS_ENV = "UNIML_APPROVERS"
APPROVERS_FILE = "uniml-approvers.txt"
STORE = (
    "uniml_registry"  # artifact folder, in the version's run, for the card, report and attachments
)
GUARDED = ("champion",)
#: MLflow's error codes for an unknown registered model or alias
_NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


# ------------------------------------------------------------------ plumbing
def tracking(tracking_uri: str | None) -> str:
    """The argument, ``MLFLOW_TRACKING_URI``, else ``sqlite:///<cwd>/mlruns.db`` (as lineage)."""
    if tracking_uri:
        return str(tracking_uri)
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{Path.cwd() / 'mlruns.db'}"


def client_for(tracking_uri: str | None):
    from mlflow.tracking import MlflowClient

    uri = tracking(tracking_uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def actor_of(actor: str | None) -> str:
    """The acting identity: the argument, ``UNIML_ACTOR``, else the OS user name."""
    return actor or os.environ.get(ACTOR_ENV) or getpass.getuser()


def allowed_approvers(approvers=None) -> set[str]:
    """The approver allow-list: the argument, ``UNIML_APPROVERS`` (comma-separated), or the lines
    of ``uniml-approvers.txt`` in the working folder."""
    if approvers is not None:
        return {str(a).strip() for a in approvers if str(a).strip()}
    if os.environ.get(APPROVERS_ENV):
        return {a.strip() for a in os.environ[APPROVERS_ENV].split(",") if a.strip()}
    path = Path.cwd() / APPROVERS_FILE
    if path.is_file():
        return {
            line.strip()
            for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
    return set()


def resolve(ref: str, *, tracking_uri: str | None = None) -> tuple[str, str]:
    """``"name@alias"``, ``"name/3"`` or ``"models:/name@alias"`` -> ``(name, version)``.

    Parameters
    ----------
    ref : str
    tracking_uri : str, optional

    Returns
    -------
    tuple of str

    Raises
    ------
    RegistryError
        Unknown alias or malformed reference.

    Examples
    --------
    >>> resolve("demand/3")
    ('demand', '3')
    """
    text = ref[len("models:/") :] if ref.startswith("models:/") else ref
    if "@" in text:
        name, alias = text.rsplit("@", 1)
        try:
            version = client_for(tracking_uri).get_model_version_by_alias(name, alias).version
        except Exception as exc:
            # only "no such model / alias" is bad input; an unreachable store stays what it is
            # (a CI step must not read a dead server as "no champion yet")
            if getattr(exc, "error_code", None) not in _NOT_FOUND:
                raise
            raise RegistryError(f"{ref!r}: no alias {alias!r} on model {name!r}") from exc
        return name, str(version)
    if "/" in text:
        name, version = text.rsplit("/", 1)
        if version.isdigit():
            return name, version
    raise RegistryError(f"{ref!r} is not 'name@alias' or 'name/version'")


def _check_name(name) -> str:
    if not isinstance(name, str) or not name or "@" in name or "/" in name:
        raise RegistryError(
            f"{name!r} is not a registered model name ('@' and '/' belong to references)"
        )
    return name


def _check_version(version) -> str:
    text = str(version)
    if not text.isdigit():
        raise RegistryError(f"version must be a version number, got {version!r}")
    return text


def _version(client, name: str, version) -> Any:
    try:
        return client.get_model_version(name, str(version))
    except Exception as exc:
        raise RegistryError(f"no version {version} of registered model {name!r}") from exc


def _find_folder(root: Path) -> Path | None:
    from uniml.core.persistence import MANIFEST_NAME

    hits = sorted(root.rglob(MANIFEST_NAME), key=lambda p: len(p.parts))
    return hits[0].parent if hits else None


def _download(source: str, tracking_uri: str) -> Path:
    import mlflow.artifacts

    return Path(mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=tracking_uri))


def version_digest(name: str, version, *, tracking_uri: str | None = None) -> str:
    """Recompute the artifact digest of a registered version from its stored artifacts.

    Parameters
    ----------
    name : str
        Registered model name.
    version : int or str
        Version number.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    str
        The digest of the artifacts as stored now.

    Examples
    --------
    >>> callable(version_digest)
    True
    """
    from uniml.core.persistence import artifact_digest

    client = client_for(tracking_uri)
    mv = _version(client, name, version)
    folder = _find_folder(_download(mv.source, tracking(tracking_uri)))
    if folder is None:
        raise RegistryError(f"{name} v{version} holds no uniml model")
    return artifact_digest(folder)


def attach_artifact(name: str, version, path, *, tracking_uri: str | None = None) -> str:
    """Store a file or folder beside a registered version (in its run, under ``uniml_registry/``).

    Parameters
    ----------
    name : str
    version : int or str
    path : str or Path
    tracking_uri : str, optional

    Returns
    -------
    str
        The artifact URI of the stored copy.

    Examples
    --------
    >>> callable(attach_artifact)
    True
    """
    client = client_for(tracking_uri)
    mv = _version(client, name, version)
    dest = f"{STORE}/{name}/v{mv.version}"
    path = Path(path)
    if not path.exists():
        raise RegistryError(f"nothing to attach at {str(path)!r}")
    if path.is_dir():
        client.log_artifacts(mv.run_id, str(path), dest + "/" + path.name)
    else:
        client.log_artifact(mv.run_id, str(path), dest)
    run = client.get_run(mv.run_id)
    return f"{run.info.artifact_uri.rstrip('/')}/{dest}/{path.name}"


def _attach_text(client, mv, filename: str, text: str) -> str:
    dest = f"{STORE}/{mv.name}/v{mv.version}/{filename}"
    client.log_text(mv.run_id, text, dest)
    return f"{client.get_run(mv.run_id).info.artifact_uri.rstrip('/')}/{dest}"


def _read_json(uri: str | None, tracking_uri: str) -> Any:
    if not uri:
        return None
    try:
        return json.loads(_download(uri, tracking_uri).read_text())
    except Exception:
        return None


def read_card(name: str, version, *, tracking_uri: str | None = None) -> ModelCard:
    """The stored model card of a version (empty when none).

    Parameters
    ----------
    name : str
        Registered model name.
    version : int or str
        Version number.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    ModelCard

    Examples
    --------
    >>> callable(read_card)
    True
    """
    client = client_for(tracking_uri)
    mv = _version(client, name, version)
    return ModelCard(_read_json(mv.tags.get("uniml.card_uri"), tracking(tracking_uri)) or {})


def read_report(name: str, version, *, tracking_uri: str | None = None):
    """The evaluation report stored with a version, or None.

    Parameters
    ----------
    name : str
        Registered model name.
    version : int or str
        Version number.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    EvalReport or None

    Examples
    --------
    >>> callable(read_report)
    True
    """
    from uniml.evaluation import EvalReport

    client = client_for(tracking_uri)
    mv = _version(client, name, version)
    uri = mv.tags.get("uniml.eval_report_uri")
    if not uri:
        return None
    try:
        return EvalReport.from_json(_download(uri, tracking(tracking_uri)).read_text())
    except Exception:
        return None


# ------------------------------------------------------------------ register
def _run_of(client, model) -> str:
    """The run id behind a fitted model (lineage on), a RunRef or a ``runs:/`` URI."""
    if isinstance(model, str):
        if model.startswith("runs:/"):
            return model[len("runs:/") :].split("/", 1)[0]
        raise RegistryError(
            f"cannot register {model!r}: give a runs:/<id>/model URI, a RunRef or a fitted model"
        )
    if getattr(model, "run_id", None):
        return str(model.run_id)
    digest = getattr(model, "artifact_digest_", None)
    if digest:
        import uniml.lineage

        uniml.lineage.flush()
        ids = [e.experiment_id for e in client.search_experiments()]
        runs = client.search_runs(ids, f"tags.`uniml.artifact_digest` = '{digest}'", max_results=2)
        if runs:
            return runs[0].info.run_id
    raise RegistryError(
        f"cannot register {type(model).__name__}: no lineage run found for it "
        "(fit it with uniml.lineage enabled, or pass the runs:/ URI)"
    )


def register(
    model,
    name: str,
    card: dict | None = None,
    *,
    report=None,
    candidate: str | None = None,
    actor: str | None = None,
    tags: dict | None = None,
    allow_incomplete: bool = False,
    tracking_uri: str | None = None,
) -> dict:
    """Register a lineage-logged model as a new version with its model card.

    Parameters
    ----------
    model : fitted adapter, RunRef or str
        A model fitted with lineage on, its ``uniml.lineage.last_run()``, or ``runs:/<id>/model``.
    name : str
        Registered model name; dots allowed (``main.retail.demand``).
    card : dict, optional
        Card fields (``owner``, ``intended_use``, ``out_of_scope_use``, ``limitations``,
        ``ethical_considerations``...), merged over what lineage recorded at fit.
    report : EvalReport, optional
        The harness report whose ``extra["artifact_digests"]`` names this artifact; its
        metrics and intervals go into the card and it is stored with the version.
    candidate : str, optional
        The report's name for this model (found from the digest when omitted).
    actor : str, optional
        The registrant (default ``UNIML_ACTOR``, else the OS user).
    tags : dict, optional
        Extra version tags.
    allow_incomplete : bool, default False
        Register even with missing card fields (legacy imports); such a version cannot be promoted.
    tracking_uri : str, optional

    Returns
    -------
    dict
        ``name``, ``version``, ``digest``, ``card_sha256``, ``missing`` (card fields).

    Raises
    ------
    IncompleteCardError
        Required card fields are missing (named), unless ``allow_incomplete``.
    RegistryError
        No lineage run for the model, or its stored artifact does not match the run's digest.

    Examples
    --------
    >>> register("not-a-uri", "m")
    Traceback (most recent call last):
    ...
    uniml.registry._errors.RegistryError: cannot register 'not-a-uri': ...
    """
    _check_name(name)
    if isinstance(model, str) and not model.startswith("runs:/"):
        _run_of(None, model)
    from uniml.core.persistence import artifact_digest

    uri = tracking(tracking_uri)
    client = client_for(uri)
    run_id = _run_of(client, model)
    run = client.get_run(run_id)
    source = f"{run.info.artifact_uri.rstrip('/')}/model"
    local = _download(source, uri)
    folder = _find_folder(local)
    if folder is None:
        raise RegistryError(f"run {run_id} logged no uniml model")
    digest = artifact_digest(folder)
    tagged = run.data.tags.get("uniml.artifact_digest")
    if tagged and tagged != digest:
        raise RegistryError(
            f"run {run_id}: stored model digest {digest} differs from its tag {tagged}"
        )
    if report is not None and candidate is None:
        candidate = next(
            (n for n, d in (report.extra.get("artifact_digests") or {}).items() if d == digest),
            None,
        )
    lineage_card = None
    try:
        lineage_card = json.loads(
            _download(f"{run.info.artifact_uri.rstrip('/')}/model_card.json", uri).read_text()
        )
    except Exception:
        pass
    full = build_card(lineage_card, card, report, candidate, run.data.tags)
    missing = full.missing()
    if missing and not allow_incomplete:
        raise IncompleteCardError(missing)
    registrant = actor_of(actor)
    with lock(client, name):
        try:
            client.get_registered_model(name)
        except Exception:
            client.create_registered_model(name)
        version_tags = {
            "uniml.artifact_digest": digest,
            "uniml.card_sha256": full.sha256(),
            "uniml.registrant": registrant,
            "uniml.owner": str(full.get("owner") or ""),
            "uniml.data_fingerprint": str(
                (full.get("training_data") or {}).get("fingerprint") or ""
            ),
            "uniml.git_commit": str(full.get("code_version") or ""),
            "uniml.card_complete": str(not missing).lower(),
            **{k: str(v) for k, v in (tags or {}).items()},
        }
        mv = client.create_model_version(name, source, run_id=run_id, tags=version_tags)
        card_uri = _attach_text(
            client, mv, "model_card.json", json.dumps(full, indent=2, sort_keys=True, default=str)
        )
        client.set_model_version_tag(name, mv.version, "uniml.card_uri", card_uri)
        if report is not None:
            rep_uri = _attach_text(client, mv, "eval_report.json", report.to_json())
            client.set_model_version_tag(name, mv.version, "uniml.eval_report_uri", rep_uri)
            if candidate:
                client.set_model_version_tag(name, mv.version, "uniml.eval_candidate", candidate)
        AuditLog(client, name).append(
            action="register",
            decision="approved",
            version=str(mv.version),
            actor=registrant,
            digest=digest,
            card_sha256=full.sha256(),
            reason="legacy import" if (tags or {}).get("uniml.legacy") else "registered",
        )
    return {
        "name": name,
        "version": str(mv.version),
        "digest": digest,
        "card_sha256": full.sha256(),
        "missing": missing,
    }


# ------------------------------------------------------------------ promote
@dataclass
class _Check:
    reason: str
    message: str


def _gate_check(
    report, digest: str, holder_digest: str | None, candidate_hint: str | None
) -> _Check | None:
    if report is None:
        return _Check(
            "no_passed_gate", "no evaluation report is stored with this version (pass report=)"
        )
    digests = report.extra.get("artifact_digests") or {}
    names = [n for n, d in digests.items() if d == digest and report.roles.get(n) == "candidate"]
    if not names:
        return _Check(
            "no_passed_gate",
            f"the evaluation report judged no candidate with artifact digest {digest[:12]}... "
            "(a gate on the same name is not enough: it must be this exact artifact)",
        )
    cand = candidate_hint if candidate_hint in names else names[0]
    gates = [g for g in report.gates if g.model == cand]
    if not gates:
        return _Check("no_passed_gate", f"the evaluation report has no gate on candidate {cand!r}")
    failed = [g for g in gates if not g.passed]
    if failed:
        return _Check(
            "gate_failed",
            "gate failed: " + "; ".join(f"{g.name} ({g.metric}): {g.reason}" for g in failed),
        )
    if holder_digest is not None:
        champ = digests.get("champion")
        if "champion" not in report.roles.values() or (champ and champ != holder_digest):
            return _Check(
                "not_compared_with_holder",
                "the candidate was not compared with the alias's current holder on the same folds "
                "(evaluate with champion='models:/<name>@<alias>')",
            )
    return None


def _alias_holder(client, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except Exception:
        return None


def _refuse(log: AuditLog, check: _Check, **fields) -> None:
    log.append(decision="refused", refusal=check.reason, reason=check.message, **fields)
    if check.reason == "incomplete_card":
        raise IncompleteCardError(check.message.split(": ", 1)[1].split(", "))
    raise GovernanceError(check.reason, check.message)


def promote(
    name: str,
    version,
    alias: str = "champion",
    *,
    approver: str | None = None,
    reason: str = "",
    report=None,
    approvers=None,
    wait: float = 10.0,
    tracking_uri: str | None = None,
) -> dict:
    """Point ``alias`` at ``version`` after the governance checks; audit the decision either way.

    Refuses (a :class:`GovernanceError` naming the reason, logged in the audit chain) when the
    version is retired, the approver is not on the allow-list or registered it (four eyes), the
    card is incomplete, no passed harness gate exists for this exact artifact digest, or the alias
    has a holder the candidate was not compared with.

    Parameters
    ----------
    name : str
    version : int or str
    alias : str, default "champion"
    approver : str, optional
        Default ``UNIML_ACTOR``, else the OS user.
    reason : str
        Why; stored in the audit log.
    report : EvalReport, optional
        An evaluation that judged this artifact (default: the one stored at register).
    approvers : iterable of str, optional
        Allow-list (default ``UNIML_APPROVERS`` or ``uniml-approvers.txt``).
    wait : float, default 10
        Seconds to wait for another process's lock before :class:`ConflictError`.
    tracking_uri : str, optional

    Returns
    -------
    dict
        ``name``, ``version``, ``alias``, ``previous`` (holder before), ``entry`` (audit hash).

    Examples
    --------
    >>> promote("m", "latest")
    Traceback (most recent call last):
    ...
    uniml.registry._errors.RegistryError: version must be a version number, got 'latest'
    """
    _check_name(name)
    _check_version(version)
    uri = tracking(tracking_uri)
    client = client_for(uri)
    mv = _version(client, name, version)
    version = str(mv.version)
    who = actor_of(approver)
    allowed = allowed_approvers(approvers)
    with lock(client, name, wait):
        mv = _version(client, name, version)
        log = AuditLog(client, name)
        log.check()
        holder = _alias_holder(client, name, alias)
        fields = dict(
            action="promote",
            version=version,
            alias=alias,
            actor=who,
            previous=holder,
            digest=mv.tags.get("uniml.artifact_digest"),
            note=reason,
        )
        if mv.tags.get("uniml.retired") == "true":
            _refuse(
                log,
                _Check("retired", f"{name} v{version} is retired and cannot be promoted"),
                **fields,
            )
        if who not in allowed:
            _refuse(
                log,
                _Check(
                    "not_on_allow_list",
                    f"{who!r} is not on the approver allow-list {sorted(allowed)}",
                ),
                **fields,
            )
        if who == mv.tags.get("uniml.registrant"):
            _refuse(
                log,
                _Check(
                    "self_approval",
                    f"{who!r} registered {name} v{version} and cannot also approve it (four eyes)",
                ),
                **fields,
            )
        card = ModelCard(_read_json(mv.tags.get("uniml.card_uri"), uri) or {})
        if card.missing():
            _refuse(
                log,
                _Check(
                    "incomplete_card",
                    "model card incomplete, missing: " + ", ".join(card.missing()),
                ),
                **fields,
            )
        if card.sha256() != mv.tags.get("uniml.card_sha256"):
            _refuse(
                log,
                _Check(
                    "incomplete_card",
                    "model card incomplete, missing: the stored card does not match its hash tag",
                ),
                **fields,
            )
        if report is not None:
            rep_uri = _attach_text(client, mv, "eval_report.json", report.to_json())
            client.set_model_version_tag(name, version, "uniml.eval_report_uri", rep_uri)
        else:
            report = read_report(name, version, tracking_uri=uri)
        holder_digest = None
        if holder is not None and holder != version:
            holder_digest = _version(client, name, holder).tags.get("uniml.artifact_digest")
        check = _gate_check(
            report,
            mv.tags.get("uniml.artifact_digest", ""),
            holder_digest,
            mv.tags.get("uniml.eval_candidate"),
        )
        if check is not None:
            _refuse(log, check, **fields)
        client.set_registered_model_alias(name, alias, version)
        try:
            entry = log.append(
                decision="approved",
                reason=reason or "promoted",
                **{k: v for k, v in fields.items() if k != "note"},
            )
        except BaseException:  # alias and log must agree: undo the move
            if holder is None:
                client.delete_registered_model_alias(name, alias)
            else:
                client.set_registered_model_alias(name, alias, holder)
            raise
        client.set_model_version_tag(name, version, "uniml.gated", "true")
    return {
        "name": name,
        "version": version,
        "alias": alias,
        "previous": holder,
        "entry": entry["hash"],
    }


def _holders(entries: list[dict], alias: str) -> list[str]:
    """Replay approved moves of ``alias``: the stack of holders (last = current)."""
    stack: list[str] = []
    for e in entries:
        if e.get("alias") != alias or e.get("decision") != "approved":
            continue
        if e["action"] == "promote" or not e.get("popped"):
            stack.append(e["version"])
        else:  # a rollback to the previous holder
            if stack:
                stack.pop()
            if not stack or stack[-1] != e["version"]:
                stack.append(e["version"])
    return stack


def rollback(
    name: str,
    alias: str = "champion",
    to=None,
    *,
    actor: str | None = None,
    reason: str = "",
    wait: float = 10.0,
    tracking_uri: str | None = None,
) -> dict:
    """Re-point ``alias`` at its previous holder, or at ``to`` (a version that once passed a gate).

    Parameters
    ----------
    name : str
    alias : str, default "champion"
    to : int or str, optional
    actor : str, optional
    reason : str
    wait : float, default 10
    tracking_uri : str, optional

    Returns
    -------
    dict
        ``name``, ``alias``, ``version`` (new holder), ``previous``.

    Examples
    --------
    >>> rollback("m", to="previous")
    Traceback (most recent call last):
    ...
    uniml.registry._errors.RegistryError: version must be a version number, got 'previous'
    """
    _check_name(name)
    if to is not None:
        _check_version(to)
    uri = tracking(tracking_uri)
    client = client_for(uri)
    who = actor_of(actor)
    with lock(client, name, wait):
        log = AuditLog(client, name)
        entries = log.check()
        stack = _holders(entries, alias)
        current = _alias_holder(client, name, alias)
        popped = False
        if to is None:
            if len(stack) < 2:
                _refuse(
                    log,
                    _Check(
                        "no_previous_holder",
                        f"{name + '@' + alias!r} has no previous holder to roll back to",
                    ),
                    action="rollback",
                    version=current,
                    alias=alias,
                    actor=who,
                    previous=current,
                )
            target, popped = stack[-2], True
        else:
            target = str(to)
            gated = {
                e["version"]
                for e in entries
                if e.get("action") == "promote" and e.get("decision") == "approved"
            }
            fields = dict(
                action="rollback", version=target, alias=alias, actor=who, previous=current
            )
            if target not in gated:
                _refuse(
                    log,
                    _Check("never_gated", f"{name} v{target} never passed a gated promotion"),
                    **fields,
                )
            if _version(client, name, target).tags.get("uniml.retired") == "true":
                _refuse(log, _Check("retired", f"{name} v{target} is retired"), **fields)
        client.set_registered_model_alias(name, alias, target)
        try:
            log.append(
                action="rollback",
                decision="approved",
                version=target,
                alias=alias,
                actor=who,
                previous=current,
                popped=popped,
                reason=reason or "rollback",
            )
        except BaseException:
            if current is not None:
                client.set_registered_model_alias(name, alias, current)
            raise
    return {"name": name, "alias": alias, "version": target, "previous": current}


def retire(
    name: str, version, reason: str, *, actor: str | None = None, tracking_uri: str | None = None
) -> dict:
    """Mark a version retired (audited); it can no longer be promoted or rolled back to.

    Parameters
    ----------
    name : str
    version : int or str
    reason : str
    actor : str, optional
    tracking_uri : str, optional

    Returns
    -------
    dict

    Examples
    --------
    >>> retire("m", 1, "")
    Traceback (most recent call last):
    ...
    uniml.registry._errors.RegistryError: retire needs a reason (it goes into the audit log)
    """
    _check_name(name)
    _check_version(version)
    if not str(reason).strip():
        raise RegistryError("retire needs a reason (it goes into the audit log)")
    client = client_for(tracking_uri)
    mv = _version(client, name, version)
    who = actor_of(actor)
    with lock(client, name):
        aliases = [
            a
            for a, v in client.get_registered_model(name).aliases.items()
            if str(v) == str(mv.version)
        ]
        log = AuditLog(client, name)
        if aliases:
            _refuse(
                log,
                _Check("holds_alias", f"{name} v{mv.version} holds {aliases}; roll back first"),
                action="retire",
                version=str(mv.version),
                actor=who,
            )
        client.set_model_version_tag(name, mv.version, "uniml.retired", "true")
        client.set_model_version_tag(name, mv.version, "uniml.retired_reason", reason)
        log.append(
            action="retire", decision="approved", version=str(mv.version), actor=who, reason=reason
        )
    return {"name": name, "version": str(mv.version), "retired": True}


# ------------------------------------------------------------------ reading
def audit_log(name: str, *, tracking_uri: str | None = None) -> list[dict]:
    """The audit entries of ``name`` (an export :func:`uniml.registry.verify_chain` checks offline).

    Parameters
    ----------
    name : str
        Registered model name.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    list of dict
        The entries in sequence order (empty when the model has no log).

    Examples
    --------
    >>> audit_log("m@champion")
    Traceback (most recent call last):
    ...
    uniml.registry._errors.RegistryError: 'm@champion' is not a registered model name ('@' and '/' belong to references)
    """
    _check_name(name)
    return AuditLog(client_for(tracking_uri), name, create=False).entries()


def verify_chain(entries: list[dict]) -> list[str]:
    """The breaks in an exported chain (empty when intact).

    Parameters
    ----------
    entries : list of dict
        An exported audit log (:func:`audit_log`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> verify_chain([])
    []
    """
    return chain_problems(entries)


def history(name: str, alias: str = "champion", *, tracking_uri: str | None = None) -> list[dict]:
    """Every holder of ``alias`` over time: version, action, who, when, why.

    Parameters
    ----------
    name : str
        Registered model name.
    alias : str, default "champion"
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    list of dict
        ``seq``, ``ts``, ``action``, ``version``, ``previous``, ``actor``, ``reason``, ``hash``.

    Examples
    --------
    >>> history("m/1")
    Traceback (most recent call last):
    ...
    uniml.registry._errors.RegistryError: 'm/1' is not a registered model name ('@' and '/' belong to references)
    """
    _check_name(name)
    return [
        {
            k: e.get(k)
            for k in ("seq", "ts", "action", "version", "previous", "actor", "reason", "hash")
        }
        for e in audit_log(name, tracking_uri=tracking_uri)
        if e.get("alias") == alias and e.get("decision") == "approved"
    ]


def trace(ref: str, *, tracking_uri: str | None = None) -> dict:
    """``name@alias`` -> version -> run -> data fingerprint -> git commit -> report -> card -> approvals.

    Parameters
    ----------
    ref : str
        ``name@alias`` or ``name/version``.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    dict

    Examples
    --------
    >>> callable(trace)
    True
    """
    uri = tracking(tracking_uri)
    client = client_for(uri)
    name, version = resolve(ref, tracking_uri=uri)
    mv = _version(client, name, version)
    tags = dict(mv.tags)
    entries = audit_log(name, tracking_uri=uri)
    return {
        "ref": ref,
        "name": name,
        "version": version,
        "aliases": [
            a for a, v in client.get_registered_model(name).aliases.items() if str(v) == version
        ],
        "run_id": mv.run_id,
        "source": mv.source,
        "artifact_digest": tags.get("uniml.artifact_digest"),
        "data_fingerprint": tags.get("uniml.data_fingerprint"),
        "git_commit": tags.get("uniml.git_commit"),
        "registrant": tags.get("uniml.registrant"),
        "eval_report_uri": tags.get("uniml.eval_report_uri"),
        "card_uri": tags.get("uniml.card_uri"),
        "card_sha256": tags.get("uniml.card_sha256"),
        "retired": tags.get("uniml.retired") == "true",
        "approvals": [
            e
            for e in entries
            if e.get("version") == version and e.get("action") in ("promote", "rollback")
        ],
    }


def trace_table(ref: str, *, tracking_uri: str | None = None):
    """:func:`trace` as a two-column pandas DataFrame (``step``, ``value``).

    Parameters
    ----------
    ref : str
        ``name@alias`` or ``name/version``.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> callable(trace_table)
    True
    """
    import pandas as pd

    data = trace(ref, tracking_uri=tracking_uri)
    rows = [
        (k, json.dumps(v, default=str) if isinstance(v, (list, dict)) else v)
        for k, v in data.items()
    ]
    return pd.DataFrame(rows, columns=["step", "value"])


def load(ref: str, *, trusted: bool = False, tracking_uri: str | None = None):
    """Load the uniml model a reference points at (``name@champion``, ``name/3``).

    Parameters
    ----------
    ref : str
        ``name@alias`` or ``name/version``.
    trusted : bool, default False
        Allow pickle-based artifacts.
    tracking_uri : str, optional
        MLflow store (default ``MLFLOW_TRACKING_URI``, else ``./mlruns.db``).

    Returns
    -------
    uniml.Adapter

    Examples
    --------
    >>> callable(load)
    True
    """
    import uniml.lineage

    name, version = resolve(ref, tracking_uri=tracking_uri)
    return uniml.lineage.load_adapter(
        f"models:/{name}/{version}", tracking_uri=tracking(tracking_uri), trusted=trusted
    )


# ------------------------------------------------------------------ verify
@dataclass
class VerifyResult:
    """What :func:`verify` found.

    Parameters
    ----------
    ok : bool
        True when nothing was found.
    problems : list of str
        One line per problem, naming the model, alias and version.
    governed : int
        Aliased models that are fully governed.
    aliased : int
        All aliased models.

    Examples
    --------
    >>> VerifyResult(True, [], 2, 2).share
    1.0
    """

    ok: bool
    problems: list = field(default_factory=list)
    governed: int = 0
    aliased: int = 0

    @property
    def share(self) -> float:
        """Governed share of aliased models (1.0 when none is aliased)."""
        return 1.0 if self.aliased == 0 else self.governed / self.aliased


def verify(
    *, names=None, check_digests: bool = True, tracking_uri: str | None = None
) -> VerifyResult:
    """Check every registered model: audit chains intact, every alias where the log says it is,
    every aliased version gated with a complete card and artifacts matching its digest.

    Parameters
    ----------
    names : list of str, optional
        Only these models (default: all).
    check_digests : bool, default True
        Download aliased versions and recompute their digest.
    tracking_uri : str, optional

    Returns
    -------
    VerifyResult

    Examples
    --------
    >>> verify(names="demand")
    Traceback (most recent call last):
    ...
    uniml.registry._errors.RegistryError: names must be a list of model names, not a string
    """
    if isinstance(names, str):
        raise RegistryError("names must be a list of model names, not a string")
    uri = tracking(tracking_uri)
    client = client_for(uri)
    models = [
        m
        for m in client.search_registered_models(max_results=1000)
        if not m.name.startswith(LOCK_PREFIX)
    ]
    if names is not None:
        models = [m for m in models if m.name in set(names)]
    problems: list[str] = []
    governed = aliased = 0
    for model in models:
        entries = audit_log(model.name, tracking_uri=uri)
        own = [f"{model.name}: audit {p}" for p in chain_problems(entries)]
        aliases = dict(model.aliases or {})
        if aliases:
            aliased += 1
        for alias, version in aliases.items():
            version = str(version)
            stack = _holders(entries, alias)
            where = f"{model.name}@{alias} (v{version})"
            if not stack or stack[-1] != version:
                own.append(
                    f"{where}: no audit event moved the alias here (the log says v{stack[-1] if stack else None}); moved outside uniml.registry.promote"
                )
            mv = _version(client, model.name, version)
            if mv.tags.get("uniml.retired") == "true":
                own.append(f"{where}: version is retired")
            card = ModelCard(_read_json(mv.tags.get("uniml.card_uri"), uri) or {})
            if card.missing():
                own.append(f"{where}: incomplete card, missing {', '.join(card.missing())}")
            elif card.sha256() != mv.tags.get("uniml.card_sha256"):
                own.append(f"{where}: card does not match its hash tag")
            digest = mv.tags.get("uniml.artifact_digest", "")
            if (
                _gate_check(
                    read_report(model.name, version, tracking_uri=uri),
                    digest,
                    None,
                    mv.tags.get("uniml.eval_candidate"),
                )
                is not None
            ):
                own.append(f"{where}: no passed gate for its artifact digest")
            if check_digests:
                try:
                    actual = version_digest(model.name, version, tracking_uri=uri)
                except Exception as exc:
                    actual = f"unreadable ({exc})"
                if actual != digest:
                    own.append(
                        f"{where}: artifacts digest {actual[:12]} does not match its tag {digest[:12]}"
                    )
        if aliases and not own:
            governed += 1
        problems.extend(own)
    return VerifyResult(not problems, problems, governed, aliased)
