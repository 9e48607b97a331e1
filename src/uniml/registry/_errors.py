"""The registry's typed errors (all :class:`uniml.UnimlError`)."""

from __future__ import annotations

from uniml.core.errors import UnimlError

__all__ = [
    "AuditChainError",
    "ConflictError",
    "GovernanceError",
    "IncompleteCardError",
    "RegistryError",
]


class RegistryError(UnimlError, ValueError):
    """A registry call got bad input (unknown name or version, malformed reference...).

    Examples
    --------
    >>> issubclass(RegistryError, ValueError)
    True
    """


class GovernanceError(RegistryError):
    """A governed action was refused; ``reason`` is a short code, the message says why.

    Codes: ``retired``, ``not_on_allow_list``, ``self_approval``, ``incomplete_card``,
    ``no_passed_gate``, ``gate_failed``, ``not_compared_with_holder``, ``never_gated``,
    ``holds_alias``, ``no_previous_holder``.

    Parameters
    ----------
    reason : str
        The short code.
    message : str
        Why, for a person.

    Examples
    --------
    >>> GovernanceError("self_approval", "ann registered v1 and cannot approve it").reason
    'self_approval'
    """

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class IncompleteCardError(GovernanceError):
    """The model card lacks required fields; ``missing`` names them.

    Parameters
    ----------
    missing : list of str
        The missing fields (dotted paths into the card).

    Examples
    --------
    >>> IncompleteCardError(["owner"]).missing
    ['owner']
    """

    def __init__(self, missing: list[str]):
        super().__init__("incomplete_card", "model card incomplete, missing: " + ", ".join(missing))
        self.missing = list(missing)


class ConflictError(RegistryError):
    """Another process holds the model's registry lock; nothing was changed.

    Examples
    --------
    >>> issubclass(ConflictError, RegistryError)
    True
    """


class AuditChainError(RegistryError):
    """The audit log's hash chain is broken (an entry was edited or removed).

    Examples
    --------
    >>> str(AuditChainError("entry 3: hash mismatch"))
    'entry 3: hash mismatch'
    """
