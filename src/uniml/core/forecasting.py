"""Forecasting: the :class:`ForecastData` contract and the :class:`ForecastingAdapter` base.

Data is long format: one row per (series, time), a target, an optional
series-id column (one frame, many series) and optional exogenous columns.
A forecaster fits one underlying model per series (in parallel with
``n_jobs``), reports each series that fails without losing the others, and
predicts ``horizon`` steps ahead or on a future frame.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2.0, 3.0]})
>>> ForecastData(df, time="ds", target="y").n_series
1
"""

from __future__ import annotations

import logging
import sys
import time as _time
import warnings
from abc import abstractmethod
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from uniml.core import events
from uniml.core.adapter import Adapter, LibraryParams
from uniml.core.errors import DataContractError, SchemaError, UnimlError, UnimlWarning
from uniml.core.explanation import Explanation
from uniml.core.schema import Schema, dtype_kind
from uniml.core.tasks import Dataset, Task

__all__ = [
    "ForecastData",
    "ForecastingAdapter",
    "SeriesFitError",
    "SeriesFitWarning",
    "interval_alpha",
    "interval_columns",
]


def _key_repr(key) -> str:
    return "the series" if key is None else f"series {key!r}"


def _positive_int(value, name: str) -> int:
    """``value`` as an int when it is a whole number >= 1 (never truncated), else ParameterError."""
    from uniml.core.errors import ParameterError

    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok and isinstance(value, (float, np.floating)) and float(value).is_integer():
        ok = True  # 3.0 is 3 steps; 2.5 is not a number of steps
    if not ok or int(value) < 1:
        raise ParameterError(
            f"{name} must be a positive whole number of steps, got {value!r}", parameter=name
        )
    return int(value)


class ForecastData(Dataset):
    """Data contract of forecasting: long format, one row per series and time.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long-format data, sorted by time within each series.
    time : str
        Datetime column.
    target : str
        Numeric column to forecast.
    series_id : str or list of str, optional
        Column(s) identifying each series; omit for a single series.
    exog : list of str, optional
        Exogenous regressor columns (numeric, no missing values).

    Raises
    ------
    DataContractError
        Non-datetime time column, non-numeric target or regressor, missing
        regressor values, duplicated (series, time) pairs or times out of
        order within a series — naming the series.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2.0, 3.0]})
    >>> ForecastData(df, time="ds", target="y").n_series
    1
    >>> ForecastData(df.iloc[::-1], time="ds", target="y")
    Traceback (most recent call last):
    ...
    uniml.core.errors.DataContractError: unsorted input: the series has time 2024-01-02 00:00:00 after 2024-01-03 00:00:00; sort with frame.sort_values(['ds'])
    """

    _single_roles = ("time", "target")
    _required_roles = ("time", "target")
    _multi_roles = ("series_id", "exog")
    task = Task.FORECASTING
    time: Hashable
    target: Hashable
    series_id: tuple[Hashable, ...]
    exog: tuple[Hashable, ...]

    def __init__(
        self,
        frame: pd.DataFrame,
        time: Hashable,
        target: Hashable,
        series_id: Hashable | Iterable[Hashable] | None = None,
        exog: Iterable[Hashable] | None = None,
    ):
        super().__init__(frame, time=time, target=target, series_id=series_id, exog=exog)

    def validate(self) -> None:
        """Check dtypes, missing values, duplicates and time order within each series.

        Raises
        ------
        DataContractError
            As listed for the class, naming the role, the column and the series.
        """
        if len(self.frame) == 0:
            raise DataContractError(
                f"the frame has no rows: there is no series to fit (roles time={self.time!r}, "
                f"target={self.target!r})"
            )
        if dtype_kind(self.frame[self.time].dtype) != "datetime":
            raise DataContractError(
                f"role 'time': column {self.time!r} must be datetime, got {self.frame[self.time].dtype} "
                f"(convert with pd.to_datetime)"
            )
        self._require_numeric("target", self.target)
        self._require_finite("target", [self.target])
        self._require_no_missing("time", [self.time])
        self._require_no_missing("series_id", self.series_id)
        for name in self.exog:
            self._require_numeric("exog", name)
        self._require_no_missing("exog", self.exog)
        keys = [*self.series_id, self.time]
        dup = self.frame.duplicated(keys)
        if dup.any():
            row = self.frame.loc[dup.to_numpy()].iloc[0]
            where = ", ".join(f"{k}={row[k]!r}" for k in keys)
            raise DataContractError(
                f"duplicated timestamps: {int(dup.sum())} row(s) repeat a (series, time) pair, "
                f"first at {where}"
            )
        times = self.frame[self.time]
        if self.series_id:
            step = times.groupby(
                [self.frame[c] for c in self.series_id], sort=False, observed=True
            ).diff()
        else:
            step = times.diff()
        back = (step < pd.Timedelta(0)).to_numpy()
        if back.any():
            pos = int(np.flatnonzero(back)[0])
            row = self.frame.iloc[pos]
            key = self.key_of(row)
            raise DataContractError(
                f"unsorted input: {_key_repr(key)} has time {row[self.time]} after "
                f"{row[self.time] - step.iloc[pos]}; sort with frame.sort_values({keys!r})"
            )

    def key_of(self, row: pd.Series) -> Any:
        """The series key of one row.

        Parameters
        ----------
        row : pandas.Series
            One row of ``frame``.

        Returns
        -------
        scalar, tuple or None
            The id value, a tuple of values for several id columns, None for
            a single series.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"id": ["a", "b"], "ds": pd.to_datetime(["2024-01-01"] * 2), "y": [1.0, 2.0]})
        >>> data = ForecastData(df, "ds", "y", series_id="id")
        >>> data.key_of(df.iloc[1])
        'b'
        """
        if not self.series_id:
            return None
        values = tuple(_plain(row[c]) for c in self.series_id)
        return values[0] if len(values) == 1 else values

    @property
    def n_series(self) -> int:
        """Number of distinct series."""
        if not self.series_id:
            return 1
        return int(self.frame.groupby(list(self.series_id), sort=False, observed=True).ngroups)

    def split(self) -> dict[Any, pd.DataFrame]:
        """One frame per series, keyed like :meth:`key_of`, in order of first appearance.

        Returns
        -------
        dict
            Series key -> the rows of that series (``{None: frame}`` for a
            single series).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"id": ["a", "b", "a"], "ds": pd.to_datetime(["2024-01-01"] * 2 + ["2024-01-02"]),
        ...                    "y": [1.0, 2.0, 3.0]})
        >>> {k: len(v) for k, v in ForecastData(df, "ds", "y", series_id="id").split().items()}
        {'a': 2, 'b': 1}
        """
        if not self.series_id:
            return {None: self.frame}
        out: dict[Any, pd.DataFrame] = {}
        for key, part in self.frame.groupby(list(self.series_id), sort=False, observed=True):
            key = tuple(_plain(k) for k in key)
            out[key[0] if len(key) == 1 else key] = part
        return out


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _local_freq(times: pd.DatetimeIndex) -> str | None:
    """The frequency most runs of three consecutive timestamps agree on (None if none do)."""
    counts: dict[str, int] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(min(len(times) - 2, 60)):
            try:
                f = pd.infer_freq(times[i : i + 3])
            except (TypeError, ValueError):
                f = None
            if f is not None:
                f = getattr(f, "freqstr", f)
                counts[f] = counts.get(f, 0) + 1
    return max(counts, key=lambda f: counts[f]) if counts else None


