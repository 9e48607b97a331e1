"""Declarative pass/fail gates over an evaluation.

A gate is written as a short sentence (or built as an object, or a dict):

=====================================================  ===============================================
gate                                                   passes when
=====================================================  ===============================================
``rmse <= 12`` (also ``<``, ``>=``, ``>``)             the mean over folds satisfies the comparison
``roc_auc better than baseline``                       the bootstrap CI of the difference lies
                                                       entirely on the better side
``rmse not worse than champion by 1% at 95%``          the worse-side end of the CI of the relative
                                                       difference is within 1% (``by 0.5`` without
                                                       ``%``: an absolute margin; no ``by``: 0)
``lgbm: mae <= 3``                                     prefix ``<model>:`` judges one model only
=====================================================  ===============================================

Without a prefix a gate judges every candidate (not baselines or the
champion). The reference is ``baseline`` (the best baseline on that metric),
``champion``, or a model name. ``at <c>%`` sets the interval's confidence
(two-sided, default 95%). Dicts: ``{"metric": "rmse", "max": 12}``,
``{"metric": "rmse", "min": ...}``, ``{"metric": "roc_auc", "better_than":
"baseline"}``, ``{"metric": "rmse", "not_worse_than": "champion", "by": "1%",
"confidence": 0.95}``, each with an optional ``"model"``.

Examples
--------
>>> parse_gate("rmse not worse than champion by 1% at 95%")
RelativeGate(metric='rmse', reference='champion', mode='not_worse', margin=0.01, relative=True, confidence=0.95, model=None)
>>> parse_gate("rmse <= 12")
ThresholdGate(metric='rmse', op='<=', threshold=12.0, model=None)
"""

from __future__ import annotations

import abc
import math
import operator
import re
from dataclasses import dataclass

from uniml.core.errors import UnimlError

__all__ = ["Gate", "GateError", "RelativeGate", "ThresholdGate", "parse_gate", "parse_gates"]


class GateError(UnimlError, ValueError):
    """A gate that cannot be parsed or cannot be judged (unknown metric, no champion...).

    Examples
    --------
    >>> parse_gate("rmse is small")
    Traceback (most recent call last):
    ...
    uniml.evaluation.gates.GateError: invalid gate 'rmse is small': expected '<metric> <op> <number>', ...
    """


_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PREFIX = r"^\s*(?:(?P<model>[^:\s][^:]*?)\s*:\s*)?"
_METRIC = r"(?P<metric>[A-Za-z_][\w@.%]*)"
_THRESHOLD = re.compile(_PREFIX + _METRIC + r"\s*(?P<op><=|>=|<|>)\s*(?P<value>" + _NUM + r")\s*$")
_BETTER = re.compile(
    _PREFIX + _METRIC + r"\s+better\s+than\s+(?P<ref>\S+)"
    r"(?:\s+at\s+(?P<conf>" + _NUM + r")\s*%)?\s*$",
    re.I,
)
_NOT_WORSE = re.compile(
    _PREFIX + _METRIC + r"\s+not\s+worse\s+than\s+(?P<ref>\S+)"
    r"(?:\s+by\s+(?:more\s+than\s+)?(?P<margin>" + _NUM + r")\s*(?P<pct>%)?)?"
    r"(?:\s+(?:at|with)\s+(?P<conf>" + _NUM + r")\s*%(?:\s+confidence)?)?\s*$",
    re.I,
)


class Gate(abc.ABC):
    """Base of gates: ``metric``, an optional ``model`` and a readable ``name``.

    Examples
    --------
    >>> ThresholdGate("mae", "<", 3.0).name
    'mae < 3'
    """

    metric: str
    model: str | None

    @abc.abstractmethod
    def text(self) -> str:
        """The gate as a sentence of the grammar; every kind of gate defines it.

        Returns
        -------
        str
            A sentence :func:`parse_gate` reads back into an equal gate.

        Examples
        --------
        >>> parse_gate(ThresholdGate("mae", "<", 3.0).text())
        ThresholdGate(metric='mae', op='<', threshold=3.0, model=None)
        """

    @property
    def name(self) -> str:
        """The gate as a sentence of the grammar."""
        return self.text()


