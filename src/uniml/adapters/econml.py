"""EconML adapters: ``econml.dml``, ``econml.dr`` and ``econml.metalearner``.

One adapter per EconML *family*, the concrete estimator chosen by the
``estimator`` parameter (the families share nuisance-model parameters, so a
user switching from a linear to a forest final stage changes one word):

=====================  =====================================================  ==========================
adapter                ``estimator=``                                         EconML class
=====================  =====================================================  ==========================
``econml.dml``         ``"linear"`` (default), ``"sparse_linear"``,           ``LinearDML``,
                       ``"causal_forest"``                                    ``SparseLinearDML``,
                                                                              ``CausalForestDML``
``econml.dr``          ``"linear"`` (default), ``"sparse_linear"``,           ``LinearDRLearner``...
                       ``"forest"``, ``"dr"``                                 ``DRLearner``
``econml.metalearner`` ``"t"`` (default), ``"s"``, ``"x"``                    ``TLearner``, ``SLearner``,
                                                                              ``XLearner``
=====================  =====================================================  ==========================

Every other keyword is passed unchanged to the EconML class, so defaults stay
EconML's own; the adapter only fills ``discrete_treatment=True`` (DML) when
the treatment is binary or multi-valued and you did not set it. Nuisance
models (``model_y``, ``model_t``, ``model_propensity``, ``models``...) accept
any scikit-learn estimator or uniml tabular adapter, e.g.
``model_y=uniml.make("lightgbm.regressor")``.

Adapter-level keywords (not passed to EconML): ``estimator``,
``control_value`` / ``treated_value`` (the contrast; default lowest and
highest treatment level), ``inference`` (passed to EconML's ``fit``; default
EconML's for DML/DR, ``BootstrapInference(n_bootstrap_samples)`` for
meta-learners and for ``DRLearner`` with a generic final model
(``econml.dr`` with ``estimator="dr"``), which have no analytic intervals),
``n_bootstrap_samples`` and ``random_state``, which also seeds the bootstrap
(EconML's bootstrap draws from numpy's global generator; its state is restored).

Meta-learners take no confounders separately: they condition on effect
modifiers *and* confounders, so ``predict`` needs both.

``explain(frame, background_samples=None)`` returns EconML's SHAP values of the CATE over the effect
modifiers (``kind="causal_drivers"``); ``additive`` is True when they add up
to the predicted effect to 1e-6 (linear final stages), else False.
Persistence: EconML only pickles; models are saved as pickle and
``uniml.load`` requires ``trusted=True``.

Examples
--------
>>> import uniml
>>> from sklearn.linear_model import LinearRegression, LogisticRegression
>>> from uniml.testing.causal import make_causal_data
>>> data, truth = make_causal_data(n=400, seed=0)
>>> m = uniml.make("econml.dml", model_y=LinearRegression(), model_t=LogisticRegression(),
...                random_state=0).fit(data)
>>> s = m.effect_summary()
>>> s["lower"] <= truth["ate"] <= s["upper"]
True
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.metaestimators import available_if

from uniml.core.adapter import LibraryParams, signature_params
from uniml.core.catalog import register
from uniml.core.causal import CausalAdapter, CausalData, seeded_global_numpy
from uniml.core.errors import DataContractError, UnimlError
from uniml.core.explanation import Explanation

__all__ = ["EconMLDML", "EconMLDR", "EconMLMetaLearner"]

#: keywords the adapter consumes itself (never passed to EconML)
ADAPTER_KEYS = frozenset(
    {"estimator", "control_value", "treated_value", "inference", "n_bootstrap_samples", "alpha"}
)
#: tolerance under which SHAP values are reported as additive to the CATE
ADDITIVITY_TOL = 1e-6


def _for_econml(value):
    """uniml tabular adapters return pandas objects; EconML reshapes numpy arrays: bridge the two."""
    from uniml.core.adapter import TabularAdapter

    if isinstance(value, TabularAdapter):
        return _ArrayOutput(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_for_econml(v) for v in value)
    return value


class _ArrayOutput(BaseEstimator):
    """A uniml tabular adapter as a nuisance model whose predictions are numpy arrays."""

    def __init__(self, model):
        self.model = model

    def __sklearn_tags__(self):
        return self.model.__sklearn_tags__()

    def fit(self, X, y, **fit_params):
        self.model_ = clone(self.model).fit(X, y, **fit_params)
        if hasattr(self.model_, "classes_"):
            self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return np.asarray(self.model_.predict(X))

    @available_if(lambda self: hasattr(self.model, "predict_proba"))
    def predict_proba(self, X):
        return np.asarray(self.model_.predict_proba(X))


class _EconML(LibraryParams, CausalAdapter):
    library = "econml"
    extra = "causal"
    additive = None  # linear final stages are additive, forests approximately
    persistence = "pickle"
    extra_library_modules = ()
    _module = ""
    _classes: dict[str, str] = {}
    _default_estimator = ""
    #: default background rows of the SHAP explainer (EconML's default is 100)
    _shap_background = 100

    # ------------------------------------------------------------ params
    def _estimator_key(self) -> str:
        key = getattr(self, "estimator", None) or self._default_estimator
        if key not in self._classes:
            raise UnimlError(
                f"{self.name}: estimator={key!r} is unknown; choose one of {sorted(self._classes)}"
            )
        return key

    def _estimator_class(self):
        self.require_library()
        return getattr(
            importlib.import_module(f"econml.{self._module}"), self._classes[self._estimator_key()]
        )

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        cls.require_library()
        module = importlib.import_module(f"econml.{cls._module}")
        return signature_params(*(getattr(module, c) for c in cls._classes.values())) | {
            "random_state"
        }

    @classmethod
    def _adapter_param(cls, name: str) -> bool:
        return name in ADAPTER_KEYS

    def _econml_params(self, data: CausalData) -> dict:
        import inspect

        from uniml.core.errors import ParameterError, UnknownParameterError

        params = {
            k: _for_econml(v)
            for k, v in self.get_params(deep=False).items()
            if k not in ADAPTER_KEYS
        }
        extra = params.pop(self._EXTRA_PARAMS, None) or {}
        if not isinstance(extra, dict):
            raise ParameterError(
                f"{self._EXTRA_PARAMS} must be a dict of keyword -> value, got {type(extra).__name__}",
                parameter=self._EXTRA_PARAMS,
            )
        cls = self._estimator_class()
        signature = inspect.signature(cls).parameters
        known = sorted(signature_params(cls))
        for name in params:
            if name not in known and not (name == "random_state" and self._drops_random_state):
                close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise UnknownParameterError(
                    f"{self.name}: EconML's {cls.__name__} has no parameter {name!r}{hint}",
                    parameter=name,
                    suggestions=close,
                )
        clash = sorted(k for k in (*params, *extra) if hasattr(type(self), k))
        if clash:
            raise UnimlError(
                f"parameter name(s) {clash} clash with {type(self).__name__} attributes"
            )
        params.update(extra)
        for name, p in signature.items():
            if p.default is p.empty and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
                if name not in params:
                    raise ParameterError(
                        f"{self.name}: EconML's {cls.__name__} needs {name}= (e.g. "
                        f"{name}=LinearRegression() for the outcome models)",
                        parameter=name,
                    )
        return params

    #: meta-learners take no random_state: the adapter uses it to seed the bootstrap only
    _drops_random_state = False

    def _check_models(self, data: CausalData, params: dict) -> None:
        """Refuse nuisance models of the wrong kind and treatment groups too small to cross-fit."""
        from sklearn.base import is_classifier

        from uniml.core.errors import ParameterError

        def models(value):
            values = value if isinstance(value, (list, tuple)) else [value]
            return [v for v in values if v is not None and not isinstance(v, str)]

        continuous = data.treatment_type == "continuous"
        if continuous and params.get("discrete_treatment"):
            raise DataContractError(
                f"role 'treatment': column {data.treatment!r} is continuous but "
                f"discrete_treatment=True; encode the arms as a few integer levels or drop "
                f"discrete_treatment"
            )
        if continuous and any(is_classifier(m) for m in models(params.get("model_t"))):
            raise ParameterError(
                f"{self.name}: model_t is a classifier but the treatment {data.treatment!r} is "
                f"continuous; give a regressor (e.g. model_t=LinearRegression())",
                parameter="model_t",
            )
        if not params.get("discrete_outcome"):
            for key in ("model_y", "models", "model_regression", "overall_model"):
                if any(is_classifier(m) for m in models(params.get(key))):
                    raise ParameterError(
                        f"{self.name}: {key} is a classifier but the outcome {data.outcome!r} is "
                        f"modelled as continuous; give a regressor (or discrete_outcome=True "
                        f"where EconML supports it)",
                        parameter=key,
                    )
        if continuous:
            return
        has_cv = "cv" in signature_params(self._estimator_class())
        cv = params.get("cv", 2) if has_cv else 1  # EconML cross-fits with cv=2 folds by default
        folds = cv if isinstance(cv, int) and not isinstance(cv, bool) else 2
        need = max(2, folds)
        counts = data.T.value_counts()
        small = counts[counts < need]
        if len(small):
            level, n = small.index[0], int(small.iloc[0])
            level = level.item() if isinstance(level, np.generic) else level
            raise DataContractError(
                f"role 'treatment': level {level!r} of column {data.treatment!r} has {n} row(s); "
                f"{self.name} needs at least {need} rows per treatment level"
                + (f" (cross-fitting with cv={folds})" if has_cv else "")
            )

    def _inference(self):
        return getattr(self, "inference", "auto")

    def _method_name(self) -> str:
        return f"econml.{self._module}.{self._classes[self._estimator_key()]}"

    # ------------------------------------------------------------------ fit
    def _fit_arrays(self, data: CausalData) -> dict:
        X = data.X.to_numpy(dtype=float) if data.effect_modifiers else None
        W = data.W.to_numpy(dtype=float) if data.confounders else None
        return {"X": X, "W": W}

    def _fit(self, data: CausalData, **fit_params):
        params = self._econml_params(data)
        self._check_models(data, params)
        cls = self._estimator_class()
        est = cls(**params)
        arrays = self._fit_arrays(data)
        try:
            est.fit(
                data.Y.to_numpy(dtype=float),
                data.T.to_numpy(),
                **arrays,
                inference=self._inference(),
                **fit_params,
            )
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            # whatever EconML (or a nuisance model) refuses, the user gets a uniml error naming the
            # estimator; the library's own message is kept, and the exception is the cause
            raise UnimlError(f"{self.name}: EconML's {cls.__name__} could not fit: {exc}") from exc
        self.estimator_ = est
        self.X_train_ = arrays["X"]
        #: treatment of each training row (selects the units of ``target="att"`` / ``"atc"``)
        self.T_train_ = data.T.to_numpy()

    # -------------------------------------------------------------- effects
    def _x(self, X: pd.DataFrame):
        return X.to_numpy(dtype=float) if X.shape[1] else None

    def _effect(self, X, alpha, treated):
        est, x = self.estimator_, self._x(X)
        effect = np.asarray(est.effect(x, T0=self.control_, T1=treated), dtype=float).reshape(-1)
        lower, upper = est.effect_interval(x, T0=self.control_, T1=treated, alpha=alpha)
        lower, upper = (
            np.asarray(lower, dtype=float).reshape(-1),
            np.asarray(upper, dtype=float).reshape(-1),
        )
        if x is None:  # no effect modifiers: every row gets the (constant) effect
            effect, lower, upper = (np.repeat(v[:1], len(X)) for v in (effect, lower, upper))
        return effect, lower, upper

    def _ate(self, alpha, treated):
        return self._mean_over(self.X_train_, alpha, treated)

    def _mean_over(self, x, alpha, treated):
        """EconML's mean effect over the rows ``x`` and its interval (exact for linear final
        stages, a conservative bound or the bootstrap's otherwise), conditional on ``x``."""
        est = self.estimator_
        ate = est.ate(x, T0=self.control_, T1=treated)
        lower, upper = est.ate_interval(x, T0=self.control_, T1=treated, alpha=alpha)
        return float(np.ravel(ate)[0]), float(np.ravel(lower)[0]), float(np.ravel(upper)[0])

    def _target_effect(self, target, alpha, treated):
        if target == "ate":
            return super()._target_effect(target, alpha, treated)
        T = getattr(self, "T_train_", None)
        if T is None:
            raise UnimlError(
                f"{self.name}: this model was saved without its training treatment; refit it to "
                f"estimate the {target.upper()}"
            )
        mask = self._group_mask(T, target, treated)
        x = None if self.X_train_ is None else self.X_train_[mask]
        # without effect modifiers the effect is one constant: the same for every group of units
        return (*self._mean_over(x, alpha, treated), int(mask.sum()))

    def _rows_effect(self, X, alpha, treated):
        return self._mean_over(self._x(X), alpha, treated)

    # -------------------------------------------------------------- explain
    def _explain(self, X, background_samples: int | None = None, **kwargs) -> Explanation:
        names = [str(c) for c in X.columns]
        if not names:
            raise UnimlError(
                f"{self.name}: explain needs effect modifiers; this model was fitted without any"
            )
        if background_samples is None:
            background_samples = self._shap_background
        shap = self.estimator_.shap_values(
            X.to_numpy(dtype=float), feature_names=names, background_samples=background_samples
        )
        per_treatment = next(iter(shap.values()))
        key = self._shap_key(list(per_treatment))
        sv = per_treatment[key]
        values = np.asarray(sv.values, dtype=float).reshape(len(X), len(names))
        base = np.asarray(sv.base_values, dtype=float).reshape(-1)
        effect = pd.Series(self._effect(X, self.alpha, self.treated_)[0])
        contributions = pd.DataFrame(values, columns=list(X.columns))
        base_value = float(base[0]) if base.size else 0.0
        # SHAP of a non-linear final stage (forests) is approximate: claim additivity only when it holds
        additive = bool(
            base.size
            and np.allclose(base, base_value, rtol=0, atol=ADDITIVITY_TOL)
            and np.max(
                np.abs(contributions.sum(axis=1).to_numpy() + base_value - effect.to_numpy()),
                initial=0.0,
            )
            <= ADDITIVITY_TOL
        )
        return Explanation(
            contributions,
            base_value,
            "causal_drivers",
            additive,
            effect,
            meta={
                "source": "econml shap_values",
                "treatment": key,
                "estimator": self._method_name(),
                "contrast": (self.control_, self.treated_),
            },
        )

    def _shap_key(self, keys: list):
        if len(keys) == 1 or self.treatment_levels_ is None:
            return keys[0]
        # discrete arms: EconML reports one entry per non-baseline level, in level order
        arms = [lvl for lvl in self.treatment_levels_ if lvl != self.treatment_levels_[0]]
        return keys[arms.index(self.treated_)] if self.treated_ in arms else keys[0]

    # ----------------------------------------------------------- persistence
    def _save(self, folder: Path) -> dict:
        return self._save_pickles(
            folder,
            {"estimator": self.estimator_, "X_train": self.X_train_, "T_train": self.T_train_},
        )

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        self.require_library()
        payload = self._load_pickle(folder, trusted)
        self.estimator_, self.X_train_ = payload["estimator"], payload["X_train"]
        self.T_train_ = payload.get("T_train")


