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

import hashlib
import json
import re

__all__ = ["adapter_params", "flatten_params", "mlflow_params", "param_value", "unflatten_params"]

#: MLflow's limits (mlflow.utils.validation): 6000 characters per param value, 250 per key
MAX_VALUE = 6000
MAX_KEY = 250
TRUNCATED = "...[truncated by uniml: {n} characters in all]"
_BAD_KEY_CHARS = re.compile(r"[^\w\-. /:]")


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
    """An adapter's full parameter set, flattened: nested estimators (``est__alpha``) and dicts.

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
    return flatten_params({str(k): _describe(v) for k, v in raw.items()})


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


def _param_key(key: str) -> str:
    key = _BAD_KEY_CHARS.sub("_", key)
    if len(key) > MAX_KEY:
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        key = key[: MAX_KEY - 13] + "-" + digest
    return key


def mlflow_params(params: dict) -> dict[str, str]:
    """Flat params with MLflow-safe keys (allowed characters, <= 250) and string values.

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
    return {_param_key(str(k)): param_value(v) for k, v in flatten_params(params).items()}
