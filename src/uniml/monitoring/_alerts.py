"""Typed alert events and the retrain policy.

A monitoring run emits one ``alert`` event per alert-level finding
(:class:`DriftAlert`, :class:`PerformanceAlert`) through
:mod:`uniml.core.events`, so every sink enabled with
:func:`uniml.lineage.enable` receives it in its ``uniml_alert`` hook.
:class:`RetrainPolicy` turns k consecutive breaching runs into one
:class:`RetrainRequested` event, then waits out a cool-down. Monitoring never
retrains: a handler of that event runs the evaluation harness and the gated
promote.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Alert", "DriftAlert", "PerformanceAlert", "RetrainPolicy", "RetrainRequested"]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Alert:
    """Base of the alert events: what happened, how bad, to which model.

    Parameters
    ----------
    message : str
        One readable sentence.
    level : str
        ``"alert"`` or ``"warn"``.
    model : dict
        The model version's identity from the profile (``name``, ``version``, ``digest``).
    created : str
        ISO 8601 UTC time.

    Examples
    --------
    >>> Alert("something drifted").to_dict()["kind"]
    'Alert'
    """

    message: str
    level: str = "alert"
    model: dict = field(default_factory=dict)
    created: str = field(default_factory=_now)

    @property
    def kind(self) -> str:
        """The event's class name (``"DriftAlert"``...).

        Returns
        -------
        str
        """
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """JSON-able content, with ``kind``.

        Returns
        -------
        dict
        """
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class DriftAlert(Alert):
    """A column's (or the prediction's, or the joint) distribution moved past its alert threshold.

    Parameters
    ----------
    message, level, model, created
        See :class:`Alert`.
    column : str
        Column name; ``"<multivariate>"`` for the joint drift.
    role : str
        ``"feature"``, ``"prediction"`` or ``"multivariate"``.
    statistic : str
        ``"wasserstein"``, ``"js"``, ``"psi"``, ``"missing"``, ``"unseen"``,
        ``"pca_error"`` or ``"domain_auc"``.
    value, threshold : float

    Examples
    --------
    >>> DriftAlert("x moved", column="x", statistic="wasserstein", value=0.4, threshold=0.2).kind
    'DriftAlert'
    """

    column: str = ""
    role: str = "feature"
    statistic: str = ""
    value: float = float("nan")
    threshold: float = float("nan")


@dataclass(frozen=True)
class PerformanceAlert(Alert):
    """Realised (or estimated) performance fell past its threshold.

    Parameters
    ----------
    message, level, model, created
        See :class:`Alert`.
    metric : str
    value, reference, threshold : float
    estimated : bool
        True for a label-free estimate (CBPE, DLE), never a measurement.

    Examples
    --------
    >>> PerformanceAlert("accuracy fell", metric="accuracy", value=0.7, reference=0.9,
    ...                  threshold=0.85, estimated=True).estimated
    True
    """

    metric: str = ""
    value: float = float("nan")
    reference: float = float("nan")
    threshold: float = float("nan")
    estimated: bool = False


@dataclass(frozen=True)
class RetrainRequested(Alert):
    """k consecutive monitoring runs breached: ask for a retrain (through the harness and gated promote).

    Parameters
    ----------
    message, level, model, created
        See :class:`Alert`.
    breaches : int
        Consecutive breaching runs counted.
    k : int
    reasons : list of str
        The alerts of the last breaching run.

    Examples
    --------
    >>> RetrainRequested("retrain", breaches=3, k=3).breaches
    3
    """

    breaches: int = 0
    k: int = 0
    reasons: list = field(default_factory=list)


class RetrainPolicy:
    """Request a retrain after ``k`` consecutive breaching runs, then wait ``cooldown`` runs.

    A run *breaches* when its report has at least one alert-level finding of the
    kinds in ``on``. The k-th consecutive breach emits one
    :class:`RetrainRequested` (an ``alert`` event); the count then restarts,
    and for the next ``cooldown`` runs no request is made (the retrained model
    needs time to ship). A clean run resets the count. The state is kept in
    memory, or in ``state`` (a JSON file) so that scheduled runs of ``uniml
    monitor`` share it.

    Parameters
    ----------
    k : int, default 3
    cooldown : int, default 0
        Runs after a request during which breaches are not counted.
    on : tuple of str, default ("drift", "performance")
        Which findings count: ``"drift"`` (any drift alert), ``"prediction"``
        (prediction drift only), ``"performance"``.
    state : str or Path, optional
        JSON file holding the counters between processes.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> policy = RetrainPolicy(k=2)
    >>> bad = SimpleNamespace(alerts=[DriftAlert("x moved", column="x")], model={})
    >>> [type(policy.observe(bad, emit=False)).__name__ for _ in range(3)]
    ['NoneType', 'RetrainRequested', 'NoneType']
    """

    def __init__(
        self,
        k: int = 3,
        cooldown: int = 0,
        on: tuple[str, ...] = ("drift", "performance"),
        state=None,
    ):
        self.k = k
        self.cooldown = cooldown
        self.on = on
        self.state = state

    def _load(self) -> dict:
        if self.state is not None and Path(self.state).exists():
            return json.loads(Path(self.state).read_text(encoding="utf-8"))
        return getattr(self, "_memory", {"breaches": 0, "cooling": 0, "requests": 0})

    def _save(self, st: dict) -> None:
        self._memory = st
        if self.state is not None:
            path = Path(self.state)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(st), encoding="utf-8")

    def counts(self) -> dict:
        """The current counters: ``breaches``, ``cooling`` (runs left) and ``requests`` made.

        Returns
        -------
        dict
        """
        return dict(self._load())

    def _relevant(self, alerts) -> list:
        out: list[Alert] = []
        for a in alerts:
            if getattr(a, "level", "alert") != "alert":
                continue
            if isinstance(a, DriftAlert) and (
                "drift" in self.on or ("prediction" in self.on and a.role == "prediction")
            ):
                out.append(a)
            elif isinstance(a, PerformanceAlert) and "performance" in self.on:
                out.append(a)
        return out

    def observe(self, report, *, emit: bool = True) -> RetrainRequested | None:
        """Count ``report``'s breach; on the k-th in a row, return (and emit) a :class:`RetrainRequested`.

        Parameters
        ----------
        report : MonitorReport
            Anything with ``alerts`` (and optionally ``model``).
        emit : bool, default True
            Send the request as an ``alert`` event to the enabled sinks.

        Returns
        -------
        RetrainRequested or None
        """
        st = self._load()
        relevant = self._relevant(getattr(report, "alerts", []))
        request = None
        if st["cooling"] > 0:
            st["cooling"] -= 1
        elif relevant:
            st["breaches"] += 1
            if st["breaches"] >= self.k:
                request = RetrainRequested(
                    f"retrain requested: {st['breaches']} consecutive monitoring runs breached "
                    f"(k={self.k}); last: {relevant[0].message}",
                    model=dict(getattr(report, "model", {}) or {}),
                    breaches=st["breaches"],
                    k=self.k,
                    reasons=[a.message for a in relevant],
                )
                st["breaches"] = 0
                st["cooling"] = self.cooldown
                st["requests"] += 1
        else:
            st["breaches"] = 0
        self._save(st)
        if request is not None and emit:
            from uniml.core import events

            events.emit("alert", alert=request)
        return request
