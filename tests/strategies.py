"""Shared hypothesis strategies for uniml's property tests.

Frames are built column by column from *specs*: a spec names a concrete
dtype (``"float32"``, ``"category_int"``, ``"str"``...) and maps to the
schema *kind* the spec documents (``float``, ``integer``, ``bool``,
``category``, ``string``, ``datetime``). :data:`ACCEPTS` restates the
schema's acceptance table independently of ``uniml.core.schema`` so that the
tests check the documented contract rather than the implementation's table.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import strategies as st

# ------------------------------------------------------------------ the contract
#: spec -> schema kind
SPEC_KIND = {
    "float64": "float",
    "float32": "float",
    "int64": "integer",
    "int32": "integer",
    "uint8": "integer",
    "bool": "bool",
    "category_str": "category",
    "category_int": "category",
    "str": "string",  # pandas 3 default string dtype
    "object": "string",  # numpy object column of Python str
    "string": "string",  # pandas nullable StringDtype (pd.NA)
    "datetime": "datetime",
    "datetime_s": "datetime",  # another resolution: still a naive datetime
    "datetime_tz": "datetime",
}
SPECS = tuple(SPEC_KIND)
#: specs a model can be fitted on directly (LightGBM / XGBoost with categories)
NUMERIC_SPECS = ("float64", "float32", "int64", "int32", "uint8", "bool")

#: documented table (schema.py module docstring): fitted kind -> kinds accepted at predict
ACCEPTS = {
    "float": {"float", "integer", "bool"},
    "integer": {"integer", "bool"},
    "bool": {"bool"},
    "category": {"category"},
    "string": {"string"},
    "datetime": {"datetime"},
}


def is_accepted(fitted_spec: str, new_spec: str) -> bool:
    """Whether a column fitted as ``fitted_spec`` accepts ``new_spec`` at predict (levels aside)."""
    ok = SPEC_KIND[new_spec] in ACCEPTS[SPEC_KIND[fitted_spec]]
    if ok and SPEC_KIND[fitted_spec] == "datetime":  # time-zone awareness must match
        ok = (fitted_spec == "datetime_tz") == (new_spec == "datetime_tz")
    return ok


def widenings(spec: str) -> list[str]:
    """Non-categorical specs accepted where ``spec`` was fitted (including ``spec`` itself)."""
    if SPEC_KIND[spec] == "category":
        return []
    return [s for s in SPECS if SPEC_KIND[s] != "category" and is_accepted(spec, s)]


def incompatible(spec: str) -> list[str]:
    """Specs that must be rejected where ``spec`` was fitted."""
    return [s for s in SPECS if not is_accepted(spec, s)]


# ---------------------------------------------------------------------- names
_NAME_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
_LEVEL_CHARS = st.characters(min_codepoint=32, max_codepoint=0x24F, exclude_categories=("Cs", "Cc"))

#: a column label: a non-empty string or an integer (what Schema.capture allows)
column_name = st.one_of(st.text(_NAME_CHARS, min_size=1, max_size=6), st.integers(-3, 40))

str_level = st.text(_LEVEL_CHARS, min_size=0, max_size=5)
int_level = st.integers(-(2**40), 2**40)


def column_names(min_size: int = 1, max_size: int = 6):
    """Distinct column labels, strings and integers mixed (``1`` and ``"1"`` are distinct)."""
    return st.lists(column_name, min_size=min_size, max_size=max_size, unique=True)


def fresh_name(taken):
    """A column label not among ``taken``."""
    taken = list(taken)
    return column_name.filter(lambda n: n not in taken)


# --------------------------------------------------------------------- values
_DT_MIN, _DT_MAX = dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1)


@st.composite
def category_levels(draw, spec: str, min_size: int = 1, max_size: int = 5):
    elem = str_level if spec == "category_str" else int_level
    return draw(st.lists(elem, min_size=min_size, max_size=max_size, unique=True))


@st.composite
def column_values(draw, spec: str, n: int, levels=None, ordered=None) -> pd.Series:
    """A column of ``n`` values of the given spec (a Series with a RangeIndex)."""
    if spec in ("float64", "float32"):
        width = 64 if spec == "float64" else 32
        vals = draw(st.lists(st.floats(width=width, allow_infinity=False), min_size=n, max_size=n))
        return pd.Series(np.asarray(vals, dtype=spec))
    if spec in ("int64", "int32", "uint8"):
        info = np.iinfo(spec)
        vals = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=n, max_size=n))
        return pd.Series(np.asarray(vals, dtype=spec))
    if spec == "bool":
        return pd.Series(
            np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        )
    if spec in ("category_str", "category_int"):
        if levels is None:
            levels = draw(category_levels(spec))
        if ordered is None:
            ordered = draw(st.booleans())
        vals = draw(st.lists(st.one_of(st.sampled_from(levels), st.none()), min_size=n, max_size=n))
        return pd.Series(pd.Categorical(vals, categories=levels, ordered=ordered))
    if spec in ("str", "object", "string"):
        vals = draw(st.lists(str_level, min_size=n, max_size=n))
        return pd.Series(vals, dtype=object if spec == "object" else spec)
    if spec.startswith("datetime"):
        vals = draw(st.lists(st.datetimes(_DT_MIN, _DT_MAX), min_size=n, max_size=n))
        s = pd.Series(pd.to_datetime(vals), dtype="datetime64[ns]")
        if spec == "datetime_s":
            return s.astype("datetime64[s]")
        if spec == "datetime_tz":
            return s.dt.tz_localize("UTC")
        return s
    raise ValueError(spec)


@st.composite
def frames(
    draw,
    specs=SPECS,
    min_cols: int = 1,
    max_cols: int = 6,
    min_rows: int = 0,
    max_rows: int = 5,
    require=None,
):
    """A DataFrame of random columns, with the spec of each column.

    Returns ``(frame, {name: spec})``. ``require`` forces one column of one of
    the given specs to be present.
    """
    names = draw(column_names(min_cols, max_cols))
    n = draw(st.integers(min_rows, max_rows))
    col_specs = [draw(st.sampled_from(specs)) for _ in names]
    if require is not None:
        col_specs[draw(st.integers(0, len(names) - 1))] = draw(st.sampled_from(require))
    data = {name: draw(column_values(spec, n)) for name, spec in zip(names, col_specs, strict=True)}
    frame = pd.DataFrame(data, columns=pd.Index(names, dtype=object))
    return frame, dict(zip(names, col_specs, strict=True))


def replace_column(frame: pd.DataFrame, name, values: pd.Series) -> pd.DataFrame:
    """A copy of ``frame`` with column ``name`` replaced by ``values`` (same position and index)."""
    out = frame.copy()
    out[name] = values.set_axis(frame.index)
    return out


def non_identity_permutation(n: int):
    """A permutation of ``range(n)`` (n >= 2) that moves at least one element."""
    return st.permutations(list(range(n))).filter(lambda p: list(p) != list(range(n)))


# ------------------------------------------------------------- model datasets
@st.composite
def tabular_datasets(
    draw,
    task: str,
    categorical: bool = False,
    min_rows: int = 30,
    max_rows: int = 80,
    n_classes=None,
):
    """A small random (X, y, X_new) for fitting, generated from a hypothesis-chosen seed.

    Columns are float64, int64 and (if ``categorical``) pandas categories with
    string levels. Classification labels are ints, strings or (binary) bools;
    every class occurs at least twice. ``X_new`` holds fresh rows drawn from
    the same distribution (categories only from the fitted levels).
    """
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(min_rows, max_rows))
    n_float = draw(st.integers(1, 3))
    n_int = draw(st.integers(0, 2))
    n_cat = draw(st.integers(1, 2)) if categorical else 0
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([0.01, 1.0, 100.0]))
    levels = [["red", "green", "blue"], ["lo", "hi"]]

    def make(m, r):
        cols = {}
        for j in range(n_float):
            cols[f"f{j}"] = r.normal(scale=scale, size=m)
        for j in range(n_int):
            cols[f"i{j}"] = r.integers(-3, 4, size=m).astype(np.int64)
        for j in range(n_cat):
            lv = levels[j]
            cols[f"c{j}"] = pd.Categorical(r.choice(lv, size=m), categories=lv)
        return pd.DataFrame(cols)

    X = make(n, rng)
    numeric = X.select_dtypes("number").to_numpy(dtype=float)
    w = rng.normal(size=numeric.shape[1])
    signal = numeric @ w
    for j in range(n_cat):
        signal = signal + X[f"c{j}"].cat.codes.to_numpy() * rng.normal() * scale
    signal = signal + rng.normal(scale=0.3 * scale + 1e-12, size=n)
    if task == "regression":
        y = pd.Series(signal, name="target")
    else:
        k = n_classes if n_classes is not None else draw(st.sampled_from([2, 3]))
        order = np.argsort(signal, kind="stable")
        codes = np.empty(n, dtype=np.int64)
        codes[order] = np.arange(n) * k // n  # balanced classes, each at least n // k >= 2 rows
        style = draw(st.sampled_from(["int", "str", "bool"] if k == 2 else ["int", "str"]))
        if style == "int":
            labels = np.array([3, 7, 11])[:k][codes]
        elif style == "str":
            labels = np.array(["no", "yes", "maybe"], dtype=object)[:k][codes]
        else:
            labels = codes.astype(bool)
        y = pd.Series(labels, name="label")
    X_new = make(draw(st.integers(1, 20)), np.random.default_rng(seed + 1))
    return X, y, X_new
