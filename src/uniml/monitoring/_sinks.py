"""Alert sinks: lineage plugins implementing the ``uniml_alert`` / ``uniml_monitor`` hooks.

Enable them like any lineage sink (``uniml.lineage.enable(WebhookSink(url))``)
or for one run (``monitor(..., sinks=[...])``). A sink never raises into the
monitoring run: a failed delivery becomes a warning.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import warnings
from pathlib import Path

from uniml.core.errors import UnimlWarning
from uniml.lineage import hookimpl

__all__ = ["FileSink", "LogSink", "MlflowSink", "WebhookSink"]


def _alert_dict(alert) -> dict:
    from uniml.monitoring._monitor import _jsonable

    return _jsonable(alert.to_dict())


class LogSink:
    """Log every alert on the ``uniml.monitoring`` logger (WARNING; ERROR for retrain requests).

    Parameters
    ----------
    logger : str, default "uniml.monitoring"

    Examples
    --------
    >>> from uniml.monitoring import DriftAlert
    >>> LogSink().uniml_alert(DriftAlert("column 'x' drifted", column="x"))
    """

    def __init__(self, logger: str = "uniml.monitoring"):
        self.logger = logger

    @hookimpl
    def uniml_alert(self, alert):
        """Log ``alert``.

        Parameters
        ----------
        alert : Alert
        """
        level = logging.ERROR if alert.kind == "RetrainRequested" else logging.WARNING
        logging.getLogger(self.logger).log(level, "%s: %s", alert.kind, alert.message)


class FileSink:
    """Append every alert (and, with ``runs=True``, every run's summary) as a JSON line to ``path``.

    Parameters
    ----------
    path : str or Path
    runs : bool, default False

    Examples
    --------
    >>> import tempfile, json
    >>> from uniml.monitoring import DriftAlert
    >>> sink = FileSink(tempfile.mkdtemp() + "/alerts.jsonl")
    >>> sink.uniml_alert(DriftAlert("x drifted", column="x"))
    >>> json.loads(sink.path.read_text())["kind"]
    'DriftAlert'
    """

    def __init__(self, path, runs: bool = False):
        self.path = Path(path)
        self.runs = runs
        self._lock = threading.Lock()

    def _write(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    @hookimpl
    def uniml_alert(self, alert):
        """Append ``alert``.

        Parameters
        ----------
        alert : Alert
        """
        self._write(_alert_dict(alert))

    @hookimpl
    def uniml_monitor(self, report):
        """Append the run's level and counts (with ``runs=True``).

        Parameters
        ----------
        report : MonitorReport
        """
        if self.runs:
            self._write(
                {
                    "kind": "MonitorRun",
                    "created": report.created,
                    "level": report.level,
                    "n_rows": report.n_rows,
                    "drifted_columns": report.drifted_columns,
                    "alerts": len(report.alerts),
                }
            )


class WebhookSink:
    """POST every alert as JSON to a webhook (Slack/Teams relays, PagerDuty, an internal service).

    The body is ``{"event": "alert", "alert": {...}}`` (and ``{"event":
    "monitor", "summary": {...}}`` per run with ``runs=True``). Delivery is
    retried ``retries`` times (not after a 4xx other than 429); a failure is a :class:`uniml.UnimlWarning`, never
    an exception in the monitoring run.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL.
    headers : dict, optional
        Extra headers (an authorization token...).
    timeout : float, default 5
    retries : int, default 2
    runs : bool, default False

    Examples
    --------
    >>> WebhookSink("https://hooks.example.com/uniml").url
    'https://hooks.example.com/uniml'
    """

    def __init__(
        self,
        url: str,
        headers: dict | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        runs: bool = False,
    ):
        if not re.match(r"^https?://", str(url)):
            from uniml.monitoring._errors import MonitoringError

            raise MonitoringError(f"webhook url must be http:// or https://, got {url!r}")
        self.url = url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.retries = retries
        self.runs = runs
        self.delivered = 0
        self.failed = 0

    def post(self, body: dict) -> bool:
        """Send ``body``; True when the server answered 2xx.

        Parameters
        ----------
        body : dict

        Returns
        -------
        bool
        """
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode("utf-8")
        last = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.url,
                data=data,
                method="POST",
                headers={"Content-Type": "application/json", **self.headers},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    if 200 <= response.status < 300:
                        self.delivered += 1
                        return True
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} {exc.reason}"
                if 400 <= exc.code < 500 and exc.code != 429:
                    break  # the request itself is refused: retrying will not help
            except (urllib.error.URLError, OSError) as exc:
                last = repr(exc)
            time.sleep(min(0.2 * 2**attempt, 2.0))
        self.failed += 1
        warnings.warn(f"webhook {self.url} not delivered: {last}", UnimlWarning, stacklevel=2)
        return False

    @hookimpl
    def uniml_alert(self, alert):
        """POST ``alert``.

        Parameters
        ----------
        alert : Alert
        """
        self.post({"event": "alert", "alert": _alert_dict(alert)})

    @hookimpl
    def uniml_monitor(self, report):
        """POST the run's summary (with ``runs=True``).

        Parameters
        ----------
        report : MonitorReport
        """
        if self.runs:
            self.post(
                {
                    "event": "monitor",
                    "summary": {
                        "created": report.created,
                        "level": report.level,
                        "n_rows": report.n_rows,
                        "drifted_columns": report.drifted_columns,
                        "model": report.model,
                    },
                }
            )


def _metric_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", text)[:250]


class MlflowSink:
    """Log each monitoring run's numbers as metrics over time on the model version's monitoring run.

    The run is ``run_id`` when given; else a run named ``monitoring <name> v<version>``
    (tagged ``uniml.monitoring.model`` / ``uniml.monitoring.version``) in
    ``experiment``, found or created. Metrics (step = Unix seconds of the run):
    ``drift_share``, ``alerts``, ``drift.<column>`` (the column's main
    statistic), ``multivariate.pca_error``, ``realised.<metric>``,
    ``estimated.<metric>``. Alerts are also tagged on the run
    (``uniml.monitoring.last_alert``).

    Parameters
    ----------
    tracking_uri : str, optional
    run_id : str, optional
    experiment : str, default "uniml-monitoring"
    model : dict, optional
        ``name`` and ``version`` (default: the report's model identity).

    Examples
    --------
    >>> MlflowSink(run_id="abc").run_id
    'abc'
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        run_id: str | None = None,
        experiment: str = "uniml-monitoring",
        model: dict | None = None,
    ):
        self.tracking_uri = tracking_uri
        self.run_id = run_id
        self.experiment = experiment
        self.model = model

    def _client(self):
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri)

    def resolve_run(self, model: dict) -> str:
        """The monitoring run's id (found or created).

        Parameters
        ----------
        model : dict

        Returns
        -------
        str
        """
        if self.run_id is not None:
            return self.run_id
        client = self._client()
        name = str(model.get("name", "model"))
        version = str(model.get("version", ""))
        exp = client.get_experiment_by_name(self.experiment)
        exp_id = exp.experiment_id if exp is not None else client.create_experiment(self.experiment)
        found = client.search_runs(
            [exp_id],
            filter_string=(
                f"tags.`uniml.monitoring.model` = '{name}' and "
                f"tags.`uniml.monitoring.version` = '{version}'"
            ),
            max_results=1,
        )
        if found:
            self.run_id = found[0].info.run_id
        else:
            run = client.create_run(
                exp_id,
                run_name=f"monitoring {name} v{version}",
                tags={"uniml.monitoring.model": name, "uniml.monitoring.version": version},
            )
            self.run_id = run.info.run_id
        return self.run_id

    @hookimpl
    def uniml_monitor(self, report):
        """Log the run's metrics.

        Parameters
        ----------
        report : MonitorReport
        """
        from mlflow.entities import Metric

        try:
            run_id = self.resolve_run(self.model or report.model)
            now = int(time.time())
            stamp = now * 1000
            values = {"drift_share": report.drift_share, "alerts": float(len(report.alerts))}
            for c in report.columns:
                stat = "wasserstein" if c.kind == "numeric" else "js"
                v = c.statistics.get(stat)
                if v is not None and v == v:
                    values[_metric_name(f"drift.{c.name}")] = float(v)
            pca = report.multivariate.get("pca_error")
            if pca:
                values["multivariate.pca_error"] = float(pca["value"])
            for part in ("realised", "estimated"):
                for metric, entry in report.performance.get(part, {}).items():
                    values[_metric_name(f"{part}.{metric}")] = float(entry["value"])
            metrics = [Metric(k, v, stamp, now) for k, v in values.items() if v == v]
            self._client().log_batch(run_id, metrics=metrics)
        except Exception as exc:  # an unreachable tracking server must not kill monitoring
            warnings.warn(
                f"MLflow monitoring metrics not logged: {exc!r}", UnimlWarning, stacklevel=2
            )

    @hookimpl
    def uniml_alert(self, alert):
        """Tag the monitoring run with the latest alert.

        Parameters
        ----------
        alert : Alert
        """
        try:
            run_id = self.resolve_run(self.model or alert.model)
            self._client().set_tag(
                run_id, "uniml.monitoring.last_alert", f"{alert.kind}: {alert.message}"[:5000]
            )
        except Exception as exc:
            warnings.warn(f"MLflow alert tag not set: {exc!r}", UnimlWarning, stacklevel=2)
