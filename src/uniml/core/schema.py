"""Input schema: captured at ``fit``, enforced at ``predict`` and ``explain``.

A :class:`Schema` records the column names, their order, a dtype *kind* per
column and the levels of categorical columns. :meth:`Schema.enforce` checks a
new input against it and raises :class:`~uniml.SchemaError` naming the first
offending column. It never reorders, renames, drops or casts columns; the one
transformation it performs is re-coding a categorical column whose dtype lists
the same values in another order (or a superset of unused values) onto the
fitted dtype, which changes no value.

Dtype kinds and what each accepts at predict time:

========== ===============================================================
kind       accepted at predict
========== ===============================================================
float      float, integer, bool (lossless widening)
integer    integer, bool
bool       bool
category   category whose used values are all fitted levels
string     string (numpy object or pandas ``str``/``string`` dtype)
datetime   datetime (any resolution; time zones must match)
other      the identical dtype
========== ===============================================================

Examples
--------
>>> import pandas as pd
>>> from uniml.core.schema import Schema
>>> schema = Schema.capture(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
>>> schema.names
('a', 'b')
>>> schema.enforce(pd.DataFrame({"b": ["x"], "a": [1.0]}))
Traceback (most recent call last):
...
uniml.core.errors.SchemaError: column 'b' is out of order: expected column 0 to be 'a', got 'b'; reorder with X[model.schema_.names] (expected order: ['a', 'b'])
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from uniml.core.errors import DataQualityWarning, SchemaError

__all__ = ["Column", "Schema", "dtype_kind"]

_ACCEPTS = {
    "float": {"float", "integer", "bool"},
    "integer": {"integer", "bool"},
    "bool": {"bool"},
    "category": {"category"},
    "string": {"string"},
    "datetime": {"datetime"},
}
_NUMPY_KINDS = {"f": "float", "i": "integer", "u": "integer", "b": "bool", "M": "datetime"}
_MAX_SHOWN = 5


def dtype_kind(dtype) -> str:
    """Classify a numpy or pandas dtype into a schema kind.

    Parameters
    ----------
    dtype : numpy or pandas dtype

    Returns
    -------
    str
        One of ``float``, ``integer``, ``bool``, ``category``, ``string``,
        ``datetime``, ``other``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> dtype_kind(np.dtype("float32")), dtype_kind(pd.CategoricalDtype(["a"]))
    ('float', 'category')
    """
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, np.dtype):
        if dtype.kind == "O" or dtype.kind in "US":
            return "string"
        return _NUMPY_KINDS.get(dtype.kind, "other")
    # pandas extension dtypes: nullable Int64/Float64/boolean, str/string, tz-aware datetimes
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime"
    kind = getattr(dtype, "kind", None)
    if not isinstance(kind, str):
        return "other"
    return _NUMPY_KINDS.get(kind, "string" if kind == "O" else "other")


def _listing(values) -> str:
    """scikit-learn's bulleted list of feature names (first few, then "...")."""
    values = list(values)
    lines = [f"- {v}\n" for v in values[:_MAX_SHOWN]]
    return "".join(lines) + ("- ...\n" if len(values) > _MAX_SHOWN else "")


def _show(values) -> str:
    values = list(values)
    head = ", ".join(repr(v) for v in values[:_MAX_SHOWN])
    return f"[{head}{', ...' if len(values) > _MAX_SHOWN else ''}]"


def _plain(value):
    """A JSON-friendly Python scalar for a numpy/pandas scalar."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Schema`.

    Parameters
    ----------
    name : str or int
        Column label.
    dtype : str
        The dtype's name at fit time (``"float64"``, ``"category"``...).
    kind : str
        Dtype kind (see :func:`dtype_kind`).
    categories : tuple or None
        Fitted levels of a categorical column, in order.
    ordered : bool
        Whether the categorical is ordered.
    missing : bool or None
        Whether the column held missing values (NaN/None/NaT) at fit; None when
        unknown (schemas saved before this was recorded).
    range : tuple of float or None
        ``(min, max)`` of a numeric (float or integer) column at fit, ignoring
        missing values: the training range that serving's skew counters compare
        live values with. None when unknown or not numeric.

    Examples
    --------
    >>> Column("price", "float64", "float")
    Column(name='price', dtype='float64', kind='float', categories=None, ordered=False, missing=None, range=None)
    """

    name: Any
    dtype: str
    kind: str
    categories: tuple | None = None
    ordered: bool = False
    missing: bool | None = None
    range: tuple | None = None

    def categorical_dtype(self) -> pd.CategoricalDtype:
        """The fitted ``CategoricalDtype`` (categorical columns only).

        Returns
        -------
        pandas.CategoricalDtype
            The fitted levels, in order, and whether they are ordered.

        Raises
        ------
        TypeError
            The column is not categorical.

        Examples
        --------
        >>> Column("c", "category", "category", ("a", "b")).categorical_dtype()
        CategoricalDtype(categories=['a', 'b'], ordered=False, categories_dtype=str)
        """
        if self.categories is None:
            raise TypeError(f"column {self.name!r} is not categorical (kind {self.kind!r})")
        return pd.CategoricalDtype(list(self.categories), ordered=self.ordered)


