"""Schema enforcement: our message only (#15 item 6), all-missing columns warn and int-for-float
is accepted losslessly (#15 item 9), and the cached column comparison of the hot path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import uniml
from uniml.core.errors import DataQualityWarning, SchemaError, UnimlWarning
from uniml.core.schema import Schema

SKLEARN_WORDING = "The feature names should match"
COLS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(200, 3)), columns=COLS)


@pytest.fixture(scope="module")
def model(frame):
    y = frame["a"] * 2 - frame["b"]
    return uniml.make("lightgbm.regressor", n_estimators=10, verbose=-1).fit(frame, y)


# ------------------------------------------------------------------ item 6: our message only
MISMATCHES = {
    "missing": (lambda X: X.drop(columns="b"), "'b' is missing", "seen at fit time, yet now"),
    "extra": (lambda X: X.assign(z=1.0), "'z' was not seen at fit", "unseen at fit time"),
    "renamed": (lambda X: X.rename(columns={"b": "B"}), "(renamed?)", "unseen at fit time"),
    "reordered": (lambda X: X[["b", "a", "c"]], "out of order", "same order as they were"),
}


@pytest.mark.parametrize("case", sorted(MISMATCHES))
def test_schema_error_shows_only_our_message_and_keeps_sklearns_as_cause(model, frame, case):
    make_bad, ours, sklearn_part = MISMATCHES[case]
    with pytest.raises(SchemaError) as info:
        model.predict(make_bad(frame))
    message = str(info.value)
    assert ours in message
    assert SKLEARN_WORDING not in message and "Feature names" not in message
    assert "\n" not in message  # one line: nothing glued on
    cause = info.value.__cause__
    assert isinstance(cause, ValueError) and not isinstance(cause, SchemaError)
    assert str(cause).startswith(SKLEARN_WORDING) and sklearn_part in str(cause)


# ------------------------------------------------------------------ item 9: all-missing column
def test_all_nan_column_that_had_no_missing_values_at_fit_warns(model, frame):
    bad = frame.head(5).assign(b=np.nan)
    with pytest.warns(DataQualityWarning, match="'b' is entirely missing") as record:
        pred = model.predict(bad)
    assert [w.message.column for w in record if w.category is DataQualityWarning] == ["b"]
    assert issubclass(DataQualityWarning, UnimlWarning)
    # the prediction still happens, and is LightGBM's own answer for those rows
    raw = model.booster_.predict(bad.to_numpy(), num_threads=1)
    np.testing.assert_array_equal(pred.to_numpy(), raw)


def test_no_warning_for_partly_missing_or_columns_missing_at_fit(frame):
    with_nan = frame.copy()
    with_nan.loc[::7, "c"] = np.nan
    m = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1).fit(with_nan, frame["a"])
    assert m.schema_["c"].missing is True and m.schema_["a"].missing is False
    some = frame.head(4).copy()
    some.loc[some.index[0], "a"] = np.nan  # partly missing: not a broken join
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        m.predict(some)
        m.predict(frame.head(4).assign(c=np.nan))  # 'c' had missing values at fit


def test_all_missing_warns_on_the_mixed_dtype_path_and_survives_save_load(tmp_path):
    X = pd.DataFrame(
        {"x": np.arange(50.0), "n": np.arange(50), "k": pd.Categorical(["u", "v"] * 25)}
    )
    m = uniml.make("lightgbm.regressor", n_estimators=5, min_child_samples=2, verbose=-1)
    m.fit(X, np.arange(50.0))
    loaded = uniml.load(m.save(tmp_path / "m"))
    assert loaded.schema_ == m.schema_
    assert [c.missing for c in loaded.schema_.columns] == [False, False, False]
    for model in (m, loaded):
        with pytest.warns(DataQualityWarning, match="'x'"):
            model.predict(X.head(3).assign(x=np.nan))


def test_old_manifests_without_missing_flags_do_not_warn():
    s = Schema.capture(pd.DataFrame({"a": [1.0, 2.0]}))
    d = s.to_dict()
    assert d["columns"][0]["missing"] is False
    del d["columns"][0]["missing"]
    old = Schema.from_dict(d)
    assert old["a"].missing is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        old.enforce(pd.DataFrame({"a": [np.nan]}))


def test_array_schemas_warn_too():
    s = Schema.capture(np.ones((4, 2)))
    with pytest.warns(DataQualityWarning, match="'x1'"):
        arr = np.ones((2, 2))
        arr[:, 1] = np.nan
        s.enforce(arr)


# ------------------------------------------------------------------ item 9: int where float fitted
def test_int_column_where_float_was_fitted_is_accepted_and_predicts_as_floats(model, frame):
    ints = frame.head(20).round().astype({"a": "int64"})
    assert ints["a"].dtype == np.int64
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: lossless widening
        pred = model.predict(ints)
    expected = model.booster_.predict(ints.astype("float64").to_numpy(), num_threads=1)
    np.testing.assert_array_equal(pred.to_numpy(), expected)
    # but never the other way round: a float where an integer was fitted is refused
    m = uniml.make("lightgbm.regressor", n_estimators=3, min_child_samples=2, verbose=-1)
    m.fit(pd.DataFrame({"i": np.arange(20)}), np.arange(20.0))
    with pytest.raises(SchemaError, match="column 'i': expected dtype kind 'integer'"):
        m.predict(pd.DataFrame({"i": [1.5]}))


# ------------------------------------------------------------------ the cached column comparison
def test_column_check_cache_never_accepts_a_different_index(model, frame):
    model.predict(frame.head(2))  # primes the cache with frame.columns
    for bad in (["a", "c", "b"], ["a", "b"], ["a", "b", "d"]):
        other = pd.DataFrame(np.zeros((1, len(bad))), columns=bad)
        with pytest.raises(SchemaError):
            model.predict(other)
    # equal names in a fresh index of either dtype (pandas str or object) pass
    for index in (pd.Index(COLS), pd.Index(COLS, dtype=object)):
        fresh = pd.DataFrame(frame.head(2).to_numpy(), columns=index)
        np.testing.assert_array_equal(model.predict(fresh), model.predict(frame.head(2)))


@settings(max_examples=40, deadline=None)
@given(st.permutations(COLS + ["d"]).map(lambda p: p[: len(COLS)]))
def test_only_the_fitted_names_in_order_pass(names):
    s = Schema.capture(pd.DataFrame(np.zeros((1, 3)), columns=COLS))
    s.enforce(pd.DataFrame(np.zeros((1, 3)), columns=COLS))  # cache primed
    X = pd.DataFrame(np.zeros((1, 3)), columns=names)
    if list(names) == COLS:
        assert s.enforce(X) is X
    else:
        with pytest.raises(SchemaError):
            s.enforce(X)
