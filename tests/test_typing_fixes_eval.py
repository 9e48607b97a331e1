"""Behaviour kept by the typing fixes in uniml.evaluation, uniml.lineage and uniml.testing."""

from __future__ import annotations

import pytest

from uniml.evaluation import splitters
from uniml.evaluation._bootstrap import RowBootstrap
from uniml.evaluation._report import EvalReport
from uniml.evaluation.gates import Gate, parse_gate
from uniml.evaluation.spec import build_protocol, lineage_settings, parse_spec
from uniml.testing.recommendation import make_interaction_data

SPEC = (
    "task: regression\ndata: {path: d.csv, target: y}\ncandidates: [{adapter: statsmodels.ols}]\n"
)


def test_gate_base_text_names_the_missing_method():
    class Custom(Gate):
        metric, model = "mae", None

    # a gate kind without text() cannot even be built, so it never reaches a report
    with pytest.raises(TypeError, match="Custom.*text"):
        _ = parse_gate(Custom()).name


def test_eval_report_stays_unhashable():
    report = EvalReport.example()
    assert report == EvalReport.example()
    with pytest.raises(TypeError, match="unhashable"):
        hash(report)


def test_build_protocol_knows_every_protocol_kind():
    from uniml.evaluation.spec import SpecError

    with pytest.raises(SpecError) as info:
        build_protocol(parse_spec(SPEC + "protocol: {kind: bootstrap}\n"))
    assert str(info.value).endswith(
        "one of group_kfold, kfold, leave_out, rolling_origin, stratified_kfold, time_series_split"
    )
    spec = parse_spec(SPEC + "protocol: {kind: time_series_split, n_splits: 2}\n")
    assert build_protocol(spec).kind == "time_series_split"


def test_lineage_settings_default_tracking_uri():
    spec = parse_spec(SPEC + "lineage: true\n")
    assert lineage_settings(spec).tracking_uri is None


def test_sklearn_splits_use_their_own_seed_before_the_evaluation_seed():
    import numpy as np

    X, y = np.zeros((10, 1)), np.zeros(10)
    own = splitters.KFold(n_splits=2, random_state=1).split_arrays(X, y, random_state=2)
    same = splitters.KFold(n_splits=2).split_arrays(X, y, random_state=1)
    assert [f.test.tolist() for f in own] == [f.test.tolist() for f in same]
    # GroupKFold has no random_state attribute: the evaluation's seed is passed on unused
    folds = splitters.GroupKFold(groups=[0, 0, 1, 1], n_splits=2).split_arrays(
        X[:4], y[:4], random_state=3
    )
    assert sorted(f.test.tolist() for f in folds) == [[0, 1], [2, 3]]


def test_row_bootstrap_supports_needs_a_kernel_on_every_fold():
    boot = RowBootstrap({0: [0, 1], 1: [0, 1]}, n_boot=2)
    assert not boot.supports("m", "rmse")  # never registered
    boot.add("m", "rmse", 0, object())
    boot.add("m", "rmse", 1, None)
    assert not boot.supports("m", "rmse")
    boot.add("m", "rmse", 1, object())
    assert boot.supports("m", "rmse")


def test_make_interaction_data_keeps_its_groups():
    data = make_interaction_data(n_users=6, n_items=8, per_user=2, n_groups=2)
    assert set(data.groups) == {"user", "item"}
    assert data.groups["user"].index.tolist() == [f"u{i}" for i in range(6)]
    assert len(data.frame) == 12