@dataclass(frozen=True)
class Schema:
    """Column names, order, dtype kinds and categorical levels of a model's input.

    Build one with :meth:`capture`; check inputs with :meth:`enforce`.

    Parameters
    ----------
    columns : tuple of Column
    from_array : bool
        True when captured from an array (names are positional ``x0, x1, ...``).

    Examples
    --------
    >>> import numpy as np
    >>> Schema.capture(np.zeros((3, 2))).names
    ('x0', 'x1')
    """

    columns: tuple[Column, ...]
    from_array: bool = False
    _index: pd.Index = field(init=False, repr=False, compare=False)
    _by_name: dict = field(init=False, repr=False, compare=False)
    _name_list: list = field(init=False, repr=False, compare=False)
    _names: tuple = field(init=False, repr=False, compare=False)
    _categorical: tuple = field(init=False, repr=False, compare=False)
    _block_kinds: frozenset = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", pd.Index([c.name for c in self.columns], dtype=object))
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})
        object.__setattr__(self, "_name_list", [c.name for c in self.columns])
        object.__setattr__(self, "_names", tuple(self._name_list))
        cats = tuple(c.name for c in self.columns if c.kind == "category")
        object.__setattr__(self, "_categorical", cats)
        kinds = {c.kind for c in self.columns}
        # the dtype kinds a single homogeneous block may have and pass without per-column checks
        numeric = kinds and kinds <= {"float", "integer", "bool"}
        fast = set.intersection(*(_ACCEPTS[k] for k in kinds)) if numeric else set()
        object.__setattr__(self, "_block_kinds", frozenset(fast))

    # ------------------------------------------------------------------ capture
    @classmethod
    def capture(cls, X) -> Schema:
        """Record the schema of a DataFrame or 2-D array.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        Schema

        Raises
        ------
        SchemaError
            If column names are duplicated or not all strings/integers, or
            ``X`` is not two-dimensional.

        Examples
        --------
        >>> import pandas as pd
        >>> s = Schema.capture(pd.DataFrame({"c": pd.Categorical(["a", "b"])}))
        >>> s.columns[0].categories
        ('a', 'b')
        """
        if isinstance(X, pd.DataFrame):
            names = list(X.columns)
            if X.columns.has_duplicates:
                dup = X.columns[X.columns.duplicated()][0]
                raise SchemaError(f"column {dup!r} appears more than once", column=dup)
            for name in names:
                if not isinstance(name, (str, int, np.integer)) or isinstance(name, bool):
                    raise SchemaError(
                        f"column {name!r}: column names must be strings or integers, "
                        f"got {type(name).__name__}",
                        column=name,
                    )
            cols = []
            for name, dtype in zip(names, X.dtypes, strict=True):
                if getattr(dtype, "kind", None) == "c":
                    raise SchemaError(f"column {name!r}: Complex data not supported", column=name)
            missing = X.isna().any(axis=0).to_numpy() if len(X) else [None] * len(names)
            for name, dtype, nan in zip(names, X.dtypes, missing, strict=True):
                kind = dtype_kind(dtype)
                nan = None if nan is None else bool(nan)
                if kind == "category":
                    cats = tuple(_plain(v) for v in dtype.categories)
                    cols.append(
                        Column(_plain(name), "category", kind, cats, bool(dtype.ordered), nan)
                    )
                else:
                    span = _range(X[name]) if kind in ("float", "integer") else None
                    cols.append(Column(_plain(name), str(dtype), kind, missing=nan, range=span))
            return cls(tuple(cols), from_array=False)
        arr = _as_2d_array(X)
        if arr.dtype.kind == "c":
            raise SchemaError(f"Complex data not supported (dtype {arr.dtype})")
        kind = dtype_kind(arr.dtype)
        nans: list[bool | None]
        if arr.dtype.kind == "f" and len(arr):
            nans = [bool(v) for v in np.isnan(arr).any(axis=0)]
        else:
            nans = [None] * arr.shape[1]
        numeric = kind in ("float", "integer")
        return cls(
            tuple(
                Column(
                    f"x{i}",
                    str(arr.dtype),
                    kind,
                    missing=nans[i],
                    range=_range(arr[:, i]) if numeric else None,
                )
                for i in range(arr.shape[1])
            ),
            from_array=True,
        )

    # ------------------------------------------------------------- properties
    @property
    def names(self) -> tuple:
        """Column names in fitted order."""
        return self._names

    @property
    def column_index(self) -> pd.Index:
        """The column names as one shared, immutable ``pandas.Index`` (object dtype).

        A frame built with ``columns=schema.column_index`` passes the column check by
        identity, without comparing names (what the scoring service does per request).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> s = Schema.capture(pd.DataFrame({"a": [1.0], "b": [2.0]}))
        >>> X = pd.DataFrame(np.zeros((1, 2)), columns=s.column_index)
        >>> s.enforce(X) is X, list(s.column_index)
        (True, ['a', 'b'])
        """
        return self._index

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return len(self.columns)

    @property
    def categorical(self) -> tuple:
        """Names of categorical columns."""
        return self._categorical

    def __getitem__(self, name) -> Column:
        return self._by_name[name]

    # ---------------------------------------------------------------- enforce
    def enforce(self, X, *, owner: str = "the model"):
        """Check ``X`` against the schema and return it ready for the model.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
        owner : str, optional
            Name of the estimator enforcing the schema, used in error messages.

        Returns
        -------
        pandas.DataFrame or numpy.ndarray
            ``X`` itself, or (only when a categorical dtype lists the fitted
            values differently) a shallow copy with those columns re-coded
            onto the fitted categories. Arrays come back as 2-D ndarrays.

        Raises
        ------
        SchemaError
            Missing, extra, renamed or reordered columns; a dtype of another
            kind; unseen categorical levels. The message names the column.

        Examples
        --------
        >>> import pandas as pd
        >>> s = Schema.capture(pd.DataFrame({"a": [1.0]}))
        >>> s.enforce(pd.DataFrame({"a": ["1"]}))
        Traceback (most recent call last):
        ...
        uniml.core.errors.SchemaError: column 'a': expected dtype kind 'float' (fitted as float64), got 'string' (str)
        """
        if isinstance(X, pd.DataFrame):
            if self.from_array:
                return self._enforce_array(X.to_numpy(), owner)
            return self._enforce_frame(X)
        if isinstance(X, pd.Series):
            raise SchemaError(
                f"expected a 2-D table with columns {_show(self.names)}, got a Series "
                f"(use series.to_frame().T for one row)",
                column=X.name,
            )
        if not self.from_array:
            raise SchemaError(
                f"the model was fitted on a DataFrame with named columns; pass a DataFrame with "
                f"columns {_show(self.names)} instead of {type(X).__name__} so that columns can "
                f"be checked by name",
                column=self.columns[0].name if self.columns else None,
                expected=self.names,
            )
        return self._enforce_array(X, owner)

    def _enforce_array(self, X, owner: str = "the model") -> np.ndarray:
        arr = _as_2d_array(X)
        if arr.shape[1] != len(self.columns):
            n, got = len(self.columns), arr.shape[1]
            what = (
                f"column 'x{n}' was not seen at fit" if got > n else f"column 'x{got}' is missing"
            )
            raise SchemaError(
                f"X has {got} features, but {owner} is expecting {n} features as input: "
                f"{what} (expected x0..x{n - 1})",
                column=f"x{min(arr.shape[1], len(self.columns))}",
                expected=len(self.columns),
                got=arr.shape[1],
            )
        if self.columns:
            self._check_kind(self.columns[0], arr.dtype)
        if (
            arr.dtype.kind == "f"
            and arr.size
            and not math.isfinite(np.add.reduce(arr, axis=None))
            and np.isnan(arr).any()
        ):
            self._warn_all_missing(np.isnan(arr).all(axis=0))
        return arr

    def _enforce_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        columns = X.columns
        # Index objects are immutable: one that matched once matches again (identity test,
        # no per-call comparison of a pandas-3 string index)
        if columns is not self.__dict__.get("_accepted") and columns is not self._index:
            if not self._same_names(columns):
                self._raise_column_mismatch(list(columns))
            self.__dict__["_accepted"] = columns
        # Fast path: one homogeneous numeric block whose kind every column accepts.
        mgr = getattr(X, "_mgr", None)
        blocks = getattr(mgr, "blocks", None)
        if (
            blocks is not None
            and len(blocks) == 1
            and self._block_kinds
            and dtype_kind(blocks[0].dtype) in self._block_kinds
        ):
            values = blocks[0].values
            if isinstance(values, np.ndarray):
                # a finite sum means no NaN (one cheap reduction); only else look per column
                if (
                    values.dtype.kind == "f"
                    and values.size
                    and not math.isfinite(np.add.reduce(values, axis=None))
                    and np.isnan(values).any()
                ):
                    self._warn_all_missing(np.isnan(values).all(axis=1))
                return X
        recode = {}
        for col, dtype in zip(self.columns, X.dtypes, strict=True):
            self._check_kind(col, dtype)
            if col.kind == "category":
                target = col.categorical_dtype()
                # CategoricalDtype equality ignores the level order of unordered categoricals,
                # but that order fixes the codes: re-code unless the levels are identical
                if dtype != target or not dtype.categories.equals(target.categories):
                    self._check_levels(col, X[col.name])
                    recode[col.name] = target
        if len(X) and any(c.missing is False for c in self.columns):
            self._warn_all_missing(X.isna().all(axis=0).to_numpy())
        if recode:
            # not X.astype(recode): pandas skips the cast when the dtypes compare equal
            X = X.copy(deep=False)
            for name, target in recode.items():
                X[name] = X[name].cat.set_categories(target.categories, ordered=target.ordered)
        return X

    def _same_names(self, columns: pd.Index) -> bool:
        if len(columns) != len(self.columns):
            return False
        if columns.dtype == object:
            return bool(columns.equals(self._index))
        # a pandas-3 ``str`` index: compare its values as Python objects, once
        return list(columns.to_numpy(dtype=object)) == self._name_list

    def _warn_all_missing(self, all_missing) -> None:
        """Warn for columns entirely missing now that held no missing value at fit."""
        for col, now in zip(self.columns, all_missing, strict=True):
            if now and col.missing is False:
                warnings.warn(
                    DataQualityWarning(
                        f"column {col.name!r} is entirely missing (NaN) in this input but had "
                        f"no missing values at fit; an upstream join or rename probably failed "
                        f"(the model still predicts, routing every row down its missing-value "
                        f"branches)",
                        column=col.name,
                    ),
                    stacklevel=5,
                )

    def _check_kind(self, col: Column, dtype) -> None:
        kind = dtype_kind(dtype)
        accepted = _ACCEPTS.get(col.kind)
        ok = kind in accepted if accepted is not None else str(dtype) == col.dtype
        if ok and col.kind == "datetime":
            # tz-aware dtypes print as "datetime64[ns, UTC]": awareness must match
            ok = (getattr(dtype, "tz", None) is None) == ("," not in col.dtype)
        if not ok:
            raise SchemaError(
                f"column {col.name!r}: expected dtype kind {col.kind!r} (fitted as {col.dtype}), "
                f"got {kind!r} ({dtype})",
                column=col.name,
                expected=col.dtype,
                got=str(dtype),
            )

    def _check_levels(self, col: Column, values: pd.Series) -> None:
        cats = values.cat.categories
        codes = values.cat.codes.to_numpy()
        used = cats[np.unique(codes[codes >= 0])]
        unseen = [_plain(v) for v in used if v not in self._level_set(col)]
        if unseen:
            raise SchemaError(
                f"column {col.name!r}: unseen categories {_show(unseen)}; fitted levels are "
                f"{_show(col.categories)}",
                column=col.name,
                expected=col.categories,
                got=tuple(unseen),
            )

    def _level_set(self, col: Column) -> frozenset:
        cache = self.__dict__.setdefault("_levels_cache", {})
        if col.name not in cache:
            cache[col.name] = frozenset(col.categories or ())
        return cache[col.name]

    def _raise_column_mismatch(self, got: list) -> None:
        counts = pd.Index(got).value_counts()
        dup = [c for c in got if counts[c] > 1]
        if dup:
            raise SchemaError(
                f"column {dup[0]!r} appears more than once in X; every column name must be "
                f"unique (expected columns {_show(list(self.names))})",
                column=dup[0],
                got=list(got),
            )
        expected = list(self.names)
        got_set, exp_set = set(got), set(expected)
        missing = [c for c in expected if c not in got_set]
        extra = [c for c in got if c not in exp_set]
        # scikit-learn's wording is kept only as the cause (``err.__cause__``): the message is ours
        detail = "The feature names should match those that were passed during fit.\n"
        if extra:
            detail += "Feature names unseen at fit time:\n" + _listing(extra)
        if missing:
            detail += "Feature names seen at fit time, yet now missing:\n" + _listing(missing)
        if missing and extra and len(missing) == len(extra) == 1:
            err = SchemaError(
                f"column {missing[0]!r} is missing and column {extra[0]!r} is unexpected "
                f"(renamed?); expected columns {_show(expected)}",
                column=missing[0],
                expected=missing[0],
                got=extra[0],
            )
        elif missing:
            err = SchemaError(
                f"column {missing[0]!r} is missing"
                + (
                    f" (and {len(missing) - 1} more: {_show(missing[1:])})"
                    if len(missing) > 1
                    else ""
                )
                + f"; expected columns {_show(expected)}",
                column=missing[0],
                expected=tuple(expected),
                got=tuple(got),
            )
        elif extra:
            err = SchemaError(
                f"column {extra[0]!r} was not seen at fit"
                + (f" (and {len(extra) - 1} more: {_show(extra[1:])})" if len(extra) > 1 else "")
                + "; drop it or refit",
                column=extra[0],
                expected=tuple(expected),
                got=tuple(got),
            )
        elif len(got) != len(expected):
            dup_name = next(c for c in got if got.count(c) > 1)
            raise SchemaError(f"column {dup_name!r} appears more than once", column=dup_name)
        else:
            pos = next(i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b)
            detail += "Feature names must be in the same order as they were in fit.\n"
            err = SchemaError(
                f"column {got[pos]!r} is out of order: expected column {pos} to be "
                f"{expected[pos]!r}, got {got[pos]!r}; reorder with X[model.schema_.names] "
                f"(expected order: {_show(expected)})",
                column=got[pos],
                expected=expected[pos],
                got=got[pos],
            )
        raise err from ValueError(detail)

    # ----------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (used in the persistence manifest).

        Returns
        -------
        dict
            ``from_array`` and one entry per column: ``name``, ``dtype``,
            ``kind`` (plus ``categories`` and ``ordered`` for categoricals, and
            ``missing`` and ``range`` when known: whether the column held missing
            values at fit, and a numeric column's ``[min, max]``).

        Examples
        --------
        >>> import numpy as np
        >>> Schema.capture(np.zeros((1, 1))).to_dict()["columns"][0]["kind"]
        'float'
        """
        return {
            "from_array": self.from_array,
            "columns": [
                {
                    "name": c.name,
                    "dtype": c.dtype,
                    "kind": c.kind,
                    **(
                        {"categories": list(c.categories or ()), "ordered": c.ordered}
                        if c.kind == "category"
                        else {}
                    ),
                    **({} if c.missing is None else {"missing": c.missing}),
                    **({} if c.range is None else {"range": list(c.range)}),
                }
                for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Rebuild a schema from :meth:`to_dict` output.

        Parameters
        ----------
        data : dict
            What :meth:`to_dict` returned (e.g. read back from a manifest).

        Returns
        -------
        Schema

        Examples
        --------
        >>> import numpy as np
        >>> s = Schema.capture(np.zeros((1, 2)))
        >>> Schema.from_dict(s.to_dict()) == s
        True
        """
        cols = tuple(
            Column(
                c["name"],
                c["dtype"],
                c["kind"],
                tuple(c["categories"]) if c.get("categories") is not None else None,
                bool(c.get("ordered", False)),
                None if c.get("missing") is None else bool(c["missing"]),
                None if c.get("range") is None else tuple(float(v) for v in c["range"]),
            )
            for c in data["columns"]
        )
        return cls(cols, from_array=bool(data.get("from_array", False)))


def _range(values) -> tuple | None:
    """``(min, max)`` of numeric values as floats, ignoring missing ones (None if none left)."""
    arr = np.asarray(values, dtype=float) if not isinstance(values, pd.Series) else None
    if arr is None:
        arr = values.to_numpy(dtype=float, na_value=np.nan)
    arr = arr[~np.isnan(arr)]
    if not arr.size:
        return None
    return float(arr.min()), float(arr.max())


def _as_2d_array(X) -> np.ndarray:
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise SchemaError(
            f"sparse input ({type(X).__name__}) is not supported; pass a DataFrame or a dense array"
        )
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise SchemaError(
            f"expected 2-D input of shape (n_samples, n_features), got {arr.ndim}-D with shape "
            f"{arr.shape}. Reshape your data with X.reshape(1, -1) if it is a single sample"
        )
    return arr
