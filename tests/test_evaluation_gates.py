"""Gate grammar and verdicts."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uniml.evaluation._bootstrap import paired_bootstrap
from uniml.evaluation.gates import (
    Gate,
    GateError,
    RelativeGate,
    ThresholdGate,
    judge_relative,
    parse_gate,
)

metric = st.sampled_from(["rmse", "roc_auc", "ndcg@10", "uplift@30%", "coverage_80"])
model = st.one_of(st.none(), st.sampled_from(["lgbm", "ridge_2", "my model"]))
number = st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: float(f"{x:g}"))


@settings(max_examples=100, deadline=None)
@given(metric, st.sampled_from(["<=", "<", ">=", ">"]), number, model)
def test_threshold_gates_round_trip_through_text(m, op, value, who):
    gate = ThresholdGate(m, op, value, who)
    assert parse_gate(gate.text()) == gate


@settings(max_examples=100, deadline=None)
@given(
    metric,
    st.sampled_from(["baseline", "champion", "ridge_2"]),
    st.sampled_from(["better", "not_worse"]),
    st.sampled_from([0.0, 0.01, 0.05, 0.5]),
    st.booleans(),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    model,
)
def test_relative_gates_round_trip_through_text(m, ref, mode, margin, relative, conf, who):
    if mode == "better":
        margin, relative = 0.0, True
    gate = RelativeGate(m, ref, mode, margin, relative if margin else True, conf, who)
    back = parse_gate(gate.text())
    assert (
        back.metric == gate.metric
        and back.reference == ref
        and back.mode == mode
        and back.model == who
    )
    assert math.isclose(back.margin, gate.margin) and back.relative == gate.relative
    assert math.isclose(back.confidence, conf)


@pytest.mark.parametrize(
    "text",
    [
        "rmse",
        "rmse <= twelve",
        "rmse better baseline",
        "rmse not worse than",
        "rmse <= 3 at 95%",
        {"metric": "rmse"},
        {"metric": "rmse", "max": 1, "min": 0},
        {"max": 3},
        42,
    ],
)
def test_invalid_gates_are_typed_and_named(text):
    with pytest.raises(GateError, match="invalid gate"):
        parse_gate(text)


def test_dict_gates():
    g = parse_gate(
        {"metric": "rmse", "not_worse_than": "champion", "by": "1%", "confidence": "90%"}
    )
    assert (g.margin, g.relative, g.confidence) == (0.01, True, 0.9)
    g = parse_gate({"metric": "rmse", "not_worse_than": "champion", "by": 0.5})
    assert (g.margin, g.relative) == (0.5, False)


def test_not_worse_verdicts_follow_the_interval():
    gate = parse_gate("rmse not worse than champion by 1%")
    champion = [10.0, 11.0, 12.0, 10.5, 11.5]
    worse = [c * 1.08 for c in champion]  # 8% worse on every fold
    close = [c * 1.002 for c in champion]  # 0.2% worse
    for values, expected in ((worse, False), (close, True)):
        cmp = paired_bootstrap(values, champion, seed=0)
        ok, reason, *_ = judge_relative(gate, "m", "champion", cmp, greater_is_better=False)
        assert ok is expected
        assert reason.startswith(
            f"rmse: m {cmp['mean']:.4g} vs champion {cmp['reference_mean']:.4g}"
        )
    # greater-is-better: a 3% drop in AUC fails a 1% allowance, a 3% gain passes "better than"
    auc = [0.80, 0.82, 0.81, 0.79, 0.83]
    drop = paired_bootstrap([a * 0.97 for a in auc], auc, seed=0)
    assert not judge_relative(
        parse_gate("roc_auc not worse than baseline by 1%"), "m", "b", drop, True
    )[0]
    gain = paired_bootstrap([a * 1.03 for a in auc], auc, seed=0)
    assert judge_relative(parse_gate("roc_auc better than baseline"), "m", "b", gain, True)[0]
    assert not judge_relative(parse_gate("roc_auc better than baseline"), "m", "b", drop, True)[0]


def test_bootstrap_interval_matches_a_direct_resampling():
    import numpy as np

    a, b = np.array([3.0, 5.0, 4.0, 6.0]), np.array([2.0, 5.0, 3.0, 3.0])
    r = paired_bootstrap(a, b, n_boot=500, seed=7, confidence=0.9)
    idx = np.random.default_rng(7).integers(0, 4, size=(500, 4))
    d = (a - b)[idx].mean(axis=1)
    assert r["ci_low"] == pytest.approx(np.percentile(d, 5)) and r["ci_high"] == pytest.approx(
        np.percentile(d, 95)
    )
    assert r["diff"] == pytest.approx((a - b).mean())


def test_reason_names_what_the_bootstrap_resampled():
    gate = parse_gate("rmse not worse than champion by 1%")
    cmp = paired_bootstrap([10.5, 11.6, 12.4], [10.0, 11.0, 12.0], seed=0)
    plain = judge_relative(gate, "m", "champion", cmp, greater_is_better=False)[1]
    assert "paired bootstrap" not in plain  # a bare comparison says nothing about its units
    rows = judge_relative(
        gate, "m", "champion", {**cmp, "unit": "rows", "n": 1200, "n_folds": 5}, False
    )[1]
    assert "95% CI [" in rows and ", paired bootstrap over 1200 rows of 5 folds)" in rows
    folds = judge_relative(gate, "m", "champion", {**cmp, "unit": "folds", "n_folds": 3}, False)[1]
    assert ", paired bootstrap over 3 folds)" in folds
    # the verdict depends on the interval only, not on how it is labelled
    assert (
        judge_relative(gate, "m", "champion", cmp, False)[0]
        == judge_relative(
            gate, "m", "champion", {**cmp, "unit": "rows", "n": 1200, "n_folds": 5}, False
        )[0]
    )


def test_gate_base_text_names_the_missing_method():
    class Custom(Gate):
        metric, model = "mae", None

    # a gate kind without text() cannot even be built, so it never reaches a report
    with pytest.raises(TypeError, match="Custom.*text"):
        _ = parse_gate(Custom()).name
