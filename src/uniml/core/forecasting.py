"""Forecasting: the :class:`ForecastData` contract (long format, many series).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2.0, 3.0]})
>>> ForecastData(df, time="ds", target="y").n_series
1
"""

from __future__ import annotations

from uniml.core.errors import DataContractError
from uniml.core.schema import dtype_kind
from uniml.core.tasks import Dataset, Task

__all__ = ["ForecastData"]


class ForecastData(Dataset):
    """Data contract of forecasting: long format, one row per series and time.

    Parameters
    ----------
    frame : pandas.DataFrame
    time : str
        Datetime column.
    target : str
        Numeric column to forecast.
    series_id : str or list of str, optional
        Column(s) identifying each series; omit for a single series.
    exog : list of str, optional
        Exogenous regressor columns (numeric).

    Raises
    ------
    DataContractError
        Non-datetime time column, non-numeric target or regressor, duplicated
        (series, time) pairs — naming the series.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2.0, 3.0]})
    >>> ForecastData(df, time="ds", target="y").n_series
    1
    """

    _single_roles = ("time", "target")
    _required_roles = ("time", "target")
    _multi_roles = ("series_id", "exog")
    task = Task.FORECASTING

    def __init__(self, frame, time, target, series_id=None, exog=None):
        super().__init__(frame, time=time, target=target, series_id=series_id, exog=exog)

    def validate(self) -> None:
        if dtype_kind(self.frame[self.time].dtype) != "datetime":
            raise DataContractError(
                f"role 'time': column {self.time!r} must be datetime, got {self.frame[self.time].dtype} "
                f"(convert with pd.to_datetime)"
            )
        self._require_numeric("target", self.target)
        self._require_no_missing("time", [self.time])
        self._require_no_missing("series_id", self.series_id)
        for name in self.exog:
            self._require_numeric("exog", name)
        keys = [*self.series_id, self.time]
        dup = self.frame.duplicated(keys)
        if dup.any():
            row = self.frame.loc[dup.to_numpy()].iloc[0]
            where = ", ".join(f"{k}={row[k]!r}" for k in keys)
            raise DataContractError(
                f"duplicated timestamps: {int(dup.sum())} row(s) repeat a (series, time) pair, "
                f"first at {where}"
            )

    @property
    def n_series(self) -> int:
        """Number of distinct series."""
        if not self.series_id:
            return 1
        return int(self.frame.groupby(list(self.series_id), sort=False, observed=True).ngroups)
