"""Data contracts of the five task kinds: construction-time validation with clear errors."""

import inspect

import numpy as np
import pandas as pd
import pytest

import uniml
from uniml import CausalData, DataContractError, ForecastData, InteractionData, TabularData, Task


def test_every_task_has_a_contract():
    assert {t.value for t in Task} == {
        "regression",
        "classification",
        "forecasting",
        "causal",
        "recommendation",
    }
    assert Task.CAUSAL.contract is CausalData
    assert Task.RECOMMENDATION.contract is InteractionData
    assert Task.REGRESSION.is_tabular and not Task.FORECASTING.is_tabular


def test_tabular_data_defaults_and_errors():
    df = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0], "b": [1, 2, 3], "y": [0.1, 0.2, 0.3], "w": [1.0, 1.0, 2.0]}
    )
    data = TabularData(df, target="y", weight="w")
    assert data.features == ("a", "b") and data.X.columns.tolist() == ["a", "b"]
    assert data.y.name == "y" and data.sample_weight.tolist() == [1.0, 1.0, 2.0]
    with pytest.raises(DataContractError, match="role 'target': column 'nope' is not in the frame"):
        TabularData(df, target="nope")
    with pytest.raises(DataContractError, match="column 'a' is used in two roles"):
        TabularData(df, target="a", features=["a", "b"])
    with pytest.raises(DataContractError, match="missing value"):
        TabularData(df.assign(y=[0.1, np.nan, 0.3]), target="y")
    with pytest.raises(DataContractError, match="negative"):
        TabularData(df.assign(w=[1.0, -1.0, 1.0]), target="y", weight="w")
    with pytest.raises(DataContractError, match="needs a pandas DataFrame"):
        TabularData(df.to_numpy(), target="y")
    with pytest.raises(DataContractError, match="no feature columns"):
        TabularData(df[["y"]], target="y")


def _daily(n=10, series=("s1", "s2")):
    parts = [
        pd.DataFrame(
            {
                "store": s,
                "ds": pd.date_range("2024-01-01", periods=n),
                "y": np.arange(n, dtype=float),
                "price": 1.0,
            }
        )
        for s in series
    ]
    return pd.concat(parts, ignore_index=True)


def test_forecast_data_roles_and_errors():
    df = _daily()
    data = ForecastData(df, time="ds", target="y", series_id="store", exog=["price"])
    assert data.n_series == 2 and data.series_id == ("store",) and data.exog == ("price",)
    with pytest.raises(DataContractError, match="must be datetime"):
        ForecastData(df.assign(ds=df["ds"].astype(str)), time="ds", target="y")
    with pytest.raises(DataContractError, match=r"duplicated timestamps.*store='s1'"):
        ForecastData(pd.concat([df, df.iloc[[0]]]), time="ds", target="y", series_id="store")
    with pytest.raises(DataContractError, match="role 'exog'.*numeric"):
        ForecastData(
            df.assign(price="cheap"), time="ds", target="y", series_id="store", exog=["price"]
        )
    with pytest.raises(DataContractError, match="role 'time' is required"):
        ForecastData(df, time=None, target="y")


def test_causal_data_roles_and_errors():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "t": rng.integers(0, 2, 50),
            "y": rng.normal(size=50),
            "x": rng.normal(size=50),
            "w": rng.normal(size=50),
            "z": rng.normal(size=50),
        }
    )
    data = CausalData(
        df,
        outcome="y",
        treatment="t",
        effect_modifiers=["x"],
        confounders=["w"],
        instruments=["z"],
        graph="digraph {t -> y}",
    )
    assert data.treatment_type == "binary" and data.graph.startswith("digraph")
    assert (
        CausalData(df.assign(t=rng.normal(size=50)), outcome="y", treatment="t").treatment_type
        == "continuous"
    )
    assert (
        CausalData(df.assign(t=rng.integers(0, 3, 50)), outcome="y", treatment="t").treatment_type
        == "multi"
    )
    with pytest.raises(DataContractError, match="column 'x' is used in two roles"):
        CausalData(df, outcome="y", treatment="t", effect_modifiers=["x"], confounders=["x"])
    with pytest.raises(DataContractError, match="encode it as numbers"):
        CausalData(df.assign(t=np.where(df["t"] == 1, "promo", "none")), outcome="y", treatment="t")
    with pytest.raises(DataContractError, match="constant"):
        CausalData(df.assign(t=1), outcome="y", treatment="t")
    with pytest.raises(DataContractError, match=r"role 'confounders': column 'w' has 1 missing"):
        CausalData(
            df.assign(w=df["w"].where(df.index != 3)), outcome="y", treatment="t", confounders=["w"]
        )


def test_interaction_data_roles_and_errors():
    df = pd.DataFrame({"user": ["a", "a", "b"], "item": [1, 2, 1], "rating": [5.0, 3.0, 4.0]})
    feats = pd.DataFrame({"age": [30, 40]}, index=["a", "b"])
    data = InteractionData(df, user="user", item="item", weight="rating", user_features=feats)
    assert (data.n_users, data.n_items) == (2, 2)
    roles = data.roles()  # feature frames are roles too, returned as given
    assert roles["user"] == "user" and roles["weight"] == "rating"
    assert roles["user_features"] is feats and "item_features" not in roles
    with pytest.raises(
        DataContractError, match="role 'user_features': id 'a' appears more than once"
    ):
        InteractionData(df, user="user", item="item", user_features=pd.concat([feats, feats]))
    with pytest.raises(DataContractError, match="role 'item': column 'item' has 1 missing"):
        InteractionData(df.assign(item=[1, None, 1]), user="user", item="item")
    with pytest.raises(TypeError, match="rating"):
        InteractionData(df, user="user", item="item", rating="rating")


def test_data_contract_errors_are_value_errors_and_uniml_errors():
    assert issubclass(uniml.DataContractError, ValueError)
    assert issubclass(uniml.DataContractError, uniml.UnimlError)


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
