"""Prophet adapter: ``prophet.forecaster``.

Every keyword that is not a uniml option is a ``prophet.Prophet`` constructor
argument, passed unchanged (``growth``, ``seasonality_mode``,
``changepoint_prior_scale``, ``holidays``, ``uncertainty_samples``...). Further
Prophet set-up is declared with three keywords: ``country_holidays`` (a
country name for ``add_country_holidays``), ``seasonalities`` (a list of
``add_seasonality`` keyword dicts) and ``regressor_options`` (per exogenous
column, ``add_regressor`` keywords such as ``prior_scale`` or ``mode``).
Exogenous columns of the data become Prophet extra regressors. Logistic
growth (``growth="logistic"``) reads its capacity from the column named by
``cap_column`` (and an optional saturating minimum from ``floor_column``) in
the training data and in every future frame, so it needs a future frame
rather than ``horizon=``.

One Prophet model is fitted per series (in parallel with ``n_jobs``);
cmdstanpy's and Prophet's log lines are silenced unless ``verbose=True``, and
the pandas deprecation warnings Prophet's own code triggers (e.g.
``Pandas4Warning`` about ``inplace=``) never reach the user.
Interval bounds come from Prophet's own posterior predictive samples drawn
under ``numpy`` seed ``seed`` (default 0; the global random state is restored
afterwards), so they equal ``Prophet.predict``'s with the same seed, for every
coverage at once. Explanations are Prophet's components (trend, each
seasonality, holidays, each regressor); multiplicative components are
reported as ``trend * component``, so the components always add up to
``yhat`` exactly. Persistence uses Prophet's JSON serialization.

Examples
--------
>>> import numpy as np, pandas as pd, uniml
>>> ds = pd.date_range("2024-01-01", periods=56, freq="D")
>>> df = pd.DataFrame({"ds": ds, "y": 10 + np.tile([0.0, 1, 2, 3, 2, 1, 0], 8)})
>>> m = uniml.make("prophet.forecaster", weekly_seasonality=True, uncertainty_samples=100)
>>> fc = m.fit(df, time="ds", target="y").predict(horizon=7)
>>> fc.columns.tolist()
['ds', 'forecast', 'lower_80', 'upper_80', 'lower_95', 'upper_95']
>>> m.explain(horizon=7).additivity_error() < 1e-6
True
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.core.catalog import register
from uniml.core.errors import DataContractError
from uniml.core.forecasting import ForecastingAdapter, quiet_loggers

__all__ = ["ProphetForecaster"]


@contextmanager
def numpy_seed(seed):
    """Seed numpy's global random state (which Prophet samples from) and restore it afterwards."""
    if seed is None:
        yield
        return
    # Prophet draws from numpy's legacy global state, so that is the state to seed
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@register
class ProphetForecaster(ForecastingAdapter):
    """Prophet, one model per series.

    Parameters
    ----------
    **params
        Any ``prophet.Prophet`` constructor argument (``growth``,
        ``seasonality_mode``, ``changepoint_prior_scale``...), passed
        unchanged, and the uniml options below.

    Other Parameters
    ----------------
    country_holidays : str, optional
        Country whose holidays are added (``Prophet.add_country_holidays``).
    seasonalities : list of dict, optional
        Custom seasonalities, each the keywords of ``Prophet.add_seasonality``.
    regressor_options : dict, optional
        Exogenous column -> keywords of ``Prophet.add_regressor``.
    seed : int or None, default 0
        numpy seed for the uncertainty samples (None: leave numpy's state alone).
    cap_column : str, optional
        Column holding the capacity of logistic growth (Prophet's ``cap``);
        required with ``growth="logistic"``, in the training data and in future frames.
    floor_column : str, optional
        Column holding the saturating minimum of logistic growth (Prophet's ``floor``).
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
        Let Prophet and cmdstanpy log as they fit.

    Attributes
    ----------
    models_ : dict
        Series key -> fitted ``prophet.Prophet``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, uniml
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"store": np.repeat(["a", "b"], 40),
    ...                    "ds": np.tile(pd.date_range("2024-01-01", periods=40), 2),
    ...                    "promo": rng.integers(0, 2, 80).astype(float)})
    >>> df["y"] = 5.0 + 3.0 * df["promo"] + rng.normal(size=80)
    >>> m = uniml.make("prophet.forecaster", weekly_seasonality=False, uncertainty_samples=0)
    >>> _ = m.fit(df, time="ds", target="y", series_id="store", exog=["promo"])
    >>> future = pd.DataFrame({"store": ["a", "b"], "ds": pd.to_datetime(["2024-02-10"] * 2),
    ...                        "promo": [1.0, 0.0]})
    >>> m.explain(future).contributions.columns.tolist()
    ['trend', 'promo']
    """

    name = "prophet.forecaster"
    library = "prophet"
    extra = "prophet"
    persistence = "prophet-json"
    extra_library_modules = ("cmdstanpy",)
    handles_gaps = True
    parallel_predict = True  # sampling intervals costs far more than shipping a model to a worker

    @classmethod
    def _known_params(cls) -> frozenset[str]:
        from uniml.core.adapter import signature_params

        prophet = cls.require_library()
        return signature_params(prophet.Prophet.__init__)

    _adapter_options = (
        *ForecastingAdapter._adapter_options,
        "country_holidays",
        "seasonalities",
        "regressor_options",
        "seed",
        "cap_column",
        "floor_column",
    )
    _noisy_loggers = ("cmdstanpy", "prophet", "prophet.plot")

    @classmethod
    def _test_params(cls) -> list[dict]:
        return [
            {
                "weekly_seasonality": True,
                "yearly_seasonality": False,
                "daily_seasonality": False,
                "uncertainty_samples": 50,
                "n_changepoints": 5,
            }
        ]

    def _min_length(self) -> int:
        return 2

    def _extra_columns(self) -> dict[str, str]:
        cap, floor = self._option("cap_column", None), self._option("floor_column", None)
        if self._option("growth", "linear") == "logistic":
            if cap is None:
                raise DataContractError(
                    f"{self.name}: growth='logistic' needs the capacity: pass cap_column= naming the column "
                    f"that holds it (and floor_column= for a saturating minimum)"
                )
            return {"cap": cap} if floor is None else {"cap": cap, "floor": floor}
        if cap is not None or floor is not None:
            raise DataContractError(
                f"{self.name}: cap_column/floor_column only apply to growth='logistic', "
                f"got growth={self._option('growth', 'linear')!r}"
            )
        return {}

    def _extra_what(self, name: str) -> str:
        return {"cap": "logistic-growth cap column", "floor": "logistic-growth floor column"}[name]

    @classmethod
    def require_library(cls):
        """Import Prophet, without its "Importing plotly failed" error line.

        ``prophet.plot`` logs that at ERROR level on import when plotly is absent;
        uniml never uses Prophet's interactive plots, so the line is not shown.

        Returns
        -------
        module
            The ``prophet`` module.
        """
        with quiet_loggers(["prophet.plot"], True):
            return super().require_library()

    def _warning_filters(self, quiet: bool) -> list[dict]:
        # pandas deprecations triggered inside Prophet's own code: nothing a user can act on, verbose or not
        pandas_notes = [
            {"action": "ignore", "category": c, "module": r"prophet(?:\..*)?$"}
            for c in (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
        ]
        return [*pandas_notes, *super()._warning_filters(quiet)]

    # ------------------------------------------------------------------ fit
    def _new_model(self, exog):
        prophet = self.require_library()
        model = prophet.Prophet(**self._library_params())
        for spec in self._option("seasonalities", None) or []:
            model.add_seasonality(**spec)
        country = self._option("country_holidays", None)
        if country:
            model.add_country_holidays(country_name=country)
        options = self._option("regressor_options", None) or {}
        for col in exog:
            model.add_regressor(col, **options.get(col, {}))
        return model

    def _fit_series(self, frame, key):
        model = self._new_model(self.exog_)
        model.fit(frame.rename(columns={"time": "ds"}))
        return model

    def _update_series(self, model, new, key):
        from prophet.utilities import warm_start_params

        # the training frame as given: ds, y, regressors, and cap / floor of logistic growth
        columns = [
            "ds",
            "y",
            *model.extra_regressors,
            *(c for c in ("cap", "floor") if c in new.columns),
        ]
        history = model.history[columns].copy()
        for name, props in model.extra_regressors.items():  # history holds them standardized
            history[name] = history[name] * props["std"] + props["mu"]
        frame = pd.concat([history, new.rename(columns={"time": "ds"})[columns]], ignore_index=True)
        fresh = self._new_model(self.exog_)
        fresh.fit(frame, init=warm_start_params(model))
        return fresh

    # -------------------------------------------------------------- predict
    def _components(self, model, future):
        saved = model.uncertainty_samples
        model.uncertainty_samples = 0  # point forecast and components only; samples are drawn below
        try:
            return model.predict(future.rename(columns={"time": "ds"}))
        finally:
            model.uncertainty_samples = saved

    def _forecast_series(self, model, future, steps, key):
        yhat, samples = self._predict_once(model, future)
        out = {"forecast": yhat}
        for c, lo, hi in self._coverage:
            if model.uncertainty_samples:
                out[lo] = model.percentile(samples, 100 * (1.0 - c) / 2, axis=1)
                out[hi] = model.percentile(samples, 100 * (1.0 + c) / 2, axis=1)
            else:
                out[lo] = out[hi] = np.full(len(future), np.nan)
        return out

    def _predict_once(self, model, future):
        """Point forecast and posterior predictive samples of ``yhat`` from one pass over ``future``.

        The steps of ``Prophet.predict`` (regressor preparation, ``setup_dataframe``,
        trend, seasonal components, then the samples), done once: calling
        ``predict`` for the point forecast and ``predictive_samples`` for the
        intervals would prepare the frame and its features twice. Under the
        same numpy seed the samples are those ``Prophet.predict`` draws.
        """
        n_samples = model.uncertainty_samples or None
        with numpy_seed(self._option("seed", 0) if n_samples else None):
            df = future.rename(columns={"time": "ds"})
            prepare = getattr(model, "_prepare_regressors_for_predict", None)  # Prophet >= 1.2
            regressor_samples = None
            if prepare is not None:
                df, regressor_samples = prepare(df, n_samples)
            df = model.setup_dataframe(df)
            if regressor_samples:
                regressor_samples = {
                    name: (draws - model.extra_regressors[name]["mu"])
                    / model.extra_regressors[name]["std"]
                    for name, draws in regressor_samples.items()
                }
            trend = model.predict_trend(df)
            df["trend"] = trend
            seasonal = model.predict_seasonal_components(df)
            yhat = (
                np.asarray(trend) * (1 + seasonal["multiplicative_terms"].to_numpy())
                + seasonal["additive_terms"].to_numpy()
            )
            samples = None
            if n_samples:
                extra = (regressor_samples,) if regressor_samples else ()
                samples = model.sample_posterior_predictive(df, True, *extra)["yhat"]
        return yhat, samples

    def _components_series(self, model, future, steps, key):
        comp = self._components(model, future)
        trend = comp["trend"].to_numpy()
        parts = {"trend": trend}
        names = [(n, s["mode"]) for n, s in model.seasonalities.items()]
        if model.train_holiday_names is not None and "holidays" in comp:
            names.append(
                ("holidays", getattr(model, "holidays_mode", None) or model.seasonality_mode)
            )
        names += [(n, r["mode"]) for n, r in model.extra_regressors.items()]
        for name, mode in names:
            values = comp[name].to_numpy()
            parts[name] = values * trend if mode == "multiplicative" else values
        return pd.DataFrame(parts), comp["yhat"].to_numpy()

    # ----------------------------------------------------------- persistence
    def _save(self, folder: Path) -> dict:
        from prophet.serialize import model_to_json

        models = [model_to_json(m) for m in self.models_.values()]
        (folder / "prophet_models.json").write_text(json.dumps(models))
        artifacts = {"prophet_models.json": {"format": "prophet-json"}}
        holidays = getattr(self, "holidays", None)
        if isinstance(holidays, pd.DataFrame):  # a constructor argument the manifest cannot hold
            holidays.to_json(folder / "holidays.json", orient="table", index=False)
            artifacts["holidays.json"] = {"format": "prophet-json"}
        return artifacts

    @classmethod
    def _params_from_manifest(cls, params: dict, folder: Path, trusted: bool) -> dict:
        if isinstance(params.get("holidays"), dict) and (folder / "holidays.json").is_file():
            params["holidays"] = pd.read_json(folder / "holidays.json", orient="table")
        return super()._params_from_manifest(params, folder, trusted)

    def _load(self, folder: Path, manifest: dict, trusted: bool) -> None:
        self.require_library()
        from prophet.serialize import model_from_json

        models = json.loads((folder / "prophet_models.json").read_text())
        with self._library_quiet(not self._option("verbose", False)):
            self.models_ = {
                k: model_from_json(m) for k, m in zip(self._saved_keys, models, strict=True)
            }
