"""Monitoring: data drift, prediction drift and performance degradation against a reference profile.

Fit a :class:`Profile` once on the reference (the training data, or a healthy
window) and save it with the model version; then :func:`monitor` each batch of
current data. Drift is measured by effect sizes (normalised Wasserstein,
Jensen-Shannon, PSI shown too), p-values gate only small samples; performance
is realised when actuals arrive and estimated (CBPE, DLE) until then. Alerts
are typed events (:class:`DriftAlert`, :class:`PerformanceAlert`,
:class:`RetrainRequested`) dispatched to sinks enabled with
:func:`uniml.lineage.enable`. See ``docs/monitoring.md``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from uniml.monitoring import Profile, monitor
>>> rng = np.random.default_rng(0)
>>> profile = Profile.fit(pd.DataFrame({"x": rng.normal(size=5000)}))
>>> monitor(profile, pd.DataFrame({"x": rng.normal(0.5, size=5000)}), emit=False).drifted_columns
['x']
"""

from __future__ import annotations

from uniml.monitoring._alerts import (
    Alert,
    DriftAlert,
    PerformanceAlert,
    RetrainPolicy,
    RetrainRequested,
)
from uniml.monitoring._errors import MonitoringError
from uniml.monitoring._io import read_current
from uniml.monitoring._monitor import DEFAULT_THRESHOLDS, ColumnDrift, MonitorReport, monitor
from uniml.monitoring._performance import cbpe_accuracy, dle_mae
from uniml.monitoring._profile import CategoricalColumn, NumericColumn, Profile
from uniml.monitoring._sinks import FileSink, LogSink, MlflowSink, WebhookSink
from uniml.monitoring._tasks import (
    forecast_monitor,
    gini,
    qini_coefficient,
    recommendation_monitor,
    uplift_monitor,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Alert",
    "CategoricalColumn",
    "ColumnDrift",
    "DriftAlert",
    "FileSink",
    "LogSink",
    "MlflowSink",
    "MonitorReport",
    "MonitoringError",
    "NumericColumn",
    "PerformanceAlert",
    "Profile",
    "RetrainPolicy",
    "RetrainRequested",
    "WebhookSink",
    "cbpe_accuracy",
    "dle_mae",
    "forecast_monitor",
    "gini",
    "monitor",
    "qini_coefficient",
    "read_current",
    "recommendation_monitor",
    "uplift_monitor",
]
