"""Errors raised by :mod:`uniml.lineage` (all are :class:`uniml.UnimlError`)."""

from __future__ import annotations

from uniml.core.errors import UnimlError

__all__ = ["LineageError", "LineageTimeoutError", "SinkNotFoundError"]


class LineageError(UnimlError):
    """Lineage could not be recorded, replayed or read.

    Examples
    --------
    >>> issubclass(LineageError, UnimlError)
    True
    """


class SinkNotFoundError(LineageError, LookupError):
    """``enable(sink=...)`` names no known sink (neither built in nor an entry point).

    Examples
    --------
    >>> str(SinkNotFoundError("no lineage sink named 'x'"))
    "no lineage sink named 'x'"
    """


class LineageTimeoutError(LineageError, TimeoutError):
    """:func:`uniml.lineage.flush` gave up before all queued lineage was written.

    Examples
    --------
    >>> issubclass(LineageTimeoutError, TimeoutError)
    True
    """
