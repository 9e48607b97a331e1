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

import inspect
from collections.abc import Hashable, Iterable, Iterator, Sequence
from enum import Enum
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from uniml.core.errors import DataContractError
from uniml.core.schema import dtype_kind

__all__ = ["Dataset", "TabularData", "Task", "count_infinite"]


def count_infinite(values) -> int:
    """How many ``inf``/``-inf`` entries a numeric Series, array or frame holds (0 for others).

    Parameters
    ----------
    values : pandas.Series, pandas.DataFrame or array-like
        The values to scan; non-float columns count 0.

    Returns
    -------
    int
        The number of infinite entries.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> count_infinite(pd.Series([1.0, np.inf, -np.inf])), count_infinite(pd.Series(["a"]))
    (2, 0)
    """
    if isinstance(values, pd.DataFrame):
        return sum(count_infinite(values[c]) for c in values.columns)
    if isinstance(values, pd.Series):
        if not pd.api.types.is_float_dtype(values.dtype):
            return 0
        arr = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        arr = np.asarray(values)
        if arr.dtype.kind != "f":
            return 0
    return int(np.isinf(arr).sum())


class Task(str, Enum):
    """The five task kinds.

    Parameters
    ----------
    value : str or Task
        ``"regression"``, ``"classification"``, ``"forecasting"``,
        ``"causal"`` or ``"recommendation"``.

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

    # what ``inspect.signature(Task)`` reports: the lookup ``Task(value)``, not the
    # functional API of the Enum metaclass (Python 3.12+ derives this by itself)
    __signature__ = inspect.Signature(
        [inspect.Parameter("value", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    )

    def __init__(self, value: str) -> None:
        # Enum hands each member its value here; declared so that documentation
        # tools reading the source see the same ``Task(value)`` signature
        super().__init__()

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


def _as_names(value: Any, role: str) -> tuple:
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

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    **roles
        Role name -> column name (single roles) or list of names (multi
        roles); only the roles the subclass declares.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data, unchanged (never copied or reordered).

    Raises
    ------
    DataContractError
        ``frame`` is not a DataFrame, a role is unknown or names a missing
        column, a column plays two roles, or the subclass's checks fail.

    Examples
    --------
    >>> import pandas as pd
    >>> data = TabularData(pd.DataFrame({"a": [1.0], "y": [2.0]}), target="y")
    >>> isinstance(data, Dataset), len(data)
    (True, 1)
    """

    _single_roles: ClassVar[tuple[str, ...]] = ()
    _required_roles: ClassVar[tuple[str, ...]] = ()
    _multi_roles: ClassVar[tuple[str, ...]] = ()
    task: ClassVar[Task | None] = None
    frame: pd.DataFrame

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

        Returns
        -------
        dict
            Role name -> column name (single roles) or tuple of names (multi
            roles); feature frames and graphs as given.

        Examples
        --------
        >>> import pandas as pd
        >>> TabularData(pd.DataFrame({"a": [1.0], "y": [2.0]}), target="y").roles()
        {'target': 'y', 'features': ('a',)}
        """
        out: dict[str, Any] = {}
        for role in self._single_roles + self._multi_roles:
            value = getattr(self, role)
            # `in (None, ())` would compare a feature DataFrame element-wise
            if value is None or (isinstance(value, tuple) and not value):
                continue
            out[role] = value
        return out

    def _validate_roles(self) -> None:
        columns = set(self.frame.columns)
        seen: dict[Hashable, str] = {}
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

    def _role_columns(self) -> Iterator[tuple[str, Sequence[Hashable]]]:
        for role in self._single_roles:
            value = getattr(self, role)
            if value is not None and not isinstance(value, (pd.DataFrame, nx_graph_types())):
                yield role, (value,)
        for role in self._multi_roles:
            yield role, getattr(self, role)

    def _require_no_missing(self, role: str, names: Sequence[Hashable]) -> None:
        for name in names:
            if self.frame[name].isna().any():
                n = int(self.frame[name].isna().sum())
                raise DataContractError(f"role {role!r}: column {name!r} has {n} missing value(s)")
        self._require_finite(role, names)

    def _require_finite(self, role: str, names: Sequence[Hashable]) -> None:
        """Refuse ``inf``/``-inf`` in numeric columns (no wrapped library handles them alike)."""
        for name in names:
            n = count_infinite(self.frame[name])
            if n:
                raise DataContractError(
                    f"role {role!r}: column {name!r} has {n} infinite value(s) (inf/-inf); "
                    f"replace or drop them first"
                )

    def _require_numeric(self, role: str, name: Hashable) -> None:
        kind = dtype_kind(self.frame[name].dtype)
        if kind not in ("float", "integer", "bool"):
            raise DataContractError(
                f"role {role!r}: column {name!r} must be numeric, got {self.frame[name].dtype}"
            )

    def validate(self) -> None:
        """Task-specific checks, run at construction; subclasses extend.

        Raises
        ------
        DataContractError
            The data breaks the contract (the subclass's message names the
            role and the column).
        """

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        roles = ", ".join(f"{k}={v!r}" for k, v in self.roles().items())
        return f"{type(self).__name__}(<{len(self.frame)} rows>, {roles})"


def nx_graph_types() -> tuple[type, ...]:
    """Graph types accepted as the causal graph role (networkx, if installed)."""
    import sys

    nx = sys.modules.get("networkx")
    return (nx.Graph,) if nx is not None else ()


class TabularData(Dataset):
    """Data contract of regression and classification.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data (features, target and optional weights).
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
    target: Hashable
    weight: Hashable | None
    features: tuple[Hashable, ...]

    def __init__(
        self,
        frame: pd.DataFrame,
        target: Hashable,
        features: Iterable[Hashable] | None = None,
        weight: Hashable | None = None,
    ):
        super().__init__(frame, target=target, features=features, weight=weight)

    def validate(self) -> None:
        """Fill the default features and check the target and the weights.

        Raises
        ------
        DataContractError
            No feature columns, missing target values, a non-numeric,
            incomplete or negative weight column.
        """
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