def interval_columns(coverage: Iterable[float]) -> list[tuple[float, str, str]]:
    """``(coverage, lower column, upper column)`` for each interval coverage.

    Parameters
    ----------
    coverage : iterable of float
        Interval coverages, each strictly between 0 and 1.

    Returns
    -------
    list of tuple of (float, str, str)
        The coverage as a float and the names of its lower and upper bound
        columns (``lower_80`` / ``upper_80`` for 0.8).

    Raises
    ------
    ValueError
        A coverage outside (0, 1).

    Examples
    --------
    >>> interval_columns((0.8, 0.95))
    [(0.8, 'lower_80', 'upper_80'), (0.95, 'lower_95', 'upper_95')]
    """
    out = []
    for c in coverage:
        c = float(c)
        if not 0.0 < c < 1.0:
            raise ValueError(f"interval coverage must be in (0, 1), got {c}")
        label = f"{c * 100:g}".replace(".", "_")
        out.append((c, f"lower_{label}", f"upper_{label}"))
    return out


def interval_alpha(coverage: float) -> float:
    """The miss rate ``1 - coverage`` of an interval, the nearest float to the decimal value.

    ``1.0 - 0.8`` in binary floating point is ``0.19999999999999996``, one unit in the
    last place off the 0.2 a user means; libraries that take ``alpha`` then compute
    bounds that differ in the last digits from the same call written with 0.2.

    Parameters
    ----------
    coverage : float
        Interval coverage, strictly between 0 and 1.

    Returns
    -------
    float
        The complement, rounded once from its exact decimal value.

    Examples
    --------
    >>> interval_alpha(0.8), 1.0 - 0.8
    (0.2, 0.19999999999999996)
    >>> interval_alpha(0.95)
    0.05
    """
    from fractions import Fraction

    return float(1 - Fraction(repr(float(coverage))))


