"""Errors of the monitoring layer."""

from __future__ import annotations

from uniml.core.errors import UnimlError

__all__ = ["MonitoringError"]


class MonitoringError(UnimlError, ValueError):
    """Monitoring input is unusable: a column the profile needs is missing, a file is unreadable...

    The message names the column, file or setting.

    Examples
    --------
    >>> issubclass(MonitoringError, ValueError)
    True
    """
