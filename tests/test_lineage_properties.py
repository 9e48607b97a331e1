"""Properties of the data fingerprint and of parameter flattening (hypothesis)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from uniml.lineage import fingerprint
from uniml.lineage._params import flatten_params, mlflow_params, unflatten_params

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def frames(draw):
    n = draw(st.integers(1, 12))
    columns = {}
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["float", "int", "str", "cat", "bool", "date"]))
        if kind == "float":
            values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
            columns[f"c{i}"] = np.array(values, dtype=float)
        elif kind == "int":
            columns[f"c{i}"] = np.array(
                draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
            )
        elif kind == "str":
            columns[f"c{i}"] = draw(st.lists(st.text(max_size=5), min_size=n, max_size=n))
        elif kind == "cat":
            values = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
            columns[f"c{i}"] = pd.Categorical(values, categories=["a", "b", "c"])
        elif kind == "bool":
            columns[f"c{i}"] = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        else:
            days = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
            columns[f"c{i}"] = pd.to_datetime("2020-01-01") + pd.to_timedelta(days, unit="D")
    return pd.DataFrame(columns)


def _changed(frame: pd.DataFrame, row: int, col: int) -> pd.DataFrame:
    """A copy of ``frame`` with one cell set to a different value of the same dtype."""
    out = frame.copy()
    name = out.columns[col]
    value = out.iat[row, col]
    dtype = out[name].dtype
    if isinstance(dtype, pd.CategoricalDtype):
        new = next(c for c in dtype.categories if c != value)
    elif dtype.kind == "f":
        new = value + 1.5 if abs(value) < 1e5 else value / 2 + 1
    elif dtype.kind in "iu":
        new = value + 1
    elif dtype.kind == "b":
        new = not value
    elif dtype.kind == "M":
        new = value + pd.Timedelta(days=1)
    else:
        new = str(value) + "x"
    out.iloc[row, col] = new
    return out


@SETTINGS
@given(frames())
def test_fingerprint_is_stable_for_identical_data(frame):
    assert fingerprint(frame) == fingerprint(frame.copy(deep=True))
    rebuilt = pd.DataFrame(
        {
            c: frame[c].to_numpy()
            if not isinstance(frame[c].dtype, pd.CategoricalDtype)
            else frame[c]
            for c in frame.columns
        }
    )
    assert fingerprint(frame) == fingerprint(rebuilt.astype(frame.dtypes.to_dict()))


@SETTINGS
@given(frames(), st.data())
def test_fingerprint_changes_when_any_value_changes(frame, data):
    row = data.draw(st.integers(0, len(frame) - 1))
    col = data.draw(st.integers(0, frame.shape[1] - 1))
    changed = _changed(frame, row, col)
    assume(not changed.equals(frame))
    assert fingerprint(changed) != fingerprint(frame)


@SETTINGS
@given(frames(), st.randoms(use_true_random=False))
def test_fingerprint_ignores_the_row_index_but_not_row_order(frame, rng):
    labels = [f"r{rng.randrange(10**6)}-{i}" for i in range(len(frame))]
    assert fingerprint(frame) == fingerprint(frame.set_axis(labels))  # index labels: invariant
    order = list(range(len(frame)))
    rng.shuffle(order)
    shuffled = frame.iloc[order]
    if not shuffled.reset_index(drop=True).equals(frame.reset_index(drop=True)):
        assert fingerprint(shuffled) != fingerprint(frame)  # row order: part of the content


@SETTINGS
@given(frames())
def test_fingerprint_covers_names_and_target(frame):
    renamed = frame.rename(columns={frame.columns[0]: "renamed"})
    assert fingerprint(renamed) != fingerprint(frame)
    y = np.arange(len(frame), dtype=float)
    assert fingerprint(frame, y) != fingerprint(frame)
    assert fingerprint(frame, y) != fingerprint(frame, y + 1)


def test_fingerprint_matches_its_definition():
    """An independent sha256 computation of the documented definition, for a float column."""
    import json

    frame = pd.DataFrame({"a": [1.0, 2.5, -3.0], "b": [4, 5, 6]})
    columns = [
        hashlib.sha256(np.ascontiguousarray(frame[c].to_numpy()).tobytes()).digest() for c in frame
    ]
    header = json.dumps(
        {"columns": [["a", "float64"], ["b", "int64"]], "rows": 3}, separators=(",", ":")
    )
    expected = hashlib.sha256(header.encode() + b"".join(columns)).hexdigest()
    assert fingerprint(frame) == expected


keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=6)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.just({}),
)
nested = st.recursive(
    st.dictionaries(keys, leaves, max_size=4),
    lambda children: st.dictionaries(keys, st.one_of(leaves, children), max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(nested)
def test_param_flattening_round_trips(params):
    flat = flatten_params(params)
    assert all(not isinstance(v, dict) or v == {} for v in flat.values())
    assert unflatten_params(flat) == params


@SETTINGS
@given(nested)
def test_mlflow_params_are_always_loggable(params):
    for key, value in mlflow_params(params).items():
        assert isinstance(value, str) and len(value) <= 6000
        assert 0 < len(key) <= 250
