"""DoWhy adapter: ``dowhy.effect`` (model -> identify -> estimate -> refute).

``fit`` builds a ``dowhy.CausalModel`` from the data's roles (confounders
are DoWhy's common causes; an optional graph replaces them), identifies the
estimand (``proceed_when_unidentifiable=True``: the roles are taken as the
user's assumptions) and estimates it with ``method`` — any DoWhy method name:
``"backdoor.linear_regression"`` (default), ``"backdoor.propensity_score_weighting"``,
``"backdoor.propensity_score_matching"``, ``"backdoor.propensity_score_stratification"``,
``"iv.instrumental_variable"``, ``"backdoor.econml.dml.LinearDML"``...

Effects and intervals:

* ``backdoor.linear_regression``: per-row effects ``(t1 - t0) * (b_t + x @ b_tx)``
  from the regression's treatment and treatment x modifier coefficients, with
  exact normal intervals from the coefficients' covariance; the ATE interval
  is the same contrast averaged over the training rows.
* any other method: every row gets the ATE (these estimators give an average
  effect), with a seeded percentile bootstrap interval (``n_bootstrap``
  re-estimations on resampled rows).

``explain`` (``kind="refutation"``, not additive) returns the identified
estimand, the estimate and a refutation table (placebo treatment, random
common cause, data subset, bootstrap — ``refuters``) with each refuter's new
effect, DoWhy's p-value and a pass flag: the placebo effect must stay within
``tolerance * |estimate|`` of zero, the other refuters' effects within
``tolerance * |estimate|`` of the estimate. :meth:`DoWhyEffect.refute` gives
the table directly.

DoWhy only pickles: models are saved as pickle and ``uniml.load`` requires
``trusted=True``.

Examples
--------
>>> import uniml
>>> from uniml.testing.causal import make_causal_data
>>> data, truth = make_causal_data(n=500, seed=0)
>>> m = uniml.make("dowhy.effect", random_state=0).fit(data)
>>> s = m.effect_summary()
>>> print(s["method"], s["lower"] <= truth["ate"] <= s["upper"])
backdoor.linear_regression True
"""

from __future__ import annotations

import copy
import logging
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.core.catalog import register
from uniml.core.causal import (
    TARGETS,
    CausalAdapter,
    CausalData,
    seeded_global_numpy,
    z_interval,
)
from uniml.core.errors import DataContractError, UnimlError
from uniml.core.explanation import Explanation

__all__ = ["DoWhyEffect"]

#: DoWhy refuter names accepted in ``refuters``
REFUTERS = (
    "placebo_treatment_refuter",
    "random_common_cause",
    "data_subset_refuter",
    "bootstrap_refuter",
)
_LINEAR = "backdoor.linear_regression"


def _in_user_order(estimand, columns: list) -> None:
    """Put every variable list of a DoWhy estimand in the user's column order.

    DoWhy builds adjustment sets from Python sets, so their order (and with it the design
    matrix's column order and the fitted numbers) followed ``PYTHONHASHSEED``.
    """
    rank = {c: i for i, c in enumerate(columns)}

    def order(names):
        return sorted(names, key=lambda c: (rank.get(c, len(rank)), str(c)))

    for attr in ("backdoor_variables", "general_adjustment_variables"):
        table = getattr(estimand, attr, None)
        if isinstance(table, dict):
            for key, names in table.items():
                if isinstance(names, (list, tuple, set)):
                    table[key] = order(names)
    for attr in ("instrumental_variables", "frontdoor_variables", "mediator_variables"):
        names = getattr(estimand, attr, None)
        if isinstance(names, (list, tuple, set)):
            setattr(estimand, attr, order(names))