@dataclass(frozen=True)
class ThresholdGate(Gate):
    """Absolute gate: ``<metric> <op> <threshold>`` on the mean over folds.

    Parameters
    ----------
    metric : str
        Name of the metric, as reported by the evaluation.
    op : {"<=", "<", ">=", ">"}
        How the mean must compare with ``threshold``.
    threshold : float
        The bound.
    model : str, optional
        Judge this model only (default: every candidate).

    Examples
    --------
    >>> ThresholdGate("rmse", "<=", 12.0).check(11.5)
    True
    """

    metric: str
    op: str
    threshold: float
    model: str | None = None

    def __post_init__(self):
        if self.op not in _OPS:
            raise GateError(f"invalid gate {self.text()!r}: operator must be one of {list(_OPS)}")

    def text(self) -> str:
        """The gate as a sentence.

        Returns
        -------
        str
            ``[<model>: ]<metric> <op> <threshold>``.

        Examples
        --------
        >>> ThresholdGate("r2", ">=", 0.5, model="m").text()
        'm: r2 >= 0.5'
        """
        prefix = f"{self.model}: " if self.model else ""
        return f"{prefix}{self.metric} {self.op} {self.threshold:g}"

    def check(self, value: float) -> bool:
        """Whether ``value`` passes (NaN never does).

        Parameters
        ----------
        value : float
            The model's mean score over folds.

        Returns
        -------
        bool
            True when ``value`` is finite and satisfies ``op threshold``.

        Examples
        --------
        >>> ThresholdGate("rmse", "<", 1.0).check(float("nan"))
        False
        """
        return bool(math.isfinite(value) and _OPS[self.op](value, self.threshold))


@dataclass(frozen=True)
class RelativeGate(Gate):
    """Gate relative to a reference model, judged on the paired bootstrap interval.

    Parameters
    ----------
    metric : str
        Name of the metric, as reported by the evaluation.
    reference : str
        ``"baseline"``, ``"champion"`` or a model name.
    mode : {"better", "not_worse"}
        ``better``: the interval of the difference must lie entirely on the
        better side; ``not_worse``: its worse-side end must stay within ``margin``.
    margin : float, default 0.0
        Allowed worsening (``not_worse``): a fraction when ``relative``.
    relative : bool, default True
        Judge the relative difference (a fraction of the reference's score)
        instead of the absolute one.
    confidence : float, default 0.95
        Two-sided confidence of the bootstrap interval, in (0, 1).
    model : str, optional
        Judge this model only (default: every candidate).

    Examples
    --------
    >>> RelativeGate("rmse", "champion", "not_worse", 0.01).text()
    'rmse not worse than champion by 1% at 95%'
    """

    metric: str
    reference: str
    mode: str
    margin: float = 0.0
    relative: bool = True
    confidence: float = 0.95
    model: str | None = None

    def __post_init__(self):
        if self.mode not in ("better", "not_worse"):
            raise GateError(
                f"invalid gate on {self.metric!r}: mode must be 'better' or 'not_worse'"
            )
        if not 0.0 < self.confidence < 1.0:
            raise GateError(f"invalid gate {self.text()!r}: confidence must be in (0%, 100%)")
        if self.margin < 0:
            raise GateError(f"invalid gate {self.text()!r}: the margin must not be negative")

    def text(self) -> str:
        """The gate as a sentence.

        Returns
        -------
        str
            ``[<model>: ]<metric> better than <reference> at <c>%`` or
            ``[<model>: ]<metric> not worse than <reference> [by <x>] at <c>%``.

        Examples
        --------
        >>> RelativeGate("auc", "baseline", "better").text()
        'auc better than baseline at 95%'
        """
        prefix = f"{self.model}: " if self.model else ""
        conf = f" at {self.confidence * 100:g}%"
        if self.mode == "better":
            return f"{prefix}{self.metric} better than {self.reference}{conf}"
        by = ""
        if self.margin:
            by = f" by {self.margin * 100:g}%" if self.relative else f" by {self.margin:g}"
        return f"{prefix}{self.metric} not worse than {self.reference}{by}{conf}"


