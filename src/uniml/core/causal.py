"""Causal effects and uplift: the :class:`CausalData` contract.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"t": [0, 1, 0, 1], "y": [1.0, 2.0, 1.5, 2.5]})
>>> CausalData(df, outcome="y", treatment="t").treatment_type
'binary'
"""

from __future__ import annotations

import numpy as np

from uniml.core.errors import DataContractError
from uniml.core.schema import dtype_kind
from uniml.core.tasks import Dataset, Task

__all__ = ["CausalData"]


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
