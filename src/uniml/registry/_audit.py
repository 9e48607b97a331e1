"""The append-only, hash-chained audit log, stored in MLflow itself.

One run per registered model, in the experiment ``uniml-audit:<name>``, holds the log as run tags
``uniml.audit.000000``, ``uniml.audit.000001``... Each entry is JSON with the sha256 of the entry
before it (``prev``) and its own (``hash``, over its canonical JSON without ``hash``), so an edit
or a removal breaks the chain. Writers serialise on a lock that is itself a registry object
(``uniml-lock.<name>``: creating a registered model is atomic in every MLflow store).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import time
from typing import Any

from uniml.registry._errors import AuditChainError, ConflictError

__all__ = ["GENESIS", "AuditLog", "chain_problems", "entry_hash", "lock"]

GENESIS = "0" * 64
PREFIX = "uniml.audit."
LOCK_PREFIX = "uniml-lock."


def entry_hash(entry: dict) -> str:
    """sha256 of an entry's canonical JSON, without its ``hash`` field.

    Examples
    --------
    >>> entry_hash({"seq": 0, "prev": GENESIS}) == entry_hash({"prev": GENESIS, "seq": 0, "hash": "x"})
    True
    """
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def chain_problems(entries: list[dict]) -> list[str]:
    """Every break in a chain of entries (empty when intact); works offline on an export.

    Examples
    --------
    >>> e0 = {"seq": 0, "prev": GENESIS, "action": "register"}
    >>> e0["hash"] = entry_hash(e0)
    >>> chain_problems([e0])
    []
    >>> chain_problems([{**e0, "action": "promote"}])
    ['entry 0 (promote): its hash does not match its content (edited)']
    """
    problems = []
    prev: str | None = GENESIS
    for i, entry in enumerate(entries):
        label = f"entry {i} ({entry.get('action')})"
        if entry.get("seq") != i:
            problems.append(
                f"{label}: sequence number {entry.get('seq')} where {i} was expected (removed or reordered)"
            )
        if entry.get("prev") != prev:
            problems.append(
                f"{label}: does not chain to the entry before it (an entry was removed or edited)"
            )
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"{label}: its hash does not match its content (edited)")
        prev = entry.get("hash")
    return problems


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _holder_of(client, lock_name: str) -> str:
    """Who holds a lock and since when (for the conflict message); '' when unknown."""
    try:
        tags = client.get_registered_model(lock_name).tags
    except Exception:
        return ""
    return f" (held by {tags.get('uniml.lock_owner', '?')} since {tags.get('uniml.lock', '?')})"


@contextlib.contextmanager
def lock(client, name: str, wait: float = 10.0):
    """Hold the registry lock of ``name`` (raise :class:`ConflictError` after ``wait`` seconds).

    When ``wait`` is over, it is a conflict only if the lock model exists (another process
    holds it); any other failure to create it (the store is unreachable, read-only...) is
    raised as it is, never reported as a conflict. A lock that cannot be released is reported with
    a warning naming the registered model to delete.

    Examples
    --------
    >>> class Store:  # the two registry calls the lock makes
    ...     def __init__(self): self.models = set()
    ...     def create_registered_model(self, name, tags=None):
    ...         if name in self.models: raise KeyError("RESOURCE_ALREADY_EXISTS")
    ...         self.models.add(name)
    ...     def delete_registered_model(self, name): self.models.remove(name)
    >>> store = Store()
    >>> with lock(store, "demand"):
    ...     sorted(store.models)
    ['uniml-lock.demand']
    >>> store.models
    set()
    """
    import os
    import socket

    lock_name = LOCK_PREFIX + name
    owner = f"{socket.gethostname()}:{os.getpid()}"
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            client.create_registered_model(
                lock_name, tags={"uniml.lock": _now(), "uniml.lock_owner": owner}
            )
            break
        except Exception as exc:
            held = "RESOURCE_ALREADY_EXISTS" in f"{getattr(exc, 'error_code', '')} {exc}"
            if time.monotonic() >= deadline:
                holder = _holder_of(client, lock_name)
                if not held and not holder:  # no lock there: the store itself failed
                    raise
                raise ConflictError(
                    f"registry lock for {name!r} is held by another process"
                    f"{holder}; nothing was changed, try again (a lock "
                    f"left by a killed process is removed with "
                    f"MlflowClient().delete_registered_model({lock_name!r}))"
                ) from None
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
    try:
        yield
    finally:
        for attempt in range(20):
            try:
                client.delete_registered_model(lock_name)
                break
            except Exception as exc:  # a busy store: retry; after that, say so
                if attempt == 19:
                    import warnings

                    from uniml.core.errors import UnimlWarning

                    warnings.warn(
                        f"could not release the registry lock {lock_name!r} ({exc}); delete it "
                        "with MlflowClient().delete_registered_model before the next change",
                        UnimlWarning,
                        stacklevel=3,
                    )
                time.sleep(0.1)


class AuditLog:
    """The audit log of one registered model."""

    def __init__(self, client, name: str, create: bool = True):
        self.client, self.name = client, name
        self.experiment = f"uniml-audit:{name}"
        self.run_id = self._find(create)

    def _find(self, create: bool) -> str | None:
        client = self.client
        exp = client.get_experiment_by_name(self.experiment)
        if exp is None:
            if not create:
                return None
            exp_id = client.create_experiment(self.experiment, tags={"uniml.audit_of": self.name})
        else:
            exp_id = exp.experiment_id
        runs = client.search_runs([exp_id], "tags.`uniml.audit_log` = 'true'", max_results=5)
        if runs:
            return sorted(runs, key=lambda r: r.info.start_time)[0].info.run_id
        if not create:
            return None
        run = client.create_run(
            exp_id,
            tags={"uniml.audit_log": "true", "uniml.audit_of": self.name},
            run_name="audit-log",
        )
        return run.info.run_id

    def entries(self) -> list[dict]:
        """All entries in sequence order (read from the run's tags)."""
        if self.run_id is None:
            return []
        tags = self.client.get_run(self.run_id).data.tags
        keys = sorted(k for k in tags if k.startswith(PREFIX))
        out = []
        for key in keys:
            try:
                out.append(json.loads(tags[key]))
            except ValueError:
                out.append({"seq": key, "action": "unreadable", "raw": tags[key]})
        return out

    def check(self) -> list[dict]:
        """The entries, or :class:`AuditChainError` when the chain is broken."""
        entries = self.entries()
        problems = chain_problems(entries)
        if problems:
            raise AuditChainError(
                f"audit log of {self.name!r} is broken, nothing more is recorded until it is "
                "restored: " + "; ".join(problems)
            )
        return entries

    def append(self, **fields: Any) -> dict:
        """Append one entry (call under :func:`lock`); refuse to extend a broken chain."""
        entries = self.check()
        entry = {
            "seq": len(entries),
            "ts": _now(),
            "model": self.name,
            **fields,
            "prev": entries[-1]["hash"] if entries else GENESIS,
        }
        entry["hash"] = entry_hash(entry)
        assert self.run_id is not None
        self.client.set_tag(
            self.run_id, f"{PREFIX}{entry['seq']:06d}", json.dumps(entry, sort_keys=True)
        )
        return entry
