"""Behaviour pinned down while making uniml.core and uniml.adapters type-check.

Most of those changes only declared what was already there; the tests below cover
the ones a type checker showed to be reachable failures, and the introspection
that the documentation tools rely on.
"""

from __future__ import annotations

import inspect

import matplotlib
import pandas as pd
import pytest

import uniml
from uniml.core.adapter import ProbabilityFrame
from uniml.core.explanation import Explanation
from uniml.core.schema import Column
from uniml.core.tasks import Task
from uniml.testing.causal import make_causal_data

matplotlib.use("Agg")


def _global_only() -> Explanation:
    # what DoWhyEffect.explain(frame, refute=False) returns: no contributions, no importance
    return Explanation(None, 1.5, "refutation", False, tables={"estimate": pd.DataFrame()})


def test_to_frame_without_importance_is_an_empty_table():
    # used to raise AttributeError: 'NoneType' object has no attribute 'rename_axis'
    frame = _global_only().to_frame()
    assert frame.columns.tolist() == ["feature", "importance"]
    assert len(frame) == 0


def test_plot_without_importance_names_the_problem():
    # used to raise AttributeError: 'NoneType' object has no attribute 'iloc'
    with pytest.raises(ValueError, match="no global importance"):
        _global_only().plot()


def test_dowhy_explain_without_refuters_converts_to_a_frame():
    data, _ = make_causal_data(n=200, seed=0)
    model = uniml.make("dowhy.effect", random_state=0).fit(data)
    exp = model.explain(data.frame.head(3), refute=False)
    assert exp.importance is None
    assert exp.to_frame().columns.tolist() == ["feature", "importance"]


def test_categorical_dtype_of_a_non_categorical_column_is_a_clear_type_error():
    with pytest.raises(TypeError, match="'price' is not categorical"):
        Column("price", "float64", "float").categorical_dtype()


def test_task_signature_is_the_value_lookup():
    assert list(inspect.signature(Task).parameters) == ["value"]
    assert Task("causal") is Task.CAUSAL
    assert [t.value for t in Task] == [
        "regression",
        "classification",
        "forecasting",
        "causal",
        "recommendation",
    ]


def test_probability_frame_constructor_is_dataframes():
    proba = ProbabilityFrame([[0.2, 0.8]], index=["r"], columns=["no", "yes"])
    assert proba[:, 1].tolist() == [0.8]
    assert type(proba * 2) is pd.DataFrame
    assert list(inspect.signature(ProbabilityFrame).parameters) == [
        "data",
        "index",
        "columns",
        "dtype",
        "copy",
    ]
