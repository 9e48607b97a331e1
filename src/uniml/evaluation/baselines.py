"""Reference models the harness always runs, so every number has something to beat.

==============  ===================================================================
task            baselines (leaderboard name: model)
==============  ===================================================================
regression      ``dummy_mean``: scikit-learn ``DummyRegressor(strategy="mean")``
classification  ``dummy_prior``: scikit-learn ``DummyClassifier(strategy="prior")``
forecasting     ``naive``: last value; ``seasonal_naive``: value one season ago
causal          ``zero_effect``: no effect; ``constant_effect``: difference in means
recommendation  ``popularity``: most-interacted items the user has not seen
==============  ===================================================================

The forecasting and causal baselines are small scikit-learn-style estimators
with the same ``fit`` / ``predict`` shapes as uniml's forecasting and causal
adapters, so the harness treats them exactly like candidates.

Examples
--------
>>> sorted(default_baselines("forecasting"))
['naive', 'seasonal_naive']
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from uniml.core.errors import DataContractError, NotFittedError

__all__ = ["ConstantEffect", "NaiveForecaster", "ZeroEffect", "default_baselines", "season_length"]

_Z = {0.8: 1.2815515655446004, 0.95: 1.959963984540054}
_SEASONS = {
    "h": 24,
    "H": 24,
    "D": 7,
    "B": 5,
    "W": 52,
    "M": 12,
    "MS": 12,
    "ME": 12,
    "Q": 4,
    "QS": 4,
    "QE": 4,
    "min": 60,
    "T": 60,
}


def season_length(times) -> int:
    """Seasonal period implied by the frequency of ``times`` (1 when unknown).

    Hourly 24, daily 7, business-daily 5, weekly 52, monthly 12, quarterly 4,
    minutely 60.

    Examples
    --------
    >>> import pandas as pd
    >>> season_length(pd.date_range("2024-01-01", periods=10, freq="D"))
    7
    """
    import warnings

    import pandas as pd

    times = pd.DatetimeIndex(times)
    if len(times) < 3:
        return 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(times)
    if freq is None:
        return 1
    base = "".join(
        ch for ch in getattr(freq, "freqstr", str(freq)).split("-")[0] if not ch.isdigit()
    )
    return _SEASONS.get(base, 1)


class NaiveForecaster(BaseEstimator):
    """Naive forecast (the last value) or seasonal naive (the value one season earlier).

    Intervals are normal with the in-sample spread of the (seasonal)
    differences, widened like a random walk: ``sigma * sqrt(ceil(h / m))``
    at ``h`` steps ahead with season ``m``.

    Parameters
    ----------
    season : int or "auto", default 1
        Season length ``m``; ``"auto"`` infers it per series from its frequency
        (see :func:`season_length`).

    Examples
    --------
    >>> import pandas as pd
    >>> from uniml.core.forecasting import ForecastData
    >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=4), "y": [1.0, 2.0, 3.0, 4.0]})
    >>> m = NaiveForecaster().fit(ForecastData(df, "ds", "y"))
    >>> m.predict(pd.DataFrame({"ds": pd.date_range("2024-01-05", periods=2)}))["forecast"].tolist()
    [4.0, 4.0]
    """

    def __init__(self, season=1):
        self.season = season

    def fit(self, data, y=None):
        """Remember each series' history.

        Parameters
        ----------
        data : ForecastData
            The training series.
        y : None
            Ignored; present for the scikit-learn ``fit(X, y)`` convention.

        Returns
        -------
        NaiveForecaster
            ``self``, fitted: per series its history, season and residual spread.
        """
        self.time_, self.target_, self.series_id_ = data.time, data.target, list(data.series_id)
        self.history_ = {}
        for key, part in data.split().items():
            times = part[data.time].to_numpy()
            values = part[data.target].to_numpy(dtype=float)
            m = season_length(times) if self.season == "auto" else int(self.season)
            m = max(1, min(m, len(values) - 1)) if len(values) > 1 else 1
            diffs = values[m:] - values[:-m]
            diffs = diffs[~np.isnan(diffs)]
            sigma = float(np.sqrt(np.mean(diffs**2))) if len(diffs) else 0.0
            self.history_[key] = (times, values, m, sigma)
        return self

    def predict(self, X):
        """Forecast at the rows of a future frame (series id and time columns).

        Parameters
        ----------
        X : pandas.DataFrame

        Returns
        -------
        pandas.DataFrame
            ``forecast``, ``lower_80``, ``upper_80``, ``lower_95``, ``upper_95``, indexed like ``X``.

        Raises
        ------
        NotFittedError
        DataContractError
            A series not seen at fit, or a time not after its history.
        """
        import warnings

        import pandas as pd

        if not hasattr(self, "history_"):
            raise NotFittedError("this NaiveForecaster is not fitted yet; call fit() first")
        out = pd.DataFrame(
            index=X.index,
            columns=["forecast", "lower_80", "upper_80", "lower_95", "upper_95"],
            dtype=float,
        )
        keys = _keys(X, self.series_id_)
        for key in pd.unique(keys):
            if key not in self.history_:
                raise DataContractError(f"series {key!r} was not in the training data")
            times, values, m, sigma = self.history_[key]
            rows = np.flatnonzero(keys == key) if self.series_id_ else np.arange(len(X))
            future = pd.DatetimeIndex(X[self.time_].to_numpy()[rows])
            axis = pd.DatetimeIndex(times)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                freq = pd.infer_freq(axis) if len(axis) >= 3 else None
            if freq is not None:
                steps = np.array([len(pd.date_range(axis[-1], t, freq=freq)) - 1 for t in future])
            else:
                steps = np.arange(1, len(future) + 1)
            if (steps < 1).any():
                raise DataContractError(
                    f"series {key!r}: forecast times must follow the training data"
                )
            lag = (steps - 1) % m
            point = values[len(values) - m + lag]
            sd = sigma * np.sqrt(np.ceil(steps / m))
            out.iloc[rows, 0] = point
            for j, c in enumerate((0.8, 0.95)):
                out.iloc[rows, 1 + 2 * j] = point - _Z[c] * sd
                out.iloc[rows, 2 + 2 * j] = point + _Z[c] * sd
        return out


def _keys(frame, series_id):
    if not series_id:
        return np.full(len(frame), None, dtype=object)
    if len(series_id) == 1:
        return np.asarray(
            [v.item() if isinstance(v, np.generic) else v for v in frame[series_id[0]]],
            dtype=object,
        )
    cols = [frame[c].to_numpy() for c in series_id]
    out = np.empty(len(frame), dtype=object)
    out[:] = [
        tuple(v.item() if isinstance(v, np.generic) else v for v in row)
        for row in zip(*cols, strict=True)
    ]
    return out


class ZeroEffect(BaseEstimator):
    """Causal baseline: the treatment has no effect on anyone.

    Examples
    --------
    >>> import pandas as pd
    >>> ZeroEffect().fit(None).predict(pd.DataFrame({"x": [1, 2]}))["effect"].tolist()
    [0.0, 0.0]
    """

    def fit(self, data, y=None):
        """Nothing to learn.

        Parameters
        ----------
        data : CausalData or None
            Ignored.
        y : None
            Ignored; present for the scikit-learn ``fit(X, y)`` convention.

        Returns
        -------
        ZeroEffect
            ``self``, with ``effect_ = 0.0``.
        """
        self.effect_ = 0.0
        return self

    def predict(self, frame):
        """The constant effect for every row, with a zero-width interval.

        Parameters
        ----------
        frame : pandas.DataFrame

        Returns
        -------
        pandas.DataFrame
            ``effect``, ``lower``, ``upper``, indexed like ``frame``.
        """
        import pandas as pd

        if not hasattr(self, "effect_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit() first")
        e = np.full(len(frame), self.effect_)
        return pd.DataFrame({"effect": e, "lower": e, "upper": e}, index=frame.index)


class ConstantEffect(ZeroEffect):
    """Causal baseline: everyone gets the unadjusted difference in mean outcome (treated - control).

    Examples
    --------
    >>> import pandas as pd
    >>> from uniml.core.causal import CausalData
    >>> df = pd.DataFrame({"t": [0, 1, 0, 1], "y": [1.0, 3.0, 1.0, 5.0]})
    >>> ConstantEffect().fit(CausalData(df, "y", "t")).effect_
    3.0
    """

    def fit(self, data, y=None):
        """Difference in means between the highest and the lowest treatment level.

        Parameters
        ----------
        data : CausalData
            The training rows: treatment and outcome.
        y : None
            Ignored; present for the scikit-learn ``fit(X, y)`` convention.

        Returns
        -------
        ConstantEffect
            ``self``, with ``effect_`` the difference in mean outcome.
        """
        t, outcome = data.T.to_numpy(), data.Y.to_numpy(dtype=float)
        lo, hi = t.min(), t.max()
        self.effect_ = float(outcome[t == hi].mean() - outcome[t == lo].mean())
        return self


def default_baselines(task: str, uplift: bool = False) -> dict:
    """The baselines :func:`uniml.evaluate` runs for ``task``, by leaderboard name (unfitted).

    Parameters
    ----------
    task : str
    uplift : bool, default False
        Causal evaluation without known effects: the constant-effect baseline
        ranks like the zero one, so only ``zero_effect`` runs.

    Returns
    -------
    dict

    Examples
    --------
    >>> default_baselines("regression")
    {'dummy_mean': DummyRegressor()}
    """
    if task == "regression":
        from sklearn.dummy import DummyRegressor

        return {"dummy_mean": DummyRegressor(strategy="mean")}
    if task == "classification":
        from sklearn.dummy import DummyClassifier

        return {"dummy_prior": DummyClassifier(strategy="prior")}
    if task == "forecasting":
        return {
            "naive": NaiveForecaster(season=1),
            "seasonal_naive": NaiveForecaster(season="auto"),
        }
    if task == "causal":
        return (
            {"zero_effect": ZeroEffect()}
            if uplift
            else {"zero_effect": ZeroEffect(), "constant_effect": ConstantEffect()}
        )
    if task == "recommendation":
        from uniml.evaluation.metrics.ranking import PopularityRecommender

        return {"popularity": PopularityRecommender()}
    raise DataContractError(f"unknown task {task!r}")