class SeriesFitError(UnimlError, ValueError):
    """Some series could not be fitted (or updated); the others were.

    Parameters
    ----------
    failures : dict
        Series key -> reason.
    model : ForecastingAdapter or None
        The adapter holding the series that did fit (None when none did).

    Attributes
    ----------
    failures : dict
        Series key -> reason.
    model : ForecastingAdapter
        The adapter, fitted on every series that did not fail.

    Examples
    --------
    >>> err = SeriesFitError({"s1": "too short"}, model=None)
    >>> err.failures
    {'s1': 'too short'}
    """

    def __init__(self, failures: dict[Any, str], model: ForecastingAdapter | None):
        self.failures = dict(failures)
        self.model = model
        shown = "; ".join(f"{k!r}: {v}" for k, v in list(self.failures.items())[:10])
        more = f" (and {len(self.failures) - 10} more)" if len(self.failures) > 10 else ""
        super().__init__(
            f"{len(self.failures)} series failed to fit and were left out — {shown}{more}; "
            f"the other series are fitted (see err.model, err.failures, model.failures_)"
        )


class SeriesFitWarning(UnimlWarning):
    """Some series failed to fit with ``errors="warn"`` (the model holds the others).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", SeriesFitWarning)  # turn partial fits into errors
    ...     issubclass(SeriesFitWarning, UnimlWarning)
    True
    """


@contextmanager
def quiet_loggers(names: Iterable[str], enabled: bool) -> Iterator[None]:
    """Silence the named loggers while the block runs (unless ``enabled`` is False)."""
    if not enabled:
        yield
        return
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.disabled))
        logger.disabled = True
    try:
        yield
    finally:
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


def _fit_one(adapter, key, frame, quiet):
    """Worker: fit one series; return ``(key, model, None)`` or ``(key, None, reason)``."""
    try:
        with adapter._library_quiet(quiet):
            return key, adapter._fit_series(frame, key), None
    except Exception as exc:  # one bad series must not lose the others' fits
        return key, None, f"{type(exc).__name__}: {exc}"


def _update_one(adapter, key, model, frame, quiet):
    try:
        with adapter._library_quiet(quiet):
            return key, adapter._update_series(model, frame, key), None
    except Exception as exc:
        return key, None, f"{type(exc).__name__}: {exc}"


def _forecast_one(adapter, key, model, future, steps, quiet):
    """Worker: forecast one series (errors propagate: a forecast has no per-series fallback)."""
    with adapter._library_quiet(quiet):
        return key, adapter._forecast_series(model, future, steps, key), None


