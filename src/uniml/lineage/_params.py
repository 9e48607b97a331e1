"""Flattening an adapter's parameters for MLflow (nested estimators and dicts included).

Examples
--------
>>> flat = flatten_params({"a": 1, "inner": {"b": 2, "c": {"d": "x"}}})
>>> flat
{'a': 1, 'inner.b': 2, 'inner.c.d': 'x'}
>>> unflatten_params(flat) == {"a": 1, "inner": {"b": 2, "c": {"d": "x"}}}
True
"""

from __future__ import annotations

import json

__all__ = [
    "adapter_params",
    "flatten_params",
    "library_defaults",
    "mlflow_params",
    "param_value",
    "unflatten_params",
]

#: MLflow's limits (mlflow.utils.validation): 6000 characters per param value, 250 per key
MAX_VALUE = 6000
MAX_KEY = 250
TRUNCATED = "...[truncated by uniml: {n} characters in all]"


def flatten_params(params: dict, sep: str = ".", prefix: str = "") -> dict:
    """Flatten nested dicts into ``sep``-joined keys; leaves (and empty dicts) are kept as is.

    Parameters
    ----------
    params : dict
    sep : str
    prefix : str

    Returns
    -------
    dict

    Examples
    --------
    >>> flatten_params({"x": {}, "y": {"z": [1]}})
    {'x': {}, 'y.z': [1]}
    """
    out: dict = {}
    for key, value in params.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
            out.update(flatten_params(value, sep, full + sep))
        else:
            out[full] = value
    return out


def unflatten_params(flat: dict, sep: str = ".") -> dict:
    """Inverse of :func:`flatten_params` (for keys that do not contain ``sep`` themselves).

    Parameters
    ----------
    flat : dict
    sep : str

    Returns
    -------
    dict

    Examples
    --------
    >>> unflatten_params({"a.b": 1, "a.c": 2, "d": 3})
    {'a': {'b': 1, 'c': 2}, 'd': 3}
    """
    out: dict = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(sep)
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _describe(value):
    """JSON-able stand-in for a parameter value (estimators become their class path)."""
    from uniml.core.persistence import to_jsonable

    if hasattr(value, "get_params") and not isinstance(value, type):
        return f"{type(value).__module__}.{type(value).__qualname__}"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _describe(v) for k, v in value.items()}
    encoded = to_jsonable(value)
    if isinstance(encoded, dict) and set(encoded) == {"__repr__"}:
        return encoded["__repr__"]
    return encoded


def adapter_params(adapter) -> dict:
    """An adapter's effective parameter set, flattened: the explicit ones, the library's
    defaults after fit (:func:`library_defaults`), nested estimators (``est__alpha``) and dicts.

    Parameters
    ----------
    adapter : uniml.Adapter

    Returns
    -------
    dict
        JSON-able values; an estimator parameter is recorded as its class path
        and its own parameters appear under ``<name>__<param>``.

    Examples
    --------
    >>> import uniml
    >>> from sklearn.linear_model import Ridge
    >>> p = adapter_params(uniml.make("sklearn.estimator", estimator=Ridge(alpha=2.0)))
    >>> p["estimator"], p["estimator__alpha"]
    ('sklearn.linear_model._ridge.Ridge', 2.0)
    """
    try:
        raw = adapter.get_params(deep=True)
    except Exception:  # an adapter whose nested objects do not support deep params
        raw = adapter.get_params(deep=False)
    raw = {**library_defaults(adapter, raw), **raw}
    return flatten_params({str(k): _describe(v) for k, v in sorted(raw.items())})


#: fitted attributes where adapters keep the wrapped library's scikit-learn-style estimator
_FITTED = ("model_", "estimator_")


def library_defaults(adapter, explicit: dict | None = None) -> dict:
    """The effective parameters of the fitted library object, library defaults included.

    ``uniml.make("lightgbm.regressor", n_estimators=100)`` only knows ``n_estimators``;
    after fit, the wrapped ``LGBMRegressor``'s ``get_params()`` also lists
    ``num_leaves=31`` and every other default the library applied. An estimator
    held in an adapter parameter (``sklearn.estimator``'s ``estimator``) gets its
    parameters under ``<name>__``. Empty before fit, or for libraries without
    ``get_params``.

    Parameters
    ----------
    adapter : uniml.Adapter
    explicit : dict, optional
        The adapter's own ``get_params(deep=True)``.

    Returns
    -------
    dict

    Examples
    --------
    >>> import uniml
    >>> from sklearn.linear_model import Ridge
    >>> from uniml.testing import make_tabular_data
    >>> X, y = make_tabular_data("regression", n=30, seed=0)
    >>> m = uniml.make("sklearn.estimator", estimator=Ridge()).fit(X, y)
    >>> library_defaults(m)["estimator__alpha"] == Ridge().alpha
    True
    """
    explicit = adapter.get_params(deep=False) if explicit is None else explicit
    out: dict = {}
    for attr in _FITTED:
        fitted = getattr(adapter, attr, None)
        if fitted is None or not hasattr(fitted, "get_params") or isinstance(fitted, type):
            continue
        try:
            params = fitted.get_params(deep=True)
        except Exception:
            continue
        owner = attr.rstrip("_")
        prefix = f"{owner}__" if hasattr(explicit.get(owner), "get_params") else ""
        out.update({f"{prefix}{k}": v for k, v in params.items()})
    return out


def param_value(value) -> str:
    """A parameter value as MLflow stores it: a string of at most 6000 characters.

    Longer values are cut with a marker saying so (never an error).

    Parameters
    ----------
    value : object

    Returns
    -------
    str

    Examples
    --------
    >>> param_value([1, 2]), param_value(None)
    ('[1, 2]', 'None')
    >>> long = param_value("x" * 7000)
    >>> len(long) <= 6000, long.endswith("7000 characters in all]")
    (True, True)
    """
    if isinstance(value, (list, dict)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    if len(text) > MAX_VALUE:
        marker = TRUNCATED.format(n=len(text))
        text = text[: MAX_VALUE - len(marker)] + marker
    return text


def mlflow_params(params: dict) -> dict[str, str]:
    """Flat params with MLflow-safe keys (:mod:`uniml.lineage._names`, <= 250) and string values.

    Parameters
    ----------
    params : dict

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> mlflow_params({"a b": 1, "k" * 300: "v"})["a b"]
    '1'
    >>> max(len(k) for k in mlflow_params({"k" * 300: "v"}))
    250
    """
    from uniml.lineage._names import mlflow_key

    return {mlflow_key(str(k)): param_value(v) for k, v in flatten_params(params).items()}
