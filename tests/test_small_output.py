"""Issue 15 item 10: small output problems a new user hit, one test each.

- the causal plots' series get clearly different colours;
- the demo's index page shows the same evaluation duration as each task's report
  ("all 1 gate passed" is covered by tests/test_report_gates_table.py);
- ``uniml adapters`` says "--all lists the rest" only when something is left out;
- MLflow's integer-schema hint and its artifact download bar never reach the terminal of a
  user who fits with lineage on and loads the logged model back (checked on a real SQLite store,
  in a separate process whose stderr is the user's terminal).
"""

import os
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
from click.testing import CliRunner

from uniml.cli import cli


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)]) / 255.0


def _series_colours(svg: str) -> list[str]:
    """Colours of data series in a matplotlib SVG (strokes and fills), greys/black/white left out."""
    found = re.findall(r"(?:stroke|fill):\s*(#[0-9a-fA-F]{6})", svg)
    out = []
    for c in found:
        r, g, b = _rgb(c)
        if max(r, g, b) - min(r, g, b) < 0.05:  # grey axis, grid, text, the diagonal
            continue
        if c.lower() not in out:
            out.append(c.lower())
    return out


def test_causal_plot_series_are_clearly_distinguishable():
    from uniml.evaluation._plots import causal

    rng = np.random.default_rng(0)
    n = 60
    rows = []
    for model in ("dml", "t_learner", "dr"):
        rows.append(
            pd.DataFrame(
                {
                    "model": model,
                    "fold": 0,
                    "row": range(n),
                    "treatment": rng.integers(0, 2, n),
                    "outcome": rng.normal(size=n),
                    "effect": rng.normal(size=n),
                    "true_effect": rng.normal(size=n),
                }
            )
        )
    preds = pd.concat(rows, ignore_index=True)
    scores = pd.DataFrame(
        {"model": ["dml", "t_learner", "dr"], "fold": 0, "metric": "pehe", "value": [1.0, 2, 3]}
    )
    report = SimpleNamespace(
        predictions=preds, fold_scores=scores, roles={"dr": "baseline"}, leaderboard=None
    )
    plots = {p.key: p for p in causal(report)}
    per_plot = {key: _series_colours(p.svg) for key, p in plots.items()}
    for key, colours in per_plot.items():
        assert len(colours) >= 3, (key, colours)
        rgb = [_rgb(c) for c in colours[:3]]
        gaps = [np.linalg.norm(a - b) for i, a in enumerate(rgb) for b in rgb[i + 1 :]]
        assert min(gaps) > 0.25, (key, colours)  # far apart, not two shades of one hue
    # a model keeps its colour from one causal plot to the next
    assert per_plot["qini"][:3] == per_plot["effect-vs-truth"][:3]
    # overlapping scatter clouds are told apart by shape too, not by colour alone
    defs = re.findall(r'<path id="[^"]+"\s+d="([^"]+)"', plots["effect-vs-truth"].svg)
    shapes = {d for d in defs if "z" in d}  # closed marker outlines (tick marks are open paths)
    assert len(shapes) >= 3, shapes


def test_report_and_index_page_show_the_same_evaluation_duration(tmp_path):
    """The demo's index page shows each task's evaluation time as its report does (same number,
    same rounding); the task's total time is a separate, labelled column."""
    import dataclasses

    from uniml.demo import DemoResult, TaskResult, _index
    from uniml.evaluation import EvalReport

    report = dataclasses.replace(EvalReport.example(), duration=12.3456)
    html_file = tmp_path / "regression.html"
    report.to_html(html_file)
    shown = re.search(r"<dt>duration</dt><dd>([0-9.]+ s)</dd>", html_file.read_text())
    assert shown is not None and shown.group(1) == "12.3 s"
    task = TaskResult("regression", report=report, html=html_file, best="good", seconds=20.0)
    index = _index(DemoResult(index=tmp_path / "index.html", tasks=[task]))
    cells = re.findall(r"<td>([0-9.]+ s)</td>", index)
    assert cells == ["12.3 s", "20.0 s"], cells


def test_adapters_mentions_all_only_when_something_is_left(monkeypatch):
    import uniml

    table = uniml.catalog()
    result = CliRunner().invoke(cli, ["adapters"])
    assert result.exit_code == 0
    if bool(table["installed"].all()):
        assert "--all lists the rest" not in result.output
    missing = table.assign(installed=[False] + [True] * (len(table) - 1))
    monkeypatch.setattr(uniml, "catalog", lambda: missing)
    result = CliRunner().invoke(cli, ["adapters"])
    assert "--all lists the rest" in result.output
    assert f"({len(table) - 1} of {len(table)}" in result.output
    result = CliRunner().invoke(cli, ["adapters", "--all"])
    assert "--all lists the rest" not in result.output


USER_SCRIPT = textwrap.dedent(
    """
    import sys
    import uniml
    from uniml import lineage
    from uniml.testing import make_tabular_data

    store = sys.argv[1]
    X, y = make_tabular_data("regression", n=80)  # int_c is an integer column
    assert str(X["int_c"].dtype).startswith("int")
    handle = lineage.enable(tracking_uri=f"sqlite:///{store}/mlflow.db", experiment="t",
                            spool=f"{store}/spool", artifact_location=f"{store}/artifacts")
    model = uniml.make("lightgbm.regressor", n_estimators=5, verbose=-1).fit(X, y)
    ref = lineage._mlflow._last_fit.result(timeout=120)
    lineage.flush()
    loaded = lineage.load_adapter(ref.model_uri, tracking_uri=f"sqlite:///{store}/mlflow.db")
    assert loaded.predict(X).equals(model.predict(X))
    handle.close()
    print("USER-DONE")
    """
)


def test_mlflow_noise_does_not_reach_the_users_terminal(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"}
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", USER_SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        start_new_session=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "USER-DONE" in proc.stdout
    terminal = proc.stdout + proc.stderr
    assert "Inferred schema contains integer" not in terminal
    assert "Downloading artifacts" not in terminal and "it/s]" not in terminal, terminal[-2000:]
