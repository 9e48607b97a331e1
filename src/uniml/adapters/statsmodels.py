"""statsmodels adapters: ``statsmodels.sarimax``, ``statsmodels.ets`` (forecasting) and
``statsmodels.ols``, ``statsmodels.glm``, ``statsmodels.logit`` (tabular).

Forecasters fit one statsmodels model per series. Every keyword that is not a
uniml option is a model constructor argument passed unchanged (``order``,
``seasonal_order``, ``trend``... for ``SARIMAX``; ``error``, ``trend``,
``seasonal``, ``seasonal_periods``... for ``ETSModel``); ``fit_kwargs`` go to
``.fit`` (default ``disp=False``). Series are handed to statsmodels as plain
arrays, so forecasts and parameters equal statsmodels' own on the same arrays.
Explanations give each exogenous regressor's contribution ``beta * x`` and the
remaining model component (additive to the forecast), plus the fitted
parameter table. ``update`` uses ``SARIMAXResults.append`` (no refit) and
refits ETS. Results are persisted with statsmodels' pickle
(``uniml.load(..., trusted=True)``). Each series is fitted and forecast with
BLAS limited to one thread: state-space matrices are tiny, and a
multi-threaded OpenBLAS only spins on them (7x the CPU time for bit-identical
results, measured on 2 cores); parallelism comes from ``n_jobs`` across series.

The tabular adapters fit ``OLS``, ``GLM`` (``family`` and ``link`` by name)
and ``Logit`` (``MNLogit`` for more than two classes) with an intercept; their
explanations are exact coefficient contributions ``coef * (x - mean)`` in the
linear-predictor space, with the inference table. They persist as JSON (no
pickle).

Examples
--------
>>> import uniml
>>> from sklearn.datasets import load_diabetes
>>> X, y = load_diabetes(return_X_y=True, as_frame=True)
>>> m = uniml.make("statsmodels.ols").fit(X, y)
>>> e = m.explain(X.head(3))
>>> e.kind, e.additivity_error() < 1e-9, list(e.tables["parameters"].columns)[:2]
('linear', True, ['estimate', 'std_error'])
"""

from __future__ import annotations

import json
import pickle
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.core.adapter import (
    ClassifierAdapter,
    LibraryParams,
    RegressorAdapter,
    TabularAdapter,
    signature_params,
)
from uniml.core.catalog import register
from uniml.core.errors import DataContractError, SchemaError
from uniml.core.explanation import Explanation
from uniml.core.forecasting import ForecastingAdapter, interval_alpha

__all__ = [
    "StatsmodelsETS",
    "StatsmodelsGLM",
    "StatsmodelsLogit",
    "StatsmodelsOLS",
    "StatsmodelsSARIMAX",
]


def _inference_table(names, params, bse, pvalues, conf_int) -> pd.DataFrame:
    ci = np.asarray(conf_int, dtype=float)
    return pd.DataFrame(
        {
            "estimate": np.asarray(params, dtype=float),
            "std_error": np.asarray(bse, dtype=float),
            "p_value": np.asarray(pvalues, dtype=float),
            "ci_lower": ci[:, 0],
            "ci_upper": ci[:, 1],
        },
        index=pd.Index(list(names), name="parameter"),
    )


# ============================================================== forecasting
_BLAS_CONTROLLER: list = []


def _blas_controller():
    """A threadpoolctl controller over numpy's and scipy's BLAS, built once (building one costs ~10 ms)."""
    if not _BLAS_CONTROLLER:
        import scipy.linalg  # noqa: F401 - load scipy's own BLAS before the controller lists the libraries
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER.append(ThreadpoolController())
    return _BLAS_CONTROLLER[0]


