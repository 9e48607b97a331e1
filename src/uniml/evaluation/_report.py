"""The result of :func:`uniml.evaluate`: :class:`EvalReport` and :class:`GateResult`.

An :class:`EvalReport` holds everything an evaluation computed, in plain
json-able fields and long pandas DataFrames, so that the HTML report, the
MLflow sink and a reviewer reading ``to_json()`` all see the same numbers.

Examples
--------
>>> import pandas as pd
>>> report = EvalReport.example()
>>> report.passed, list(report.leaderboard.index)
(True, ['good', 'dummy_mean'])
>>> EvalReport.from_json(report.to_json()) == report
True
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EvalReport", "GateResult"]

_FOLD_COLUMNS = ["model", "fold", "metric", "value"]
_COMPARISON_COLUMNS = ["model", "reference", "metric", "diff", "ci_low", "ci_high", "confidence"]


@dataclass(frozen=True)
class GateResult:
    """The verdict of one gate on one model.

    Parameters
    ----------
    name : str
        The gate as written (``"rmse <= 12"``).
    passed : bool
    reason : str
        Why it passed or failed, naming the metric, the values and the interval.
    model : str
        The model the gate judged.
    metric : str
    value : float
        The model's value (mean over folds, or the relative difference for a
        relative gate).
    threshold : float
        The limit the value was compared with.
    ci_low, ci_high : float or None
        The bootstrap interval used, for relative gates.

    Examples
    --------
    >>> g = GateResult("rmse <= 12", True, "rmse: m 11.0 <= 12", "m", "rmse", 11.0, 12.0)
    >>> GateResult.from_dict(g.to_dict()) == g
    True
    """

    name: str
    passed: bool
    reason: str
    model: str
    metric: str
    value: float
    threshold: float
    ci_low: float | None = None
    ci_high: float | None = None

    def to_dict(self) -> dict:
        """The gate result as a json-able dict.

        Returns
        -------
        dict
            One key per field; numpy scalars become Python numbers and
            non-finite floats a ``{"__float__": "nan"}`` marker.

        Examples
        --------
        >>> GateResult("g", False, "r", "m", "mae", 1.0, 0.5).to_dict()["passed"]
        False
        """
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> GateResult:
        """Rebuild a :class:`GateResult` from :meth:`to_dict`.

        Parameters
        ----------
        data : dict
            A :meth:`to_dict` result (or its JSON round trip); unknown keys are ignored.

        Returns
        -------
        GateResult

        Examples
        --------
        >>> GateResult.from_dict({"name": "g", "passed": True, "reason": "r", "model": "m",
        ...                       "metric": "mae", "value": 1.0, "threshold": 2.0}).threshold
        2.0
        """
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _from_jsonable(v) for k, v in data.items() if k in names})


def _jsonable(value):
    """numpy scalars -> Python; timestamps -> ISO text; NaN/inf -> a marker JSON can carry."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _from_jsonable(value):
    if isinstance(value, dict):
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: _from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_jsonable(v) for v in value]
    return value


def _frame_to_json(frame) -> dict:
    return {
        "columns": [str(c) for c in frame.columns],
        "index": _jsonable(list(frame.index)),
        "index_name": frame.index.name,
        "data": [_jsonable(list(frame[c])) for c in frame.columns],
        "dtypes": [str(frame[c].dtype) for c in frame.columns],
        "index_dtype": str(frame.index.dtype),
    }


def _frame_from_json(data: dict):
    import pandas as pd

    columns = {}
    for name, values, dtype in zip(data["columns"], data["data"], data["dtypes"], strict=True):
        columns[name] = _typed(pd.Series(_from_jsonable(values), dtype=object), dtype)
    frame = pd.DataFrame(columns, columns=data["columns"])
    index = _typed(
        pd.Series(_from_jsonable(data["index"]), dtype=object), data.get("index_dtype", "object")
    )
    frame.index = pd.Index(index, name=data["index_name"])
    return frame


def _typed(series, dtype: str):
    """Restore a column's recorded dtype (object when pandas cannot)."""
    if dtype == "object":
        return series
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


