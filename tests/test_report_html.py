"""The HTML report: self-contained, every plot inline SVG, gates and reasons shown, user text escaped.

The structural checks run in pytest (no browser needed); ``tools/report_screenshot.py``
opens the same report in headless chromium and checks the plots really render.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from uniml.evaluation import EvalReport, GateResult, _html, _plots

EXPECTED_PLOTS = {
    "regression": {"fold-metrics", "predicted-vs-actual"},
    "classification": {"fold-metrics", "calibration", "roc"},
    "forecasting": {"fold-metrics", "backtest"},
    "causal": {"fold-metrics", "qini", "effect-vs-truth"},
    "recommendation": {"fold-metrics", "precision-at-k"},
}


class _Page(HTMLParser):
    """Collects tags, attributes and, per figure, the SVG elements it holds."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.figures: dict[str, list[str]] = {}
        self._figure = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "figure" and "data-plot" in attrs:
            self._figure = attrs["data-plot"]
            self.figures[self._figure] = []
        elif self._figure is not None:
            self.figures[self._figure].append(tag)

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _report(task: str, *, passed: bool = True, name: str = "cand", seed: int = 0) -> EvalReport:
    """A hand-built report with the predictions frame of ``task`` (shape as in the EvalReport contract)."""
    rng = np.random.default_rng(seed)
    models = {name: "candidate", "baseline_naive": "baseline", "champ": "champion"}
    metric, gib = {"regression": ("rmse", False), "classification": ("roc_auc", True),
                   "forecasting": ("mae", False), "causal": ("pehe", False),
                   "recommendation": ("ndcg@10", True)}[task]
    folds = [0, 1, 2]
    fold_scores = pd.DataFrame([(m, f, metric, float(rng.uniform(1, 2))) for m in models for f in folds],
                               columns=["model", "fold", "metric", "value"])
    means = fold_scores.groupby("model")["value"].agg(["mean", "std"])
    board = pd.DataFrame({"role": [models[m] for m in means.index], f"{metric}_mean": means["mean"],
                          f"{metric}_std": means["std"]}, index=pd.Index(means.index, name="model"))
    board = board.sort_values(f"{metric}_mean", ascending=not gib)
    n = 120
    frames = []
    for m in models:
        if task in ("regression", "classification"):
            y = rng.normal(size=n) if task == "regression" else rng.integers(0, 2, n)
            part = pd.DataFrame({"model": m, "fold": np.arange(n) % 3, "row": np.arange(n), "y_true": y})
            if task == "regression":
                part["y_pred"] = y + rng.normal(scale=0.5, size=n)
            else:
                part["proba"] = np.clip(0.5 * y + rng.uniform(0, 0.5, n), 0, 1)
                part["y_pred"] = (part["proba"] > 0.5).astype(int)
        elif task == "forecasting":
            rows = []
            for series in ("s0", "s1", "s2", "s3"):
                for origin in range(3):
                    times = pd.date_range("2024-01-01", periods=30, freq="D")[20 + origin * 3: 23 + origin * 3]
                    truth = np.sin(np.arange(len(times)))
                    pred = truth + rng.normal(scale=0.2, size=len(times))
                    rows.append(pd.DataFrame({"model": m, "origin": times[0] - pd.Timedelta(days=1),
                                              "series": series, "time": times, "y_true": truth, "y_pred": pred,
                                              "lower": pred - 1, "upper": pred + 1}))
            part = pd.concat(rows, ignore_index=True)
        elif task == "causal":
            t = rng.integers(0, 2, n)
            true = rng.normal(size=n)
            part = pd.DataFrame({"model": m, "fold": np.arange(n) % 3, "row": np.arange(n), "treatment": t,
                                 "outcome": true * t + rng.normal(size=n),
                                 "effect": true + rng.normal(scale=0.3, size=n), "true_effect": true})
        else:
            ks = [1, 3, 5, 10]
            part = pd.DataFrame([(m, f, k, 0.5 / k, min(1.0, 0.1 * k), 0.3) for f in folds for k in ks],
                                columns=["model", "fold", "k", "precision", "recall", "ndcg"])
        frames.append(part)
    comparisons = pd.DataFrame({"model": [name, name], "reference": ["baseline_naive", "champ"],
                                "metric": [metric, metric], "diff": [-0.3, 0.1], "ci_low": [-0.5, -0.1],
                                "ci_high": [-0.1, 0.3], "confidence": [0.95, 0.95]})
    gates = [GateResult(f"{metric} not worse than champion by 1%", passed, f"{metric}: {name} vs champ, reason "
                        f"text {seed}", name, metric, 0.1, 0.01, -0.1, 0.3)]
    return EvalReport(task=task, protocol={"kind": "kfold", "n_splits": 3}, metrics=[metric],
                      greater_is_better={metric: gib}, roles=models, params={m: {"alpha": 1.0} for m in models},
                      fold_scores=fold_scores, leaderboard=board, comparisons=comparisons, gates=gates,
                      passed=passed, predictions=pd.concat(frames, ignore_index=True), duration=1.5,
                      random_state=0, n_jobs=1)


