"""Lineage: every fit, evaluation and promotion recorded in MLflow (or another sink).

Turn it on once — in code, as a context manager, or with ``UNIML_LINEAGE=mlflow``
in the environment — and every ``fit`` leaves an MLflow run with parameters,
tags, the training data's fingerprint and schema, in-sample metrics, the model
as an MLflow pyfunc and a model card. Logging runs on a background thread;
:func:`flush` waits for it. See ``docs/lineage.md``.

Importing this package is cheap: MLflow is imported by the worker, on first use.

Examples
--------
>>> import tempfile, numpy as np, uniml, uniml.lineage
>>> store = "sqlite:///" + tempfile.mkdtemp() + "/mlruns.db"
>>> X, y = np.random.default_rng(0).normal(size=(50, 2)), np.arange(50.0)
>>> with uniml.lineage.enable(tracking_uri=store, experiment="doc", spool=tempfile.mkdtemp()):
...     model = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1).fit(X, y)
...     run = uniml.lineage.last_run()
>>> run.model_uri == f"runs:/{run.run_id}/model", run.spooled
(True, False)
>>> bool((uniml.lineage.load_adapter(run.model_uri, tracking_uri=store).predict(X) == model.predict(X)).all())
True
"""

from __future__ import annotations

import _thread  # not threading/pathlib: this package is imported by `import uniml` under UNIML_LINEAGE

from uniml.lineage._errors import LineageError, LineageTimeoutError, SinkNotFoundError

# pluggy is imported on first use: `import uniml` with UNIML_LINEAGE set imports this package
_LAZY = {"ENTRY_POINT_GROUP", "hookimpl", "hookspec", "plugin_manager"}