def _empty(columns):
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


@dataclass(eq=False)
class EvalReport:
    """Everything one evaluation computed.

    Parameters
    ----------
    task : str
        ``regression``, ``classification``, ``forecasting``, ``causal`` or
        ``recommendation``.
    protocol : dict
        Json-able description of the protocol (``kind``, ``n_splits`` or
        ``n_origins``, ``horizon``, ``step``, ``window``, ``seed``...).
    metrics : list of str
        Metric names; the first is the primary metric (leaderboard order).
    greater_is_better : dict
        Metric name -> whether larger is better.
    roles : dict
        Model name -> ``'candidate'``, ``'baseline'`` or ``'champion'``.
    params : dict
        Model name -> flat json-able dict of its parameters.
    fold_scores : pandas.DataFrame
        Long frame, columns ``model, fold, metric, value``.
    leaderboard : pandas.DataFrame
        Index = model name; columns ``role`` and ``<metric>_mean``,
        ``<metric>_std`` per metric; best first by the primary metric.
    comparisons : pandas.DataFrame
        Columns ``model, reference, metric, diff, ci_low, ci_high,
        confidence``: the mean paired difference ``model - reference`` with
        its bootstrap interval; reports from :func:`uniml.evaluate` also have
        ``rel_diff, rel_ci_low, rel_ci_high`` (relative to ``|reference|``),
        ``n_folds``, ``unit`` (what the paired bootstrap resampled: ``rows``,
        ``users``, ``series x origin blocks``, ``backtest rows``, or
        ``folds`` for metrics without a per-row form) and ``n_units``.
    gates : list of GateResult
    passed : bool
        All gates passed (True when there are no gates).
    predictions : pandas.DataFrame
        Long frame of out-of-fold predictions for plots (columns depend on
        the task, see :func:`uniml.evaluate`).
    duration : float
        Wall-clock seconds.
    random_state : int or None
    n_jobs : int
    extra : dict
        Free-form json-able notes (library versions, warnings...);
        :func:`uniml.evaluate` records ``confidence``, ``n_boot`` and
        ``bootstrap`` (``unit``, ``per_row_metrics``, ``per_fold_metrics``, ``note``).

    Examples
    --------
    >>> report = EvalReport.example()
    >>> report.metrics[0], report.greater_is_better["rmse"]
    ('rmse', False)
    >>> print(report.summary().splitlines()[0])
    regression evaluation (kfold), primary metric rmse: PASSED (1 gate)
    """

    task: str
    protocol: dict
    metrics: list
    greater_is_better: dict
    roles: dict
    params: dict
    fold_scores: Any = None
    leaderboard: Any = None
    comparisons: Any = None
    gates: list = field(default_factory=list)
    passed: bool = True
    predictions: Any = None
    duration: float = 0.0
    random_state: Any = None
    n_jobs: int = 1
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.fold_scores is None:
            self.fold_scores = _empty(_FOLD_COLUMNS)
        if self.comparisons is None:
            self.comparisons = _empty(_COMPARISON_COLUMNS)
        if self.predictions is None:
            self.predictions = _empty([])
        if self.leaderboard is None:
            self.leaderboard = _empty(["role"])

    # -- views ---------------------------------------------------------------
    @property
    def primary_metric(self) -> str:
        """The first metric, which orders the leaderboard.

        Examples
        --------
        >>> EvalReport.example().primary_metric
        'rmse'
        """
        return self.metrics[0]

    @property
    def best(self) -> str:
        """Name of the top model of the leaderboard.

        Examples
        --------
        >>> EvalReport.example().best
        'good'
        """
        return str(self.leaderboard.index[0])

    @property
    def failed_gates(self) -> list[GateResult]:
        """The gates that failed.

        Examples
        --------
        >>> EvalReport.example().failed_gates
        []
        """
        return [g for g in self.gates if not g.passed]

    def summary(self) -> str:
        """A short plain-text summary: verdict, leaderboard, gate reasons.

        Returns
        -------
        str

        Examples
        --------
        >>> text = EvalReport.example().summary()
        >>> "good" in text and "PASS rmse <= 100" in text
        True
        """
        verdict = "PASSED" if self.passed else "FAILED"
        n = len(self.gates)
        lines = [
            f"{self.task} evaluation ({self.protocol.get('kind', '?')}), primary metric "
            f"{self.primary_metric}: {verdict} ({n} gate{'s' if n != 1 else ''})"
        ]
        for name, row in self.leaderboard.iterrows():
            cells = []
            for metric in self.metrics:
                mean, std = row.get(f"{metric}_mean"), row.get(f"{metric}_std")
                if mean is not None:
                    m_text, s_text = mean_pm(mean, std)
                    cells.append(f"{metric}={m_text}±{s_text}")
            lines.append(f"  {name} [{row['role']}]: " + ", ".join(cells))
        for gate in self.gates:
            lines.append(f"  {'PASS' if gate.passed else 'FAIL'} {gate.name} — {gate.reason}")
        return "\n".join(lines)

    # -- serialisation -----------------------------------------------------
    def to_dict(self) -> dict:
        """The report as a json-able dict (DataFrames in a column layout).

        Returns
        -------
        dict
            Every field of the report; each DataFrame as ``columns``, ``index``,
            ``data`` (one list per column) and the dtypes, so that
            :meth:`from_json` restores it exactly.

        Examples
        --------
        >>> sorted(EvalReport.example().to_dict())[:3]
        ['comparisons', 'duration', 'extra']
        """
        return {
            "task": self.task,
            "protocol": _jsonable(self.protocol),
            "metrics": list(self.metrics),
            "greater_is_better": _jsonable(self.greater_is_better),
            "roles": _jsonable(self.roles),
            "params": _jsonable(self.params),
            "fold_scores": _frame_to_json(self.fold_scores),
            "leaderboard": _frame_to_json(self.leaderboard),
            "comparisons": _frame_to_json(self.comparisons),
            "gates": [g.to_dict() for g in self.gates],
            "passed": bool(self.passed),
            "predictions": _frame_to_json(self.predictions),
            "duration": float(self.duration),
            "random_state": _jsonable(self.random_state),
            "n_jobs": int(self.n_jobs),
            "extra": _jsonable(self.extra),
        }

    def to_json(self, path=None, *, indent: int | None = None) -> str:
        """Serialise the report to JSON; :meth:`from_json` rebuilds an equal report.

        Parameters
        ----------
        path : str or Path, optional
            Also write the JSON there.
        indent : int, optional

        Returns
        -------
        str

        Examples
        --------
        >>> import json
        >>> json.loads(EvalReport.example().to_json())["task"]
        'regression'
        """
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text: str) -> EvalReport:
        """Rebuild a report from :meth:`to_json` output (a JSON string or a path to one).

        Parameters
        ----------
        text : str or Path

        Returns
        -------
        EvalReport

        Raises
        ------
        DataContractError
            The text is not an EvalReport JSON document.

        Examples
        --------
        >>> r = EvalReport.example()
        >>> EvalReport.from_json(r.to_json()).leaderboard.equals(r.leaderboard)
        True
        """
        from uniml.core.errors import DataContractError

        if isinstance(text, Path) or (isinstance(text, str) and not text.lstrip().startswith("{")):
            text = Path(text).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
            return cls(
                task=data["task"],
                protocol=_from_jsonable(data["protocol"]),
                metrics=list(data["metrics"]),
                greater_is_better=dict(data["greater_is_better"]),
                roles=dict(data["roles"]),
                params=_from_jsonable(data["params"]),
                fold_scores=_frame_from_json(data["fold_scores"]),
                leaderboard=_frame_from_json(data["leaderboard"]),
                comparisons=_frame_from_json(data["comparisons"]),
                gates=[GateResult.from_dict(g) for g in data["gates"]],
                passed=bool(data["passed"]),
                predictions=_frame_from_json(data["predictions"]),
                duration=float(data["duration"]),
                random_state=_from_jsonable(data["random_state"]),
                n_jobs=int(data["n_jobs"]),
                extra=_from_jsonable(data.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataContractError(f"not an EvalReport JSON document: {exc!r}") from exc

    def to_html(self, path) -> Path:
        """Write the self-contained HTML report (leaderboard, gates, plots) to ``path``.

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        Path
            The written file.

        Examples
        --------
        >>> callable(EvalReport.example().to_html)  # renders via uniml.evaluation._html
        True
        """
        from uniml.evaluation import _html

        return Path(_html.render(self, Path(path)))

    def __eq__(self, other) -> bool:
        if not isinstance(other, EvalReport):
            return NotImplemented
        return json.loads(self.to_json()) == json.loads(other.to_json())

    # defining __eq__ without __hash__ leaves the class unhashable (``__hash__`` is None)

    @classmethod
    def example(cls) -> EvalReport:
        """A tiny hand-made report (two models, one gate), for docs and renderer tests.

        Returns
        -------
        EvalReport

        Examples
        --------
        >>> EvalReport.example().roles
        {'good': 'candidate', 'dummy_mean': 'baseline'}
        """
        import pandas as pd

        folds = pd.DataFrame(
            {
                "model": ["good", "good", "dummy_mean", "dummy_mean"],
                "fold": [0, 1, 0, 1],
                "metric": ["rmse"] * 4,
                "value": [10.0, 12.0, 20.0, 22.0],
            }
        )
        board = pd.DataFrame(
            {
                "role": ["candidate", "baseline"],
                "rmse_mean": [11.0, 21.0],
                "rmse_std": [1.4142135623730951] * 2,
            },
            index=pd.Index(["good", "dummy_mean"], name="model"),
        )
        comparisons = pd.DataFrame(
            {
                "model": ["good"],
                "reference": ["dummy_mean"],
                "metric": ["rmse"],
                "diff": [-10.0],
                "ci_low": [-10.0],
                "ci_high": [-10.0],
                "confidence": [0.95],
            }
        )
        gate = GateResult("rmse <= 100", True, "rmse: good 11 <= 100", "good", "rmse", 11.0, 100.0)
        predictions = pd.DataFrame(
            {
                "model": ["good", "good", "dummy_mean", "dummy_mean"],
                "fold": [0, 1, 0, 1],
                "row": [0, 1, 0, 1],
                "y_true": [1.0, 2.0, 1.0, 2.0],
                "y_pred": [1.5, 2.5, 1.5, 1.5],
            }
        )
        return cls(
            task="regression",
            protocol={"kind": "kfold", "n_splits": 2, "shuffle": True, "seed": 0},
            metrics=["rmse"],
            greater_is_better={"rmse": False},
            roles={"good": "candidate", "dummy_mean": "baseline"},
            params={"good": {"alpha": 1.0}, "dummy_mean": {"strategy": "mean"}},
            fold_scores=folds,
            leaderboard=board,
            comparisons=comparisons,
            gates=[gate],
            passed=True,
            predictions=predictions,
            duration=0.1,
            random_state=0,
            n_jobs=1,
        )


def mean_pm(mean, std) -> tuple[str, str]:
    """``mean`` and ``std`` rounded to the same decimal place: two significant figures of ``std``.

    Plain decimals (no exponent) for magnitudes from 1e-4 to 1e6; outside that
    range, or without a usable ``std``, four significant figures.

    Examples
    --------
    >>> mean_pm(160.2, 181.5), mean_pm(0.03978, 0.03779), mean_pm(4.0, float("nan"))
    (('160', '182'), ('0.040', '0.038'), ('4', 'nan'))
    """
    try:
        m, sd = float(mean), float(std)
    except (TypeError, ValueError):
        return _fmt(mean), _fmt(std)
    if not (math.isfinite(m) and math.isfinite(sd)) or sd <= 0:
        return _fmt(m), _fmt(sd)
    decimals = max(0, 1 - math.floor(math.log10(sd)))
    if decimals > 6 or max(abs(m), sd) >= 1e6:
        return f"{m:.4g}", f"{sd:.2g}"
    return f"{m:.{decimals}f}", f"{sd:.{decimals}f}"


def _fmt(value) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"