@contextmanager
def _quiet_and_seeded(seed):
    """Silence DoWhy's logging and seed numpy's global generator (DoWhy draws from it) for one call.

    Deprecation warnings raised inside DoWhy's own code (pandas 3's ``Pandas4Warning``
    about ``copy=``, once per row of some estimators) are nothing a user can act on and
    are dropped; warnings attributed to any other module pass through.
    """
    loggers = [
        logging.getLogger(n) for n in ("dowhy", "dowhy.causal_model", "dowhy.causal_estimator")
    ]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with seeded_global_numpy(seed), warnings.catch_warnings():
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category, module=r"dowhy(?:\..*)?$")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@register
class DoWhyEffect(CausalAdapter):
    """DoWhy's identify-estimate-refute workflow behind the causal adapter interface.

    Parameters
    ----------
    method : str, default "backdoor.linear_regression"
        DoWhy estimation method name.
    method_params : dict, optional
        Passed to DoWhy's ``estimate_effect`` (``method_params=``).
    refuters : tuple of str, optional
        Refuters run by :meth:`explain` / :meth:`refute`; default placebo
        treatment, random common cause and data subset (see :data:`REFUTERS`).
    num_simulations : int, default 20
        Simulations per refuter.
    tolerance : float, default 0.2
        Relative tolerance of the refuters' pass flags.
    n_bootstrap : int, default 50
        Bootstrap re-estimations for intervals of methods other than linear regression.
    random_state : int, optional
        Seeds the refuters and the bootstrap.
    control_value, treated_value : optional
        The contrast (default lowest and highest treatment value).
    alpha : float, default 0.05
        Default interval level (``1 - alpha``).
    identify_method : str, optional
        DoWhy's identification method; default ``"maximal-adjustment"`` without a
        graph (the confounders are the adjustment set) and ``"default"`` with one.

    Attributes
    ----------
    model_ : dowhy.CausalModel
    estimand_ : dowhy IdentifiedEstimand
    estimate_ : dowhy CausalEstimate

    Examples
    --------
    >>> import uniml
    >>> from uniml.testing.causal import make_causal_data
    >>> data, truth = make_causal_data(n=400, seed=1)
    >>> m = uniml.make("dowhy.effect", random_state=0, num_simulations=3).fit(data)
    >>> table = m.refute()
    >>> print(table["refuter"].tolist(), bool(table["passed"].all()))
    ['placebo_treatment_refuter', 'random_common_cause', 'data_subset_refuter'] True
    """

    name = "dowhy.effect"
    library = "dowhy"
    extra = "causal"
    explanation_kind = "refutation"
    additive = False
    persistence = "pickle"
    #: bootstrap estimates (None for linear regression, whose intervals are analytic)
    bootstrap_: np.ndarray | None
    #: refutation table, computed on the first :meth:`refute` / :meth:`explain`
    refutations_: pd.DataFrame | None

    def __init__(
        self,
        method=_LINEAR,
        method_params=None,
        refuters=None,
        num_simulations=20,
        tolerance=0.2,
        n_bootstrap=50,
        random_state=None,
        control_value=None,
        treated_value=None,
        alpha=0.05,
        identify_method=None,
    ):
        self.method = method
        self.identify_method = identify_method
        self.method_params = method_params
        self.refuters = refuters
        self.num_simulations = num_simulations
        self.tolerance = tolerance
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.control_value = control_value
        self.treated_value = treated_value
        self.alpha = alpha

    @classmethod
    def _test_params(cls) -> list[dict]:
        return [
            {"random_state": 0, "num_simulations": 3},
            {
                "method": "backdoor.propensity_score_weighting",
                "random_state": 0,
                "num_simulations": 3,
                "n_bootstrap": 10,
            },
        ]

    @classmethod
    def require_library(cls):
        """Import DoWhy (restoring ``sys.displayhook``, which importing it replaces).

        Returns
        -------
        module
            The ``dowhy`` module.

        Raises
        ------
        MissingDependencyError
            DoWhy is not installed.
        """
        # importing dowhy calls sympy's init_printing(), which replaces sys.displayhook for the whole
        # interpreter (strings then echo without quotes in every REPL and doctest); undo that side effect
        hook = sys.displayhook
        try:
            return super().require_library()
        finally:
            sys.displayhook = hook

    def _method_name(self) -> str:
        return self.method

    def _method_params(self) -> dict | None:
        """``method_params`` with, for propensity methods, a scaled and converging default model.

        DoWhy's default is an unscaled ``LogisticRegression`` whose solver stops at different
        points on unscaled confounders; standardising first makes it converge, so the estimate
        does not depend on the platform or the process.
        """
        params = dict(self.method_params or {})
        if "propensity_score" in self.method and "propensity_score_model" not in params:
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            params["propensity_score_model"] = make_pipeline(
                StandardScaler(), LogisticRegression(max_iter=10_000)
            )
        return params or None

    def _check_data(self, data: CausalData) -> None:
        if self.method.startswith("iv.") and not data.instruments:
            raise DataContractError(
                f"role 'instruments': method {self.method!r} needs at least one instrument"
            )
        if "propensity_score" in self.method and data.treatment_type != "binary":
            raise DataContractError(
                f"role 'treatment': method {self.method!r} needs a binary treatment; column "
                f"{data.treatment!r} is {data.treatment_type}"
            )

    # ------------------------------------------------------------------ fit
    def _fit(self, data: CausalData, **fit_params):
        dowhy = self.require_library()
        roles = data.roles()
        columns = [
            c
            for role, names in roles.items()
            if role != "graph"
            for c in ((names,) if isinstance(names, str) else names)
        ]
        frame = data.frame[columns].reset_index(drop=True)
        with _quiet_and_seeded(self.random_state):
            model = dowhy.CausalModel(
                data=frame,
                treatment=data.treatment,
                outcome=data.outcome,
                common_causes=list(data.confounders) or None,
                effect_modifiers=list(data.effect_modifiers) or None,
                instruments=list(data.instruments) or None,
                graph=data.graph,
            )
            # without a graph the roles *are* the adjustment set: skip DoWhy's (exponential) search for one
            identify = self.identify_method or (
                "default" if data.graph is not None else "maximal-adjustment"
            )
            estimand = model.identify_effect(proceed_when_unidentifiable=True, method_name=identify)
            _in_user_order(estimand, columns)
            estimate = model.estimate_effect(
                estimand,
                method_name=self.method,
                control_value=self.control_,
                treatment_value=self.treated_,
                method_params=self._method_params(),
                **fit_params,
            )
        if (
            estimate is None
            or estimate.value is None
            or not np.isfinite(float(np.ravel(estimate.value)[0]))
        ):
            raise UnimlError(
                f"{self.name}: DoWhy could not estimate the effect with method {self.method!r}"
            )
        self.model_, self.estimand_, self.estimate_ = model, estimand, estimate
        #: the estimand the bootstrap re-estimates: the one the point estimate is for
        self.target_units_ = fit_params.get("target_units", "ate")
        units = data.X
        if isinstance(self.target_units_, str) and self.target_units_ in ("att", "atc"):
            t = data.frame[data.treatment].to_numpy()
            units = (
                data.X[t == self.treated_]
                if self.target_units_ == "att"
                else data.X[t == self.control_]
            )
        # the linear effect summary averages over the same units as the estimand
        self.modifier_means_ = {str(k): float(v) for k, v in units.mean().items()}
        self.bootstrap_ = (
            None if self.method == _LINEAR else self._bootstrap(model, estimand, frame)
        )
        self.refutations_ = None

    def _bootstrap(self, model, estimand, frame, target_units=None) -> np.ndarray:
        """Re-estimate ``target_units`` (default the fitted estimand) on ``n_bootstrap`` resamples."""
        units = self.target_units_ if target_units is None else target_units
        rng = np.random.default_rng(self.random_state)
        draws = []
        with _quiet_and_seeded(self.random_state):
            for _ in range(self.n_bootstrap):
                sample = frame.iloc[rng.integers(0, len(frame), len(frame))].reset_index(drop=True)
                estimator = copy.deepcopy(self.estimate_.estimator)
                estimator.fit(
                    sample,
                    effect_modifier_names=list(self.roles_.get("effect_modifiers", [])) or None,
                )
                est = estimator.estimate_effect(
                    sample,
                    control_value=self.control_,
                    treatment_value=self.treated_,
                    target_units=units,
                )
                draws.append(float(np.ravel(est.value)[0]))
        return np.asarray(draws, dtype=float)

    # -------------------------------------------------------------- effects
    def _linear_parts(self):
        """Coefficients and covariance of the treatment and treatment x modifier terms, and the modifiers' order."""
        est = self.estimate_.estimator
        ols = est.model
        params, cov = np.asarray(ols.params, dtype=float), np.asarray(ols.cov_params(), dtype=float)
        n_w = len(est._observed_common_causes_names)
        modifiers = list(est._effect_modifier_names or [])
        # layout built by DoWhy: const, t, adjustment set..., t * modifiers (in its own order)
        idx = [1, *range(2 + n_w, 2 + n_w + len(modifiers))]
        if len(params) != 2 + n_w + len(modifiers):
            raise UnimlError(
                f"{self.name}: unexpected regression layout ({len(params)} coefficients)"
            )
        return params[idx], cov[np.ix_(idx, idx)], modifiers

    def _contrast(self, X: np.ndarray, treated) -> np.ndarray:
        delta = float(treated) - float(self.control_)
        return delta * np.hstack([np.ones((len(X), 1)), X])

    def _fixed_contrast(self, treated) -> None:
        if treated != self.treated_:
            raise UnimlError(
                f"{self.name}: method {self.method!r} estimated the contrast {self.control_!r} -> {self.treated_!r} "
                f"only; refit with treated_value={treated!r} for another level (backdoor.linear_regression "
                f"gives every level from one fit)"
            )

    def _effect(self, X, alpha, treated):
        n = len(X)
        if self.method == _LINEAR:
            beta, cov, modifiers = self._linear_parts()
            C = self._contrast(X[modifiers].to_numpy(dtype=float).reshape(n, -1), treated)
            effect = C @ beta
            se = np.sqrt(np.einsum("ij,jk,ik->i", C, cov, C))
            lower, upper = z_interval(effect, se, alpha)
            return effect, lower, upper
        ate, lower, upper = self._ate(alpha, treated)
        return np.full(n, ate), np.full(n, lower), np.full(n, upper)

    def _ate(self, alpha, treated):
        if self.method == _LINEAR:
            beta, cov, modifiers = self._linear_parts()
            means = np.array([[self.modifier_means_[m] for m in modifiers]]).reshape(1, -1)
            c = self._contrast(means, treated)[0]
            ate, se = float(c @ beta), float(np.sqrt(c @ cov @ c))
            lower, upper = z_interval(ate, se, alpha)
            return ate, float(lower), float(upper)
        self._fixed_contrast(treated)
        ate = float(np.ravel(self.estimate_.value)[0])
        if (
            self.bootstrap_ is None
        ):  # only linear regression has no bootstrap, and it returned above
            raise UnimlError(f"{self.name}: no bootstrap estimates to build the interval from")
        # the bootstrap standard error of this very estimand around its point estimate; never
        # an interval for another quantity stretched to cover the point
        se = float(np.std(self.bootstrap_, ddof=1))
        lower, upper = z_interval(ate, se, alpha)
        return ate, float(lower), float(upper)

    def _default_target(self) -> str:
        units = getattr(self, "target_units_", "ate")
        return units if isinstance(units, str) and units in TARGETS else "ate"

    def _target_effect(self, target, alpha, treated):
        frame = self.model_._data
        treatment = frame[self.roles_["treatment"]].to_numpy()
        mask = (
            np.ones(len(frame), dtype=bool)
            if target == "ate"
            else self._group_mask(treatment, target, treated)
        )
        if isinstance(self.target_units_, str) and target == self.target_units_:
            # the estimand of the fit itself
            return (*self._ate(alpha, treated), int(mask.sum()))
        if self.method == _LINEAR:
            beta, cov, modifiers = self._linear_parts()
            means = frame.loc[mask, modifiers].to_numpy(dtype=float).mean(axis=0).reshape(1, -1)
            c = self._contrast(means, treated)[0]
            effect, se = float(c @ beta), float(np.sqrt(c @ cov @ c))
            lower, upper = z_interval(effect, se, alpha)
            return effect, float(lower), float(upper), int(mask.sum())
        # other methods: DoWhy's own estimate of this target, and a bootstrap of the same target
        self._fixed_contrast(treated)
        cache = self.__dict__.setdefault("_target_cache", {})
        if target not in cache:
            with _quiet_and_seeded(self.random_state):
                est = self.estimate_.estimator.estimate_effect(
                    frame,
                    control_value=self.control_,
                    treatment_value=self.treated_,
                    target_units=target,
                )
            draws = self._bootstrap(self.model_, self.estimand_, frame, target_units=target)
            cache[target] = (float(np.ravel(est.value)[0]), draws)
        effect, draws = cache[target]
        lower, upper = z_interval(effect, float(np.std(draws, ddof=1)), alpha)
        return effect, float(lower), float(upper), int(mask.sum())

    def _rows_effect(self, X, alpha, treated):
        if self.method != _LINEAR:
            raise UnimlError(
                f"{self.name}: method {self.method!r} gives one average effect, not effects of given "
                f"rows; use target='ate', 'att' or 'atc' (or method {_LINEAR!r})"
            )
        beta, cov, modifiers = self._linear_parts()
        means = X[modifiers].to_numpy(dtype=float).mean(axis=0).reshape(1, -1)
        c = self._contrast(means, treated)[0]
        effect, se = float(c @ beta), float(np.sqrt(c @ cov @ c))
        lower, upper = z_interval(effect, se, alpha)
        return effect, float(lower), float(upper)

    # ----------------------------------------------------------- refutation
    def refute(self) -> pd.DataFrame:
        """Run the refuters (once; the table is cached on the fitted model).

        Returns
        -------
        pandas.DataFrame
            One row per refuter: ``refuter``, ``estimate``, ``new_effect``,
            ``p_value`` (DoWhy's, NaN when it gives none), ``passed``.

        Raises
        ------
        NotFittedError
        """
        self._check_fitted()
        if self.refutations_ is None:
            self.refutations_ = self._run_refuters()
        return self.refutations_.copy()

    def _run_refuters(self) -> pd.DataFrame:
        names = tuple(self.refuters) if self.refuters is not None else REFUTERS[:3]
        unknown = [r for r in names if r not in REFUTERS]
        if unknown:
            raise UnimlError(
                f"{self.name}: unknown refuter(s) {unknown}; choose from {list(REFUTERS)}"
            )
        estimate = float(np.ravel(self.estimate_.value)[0])
        tol = self.tolerance * max(abs(estimate), 1e-12)
        rows = []
        for refuter in names:
            kwargs = {
                "num_simulations": self.num_simulations,
                "random_state": np.random.RandomState(self.random_state),
                "n_jobs": 1,
            }
            if refuter == "placebo_treatment_refuter":
                kwargs["placebo_type"] = "permute"
            with _quiet_and_seeded(self.random_state):
                result = self.model_.refute_estimate(
                    self.estimand_, self.estimate_, method_name=refuter, **kwargs
                )
            new = float(np.ravel(result.new_effect)[0])
            p = (result.refutation_result or {}).get("p_value", np.nan)
            p = float(np.ravel(p)[0]) if p is not None else np.nan
            target = 0.0 if refuter == "placebo_treatment_refuter" else estimate
            rows.append(
                {
                    "refuter": refuter,
                    "estimate": estimate,
                    "new_effect": new,
                    "p_value": p,
                    "passed": bool(abs(new - target) <= tol),
                }
            )
        return pd.DataFrame(
            rows, columns=["refuter", "estimate", "new_effect", "p_value", "passed"]
        )

    # -------------------------------------------------------------- explain
    def _explain(self, X, refute: bool = True, **kwargs) -> Explanation:
        s = self.effect_summary()
        estimate = pd.DataFrame(
            [{k: s[k] for k in ("target", "effect", "lower", "upper", "alpha", "method")}]
        )
        tables = {
            "estimand": pd.DataFrame({"estimand": [str(self.estimand_)]}),
            "estimate": estimate,
        }
        importance = None
        if refute:
            table = self.refute()
            tables["refutations"] = table
            # how far each refuter moved the effect, relative to the estimate: the weakest links first
            target = np.where(
                table["refuter"] == "placebo_treatment_refuter", 0.0, table["estimate"]
            )
            shift = (table["new_effect"] - target).abs() / max(abs(s["effect"]), 1e-12)
            importance = pd.Series(shift.to_numpy(), index=table["refuter"].to_numpy())
            importance = importance.sort_values(ascending=False, kind="stable")
        return Explanation(
            None,
            s["effect"],
            "refutation",
            False,
            importance=importance,
            tables=tables,
            meta={"method": self.method, "estimand_type": str(self.estimand_.estimand_type)},
        )

    # ----------------------------------------------------------- persistence
    def _state(self) -> dict:
        units = self.target_units_ if isinstance(self.target_units_, str) else "custom"
        return {"modifier_means": self.modifier_means_, "target_units": units}

    def _set_state(self, state: dict) -> None:
        self.modifier_means_ = dict(state["modifier_means"])
        self.target_units_ = state.get("target_units", "ate")

    def _save(self, folder: Path) -> dict:
        return self._save_pickles(
            folder,
            {
                "model": self.model_,
                "estimand": self.estimand_,
                "estimate": self.estimate_,
                "bootstrap": self.bootstrap_,
                "refutations": self.refutations_,
            },
        )

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        self.require_library()
        payload = self._load_pickle(folder, trusted)
        self.model_, self.estimand_, self.estimate_ = (
            payload["model"],
            payload["estimand"],
            payload["estimate"],
        )
        self.bootstrap_, self.refutations_ = payload["bootstrap"], payload["refutations"]
