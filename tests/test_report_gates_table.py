"""The report's Gates table and number formatting (issue 15 items 5, 7, 10): model values in the
metric's units, the reference's value, a labelled relative difference, leaderboard order; mean and
std rounded to the same decimal place; "the gate passed" for a single gate."""

from __future__ import annotations

import html
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

import uniml
from uniml.evaluation import splitters
from uniml.evaluation._report import mean_pm
from uniml.testing import make_tabular_data


@pytest.fixture(scope="module")
def report():
    X, y = make_tabular_data("regression", n=120, seed=4)
    data = uniml.TabularData(X.assign(target=y), target="target")
    return uniml.evaluate(
        {
            "ridge": uniml.make("sklearn.estimator", estimator=Ridge(alpha=1.0)),
            "ols": uniml.make("statsmodels.ols"),
        },
        data,
        protocol=splitters.KFold(n_splits=2),
        gates=["rmse better than baseline", "ols: rmse <= 1000"],
        random_state=0,
        n_boot=200,
    )


def _gate_rows(page: str) -> tuple[list[str], list[list[str]]]:
    table = re.search(r'<table id="gates">(.*?)</table>', page, re.S).group(1)
    header = [
        html.unescape(re.sub("<[^>]+>", "", h)) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)
    ]
    rows = [
        [
            html.unescape(re.sub("<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in re.findall(r"<tr class=\"gate[^\"]*\">(.*?)</tr>", table, re.S)
    ]
    return header, rows


def test_gates_table_shows_values_in_units_with_a_labelled_relative_difference(report, tmp_path):
    page = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    header, rows = _gate_rows(page)
    assert header[4:7] == ["model value", "compared with", "difference [interval]"]
    board = report.leaderboard
    order = [m for m in board.index if m in {r[2] for r in rows}]
    assert [r[2] for r in rows if r[1].startswith("rmse better than baseline")] == [
        m for m in order if board.loc[m, "role"] == "candidate"
    ]
    baselines = board[board["role"] == "baseline"]["rmse_mean"].astype(float)
    for row in rows:
        model_value = float(row[4])
        assert math.isclose(model_value, board.loc[row[2], "rmse_mean"], rel_tol=1e-3)
        if row[1].startswith("rmse better than baseline"):
            ref_name, ref_value = row[5].rsplit(" ", 1)
            assert ref_name == baselines.idxmin()
            assert math.isclose(float(ref_value), baselines.min(), rel_tol=1e-3)
            # the difference is relative, in %, and agrees with the two values shown
            pct = float(re.match(r"([+-][\d.]+)%", row[6]).group(1))
            assert math.isclose(pct, (model_value / float(ref_value) - 1) * 100, abs_tol=0.2)
        else:
            assert row[5] == "limit <= 1000" and row[6] == "—"
    # the leaderboard order: rows sorted by the judged model's rank
    ranks = [list(board.index).index(r[2]) for r in rows]
    assert ranks == sorted(ranks)


def test_a_single_gate_reads_the_gate_passed(tmp_path):
    report = uniml.evaluation.EvalReport.example()
    assert len(report.gates) == 1
    page = report.to_html(tmp_path / "one.html").read_text(encoding="utf-8")
    verdict = re.search(r'id="verdict">(.*?)</div>', page).group(1)
    assert "all 1 gate" not in verdict and "the gate" in verdict


@given(
    st.floats(-1e5, 1e5, allow_nan=False),
    st.floats(1e-3, 1e4, allow_nan=False),
)
def test_mean_and_std_share_their_decimal_place(mean, std):
    m_text, s_text = mean_pm(mean, std)
    assert "e" not in m_text + s_text
    decimals = lambda t: len(t.split(".")[1]) if "." in t else 0  # noqa: E731
    assert decimals(m_text) == decimals(s_text)
    # std keeps at least two significant figures, and both round correctly
    step = 10 ** -decimals(s_text)
    assert (
        abs(float(s_text) - std) <= step / 2 + 1e-9 and abs(float(m_text) - mean) <= step / 2 + 1e-9
    )
    assert float(s_text) == 0 or std / step >= 9.5


def test_summary_uses_the_same_rounding(report):
    line = next(l for l in report.summary().splitlines() if l.strip().startswith("ridge"))  # noqa: E741
    mean, std = re.search(r"rmse=([^±]+)±([^,]+),", line).groups()
    assert (mean, std) == mean_pm(
        report.leaderboard.loc["ridge", "rmse_mean"], report.leaderboard.loc["ridge", "rmse_std"]
    )