class _StatsmodelsForecaster(ForecastingAdapter):
    library = "statsmodels"
    extra = "statsmodels"
    persistence = "statsmodels-pickle"
    _adapter_options = (*ForecastingAdapter._adapter_options, "fit_kwargs")

    def _fit_kwargs(self) -> dict:
        return {"disp": False, **(self._option("fit_kwargs", None) or {})}

    @contextmanager
    def _library_quiet(self, quiet: bool):
        with super()._library_quiet(quiet), _blas_controller().limit(limits=1, user_api="blas"):
            yield

    def _arrays(self, frame):
        endog = frame["y"].to_numpy(dtype=float)
        exog = frame[self.exog_].to_numpy(dtype=float) if self.exog_ else None
        return endog, exog

    def _component_name(self) -> str:
        return self.name.split(".")[1]

    def _exog_contributions(self, model, future, forecast):
        parts = {}
        if self.exog_:
            names = list(model.model.param_names)
            params = np.asarray(model.params, dtype=float)
            for j, col in enumerate(self.exog_):
                beta = params[names.index(model.model.exog_names[j])]
                parts[col] = beta * future[col].to_numpy(dtype=float)
        rest = forecast - (np.sum(list(parts.values()), axis=0) if parts else 0.0)
        return pd.DataFrame({self._component_name(): rest, **parts})

    def _parameter_table(self, model, key):
        names = list(model.model.param_names)
        if self.exog_:
            rename = dict(zip(model.model.exog_names, self.exog_, strict=True))
            names = [rename.get(n, n) for n in names]
        return _inference_table(
            names, model.params, model.bse, model.pvalues, model.conf_int(alpha=0.05)
        )

    def _save(self, folder: Path) -> dict:
        with open(folder / "statsmodels_results.pkl", "wb") as fh:
            pickle.dump(list(self.models_.values()), fh, protocol=pickle.HIGHEST_PROTOCOL)
        return {"statsmodels_results.pkl": {"format": "statsmodels-pickle", "pickle": True}}

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        from uniml.core.persistence import read_pickle

        self.require_library()
        models = read_pickle(folder / "statsmodels_results.pkl", trusted=trusted)
        self.models_ = dict(zip(self._saved_keys, models, strict=True))


@register
class StatsmodelsSARIMAX(_StatsmodelsForecaster):
    """ARIMA / SARIMAX (``statsmodels.tsa.statespace.sarimax.SARIMAX``), one model per series.

    Parameters
    ----------
    **params
        Any ``SARIMAX`` constructor argument (``order``, ``seasonal_order``,
        ``trend``...), passed unchanged, and the uniml options below (see
        :class:`~uniml.core.forecasting.ForecastingAdapter`).

    Other Parameters
    ----------------
    fit_kwargs : dict, optional
        Keywords of ``SARIMAX.fit`` (default ``disp=False``).
    n_jobs : int, default 1
        Series fitted in parallel (``-1`` = all cores).
    coverage : tuple of float, default (0.8, 0.95)
        Interval coverages.
    errors : {"raise", "warn"}, default "raise"
        Raise :class:`~uniml.core.forecasting.SeriesFitError` or warn when
        some series fail to fit.
    progress : bool, default False
        Show a progress bar.
    verbose : bool, default False
        Let the library log as it fits.

    Examples
    --------
    >>> import numpy as np, pandas as pd, uniml
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"t": pd.date_range("2020-01", periods=60, freq="MS"), "x": rng.normal(size=60)})
    >>> df["y"] = 2.0 * df["x"] + rng.normal(size=60).cumsum() * 0.1
    >>> m = uniml.make("statsmodels.sarimax", order=(1, 0, 0)).fit(df, time="t", target="y", exog=["x"])
    >>> future = pd.DataFrame({"t": pd.date_range("2025-01", periods=3, freq="MS"), "x": [0.0, 1.0, 2.0]})
    >>> m.predict(future)["forecast"].shape
    (3,)
    >>> float(round(m.explain(future).tables["parameters"].loc["x", "estimate"], 1))
    2.0
    """

    name = "statsmodels.sarimax"

    @classmethod
    def _test_params(cls) -> list[dict]:
        return [{"order": (1, 0, 0), "trend": "c"}]

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        return signature_params(SARIMAX.__init__) - {"endog", "exog"}

    def _min_length(self) -> int:
        order = self._option("order", (1, 0, 0))
        seasonal = self._option("seasonal_order", (0, 0, 0, 0))
        return max(3, sum(order[:2]) + 2, seasonal[3] * (seasonal[0] + seasonal[1]) + 2)

    def _fit_series(self, frame, key):
        self.require_library()
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        endog, exog = self._arrays(frame)
        return SARIMAX(endog, exog=exog, **self._library_params()).fit(**self._fit_kwargs())

    def _forecast_series(self, model, future, steps, key):
        exog = future[self.exog_].to_numpy(dtype=float) if self.exog_ else None
        fc = model.get_forecast(steps=int(steps.max()), exog=exog)
        take = steps - 1
        out = {"forecast": np.asarray(fc.predicted_mean)[take]}
        for c, lo, hi in self._coverage:
            ci = np.asarray(fc.conf_int(alpha=interval_alpha(c)))[take]
            out[lo], out[hi] = ci[:, 0], ci[:, 1]
        return out

    def _components_series(self, model, future, steps, key):
        forecast = self._forecast_series(model, future, steps, key)["forecast"]
        return self._exog_contributions(model, future, forecast), forecast

    def _update_series(self, model, new, key):
        endog, exog = self._arrays(new)
        return model.append(endog, exog=exog)