@register
class EconMLDML(_EconML):
    """Double machine learning: ``LinearDML``, ``SparseLinearDML`` or ``CausalForestDML``.

    Parameters
    ----------
    **params
        Passed unchanged to the EconML class (``model_y``, ``model_t``, ``cv``,
        ``random_state``, ``n_estimators``...), except the adapter options
        below. ``discrete_treatment`` defaults to True for binary and
        multi-valued treatments.

    Other Parameters
    ----------------
    estimator : {"linear", "sparse_linear", "causal_forest"}, default "linear"
        The EconML class: ``LinearDML``, ``SparseLinearDML`` or ``CausalForestDML``.
    control_value, treated_value : scalar, optional
        Treatment values contrasted by the effect (default: lowest and highest seen at fit).
    inference : str or econml.inference object, optional
        Passed to EconML's ``fit`` (default EconML's own).
    alpha : float, default 0.05
        Interval level (``1 - alpha`` coverage) of ``predict`` and
        ``effect_summary`` when they are not given one.

    Attributes
    ----------
    estimator_ : econml estimator
        The fitted EconML object.

    Examples
    --------
    >>> import uniml
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from uniml.testing.causal import make_causal_data
    >>> data, truth = make_causal_data(n=300, seed=1)
    >>> m = uniml.make("econml.dml", model_y=LinearRegression(), model_t=LogisticRegression(),
    ...                random_state=0).fit(data)
    >>> m.effect_summary()["method"]
    'econml.dml.LinearDML'
    """

    name = "econml.dml"
    _module = "dml"
    _classes = {
        "linear": "LinearDML",
        "sparse_linear": "SparseLinearDML",
        "causal_forest": "CausalForestDML",
    }
    _default_estimator = "linear"

    @classmethod
    def _test_params(cls) -> list[dict]:
        from sklearn.linear_model import LinearRegression, LogisticRegression

        return [
            {
                "model_y": LinearRegression(),
                "model_t": LogisticRegression(),
                "cv": 2,
                "random_state": 0,
            },
            {
                "estimator": "causal_forest",
                "model_y": LinearRegression(),
                "model_t": LogisticRegression(),
                "cv": 2,
                "n_estimators": 40,
                "min_samples_leaf": 10,
                "random_state": 0,
                "n_jobs": 1,
            },
        ]

    def _econml_params(self, data):
        params = super()._econml_params(data)
        if "discrete_treatment" not in params and data.treatment_type != "continuous":
            params["discrete_treatment"] = True
        return params


