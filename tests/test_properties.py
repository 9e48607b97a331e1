"""Hypothesis property tests for uniml's core contracts (DESIGN.md).

1. Schema enforcement: random column drops, renames, reorders, incompatible
   dtype changes, extra columns and unseen categories always raise
   ``SchemaError`` whose ``.column`` is the offending column and whose
   message names it; the identity, documented widenings, equivalent string
   dtypes and re-ordered / superset categorical dtypes are accepted without
   altering any value. Checked on ``Schema`` directly and through fitted
   LightGBM / XGBoost adapters (``predict`` and ``explain``).
2. Persistence: ``save`` -> ``uniml.load`` predicts (and ``predict_proba`` /
   ``explain``) bit for bit what the saved model did, for random datasets and
   a random choice of the catalog's tabular adapters; ``Schema.to_dict`` ->
   JSON -> ``Schema.from_dict`` gives an equal schema.
3. Additivity: for additive explanations, ``base + row-sum(contributions)``
   equals the explanation's prediction within 1e-6 (and ``predict`` when
   ``space == "raw"``).
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import uniml
from strategies import (
    ACCEPTS,
    SPEC_KIND,
    SPECS,
    column_values,
    frames,
    fresh_name,
    incompatible,
    int_level,
    is_accepted,
    non_identity_permutation,
    replace_column,
    str_level,
    tabular_datasets,
    widenings,
)
from uniml import SchemaError
from uniml.core.schema import Schema, dtype_kind

# Cheap pure-pandas properties run many examples; properties that fit models run few.
# UNIML_PROPERTY_SCALE=10 multiplies every example count (for a nightly / pre-release run).
_SCALE = max(1, int(os.environ.get("UNIML_PROPERTY_SCALE", "1")))
FAST = settings(max_examples=100 * _SCALE, deadline=None)
ADAPTER = settings(max_examples=50 * _SCALE, deadline=None)
# Fitting tests draw a dataset (up to 80 rows built from a drawn seed), an adapter and its
# params through st.data(); first fits also import LightGBM/XGBoost/skops/shap. Hypothesis can
# flag such examples as too slow although the time is spent fitting, not generating data.
# The "explain" phase (re-running a failure many times to report which lines matter) costs
# minutes when every example fits a model, so fitting tests skip it.
_FIT_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
FIT = settings(
    max_examples=20 * _SCALE,
    deadline=None,
    phases=_FIT_PHASES,
    suppress_health_check=[HealthCheck.too_slow],
)
FIT_FEW = settings(FIT, max_examples=10 * _SCALE)

ADDITIVITY_TOL = 1e-6
# shap's import-time matplotlib colormap calls; not ours to fix
pytestmark = pytest.mark.filterwarnings(
    "ignore:The set_.* function will be deprecated:PendingDeprecationWarning"
)


# ============================================================ helpers
def assert_schema_error(func, X, column, *, bare_name_ok: bool = False):
    """``func(X)`` raises SchemaError whose .column is ``column`` and whose message names it.

    The message must show ``repr(column)`` (so ``1`` and ``'1'`` are told apart); for the
    positional names of array input (``x3``) the bare name is enough with ``bare_name_ok``.
    """
    with pytest.raises(SchemaError) as info:
        func(X)
    err = info.value
    assert err.column == column, f"SchemaError names {err.column!r}, expected {column!r}: {err}"
    named = repr(column) in str(err) or (bare_name_ok and str(column) in str(err))
    assert named, f"message does not name {column!r}: {err}"
    return err


def category_columns(specs: dict) -> list:
    return [name for name, spec in specs.items() if SPEC_KIND[spec] == "category"]


def fresh_level(levels):
    """A categorical level of the same type as ``levels`` that is not among them."""
    elem = int_level if isinstance(levels[0], (int, np.integer)) else str_level
    return elem.filter(lambda v: v not in set(levels))


def as_objects(s: pd.Series) -> list:
    """Values of a Series as Python objects, NaN/NA as None (for value-level comparison)."""
    return [None if pd.isna(v) else v for v in s.astype(object)]


# ================================================= 1. Schema, directly
@FAST
@given(frames())
def test_identity_is_accepted_unchanged(frame_specs):
    X, _ = frame_specs
    out = Schema.capture(X).enforce(X)
    assert out is X  # nothing to re-code: the input itself, never a silent copy/cast
    pd.testing.assert_frame_equal(out, X, check_exact=True)


@FAST
@given(frames(), st.data())
def test_dropped_columns_are_named(frame_specs, data):
    X, _ = frame_specs
    names = list(X.columns)
    dropped = data.draw(
        st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)
    )
    schema = Schema.capture(X)
    first_missing = next(n for n in names if n in dropped)
    assert_schema_error(schema.enforce, X.drop(columns=dropped), first_missing)


@FAST
@given(frames(), st.data())
def test_renamed_column_is_named(frame_specs, data):
    X, _ = frame_specs
    names = list(X.columns)
    old = data.draw(st.sampled_from(names))
    new = data.draw(fresh_name(names))
    Y = X.set_axis(pd.Index([new if n == old else n for n in names], dtype=object), axis=1)
    err = assert_schema_error(Schema.capture(X).enforce, Y, old)
    assert repr(new) in str(err)  # the message also shows what it was renamed to


@FAST
@given(frames(min_cols=2), st.data())
def test_reordered_columns_are_named(frame_specs, data):
    X, _ = frame_specs
    names = list(X.columns)
    perm = data.draw(non_identity_permutation(len(names)))
    order = [names[i] for i in perm]
    first_moved = next(o for o, n in zip(order, names, strict=True) if o != n)
    assert_schema_error(Schema.capture(X).enforce, X[order], first_moved)


@FAST
@given(frames(max_cols=5), st.data())
def test_extra_column_is_named(frame_specs, data):
    X, _ = frame_specs
    names = list(X.columns)
    new = data.draw(fresh_name(names))
    values = data.draw(column_values(data.draw(st.sampled_from(SPECS)), len(X)))
    Y = X.copy()
    Y.insert(data.draw(st.integers(0, len(names))), new, values.set_axis(X.index))
    assert_schema_error(Schema.capture(X).enforce, Y, new)


@FAST
@given(frames(), st.data())
def test_incompatible_dtype_is_named(frame_specs, data):
    X, specs = frame_specs
    name = data.draw(st.sampled_from(list(X.columns)))
    new_spec = data.draw(st.sampled_from(incompatible(specs[name])))
    Y = replace_column(X, name, data.draw(column_values(new_spec, len(X))))
    err = assert_schema_error(Schema.capture(X).enforce, Y, name)
    assert err.got == str(Y[name].dtype)


@FAST
@given(frames(), st.data())
def test_widening_dtypes_are_accepted_without_casting(frame_specs, data):
    """int/bool where float is expected, bool where int is, float32 for float64, str<->object<->string,
    another datetime resolution: all accepted, and the frame comes back as given (never cast)."""
    X, specs = frame_specs
    Y = X
    for name, spec in specs.items():
        if SPEC_KIND[spec] != "category":
            new_spec = data.draw(st.sampled_from(widenings(spec)))
            Y = replace_column(Y, name, data.draw(column_values(new_spec, len(X))))
    out = Schema.capture(X).enforce(Y)
    pd.testing.assert_frame_equal(out, Y, check_exact=True)


@FAST
@given(frames(specs=("str", "object", "string"), min_rows=1), st.data())
def test_str_object_and_string_dtypes_all_count_as_string(frame_specs, data):
    X, specs = frame_specs
    assert {dtype_kind(d) for d in X.dtypes} == {"string"}
    Y = X
    for name in specs:
        Y = replace_column(
            Y, name, Y[name].astype(data.draw(st.sampled_from(["str", object, "string"])))
        )
    pd.testing.assert_frame_equal(Schema.capture(X).enforce(Y), Y, check_exact=True)


@FAST
@given(frames(min_rows=1, require=("category_str", "category_int")), st.data())
def test_unseen_category_is_named(frame_specs, data):
    X, specs = frame_specs
    name = data.draw(st.sampled_from(category_columns(specs)))
    fitted = X[name].dtype
    levels = list(fitted.categories)
    new = data.draw(fresh_level(levels))
    values = as_objects(X[name])
    rows = data.draw(st.lists(st.integers(0, len(X) - 1), min_size=1, unique=True))
    for r in rows:
        values[r] = new
    cats = data.draw(st.permutations([*levels, new]))
    Y = replace_column(
        X, name, pd.Series(pd.Categorical(values, categories=cats, ordered=fitted.ordered))
    )
    err = assert_schema_error(Schema.capture(X).enforce, Y, name)
    assert repr(new) in str(err)


@FAST
@given(frames(require=("category_str", "category_int")), st.data())
def test_superset_of_unused_levels_is_recoded_not_altered(frame_specs, data):
    X, specs = frame_specs
    schema = Schema.capture(X)
    Y = X
    for name in category_columns(specs):
        levels = list(X[name].cat.categories)
        extra = data.draw(st.lists(fresh_level(levels), min_size=1, max_size=3, unique=True))
        cats = data.draw(st.permutations([*levels, *extra]))
        Y = replace_column(Y, name, X[name].cat.set_categories(cats))
        assert Y[name].dtype != X[name].dtype
    out = schema.enforce(Y)
    for name in category_columns(specs):
        assert out[name].dtype == X[name].dtype
        assert list(out[name].cat.categories) == list(X[name].cat.categories)
        assert as_objects(out[name]) == as_objects(X[name])  # same values
        np.testing.assert_array_equal(out[name].cat.codes, X[name].cat.codes)  # fitted codes


@FAST
@given(frames(require=("category_str", "category_int")), st.data())
def test_reordered_levels_are_recoded_not_altered(frame_specs, data):
    """A categorical dtype listing the fitted levels in another order is accepted, its values are
    unchanged, and it comes back re-coded onto the fitted dtype (fitted level order and codes), as
    the Schema module documents — so an adapter reading ``.cat.codes`` sees the fitted codes."""
    X, specs = frame_specs
    cat_names = [n for n in category_columns(specs) if len(X[n].cat.categories) >= 2]
    if not cat_names:
        X = replace_column(
            X,
            category_columns(specs)[0],
            pd.Series(pd.Categorical([None] * len(X), categories=["a", "b"])),
        )
        cat_names = [category_columns(specs)[0]]
    schema = Schema.capture(X)
    Y = X
    for name in cat_names:
        levels = list(X[name].cat.categories)
        perm = data.draw(non_identity_permutation(len(levels)))
        Y = replace_column(
            Y, name, pd.Series(X[name].cat.reorder_categories([levels[i] for i in perm]))
        )
    out = schema.enforce(Y)
    for name in cat_names:
        assert as_objects(out[name]) == as_objects(X[name])  # values unchanged
        assert list(out[name].cat.categories) == list(X[name].cat.categories), (
            f"column {name!r} was not re-coded onto the fitted levels"
        )
        np.testing.assert_array_equal(out[name].cat.codes, X[name].cat.codes)


_PAIR_VALUES = {
    "float64": pd.Series([0.5, -1.0]),
    "float32": pd.Series([0.5, -1.0], dtype="float32"),
    "int64": pd.Series([1, 2], dtype="int64"),
    "int32": pd.Series([1, 2], dtype="int32"),
    "uint8": pd.Series([1, 2], dtype="uint8"),
    "bool": pd.Series([True, False]),
    "category_str": pd.Series(pd.Categorical(["a", "b"])),
    "category_int": pd.Series(pd.Categorical([1, 2])),
    "str": pd.Series(["a", "b"], dtype="str"),
    "object": pd.Series(["a", "b"], dtype=object),
    "string": pd.Series(["a", "b"], dtype="string"),
    "datetime": pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])).astype("datetime64[ns]"),
    "datetime_s": pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])).astype("datetime64[s]"),
    "datetime_tz": pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])).dt.tz_localize("UTC"),
}


@pytest.mark.parametrize("new_spec", SPECS)
@pytest.mark.parametrize("fitted_spec", SPECS)
def test_acceptance_table_is_exhaustively_enforced(fitted_spec, new_spec):
    """Every (fitted dtype, predict dtype) pair: accepted iff the documented table says so."""
    X = pd.DataFrame({"a": [1.0, 2.0], "col": _PAIR_VALUES[fitted_spec]})
    Y = X.assign(col=_PAIR_VALUES[new_spec])
    schema = Schema.capture(X)
    if is_accepted(fitted_spec, new_spec) and not (
        SPEC_KIND[new_spec] == "category"
        and set(Y["col"].cat.categories) - set(X["col"].cat.categories)
    ):
        schema.enforce(Y)
    else:
        assert_schema_error(schema.enforce, Y, "col")


# -------------------------------------------------------------- arrays
@FAST
@given(
    st.integers(1, 6), st.integers(1, 5), st.sampled_from(["float64", "int64", "bool"]), st.data()
)
def test_array_width_changes_are_named(n_cols, n_rows, dtype, data):
    arr = np.zeros((n_rows, n_cols), dtype=dtype)
    schema = Schema.capture(arr)
    assert schema.enforce(arr) is not None
    delta = data.draw(st.integers(-n_cols, 3).filter(lambda d: d != 0))
    other = np.zeros((n_rows, n_cols + delta), dtype=dtype)
    # the first position that differs: a missing x{n_cols + delta} or an unexpected x{n_cols}
    assert_schema_error(schema.enforce, other, f"x{min(n_cols, n_cols + delta)}", bare_name_ok=True)


@FAST
@given(st.integers(1, 6), st.sampled_from(SPECS), st.sampled_from(["float64", "int64", "bool"]))
def test_array_dtype_changes(n_cols, new_spec, fitted):
    arr = np.zeros((3, n_cols), dtype=fitted)
    other = np.column_stack([_PAIR_VALUES[new_spec].to_numpy()[[0, 1, 0]]] * n_cols)
    if dtype_kind(other.dtype) in ACCEPTS[dtype_kind(arr.dtype)]:
        assert Schema.capture(arr).enforce(other).shape == other.shape
    else:
        assert_schema_error(Schema.capture(arr).enforce, other, "x0", bare_name_ok=True)


# ------------------------------------------------------ schema round-trip
@FAST
@given(frames(min_rows=1))
def test_schema_dict_round_trip_through_json(frame_specs):
    X, _ = frame_specs
    schema = Schema.capture(X)
    again = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again == schema
    assert again.names == tuple(X.columns)
    for col in again.columns:  # int and str levels keep their type (1 and "1" stay distinct)
        if col.kind == "category":
            assert [type(v) for v in col.categories] == [
                type(v) for v in schema[col.name].categories
            ]
    pd.testing.assert_frame_equal(again.enforce(X), X, check_exact=True)


@FAST
@given(
    st.integers(1, 5), st.integers(1, 5), st.sampled_from(["float64", "float32", "int64", "bool"])
)
def test_array_schema_dict_round_trip(n_rows, n_cols, dtype):
    schema = Schema.capture(np.zeros((n_rows, n_cols), dtype=dtype))
    assert Schema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema


@FAST
@given(st.integers(0, 5))
def test_zero_column_frame_gives_schema_or_schema_error(n_rows):
    """A frame without columns must not crash with an internal TypeError."""
    X = pd.DataFrame(index=range(n_rows))
    try:
        schema = Schema.capture(X)
    except SchemaError:
        return
    assert schema.n_features == 0
    assert Schema.from_dict(schema.to_dict()) == schema


# ======================================= 1b. Schema, through fitted adapters
_ADAPTER_LEVELS = {"c": ["red", "green", "blue"], "k": [10, 20, 30]}


def _train_frame(n: int = 120) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "f": rng.normal(size=n).round(),  # integral floats: widening to int keeps the values
            "i": rng.integers(0, 5, size=n).astype(np.int64),
            "b": rng.random(n) < 0.5,
            "c": pd.Categorical(
                rng.choice(_ADAPTER_LEVELS["c"], n), categories=_ADAPTER_LEVELS["c"]
            ),
            "k": pd.Categorical(
                rng.choice(_ADAPTER_LEVELS["k"], n), categories=_ADAPTER_LEVELS["k"]
            ),
        }
    )
    y = X["f"] + X["i"] - 2.0 * X["b"] + X["c"].cat.codes + 0.01 * X["k"].astype(float)
    return X, pd.Series(y.to_numpy(), name="y")


_ADAPTER_SPECS = {
    "f": "float64",
    "i": "int64",
    "b": "bool",
    "c": "category_str",
    "k": "category_int",
}
_FITTED_ADAPTERS = {
    "lightgbm.regressor": {"n_estimators": 5, "verbose": -1, "min_child_samples": 5, "n_jobs": 1},
    "xgboost.regressor": {
        "n_estimators": 5,
        "max_depth": 3,
        "enable_categorical": True,
        "n_jobs": 1,
    },
}


@functools.cache
def fitted_adapter(name: str):
    X, y = _train_frame()
    return uniml.make(name, **_FITTED_ADAPTERS[name]).fit(X, y)


@st.composite
def adapter_mutations(draw):
    """(rows, mutated frame, offending column) for a random mutation of rows of the training frame."""
    X, _ = _train_frame()
    names = list(X.columns)
    rows = X.iloc[draw(st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=10))]
    rows = rows.reset_index(drop=True)
    kind = draw(st.sampled_from(["drop", "rename", "reorder", "dtype", "extra", "unseen"]))
    if kind == "drop":
        dropped = draw(
            st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)
        )
        return kind, rows.drop(columns=dropped), next(n for n in names if n in dropped)
    if kind == "rename":
        old = draw(st.sampled_from(names))
        new = draw(fresh_name(names))
        return (
            kind,
            rows.set_axis(pd.Index([new if n == old else n for n in names], dtype=object), axis=1),
            old,
        )
    if kind == "reorder":
        order = [names[i] for i in draw(non_identity_permutation(len(names)))]
        return kind, rows[order], next(o for o, n in zip(order, names, strict=True) if o != n)
    if kind == "dtype":
        name = draw(st.sampled_from(names))
        new_spec = draw(st.sampled_from(incompatible(_ADAPTER_SPECS[name])))
        return kind, replace_column(rows, name, draw(column_values(new_spec, len(rows)))), name
    if kind == "extra":
        new = draw(fresh_name(names))
        out = rows.copy()
        out.insert(
            draw(st.integers(0, len(names))),
            new,
            draw(column_values("float64", len(rows))).to_numpy(),
        )
        return kind, out, new
    name = draw(st.sampled_from(["c", "k"]))
    levels = _ADAPTER_LEVELS[name]
    new = draw(fresh_level(levels))
    values = as_objects(rows[name])
    values[draw(st.integers(0, len(values) - 1))] = new
    cats = draw(st.permutations([*levels, new]))
    return (
        kind,
        replace_column(rows, name, pd.Series(pd.Categorical(values, categories=cats))),
        name,
    )


@pytest.mark.parametrize("adapter_name", sorted(_FITTED_ADAPTERS))
@ADAPTER
@given(mutation=adapter_mutations())
def test_adapter_rejects_mutated_input_naming_the_column(adapter_name, mutation):
    _kind, frame, column = mutation
    model = fitted_adapter(adapter_name)
    for method in (model.predict, model.explain):
        assert_schema_error(method, frame, column)


@pytest.mark.parametrize("adapter_name", sorted(_FITTED_ADAPTERS))
@ADAPTER
@given(data=st.data())
def test_adapter_accepts_widened_input_with_identical_output(adapter_name, data):
    """Same values in accepted dtypes (int/float32 for float, narrower ints for int, re-ordered or
    superset category levels) predict and explain exactly as the fitted dtypes do."""
    model = fitted_adapter(adapter_name)
    X, _ = _train_frame()
    rows = X.iloc[data.draw(st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=10))]
    W = rows.copy()
    W["f"] = rows["f"].astype(
        data.draw(st.sampled_from(["float64", "float32", "int64", "int32", "int8"]))
    )
    W["i"] = rows["i"].astype(data.draw(st.sampled_from(["int64", "int32", "int8", "uint8"])))
    for name in ("c", "k"):
        levels = _ADAPTER_LEVELS[name]
        extra = data.draw(st.lists(fresh_level(levels), max_size=2, unique=True))
        cats = data.draw(st.permutations([*levels, *extra]))
        W[name] = rows[name].cat.set_categories(cats)
    expected, got = model.predict(rows), model.predict(W)
    pd.testing.assert_series_equal(got, expected, check_exact=True)
    pd.testing.assert_frame_equal(
        model.explain(W).contributions, model.explain(rows).contributions, check_exact=True
    )


# ====================================================== 2. save / load
# Boosters run single-threaded (n_jobs=1): on tiny data OpenMP start-up and spin-waiting on a
# busy 2-core machine cost ~1 s per fit.
def _boosters(task: str, categorical: bool):
    lgb = st.fixed_dictionaries(
        {
            "n_estimators": st.integers(1, 8),
            "num_leaves": st.integers(2, 8),
            "min_child_samples": st.integers(2, 10),
            "learning_rate": st.sampled_from([0.05, 0.3]),
            "random_state": st.integers(0, 1000),
            "verbose": st.just(-1),
            "n_jobs": st.just(1),
        }
    )
    xgb = st.fixed_dictionaries(
        {
            "n_estimators": st.integers(1, 8),
            "max_depth": st.integers(1, 4),
            "learning_rate": st.sampled_from([0.05, 0.3]),
            "random_state": st.integers(0, 1000),
            "enable_categorical": st.just(categorical),
            "n_jobs": st.just(1),
        }
    )
    if task == "regression":  # objectives whose raw score is the prediction ("raw" space)
        lgb = st.tuples(
            lgb,
            st.fixed_dictionaries({"objective": st.sampled_from(["regression", "huber", "l1"])}),
        )
        xgb = st.tuples(
            xgb,
            st.fixed_dictionaries(
                {
                    "objective": st.sampled_from(
                        ["reg:squarederror", "reg:pseudohubererror", "reg:absoluteerror"]
                    )
                }
            ),
        )
        lgb, xgb = (d.map(lambda ab: {**ab[0], **ab[1]}) for d in (lgb, xgb))
    suffix = "regressor" if task == "regression" else "classifier"
    return st.one_of(
        st.tuples(st.just(f"lightgbm.{suffix}"), lgb), st.tuples(st.just(f"xgboost.{suffix}"), xgb)
    )


def _sklearn_estimators(task: str, additive_only: bool = False):
    from sklearn import ensemble, linear_model, neighbors, tree
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    seed = st.integers(0, 1000)
    depth = st.integers(1, 4)
    if task == "regression":
        linear = [
            st.builds(linear_model.Ridge, alpha=st.floats(0.01, 10.0)),
            st.builds(linear_model.LinearRegression),
            st.builds(linear_model.Lasso, alpha=st.floats(0.001, 0.1)),
            st.builds(
                lambda a: make_pipeline(StandardScaler(), linear_model.Ridge(alpha=a)),
                st.floats(0.01, 10.0),
            ),
        ]
        trees = [
            st.builds(tree.DecisionTreeRegressor, max_depth=depth, random_state=seed),
            st.builds(
                ensemble.RandomForestRegressor,
                n_estimators=st.integers(1, 4),
                max_depth=depth,
                random_state=seed,
            ),
            st.builds(
                ensemble.ExtraTreesRegressor,
                n_estimators=st.integers(1, 4),
                max_depth=depth,
                random_state=seed,
            ),
            st.builds(
                ensemble.GradientBoostingRegressor,
                n_estimators=st.integers(1, 5),
                max_depth=depth,
                random_state=seed,
            ),
            st.builds(
                ensemble.HistGradientBoostingRegressor,
                max_iter=st.integers(1, 5),
                random_state=seed,
            ),
        ]
        other = [
            st.builds(neighbors.KNeighborsRegressor, n_neighbors=st.integers(1, 5))
        ]  # permutation
    else:
        linear = [
            st.builds(
                linear_model.LogisticRegression, C=st.floats(0.1, 10.0), max_iter=st.just(500)
            ),
            st.builds(
                lambda c: make_pipeline(
                    StandardScaler(), linear_model.LogisticRegression(C=c, max_iter=500)
                ),
                st.floats(0.1, 10.0),
            ),
        ]
        trees = [
            st.builds(tree.DecisionTreeClassifier, max_depth=depth, random_state=seed),
            st.builds(
                ensemble.RandomForestClassifier,
                n_estimators=st.integers(1, 4),
                max_depth=depth,
                random_state=seed,
            ),
            st.builds(
                ensemble.GradientBoostingClassifier,
                n_estimators=st.integers(1, 5),
                max_depth=depth,
                random_state=seed,
            ),
            st.builds(
                ensemble.HistGradientBoostingClassifier,
                max_iter=st.integers(1, 5),
                random_state=seed,
            ),
        ]
        other = [
            st.builds(neighbors.KNeighborsClassifier, n_neighbors=st.integers(1, 5))
        ]  # permutation
    choices = linear + trees + ([] if additive_only else other)
    return st.tuples(
        st.just("sklearn.estimator"), st.fixed_dictionaries({"estimator": st.one_of(choices)})
    )


def _adapters(task: str, categorical: bool, additive_only: bool = False):
    if categorical:  # scikit-learn estimators take no pandas categories directly
        return _boosters(task, categorical)
    return st.one_of(_boosters(task, categorical), _sklearn_estimators(task, additive_only))


def _with_missing(data, X: pd.DataFrame) -> pd.DataFrame:
    """Blank out some float values (boosters route NaN natively)."""
    X = X.copy()
    for col in [c for c in X.columns if X[c].dtype.kind == "f"]:
        mask = np.asarray(data.draw(st.lists(st.booleans(), min_size=len(X), max_size=len(X))))
        X.loc[mask, col] = np.nan
    return X


def _draw_fit_case(data, additive_only: bool = False):
    task = data.draw(st.sampled_from(["regression", "classification"]), label="task")
    categorical = data.draw(st.booleans(), label="categorical")
    name, params = data.draw(_adapters(task, categorical, additive_only), label="adapter")
    X, y, X_new = data.draw(tabular_datasets(task, categorical=categorical), label="dataset")
    if name.split(".")[0] in ("lightgbm", "xgboost") and data.draw(st.booleans(), label="nan rows"):
        X_new = _with_missing(data, X_new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of tiny random problems
        model = uniml.make(name, **params).fit(X, y)
    return model, X, y, X_new


def _round_trip(model):
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save(Path(tmp) / "model")
        return uniml.load(folder)  # built-in formats are pickle-free: no trusted=True needed


def _assert_same_outputs(model, loaded, X):
    pd.testing.assert_series_equal(loaded.predict(X), model.predict(X), check_exact=True)
    a, b = np.asarray(model.predict(X)), np.asarray(loaded.predict(X))
    assert a.dtype == b.dtype and np.array_equal(a, b)
    if model._is_classifier():
        assert np.array_equal(np.asarray(loaded.classes_), np.asarray(model.classes_))
        pa, pb = model.predict_proba(X), loaded.predict_proba(X)
        assert np.array_equal(pa.to_numpy(), pb.to_numpy())  # bit-identical
        pd.testing.assert_frame_equal(pb, pa, check_exact=True)


@FIT
@given(data=st.data())
def test_save_load_predicts_bit_identically(data):
    model, X, _y, X_new = _draw_fit_case(data)
    loaded = _round_trip(model)
    assert type(loaded) is type(model)
    assert loaded.schema_ == model.schema_
    for frame in (X_new, X.head(7)):
        _assert_same_outputs(model, loaded, frame)
    ea, eb = model.explain(X_new), loaded.explain(X_new)
    assert (ea.kind, ea.space, ea.additive) == (eb.kind, eb.space, eb.additive)
    if ea.contributions is not None:
        pd.testing.assert_frame_equal(eb.contributions, ea.contributions, check_exact=True)
        np.testing.assert_array_equal(np.asarray(eb.base_value), np.asarray(ea.base_value))
    # the loaded model still enforces the schema
    first = X.columns[0]
    assert_schema_error(loaded.predict, X_new.drop(columns=[first]), first)


@FIT_FEW
@given(data=st.data())
def test_xgboost_missing_parameter_survives_save_load(data):
    """A non-default ``missing`` marker is part of the model: a loaded model must treat the same
    values as missing, or its predictions differ from the saved model's."""
    task = data.draw(st.sampled_from(["regression", "classification"]))
    X, y, X_new = data.draw(tabular_datasets(task))
    X_new = X_new.assign(i0=0) if "i0" in X_new else X_new.assign(f0=0.0)
    X = X.assign(**{c: X[c].where(np.arange(len(X)) % 3 != 0, 0) for c in X.columns})
    suffix = "regressor" if task == "regression" else "classifier"
    model = uniml.make(
        f"xgboost.{suffix}", n_estimators=5, max_depth=3, missing=0.0, random_state=0, n_jobs=1
    ).fit(X, y)
    loaded = _round_trip(model)
    _assert_same_outputs(model, loaded, pd.concat([X.head(10), X_new], ignore_index=True))