_ETS_SEED_NAME: list[str] = []


def _ets_seed(seed) -> dict:
    """``seed`` as the keyword ``ETSResults.simulate`` takes (``rng`` in statsmodels 0.15,
    ``random_state`` before); nothing for None (statsmodels draws fresh entropy)."""
    if seed is None:
        return {}
    if not _ETS_SEED_NAME:
        import inspect

        from statsmodels.tsa.exponential_smoothing.ets import ETSResults

        names = inspect.signature(ETSResults.simulate).parameters
        _ETS_SEED_NAME.append("rng" if "rng" in names else "random_state")
    return {_ETS_SEED_NAME[0]: seed}


@register
class StatsmodelsETS(_StatsmodelsForecaster):
    """Exponential smoothing / ETS (``statsmodels.tsa.exponential_smoothing.ets.ETSModel``).

    Parameters
    ----------
    **params
        Any ``ETSModel`` argument (``error``, ``trend``, ``damped_trend``,
        ``seasonal``, ``seasonal_periods``...), passed unchanged, and the
        uniml options below (see :class:`~uniml.core.forecasting.ForecastingAdapter`).

    Other Parameters
    ----------------
    fit_kwargs : dict, optional
        Keywords of ``ETSModel.fit`` (default ``disp=False``).
    n_jobs : int, default 1
        Series fitted in parallel (``-1`` = all cores).
    coverage : tuple of float, default (0.8, 0.95)
        Interval coverages. Models with multiplicative parts get statsmodels'
        simulated intervals, drawn with ``seed``.
    seed : int or None, default 0
        Seed of those simulations, so a forecast is repeatable and equal after
        ``save``/``load`` (None: fresh entropy on every call).
    errors : {"raise", "warn"}, default "raise"
        Raise :class:`~uniml.core.forecasting.SeriesFitError` or warn when
        some series fail to fit.
    progress : bool, default False
        Show a progress bar.
    verbose : bool, default False
        Let the library log as it fits.

    Examples
    --------
    >>> import numpy as np, pandas as pd, uniml
    >>> df = pd.DataFrame({"t": pd.date_range("2020-01", periods=48, freq="MS"),
    ...                    "y": 10 + np.tile([0.0, 2, 4, 2], 12) + np.arange(48) * 0.1})
    >>> m = uniml.make("statsmodels.ets", trend="add", seasonal="add", seasonal_periods=4)
    >>> m.fit(df, time="t", target="y").predict(horizon=4)["forecast"].round(1).tolist()
    [14.8, 16.9, 19.0, 17.1]
    """

    name = "statsmodels.ets"
    supports_exog = False
    _adapter_options = (*_StatsmodelsForecaster._adapter_options, "seed")

    @classmethod
    def _test_params(cls) -> list[dict]:
        return [{"trend": "add"}]

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        return signature_params(ETSModel.__init__) - {"endog"}

    def _min_length(self) -> int:
        periods = self._option("seasonal_periods", None) or 0
        return max(4, 2 * periods + 2)

    def _fit_series(self, frame, key):
        self.require_library()
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        endog, _ = self._arrays(frame)
        # a Series (RangeIndex): ETS prediction intervals need pandas endog in statsmodels 0.15
        return ETSModel(pd.Series(endog), **self._library_params()).fit(**self._fit_kwargs())

    def _forecast_series(self, model, future, steps, key):
        n = int(model.nobs)
        # multiplicative models' intervals are simulated: seeded, so a forecast is repeatable
        seed = _ets_seed(self._option("seed", 0))
        pred = model.get_prediction(start=n, end=n + int(steps.max()) - 1, **seed)
        take = steps - 1
        out = {"forecast": np.asarray(pred.predicted_mean)[take]}
        for c, lo, hi in self._coverage:
            ci = np.asarray(pred.pred_int(alpha=interval_alpha(c)))[take]
            out[lo], out[hi] = ci[:, 0], ci[:, 1]
        return out

    def _components_series(self, model, future, steps, key):
        forecast = self._forecast_series(model, future, steps, key)["forecast"]
        return pd.DataFrame({"ets": forecast}), forecast

    def _exog_contributions(self, model, future, forecast):  # ETS has no regressors
        return pd.DataFrame({"ets": forecast})

    def _parameter_table(self, model, key):
        return _inference_table(
            model.param_names, model.params, model.bse, model.pvalues, model.conf_int(alpha=0.05)
        )

    def _update_series(self, model, new, key):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        endog = np.concatenate(
            [np.asarray(model.model.endog, dtype=float), new["y"].to_numpy(dtype=float)]
        )
        return ETSModel(pd.Series(endog), **self._library_params()).fit(**self._fit_kwargs())


