"""The lineage hook protocol (pluggy) and the bridge from :mod:`uniml.core.events`.

Every core event has one hook specification, named ``uniml_<event>``. A sink
is any object with ``@hookimpl``-decorated methods for the hooks it cares
about (it may implement only some, and each implementation may accept only
some of the arguments). One listener subscribed to :mod:`uniml.core.events`
dispatches every event into the plugin manager; adapters never know who
listens.

Third-party sinks are found through the ``uniml.lineage`` entry-point group::

    [project.entry-points."uniml.lineage"]
    openlineage = "acme_lineage:OpenLineageSink"

``uniml.lineage.enable("openlineage")`` then loads that object (a class is
instantiated with the keyword options passed to ``enable``).

Examples
--------
>>> from uniml.lineage._hooks import hookimpl, plugin_manager
>>> class Printer:
...     @hookimpl
...     def uniml_promote(self, name, alias):
...         print("promoted", name, "to", alias)
>>> pm = plugin_manager()
>>> _ = pm.register(Printer(), name="doc-printer")
>>> _ = pm.hook.uniml_promote(name="churn", version="3", alias="champion", previous_version=None)
promoted churn to champion
>>> _ = pm.unregister(name="doc-printer")
"""

from __future__ import annotations

import pluggy

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT",
    "HookSpecs",
    "dispatch",
    "hookimpl",
    "hookspec",
    "plugin_manager",
]

PROJECT = "uniml"
ENTRY_POINT_GROUP = "uniml.lineage"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class HookSpecs:
    """The hook specifications; a sink implements any subset.

    Implementations run on the caller's thread, inside ``fit``: do heavy work
    elsewhere (a queue, a thread) and never raise — an exception is turned
    into a warning by :func:`uniml.core.events.emit`, but the cost is the
    caller's.
    """

    @hookspec
    def uniml_fit_start(self, adapter, X, y, fit_params):
        """An adapter starts fitting on ``X`` (the training frame) and ``y`` (may be None)."""

    @hookspec
    def uniml_fit_end(self, adapter, X, y, fit_params, duration):
        """An adapter finished fitting in ``duration`` seconds; ``adapter`` is fitted."""

    @hookspec
    def uniml_predict(self, adapter, X, prediction):
        """An adapter predicted ``prediction`` for ``X``."""

    @hookspec
    def uniml_explain(self, adapter, X, explanation):
        """An adapter explained ``X`` (an :class:`uniml.Explanation`)."""

    @hookspec
    def uniml_evaluate(self, report, spec):
        """The evaluation harness finished: ``report`` is an ``EvalReport``, ``spec`` its spec or None."""

    @hookspec
    def uniml_register(self, model_uri, name, version, run_id):
        """``model_uri`` was registered as version ``version`` of registered model ``name``."""

    @hookspec
    def uniml_promote(self, name, version, alias, previous_version):
        """Alias ``alias`` of registered model ``name`` now points at ``version``."""

    @hookspec
    def uniml_monitor(self, report):
        """A monitoring run finished: ``report`` is a ``uniml.monitoring.MonitorReport``."""

    @hookspec
    def uniml_alert(self, alert):
        """Monitoring raised ``alert`` (``DriftAlert``, ``PerformanceAlert`` or ``RetrainRequested``)."""


_pm: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager holding the enabled sinks.

    Returns
    -------
    pluggy.PluginManager

    Examples
    --------
    >>> plugin_manager().project_name
    'uniml'
    """
    global _pm
    if _pm is None:
        pm = pluggy.PluginManager(PROJECT)
        pm.add_hookspecs(HookSpecs)
        _pm = pm
    return _pm


def dispatch(event: str, payload: dict) -> None:
    """The :mod:`uniml.core.events` listener: call hook ``uniml_<event>`` with the payload.

    Parameters
    ----------
    event : str
        A name from :data:`uniml.core.events.EVENTS`.
    payload : dict
        Keyword arguments of the hook (extra keys are ignored by pluggy).

    Examples
    --------
    >>> dispatch("predict", {"adapter": None, "X": None, "prediction": None})  # no sink: nothing
    """
    hook = getattr(plugin_manager().hook, f"uniml_{event}", None)
    if hook is not None:
        hook(**payload)


def load_entry_point(name: str):
    """The object registered under ``name`` in the ``uniml.lineage`` entry-point group.

    Raises
    ------
    SinkNotFoundError
        No such entry point; the message lists the known ones.
    """
    import importlib.metadata

    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in found:
        if ep.name == name:
            return ep.load()
    known = sorted({ep.name for ep in found} | {"mlflow"})
    from uniml.lineage._errors import SinkNotFoundError

    raise SinkNotFoundError(f"no lineage sink named {name!r}; known: {known}")
