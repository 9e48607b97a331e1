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

import warnings
from collections.abc import Callable

from uniml.core.errors import UnimlWarning

__all__ = ["EVENTS", "emit", "listening", "subscribe", "unsubscribe"]

EVENTS = ("fit_start", "fit_end", "predict", "explain", "evaluate", "register", "promote")

_listeners: list[Callable[[str, dict], None]] = []


def subscribe(listener: Callable[[str, dict], None]) -> Callable[[str, dict], None]:
    """Register ``listener`` for every event; returns it (the unsubscribe token).

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

    Examples
    --------
    >>> unsubscribe(print)  # never subscribed: nothing happens
    """
    if listener in _listeners:
        _listeners.remove(listener)


def listening() -> bool:
    """True when at least one listener is subscribed.

    Examples
    --------
    >>> listening()
    False
    """
    return bool(_listeners)


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
    for listener in tuple(_listeners):
        try:
            listener(event, payload)
        except Exception as exc:  # a sink must never kill the caller's work
            warnings.warn(
                f"lineage listener {listener!r} failed on {event!r}: {exc!r}",
                UnimlWarning,
                stacklevel=3,
            )