# =================================================================== tabular
class _StatsmodelsLinear(LibraryParams, TabularAdapter):
    library = "statsmodels"
    extra = "statsmodels"
    explanation_kind = "linear"
    additive = True
    persistence = "npz-json"
    numeric_only = True

    def _matrix(self, X) -> np.ndarray:
        """``X`` as float64, refusing missing values: statsmodels would turn a row with a NaN
        into a NaN prediction (and a logit into class 0) without a word."""
        arr = np.asarray(X, dtype=np.float64)
        bad = np.isnan(arr).any(axis=0) if arr.ndim == 2 else np.zeros(0, dtype=bool)
        if bad.any():
            j = int(np.argmax(bad))
            names = list(X.columns) if isinstance(X, pd.DataFrame) else None
            column = names[j] if names else f"x{j}"
            raise SchemaError(
                f"{self.name}: column {column!r} has {int(np.isnan(arr[:, j]).sum())} missing "
                f"value(s); statsmodels' linear models cannot use them: impute or drop those rows "
                f"first (e.g. a Pipeline with SimpleImputer)",
                column=column,
            )
        return arr

    def _design(self, X) -> np.ndarray:
        arr = self._matrix(X)
        return np.column_stack([np.ones(len(arr)), arr])

    def _record(self, results, X, names) -> None:
        self.params_ = np.asarray(results.params, dtype=np.float64)
        self.feature_mean_ = np.asarray(np.mean(np.asarray(X, dtype=np.float64), axis=0))
        self.inference_ = self._table(results, ["const", *names])

    def _table(self, results, names) -> pd.DataFrame:
        return _inference_table(
            names, results.params, results.bse, results.pvalues, results.conf_int(alpha=0.05)
        )

    def _linear_explanation(self, X, coef, intercept, link_space) -> Explanation:
        z = self._matrix(X)
        contrib = pd.DataFrame((z - self.feature_mean_) * coef, columns=list(self.schema_.names))
        base = float(intercept + coef @ self.feature_mean_)
        return Explanation(
            contrib,
            base,
            "linear",
            True,
            pd.Series(z @ coef + intercept),
            space=link_space,
            tables={"parameters": self.inference_},
            meta={"source": "statsmodels coefficients"},
        )

    def _state(self) -> dict:
        return {
            "params": self.params_.tolist(),
            "feature_mean": self.feature_mean_.tolist(),
            "inference": json.loads(self.inference_.to_json(orient="split", double_precision=15)),
        }

    def _set_state(self, state: dict) -> None:
        self.params_ = np.asarray(state["params"], dtype=np.float64)
        self.feature_mean_ = np.asarray(state["feature_mean"], dtype=np.float64)
        inf = state["inference"]
        self.inference_ = pd.DataFrame(
            inf["data"], index=pd.Index(inf["index"], name="parameter"), columns=inf["columns"]
        )

    def _save(self, folder: Path) -> dict:
        # parameters live in the manifest state; this small file keeps the artifact list non-empty
        np.savez(folder / "params.npz", params=self.params_, feature_mean=self.feature_mean_)
        return {"params.npz": {"format": "npz-json"}}

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        with np.load(folder / "params.npz", allow_pickle=False) as data:
            self.params_ = data["params"]
            self.feature_mean_ = data["feature_mean"]

    #: the statsmodels model class(es) whose ``fit`` takes this adapter's keywords
    _sm_models: tuple[str, ...] = ()

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        # statsmodels' fit swallows unknown keywords into **kwargs: check them against the
        # named ones (optimizer options go through extra_params)
        cls.require_library()
        import statsmodels.api as sm

        return signature_params(*(getattr(sm, m).fit for m in cls._sm_models))

    def _fit_library(self, builder, X, y):
        self.require_library()
        names = [
            str(n)
            for n in (
                X.columns if isinstance(X, pd.DataFrame) else [f"x{i}" for i in range(X.shape[1])]
            )
        ]
        design = self._design(X)
        try:
            return builder(np.asarray(y, dtype=np.float64), design), names
        except np.linalg.LinAlgError as exc:
            raise DataContractError(f"{self.name}: the design matrix is singular ({exc})") from exc


