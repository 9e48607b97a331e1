"""Causal effects and uplift: the :class:`CausalData` contract.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"t": [0, 1, 0, 1], "y": [1.0, 2.0, 1.5, 2.5]})
>>> CausalData(df, outcome="y", treatment="t").treatment_type
'binary'
"""

from __future__ import annotations

import pickle
import time
from abc import abstractmethod
from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uniml.core import events
from uniml.core.adapter import Adapter
from uniml.core.errors import DataContractError, ParameterError, SchemaError, UnimlError
from uniml.core.explanation import Explanation
from uniml.core.schema import Schema, dtype_kind
from uniml.core.tasks import Dataset, Task

__all__ = [
    "EFFECT_COLUMNS",
    "TARGETS",
    "CausalAdapter",
    "CausalData",
    "seeded_global_numpy",
    "z_interval",
]


class CausalData(Dataset):
    """Data contract of causal effect estimation and uplift.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit.
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
    outcome: Hashable
    treatment: Hashable
    graph: Any
    effect_modifiers: tuple[Hashable, ...]
    confounders: tuple[Hashable, ...]
    instruments: tuple[Hashable, ...]

    def __init__(
        self,
        frame: pd.DataFrame,
        outcome: Hashable,
        treatment: Hashable,
        effect_modifiers: Iterable[Hashable] | None = None,
        confounders: Iterable[Hashable] | None = None,
        instruments: Iterable[Hashable] | None = None,
        graph: Any = None,
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

    def _role_columns(self) -> Iterator[tuple[str, Sequence[Hashable]]]:
        for role, names in super()._role_columns():
            if role != "graph":
                yield role, names

    def validate(self) -> None:
        """Check the outcome and the treatment, and that no role has missing values.

        Raises
        ------
        DataContractError
            A non-numeric outcome or treatment, a constant treatment, missing
            values in any role — naming the role and the column.
        """
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

    # ------------------------------------------------------------ role views
    @property
    def Y(self) -> pd.Series:
        """The outcome column."""
        return self.frame[self.outcome]

    @property
    def T(self) -> pd.Series:
        """The treatment column."""
        return self.frame[self.treatment]

    @property
    def X(self) -> pd.DataFrame:
        """The effect-modifier columns (may have no columns)."""
        return self.frame[list(self.effect_modifiers)]

    @property
    def W(self) -> pd.DataFrame:
        """The confounder columns (may have no columns)."""
        return self.frame[list(self.confounders)]

    @property
    def Z(self) -> pd.DataFrame:
        """The instrument columns (may have no columns)."""
        return self.frame[list(self.instruments)]


#: named sets of units :meth:`CausalAdapter.effect_summary` averages over
TARGETS = ("ate", "att", "atc")

#: columns of :meth:`CausalAdapter.predict`
EFFECT_COLUMNS = ("effect", "lower", "upper")


class CausalAdapter(Adapter):
    """Base of causal-effect adapters: ``fit(CausalData)`` / ``predict(frame)`` -> CATE.

    ``fit`` takes a :class:`CausalData` or a frame plus the column roles.
    ``predict(frame)`` returns the conditional average treatment effect (CATE)
    of each row with its interval, as a DataFrame indexed like ``frame`` with
    columns ``effect``, ``lower``, ``upper``; ``effect_summary()`` returns the
    average treatment effect (ATE) over the training rows with its interval.

    The schema captured at ``fit`` (``schema_``) is the effect modifiers'.
    ``predict`` and ``explain`` read those columns by name from the frame they
    are given (so the training frame itself can be passed: other columns are
    ignored) and enforce their dtypes; a missing modifier is a
    :class:`~uniml.SchemaError` naming it. Without effect modifiers every row
    gets the ATE.

    The effect is that of moving the treatment from ``control`` to
    ``treated``: by default the lowest and highest treatment values seen at
    fit (``0 -> 1`` for a binary treatment). Subclasses implement ``_fit``,
    ``_effect``, ``_ate``, ``_explain``, ``_save`` and ``_load``.

    Attributes
    ----------
    schema_ : Schema
        Schema of the effect-modifier columns.
    roles_ : dict
        The column roles used at fit.
    treatment_type_ : str
        ``"binary"``, ``"multi"`` or ``"continuous"``.
    control_, treated_ : float
        The treatment values the effect contrasts.
    n_train_ : int

    Examples
    --------
    >>> import uniml
    >>> from uniml.testing.causal import make_causal_data
    >>> data, truth = make_causal_data(n=300, seed=0)
    >>> m = uniml.make("dowhy.effect").fit(data)
    >>> cate = m.predict(data.frame.head(3))
    >>> print(list(cate.columns), bool((cate["lower"] <= cate["upper"]).all()))
    ['effect', 'lower', 'upper'] True
    """

    task = "causal"
    explanation_kind = "causal_drivers"
    persistence = "pickle"
    #: default level of the intervals (two-sided, 1 - alpha coverage)
    alpha: float = 0.05

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data,
        outcome=None,
        treatment=None,
        effect_modifiers=None,
        confounders=None,
        instruments=None,
        graph=None,
        **fit_params,
    ):
        """Estimate the treatment effect.

        Parameters
        ----------
        data : CausalData or pandas.DataFrame
            With a DataFrame, give the roles as keywords.
        outcome, treatment : str, optional
            Required with a DataFrame.
        effect_modifiers, confounders, instruments : list of str, optional
        graph : str or networkx graph, optional
        **fit_params
            Passed to the library's fit.

        Returns
        -------
        self

        Raises
        ------
        DataContractError
            Invalid roles (see :class:`CausalData`), or roles given twice.
        """
        if isinstance(data, CausalData):
            given = [
                k
                for k, v in {
                    "outcome": outcome,
                    "treatment": treatment,
                    "effect_modifiers": effect_modifiers,
                    "confounders": confounders,
                    "instruments": instruments,
                    "graph": graph,
                }.items()
                if v is not None
            ]
            if given:
                raise DataContractError(
                    f"roles {given} were given besides a CausalData; set them on the CausalData"
                )
        else:
            if outcome is None or treatment is None:
                raise DataContractError(
                    f"{type(self).__name__}.fit needs a CausalData, or a DataFrame with outcome= and "
                    f"treatment= (got outcome={outcome!r}, treatment={treatment!r})"
                )
            data = CausalData(
                data,
                outcome=outcome,
                treatment=treatment,
                effect_modifiers=effect_modifiers,
                confounders=confounders,
                instruments=instruments,
                graph=graph,
            )
        self._check_data(data)
        schema = Schema.capture(data.frame[list(self._predict_columns(data))])
        if events.listening():
            events.emit("fit_start", adapter=self, X=data.frame, y=data.Y, fit_params=fit_params)
        start = time.perf_counter()
        levels = np.unique(data.T.to_numpy())
        self.treatment_type_ = data.treatment_type
        self.treatment_levels_ = levels.tolist() if self.treatment_type_ != "continuous" else None
        control, treated = (
            getattr(self, "control_value", None),
            getattr(self, "treated_value", None),
        )
        self.control_ = levels[0].item() if control is None else control
        self.treated_ = levels[-1].item() if treated is None else treated
        self.roles_ = {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in data.roles().items()
            if k != "graph"
        }
        self.n_train_ = len(data)
        self._fit(data, **fit_params)
        self.schema_ = schema
        if events.listening():
            events.emit(
                "fit_end",
                adapter=self,
                X=data.frame,
                y=data.Y,
                fit_params=fit_params,
                duration=time.perf_counter() - start,
            )
        return self

    def _check_data(self, data: CausalData) -> None:
        """Adapter-specific role requirements (e.g. instruments); raise DataContractError."""

    def _predict_columns(self, data: CausalData) -> list:
        """Columns ``predict`` reads (and ``schema_`` records): the effect modifiers by default."""
        return list(data.effect_modifiers)

    # -------------------------------------------------------------- predict
    def _modifiers(self, frame) -> pd.DataFrame:
        """The effect-modifier columns of ``frame``, schema-checked."""
        owner = type(self).__name__
        if isinstance(frame, CausalData):
            frame = frame.frame
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(
                f"{owner} predicts from a DataFrame holding the effect modifiers "
                f"{list(self.schema_.names)}, got {type(frame).__name__}",
                column=self.schema_.names[0] if self.schema_.names else None,
            )
        missing = [c for c in self.schema_.names if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"column {missing[0]!r} (effect modifier) is missing; expected the effect modifiers "
                f"{list(self.schema_.names)}",
                column=missing[0],
                expected=self.schema_.names,
                got=tuple(frame.columns),
            )
        X = frame[list(self.schema_.names)]
        X = self.schema_.enforce(X, owner=owner)
        bad = [c for c in X.columns if X[c].isna().any()]
        if bad:
            raise SchemaError(
                f"column {bad[0]!r} (effect modifier) has missing values", column=bad[0]
            )
        return X

    def _treated_level(self, treated):
        """The treated level of the contrast (``treated_`` by default), checked against the levels seen at fit."""
        if treated is None:
            return self.treated_
        levels = getattr(self, "treatment_levels_", None)
        if levels is not None and treated not in levels:
            raise DataContractError(
                f"role 'treatment': treated={treated!r} is not a treatment level seen at fit; levels are {levels}"
            )
        if treated == self.control_:
            raise DataContractError(
                f"role 'treatment': treated={treated!r} is the control level itself"
            )
        return treated.item() if isinstance(treated, np.generic) else treated

    def predict(self, frame, alpha: float | None = None, *, treated=None) -> pd.DataFrame:
        """Conditional average treatment effect (CATE) of each row, with its interval.

        Parameters
        ----------
        frame : pandas.DataFrame or CausalData
            Must hold the effect-modifier columns (other columns are ignored).
        alpha : float, optional
            Intervals cover ``1 - alpha``; default the adapter's ``alpha``.
        treated : optional
            Treatment level contrasted with ``control_`` (default ``treated_``):
            with a multi-valued treatment, one call per level gives each
            level's effect against the control from the same fitted model.

        Returns
        -------
        pandas.DataFrame
            Columns ``effect``, ``lower``, ``upper``; indexed like ``frame``.

        Raises
        ------
        NotFittedError
        SchemaError
            A missing effect modifier or one of another dtype kind, naming it.
        DataContractError
            ``treated`` is not a treatment level seen at fit.
        """
        self._check_fitted()
        X = self._modifiers(frame)
        a = getattr(self, "alpha", 0.05) if alpha is None else alpha
        effect, lower, upper = self._effect(X, a, self._treated_level(treated))
        index = frame.frame.index if isinstance(frame, CausalData) else frame.index
        out = pd.DataFrame(
            {
                "effect": np.asarray(effect, dtype=float).reshape(-1),
                "lower": np.asarray(lower, dtype=float).reshape(-1),
                "upper": np.asarray(upper, dtype=float).reshape(-1),
            },
            index=index,
        )
        if events.listening():
            events.emit("predict", adapter=self, X=frame, prediction=out)
        return out

    def _predict(self, X):
        return self._effect(X, self.alpha, self.treated_)[0]

    def effect_summary(self, alpha: float | None = None, *, treated=None, target=None) -> dict:
        """The average treatment effect over a set of units, with its interval.

        Parameters
        ----------
        alpha : float, optional
            The interval covers ``1 - alpha``; default the adapter's ``alpha``.
        treated : optional
            Treatment level contrasted with ``control_`` (default ``treated_``).
        target : {"ate", "att", "atc"} or pandas.DataFrame, optional
            The units averaged over: ``"ate"`` every training row (the default,
            unless the model was fitted for another estimand); ``"att"`` the
            training rows that received ``treated`` (the effect on the treated);
            ``"atc"`` the training rows at ``control_``; or a frame of units
            (holding the effect-modifier columns) whose mean effect is wanted.
            Intervals are those of the same estimand (never widened), and are
            conditional on the units' effect modifiers.

        Returns
        -------
        dict
            ``effect``, ``lower``, ``upper``, ``alpha``, ``method``, ``control``,
            ``treated``, ``n`` (units averaged over) and ``target`` (``"ate"``,
            ``"att"``, ``"atc"`` or ``"rows"``); for a named target the estimate
            is also under that name (``ate``, ``att`` or ``atc``).

        Raises
        ------
        NotFittedError
        DataContractError
            ``treated`` is not a treatment level seen at fit, or no training
            unit is in the ``target`` group.
        ParameterError
            ``target`` is neither a known name nor a frame.
        SchemaError
            A ``target`` frame lacks an effect modifier.
        """
        self._check_fitted()
        a = self.alpha if alpha is None else alpha
        level = self._treated_level(treated)
        if target is None:
            target = self._default_target()
        if isinstance(target, (pd.DataFrame, CausalData)):
            X = self._modifiers(target)
            if len(X) == 0:
                raise DataContractError("target: the frame of units to average over is empty")
            effect, lower, upper = self._rows_effect(X, a, level)
            name, n = "rows", len(X)
        elif isinstance(target, str) and target in TARGETS:
            effect, lower, upper, n = self._target_effect(target, a, level)
            name = target
        else:
            raise ParameterError(
                f"target must be one of {list(TARGETS)} or a DataFrame of units, got {target!r}",
                parameter="target",
            )
        out = {
            "effect": float(effect),
            "lower": float(lower),
            "upper": float(upper),
            "alpha": float(a),
            "method": self._method_name(),
            "control": self.control_,
            "treated": level,
            "n": int(n),
            "target": name,
        }
        if name != "rows":
            out = {name: out["effect"], **out}
        return out

    def _default_target(self) -> str:
        return "ate"

    def _target_effect(self, target: str, alpha: float, treated):
        """``(effect, lower, upper, n)`` averaged over the training rows of ``target``."""
        if target == "ate":
            effect, lower, upper = self._ate(alpha, treated)
            return effect, lower, upper, self.n_train_
        raise UnimlError(f"{self.name} does not estimate the {target.upper()}; use target='ate'")

    def _rows_effect(self, X: pd.DataFrame, alpha: float, treated):
        """``(effect, lower, upper)`` of the mean effect over the units ``X``."""
        raise UnimlError(
            f"{self.name} does not estimate mean effects over given rows; use target='ate'"
        )

    def _group_mask(self, treatment, target: str, treated) -> np.ndarray:
        """Boolean mask of the training rows in the ``"att"`` / ``"atc"`` group; refuse an empty group."""
        if getattr(self, "treatment_type_", None) == "continuous":
            raise DataContractError(
                f"target {target!r}: the treatment is continuous, so no group of units received "
                f"exactly one level; pass a frame of units as target, or use target='ate'"
            )
        level = treated if target == "att" else self.control_
        mask = np.asarray(treatment) == level
        if not mask.any():
            raise DataContractError(f"target {target!r}: no training row has treatment {level!r}")
        return mask

    def explain(self, frame, **kwargs) -> Explanation:
        """Explain the effect: drivers of the CATE, or estimand and refutations (by adapter).

        Parameters
        ----------
        frame : pandas.DataFrame or CausalData
        **kwargs
            Adapter-specific options.

        Returns
        -------
        Explanation
        """
        self._check_fitted()
        X = self._modifiers(frame)
        exp = self._explain(X, **kwargs)
        index = frame.frame.index if isinstance(frame, CausalData) else frame.index
        if exp.contributions is not None:
            exp.contributions.index = index
        if isinstance(exp.prediction, (pd.Series, pd.DataFrame)):
            exp.prediction.index = index
        if events.listening():
            events.emit("explain", adapter=self, X=frame, explanation=exp)
        return exp

    # ---------------------------------------------------------------- hooks
    @abstractmethod
    def _effect(self, X: pd.DataFrame, alpha: float, treated):
        """``(effect, lower, upper)`` arrays of the contrast ``control_ -> treated`` for effect modifiers ``X``."""

    @abstractmethod
    def _ate(self, alpha: float, treated):
        """``(ate, lower, upper)`` of the contrast ``control_ -> treated`` over the training rows."""

    def _method_name(self) -> str:
        return self.name

    # ----------------------------------------------------------- persistence
    def _base_state(self) -> dict:
        return {
            "treatment_type": self.treatment_type_,
            "treatment_levels": self.treatment_levels_,
            "control": self.control_,
            "treated": self.treated_,
            "roles": self.roles_,
            "n_train": self.n_train_,
        }

    def _set_base_state(self, state: dict) -> None:
        self.treatment_type_ = state["treatment_type"]
        self.treatment_levels_ = state["treatment_levels"]
        self.control_, self.treated_ = state["control"], state["treated"]
        self.roles_ = state["roles"]
        self.n_train_ = state["n_train"]

    @classmethod
    def _params_from_manifest(cls, params: dict, folder: Path, trusted: bool) -> dict:
        # nuisance models are objects: the exact parameters travel in a pickle next to the model
        from uniml.core.persistence import read_pickle

        file = folder / PARAMS_FILE
        if file.is_file():
            return read_pickle(file, trusted=trusted)
        return super()._params_from_manifest(params, folder, trusted)

    def _save_pickles(self, folder: Path, fitted) -> dict:
        """Pickle the constructor parameters and the fitted library object."""
        with open(folder / PARAMS_FILE, "wb") as fh:
            pickle.dump(self.get_params(deep=False), fh, protocol=pickle.HIGHEST_PROTOCOL)
        with open(folder / MODEL_FILE, "wb") as fh:
            pickle.dump(fitted, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return {
            PARAMS_FILE: {"format": "pickle", "pickle": True},
            MODEL_FILE: {"format": "pickle", "pickle": True},
        }

    @staticmethod
    def _load_pickle(folder: Path, trusted: bool):
        from uniml.core.persistence import read_pickle

        return read_pickle(folder / MODEL_FILE, trusted=trusted)


@contextmanager
def seeded_global_numpy(seed: int | None) -> Iterator[None]:
    """Seed numpy's legacy global generator for one call, then restore its state.

    DoWhy's refuters and EconML's bootstrap draw from ``np.random`` directly;
    this makes them reproducible without leaving the caller's generator changed.

    Parameters
    ----------
    seed : int or None
        Seed for ``np.random.seed``; None leaves the generator alone.

    Yields
    ------
    None
        The block runs with the seeded generator.

    Examples
    --------
    >>> before = np.random.get_state()[1][:3].tolist()  # noqa: NPY002
    >>> with seeded_global_numpy(0):
    ...     a = np.random.rand()  # noqa: NPY002
    >>> np.random.get_state()[1][:3].tolist() == before, round(a, 4)  # noqa: NPY002
    (True, 0.5488)
    """
    if seed is None:
        yield
        return
    saved = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(saved)  # noqa: NPY002


PARAMS_FILE = "params.pkl"
MODEL_FILE = "model.pkl"


def z_interval(estimate: Any, stderr: Any, alpha: float) -> tuple[Any, Any]:
    """Normal ``(lower, upper)`` bounds of a two-sided ``1 - alpha`` interval.

    Parameters
    ----------
    estimate : float or numpy.ndarray
        Point estimate(s).
    stderr : float or numpy.ndarray
        Standard error(s), broadcastable against ``estimate``.
    alpha : float
        One minus the coverage (0.05 for a 95% interval).

    Returns
    -------
    tuple
        ``(lower, upper)``, each shaped like ``estimate``.

    Examples
    --------
    >>> [round(float(v), 3) for v in z_interval(1.0, 0.5, 0.05)]
    [0.02, 1.98]
    """
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2)
    return estimate - z * stderr, estimate + z * stderr
