"""Task kinds and their data contracts.

Every adapter declares one :class:`Task`. Each task has one data contract: a
small object that names the *roles* of the columns of a pandas DataFrame and
validates them when it is built, so a mistake surfaces as one
:class:`~uniml.DataContractError` naming the role and the column — before any
library sees the data.

================  ===============================================  =====================================
task              contract                                         roles
================  ===============================================  =====================================
regression        :class:`TabularData`                             target, features, sample weight
classification    :class:`TabularData`                             target, features, sample weight
forecasting       :class:`~uniml.core.forecasting.ForecastData`      time, target, series id, exogenous
causal            :class:`~uniml.core.causal.CausalData`             outcome, treatment, modifiers (X),
                                                                   confounders (W), instruments (Z), graph
recommendation    :class:`~uniml.core.recommendation.InteractionData`  user, item, weight, timestamp,
                                                                   user/item feature frames
================  ===============================================  =====================================

Examples
--------
>>> import pandas as pd
>>> from uniml.core.tasks import TabularData
>>> data = TabularData(pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, 0.7]}), target="y")
>>> data.features
('x',)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

import pandas as pd

from uniml.core.errors import DataContractError
from uniml.core.schema import dtype_kind

__all__ = ["Dataset", "TabularData", "Task"]


class Task(str, Enum):
    """The five task kinds.

    Examples
    --------
    >>> Task("regression") is Task.REGRESSION
    True
    >>> Task.FORECASTING.contract.__name__
    'ForecastData'
    """

    REGRESSION = "regression"
    CLASSIFICATION = "classification"
    FORECASTING = "forecasting"
    CAUSAL = "causal"
    RECOMMENDATION = "recommendation"

    @property
    def contract(self) -> type[Dataset]:
        """The data-contract class of this task."""
        import importlib

        module, name = {
            Task.REGRESSION: ("uniml.core.tasks", "TabularData"),
            Task.CLASSIFICATION: ("uniml.core.tasks", "TabularData"),
            Task.FORECASTING: ("uniml.core.forecasting", "ForecastData"),
            Task.CAUSAL: ("uniml.core.causal", "CausalData"),
            Task.RECOMMENDATION: ("uniml.core.recommendation", "InteractionData"),
        }[self]
        return getattr(importlib.import_module(module), name)

    @property
    def is_tabular(self) -> bool:
        """True for regression and classification."""
        return self in (Task.REGRESSION, Task.CLASSIFICATION)

    def __str__(self) -> str:
        return self.value


def _as_names(value, role: str) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, int)):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    raise DataContractError(
        f"role {role!r}: expected a column name or a list of names, got {value!r}"
    )


class Dataset:
    """Base of the data contracts: a frame plus named column roles.

    Subclasses list their roles in ``_single_roles`` (one column, maybe
    optional) and ``_multi_roles`` (several columns). Construction checks that
    the frame is a DataFrame, that every named column exists, and that no
    column plays two roles.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data, unchanged (never copied or reordered).

    Examples
    --------
    >>> import pandas as pd
    >>> data = TabularData(pd.DataFrame({"a": [1.0], "y": [2.0]}), target="y")
    >>> isinstance(data, Dataset), len(data)
    (True, 1)
    """

    _single_roles: tuple[str, ...] = ()
    _required_roles: tuple[str, ...] = ()
    _multi_roles: tuple[str, ...] = ()
    task: Task | None = None

    def __init__(self, frame: pd.DataFrame, **roles: Any):
        if not isinstance(frame, pd.DataFrame):
            raise DataContractError(
                f"{type(self).__name__} needs a pandas DataFrame, got {type(frame).__name__}"
            )
        self.frame = frame
        for role in self._single_roles:
            setattr(self, role, roles.pop(role, None))
        for role in self._multi_roles:
            setattr(self, role, _as_names(roles.pop(role, None), role))
        if roles:
            raise DataContractError(
                f"{type(self).__name__} has no role(s) {sorted(roles)}; its roles are "
                f"{list(self._single_roles + self._multi_roles)}"
            )
        self._validate_roles()
        self.validate()

    # -- role bookkeeping
    def roles(self) -> dict[str, Any]:
        """Mapping of role name to column name(s), omitting unset roles.

        Examples
        --------
        >>> import pandas as pd
        >>> TabularData(pd.DataFrame({"a": [1.0], "y": [2.0]}), target="y").roles()
        {'target': 'y', 'features': ('a',)}
        """
        out = {}
        for role in self._single_roles + self._multi_roles:
            value = getattr(self, role)
            if value not in (None, ()):
                out[role] = value
        return out

    def _validate_roles(self) -> None:
        columns = set(self.frame.columns)
        seen: dict = {}
        for role in self._required_roles:
            if getattr(self, role) is None:
                raise DataContractError(f"{type(self).__name__}: role {role!r} is required")
        for role, names in self._role_columns():
            for name in names:
                if name not in columns:
                    raise DataContractError(
                        f"role {role!r}: column {name!r} is not in the frame "
                        f"(columns: {list(self.frame.columns)[:10]})"
                    )
                if name in seen and seen[name] != role:
                    raise DataContractError(
                        f"column {name!r} is used in two roles: {seen[name]!r} and {role!r}"
                    )
                seen[name] = role

    def _role_columns(self):
        for role in self._single_roles:
            value = getattr(self, role)
            if value is not None and not isinstance(value, (pd.DataFrame, nx_graph_types())):
                yield role, (value,)
        for role in self._multi_roles:
            yield role, getattr(self, role)

    def _require_no_missing(self, role: str, names: Sequence) -> None:
        for name in names:
            if self.frame[name].isna().any():
                n = int(self.frame[name].isna().sum())
                raise DataContractError(f"role {role!r}: column {name!r} has {n} missing value(s)")

    def _require_numeric(self, role: str, name) -> None:
        kind = dtype_kind(self.frame[name].dtype)
        if kind not in ("float", "integer", "bool"):
            raise DataContractError(
                f"role {role!r}: column {name!r} must be numeric, got {self.frame[name].dtype}"
            )

    def validate(self) -> None:
        """Task-specific checks; subclasses extend."""

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        roles = ", ".join(f"{k}={v!r}" for k, v in self.roles().items())
        return f"{type(self).__name__}(<{len(self.frame)} rows>, {roles})"


def nx_graph_types() -> tuple:
    """Graph types accepted as the causal graph role (networkx, if installed)."""
    import sys

    nx = sys.modules.get("networkx")
    return (nx.Graph,) if nx is not None else ()


class TabularData(Dataset):
    """Data contract of regression and classification.

    Parameters
    ----------
    frame : pandas.DataFrame
    target : str
        The column to predict; must have no missing values.
    features : list of str, optional
        Feature columns, in model order. Default: every column except the
        target and the weight.
    weight : str, optional
        Column of sample weights (non-negative numbers).

    Attributes
    ----------
    X : pandas.DataFrame
        The feature columns (a view, not a copy).
    y : pandas.Series
        The target.

    Raises
    ------
    DataContractError
        Unknown columns, a column in two roles, missing target values,
        negative weights, no features.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4], "y": [0, 1]})
    >>> TabularData(df, target="y", features=["b"]).X.columns.tolist()
    ['b']
    """

    _single_roles = ("target", "weight")
    _required_roles = ("target",)
    _multi_roles = ("features",)

    def __init__(self, frame, target, features=None, weight=None):
        super().__init__(frame, target=target, features=features, weight=weight)

    def validate(self) -> None:
        if not self.features:
            skip = {self.target, self.weight}
            self.features = tuple(c for c in self.frame.columns if c not in skip)
        if not self.features:
            raise DataContractError("role 'features': no feature columns left besides the target")
        self._require_no_missing("target", [self.target])
        if self.weight is not None:
            self._require_numeric("weight", self.weight)
            self._require_no_missing("weight", [self.weight])
            if (self.frame[self.weight] < 0).any():
                raise DataContractError(
                    f"role 'weight': column {self.weight!r} has negative values"
                )

    @property
    def X(self) -> pd.DataFrame:
        """The feature columns, in ``features`` order."""
        return self.frame[list(self.features)]

    @property
    def y(self) -> pd.Series:
        """The target column."""
        return self.frame[self.target]

    @property
    def sample_weight(self) -> pd.Series | None:
        """The weight column, or None."""
        return None if self.weight is None else self.frame[self.weight]
