"""Forecasting contract and the Prophet adapter: parity with raw Prophet, many series, errors."""

import inspect
import warnings

import numpy as np
import pandas as pd
import prophet
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import uniml
from uniml.core.errors import DataContractError, SchemaError
from uniml.core.forecasting import ForecastData, SeriesFitError, SeriesFitWarning, interval_columns
from uniml.testing.forecasting import make_forecast_data

FAST = {
    "yearly_seasonality": False,
    "daily_seasonality": False,
    "weekly_seasonality": True,
    "n_changepoints": 5,
}


def _series(n=84, seed=0, start="2024-01-01"):
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=n, freq="D")
    x = rng.normal(size=n)
    y = (
        10
        + 0.05 * np.arange(n)
        + np.tile([0, 1, 2, 3, 2, 1, -1.0], n // 7 + 1)[:n]
        + 2 * x
        + rng.normal(0, 0.3, n)
    )
    return pd.DataFrame({"ds": ds, "x": x, "y": y})


def _raw_prophet(df, **kw):
    m = prophet.Prophet(**kw)
    m.add_regressor("x")
    m.add_seasonality(name="fortnight", period=14, fourier_order=2)
    return m.fit(df)


def test_prophet_matches_raw_prophet_forecast_and_intervals():
    df = _series()
    train, test = df.iloc[:70], df.iloc[70:]
    kw = {**FAST, "uncertainty_samples": 200}
    raw = _raw_prophet(train, **kw)
    np.random.seed(0)  # noqa: NPY002 - Prophet samples from the legacy global state
    expected80 = raw.predict(test[["ds", "x"]])
    raw.interval_width = 0.95
    np.random.seed(0)  # noqa: NPY002 - Prophet samples from the legacy global state
    expected95 = raw.predict(test[["ds", "x"]])

    model = uniml.make(
        "prophet.forecaster",
        seasonalities=[{"name": "fortnight", "period": 14, "fourier_order": 2}],
        **kw,
    ).fit(train, time="ds", target="y", exog=["x"])
    got = model.predict(test.drop(columns="y"))
    np.testing.assert_allclose(got["forecast"], expected80["yhat"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["lower_80"], expected80["yhat_lower"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["upper_80"], expected80["yhat_upper"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["lower_95"], expected95["yhat_lower"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["upper_95"], expected95["yhat_upper"], rtol=0, atol=1e-9)
    assert got.index.equals(test.index)
    # the seed is local: numpy's global random state is left as it was
    np.random.seed(5)  # noqa: NPY002 - Prophet samples from the legacy global state
    before = np.random.random()  # noqa: NPY002 - Prophet samples from the legacy global state
    np.random.seed(5)  # noqa: NPY002 - Prophet samples from the legacy global state
    model.predict(test.drop(columns="y"))
    assert np.random.random() == before  # noqa: NPY002


def test_prophet_components_sum_to_yhat_in_both_modes():
    df = _series()
    for mode in ("additive", "multiplicative"):
        model = uniml.make(
            "prophet.forecaster", seasonality_mode=mode, uncertainty_samples=0, **FAST
        )
        model.fit(df.iloc[:70], time="ds", target="y", exog=["x"])
        exp = model.explain(df.iloc[70:].drop(columns="y"))
        assert list(exp.contributions.columns) == ["trend", "weekly", "x"]
        assert exp.additivity_error() < 1e-9
        raw = model.models_[None].predict(df.iloc[70:][["ds", "x"]])
        np.testing.assert_allclose(exp.prediction, raw["yhat"], rtol=0, atol=1e-9)


def test_prophet_country_holidays_pass_through():
    df = _series(n=120, start="2023-11-01").drop(columns="x")
    model = uniml.make("prophet.forecaster", country_holidays="US", uncertainty_samples=0, **FAST)
    model.fit(df, time="ds", target="y")
    exp = model.explain(horizon=60)
    assert "holidays" in exp.contributions.columns
    assert exp.additivity_error() < 1e-9
    assert model.models_[None].country_holidays == "US"


def test_prophet_logging_is_silenced_unless_verbose(caplog):
    df = _series(n=40).drop(columns="x")
    with caplog.at_level("DEBUG"):
        uniml.make("prophet.forecaster", uncertainty_samples=0, **FAST).fit(
            df, time="ds", target="y"
        )
    assert not [r for r in caplog.records if r.name.startswith(("cmdstanpy", "prophet"))]


def test_importing_prophet_through_the_adapter_prints_nothing():
    """A fresh process: Prophet's import-time "Importing plotly failed" line is not shown."""
    import importlib.util
    import subprocess
    import sys

    code = "import uniml; uniml.make('prophet.forecaster').require_library()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr == "" and out.stdout == ""
    if importlib.util.find_spec("plotly") is None:  # the line really exists without plotly
        raw = subprocess.run(
            [sys.executable, "-c", "import prophet"], capture_output=True, text=True, check=True
        )
        assert "plotly" in raw.stderr


def test_prophet_parallel_equals_serial():
    data = make_forecast_data(n_series=3, n=42)
    roles = {"time": "date", "target": "sales", "series_id": "store", "exog": ["promo"]}
    future = (
        make_forecast_data(n_series=3, n=49).query("date >= '2023-02-13'").drop(columns="sales")
    )
    a = uniml.make("prophet.forecaster", uncertainty_samples=50, n_jobs=1, **FAST).fit(
        data, **roles
    )
    b = uniml.make("prophet.forecaster", uncertainty_samples=50, n_jobs=2, **FAST).fit(
        data, **roles
    )
    pd.testing.assert_frame_equal(a.predict(future), b.predict(future), check_exact=True)


# ---------------------------------------------------------------- contract
def test_contract_errors_name_the_series():
    df = make_forecast_data(n_series=3, n=20, exog=False)
    roles = {"time": "date", "target": "sales", "series_id": "store"}
    gap = df.drop(index=df.index[(df["store"] == "s2") & (df["date"] == "2023-01-10")])
    model = uniml.make("statsmodels.sarimax", order=(1, 0, 0))
    with pytest.raises(SeriesFitError, match="s2.*gaps") as err:
        model.fit(gap, **roles)
    assert sorted(err.value.model.series_) == ["s0", "s1"]
    with pytest.raises(DataContractError, match="time="):
        model.fit(df)
    with pytest.raises(DataContractError, match="'sales' must be numeric"):
        model.fit(df.assign(sales="x"), **roles)
    with pytest.raises(DataContractError, match="missing value"):
        ForecastData(df.assign(promo=np.nan), exog=["promo"], **roles)


def test_errors_warn_keeps_going():
    df = make_forecast_data(n_series=2, n=20, exog=False)
    bad = pd.DataFrame({"store": ["bad"], "date": [df["date"].min()], "sales": [1.0]})
    frame = pd.concat([df, bad], ignore_index=True)
    model = uniml.make("statsmodels.sarimax", order=(1, 0, 0), errors="warn")
    with pytest.warns(SeriesFitWarning, match="bad"):
        model.fit(frame, time="date", target="sales", series_id="store")
    assert list(model.failures_) == ["bad"]
    with pytest.raises(DataContractError, match="'bad' was not fitted.*too short"):
        model.predict(pd.DataFrame({"store": ["bad"], "date": [pd.Timestamp("2023-02-01")]}))


def test_many_series_one_bad_in_parallel():
    df = make_forecast_data(n_series=51, n=30, exog=False)
    df.loc[df["store"] == "s7", "sales"] = np.nan  # an all-missing series
    roles = {"time": "date", "target": "sales", "series_id": "store"}
    with pytest.raises(SeriesFitError) as err:
        uniml.make("statsmodels.ets", trend="add", n_jobs=2).fit(df, **roles)
    assert list(err.value.failures) == ["s7"] and "s7" in str(err.value)
    model = err.value.model
    assert len(model.series_) == 50 and "s7" not in model.series_
    out = model.predict(horizon=3)
    assert out["store"].nunique() == 50 and len(out) == 50 * 3
    serial = uniml.make("statsmodels.ets", trend="add", errors="warn")
    with pytest.warns(SeriesFitWarning, match="s7"):
        serial.fit(df, **roles)
    pd.testing.assert_frame_equal(serial.predict(horizon=3), out, check_exact=True)


def test_multi_column_series_id_and_horizon():
    df = make_forecast_data(n_series=2, n=30, exog=False)
    df["region"] = np.where(df["store"] == "s0", "north", "south")
    model = uniml.make("statsmodels.sarimax", order=(1, 0, 0))
    model.fit(df, time="date", target="sales", series_id=["region", "store"])
    out = model.predict(horizon=2)
    assert out.columns[:3].tolist() == ["region", "store", "date"]
    assert sorted(model.series_) == [("north", "s0"), ("south", "s1")]
    assert model.parameter_table().index.names == ["region", "store", "parameter"]


def test_predict_input_errors():
    df = _series(n=30)
    model = uniml.make("statsmodels.sarimax", order=(1, 0, 0)).fit(
        df, time="ds", target="y", exog=["x"]
    )
    with pytest.raises(DataContractError, match="exogenous regressor.*'x'"):
        model.predict(horizon=3)
    with pytest.raises(SchemaError, match="lacks exogenous regressor 'x'"):
        model.predict(pd.DataFrame({"ds": pd.date_range("2024-01-31", periods=2)}))
    with pytest.raises(DataContractError, match="without gaps"):
        model.predict(pd.DataFrame({"ds": pd.to_datetime(["2024-02-02"]), "x": [0.0]}))
    with pytest.raises(DataContractError, match="horizon"):
        model.predict()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.05, 0.99), min_size=1, max_size=4, unique=True))
def test_interval_columns_are_named_and_validated(coverages):
    cols = interval_columns(coverages)
    assert [c for c, _, _ in cols] == [float(c) for c in coverages]
    assert all(lo.startswith("lower_") and hi.startswith("upper_") for _, lo, hi in cols)


@settings(max_examples=20, deadline=None)
@given(st.permutations(list(range(8))))
def test_any_interleaving_is_accepted_but_unsorted_series_are_not(order):
    df = make_forecast_data(n_series=2, n=4, exog=False).iloc[list(order)]
    try:
        ForecastData(df, time="date", target="sales", series_id="store")
        ok = True
    except DataContractError as exc:
        ok = False
        assert "unsorted input" in str(exc)
    sorted_within = all(g["date"].is_monotonic_increasing for _, g in df.groupby("store"))
    assert ok == sorted_within


def test_update_refits_prophet_with_new_data():
    df = _series(n=70).drop(columns="x")
    model = uniml.make("prophet.forecaster", uncertainty_samples=0, **FAST)
    model.fit(df.iloc[:60], time="ds", target="y")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeriesFitWarning)
        model.update(df.iloc[60:])
    assert model.last_time_[None] == df["ds"].iloc[-1]
    assert len(model.models_[None].history) == 70
    assert model.predict(horizon=3)["ds"].iloc[0] == df["ds"].iloc[-1] + pd.Timedelta("1D")


def test_prophet_holidays_frame_survives_save_and_load(tmp_path):
    df = _series(n=60).drop(columns="x")
    holidays = pd.DataFrame(
        {
            "holiday": "sale",
            "ds": pd.to_datetime(["2024-01-20", "2024-02-10", "2024-03-09"]),
            "lower_window": 0,
            "upper_window": 1,
        }
    )
    model = uniml.make("prophet.forecaster", holidays=holidays, uncertainty_samples=20, **FAST)
    model.fit(df, time="ds", target="y")
    loaded = uniml.load(model.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.holidays, holidays, check_dtype=False)
    pd.testing.assert_frame_equal(
        loaded.predict(horizon=14), model.predict(horizon=14), check_exact=True
    )
    assert "holidays" in loaded.explain(horizon=14).contributions.columns


# ------------------------------------------------------------- update (harness)
def test_prophet_update_equals_a_warm_started_raw_refit_and_a_fresh_fit():
    from prophet.utilities import warm_start_params

    df = _series(n=90)
    kw = {**FAST, "uncertainty_samples": 0}
    model = uniml.make("prophet.forecaster", **kw).fit(
        df.iloc[:70], time="ds", target="y", exog=["x"]
    )
    model.update(df.iloc[70:80])
    future = df.iloc[80:].drop(columns="y")
    got = model.predict(future)["forecast"].to_numpy()
    # the library's own way to extend a model: refit on the whole history, warm-started from the old fit
    first = prophet.Prophet(**kw)
    first.add_regressor("x")
    first.fit(df.iloc[:70])
    refit = prophet.Prophet(**kw)
    refit.add_regressor("x")
    refit.fit(df.iloc[:80], init=warm_start_params(first))
    np.testing.assert_allclose(got, refit.predict(future)["yhat"], rtol=0, atol=1e-9)
    # and a warm start lands where a fresh fit on the same history does (same optimum, other start)
    fresh = uniml.make("prophet.forecaster", **kw).fit(
        df.iloc[:80], time="ds", target="y", exog=["x"]
    )
    np.testing.assert_allclose(got, fresh.predict(future)["forecast"], rtol=1e-3)
    assert len(model.models_[None].history) == 80
    assert model.predict(horizon=None, X=future)["ds"].iloc[0] == df["ds"].iloc[80]


def test_update_of_many_series_in_parallel_and_its_errors():
    df = make_forecast_data(n_series=3, n=40, exog=False)
    roles = {"time": "date", "target": "sales", "series_id": "store"}
    first, later = df[df["date"] < "2023-02-01"], df[df["date"] >= "2023-02-01"]
    model = uniml.make("statsmodels.ets", trend="add", n_jobs=2).fit(first, **roles)
    before = {k: m.params.copy() for k, m in model.models_.items()}
    model.update(later)
    fresh = uniml.make("statsmodels.ets", trend="add").fit(df, **roles)
    # ETS cannot extend a fit: update refits on the full history, exactly like a fresh fit
    pd.testing.assert_frame_equal(
        model.predict(horizon=4), fresh.predict(horizon=4), check_exact=True
    )
    assert any(not np.array_equal(before[k], model.models_[k].params) for k in before)
    with pytest.raises(DataContractError, match="series 's0'.*continue the series right after"):
        model.update(later[later["store"] == "s0"])  # already seen: not after the last time
    gap = df[(df["store"] == "s1") & (df["date"] > df["date"].max() - pd.Timedelta("2D"))].assign(
        date=lambda d: d["date"] + pd.Timedelta("5D")
    )
    with pytest.raises(DataContractError, match="series 's1'.*expected"):
        model.update(gap)


# ------------------------------------------------------------------ warnings
def test_prophet_leaks_no_warnings_to_the_user(tmp_path):
    """Prophet's own code triggers pandas deprecation warnings (Pandas4Warning...); users never see them."""
    df = _series(n=120, start="2023-11-01")
    kw = {**FAST, "uncertainty_samples": 20}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = uniml.make("prophet.forecaster", country_holidays="US", n_jobs=1, **kw)
        model.fit(df.iloc[:100], time="ds", target="y", exog=["x"])
        future = df.iloc[100:].drop(columns="y")
        model.predict(future)
        model.explain(future)
        model.update(df.iloc[100:110])
        loaded = uniml.load(model.save(tmp_path / "m"))
        loaded.predict(df.iloc[110:].drop(columns="y"))
    leaked = [f"{w.category.__name__} at {w.filename}:{w.lineno}: {w.message}" for w in caught]
    assert leaked == []
    # the raw library does warn on the same calls: the test would notice if the adapter stopped silencing
    with warnings.catch_warnings(record=True) as raw_caught:
        warnings.simplefilter("always")
        _raw_prophet(df.iloc[:100], **kw).predict(future)
    assert any(
        issubclass(w.category, DeprecationWarning) and "prophet" in w.filename for w in raw_caught
    )


def test_prophet_warning_filters_are_scoped_to_prophet():
    """Silencing is by module: a user's own deprecation warning in the same block still shows."""
    model = uniml.make("prophet.forecaster", **FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        with model._library_quiet(True):
            warnings.warn("user's own", DeprecationWarning, stacklevel=1)
        assert warnings.filters == before  # the block leaves the caller's filters as they were
    assert [str(w.message) for w in caught] == ["user's own"]


# ----------------------------------------------------------- logistic growth
def _saturating(n=100, seed=1):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    cap = np.where(t < 60, 50.0, 55.0)  # capacity changes mid-way: it really is read per row
    y = 5 + (cap - 5) / (1 + np.exp(-(t - 40) / 8)) + rng.normal(0, 0.5, n)
    return pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=n), "y": y, "capacity": cap, "minimum": 2.0}
    )