# ========================================================= 3. additivity
def _reconstruction(exp) -> pd.DataFrame:
    """base + row-sum of contributions, one column per output (computed here, not via the type)."""
    c = exp.contributions
    if isinstance(c.columns, pd.MultiIndex):
        outputs = list(dict.fromkeys(c.columns.get_level_values(0)))
        return pd.DataFrame({o: c[o].sum(axis=1) + float(exp.base_value[o]) for o in outputs})
    return pd.DataFrame({0: c.sum(axis=1) + float(exp.base_value)})


def _as_2d(pred) -> np.ndarray:
    arr = np.asarray(pred, dtype=np.float64)
    return arr.reshape(len(arr), -1) if arr.ndim == 1 else arr


def _check_additive(model, frame: pd.DataFrame, exp) -> None:
    """base + row-sum(contributions) == exp.prediction (and predict() when space is raw)."""
    rec = _reconstruction(exp).to_numpy()
    pred = _as_2d(exp.prediction)
    assert rec.shape == pred.shape
    tol = ADDITIVITY_TOL
    if exp.meta.get("precision") == "float32":
        # XGBoost computes contributions in float32 (~6e-8 relative rounding per term), so the
        # tolerance is 1e-6 relative to max(1, |prediction|) over the batch, as in
        # uniml.testing: a per-row scale would fail rows whose prediction is ~0 while their
        # contributions are large and cancel.
        tol = ADDITIVITY_TOL * max(1.0, float(np.max(np.abs(pred))))
    gap = np.abs(rec - pred)
    assert gap.max() <= tol, f"additivity off by {gap.max():.3g} > {tol:.3g} (space {exp.space!r})"
    assert exp.additivity_error() <= tol
    if exp.space == "raw":
        predicted = _as_2d(model.predict(frame))
        gap = np.abs(rec - predicted).max()
        assert gap <= tol, f"space 'raw' but base + contributions misses predict() by {gap:.3g}"
    if exp.space == "probability":
        proba = model.predict_proba(frame).to_numpy()
        assert np.abs(rec - proba[:, -rec.shape[1] :]).max() <= tol