class ForecastingAdapter(LibraryParams, Adapter):
    """Base of forecasting adapters: many series, one library model per series.

    The public methods validate the long-format data (:class:`ForecastData`),
    split it per series, check frequency, gaps and length, fit the series in
    parallel and collect per-series failures; an adapter implements
    ``_fit_series`` / ``_forecast_series`` / ``_components_series`` /
    ``_update_series`` / ``_save`` / ``_load`` on one series at a time.

    Parameters
    ----------
    **params
        The adapter options below and the library's own keywords, which
        pass through unchanged.

    Other Parameters
    ----------------
    n_jobs : int, default 1
        Series fitted in parallel (joblib; ``-1`` = all cores).
    coverage : tuple of float, default (0.8, 0.95)
        Interval coverages; columns ``lower_80``, ``upper_80``, ...
    errors : {"raise", "warn"}, default "raise"
        What to do when some series fail: raise :class:`SeriesFitError` (the
        model still holds the others, see ``err.model``) or warn.
    progress : bool, default False
        Show a progress bar (tqdm if installed, else a counter on stderr).
    verbose : bool, default False
        Let the library log as it fits (silenced by default).

    Attributes
    ----------
    models_ : dict
        Series key -> fitted library model.
    freq_ : dict
        Series key -> frequency string.
    last_time_ : dict
        Series key -> last observed time.
    failures_ : dict
        Series key -> reason, for series that failed.
    schema_ : Schema
        Columns a future frame must carry (series id, time, exogenous).

    Examples
    --------
    >>> from uniml.core.catalog import get_adapter_class
    >>> issubclass(get_adapter_class("statsmodels.sarimax"), ForecastingAdapter)
    True
    """

    task = "forecasting"
    explanation_kind = "forecast_components"
    additive = True
    #: adapter-level options; every other keyword goes to the library
    _adapter_options: ClassVar[tuple[str, ...]] = (
        "n_jobs",
        "coverage",
        "errors",
        "progress",
        "verbose",
    )
    _fitted_attribute: ClassVar[str] = "models_"
    #: capability tags
    supports_exog: ClassVar[bool] = True
    handles_gaps: ClassVar[bool] = False
    #: forecast series in parallel too (worth it when a forecast costs more than shipping the model)
    parallel_predict: ClassVar[bool] = False
    _noisy_loggers: ClassVar[tuple[str, ...]] = ()

    def _option(self, name: str, default):
        return getattr(self, name, default)

    @classmethod
    def _adapter_param(cls, name: str) -> bool:
        return name in cls._adapter_options or name.startswith("fit_")

    def _library_params(self) -> dict:
        params = {
            k: v for k, v in self.get_params(deep=False).items() if not self._adapter_param(k)
        }
        extra = params.pop(self._EXTRA_PARAMS, None) or {}
        self.check_param_names(params)
        return {**params, **dict(extra)}

    @property
    def _coverage(self):
        return interval_columns(self._option("coverage", (0.8, 0.95)))

    def _warning_filters(self, quiet: bool) -> list[dict]:
        """``warnings.filterwarnings`` keywords applied while the library runs.

        By default, when quiet, every warning raised from the wrapped library's
        own modules (its log-like chatter, e.g. convergence notes per series);
        warnings from anywhere else (the user's code, other libraries) pass.
        """
        if not quiet:
            return []
        names = "|".join(m.replace(".", r"\.") for m in self.library_modules())
        return [{"action": "ignore", "module": rf"(?:{names})(?:\..*)?$"}]

    @contextmanager
    def _library_quiet(self, quiet: bool):
        """Silence the library's loggers and its own warnings (see :meth:`_warning_filters`) in a block."""
        # import first: statsmodels installs "always" filters for its warnings on import, which would
        # otherwise land in front of ours for the first fit of the process
        self.require_library()
        with quiet_loggers(self._noisy_loggers, quiet), warnings.catch_warnings():
            for spec in self._warning_filters(quiet):
                warnings.filterwarnings(**spec)
            yield

    def _extra_columns(self) -> dict[str, str]:
        """Further columns the library needs besides the roles: ``{name in series frames: user's column}``.

        They must be present (numeric, no missing values) in the training data
        and in every future frame (e.g. Prophet's logistic-growth ``cap``).
        """
        return {}

    def _extra_what(self, name: str) -> str:
        """How an error message names the extra column ``name``."""
        return "column"

    # --------------------------------------------------------------- hooks
    def _min_length(self) -> int:
        """Fewest observations a series needs."""
        return 3

    @abstractmethod
    def _fit_series(self, frame: pd.DataFrame, key):
        """Fit one series (columns: time, target, exog...) and return the fitted library model."""

    @abstractmethod
    def _forecast_series(
        self, model, future: pd.DataFrame, steps: np.ndarray, key
    ) -> dict[str, np.ndarray]:
        """Forecast one series at ``future`` (time + exog), ``steps`` ahead (1-based).

        Returns ``{"forecast": ..., lower/upper columns ...}`` aligned to ``future``.
        """

    @abstractmethod
    def _components_series(self, model, future, steps, key) -> tuple[pd.DataFrame, np.ndarray]:
        """Additive components of the forecast (rows aligned to ``future``) and the forecast."""

    @abstractmethod
    def _update_series(self, model, new: pd.DataFrame, key):
        """Extend one fitted model with new observations (refit on history + new where the library cannot)."""

    def _parameter_table(self, model, key) -> pd.DataFrame | None:
        return None

    # ------------------------------------------------------------------ data
    def _as_data(self, data, time, target, series_id, exog) -> ForecastData:
        if isinstance(data, ForecastData):
            return data
        if time is None or target is None:
            raise DataContractError(
                f"{type(self).__name__}.fit needs a ForecastData, or a DataFrame with time= and target= "
                f"(and optionally series_id=, exog=) naming its columns"
            )
        return ForecastData(data, time=time, target=target, series_id=series_id, exog=exog)

    def _series_frame(
        self, data: ForecastData, part: pd.DataFrame, extras: dict | None = None
    ) -> pd.DataFrame:
        extras = self.extras_ if extras is None else extras
        cols = [data.time, data.target, *data.exog, *extras.values()]
        out = part[cols].reset_index(drop=True)
        out.columns = ["time", "y", *data.exog, *extras]
        return out

    def _check_extras(self, frame: pd.DataFrame, extras: dict, where: str) -> None:
        """The adapter's extra columns are present, numeric and complete in ``frame``; else name them."""
        for name, column in extras.items():
            if column not in frame.columns:
                raise SchemaError(
                    f"{where} lacks {self._extra_what(name)} {column!r}; {self.name} needs it in the training "
                    f"data and in every future frame",
                    column=column,
                    expected=tuple(extras.values()),
                    got=tuple(frame.columns),
                )
            kind = dtype_kind(frame[column].dtype)
            if kind not in ("float", "integer"):
                raise DataContractError(
                    f"{where}: {self._extra_what(name)} {column!r} must be numeric, got {frame[column].dtype}"
                )
            if frame[column].isna().any():
                raise DataContractError(
                    f"{where}: {self._extra_what(name)} {column!r} has {int(frame[column].isna().sum())} "
                    f"missing value(s)"
                )

    def _check_series(self, key, frame: pd.DataFrame) -> str:
        """Validate one series and return its frequency; raise DataContractError naming the series."""
        n_obs = int(frame["y"].notna().sum())
        if n_obs < self._min_length():
            raise DataContractError(
                f"{_key_repr(key)} is too short: {n_obs} observation(s), {self.name} needs at least "
                f"{self._min_length()}"
            )
        times = pd.DatetimeIndex(frame["time"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 announces infer_freq returning an offset
            freq = pd.infer_freq(times) if len(times) >= 3 else None
        if freq is not None:
            return getattr(freq, "freqstr", freq)
        freq = _local_freq(times)
        grid = pd.date_range(times[0], times[-1], freq=freq) if freq is not None else None
        if freq is None or grid is None or not times.isin(grid).all():
            if self.handles_gaps:  # irregular: step by the most common spacing
                return pd.tseries.frequencies.to_offset(
                    times.to_series().diff().mode().iloc[0]
                ).freqstr
            raise DataContractError(
                f"{_key_repr(key)} has irregular timestamps (no single frequency); {self.name} needs a "
                f"regular time index"
            )
        if not self.handles_gaps:
            missing = grid.difference(times)
            raise DataContractError(
                f"{_key_repr(key)} has gaps: {len(missing)} missing {freq!r} step(s), first at {missing[0]}; "
                f"{self.name} needs a regular time index: reindex it and fill the target with NaN"
            )
        return freq

    # ----------------------------------------------------------------- fit
    def fit(self, data, y=None, *, time=None, target=None, series_id=None, exog=None):
        """Fit one model per series.

        Parameters
        ----------
        data : ForecastData or pandas.DataFrame
            Long format; a DataFrame needs ``time=`` and ``target=``.
        y : None
            Unused (tabular signature compatibility).
        time, target, series_id, exog : str or list of str, optional
            Column roles when ``data`` is a DataFrame.

        Returns
        -------
        self

        Raises
        ------
        DataContractError
            Contract violations (naming the series); a single series that
            fails its checks.
        SeriesFitError
            Some series failed (``errors="raise"``); the others are fitted.
        """
        data = self._as_data(data, time, target, series_id, exog)
        # a misspelt keyword is the user's error, not every series' failure: check it once, first
        self._library_params()
        if data.exog and not self.supports_exog:
            raise DataContractError(
                f"{self.name} does not take exogenous regressors; got exog={list(data.exog)}"
            )
        if events.listening():
            events.emit("fit_start", adapter=self, X=data.frame, y=None, fit_params={})
        start = _time.perf_counter()
        extras = dict(self._extra_columns())
        self._check_extras(data.frame, extras, "the training data")
        for attr in ("models_", "freq_", "last_time_", "failures_", "schema_"):
            self.__dict__.pop(attr, None)
        self.time_, self.target_ = data.time, data.target
        self.series_id_, self.exog_ = list(data.series_id), list(data.exog)
        self.extras_ = extras
        frames = {key: self._series_frame(data, part) for key, part in data.split().items()}
        failures: dict = {}
        checked = {}
        freqs = {}
        for key, frame in frames.items():
            try:
                freqs[key] = self._check_series(key, frame)
                checked[key] = frame
            except DataContractError as exc:
                if len(frames) == 1:
                    raise
                failures[key] = f"DataContractError: {exc}"
        results = self._run(_fit_one, [(key, frame) for key, frame in checked.items()], "fitting")
        models = {}
        for key, model, reason in results:
            if reason is None:
                models[key] = model
            else:
                failures[key] = reason
        if not models:
            raise (
                SeriesFitError(failures, model=None)
                if len(frames) > 1
                else DataContractError(
                    f"{_key_repr(next(iter(failures)))} failed to fit: {next(iter(failures.values()))}"
                )
            )
        self.models_ = models
        self.freq_ = {k: freqs[k] for k in models}
        self.last_time_ = {k: pd.Timestamp(checked[k]["time"].iloc[-1]) for k in models}
        self.failures_ = failures
        self.schema_ = Schema.capture(
            data.frame[[*data.series_id, data.time, *data.exog, *extras.values()]].head(0)
        )
        if events.listening():
            events.emit(
                "fit_end",
                adapter=self,
                X=data.frame,
                y=None,
                fit_params={},
                duration=_time.perf_counter() - start,
            )
        self._report_failures(failures)
        return self

    def _report_failures(self, failures):
        if not failures:
            return
        if self._option("errors", "raise") == "warn":
            warnings.warn(str(SeriesFitError(failures, self)), SeriesFitWarning, stacklevel=3)
        else:
            raise SeriesFitError(failures, model=self)

    def _run(self, func, items, what, parallel: bool = True):
        """``func(adapter, *item, quiet)`` for every item: in order, in joblib workers when ``n_jobs`` allows."""
        n_jobs = self._option("n_jobs", 1) if parallel else 1
        quiet = not self._option("verbose", False)
        progress = self._progress(len(items), what)
        if n_jobs in (None, 1) or len(items) <= 1:
            out = []
            for item in items:
                out.append(func(self, *item, quiet))
                progress()
            return out
        import joblib
        from sklearn.base import clone

        worker = self
        if hasattr(self, "models_"):  # ship the roles, not every fitted model, to the workers
            worker = clone(self)
            worker.time_, worker.target_, worker.series_id_, worker.exog_, worker.extras_ = (
                self.time_,
                self.target_,
                self.series_id_,
                self.exog_,
                self.extras_,
            )
        out = []
        runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
        for result in runner(joblib.delayed(func)(worker, *item, quiet) for item in items):
            out.append(result)
            progress()
        return out

    def _progress(self, total: int, what: str) -> Callable[[], None]:
        if not self._option("progress", False):
            return lambda: None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=total, desc=f"{self.name} {what}", unit="series")

            def tick():
                bar.update(1)
                if bar.n >= total:
                    bar.close()

            return tick
        count = [0]

        def count_tick():
            count[0] += 1
            sys.stderr.write(f"\r{self.name} {what}: {count[0]}/{total} series")
            if count[0] >= total:
                sys.stderr.write("\n")

        return count_tick

    # ------------------------------------------------------------- fitted state
    @property
    def series_(self) -> list:
        """Keys of the fitted series."""
        self._check_fitted()
        return list(self.models_)

    # -------------------------------------------------------------- future
    def _future(self, X, horizon) -> list[tuple[Any, pd.DataFrame, np.ndarray, pd.Index]]:
        """Per series: (key, future frame [time, exog...], 1-based steps, index labels of the rows)."""
        if X is None:
            if horizon is None:
                raise DataContractError("predict needs horizon=h or a future frame")
            horizon = _positive_int(horizon, "horizon")
            needs = [*self.exog_, *self.extras_.values()]
            if needs:
                what = "exogenous regressor(s)" if self.exog_ else "column(s)"
                raise DataContractError(
                    f"{self.name} was fitted with {what} {needs}; pass a future frame with their values "
                    f"(columns {[*self.series_id_, self.time_, *needs]}) instead of horizon="
                )
            out = []
            for key in self.models_:
                times = pd.date_range(
                    self.last_time_[key], periods=horizon + 1, freq=self.freq_[key]
                )[1:]
                out.append((key, pd.DataFrame({"time": times}), np.arange(1, horizon + 1), None))
            return out
        if not isinstance(X, pd.DataFrame):
            raise DataContractError(
                f"the future frame must be a pandas DataFrame, got {type(X).__name__}"
            )
        needed = [*self.series_id_, self.time_, *self.exog_, *self.extras_.values()]
        missing = [c for c in needed if c not in X.columns]
        if missing:
            inverse = {column: name for name, column in self.extras_.items()}
            what = (
                "exogenous regressor"
                if missing[0] in self.exog_
                else self._extra_what(inverse[missing[0]])
                if missing[0] in inverse
                else "column"
            )
            raise SchemaError(
                f"the future frame lacks {what} {missing[0]!r}"
                + (f" (and {missing[1:]})" if len(missing) > 1 else "")
                + f"; {self.name} was fitted with columns {needed} and needs their future values",
                column=missing[0],
                expected=tuple(needed),
                got=tuple(X.columns),
            )
        sub = self.schema_.enforce(X[needed], owner=type(self).__name__)
        self._check_extras(sub, self.extras_, "the future frame")
        sub = sub.sort_values(
            [*self.series_id_, self.time_], kind="stable"
        )  # any row order is fine
        data = ForecastData(
            sub.assign(__y__=0.0),
            time=self.time_,
            target="__y__",
            series_id=self.series_id_ or None,
            exog=self.exog_ or None,
        )
        out = []
        for key, part in data.split().items():
            if key not in self.models_:
                reason = (
                    f" (it failed to fit: {self.failures_[key]})" if key in self.failures_ else ""
                )
                raise DataContractError(
                    f"{_key_repr(key)} was not fitted{reason}; cannot forecast it"
                )
            future = part[[self.time_, *self.exog_, *self.extras_.values()]].reset_index(drop=True)
            future.columns = ["time", *self.exog_, *self.extras_]
            steps = self._steps(key, pd.DatetimeIndex(future["time"]))
            out.append((key, future, steps, part.index))
        return out

    def _steps(self, key, times: pd.DatetimeIndex) -> np.ndarray:
        last, freq = self.last_time_[key], self.freq_[key]
        if (times <= last).any():
            raise DataContractError(
                f"{_key_repr(key)}: future time {times[times <= last][0]} is not after the last observed "
                f"time {last}; predict forecasts beyond the training data only"
            )
        grid = pd.date_range(last, times.max(), freq=freq)
        steps = grid.get_indexer(times)
        if (steps < 0).any():
            if self.handles_gaps:
                return np.maximum(steps, 0)
            bad = times[steps < 0][0]
            raise DataContractError(
                f"{_key_repr(key)}: future time {bad} is not on the series' {freq!r} grid after {last}"
            )
        if (
            self.exog_
            and not self.handles_gaps
            and not np.array_equal(steps, np.arange(1, len(steps) + 1))
        ):
            raise DataContractError(
                f"{_key_repr(key)}: with exogenous regressors the future frame must give every step from "
                f"the first one after {last} on, without gaps"
            )
        return steps

    def _frame_out(self, key, future: pd.DataFrame, values: dict) -> pd.DataFrame:
        cols = {}
        if self.series_id_:
            parts = key if len(self.series_id_) > 1 else (key,)
            for name, value in zip(self.series_id_, parts, strict=True):
                cols[name] = [value] * len(future)
        cols[self.time_] = future["time"].to_numpy()
        out = pd.DataFrame(cols)
        for name, arr in values.items():
            out[name] = np.asarray(arr, dtype=float)
        return out

    def _assemble(self, frames, labels):
        out = pd.concat(frames, ignore_index=True)
        if labels[0] is not None:
            out.index = labels[0].append(list(labels[1:])) if len(labels) > 1 else labels[0]
        out = out.sort_values([*self.series_id_, self.time_], kind="stable")
        return out.reset_index(drop=True) if labels[0] is None else out

    # ------------------------------------------------------------- predict
    def predict(self, X=None, horizon: int | None = None) -> pd.DataFrame:
        """Forecast ``horizon`` steps past each series' end, or at the rows of a future frame.

        Parameters
        ----------
        X : pandas.DataFrame, optional
            Future frame: series id, time and exogenous columns (other columns
            are ignored). Required when the model has exogenous regressors.
        horizon : int, optional
            Steps ahead, for models without exogenous regressors.

        Returns
        -------
        pandas.DataFrame
            Series id column(s), time, ``forecast`` and ``lower_<c>`` /
            ``upper_<c>`` per coverage; sorted by series and time, indexed like
            ``X`` (or 0..n-1 for ``horizon``).

        Raises
        ------
        NotFittedError
        SchemaError
            A needed column (e.g. a regressor's future values) is missing or
            has the wrong dtype.
        DataContractError
            Unknown series, times not after the training data or off the grid.
        """
        self._check_fitted()
        plan = self._future(X, horizon)
        items = [(key, self.models_[key], future, steps) for key, future, steps, _ in plan]
        results = self._run(_forecast_one, items, "forecasting", parallel=self.parallel_predict)
        frames = [
            self._frame_out(key, future, values)
            for (key, future, _, _), (_, values, _) in zip(plan, results, strict=True)
        ]
        out = self._assemble(frames, [index for *_, index in plan])
        if events.listening():
            events.emit("predict", adapter=self, X=X, prediction=out)
        return out

    # ------------------------------------------------------------- explain
    def explain(self, X=None, horizon: int | None = None) -> Explanation:
        """Additive components of each forecast row (they sum to ``forecast``).

        Parameters
        ----------
        X, horizon
            As for :meth:`predict`.

        Returns
        -------
        Explanation
            ``kind="forecast_components"``, contributions with one column per
            component (rows aligned with :meth:`predict`'s output), base value 0,
            the forecast as ``prediction``, and (where the library provides one)
            the fitted parameter table in ``tables["parameters"]``.
        """
        self._check_fitted()
        comps, frames, labels = [], [], []
        quiet = not self._option("verbose", False)
        for key, future, steps, index in self._future(X, horizon):
            with self._library_quiet(quiet):
                contrib, forecast = self._components_series(self.models_[key], future, steps, key)
            frame = self._frame_out(key, future, {"forecast": forecast})
            comps.append(contrib.reset_index(drop=True))
            frames.append(
                pd.concat([frame, contrib.reset_index(drop=True).add_prefix("__c__")], axis=1)
            )
            labels.append(index)
        out = self._assemble(frames, labels).fillna(
            {c: 0.0 for f in frames for c in f.columns if c.startswith("__c__")}
        )
        ccols = [c for c in out.columns if c.startswith("__c__")]
        contributions = out[ccols].rename(columns=lambda c: c[len("__c__") :]).astype(float)
        exp = Explanation(
            contributions,
            0.0,
            "forecast_components",
            True,
            out["forecast"].astype(float),
            tables={"parameters": t} if (t := self.parameter_table()) is not None else {},
            meta={"adapter": self.name, "rows": out[[*self.series_id_, self.time_]]},
        )
        if events.listening():
            events.emit("explain", adapter=self, X=X, explanation=exp)
        return exp

    def parameter_table(self) -> pd.DataFrame | None:
        """Fitted parameters of every series (estimate, std error, p-value, CI), or None.

        Returns
        -------
        pandas.DataFrame or None
            Indexed by (series id column(s)..., parameter) — by parameter alone for one series.
        """
        self._check_fitted()
        tables = {}
        for key, model in self.models_.items():
            t = self._parameter_table(model, key)
            if t is not None:
                tables[key] = t
        if not tables:
            return None
        if not self.series_id_:
            return tables[None]
        return pd.concat(tables, names=[*self.series_id_, "parameter"])

    # -------------------------------------------------------------- update
    def update(self, new_observations, y=None):
        """Extend the fitted models with observations that follow the training data.

        Without refitting where the library allows it (statsmodels state-space
        ``append``); by refitting on the full history otherwise. Series not
        seen before are fitted from scratch.

        Parameters
        ----------
        new_observations : pandas.DataFrame or ForecastData
            Same columns as at fit; times after each series' last one.
        y : None
            Unused (tabular signature compatibility).

        Returns
        -------
        self

        Raises
        ------
        DataContractError
            Times that do not follow the training data, naming the series.
        SeriesFitError
            Some series failed to update (``errors="raise"``); the rest did.
        """
        self._check_fitted()
        data = self._as_data(
            new_observations, self.time_, self.target_, self.series_id_ or None, self.exog_ or None
        )
        self._check_extras(data.frame, self.extras_, "the new observations")
        parts = {key: self._series_frame(data, part) for key, part in data.split().items()}
        known = {k: v for k, v in parts.items() if k in self.models_}
        fresh = {k: v for k, v in parts.items() if k not in self.models_}
        for key, frame in known.items():
            first = pd.Timestamp(frame["time"].iloc[0])
            expected = pd.date_range(self.last_time_[key], periods=2, freq=self.freq_[key])[1]
            if first <= self.last_time_[key] or (not self.handles_gaps and first != expected):
                raise DataContractError(
                    f"{_key_repr(key)}: new observations must continue the series right after "
                    f"{self.last_time_[key]} (expected {expected}), got {first}"
                )
        failures = {}
        items = [(key, self.models_[key], frame) for key, frame in known.items()]
        for key, model, reason in self._run(_update_one, items, "updating"):
            if reason is None:
                self.models_[key] = model
                self.last_time_[key] = pd.Timestamp(known[key]["time"].iloc[-1])
            else:
                failures[key] = reason
        for key, frame in fresh.items():
            try:
                freq = self._check_series(key, frame)
            except DataContractError as exc:
                failures[key] = f"DataContractError: {exc}"
                continue
            _, model, reason = _fit_one(self, key, frame, not self._option("verbose", False))
            if reason is None:
                self.models_[key], self.freq_[key] = model, freq
                self.last_time_[key] = pd.Timestamp(frame["time"].iloc[-1])
                self.failures_.pop(key, None)
            else:
                failures[key] = reason
        self.failures_.update(failures)
        self._report_failures(failures)
        return self

    # ----------------------------------------------------------- persistence
    def _state(self) -> dict:
        return {
            "time": self.time_,
            "target": self.target_,
            "series_id": self.series_id_,
            "exog": self.exog_,
            "extras": self.extras_,
            "series": [[k] if not isinstance(k, tuple) else list(k) for k in self.models_],
            "freq": list(self.freq_.values()),
            "last_time": [t.isoformat() for t in self.last_time_.values()],
            "failures": [[str(k), v] for k, v in self.failures_.items()],
        }

    def _set_state(self, state: dict) -> None:
        self.time_, self.target_ = state["time"], state["target"]
        self.series_id_, self.exog_ = list(state["series_id"]), list(state["exog"])
        self.extras_ = dict(state.get("extras", {}))
        if self.series_id_:
            keys = [k[0] if len(k) == 1 else tuple(k) for k in state["series"]]
        else:
            keys = [None]
        self._saved_keys = keys
        self.freq_ = dict(zip(keys, state["freq"], strict=True))
        self.last_time_ = {
            k: pd.Timestamp(t) for k, t in zip(keys, state["last_time"], strict=True)
        }
        self.failures_ = dict(state.get("failures", []))

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return super().__repr__(N_CHAR_MAX)