def test_prophet_logistic_growth_matches_raw_prophet():
    df = _saturating()
    train, test = df.iloc[:80], df.iloc[80:]
    kw = {**FAST, "growth": "logistic", "uncertainty_samples": 100}
    raw = prophet.Prophet(**kw).fit(train.rename(columns={"capacity": "cap", "minimum": "floor"}))
    np.random.seed(0)  # noqa: NPY002 - Prophet samples from the legacy global state
    expected = raw.predict(
        test.rename(columns={"capacity": "cap", "minimum": "floor"})[["ds", "cap", "floor"]]
    )
    model = uniml.make("prophet.forecaster", cap_column="capacity", floor_column="minimum", **kw)
    model.fit(train, time="ds", target="y")
    got = model.predict(test.drop(columns="y"))
    np.testing.assert_allclose(got["forecast"], expected["yhat"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["lower_80"], expected["yhat_lower"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["upper_80"], expected["yhat_upper"], rtol=0, atol=1e-9)
    assert model.models_[None].logistic_floor
    exp = model.explain(test.drop(columns="y"))
    assert exp.additivity_error() < 1e-9
    trend = exp.contributions["trend"].to_numpy()
    assert (trend <= test["capacity"].to_numpy()).all() and (
        trend >= test["minimum"].to_numpy()
    ).all()
    # update keeps cap and floor in the refit history
    model.update(test.iloc[:10])
    assert model.models_[None].history["cap"].tolist() == df["capacity"].iloc[:90].tolist()


def test_prophet_logistic_growth_errors_name_the_cap_and_floor_columns():
    df = _saturating()
    train, test = df.iloc[:80], df.iloc[80:]
    with pytest.raises(
        DataContractError, match="growth='logistic' needs the capacity: pass cap_column="
    ):
        uniml.make("prophet.forecaster", growth="logistic", **FAST).fit(
            train, time="ds", target="y"
        )
    with pytest.raises(DataContractError, match="only apply to growth='logistic'"):
        uniml.make("prophet.forecaster", cap_column="capacity", **FAST).fit(
            train, time="ds", target="y"
        )
    with pytest.raises(SchemaError, match="training data lacks logistic-growth cap column 'cap'"):
        uniml.make("prophet.forecaster", growth="logistic", cap_column="cap", **FAST).fit(
            train, time="ds", target="y"
        )
    with pytest.raises(DataContractError, match="'capacity' has 1 missing value"):
        uniml.make("prophet.forecaster", growth="logistic", cap_column="capacity", **FAST).fit(
            train.assign(capacity=train["capacity"].where(train.index != 3)), time="ds", target="y"
        )
    model = uniml.make(
        "prophet.forecaster",
        growth="logistic",
        cap_column="capacity",
        floor_column="minimum",
        uncertainty_samples=0,
        **FAST,
    ).fit(train, time="ds", target="y")
    with pytest.raises(
        SchemaError, match="future frame lacks logistic-growth cap column 'capacity'"
    ) as err:
        model.predict(test[["ds", "minimum"]])
    assert err.value.column == "capacity"
    with pytest.raises(SchemaError, match="lacks logistic-growth floor column 'minimum'"):
        model.predict(test[["ds", "capacity"]])
    with pytest.raises(
        DataContractError, match=r"column\(s\) \['capacity', 'minimum'\].*instead of horizon="
    ):
        model.predict(horizon=5)
    with pytest.raises(DataContractError, match="'capacity' has 2 missing value"):
        model.predict(test.assign(capacity=np.nan).iloc[:2])


# ------------------------------------------------- options: coverage, progress, verbose
def test_custom_coverage_columns_equal_statsmodels_intervals():
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    df = _series(n=60).drop(columns="x")
    model = uniml.make("statsmodels.sarimax", order=(1, 0, 0), coverage=(0.5, 0.99))
    out = model.fit(df, time="ds", target="y").predict(horizon=5)
    assert out.columns.tolist() == [
        "ds",
        "forecast",
        "lower_50",
        "upper_50",
        "lower_99",
        "upper_99",
    ]
    fc = SARIMAX(df["y"].to_numpy(), order=(1, 0, 0)).fit(disp=False).get_forecast(5)
    np.testing.assert_array_equal(out[["lower_50", "upper_50"]].to_numpy(), fc.conf_int(alpha=0.5))
    np.testing.assert_array_equal(out[["lower_99", "upper_99"]].to_numpy(), fc.conf_int(alpha=0.01))
    with pytest.raises(ValueError, match=r"coverage must be in \(0, 1\)"):
        uniml.make("statsmodels.sarimax", coverage=(95,)).fit(df, time="ds", target="y").predict(
            horizon=2
        )


def test_progress_bar_counts_every_series(capsys):
    df = make_forecast_data(n_series=4, n=20, exog=False)
    uniml.make("statsmodels.ets", trend="add", progress=True).fit(
        df, time="date", target="sales", series_id="store"
    )
    err = capsys.readouterr().err
    assert "statsmodels.ets fitting" in err and "4/4" in err


def test_prophet_verbose_brings_the_library_logging_back(caplog, monkeypatch):
    import logging

    monkeypatch.setattr(
        logging.getLogger("cmdstanpy"), "disabled", False
    )  # whatever ran before in this process
    df = _series(n=40).drop(columns="x")
    with caplog.at_level("DEBUG"):
        uniml.make("prophet.forecaster", uncertainty_samples=0, verbose=True, **FAST).fit(
            df, time="ds", target="y"
        )
    assert [r for r in caplog.records if r.name.startswith(("cmdstanpy", "prophet"))]


def test_every_prophet_constructor_argument_passes_through():
    df = _series(n=60).drop(columns="x")
    args = {
        "growth": "flat",
        "changepoints": None,
        "n_changepoints": 3,
        "changepoint_range": 0.7,
        "yearly_seasonality": False,
        "weekly_seasonality": 2,
        "daily_seasonality": False,
        "holidays": None,
        "seasonality_mode": "multiplicative",
        "seasonality_prior_scale": 3.0,
        "holidays_prior_scale": 4.0,
        "changepoint_prior_scale": 0.2,
        "mcmc_samples": 0,
        "interval_width": 0.9,
        "uncertainty_samples": 10,
        "scaling": "minmax",
        "holidays_mode": "additive",
    }
    model = uniml.make("prophet.forecaster", **args).fit(df, time="ds", target="y")
    fitted = model.models_[None]
    for name, value in args.items():
        if name != "changepoints":  # None: Prophet places them itself, n_changepoints of them
            assert getattr(fitted, name) == value, name
    assert len(fitted.changepoints) == 3
    assert fitted.seasonalities["weekly"]["fourier_order"] == 2
    assert set(args) | {"stan_backend"} == set(inspect.signature(prophet.Prophet).parameters)