@pytest.mark.parametrize("task", sorted(EXPECTED_PLOTS))
def test_every_plot_is_inline_svg_and_nothing_is_fetched(task, tmp_path):
    path = _report(task).to_html(tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    page = _parse(text)
    assert set(page.figures) == EXPECTED_PLOTS[task]
    for key, inner in page.figures.items():
        assert "svg" in inner, key
        # a drawn figure, not an empty frame: matplotlib draws lines / markers as <path> / <use>
        assert inner.count("path") + inner.count("use") > 10, key
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    for tag, attrs in page.tags:
        for attr in ("src", "href", "xlink:href"):
            value = attrs.get(attr)
            assert value is None or value.startswith("#") or value.startswith("data:"), (tag, attr, value)
    assert "url(http" not in text and "@import" not in text


@pytest.mark.parametrize("passed", [True, False])
def test_banner_gates_reasons_and_leaderboard(passed, tmp_path):
    report = _report("regression", passed=passed, seed=3)
    page = _parse(report.to_html(tmp_path / "r.html").read_text(encoding="utf-8"))
    verdict = [attrs for tag, attrs in page.tags if attrs.get("id") == "verdict"]
    assert verdict and ("passed" if passed else "failed") in verdict[0]["class"]
    text = " ".join(page.text)
    assert ("PASSED" if passed else "FAILED") in text
    assert report.gates[0].reason in text
    # every model of the leaderboard, with its mean formatted as in the table
    for name, row in report.leaderboard.iterrows():
        assert name in text
        assert f"{row['rmse_mean']:.4g}" in text
    # the comparison interval is shown
    assert "[-0.5, -0.1]" in text


def test_user_strings_are_escaped(tmp_path):
    evil = "<script>alert('x')</script>$a$&"
    report = _report("classification", name=evil)
    report.params[evil] = {"note": "</pre><b>bold</b>"}
    text = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    page = _parse(text)
    assert "script" not in [tag for tag, _ in page.tags]
    assert any(evil in chunk for chunk in page.text)  # shown literally, round-tripped by the parser


def test_without_matplotlib_the_report_still_renders(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    text = _report("regression").to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    page = _parse(text)
    assert not page.figures and "<svg" not in text
    assert "matplotlib is not installed" in text
    assert "Leaderboard" in text and "PASSED" in text


def test_render_from_json_round_trip_matches(tmp_path):
    report = _report("forecasting")
    again = EvalReport.from_json(report.to_json())
    first = _html.render_text(report, when="fixed")
    second = _html.render_text(again, when="fixed")
    # the same numbers and figures whichever way the report came (SVG ids are salted per render)
    assert _parse(first).figures.keys() == _parse(second).figures.keys()
    assert [t for t in _parse(first).text if "svg" not in t][:40] == [t for t in _parse(second).text
                                                                     if "svg" not in t][:40]


def test_qini_curve_against_a_direct_count():
    rng = np.random.default_rng(1)
    n = 200
    effect, t, y = rng.normal(size=n), rng.integers(0, 2, n), rng.normal(size=n)
    x, q = _plots.qini_curve(effect, t, y)
    order = np.argsort(-effect, kind="stable")
    for k in (10, 50, 200):
        top = order[:k]
        n_t, n_c = t[top].sum(), (1 - t[top]).sum()
        expected = y[top][t[top] == 1].sum() - y[top][t[top] == 0].sum() * n_t / n_c
        assert q[np.searchsorted(x, k / n)] == pytest.approx(expected)
