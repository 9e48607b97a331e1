"""Task kinds and their data contracts.

Every adapter declares one :class:`Task`. Each task has one data contract: a
small object that names the *roles* of the columns of a pandas DataFrame and
validates them when it is built, so a mistake surfaces as one
:class:`~uniml.DataContractError` naming the role and the column — before any
library sees the data.

==================  ====================  ============================================
task                contract              roles
==================  ====================  ============================================
regression          :class:`TabularData`  target, features, optional sample weight
classification      :class:`TabularData`  target, features, optional sample weight
forecasting         :class:`ForecastData` time, target, optional series id and exogenous
causal              :class:`CausalData`   outcome, treatment, effect modifiers (X),
                                          confounders (W), instruments (Z), graph
recommendation      :class:`InteractionData` user, item, optional weight and timestamp,
                                          optional user/item feature frames
==================  ====================  ============================================

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

import numpy as np
import pandas as pd

from uniml.core.errors import DataContractError
from uniml.core.schema import dtype_kind

__all__ = [
    "CausalData",
    "Dataset",
    "ForecastData",
    "InteractionData",
    "TabularData",
    "Task",
]


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
        return {
            Task.REGRESSION: TabularData,
            Task.CLASSIFICATION: TabularData,
            Task.FORECASTING: ForecastData,
            Task.CAUSAL: CausalData,
            Task.RECOMMENDATION: InteractionData,
        }[self]

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
    raise DataContractError(f"role {role!r}: expected a column name or a list of names, got {value!r}")


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
                raise DataContractError(f"role 'weight': column {self.weight!r} has negative values")

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


class ForecastData(Dataset):
    """Data contract of forecasting: long format, one row per series and time.

    Parameters
    ----------
    frame : pandas.DataFrame
    time : str
        Datetime column.
    target : str
        Numeric column to forecast.
    series_id : str or list of str, optional
        Column(s) identifying each series; omit for a single series.
    exog : list of str, optional
        Exogenous regressor columns (numeric).

    Raises
    ------
    DataContractError
        Non-datetime time column, non-numeric target or regressor, duplicated
        (series, time) pairs — naming the series.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2.0, 3.0]})
    >>> ForecastData(df, time="ds", target="y").n_series
    1
    """

    _single_roles = ("time", "target")
    _required_roles = ("time", "target")
    _multi_roles = ("series_id", "exog")
    task = Task.FORECASTING

    def __init__(self, frame, time, target, series_id=None, exog=None):
        super().__init__(frame, time=time, target=target, series_id=series_id, exog=exog)

    def validate(self) -> None:
        if dtype_kind(self.frame[self.time].dtype) != "datetime":
            raise DataContractError(
                f"role 'time': column {self.time!r} must be datetime, got {self.frame[self.time].dtype} "
                f"(convert with pd.to_datetime)"
            )
        self._require_numeric("target", self.target)
        self._require_no_missing("time", [self.time])
        self._require_no_missing("series_id", self.series_id)
        for name in self.exog:
            self._require_numeric("exog", name)
        keys = [*self.series_id, self.time]
        dup = self.frame.duplicated(keys)
        if dup.any():
            row = self.frame.loc[dup.to_numpy()].iloc[0]
            where = ", ".join(f"{k}={row[k]!r}" for k in keys)
            raise DataContractError(
                f"duplicated timestamps: {int(dup.sum())} row(s) repeat a (series, time) pair, "
                f"first at {where}"
            )

    @property
    def n_series(self) -> int:
        """Number of distinct series."""
        if not self.series_id:
            return 1
        return int(self.frame.groupby(list(self.series_id), sort=False, observed=True).ngroups)


class CausalData(Dataset):
    """Data contract of causal effect estimation and uplift.

    Parameters
    ----------
    frame : pandas.DataFrame
    outcome : str
        Numeric outcome column.
    treatment : str
        Treatment column: binary, multi-valued or continuous; must be numeric
        (or boolean) and not constant.
    effect_modifiers : list of str, optional
        Columns the effect varies with (EconML's ``X``).
    confounders : list of str, optional
        Common causes adjusted for (EconML's ``W``).
    instruments : list of str, optional
        Instrumental variables (``Z``).
    graph : str or networkx graph, optional
        Causal graph (DOT or GML string) for DoWhy.

    Raises
    ------
    DataContractError
        A column in two roles, a non-numeric or constant treatment, missing
        values in any role.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [0, 1, 0, 1], "y": [1.0, 2.0, 1.5, 2.5], "w": [0.1, 0.2, 0.3, 0.4]})
    >>> CausalData(df, outcome="y", treatment="t", confounders=["w"]).treatment_type
    'binary'
    """

    _single_roles = ("outcome", "treatment", "graph")
    _required_roles = ("outcome", "treatment")
    _multi_roles = ("effect_modifiers", "confounders", "instruments")
    task = Task.CAUSAL

    def __init__(
        self, frame, outcome, treatment, effect_modifiers=None, confounders=None, instruments=None, graph=None
    ):
        super().__init__(
            frame,
            outcome=outcome,
            treatment=treatment,
            effect_modifiers=effect_modifiers,
            confounders=confounders,
            instruments=instruments,
            graph=graph,
        )

    def _role_columns(self):
        for role, names in super()._role_columns():
            if role != "graph":
                yield role, names

    def validate(self) -> None:
        self._require_numeric("outcome", self.outcome)
        t = self.frame[self.treatment]
        if dtype_kind(t.dtype) not in ("float", "integer", "bool"):
            raise DataContractError(
                f"role 'treatment': column {self.treatment!r} has dtype {t.dtype}; encode it as "
                f"numbers (e.g. 0/1, or integer codes for several arms) before estimating effects"
            )
        for role in ("outcome", "treatment", "effect_modifiers", "confounders", "instruments"):
            names = getattr(self, role)
            self._require_no_missing(role, (names,) if isinstance(names, str) else names)
        if t.nunique() < 2:
            raise DataContractError(
                f"role 'treatment': column {self.treatment!r} is constant; effects are not identifiable"
            )

    @property
    def treatment_type(self) -> str:
        """``"binary"``, ``"multi"`` (a few discrete arms) or ``"continuous"``."""
        t = self.frame[self.treatment]
        n = t.nunique()
        if n == 2:
            return "binary"
        if dtype_kind(t.dtype) in ("integer", "bool") or (n <= 10 and np.allclose(t, np.round(t))):
            return "multi"
        return "continuous"


class InteractionData(Dataset):
    """Data contract of recommendation: one row per user-item interaction.

    Parameters
    ----------
    frame : pandas.DataFrame
    user, item : str
        Id columns (any hashable values).
    weight : str, optional
        Interaction strength / rating (numeric).
    timestamp : str, optional
        Interaction time (datetime or numeric), for temporal splits.
    user_features, item_features : pandas.DataFrame, optional
        Feature frames indexed by user id / item id.

    Raises
    ------
    DataContractError
        Missing ids, non-numeric weights, feature frames with duplicated ids.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": ["a", "a", "b"], "i": [1, 2, 1]})
    >>> InteractionData(df, user="u", item="i").n_users
    2
    """

    _single_roles = ("user", "item", "weight", "timestamp", "user_features", "item_features")
    _required_roles = ("user", "item")
    task = Task.RECOMMENDATION

    def __init__(self, frame, user, item, weight=None, timestamp=None, user_features=None, item_features=None):
        super().__init__(
            frame,
            user=user,
            item=item,
            weight=weight,
            timestamp=timestamp,
            user_features=user_features,
            item_features=item_features,
        )

    def validate(self) -> None:
        self._require_no_missing("user", [self.user])
        self._require_no_missing("item", [self.item])
        if self.weight is not None:
            self._require_numeric("weight", self.weight)
            self._require_no_missing("weight", [self.weight])
        for role in ("user_features", "item_features"):
            feats = getattr(self, role)
            if feats is None:
                continue
            if not isinstance(feats, pd.DataFrame):
                raise DataContractError(f"role {role!r}: expected a DataFrame indexed by id")
            if feats.index.has_duplicates:
                dup = feats.index[feats.index.duplicated()][0]
                raise DataContractError(f"role {role!r}: id {dup!r} appears more than once")

    @property
    def n_users(self) -> int:
        """Number of distinct users."""
        return int(self.frame[self.user].nunique())

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return int(self.frame[self.item].nunique())