@register
class StatsmodelsOLS(_StatsmodelsLinear, RegressorAdapter):
    """Ordinary least squares (``statsmodels.api.OLS``) with an intercept.

    Parameters
    ----------
    **params
        Keywords of ``OLS.fit`` (``cov_type``, ``cov_kwds``...).

    Attributes
    ----------
    params_ : ndarray
        Intercept then coefficients.
    inference_ : pandas.DataFrame
        Estimate, std error, p-value and 95% CI per parameter.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> m = uniml.make("statsmodels.ols").fit(X, 1.0 + X @ [2.0, -1.0])
    >>> m.params_.round(6).tolist()
    [1.0, 2.0, -1.0]
    """

    name = "statsmodels.ols"
    _sm_models = ("OLS",)

    def _fit(self, X, y, **fit_params):
        import statsmodels.api as sm

        params = self._library_params()
        results, names = self._fit_library(
            lambda yy, design: sm.OLS(yy, design).fit(**params, **fit_params),
            X,
            y,
        )
        self._record(results, X, names)

    def _predict(self, X):
        return self._design(X) @ self.params_

    def _explain(self, X, **kwargs):
        return self._linear_explanation(X, self.params_[1:], self.params_[0], "raw")


_FAMILIES = {
    "gaussian": "Gaussian",
    "poisson": "Poisson",
    "binomial": "Binomial",
    "gamma": "Gamma",
    "inverse_gaussian": "InverseGaussian",
    "negative_binomial": "NegativeBinomial",
    "tweedie": "Tweedie",
}
_LINKS = {
    "identity": "Identity",
    "log": "Log",
    "logit": "Logit",
    "probit": "Probit",
    "inverse_power": "InversePower",
    "sqrt": "Sqrt",
    "cloglog": "CLogLog",
    "inverse_squared": "InverseSquared",
}


@register
class StatsmodelsGLM(_StatsmodelsLinear, RegressorAdapter):
    """Generalised linear model (``statsmodels.api.GLM``) with an intercept.

    Parameters
    ----------
    **params
        Keywords of ``GLM.fit``, and the two options below.

    Other Parameters
    ----------------
    family : str, default "gaussian"
        ``gaussian``, ``poisson``, ``binomial``, ``gamma``, ``inverse_gaussian``,
        ``negative_binomial`` or ``tweedie``.
    link : str, optional
        ``identity``, ``log``, ``logit``, ``probit``, ``inverse_power``, ``sqrt``,
        ``cloglog``, ``inverse_squared``; default the family's canonical link.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 1))
    >>> y = rng.poisson(np.exp(0.5 + 0.3 * X[:, 0]))
    >>> m = uniml.make("statsmodels.glm", family="poisson").fit(X, y)
    >>> m.explain(X[:2]).space
    'link'
    """

    name = "statsmodels.glm"
    _sm_models = ("GLM",)

    @classmethod
    def _adapter_param(cls, name: str) -> bool:
        return name in ("family", "link")

    def _family(self):
        import statsmodels.api as sm

        params = self.get_params(deep=False)
        family = params.get("family", "gaussian")
        if family not in _FAMILIES:
            raise DataContractError(
                f"{self.name}: unknown family {family!r}; choose from {sorted(_FAMILIES)}"
            )
        link = params.get("link")
        if link is not None and link not in _LINKS:
            raise DataContractError(
                f"{self.name}: unknown link {link!r}; choose from {sorted(_LINKS)}"
            )
        link_obj = getattr(sm.families.links, _LINKS[link])() if link else None
        cls = getattr(sm.families, _FAMILIES[family])
        return cls(link=link_obj) if link_obj is not None else cls()

    def _fit(self, X, y, **fit_params):
        import statsmodels.api as sm

        kwargs = {k: v for k, v in self._library_params().items() if k not in ("family", "link")}
        family = self._family()
        results, names = self._fit_library(
            lambda yy, design: sm.GLM(yy, design, family=family).fit(**kwargs, **fit_params), X, y
        )
        self._record(results, X, names)
        self._family_ = family

    def _predict(self, X):
        if not hasattr(self, "_family_"):
            self._family_ = self._family()
        return self._family_.link.inverse(self._design(X) @ self.params_)

    def _explain(self, X, **kwargs):
        return self._linear_explanation(X, self.params_[1:], self.params_[0], "link")


