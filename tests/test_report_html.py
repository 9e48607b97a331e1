"""The HTML report: self-contained, every plot inline SVG, gates and reasons shown, user text escaped.

The structural checks run in pytest (no browser needed); ``tools/report_screenshot.py``
opens the same report in headless chromium and checks the plots really render.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser

import pytest

from uniml.evaluation import EvalReport, _html

EXPECTED_PLOTS = {
    "regression": {"fold-metrics", "predicted-vs-actual"},
    "classification": {"fold-metrics", "calibration", "roc"},
    "multiclass": {"fold-metrics", "calibration", "confusion"},
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


def _evaluate(task: str, name: str = "cand", gates=None) -> EvalReport:
    """A real, small ``uniml.evaluate`` report of ``task`` (one cheap candidate, the task's baselines)."""
    import uniml
    from uniml.evaluation import splitters

    if task == "regression":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True, as_frame=True)
        return uniml.evaluate(
            {name: uniml.make("statsmodels.ols")},
            (X, y),
            protocol=splitters.KFold(3),
            gates=gates,
            n_jobs=1,
            n_boot=200,
        )
    if task == "classification":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        X = X[[c for c in X.columns if c.startswith("mean ")]]
        return uniml.evaluate(
            {name: uniml.make("lightgbm.classifier", n_estimators=30, verbose=-1)},
            (X, y),
            protocol=splitters.StratifiedKFold(3),
            gates=gates,
            n_jobs=1,
            n_boot=200,
        )
    if task == "multiclass":
        from sklearn.datasets import load_wine

        X, y = load_wine(return_X_y=True, as_frame=True)
        return uniml.evaluate(
            {name: uniml.make("lightgbm.classifier", n_estimators=20, verbose=-1)},
            (X, y.map({0: "barolo", 1: "grignolino", 2: "barbera"})),
            protocol=splitters.StratifiedKFold(3),
            gates=gates,
            n_jobs=1,
            n_boot=200,
        )
    if task == "forecasting":
        from uniml.testing.forecasting import make_forecast_data

        frame = make_forecast_data(n_series=4, n=70, exog=False)
        data = uniml.ForecastData(frame, time="date", target="sales", series_id="store")
        return uniml.evaluate(
            {name: uniml.make("statsmodels.ets", trend="add")},
            data,
            protocol=splitters.RollingOrigin(horizon=7, n_origins=2),
            gates=gates,
            n_jobs=1,
            n_boot=200,
        )
    if task == "causal":
        from sklearn.linear_model import LinearRegression, LogisticRegression

        from uniml.testing.causal import make_causal_data

        data, truth = make_causal_data(n=400, seed=1)
        data = uniml.CausalData(
            data.frame.assign(tau=truth["cate"]),
            outcome="y",
            treatment="t",
            effect_modifiers=["x1", "x2"],
            confounders=["w1", "w2"],
        )
        model = uniml.make(
            "econml.dr",
            model_regression=LinearRegression(),
            model_propensity=LogisticRegression(),
            random_state=0,
        )
        return uniml.evaluate(
            {name: model},
            data,
            protocol=splitters.KFold(3),
            true_effect="tau",
            gates=gates,
            n_jobs=1,
            n_boot=200,
        )
    from uniml.testing.recommendation import make_interaction_data

    return uniml.evaluate(
        {name: uniml.make("lightfm.recommender", epochs=5, random_state=0)},
        make_interaction_data(),
        protocol=splitters.LeaveOut(n_splits=2),
        gates=gates,
        n_jobs=1,
        n_boot=200,
    )


@pytest.fixture(scope="module")
def reports():
    return {task: _evaluate(task) for task in EXPECTED_PLOTS}


