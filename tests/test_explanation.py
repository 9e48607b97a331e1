"""The Explanation type: validation, reconstruction, long format, per-output view, plots."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

import uniml
from uniml import Explanation


def _multi():
    cols = pd.MultiIndex.from_product([["a", "b"], ["x", "y"]])
    contrib = pd.DataFrame(
        [[1.0, 2.0, -1.0, 0.5], [0.0, 1.0, 2.0, 2.0]], columns=cols, index=["r1", "r2"]
    )
    base = pd.Series({"a": 0.5, "b": -0.5})
    pred = pd.DataFrame({"a": [3.5, 1.5], "b": [-1.0, 3.5]}, index=["r1", "r2"])
    return Explanation(contrib, base, "tree_shap", True, pred, space="margin")


def test_multi_output_reconstruction_and_views():
    e = _multi()
    assert e.is_multi_output and e.outputs == ["a", "b"]
    assert e.additivity_error() == 0.0
    b = e.for_output("b")
    assert b.contributions.columns.tolist() == ["x", "y"] and b.base_value == -0.5
    assert b.additivity_error() == 0.0
    long = e.to_frame()
    assert long.columns.tolist() == ["row", "output", "feature", "contribution"]
    assert len(long) == 8
    assert e.importance.index.tolist()[0] == "y"  # mean |contribution| across outputs


def test_validation():
    with pytest.raises(ValueError, match="unknown explanation kind"):
        Explanation(None, 0.0, "magic", False)
    with pytest.raises(ValueError, match="needs contributions and the prediction"):
        Explanation(pd.DataFrame({"x": [1.0]}), 0.0, "linear", True)
    global_only = Explanation(
        None, float("nan"), "permutation", False, importance=pd.Series({"x": 0.2, "y": 0.5})
    )
    with pytest.raises(ValueError, match="no per-row contributions"):
        global_only.reconstruction()


def test_additivity_error_detects_a_gap():
    e = Explanation(pd.DataFrame({"x": [1.0, 2.0]}), 1.0, "linear", True, pd.Series([2.0, 3.5]))
    assert e.additivity_error() == pytest.approx(0.5)


def test_plots_render(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    exp = (
        uniml.make("lightgbm.regressor", n_estimators=10, verbose=-1, n_jobs=1)
        .fit(X, y)
        .explain(X.head(20))
    )
    ax = exp.plot(top=5)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 6 and labels[0].startswith("other (5)")  # 5 shown + the rest summed
    ax.figure.savefig(tmp_path / "global.png")
    row = exp.plot(row=X.index[0])
    assert "base" in row.get_title()
    assert (tmp_path / "global.png").stat().st_size > 1000
    plt.close("all")
    with pytest.raises(ValueError, match="pick one output"):
        _multi().plot(row="r1")


def test_plot_height_follows_the_bars_drawn():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def height(n_features, top):
        frame = pd.DataFrame(np.ones((2, n_features)), columns=[f"f{i}" for i in range(n_features)])
        ax = Explanation(frame, 0.0, "linear", True, pd.Series([1.0 * n_features] * 2)).plot(
            top=top
        )
        assert len(ax.get_yticklabels()) == min(n_features, top) + (n_features > top)
        return ax.figure.get_size_inches()[1]

    one, three, capped = height(1, 15), height(3, 15), height(40, 15)
    plt.close("all")
    assert one < three < capped  # a 1-bar plot is not drawn at the height of 16 bars
    assert capped == pytest.approx(0.35 * 16 + 1.2)


def _global_only() -> Explanation:
    # what DoWhyEffect.explain(frame, refute=False) returns: no contributions, no importance
    return Explanation(None, 1.5, "refutation", False, tables={"estimate": pd.DataFrame()})


def test_to_frame_without_importance_is_an_empty_table():
    # used to raise AttributeError: 'NoneType' object has no attribute 'rename_axis'
    frame = _global_only().to_frame()
    assert frame.columns.tolist() == ["feature", "importance"]
    assert len(frame) == 0


def test_plot_without_importance_names_the_problem():
    # used to raise AttributeError: 'NoneType' object has no attribute 'iloc'
    matplotlib.use("Agg")
    with pytest.raises(ValueError, match="no global importance"):
        _global_only().plot()
