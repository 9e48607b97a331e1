"""Lifecycle events fired by the core; lineage sinks listen, adapters never know.

The core calls :func:`emit` at ``fit_start``, ``fit_end``, ``predict`` and
``explain``; the evaluation harness and the registry emit ``evaluate``,
``register`` and ``promote``. With no listener subscribed, :func:`emit` costs
one truthiness check, so adapters pay nothing when lineage is off.

A listener is any callable ``listener(event: str, payload: dict)``. A listener
that raises is reported as a warning and never breaks the caller's fit.

Examples
--------
>>> from uniml.core import events
>>> seen = []
>>> token = events.subscribe(lambda name, payload: seen.append(name))
>>> events.emit("fit_start", adapter=None)
>>> events.unsubscribe(token)
>>> seen
['fit_start']
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Callable, Iterator

from uniml.core.errors import UnimlWarning

__all__ = ["EVENTS", "emit", "listening", "muted", "subscribe", "unsubscribe"]

EVENTS = (
    "fit_start",
    "fit_end",
    "predict",
    "explain",
    "evaluate",
    "register",
    "promote",
    # monitoring: a finished run (payload report=MonitorReport) and each alert (alert=Alert)
    "monitor",
    "alert",
)

_listeners: list[Callable[[str, dict], None]] = []
_muted: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "uniml_muted", default=frozenset()
)


def subscribe(listener: Callable[[str, dict], None]) -> Callable[[str, dict], None]:
    """Register ``listener`` for every event (once, however often it is subscribed).

    Parameters
    ----------
    listener : callable
        Called as ``listener(event, payload)`` for every emitted event.

    Returns
    -------
    callable
        ``listener`` itself: the token to pass to :func:`unsubscribe`.

    Examples
    --------
    >>> token = subscribe(print)
    >>> emit("promote", model="m")
    promote {'model': 'm'}
    >>> unsubscribe(token)
    """
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def unsubscribe(listener: Callable[[str, dict], None]) -> None:
    """Remove a listener registered with :func:`subscribe` (no error if absent).

    Parameters
    ----------
    listener : callable
        What :func:`subscribe` returned.

    Examples
    --------
    >>> unsubscribe(print)  # never subscribed: nothing happens
    """
    if listener in _listeners:
        _listeners.remove(listener)


def listening() -> bool:
    """Tell whether the per-model events would reach anyone.

    Callers check it before assembling an event payload, so that nothing is
    computed while lineage is off.

    Returns
    -------
    bool
        True when a listener is subscribed and the per-model events are not
        :func:`muted`.

    Examples
    --------
    >>> listening()
    False
    """
    return bool(_listeners) and not _muted.get().issuperset(_MODEL_EVENTS)


def emit(event: str, **payload) -> None:
    """Send ``event`` with ``payload`` to every listener.

    Parameters
    ----------
    event : str
        One of :data:`EVENTS`.
    **payload
        Event data (``adapter=``, ``X=``, ``duration=``...).

    Examples
    --------
    >>> emit("fit_start", adapter=None)  # no listener: a no-op
    """
    if not _listeners:
        return
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; known: {EVENTS}")
    if event in _muted.get():
        return
    for listener in tuple(_listeners):
        try:
            listener(event, payload)
        except Exception as exc:  # a sink must never kill the caller's work
            warnings.warn(
                f"lineage listener {listener!r} failed on {event!r}: {exc!r}",
                UnimlWarning,
                stacklevel=3,
            )


_MODEL_EVENTS = ("fit_start", "fit_end", "predict", "explain")


@contextlib.contextmanager
def muted(*names: str) -> Iterator[None]:
    """Silence events inside the block (default: the per-model events).

    The evaluation harness fits every candidate once per fold; those fits are
    bookkeeping of one evaluation, not models anyone will deploy, so it mutes
    them and reports the evaluation as a single ``evaluate`` event. Muting is
    per thread and per asyncio task (a :class:`contextvars.ContextVar`), so a
    fit running elsewhere at the same time is still reported.

    Parameters
    ----------
    *names : str
        Events to silence; none given means ``fit_start``, ``fit_end``,
        ``predict`` and ``explain``.

    Examples
    --------
    >>> seen = []
    >>> token = subscribe(lambda name, payload: seen.append(name))
    >>> with muted():
    ...     listening(), emit("fit_start", adapter=None)
    (False, None)
    >>> emit("fit_start", adapter=None)
    >>> unsubscribe(token)
    >>> seen
    ['fit_start']
    """
    unknown = set(names) - set(EVENTS)
    if unknown:
        raise ValueError(f"unknown event(s) {sorted(unknown)}; known: {EVENTS}")
    reset = _muted.set(_muted.get() | frozenset(names or _MODEL_EVENTS))
    try:
        yield
    finally:
        _muted.reset(reset)