def _shap_cannot_explain(model) -> bool:
    """shap's TreeExplainer supports GradientBoostingClassifier for binary problems only."""
    est = getattr(model, "estimator_", None)
    return type(est).__name__ == "GradientBoostingClassifier" and len(est.classes_) > 2


@FIT
@given(data=st.data())
def test_additive_explanations_sum_to_the_prediction(data):
    model, X, _y, X_new = _draw_fit_case(data, additive_only=True)
    frame = pd.concat([X.head(10), X_new], ignore_index=True)
    exp = model.explain(frame)  # never a library's own exception
    if not _shap_cannot_explain(model):
        assert exp.additive, f"{model!r} should give an additive explanation, got kind {exp.kind!r}"
    if exp.additive:
        _check_additive(model, frame, exp)


@FIT_FEW
@given(data=st.data())
def test_sklearn_tree_classifiers_explain_multiclass(data):
    """Every scikit-learn tree model the adapter routes to TreeSHAP explains a 3-class problem
    (an additive explanation, or an honest non-additive one) instead of raising shap's error."""
    from sklearn import ensemble, tree

    est = data.draw(
        st.sampled_from(
            [
                tree.DecisionTreeClassifier(max_depth=3, random_state=0),
                tree.ExtraTreeClassifier(max_depth=3, random_state=0),
                ensemble.RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
                ensemble.ExtraTreesClassifier(n_estimators=3, max_depth=3, random_state=0),
                ensemble.GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0),
                ensemble.HistGradientBoostingClassifier(max_iter=3, random_state=0),
            ]
        )
    )
    X, y, X_new = data.draw(tabular_datasets("classification", n_classes=3))
    model = uniml.make("sklearn.estimator", estimator=est).fit(X, y)
    exp = model.explain(X_new)
    assert exp.importance is not None and len(exp.importance) == X.shape[1]
    if exp.additive:
        _check_additive(model, X_new, exp)


@FIT_FEW
@given(data=st.data(), n_classes=st.sampled_from([None, 2, 3]))
def test_linear_pipeline_with_one_hot_encoder_is_additive(data, n_classes):
    """A scikit-learn linear model behind a (sparse) OneHotEncoder is a linear model too."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    task = "regression" if n_classes is None else "classification"
    X, y, X_new = data.draw(tabular_datasets(task, categorical=True, n_classes=n_classes))
    X, X_new = X.select_dtypes("category"), X_new.select_dtypes("category")
    final = Ridge() if n_classes is None else LogisticRegression(max_iter=500)
    model = uniml.make("sklearn.estimator", estimator=make_pipeline(OneHotEncoder(), final)).fit(
        X, y
    )
    exp = model.explain(X_new)
    assert exp.additive
    _check_additive(model, X_new, exp)
