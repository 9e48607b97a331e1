"""The governed model lifecycle on MLflow's registry: register -> approve -> promote -> roll back.

Versions carry a model card and the digest of their exact artifact; ``promote`` moves an alias
only after four-eyes approval of a version that passed a harness gate as that very artifact;
every decision lands in a hash-chained audit log stored in MLflow; ``verify`` catches aliases
moved around it. No second database. See ``docs/registry.md``.

Importing this package is cheap: MLflow is imported on first use.

Examples
--------
>>> import uniml.registry as reg
>>> reg.REQUIRED_FIELDS[0], issubclass(reg.GovernanceError, reg.RegistryError)
('owner', True)
"""

from __future__ import annotations

from uniml.registry._card import REQUIRED_FIELDS, UNKNOWN, ModelCard
from uniml.registry._errors import (
    AuditChainError,
    ConflictError,
    GovernanceError,
    IncompleteCardError,
    RegistryError,
)

_LAZY = {
    "register": "_core",
    "promote": "_core",
    "rollback": "_core",
    "retire": "_core",
    "history": "_core",
    "trace": "_core",
    "trace_table": "_core",
    "verify": "_core",
    "verify_chain": "_core",
    "audit_log": "_core",
    "resolve": "_core",
    "load": "_core",
    "attach_artifact": "_core",
    "read_card": "_core",
    "read_report": "_core",
    "version_digest": "_core",
    "VerifyResult": "_core",
    "evidence": "_evidence",
    "import_legacy": "_legacy",
    "audit": "_legacy",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"uniml.registry.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'uniml.registry' has no attribute {name!r}")


__all__ = [
    "REQUIRED_FIELDS",
    "UNKNOWN",
    "AuditChainError",
    "ConflictError",
    "GovernanceError",
    "IncompleteCardError",
    "ModelCard",
    "RegistryError",
    "VerifyResult",
    "attach_artifact",
    "audit",
    "audit_log",
    "evidence",
    "history",
    "import_legacy",
    "load",
    "promote",
    "read_card",
    "read_report",
    "register",
    "resolve",
    "retire",
    "rollback",
    "trace",
    "trace_table",
    "verify",
    "verify_chain",
    "version_digest",
]
