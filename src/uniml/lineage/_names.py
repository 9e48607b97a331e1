"""The one mapping from uniml's metric, parameter and tag names to names MLflow accepts.

MLflow accepts names made of letters, digits, ``_ . - space`` (and, except on
Windows, ``/`` and ``:``) that do not look like a path (no leading ``.``/``/``).
uniml's own names are freer: ``ndcg@10_mean``, a gate called ``auc>=0.8``, a
parameter of a library that uses ``[]``. Every name lineage sends to MLflow
(metrics, params, tags; fits, evaluations and model cards alike) goes through
:func:`mlflow_name`, and :func:`original_name` turns a stored name back:

=====================  ===============================================
uniml name             MLflow name
=====================  ===============================================
``@``                  ``_at_`` (``ndcg@10`` becomes ``ndcg_at_10``)
any other character    ``_u<hex code point>_`` (``%`` becomes ``_u25_``)
outside ``[A-Za-z0-9_.- ]``, a leading ``.``
``_`` that would read  ``_u5f_`` (so ``a_at_b`` survives the round trip)
as an escape
=====================  ===============================================

The mapping is reversible: ``original_name(mlflow_name(s)) == s`` for every
string ``s`` (a property test checks it). Only names longer than MLflow's 250
characters lose information: they are cut and end in a 12-character sha256
of the full name (:func:`mlflow_key`).

Examples
--------
>>> mlflow_name("ndcg@10_mean")
'ndcg_at_10_mean'
>>> original_name("ndcg_at_10_mean")
'ndcg@10_mean'
>>> mlflow_name("a_at_b"), original_name(mlflow_name("a_at_b"))
('a_u5f_at_b', 'a_at_b')
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_KEY", "is_valid", "mlflow_key", "mlflow_name", "original_name"]

#: MLflow's limit on a param / metric / tag name (mlflow.utils.validation)
MAX_KEY = 250
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.- ")
_ESCAPE = re.compile(r"_at_|_u([0-9a-f]{1,6})_")
_VALID = re.compile(r"^[A-Za-z0-9_.\- ]*$")


def _escape(char: str) -> str:
    return "_at_" if char == "@" else f"_u{ord(char):x}_"


def mlflow_name(name: str) -> str:
    """The MLflow-valid name for ``name`` (see the module table); reversible.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Examples
    --------
    >>> mlflow_name("recall@5"), mlflow_name("..x"), mlflow_name("r²")
    ('recall_at_5', '_u2e_.x', 'r_ub2_')
    """
    name = str(name)
    # right to left: whether a literal "_" must be escaped depends on what follows it *encoded*
    out: list[str] = []
    suffix = ""
    for i in range(len(name) - 1, -1, -1):
        char = name[i]
        if char not in _SAFE or (char == "." and i == 0):
            token = _escape(char)
        elif char == "_" and _ESCAPE.match("_" + suffix):
            token = _escape(char)
        else:
            token = char
        out.append(token)
        suffix = token + suffix
    return suffix


def original_name(name: str) -> str:
    """Inverse of :func:`mlflow_name`.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Examples
    --------
    >>> original_name("recall_at_5"), original_name("r_ub2_")
    ('recall@5', 'r²')
    """

    def back(match: re.Match) -> str:
        if match.group(1) is None:
            return "@"
        code = int(match.group(1), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)  # not ours: keep as is

    return _ESCAPE.sub(back, str(name))


def is_valid(name: str) -> bool:
    """Whether MLflow accepts ``name`` on every platform (the check before spooling).

    Examples
    --------
    >>> is_valid("ndcg_at_10"), is_valid("ndcg@10"), is_valid(".hidden")
    (True, False, False)
    """
    name = str(name)
    return bool(name) and len(name) <= MAX_KEY and bool(_VALID.match(name)) and name[0] != "."


def mlflow_key(name: str) -> str:
    """:func:`mlflow_name`, cut to MLflow's 250 characters with a hash of the full name.

    Examples
    --------
    >>> len(mlflow_key("k" * 300)), mlflow_key("a@b")
    (250, 'a_at_b')
    """
    key = mlflow_name(name)
    if len(key) > MAX_KEY:
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        key = key[: MAX_KEY - 13] + "-" + digest
    return key
