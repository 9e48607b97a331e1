"""Forecasting conformance checks (``uniml.testing.check_adapter`` dispatches here).

Every forecaster must pass: horizon length and column layout, sorted output
aligned to the future frame's index, interval ordering
``lower_95 <= lower_80 <= forecast <= upper_80 <= upper_95``, typed contract
errors naming the series, missing future regressors named, no leakage of
future exogenous values into earlier steps, additive explanations equal to the
forecast, bit-for-bit save/load, clone, determinism, pickling, ``update``, and
per-series failure reporting.

Examples
--------
>>> df = make_forecast_data(n_series=2, n=30)
>>> df.columns.tolist(), df["store"].nunique()
(['store', 'date', 'promo', 'sales'], 2)
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from uniml.testing import _expect, _fail

__all__ = ["checks", "make_forecast_data"]

ADDITIVITY_TOL = 1e-6
ROLES = {"time": "date", "target": "sales", "series_id": "store"}


def make_forecast_data(
    n_series: int = 2, n: int = 63, exog: bool = True, seed: int = 0
) -> pd.DataFrame:
    """Daily long-format sales: weekly pattern, a promo regressor, series interleaved by date.

    Parameters
    ----------
    n_series : int, default 2
        Number of stores (series ``s0``, ``s1``, ...).
    n : int, default 63
        Days per series.
    exog : bool, default True
        Include the ``promo`` regressor (and its effect).
    seed : int, default 0
        Seed of the promo draws and the noise.

    Returns
    -------
    pandas.DataFrame
        Columns ``store``, ``date``, (``promo``), ``sales``; a string index.

    Examples
    --------
    >>> df = make_forecast_data(n_series=3, n=14, exog=False)
    >>> len(df), df.columns.tolist(), df.index[0]
    (42, ['store', 'date', 'sales'], 'r0')
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=n, freq="D")
    rows = []
    for s in range(n_series):
        promo = rng.integers(0, 2, n).astype(float)
        weekly = np.tile([0.0, 1.0, 2.0, 3.0, 2.0, 1.0, -1.0], n // 7 + 1)[:n]
        sales = 20.0 + 2 * s + 0.05 * np.arange(n) + 2.0 * weekly + rng.normal(scale=0.5, size=n)
        if exog:
            sales = sales + 4.0 * promo
        part = pd.DataFrame({"store": f"s{s}", "date": dates, "promo": promo, "sales": sales})
        rows.append(part if exog else part.drop(columns="promo"))
    frame = pd.concat(rows).sort_values(["date", "store"], kind="stable")
    frame.index = pd.Index([f"r{i}" for i in range(len(frame))])
    return frame


def checks(adapter) -> list[tuple[str, str, Callable[[], None]]]:
    """``(dataset, check, callable)`` triples for one forecasting adapter instance.

    The dataset is ``exog`` (with the ``promo`` regressor) for adapters that
    declare ``supports_exog``, else ``no_exog``. Nothing is fitted until a
    callable runs; the checks share one fitted clone.

    Parameters
    ----------
    adapter : ForecastingAdapter
        Unfitted; each check works on clones of it.

    Returns
    -------
    list of (dataset, check, callable)
        Calling the callable raises ``AssertionError`` when the check fails.

    Examples
    --------
    >>> import uniml
    >>> triples = checks(uniml.make("statsmodels.ets"))
    >>> {d for d, _, _ in triples}, "interval_ordering" in [c for _, c, _ in triples]
    ({'no_exog'}, True)
    """
    from sklearn.base import clone

    from uniml.core.errors import (
        DataContractError,
        NotFittedError,
        ParameterError,
        SchemaError,
    )
    from uniml.core.explanation import Explanation
    from uniml.core.forecasting import SeriesFitError, interval_columns
    from uniml.core.persistence import MANIFEST_NAME, load
    from uniml.testing import (
        _check_manifest_shape,
        _check_metadata,
        _check_save_onto_file,
        _check_tamper_detected,
        _check_unknown_param,
        _check_untrusted_refusal,
    )

    cls = type(adapter)
    exog = cls.supports_exog
    data = make_forecast_data(exog=exog)
    roles = {**ROLES, "exog": ["promo"] if exog else None}
    train = data[data["date"] < "2023-02-26"]
    test = data[data["date"] >= "2023-02-26"]
    future = test.drop(columns="sales").iloc[
        ::-1
    ]  # reversed: output must come back sorted, labels kept
    h = test["date"].nunique()
    state: dict = {}
    name = "exog" if exog else "no_exog"

    def fitted():
        if "model" not in state:
            state["model"] = clone(adapter).fit(train, **roles)
        return state["model"]

    def forecast(model):
        return model.predict(future) if exog else model.predict(horizon=h)

    def metadata():
        _check_metadata(cls, "forecasting")
        if cls.explanation_kind != "forecast_components":
            _fail("metadata", "a forecaster declares explanation kind 'forecast_components'")

    def not_fitted():
        fresh = clone(adapter)
        _expect(
            NotFittedError, "not_fitted", "predict before fit", fresh.predict, future, horizon=h
        )
        _expect(NotFittedError, "not_fitted", "explain before fit", fresh.explain, future)
        _expect(NotFittedError, "not_fitted", "save before fit", fresh.save, tempfile.mkdtemp())

    def fit_does_not_modify_input():
        copy = train.copy(deep=True)
        fitted()
        pd.testing.assert_frame_equal(train, copy, check_exact=True)

    def horizon_and_layout():
        model = fitted()
        out = forecast(model)
        bounds = [c for _, lo, hi in interval_columns((0.8, 0.95)) for c in (lo, hi)]
        expected_cols = ["store", "date", "forecast", *bounds]
        if list(out.columns) != expected_cols:
            _fail("horizon_and_layout", f"columns {list(out.columns)}, expected {expected_cols}")
        if len(out) != h * 2:
            _fail("horizon_and_layout", f"{len(out)} rows for horizon {h} x 2 series")
        if (
            not out.groupby("store")["date"].apply(lambda s: s.is_monotonic_increasing).all()
            or not out["store"].is_monotonic_increasing
        ):
            _fail("horizon_and_layout", "output is not sorted by series and time")
        if exog:
            if set(out.index) != set(future.index):
                _fail("horizon_and_layout", "rows are not labelled with the future frame's index")
            joined = future.loc[out.index]
            if not (joined["date"].to_numpy() == out["date"].to_numpy()).all():
                _fail("horizon_and_layout", "index labels do not point at the rows they forecast")
            _expect(
                DataContractError,
                "horizon_and_layout",
                "horizon with exogenous model",
                model.predict,
                horizon=3,
                mention="promo",
            )
        else:
            first = out.groupby("store")["date"].min()
            if not (first == pd.Timestamp("2023-02-26")).all():
                _fail(
                    "horizon_and_layout",
                    f"horizon does not start right after the data: {first.tolist()}",
                )
        if not np.isfinite(out["forecast"]).all():
            _fail("horizon_and_layout", "non-finite forecasts")

    def interval_ordering():
        out = forecast(fitted())
        cols = ["lower_95", "lower_80", "forecast", "upper_80", "upper_95"]
        values = out[cols].to_numpy()
        ok = ~np.isnan(values).any(axis=1)
        if not ok.any() and np.isnan(values[:, [0, 1, 3, 4]]).all():
            return  # the configuration draws no intervals (e.g. Prophet uncertainty_samples=0)
        if not (np.diff(values[ok], axis=1) >= -1e-9).all():
            _fail(
                "interval_ordering",
                "expected lower_95 <= lower_80 <= forecast <= upper_80 <= upper_95",
            )

    def contract_errors():
        fresh = clone(adapter)
        dup = pd.concat([train, train.iloc[[3]]])
        _expect(
            DataContractError,
            "contract_errors",
            "duplicated timestamps",
            fresh.fit,
            dup,
            **roles,
            mention=repr(train.iloc[3]["store"]),
        )
        swapped = train.iloc[[2, 0, 1, *range(3, len(train))]]
        _expect(
            DataContractError,
            "contract_errors",
            "unsorted input",
            fresh.fit,
            swapped,
            **roles,
            mention=repr(train.iloc[0]["store"]),
        )
        _expect(
            DataContractError,
            "contract_errors",
            "string time column",
            fresh.fit,
            train.assign(date=train["date"].astype(str)),
            **roles,
            mention="date",
        )
        short = train[train["store"] == "s0"].head(1)
        _expect(
            DataContractError,
            "contract_errors",
            "too-short series",
            fresh.fit,
            short,
            **roles,
            mention="too short",
        )

    def future_frame_errors():
        model = fitted()
        if exog:
            _expect(
                SchemaError,
                "future_frame_errors",
                "missing regressor",
                model.predict,
                future.drop(columns="promo"),
                column="promo",
                mention="promo",
            )
            _expect(
                SchemaError,
                "future_frame_errors",
                "regressor dtype",
                model.predict,
                future.assign(promo=future["promo"].astype(str)),
                column="promo",
            )
        unknown = (
            future.assign(store="nope")
            if exog
            else pd.DataFrame({"store": ["nope"], "date": [pd.Timestamp("2023-02-26")]})
        )
        _expect(
            DataContractError,
            "future_frame_errors",
            "unknown series",
            model.predict,
            unknown,
            mention="nope",
        )
        past = (
            future
            if exog
            else pd.DataFrame({"store": ["s0"], "date": [pd.Timestamp("2023-02-26")]})
        ).copy()
        past["date"] = pd.Timestamp("2023-01-05")
        _expect(
            DataContractError,
            "future_frame_errors",
            "time inside the training data",
            model.predict,
            past.head(1),
        )

    def no_leakage():
        model = fitted()
        if exog:
            base = model.predict(future)
            changed = future.copy()
            last = changed["date"] == changed["date"].max()
            changed.loc[last, "promo"] = changed.loc[last, "promo"] + 100.0
            moved = model.predict(changed)
            early = base["date"] < base["date"].max()
            if not np.allclose(
                base.loc[early, "forecast"], moved.loc[early, "forecast"], rtol=0, atol=1e-9
            ):
                _fail("no_leakage", "changing the last step's regressor changed earlier forecasts")
            if np.allclose(base.loc[~early, "forecast"], moved.loc[~early, "forecast"]):
                _fail("no_leakage", "the regressor's future value has no effect at its own step")
        else:
            long = model.predict(horizon=h)
            short = model.predict(horizon=3)
            head = long.groupby("store").head(3).reset_index(drop=True)
            np.testing.assert_allclose(short["forecast"], head["forecast"], rtol=0, atol=1e-9)

    def explanation():
        model = fitted()
        exp = model.explain(future) if exog else model.explain(horizon=h)
        if not isinstance(exp, Explanation) or exp.kind != "forecast_components":
            _fail("explanation", f"expected a forecast_components Explanation, got {exp!r}")
        pred = forecast(model)
        if not exp.contributions.index.equals(pred.index):
            _fail("explanation", "contributions are not aligned with predict()'s rows")
        if exp.additive != cls.additive:
            _fail("explanation", "explanation additivity differs from the class declaration")
        if exp.additive:
            err = exp.additivity_error()
            gap = float(
                np.max(np.abs(np.asarray(exp.reconstruction()) - pred["forecast"].to_numpy()))
            )
            tol = ADDITIVITY_TOL * max(1.0, float(pred["forecast"].abs().max()))
            if not (err <= tol and gap <= tol):
                _fail("explanation", f"components miss the forecast by {max(err, gap):.3g}")
        if exog and "promo" not in exp.contributions.columns:
            _fail("explanation", "no contribution for the exogenous regressor")

    def save_load_roundtrip():
        import json

        model = fitted()
        folder = Path(tempfile.mkdtemp()) / "model"
        model.save(folder)
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        if manifest["adapter"] != cls.name:
            _fail("save_load_roundtrip", "manifest names another adapter")
        pickled = _check_untrusted_refusal(cls, folder, manifest)
        loaded = load(folder, trusted=pickled)
        if type(loaded) is not cls:
            _fail("save_load_roundtrip", f"load returned {type(loaded).__name__}")
        pd.testing.assert_frame_equal(forecast(model), forecast(loaded), check_exact=True)
        a = model.explain(future) if exog else model.explain(horizon=h)
        b = loaded.explain(future) if exog else loaded.explain(horizon=h)
        pd.testing.assert_frame_equal(a.contributions, b.contributions, check_exact=True)
        if exog:
            _expect(
                SchemaError,
                "save_load_roundtrip",
                "schema after load",
                loaded.predict,
                future.drop(columns="promo"),
                column="promo",
            )
        _check_tamper_detected(folder, manifest)

    def clone_unfitted():
        model = fitted()
        copy = clone(model)
        if hasattr(copy, "models_") or hasattr(copy, "schema_"):
            _fail("clone", "clone kept fitted state")
        if copy.get_params(deep=False) != model.get_params(deep=False):
            _fail("clone", "clone changed the parameters")

    def determinism():
        if not cls.deterministic:
            return
        a, b = fitted(), clone(adapter).fit(train, **roles)
        pd.testing.assert_frame_equal(forecast(a), forecast(b), check_exact=True)

    def pickling():
        model = fitted()
        again = pickle.loads(pickle.dumps(model))
        pd.testing.assert_frame_equal(forecast(model), forecast(again), check_exact=True)

    def update():
        cut = pd.Timestamp("2023-02-19")
        model = clone(adapter).fit(train[train["date"] < cut], **roles)
        model.update(train[train["date"] >= cut])
        if set(model.last_time_.values()) != {train["date"].max()}:
            _fail("update", f"last times after update: {model.last_time_}")
        out = forecast(model)
        if not (out.groupby("store")["date"].min() == pd.Timestamp("2023-02-26")).all():
            _fail("update", "forecasts after update do not start after the new data")
        _expect(
            DataContractError,
            "update",
            "non-contiguous new data",
            model.update,
            train[train["date"] >= "2023-02-20"],
            mention="s0",
        )

    def series_failures():
        bad = pd.DataFrame({"store": ["bad"], "date": [train["date"].min()], "sales": [1.0]})
        if exog:
            bad["promo"] = 0.0
        frame = pd.concat([train, bad[train.columns]], ignore_index=True)
        err = _expect(
            SeriesFitError, "series_failures", "one bad series", clone(adapter).fit, frame, **roles
        )
        if list(err.failures) != ["bad"]:
            _fail("series_failures", f"failures should list only 'bad', got {err.failures}")
        if "bad" not in str(err) or sorted(err.model.series_) != ["s0", "s1"]:
            _fail("series_failures", "the error must name the bad series and keep the others' fits")
        out = forecast(err.model)
        if sorted(out["store"].unique()) != ["s0", "s1"]:
            _fail("series_failures", "the surviving series do not predict")

    def bad_input():
        """An empty frame, an infinite target, a fractional horizon, an unknown keyword, a save onto
        a file and a malformed manifest are typed errors naming what is wrong."""
        _expect(
            DataContractError,
            "bad_input",
            "an empty frame at fit",
            clone(adapter).fit,
            train.iloc[:0],
            **roles,
        )
        holed = train.copy()
        holed.iloc[3, holed.columns.get_loc(roles["target"])] = np.inf
        _expect(
            DataContractError,
            "bad_input",
            "inf in the target",
            clone(adapter).fit,
            holed,
            mention=roles["target"],
            **roles,
        )
        model = fitted()
        if not exog:
            for bad in (2.5, 0, -1):
                _expect(
                    ParameterError,
                    "bad_input",
                    f"horizon={bad!r}",
                    model.predict,
                    horizon=bad,
                    mention="horizon",
                )
        _check_unknown_param(adapter, lambda m: m.fit(train, **roles))
        _check_save_onto_file(model)
        _check_manifest_shape(model.save(Path(tempfile.mkdtemp()) / "model"))

    return [
        (name, check_name, func)
        for check_name, func in [
            ("metadata", metadata),
            ("not_fitted", not_fitted),
            ("fit_does_not_modify_input", fit_does_not_modify_input),
            ("bad_input", bad_input),
            ("horizon_and_layout", horizon_and_layout),
            ("interval_ordering", interval_ordering),
            ("contract_errors", contract_errors),
            ("future_frame_errors", future_frame_errors),
            ("no_leakage", no_leakage),
            ("explanation", explanation),
            ("save_load_roundtrip", save_load_roundtrip),
            ("clone", clone_unfitted),
            ("determinism", determinism),
            ("pickling", pickling),
            ("update", update),
            ("series_failures", series_failures),
        ]
    ]