def _number(text: str, gate: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise GateError(f"invalid gate {gate!r}: {text!r} is not a number") from None


def parse_gate(spec) -> Gate:
    """Build a gate from a sentence, a dict or a gate object.

    Parameters
    ----------
    spec : str, dict, ThresholdGate or RelativeGate

    Returns
    -------
    Gate

    Raises
    ------
    GateError
        The text does not follow the grammar, naming the gate.

    Examples
    --------
    >>> parse_gate({"metric": "roc_auc", "better_than": "baseline"}).mode
    'better'
    >>> parse_gate("lgbm: mae < 3").model
    'lgbm'
    """
    if isinstance(spec, Gate):
        return spec
    if isinstance(spec, dict):
        return _from_dict(spec)
    if not isinstance(spec, str):
        raise GateError(f"invalid gate {spec!r}: expected a string, a dict or a Gate")
    m = _THRESHOLD.match(spec)
    if m:
        return ThresholdGate(m["metric"], m["op"], _number(m["value"], spec), m["model"])
    m = _BETTER.match(spec)
    if m:
        conf = _number(m["conf"], spec) / 100.0 if m["conf"] else 0.95
        return RelativeGate(m["metric"], m["ref"], "better", 0.0, True, conf, m["model"])
    m = _NOT_WORSE.match(spec)
    if m:
        conf = _number(m["conf"], spec) / 100.0 if m["conf"] else 0.95
        margin, relative = 0.0, True
        if m["margin"]:
            margin = _number(m["margin"], spec)
            relative = bool(m["pct"])
            margin = margin / 100.0 if relative else margin
        return RelativeGate(m["metric"], m["ref"], "not_worse", margin, relative, conf, m["model"])
    raise GateError(
        f"invalid gate {spec!r}: expected '<metric> <op> <number>', '<metric> better than <reference> "
        f"[at <c>%]' or '<metric> not worse than <reference> [by <x>%] [at <c>%]', optionally prefixed "
        f"by '<model>:'"
    )


def _from_dict(spec: dict) -> Gate:
    known = {
        "metric",
        "model",
        "max",
        "min",
        "lt",
        "gt",
        "better_than",
        "not_worse_than",
        "by",
        "confidence",
    }
    unknown = set(spec) - known
    if unknown or "metric" not in spec:
        raise GateError(
            f"invalid gate {spec!r}: needs 'metric'; allowed keys are {sorted(known)}"
            + (f", not {sorted(unknown)}" if unknown else "")
        )
    metric, model = str(spec["metric"]), spec.get("model")
    ops = [
        (k, op) for k, op in (("max", "<="), ("min", ">="), ("lt", "<"), ("gt", ">")) if k in spec
    ]
    refs = [k for k in ("better_than", "not_worse_than") if k in spec]
    if len(ops) + len(refs) != 1:
        raise GateError(
            f"invalid gate {spec!r}: give exactly one of max, min, lt, gt, better_than, not_worse_than"
        )
    conf = spec.get("confidence", 0.95)
    conf = _number(str(conf).rstrip("%"), str(spec)) / (100.0 if str(conf).endswith("%") else 1.0)
    if ops:
        key, op = ops[0]
        return ThresholdGate(metric, op, _number(str(spec[key]), str(spec)), model)
    if refs[0] == "better_than":
        return RelativeGate(metric, str(spec["better_than"]), "better", 0.0, True, conf, model)
    by = spec.get("by", 0)
    relative = isinstance(by, str) and by.strip().endswith("%")
    margin = _number(str(by).strip().rstrip("%"), str(spec))
    return RelativeGate(
        metric,
        str(spec["not_worse_than"]),
        "not_worse",
        margin / 100.0 if relative else margin,
        relative or not by,
        conf,
        model,
    )


def parse_gates(specs) -> list[Gate]:
    """Parse a gate, or a list of them (None -> no gates).

    Examples
    --------
    >>> [g.name for g in parse_gates(["rmse <= 12", "mae < 3"])]
    ['rmse <= 12', 'mae < 3']
    """
    if specs is None:
        return []
    if isinstance(specs, (str, dict, Gate)):
        specs = [specs]
    return [parse_gate(s) for s in specs]


def _fmt(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if math.isfinite(x) else str(x)


def judge_threshold(gate: ThresholdGate, model: str, value: float):
    """Verdict of an absolute gate on one model's mean score.

    Returns
    -------
    tuple
        ``(passed, reason)``.

    Examples
    --------
    >>> judge_threshold(ThresholdGate("rmse", "<=", 12.0), "m", 13.2)
    (False, 'rmse: m 13.2 (mean over folds) is not <= 12')
    """
    ok = gate.check(value)
    verb = "is" if ok else "is not"
    return (
        ok,
        f"{gate.metric}: {model} {_fmt(value)} (mean over folds) {verb} {gate.op} {_fmt(gate.threshold)}",
    )


def judge_relative(
    gate: RelativeGate, model: str, reference: str, cmp: dict, greater_is_better: bool
):
    """Verdict of a relative gate from a paired bootstrap comparison.

    ``cmp`` is a :func:`~uniml.evaluation._bootstrap.paired_bootstrap` or
    :meth:`~uniml.evaluation._bootstrap.RowBootstrap.compare` result; when it
    names the resampled ``unit`` (``rows``, ``users``, ``folds``...) and ``n``
    the reason says what the interval rests on.

    Returns
    -------
    tuple
        ``(passed, reason, value, threshold, ci_low, ci_high)``; relative
        gates report relative differences (fractions).

    Examples
    --------
    >>> cmp = {"mean": 13.2, "reference_mean": 12.1, "diff": 1.1, "ci_low": 0.7, "ci_high": 1.5,
    ...        "rel_diff": 0.091, "rel_ci_low": 0.06, "rel_ci_high": 0.123, "confidence": 0.95}
    >>> print(judge_relative(RelativeGate("rmse", "champion", "not_worse", 0.01), "challenger", "champion",
    ...                      cmp, False)[1])
    rmse: challenger 13.2 vs champion 12.1 (+9.1%, 95% CI [+6.0%, +12.3%]) exceeds the allowed +1.0%
    >>> cmp.update(unit="rows", n=442, n_folds=5)
    >>> print(judge_relative(RelativeGate("rmse", "champion", "not_worse", 0.01), "challenger", "champion",
    ...                      cmp, False)[1])
    rmse: challenger 13.2 vs champion 12.1 (+9.1%, 95% CI [+6.0%, +12.3%], paired bootstrap over 442 rows of 5 folds) exceeds the allowed +1.0%
    """
    sign = 1.0 if greater_is_better else -1.0  # > 0 means "better"
    conf = f"{cmp['confidence'] * 100:g}% CI"
    head = (
        f"{gate.metric}: {model} {_fmt(cmp['mean'])} vs {reference} {_fmt(cmp['reference_mean'])}"
    )
    use_rel = gate.relative and math.isfinite(cmp["rel_diff"])
    over = ""
    if cmp.get("unit"):  # what the paired bootstrap resampled
        over = f", paired bootstrap over {cmp['n']} {cmp['unit']}"
        if cmp["unit"] != "folds" and cmp.get("n_folds"):
            over += f" of {cmp['n_folds']} fold{'s' if cmp['n_folds'] != 1 else ''}"
    if use_rel:
        d, lo, hi = cmp["rel_diff"], cmp["rel_ci_low"], cmp["rel_ci_high"]
        show = f"({_pct(d)}, {conf} [{_pct(lo)}, {_pct(hi)}]{over})"
        fmt = _pct
    else:
        d, lo, hi = cmp["diff"], cmp["ci_low"], cmp["ci_high"]
        show = f"({d:+.4g}, {conf} [{lo:+.4g}, {hi:+.4g}]{over})"
        fmt = lambda x: f"{x:+.4g}"  # noqa: E731
    if gate.mode == "better":
        bound = lo if greater_is_better else hi  # the least favourable end
        ok = math.isfinite(bound) and sign * bound > 0
        tail = (
            "is better: the whole interval is on the better side"
            if ok
            else "is not better with confidence: the interval reaches no improvement"
        )
        return ok, f"{head} {show} {tail}", d, 0.0, lo, hi
    worst = hi if not greater_is_better else lo
    allowed = gate.margin * (-sign)  # worsening allowed, in the metric's direction
    ok = math.isfinite(worst) and (worst <= allowed if not greater_is_better else worst >= allowed)
    if ok:
        tail = f"is within the allowed {fmt(allowed)}"
    else:
        tail = f"exceeds the allowed {fmt(allowed)}"
    return ok, f"{head} {show} {tail}", d, allowed, lo, hi