@register
class EconMLDR(_EconML):
    """Doubly robust learners: ``LinearDRLearner``, ``SparseLinearDRLearner``, ``ForestDRLearner``, ``DRLearner``.

    Binary or multi-valued treatments only.

    Parameters
    ----------
    **params
        Passed unchanged to the EconML class (``model_propensity``,
        ``model_regression``, ``cv``, ``random_state``...), except the
        adapter options below.

    Other Parameters
    ----------------
    estimator : {"linear", "sparse_linear", "forest", "dr"}, default "linear"
        The EconML class: ``LinearDRLearner``, ``SparseLinearDRLearner``,
        ``ForestDRLearner`` or ``DRLearner``.
    control_value, treated_value : scalar, optional
        Treatment values contrasted by the effect (default: lowest and highest seen at fit).
    inference : str or econml.inference object, optional
        Passed to EconML's ``fit``; default EconML's own, except that
        ``estimator="dr"`` defaults to bootstrap inference
        (``n_bootstrap_samples`` replicates, seeded by ``random_state``).
    n_bootstrap_samples : int, default 100
        Bootstrap replicates of ``estimator="dr"`` (ignored when ``inference`` is given).
    alpha : float, default 0.05
        Interval level (``1 - alpha`` coverage) of ``predict`` and
        ``effect_summary`` when they are not given one.

    Examples
    --------
    >>> import uniml
    >>> from sklearn.linear_model import LinearRegression, LogisticRegression
    >>> from uniml.testing.causal import make_causal_data
    >>> data, truth = make_causal_data(n=300, seed=2)
    >>> m = uniml.make("econml.dr", model_propensity=LogisticRegression(),
    ...                model_regression=LinearRegression(), random_state=0).fit(data)
    >>> round(abs(m.effect_summary()["ate"] - truth["ate"]), 0) <= 1
    True
    """

    name = "econml.dr"
    _module = "dr"
    _classes = {
        "linear": "LinearDRLearner",
        "sparse_linear": "SparseLinearDRLearner",
        "forest": "ForestDRLearner",
        "dr": "DRLearner",
    }
    _default_estimator = "linear"

    def _inference(self):
        if self._estimator_key() == "dr" and getattr(self, "inference", None) is None:
            # a generic final model has no analytic intervals ("Only point estimates are available!")
            from econml.inference import BootstrapInference

            return BootstrapInference(
                n_bootstrap_samples=getattr(self, "n_bootstrap_samples", 100), n_jobs=1
            )
        return super()._inference()

    def _fit(self, data, **fit_params):
        # EconML's bootstrap draws from numpy's global generator: seed it for this fit only
        with seeded_global_numpy(getattr(self, "random_state", None)):
            super()._fit(data, **fit_params)

    @classmethod
    def _test_params(cls) -> list[dict]:
        from sklearn.linear_model import LinearRegression, LogisticRegression

        return [
            {
                "model_propensity": LogisticRegression(),
                "model_regression": LinearRegression(),
                "cv": 2,
                "random_state": 0,
            }
        ]

    def _check_data(self, data: CausalData) -> None:
        if data.treatment_type == "continuous":
            raise DataContractError(
                f"role 'treatment': {self.name} needs a binary or multi-valued treatment; column "
                f"{data.treatment!r} is continuous (use econml.dml)"
            )


