"""The adapter catalog: build adapters by name, list what exists.

Every adapter joins through one path: the ``uniml.adapters`` entry-point
group. uniml's own adapters are declared there in its ``pyproject.toml``
exactly as a third-party package declares its own, so the core knows no
adapter module by name. Each entry point names either an
:class:`~uniml.Adapter` subclass or a module whose import registers adapters
with :func:`register`::

    [project.entry-points."uniml.adapters"]
    acme = "acme_uniml.adapters"

The group is read on first use of the catalog (not at ``import uniml``);
uniml's own entry points load first, so a plug-in cannot shadow a built-in
name. Loading an entry point imports the adapter module only: each wrapped
library is imported when its adapter is first fitted or loaded.

Examples
--------
>>> import uniml
>>> table = uniml.catalog()
>>> "lightgbm.regressor" in set(table["name"])
True
>>> uniml.make("lightgbm.regresor")
Traceback (most recent call last):
...
uniml.core.errors.AdapterNotFoundError: no adapter named 'lightgbm.regresor'; did you mean 'lightgbm.regressor'...
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import threading
import warnings
from typing import TYPE_CHECKING, Any, TypeVar

from uniml.core.errors import AdapterNotFoundError, MissingDependencyError, UnimlWarning

if TYPE_CHECKING:  # the catalog is imported before any adapter module
    import pandas as pd

    from uniml.core.adapter import Adapter

__all__ = ["ENTRY_POINT_GROUP", "adapters", "catalog", "get_adapter_class", "make", "register"]

ENTRY_POINT_GROUP = "uniml.adapters"

_registry: dict[str, type[Adapter]] = {}
_loaded = False
_lock = threading.RLock()


_T = TypeVar("_T", bound=type)


def register(cls: _T) -> _T:
    """Add an adapter class to the catalog under ``cls.name`` (usable as a decorator).

    ``cls`` is a subclass of :class:`uniml.Adapter` with ``name``, ``task``
    and ``library`` declared (its metadata is validated here).

    Returns
    -------
    type
        ``cls`` unchanged.

    Raises
    ------
    TypeError
        ``cls`` is not an :class:`uniml.Adapter` subclass.
    ValueError
        If the name is empty or already taken by another class.

    Examples
    --------
    >>> from uniml.core.adapter import Adapter
    >>> @register
    ... class Constant(Adapter):
    ...     name, task, library = "doc.constant", "regression", "numpy"
    >>> get_adapter_class("doc.constant") is Constant
    True
    >>> _ = _registry.pop("doc.constant")
    """
    from uniml.core.adapter import Adapter

    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise TypeError(f"{cls!r} is not a uniml Adapter subclass")
    cls.validate_metadata()
    with _lock:
        other = _registry.get(cls.name)
        if other is not None and other is not cls and other.__qualname__ != cls.__qualname__:
            raise ValueError(f"adapter name {cls.name!r} is already registered by {other!r}")
        _registry[cls.name] = cls
    return cls


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    """The group's entry points, uniml's own first (then by distribution and name)."""
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)

    def key(ep: importlib.metadata.EntryPoint) -> tuple[bool, str, str]:
        dist = ep.dist.name if ep.dist is not None else ""
        return (dist != "uniml", dist, ep.name)

    return sorted(eps, key=key)


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        builtin = 0
        for ep in _entry_points():
            try:
                obj = ep.load()
            except Exception as exc:  # one broken plug-in must not hide the catalog
                warnings.warn(
                    f"uniml adapter plug-in {ep.name!r} ({ep.value}) failed to load: {exc!r}",
                    UnimlWarning,
                    stacklevel=3,
                )
                continue
            if isinstance(obj, type):
                register(obj)
            if ep.dist is not None and ep.dist.name == "uniml":
                builtin += 1
        if builtin == 0:
            # a source tree on sys.path without installed metadata declares no entry points
            warnings.warn(
                "none of uniml's own adapters were found in the 'uniml.adapters' entry-point "
                "group: uniml is not installed (run `pip install -e .` in a source checkout)",
                UnimlWarning,
                stacklevel=3,
            )
        _loaded = True


def get_adapter_class(name: str) -> type[Adapter]:
    """The adapter class registered under ``name``.

    Parameters
    ----------
    name : str
        Catalog name, e.g. ``"xgboost.classifier"``.

    Returns
    -------
    type
        The registered :class:`~uniml.Adapter` subclass (not instantiated,
        its library not imported).

    Raises
    ------
    AdapterNotFoundError
        Listing the closest registered names.

    Examples
    --------
    >>> get_adapter_class("xgboost.classifier").__name__
    'XGBoostClassifier'
    """
    _ensure_loaded()
    try:
        return _registry[name]
    except KeyError:
        pass
    close = difflib.get_close_matches(str(name), list(_registry), n=3, cutoff=0.5)
    hint = (
        f"did you mean {' or '.join(repr(c) for c in close)}?"
        if close
        else f"registered adapters: {sorted(_registry)}"
    )
    raise AdapterNotFoundError(f"no adapter named {name!r}; {hint}") from None


def make(name: str, **params: Any) -> Adapter:
    """Build an adapter by catalog name.

    Parameters
    ----------
    name : str
        Catalog name, e.g. ``"lightgbm.regressor"``.
    **params
        Constructor parameters, passed unchanged.

    Returns
    -------
    Adapter
        An unfitted adapter.

    Raises
    ------
    AdapterNotFoundError
        Unknown name (the message lists close matches).
    MissingDependencyError
        The wrapped library is not installed (the message gives the
        ``pip install`` command).

    Examples
    --------
    >>> import uniml
    >>> uniml.make("lightgbm.regressor", n_estimators=50, learning_rate=0.1)
    LightGBMRegressor(learning_rate=0.1, n_estimators=50)
    """
    cls = get_adapter_class(name)
    cls.check_installed()  # the library itself is imported at fit, not here
    try:
        return cls(
            **params
        )  # hyperparameter names are checked at fit (the library is imported there)
    except TypeError as exc:
        # an adapter with a fixed constructor (e.g. sklearn.estimator) refuses unknown keywords
        # with a bare TypeError: name the keyword and the ones it takes instead
        import difflib
        import inspect

        from uniml.core.errors import UnknownParameterError

        accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        unknown = [k for k in params if k not in accepted]
        if not unknown:
            raise
        close = difflib.get_close_matches(unknown[0], accepted, n=3, cutoff=0.6)
        raise UnknownParameterError(
            f"{name}: unknown parameter {unknown[0]!r}; it takes {accepted}",
            parameter=unknown[0],
            suggestions=close,
        ) from exc


def catalog() -> pd.DataFrame:
    """List every registered adapter.

    Returns
    -------
    pandas.DataFrame
        One row per adapter with columns ``name``, ``task``, ``library``,
        ``installed``, ``version`` (of the installed library), ``extra``
        (what to ``pip install``), ``explanation`` and ``persistence``.

    See Also
    --------
    adapters : the same listing under the name DESIGN.md first gave it.

    Examples
    --------
    >>> import uniml
    >>> uniml.catalog().columns.tolist()[:5]
    ['name', 'task', 'library', 'installed', 'version']
    """
    import pandas as pd

    _ensure_loaded()
    rows = [cls.info() for cls in sorted(_registry.values(), key=lambda c: c.name)]
    columns = [
        "name",
        "task",
        "library",
        "installed",
        "version",
        "extra",
        "explanation",
        "persistence",
    ]
    return pd.DataFrame(rows, columns=columns)


def adapters() -> pd.DataFrame:
    """List every registered adapter: the same table as :func:`catalog`.

    ``uniml.adapters()`` is the name DESIGN.md first gave the listing;
    :func:`catalog` is the plain function to prefer in new code.

    Returns
    -------
    pandas.DataFrame
        One row per adapter (see :func:`catalog`).

    Examples
    --------
    >>> import uniml
    >>> uniml.adapters().equals(uniml.catalog())
    True
    """
    return catalog()


def missing_dependency(cls: type[Adapter]) -> MissingDependencyError | None:
    """The error that :func:`make` would raise for ``cls``, or None when its library is installed."""
    try:
        cls.check_installed()
    except MissingDependencyError as exc:
        return exc
    return None
