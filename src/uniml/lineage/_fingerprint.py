"""Content fingerprints of training data.

Definition (stable across processes, machines and pandas versions of the
same dtype)::

    fingerprint = sha256( header || digest(column_1) || ... || digest(column_n) )
    header      = JSON list of [column name, dtype] in column order, plus n_rows
    digest(c)   = sha256 of the column's values in row order:
                  numbers, booleans, datetimes -> their raw little-endian bytes
                  categoricals                 -> the categories' hashes, then the codes
                  strings / objects / nullable -> pandas' 64-bit value hashes

What it is and is not sensitive to:

* **Row index invariant** — the index labels are not hashed: the same rows
  under a reset, shuffled-label or string index give the same fingerprint.
  The index is bookkeeping; models never see it.
* **Row order sensitive** — the same rows in another order give another
  fingerprint (order matters to forecasters and to any seeded fit, and
  sorting a large frame would cost more than the hash).
* **Column name, order and dtype sensitive** — they are part of the schema.
* The target, when given, is hashed as one more column named ``__target__``.

Examples
--------
>>> import pandas as pd
>>> a = pd.DataFrame({"x": [1.0, 2.0], "s": ["u", "v"]})
>>> b = a.set_axis(["r1", "r2"])
>>> fingerprint(a) == fingerprint(b)
True
>>> fingerprint(a) == fingerprint(a.assign(x=[1.0, 2.5]))
False
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

__all__ = ["column_digests", "fingerprint", "to_frame"]

TARGET_COLUMN = "__target__"


def to_frame(X, y=None) -> pd.DataFrame:
    """``X`` (and ``y`` as column ``__target__``) as a DataFrame; arrays get columns ``x0``...

    Parameters
    ----------
    X : pandas.DataFrame, numpy array, or scipy sparse matrix
    y : pandas.Series or array-like, optional

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> to_frame(np.zeros((2, 2)), [1, 2]).columns.tolist()
    ['x0', 'x1', '__target__']
    """
    if hasattr(X, "toarray"):  # sparse: hash the dense values (lineage only)
        X = X.toarray()
    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        X = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    if y is None:
        return X
    values = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    out = X.copy(deep=False)
    out[TARGET_COLUMN] = values
    return out


def _column_digest(col: pd.Series) -> str:
    h = hashlib.sha256()
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        h.update(pd.util.hash_array(np.asarray(dtype.categories, dtype=object)).tobytes())
        h.update(np.ascontiguousarray(col.cat.codes.to_numpy()).tobytes())
    elif isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        values = np.ascontiguousarray(col.to_numpy())
        h.update(values.view(np.uint8).reshape(-1).data if values.size else b"")
    else:  # strings, objects and pandas extension dtypes (nullable ints, arrow, str)
        values = np.asarray(col.to_numpy(dtype=object, na_value=None), dtype=object)
        h.update(np.asarray(pd.isna(values)).tobytes())
        filled = np.where(pd.isna(values), "", values)
        h.update(pd.util.hash_array(filled.astype(object)).tobytes())
    return h.hexdigest()


def column_digests(X, y=None) -> dict[str, str]:
    """sha256 of each column's values (see the module docstring), keyed by column name.

    Parameters
    ----------
    X, y
        As for :func:`fingerprint`.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> import pandas as pd
    >>> d = column_digests(pd.DataFrame({"a": [1, 2], "b": [3, 4]}))
    >>> sorted(d), len(d["a"])
    (['a', 'b'], 64)
    """
    frame = to_frame(X, y)
    return {str(name): _column_digest(frame.iloc[:, i]) for i, name in enumerate(frame.columns)}


def fingerprint(X, y=None) -> str:
    """Content fingerprint (64 hex characters) of a training frame and its target.

    Parameters
    ----------
    X : pandas.DataFrame or array-like
        Features (or a whole long-format frame for forecasting/causal/recommendation).
    y : pandas.Series or array-like, optional
        Target, hashed as one more column.

    Returns
    -------
    str
        Hex sha256; invariant to the row index, sensitive to every value, to
        row and column order, and to column names and dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> fingerprint(X, [0, 1, 0]) == fingerprint(X.copy(), np.array([0, 1, 0]))
    True
    >>> fingerprint(X, [0, 1, 0]) == fingerprint(X, [0, 1, 1])
    False
    """
    frame = to_frame(X, y)
    header = json.dumps(
        {
            "columns": [[str(c), str(t)] for c, t in zip(frame.columns, frame.dtypes, strict=True)],
            "rows": int(len(frame)),
        },
        separators=(",", ":"),
    )
    h = hashlib.sha256(header.encode())
    for digest in column_digests(frame).values():
        h.update(bytes.fromhex(digest))
    return h.hexdigest()
