"""Evaluation: protocols (splitters), metrics per task, baselines, gates and the harness.

:func:`evaluate` runs candidates, baselines and an optional champion on the
task's protocol and returns an :class:`EvalReport`. Nothing here is imported
by ``import uniml``; ``uniml.evaluate`` resolves lazily to this module.

Examples
--------
>>> from uniml.evaluation import EvalReport, GateResult, KFold
>>> EvalReport.example().passed
True
"""

from uniml.evaluation._harness import EvaluationError, evaluate
from uniml.evaluation._report import EvalReport, GateResult
from uniml.evaluation.baselines import ConstantEffect, NaiveForecaster, ZeroEffect
from uniml.evaluation.gates import GateError, RelativeGate, ThresholdGate, parse_gate
from uniml.evaluation.metrics import Metric, MetricError
from uniml.evaluation.splitters import (
    Fold,
    GroupKFold,
    KFold,
    LeaveOut,
    ProtocolError,
    RollingOrigin,
    StratifiedKFold,
    TimeSeriesSplit,
)

__all__ = [
    "ConstantEffect",
    "EvalReport",
    "EvaluationError",
    "Fold",
    "GateError",
    "GateResult",
    "GroupKFold",
    "KFold",
    "LeaveOut",
    "Metric",
    "MetricError",
    "NaiveForecaster",
    "ProtocolError",
    "RelativeGate",
    "RollingOrigin",
    "StratifiedKFold",
    "ThresholdGate",
    "TimeSeriesSplit",
    "ZeroEffect",
    "evaluate",
    "parse_gate",
]