@register
class StatsmodelsLogit(_StatsmodelsLinear, ClassifierAdapter):
    """Logistic regression (``statsmodels.api.Logit``; ``MNLogit`` beyond two classes).

    Explanations are in log-odds (margin) space: binary models explain the
    log-odds of ``classes_[1]``; multiclass models explain each class's
    log-odds against ``classes_[0]`` (whose contributions are zero).

    Parameters
    ----------
    **params
        Keywords of ``Logit.fit`` / ``MNLogit.fit`` (``method``, ``maxiter``...;
        ``disp`` defaults to False).

    Examples
    --------
    >>> import uniml
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> m = uniml.make("statsmodels.logit").fit(X[["mean radius", "mean texture"]], y)
    >>> m.predict_proba(X[["mean radius", "mean texture"]].head(2)).shape
    (2, 2)
    """

    name = "statsmodels.logit"
    _sm_models = ("Logit", "MNLogit")
    _encode_labels = True

    def _fit(self, X, y, **fit_params):
        import statsmodels.api as sm

        kwargs = {"disp": False, **self._library_params(), **fit_params}
        multi = len(self.classes_) > 2
        model_cls = sm.MNLogit if multi else sm.Logit
        results, names = self._fit_library(
            lambda yy, design: model_cls(yy, design).fit(**kwargs), X, y
        )
        self.params_ = np.asarray(results.params, dtype=np.float64)  # (p,) or (p, k-1)
        self.feature_mean_ = np.asarray(np.mean(np.asarray(X, dtype=np.float64), axis=0))
        if multi:
            tables = {}
            for j, cls in enumerate(self.classes_[1:]):
                tables[str(cls)] = _inference_table(
                    ["const", *names],
                    results.params[:, j],
                    results.bse[:, j],
                    results.pvalues[:, j],
                    np.asarray(results.conf_int(alpha=0.05)).reshape(len(self.classes_) - 1, -1, 2)[
                        j
                    ],
                )
            self.inference_ = pd.concat(tables, names=["class", "parameter"]).reset_index(level=0)
        else:
            self.inference_ = self._table(results, ["const", *names])

    def _margins(self, X) -> np.ndarray:
        eta = self._design(X) @ self.params_
        return eta if eta.ndim == 1 else np.column_stack([np.zeros(len(eta)), eta])

    def _predict_proba(self, X):
        eta = self._margins(X)
        if eta.ndim == 1:
            p = 1.0 / (1.0 + np.exp(-eta))
            return np.column_stack([1.0 - p, p])
        eta = eta - eta.max(axis=1, keepdims=True)
        e = np.exp(eta)
        return e / e.sum(axis=1, keepdims=True)

    def _explain(self, X, **kwargs):
        if self.params_.ndim == 1:
            return self._linear_explanation(X, self.params_[1:], self.params_[0], "margin")
        z = self._matrix(X)
        names = list(self.schema_.names)
        coefs = np.column_stack([np.zeros(self.params_.shape[0]), self.params_])  # (p, k)
        blocks, bases = [], []
        for j in range(len(self.classes_)):
            blocks.append((z - self.feature_mean_) * coefs[1:, j])
            bases.append(coefs[0, j] + coefs[1:, j] @ self.feature_mean_)
        cols = pd.MultiIndex.from_product([list(self.classes_), names])
        contrib = pd.DataFrame(np.concatenate(blocks, axis=1), columns=cols)
        return Explanation(
            contrib,
            pd.Series(bases, index=list(self.classes_)),
            "linear",
            True,
            pd.DataFrame(self._margins(X), columns=list(self.classes_)),
            space="margin",
            tables={"parameters": self.inference_},
            meta={"source": "statsmodels MNLogit"},
        )

    def _state(self) -> dict:
        state = super()._state()
        state["params_shape"] = list(self.params_.shape)
        return state

    def _set_state(self, state: dict) -> None:
        super()._set_state(state)
        self.params_ = self.params_.reshape(state["params_shape"])