def __getattr__(name: str):
    if name in _LAZY:
        from uniml.lineage import _hooks

        value = getattr(_hooks, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'uniml.lineage' has no attribute {name!r}")


__all__ = [
    "ENTRY_POINT_GROUP",
    "LineageError",
    "LineageHandle",
    "LineageTimeoutError",
    "SinkNotFoundError",
    "disable",
    "enable",
    "enabled_sinks",
    "fingerprint",
    "flush",
    "hookimpl",
    "hookspec",
    "last_run",
    "load_adapter",
    "plugin_manager",
    "register_model",
    "sync",
]

_lock = _thread.RLock()
_handles: list[LineageHandle] = []


class LineageHandle:
    """An enabled sink; ``close()`` (or leaving the ``with`` block) disables it.

    :func:`enable` builds it; it does not register the sink itself.

    Parameters
    ----------
    sink : object
        The pluggy plugin (for ``"mlflow"``, an ``MlflowSink`` with
        ``tracking_uri``, ``experiment``, ``spool``).

    Attributes
    ----------
    sink : object
        The plugin, as given.
    closed : bool
        Whether :meth:`close` has run.

    Examples
    --------
    >>> class Quiet:
    ...     pass
    >>> with enable(Quiet()) as handle:
    ...     handle.sink in enabled_sinks()
    True
    >>> enabled_sinks()
    []
    """

    def __init__(self, sink):
        self.sink = sink
        self.closed = False

    def close(self, flush_timeout: float | None = None) -> None:
        """Flush pending lineage (waiting at most ``flush_timeout`` s), then unregister the sink.

        A second call does nothing.

        Parameters
        ----------
        flush_timeout : float, optional
            Seconds to wait for queued lineage; None waits as long as it takes.

        Raises
        ------
        LineageTimeoutError
            Still writing after ``flush_timeout`` seconds; the sink is
            unregistered all the same.
        """
        if self.closed:
            return
        self.closed = True
        try:
            flush(flush_timeout)
        finally:
            _remove(self)

    def last_run(self, timeout: float | None = None):
        """Like :func:`last_run`, for this sink only (when several are enabled).

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the fit's lineage to be written; None waits
            as long as it takes.

        Returns
        -------
        RunRef or None
            None before this sink's first fit, or when the sink keeps no runs
            (it has no ``last_run`` method).
        """
        own = getattr(self.sink, "last_run", None)
        return own(timeout) if own is not None else None

    def __enter__(self) -> LineageHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LineageHandle({self.sink!r}{', closed' if self.closed else ''})"


def _hooks_pm():
    from uniml.lineage._hooks import plugin_manager as _pm

    return _pm()


def _remove(handle: LineageHandle) -> None:
    from uniml.core import events
    from uniml.lineage._hooks import dispatch

    with _lock:
        if handle in _handles:
            _handles.remove(handle)
        pm = _hooks_pm()
        if pm.is_registered(handle.sink):
            pm.unregister(handle.sink)
        if not _handles:
            events.unsubscribe(dispatch)


def enable(
    sink="mlflow", *, tracking_uri: str | None = None, experiment: str | None = None, **options
) -> LineageHandle:
    """Send every fit (and evaluation, registration, promotion) to a lineage sink.

    Parameters
    ----------
    sink : str or object, default "mlflow"
        ``"mlflow"``, the name of a sink in the ``uniml.lineage`` entry-point
        group, or a plugin object with ``@hookimpl`` methods.
    tracking_uri : str, optional
        MLflow tracking URI; default ``MLFLOW_TRACKING_URI``, else one set with
        ``mlflow.set_tracking_uri``, else ``sqlite:///<cwd>/mlruns.db``.
    experiment : str, optional
        Experiment name; default ``MLFLOW_EXPERIMENT_NAME``, else ``"uniml"``.
        Fits inside an active ``mlflow.start_run()`` (same store) nest under it.
    **options
        MLflow sink: ``spool`` (folder, default ``$UNIML_LINEAGE_SPOOL`` or
        ``./.uniml-spool``), ``intended_use`` and ``limitations`` (model card
        text), ``tags`` (dict added to every run), ``artifact_location`` (for a
        new experiment), ``log_model`` (default True), ``run_name``,
        ``explain_rows`` (training rows explained for the card's top drivers,
        default 200; 0 switches it off). An
        entry-point sink that is a class is called with ``tracking_uri``,
        ``experiment`` (when given) and these options.

    Returns
    -------
    LineageHandle
        Usable as a context manager: the sink is disabled on exit.

    Raises
    ------
    SinkNotFoundError
        No sink of that name.

    Examples
    --------
    >>> enable("nonexistent")
    Traceback (most recent call last):
    ...
    uniml.lineage._errors.SinkNotFoundError: no lineage sink named 'nonexistent'; known: [...'mlflow'...]
    """
    from uniml.core import events
    from uniml.lineage._hooks import dispatch, load_entry_point

    kwargs = dict(options)
    if tracking_uri is not None:
        kwargs["tracking_uri"] = tracking_uri
    if experiment is not None:
        kwargs["experiment"] = experiment
    if isinstance(sink, str):
        if sink == "mlflow":
            from uniml.lineage._mlflow import MlflowSink

            plugin = MlflowSink(**kwargs)
        else:
            found = load_entry_point(sink)
            plugin = found(**kwargs) if isinstance(found, type) else found
    else:
        plugin = sink
    handle = LineageHandle(plugin)
    with _lock:
        pm = _hooks_pm()
        if not pm.is_registered(plugin):
            pm.register(plugin)
        _handles.append(handle)
        events.subscribe(dispatch)
    return handle


def disable() -> None:
    """Flush and disable every enabled sink.

    Examples
    --------
    >>> disable()  # nothing enabled: a no-op
    """
    for handle in list(_handles):
        handle.close()


def enabled_sinks() -> list:
    """The sink objects currently enabled.

    Returns
    -------
    list
        The plugin object of every open :class:`LineageHandle`, in the order they were enabled.

    Examples
    --------
    >>> enabled_sinks()
    []
    """
    return [h.sink for h in _handles]


def flush(timeout: float | None = None) -> None:
    """Block until all queued lineage is written (to MLflow, or to the spool).

    Parameters
    ----------
    timeout : float, optional
        Seconds; None waits as long as it takes.

    Raises
    ------
    LineageTimeoutError
        Still writing after ``timeout`` seconds (nothing is lost: call again).

    Examples
    --------
    >>> flush(timeout=5)
    """
    import sys

    worker = sys.modules.get("uniml.lineage._mlflow")
    if worker is not None:  # never imported: nothing was ever queued
        worker.flush(timeout)


def last_run(timeout: float | None = None):
    """Where the most recent fit's lineage went, once it is written (waits for it).

    Parameters
    ----------
    timeout : float, optional
        Seconds to wait for the fit's lineage to be written; None waits as
        long as it takes.

    Returns
    -------
    RunRef or None
        Attributes (also keys) ``run_id``, ``model_uri`` (``runs:/<id>/model``),
        ``experiment_id``, ``spooled``, ``spool_path``, ``lineage_id``; None
        before the first fit with the MLflow sink. With several MLflow sinks
        enabled, the last one written to; ``handle.last_run()`` asks one sink.

    Examples
    --------
    >>> last_run() is None or hasattr(last_run(), "run_id")
    True
    """
    import sys

    worker = sys.modules.get("uniml.lineage._mlflow")
    return None if worker is None else worker.last_run(timeout)


def sync(tracking_uri: str | None = None, spool=None) -> list:
    """Replay spooled lineage into MLflow, idempotently; see ``docs/lineage.md``.

    Parameters
    ----------
    tracking_uri : str, optional
        Default: each record's own tracking URI.
    spool : str or Path, optional
        Default ``$UNIML_LINEAGE_SPOOL`` or ``./.uniml-spool``.

    Returns
    -------
    list of SyncResult
        ``lineage_id``, ``status`` (``"replayed"`` or ``"failed"``), ``run_id``, ``error``.

    Examples
    --------
    >>> import tempfile
    >>> sync(spool=tempfile.mkdtemp())  # empty spool
    []
    """
    from uniml.lineage._mlflow import sync as _sync

    return _sync(tracking_uri, spool)


def fingerprint(X, y=None) -> str:
    """Content fingerprint of training data (row-index invariant); see :mod:`uniml.lineage._fingerprint`.

    Parameters
    ----------
    X : pandas.DataFrame or array-like
    y : array-like, optional

    Returns
    -------
    str
        64 hex characters.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3]})
    >>> fingerprint(df) == fingerprint(df.set_axis(["x", "y", "z"]))
    True
    """
    from uniml.lineage._fingerprint import fingerprint as _fingerprint

    return _fingerprint(X, y)


def _resolve(tracking_uri):
    from uniml.lineage._mlflow import resolve_tracking_uri

    if tracking_uri is None:
        for sink in enabled_sinks():
            if getattr(sink, "tracking_uri", None):
                return sink.tracking_uri
    return resolve_tracking_uri(tracking_uri)


def _uniml_folder(path):
    """The uniml save folder inside an MLflow pyfunc folder (or the folder itself)."""
    from uniml.core.persistence import MANIFEST_NAME

    if (path / MANIFEST_NAME).is_file():
        return path
    found = sorted((path / "artifacts").glob(f"*/{MANIFEST_NAME}"))
    return found[0].parent if found else None


def _registry_source(model_uri: str, tracking_uri: str) -> str:
    """Where ``models:/name/version`` or ``models:/name@alias`` lives, asking this store's registry
    (MLflow's own resolution asks the process-wide registry URI instead)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    ref, _, sub = model_uri[len("models:/") :].partition("/")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        version = client.get_model_version_by_alias(name, alias).version
        rest = sub
    else:
        name, version, rest = ref, sub.partition("/")[0], sub.partition("/")[2]
    source = client.get_model_version_download_uri(name, version)
    return f"{source.rstrip('/')}/{rest}" if rest else source


def load_adapter(model_uri: str, *, tracking_uri: str | None = None, trusted: bool = False):
    """Load the uniml adapter behind an MLflow model logged by lineage.

    Parameters
    ----------
    model_uri : str
        ``runs:/<run_id>/model``, ``models:/<name>/<version>``,
        ``models:/<name>@<alias>``, any MLflow artifact URI, or a local path
        (an MLflow model folder or a uniml save folder).
    tracking_uri : str, optional
        Default: the enabled sink's, else as :func:`enable` resolves it.
    trusted : bool, default False
        Passed to :func:`uniml.load`: allow pickle-based artifacts.

    Returns
    -------
    uniml.Adapter

    Raises
    ------
    LineageError
        The URI holds no uniml model.

    Examples
    --------
    >>> load_adapter("/nonexistent/folder")
    Traceback (most recent call last):
    ...
    uniml.lineage._errors.LineageError: no model at '/nonexistent/folder': the path does not exist
    """
    from pathlib import Path

    from uniml.core.persistence import MANIFEST_NAME, load

    local = Path(model_uri)
    if "://" not in model_uri and not model_uri.startswith(("runs:", "models:")):
        if not local.exists():
            raise LineageError(f"no model at {model_uri!r}: the path does not exist")
        folder = _uniml_folder(local)
    else:
        import os

        import mlflow.artifacts

        # no progress bar on the user's terminal (set MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR to keep it)
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        uri = _resolve(tracking_uri)
        try:
            artifact_uri = (
                _registry_source(model_uri, uri) if model_uri.startswith("models:/") else model_uri
            )
            downloaded = mlflow.artifacts.download_artifacts(
                artifact_uri=artifact_uri, tracking_uri=uri
            )
        except Exception as exc:
            raise LineageError(f"could not download {model_uri!r}: {exc}") from exc
        folder = _uniml_folder(Path(downloaded))
    if folder is None or not (folder / MANIFEST_NAME).is_file():
        raise LineageError(f"{model_uri!r} holds no uniml model (no {MANIFEST_NAME} found)")
    from uniml.core.persistence import artifact_digest

    model = load(folder, trusted=trusted)
    # registry (issue 16): the loaded version's identity
    model.artifact_digest_ = artifact_digest(folder)
    return model


def register_model(
    model_uri: str,
    name: str,
    alias: str | None = None,
    *,
    tracking_uri: str | None = None,
    tags: dict | None = None,
):
    """Register a lineage-logged model in the MLflow model registry, optionally setting an alias.

    Emits the ``register`` event, and ``promote`` when an alias is set.

    Parameters
    ----------
    model_uri : str
        ``runs:/<run_id>/model`` (as in :func:`last_run`) or another MLflow model URI.
    name : str
        Registered model name (created if new).
    alias : str, optional
        E.g. ``"champion"``; moved to the new version.
    tracking_uri : str, optional
    tags : dict, optional
        Model version tags.

    Returns
    -------
    dict
        ``name``, ``version``, ``alias``, ``previous_version`` (of the alias),
        ``model_uri`` (``models:/<name>/<version>``), ``run_id``.

    Raises
    ------
    LineageError
        The registry refused (e.g. an unknown run).

    Examples
    --------
    >>> import tempfile
    >>> register_model("runs:/nonexistent/model", "m", tracking_uri="sqlite:///" + tempfile.mkdtemp() + "/r.db")
    Traceback (most recent call last):
    ...
    uniml.lineage._errors.LineageError: could not register 'runs:/nonexistent/model' as 'm': ...
    """
    from uniml.core import events
    from uniml.lineage._mlflow import _client

    uri = _resolve(tracking_uri)
    client = _client(uri)
    try:
        run_id, source = None, model_uri
        if model_uri.startswith("runs:/"):
            run_id, _, path = model_uri[len("runs:/") :].partition("/")
            source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{path}"
        try:
            client.get_registered_model(name)
        except Exception:
            client.create_registered_model(name)
        version = client.create_model_version(name, source, run_id=run_id, tags=tags).version
        previous = None
        if alias:
            try:
                previous = str(client.get_model_version_by_alias(name, alias).version)
            except Exception:
                previous = None
            client.set_registered_model_alias(name, alias, version)
    except Exception as exc:
        raise LineageError(f"could not register {model_uri!r} as {name!r}: {exc}") from exc
    events.emit("register", model_uri=model_uri, name=name, version=str(version), run_id=run_id)
    if alias:
        events.emit(
            "promote", name=name, version=str(version), alias=alias, previous_version=previous
        )
    return {
        "name": name,
        "version": str(version),
        "alias": alias,
        "previous_version": previous,
        "model_uri": f"models:/{name}/{version}",
        "run_id": run_id,
    }