@register
class EconMLMetaLearner(_EconML):
    """Meta-learners: ``TLearner``, ``SLearner``, ``XLearner``.

    They condition on effect modifiers and confounders together (EconML's
    meta-learners take no separate ``W``), so ``predict`` needs both. Intervals
    come from bootstrap inference.

    Parameters
    ----------
    **params
        Passed unchanged to the EconML class (``models``, ``overall_model``,
        ``propensity_model``...), except the adapter options below.

    Other Parameters
    ----------------
    estimator : {"t", "s", "x"}, default "t"
        The EconML class: ``TLearner``, ``SLearner`` or ``XLearner``.
    random_state : int, optional
        Seeds the bootstrap (the meta-learners take no seed themselves; seed
        the nuisance models through their own ``random_state``).
    n_bootstrap_samples : int, default 100
        Bootstrap replicates for the intervals (ignored when ``inference`` is given).
    control_value, treated_value : scalar, optional
        Treatment values contrasted by the effect (default: lowest and highest seen at fit).
    inference : str or econml.inference object, optional
        Passed to EconML's ``fit`` (default bootstrap inference).
    alpha : float, default 0.05
        Interval level (``1 - alpha`` coverage) of ``predict`` and
        ``effect_summary`` when they are not given one.

    Examples
    --------
    >>> import uniml
    >>> from sklearn.linear_model import LinearRegression
    >>> from uniml.testing.causal import make_causal_data
    >>> data, truth = make_causal_data(n=300, seed=3)
    >>> m = uniml.make("econml.metalearner", models=LinearRegression(), n_bootstrap_samples=20,
    ...                random_state=0).fit(data)
    >>> m.schema_.names
    ('x1', 'x2', 'w1', 'w2')
    """

    name = "econml.metalearner"
    _module = "metalearners"
    _classes = {"t": "TLearner", "s": "SLearner", "x": "XLearner"}
    _default_estimator = "t"
    # model-agnostic (exact) SHAP costs 2^d evaluations per background row: keep the background small
    _shap_background = 20

    @classmethod
    def _test_params(cls) -> list[dict]:
        from sklearn.linear_model import LinearRegression

        return [{"models": LinearRegression(), "n_bootstrap_samples": 20, "random_state": 0}]

    def _check_data(self, data: CausalData) -> None:
        if data.treatment_type == "continuous":
            raise DataContractError(
                f"role 'treatment': {self.name} needs a binary or multi-valued treatment; column "
                f"{data.treatment!r} is continuous (use econml.dml)"
            )
        if not data.effect_modifiers and not data.confounders:
            raise DataContractError(
                f"{self.name} needs effect modifiers or confounders to condition on"
            )

    def _predict_columns(self, data: CausalData) -> list:
        return [*data.effect_modifiers, *data.confounders]

    _drops_random_state = True

    def _econml_params(self, data):
        params = super()._econml_params(data)
        params.pop("random_state", None)
        return params

    def _inference(self):
        if getattr(self, "inference", None) is not None:
            return self.inference
        from econml.inference import BootstrapInference

        return BootstrapInference(
            n_bootstrap_samples=getattr(self, "n_bootstrap_samples", 100), n_jobs=1
        )

    def _fit_arrays(self, data):
        return {"X": data.frame[self._predict_columns(data)].to_numpy(dtype=float)}

    def _fit(self, data, **fit_params):
        # EconML's bootstrap draws from numpy's global generator: seed it for this fit only
        with seeded_global_numpy(getattr(self, "random_state", None)):
            super()._fit(data, **fit_params)
