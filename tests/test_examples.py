"""Every example spec in docs/examples runs through ``uniml eval`` and passes its gates."""

from __future__ import annotations

import importlib.util
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import uniml
from uniml.cli import cli
from uniml.evaluation.spec import build_data, load_spec, read_frame

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SPECS = sorted(EXAMPLES.glob("*.yaml"))
TASKS = ("regression", "classification", "forecasting", "causal", "recommendation")


class _Plots(HTMLParser):
    def __init__(self):
        super().__init__()
        self.plots = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure" and "data-plot" in attrs:
            self.plots.append(attrs["data-plot"])


def test_one_example_per_task_kind():
    assert sorted(load_spec(s).task for s in SPECS) == sorted(TASKS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_example_runs_through_the_cli_and_passes(spec, tmp_path):
    html, js = tmp_path / "report.html", tmp_path / "report.json"
    result = CliRunner().invoke(
        cli, ["eval", str(spec), "--report", str(html), "--json", str(js)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    parsed = load_spec(spec)
    report = uniml.EvalReport.from_json(js.read_text())
    assert report.task == parsed.task and report.passed
    # every candidate was scored next to at least one baseline, and every gate judged
    assert {c.label for c in parsed.candidates} <= set(report.leaderboard.index)
    assert "baseline" in set(report.leaderboard["role"])
    assert len(report.gates) >= len(parsed.gates) and all(g.passed for g in report.gates)
    if parsed.metrics:
        assert report.metrics[: len(parsed.metrics)] == parsed.metrics
    page = _Plots()
    page.feed(html.read_text(encoding="utf-8"))
    assert "fold-metrics" in page.plots and len(page.plots) >= 2  # per-fold + the task's own plots


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_example_data_is_small_and_satisfies_its_contract(spec):
    parsed = load_spec(spec)
    path = parsed.resolve(parsed.data.path)
    assert path.stat().st_size < 200 * 1024
    frame = read_frame(parsed)
    data = build_data(parsed, frame)
    contract = {
        "regression": "TabularData",
        "classification": "TabularData",
        "forecasting": "ForecastData",
        "causal": "CausalData",
        "recommendation": "InteractionData",
    }[parsed.task]
    assert type(data).__name__ == contract and len(data) == len(frame) > 100


def test_data_files_are_what_make_data_generates(tmp_path):
    module_spec = importlib.util.spec_from_file_location("make_data", EXAMPLES / "make_data.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert written == sorted(p.name for p in EXAMPLES.glob("*.csv"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name
