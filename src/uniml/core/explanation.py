"""The one explanation type every adapter returns.

Examples
--------
>>> import pandas as pd
>>> from uniml.core.explanation import Explanation
>>> contrib = pd.DataFrame({"a": [1.0, -1.0], "b": [0.5, 0.0]})
>>> e = Explanation(contrib, base_value=10.0, kind="linear", additive=True,
...                 prediction=pd.Series([11.5, 9.0]))
>>> e.additivity_error()
0.0
>>> e.importance.to_dict()
{'a': 1.0, 'b': 0.25}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["KINDS", "Explanation"]

#: Known explanation kinds and what they mean.
KINDS = {
    "tree_shap": "exact TreeSHAP contributions from the library's native implementation",
    "linear": "exact coefficient contributions, coef * (x - mean of training x)",
    "permutation": "permutation importance (global only)",
    "forecast_components": "additive forecast components (trend, seasonalities, regressors)",
    "causal_drivers": "SHAP values of the conditional average treatment effect",
    "refutation": "estimand, estimate and refutation tests",
    "recsys_features": "user/item bias and feature-interaction contributions to each score",
}


@dataclass
class Explanation:
    """Per-row contributions, global importance and a base value, for any adapter.

    Parameters
    ----------
    contributions : pandas.DataFrame or None
        Rows aligned to the explained input's index; one column per feature
        (or component). Multi-output models (multiclass) use two-level
        columns ``(output, feature)``. ``None`` for global-only kinds.
    base_value : float or pandas.Series
        Expected model output (a Series indexed by output for multi-output).
    kind : str
        One of :data:`KINDS`.
    additive : bool
        Whether ``base_value + contributions.sum(axis=1) == prediction`` holds.
    prediction : pandas.Series or pandas.DataFrame, optional
        The model output the contributions add up to (in ``space``).
    space : str
        Output space of ``base_value``/``prediction``: ``"raw"`` (the
        prediction itself), ``"margin"`` (log-odds / raw score before the link),
        or another named space.
    importance : pandas.Series, optional
        Global importance per feature, sorted descending. Derived from mean
        absolute contributions when not given.
    tables : dict of str to pandas.DataFrame
        Further tables (inference tables, refutations...).
    meta : dict
        Free-form details (estimator, method...).

    Examples
    --------
    >>> import pandas as pd
    >>> e = Explanation(pd.DataFrame({"x": [2.0]}), 1.0, "linear", True, pd.Series([3.0]))
    >>> e.to_frame()
       row feature  contribution
    0    0       x           2.0
    """

    contributions: pd.DataFrame | None
    base_value: Any
    kind: str
    additive: bool
    prediction: Any = None
    space: str = "raw"
    importance: pd.Series | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown explanation kind {self.kind!r}; known: {sorted(KINDS)}")
        if self.additive and (self.contributions is None or self.prediction is None):
            raise ValueError("an additive explanation needs contributions and the prediction")
        if self.importance is None and self.contributions is not None:
            imp = self.contributions.abs().mean(axis=0)
            if isinstance(imp.index, pd.MultiIndex):  # multi-output: average over outputs
                imp = imp.T.groupby(level=-1, sort=False).mean()
            self.importance = imp.sort_values(ascending=False, kind="stable")
        if self.importance is not None:
            self.importance = self.importance.rename("importance")

    # -------------------------------------------------------------- queries
    @property
    def is_multi_output(self) -> bool:
        """True when contributions have ``(output, feature)`` columns."""
        return self.contributions is not None and isinstance(
            self.contributions.columns, pd.MultiIndex
        )

    @property
    def outputs(self) -> list:
        """Output labels (classes) of a multi-output explanation, else ``[]``."""
        contributions = self.contributions
        if contributions is None or not isinstance(contributions.columns, pd.MultiIndex):
            return []
        return list(contributions.columns.get_level_values(0).unique())

    def for_output(self, output: Any) -> Explanation:
        """The single-output explanation of one output (class) of a multi-output one.

        Parameters
        ----------
        output : label
            One of :attr:`outputs`.

        Returns
        -------
        Explanation
            Contributions of that output only, its base value and prediction;
            ``meta["output"]`` names the output.

        Raises
        ------
        ValueError
            The explanation is not multi-output.

        Examples
        --------
        >>> import pandas as pd
        >>> cols = pd.MultiIndex.from_product([["a", "b"], ["x"]])
        >>> e = Explanation(pd.DataFrame([[1.0, 2.0]], columns=cols), pd.Series({"a": 0.0, "b": 1.0}),
        ...                 "tree_shap", True, pd.DataFrame({"a": [1.0], "b": [3.0]}), space="margin")
        >>> e.for_output("b").additivity_error()
        0.0
        """
        contributions = self.contributions
        if contributions is None or not isinstance(contributions.columns, pd.MultiIndex):
            raise ValueError("for_output() applies to multi-output explanations only")
        return Explanation(
            contributions[output],
            float(self.base_value[output]),
            self.kind,
            self.additive,
            None if self.prediction is None else self.prediction[output],
            self.space,
            tables=self.tables,
            meta={**self.meta, "output": output},
        )

    def reconstruction(self) -> pd.Series | pd.DataFrame:
        """``base_value + row-sum of contributions`` (per output for multi-output).

        Returns
        -------
        pandas.Series or pandas.DataFrame
            One value per row; a DataFrame with one column per output for a
            multi-output explanation.

        Raises
        ------
        ValueError
            The explanation has no per-row contributions.

        Examples
        --------
        >>> import pandas as pd
        >>> e = Explanation(pd.DataFrame({"x": [2.0], "z": [0.5]}), 1.0, "linear", True, pd.Series([3.5]))
        >>> e.reconstruction().tolist()
        [3.5]
        """
        if self.contributions is None:
            raise ValueError(f"a {self.kind!r} explanation has no per-row contributions")
        if self.is_multi_output:
            sums = self.contributions.T.groupby(level=0, sort=False).sum().T
            return sums + self.base_value
        return self.contributions.sum(axis=1) + self.base_value

    def additivity_error(self) -> float:
        """Largest absolute gap between :meth:`reconstruction` and ``prediction``.

        Returns
        -------
        float
        """
        if self.prediction is None:
            raise ValueError("no prediction recorded to compare against")
        rec = np.asarray(self.reconstruction(), dtype=float)
        pred = np.asarray(self.prediction, dtype=float)
        return float(np.max(np.abs(rec - pred))) if rec.size else 0.0

    # ---------------------------------------------------------------- output
    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per (row, [output,] feature) with its contribution.

        Global-only explanations return one row per feature with its importance.

        Returns
        -------
        pandas.DataFrame
            Columns ``row``, [``output``,] ``feature``, ``contribution``; or
            ``feature``, ``importance`` for global-only explanations.
        """
        if self.contributions is None:
            if self.importance is None:  # e.g. a refutation explained without refuters
                return pd.DataFrame(
                    {"feature": pd.Series(dtype=object), "importance": pd.Series(dtype=float)}
                )
            return self.importance.rename_axis("feature").reset_index()
        c = self.contributions.rename_axis(index="row")
        if self.is_multi_output:
            c.columns = c.columns.set_names(["output", "feature"])
            long = c.stack(level=[0, 1], future_stack=True)
        else:
            c.columns = c.columns.set_names("feature")
            long = c.stack(future_stack=True)
        return long.rename("contribution").reset_index()

    def plot(self, row=None, top: int = 15, ax=None):
        """Draw global importance, or one row's contributions as a waterfall-style bar chart.

        Parameters
        ----------
        row : label, optional
            Index label of the row to show; default global importance.
        top : int
            Number of features shown (the rest are summed into "other").
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        ValueError
            ``row`` is None and the explanation has no global importance, or
            ``row`` is given and it has no per-row contributions (or several
            outputs).

        Examples
        --------
        >>> import pandas as pd
        >>> e = Explanation(pd.DataFrame({"x": [2.0, 1.0]}), 1.0, "linear", True, pd.Series([3.0, 2.0]))
        >>> ax = e.plot()
        >>> ax.get_title()
        'Global importance (linear)'
        """
        from uniml.core.dependencies import import_optional

        plt = import_optional("matplotlib.pyplot", "plot", "Explanation.plot()")
        if row is None:
            if self.importance is None:
                raise ValueError(f"this {self.kind!r} explanation has no global importance to plot")
            values = self.importance
            title = f"Global importance ({self.kind})"
        else:
            if self.contributions is None:
                raise ValueError(f"a {self.kind!r} explanation has no per-row contributions")
            contrib = self.contributions.loc[row]
            if self.is_multi_output:
                raise ValueError(
                    "pick one output first: explanation.for_output(label).plot(row=...)"
                )
            values = contrib.reindex(
                contrib.abs().sort_values(ascending=False, kind="stable").index
            )
            title = f"Contributions for row {row!r} (base {float(self.base_value):.4g})"
        shown = values.iloc[:top]
        if len(values) > top:
            shown = pd.concat(
                [shown, pd.Series({f"other ({len(values) - top})": values.iloc[top:].sum()})]
            )
        shown = shown.iloc[::-1]
        if ax is None:  # height follows the bars actually drawn
            _, ax = plt.subplots(figsize=(7, 0.35 * min(len(shown), 25) + 1.2))
        colors = ["#2b7bba" if v >= 0 else "#d1495b" for v in shown.to_numpy()]
        ax.barh([str(i) for i in shown.index], shown.to_numpy(), color=colors)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(title)
        if row is not None:
            ax.set_xlabel("contribution")
        else:
            ax.set_xlabel(
                "importance"
            )  # adapters may supply their own, not only mean |contribution|
        ax.figure.tight_layout()
        return ax

    def __repr__(self) -> str:
        shape = None if self.contributions is None else self.contributions.shape
        top = [] if self.importance is None else list(self.importance.index[:3])
        return (
            f"Explanation(kind={self.kind!r}, additive={self.additive}, space={self.space!r}, "
            f"contributions={shape}, top={top})"
        )