@pytest.mark.parametrize("task", sorted(EXPECTED_PLOTS))
def test_every_plot_is_inline_svg_and_nothing_is_fetched(task, reports, tmp_path):
    path = reports[task].to_html(tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    page = _parse(text)
    assert set(page.figures) == EXPECTED_PLOTS[task]
    for key, inner in page.figures.items():
        assert "svg" in inner, key
        # a drawn figure, not an empty frame: matplotlib draws lines / markers as <path> / <use>
        assert inner.count("path") + inner.count("use") > 10, key
    tags = [tag for tag, _ in page.tags]
    assert (
        "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    )
    for tag, attrs in page.tags:
        for attr in ("src", "href", "xlink:href"):
            value = attrs.get(attr)
            assert value is None or value.startswith("#") or value.startswith("data:"), (
                tag,
                attr,
                value,
            )
    assert "url(http" not in text and "@import" not in text


@pytest.mark.parametrize("passed", [True, False])
def test_banner_gates_reasons_and_leaderboard(passed, tmp_path):
    report = _evaluate(
        "regression", gates=["rmse better than baseline", "rmse <= 70" if passed else "rmse <= 5"]
    )
    assert report.passed is passed
    page = _parse(report.to_html(tmp_path / "r.html").read_text(encoding="utf-8"))
    verdict = [attrs for tag, attrs in page.tags if attrs.get("id") == "verdict"]
    assert verdict and ("passed" if passed else "failed") in verdict[0]["class"]
    text = " ".join(page.text)
    assert ("PASSED" if passed else "FAILED") in text
    for gate in report.gates:  # every verdict with its reason
        assert gate.reason in text
    assert sum(attrs.get("class") == "gate failed" for tag, attrs in page.tags if tag == "tr") == (
        0 if passed else 1
    )
    # every model of the leaderboard, with its mean as the table shows it
    for name, row in report.leaderboard.iterrows():
        assert name in text
        assert f"{row['rmse_mean']:.4g}" in text
    # the comparison of the candidate with the baseline, with its interval
    comp = report.comparisons[report.comparisons["metric"] == "rmse"].iloc[0]
    assert f"[{comp['ci_low']:.4g}, {comp['ci_high']:.4g}]" in text


def test_user_strings_are_escaped(tmp_path):
    evil = "<script>alert('x')</script>$a$&"
    report = _evaluate("classification", name=evil)
    report.params[evil] = {"note": "</pre><b>bold</b>"}
    text = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    page = _parse(text)
    assert "script" not in [tag for tag, _ in page.tags]
    assert any(evil in chunk for chunk in page.text)  # shown literally, round-tripped by the parser


def test_without_matplotlib_the_report_still_renders(reports, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    text = reports["regression"].to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    page = _parse(text)
    assert not page.figures and "<svg" not in text
    assert "matplotlib is not installed" in text
    assert "Leaderboard" in text and "PASSED" in text


def test_render_from_json_round_trip_matches(reports):
    report = reports["forecasting"]
    again = EvalReport.from_json(report.to_json())
    first = _html.render_text(report, when="fixed")
    second = _html.render_text(again, when="fixed")
    # the same numbers and figures whichever way the report came (SVG ids are salted per render)
    assert _parse(first).figures.keys() == _parse(second).figures.keys()
    assert [t for t in _parse(first).text if "svg" not in t][:40] == [
        t for t in _parse(second).text if "svg" not in t
    ][:40]


def test_multiclass_confidence_and_confusion_counts_come_from_the_out_of_fold_predictions(
    reports, tmp_path
):
    """The confusion matrix annotates exactly the out-of-fold counts; confidence is P(predicted label)."""
    import pandas as pd

    report = reports["multiclass"]
    preds = report.predictions[report.predictions["model"] == "cand"]
    assert preds["confidence"].between(1 / 3, 1).all()  # the argmax of 3 classes is >= 1/3
    text = report.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    start = text.index('data-plot="confusion"')
    confusion = _Page()
    confusion.feed(text[start : text.index("</figure>", start)])
    cells = [t.strip() for t in confusion.text if t.strip()]
    counts = pd.crosstab(preds["y_true"], preds["y_pred"]).to_numpy()
    # every count is written in its cell (the 3 x 3 block of numbers, row by row)
    numbers = [int(t) for t in cells if t.isdigit()]
    assert any(numbers[i : i + 9] == counts.ravel().tolist() for i in range(len(numbers) - 8)), (
        numbers,
        counts,
    )
    assert {"barbera", "barolo", "grignolino"} <= set(cells)
