"""Evaluation: protocols (splitters), metrics per task, baselines, gates and the harness.

:func:`evaluate` runs candidates, baselines and an optional champion on the
task's protocol and returns an :class:`EvalReport`. Nothing here is imported
by ``import uniml``; ``uniml.evaluate`` resolves lazily to this module.

Examples
--------
>>> from uniml.evaluation import EvalReport, GateResult
>>> EvalReport.example().passed
True
"""

from uniml.evaluation._report import EvalReport, GateResult

__all__ = ["EvalReport", "GateResult"]
