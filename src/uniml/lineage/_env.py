"""Turn lineage on from the environment (``UNIML_LINEAGE=mlflow``) without importing MLflow.

``import uniml`` calls :func:`install` when ``UNIML_LINEAGE`` is set. It only
subscribes a tiny listener to :mod:`uniml.core.events`; the real sink (and
MLflow, pandas...) is imported on the first event, so ``import uniml`` stays
as fast as without lineage.

Examples
--------
>>> from uniml.lineage import _env
>>> _env.requested({"UNIML_LINEAGE": "mlflow"}), _env.requested({})
('mlflow', None)
"""

from __future__ import annotations

import _thread  # threading costs ~10 ms to import; this runs inside `import uniml`
import os

__all__ = ["install", "requested"]

_lock = _thread.allocate_lock()
_installed = False


def requested(environ=None) -> str | None:
    """The sink named by ``UNIML_LINEAGE`` (lower-cased), or None when unset/empty/"off".

    Parameters
    ----------
    environ : mapping, optional
        Defaults to :data:`os.environ`.

    Returns
    -------
    str or None

    Examples
    --------
    >>> requested({"UNIML_LINEAGE": "off"}) is None
    True
    """
    value = (
        (environ if environ is not None else os.environ).get("UNIML_LINEAGE", "").strip().lower()
    )
    return None if value in ("", "0", "off", "false", "none") else value


def _first_event(event: str, payload: dict) -> None:
    """Replace itself by the real sink, then deliver the event that woke it."""
    global _installed
    from uniml.core import events

    with _lock:
        events.unsubscribe(_first_event)
        if not _installed:
            _installed = True
            import uniml.lineage as lineage

            lineage.enable(requested() or "mlflow")
    from uniml.lineage._hooks import dispatch

    dispatch(event, payload)


def install() -> bool:
    """Subscribe the lazy listener when ``UNIML_LINEAGE`` names a sink.

    Returns
    -------
    bool
        Whether a sink was requested.

    Examples
    --------
    >>> import os
    >>> "UNIML_LINEAGE" in os.environ or install() is False
    True
    """
    if requested() is None:
        return False
    from uniml.core import events

    events.subscribe(_first_event)
    return True
