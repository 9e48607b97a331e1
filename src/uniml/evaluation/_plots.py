"""The report's figures: matplotlib drawn off-screen and returned as inline SVG text.

Every function takes an evaluation report (see :class:`uniml.EvalReport`) and
returns a list of :class:`Plot` (a title, a short caption and the ``<svg>``
markup), or an empty list when the report holds nothing to draw. Figures are
built on :class:`matplotlib.figure.Figure` directly, never through
``pyplot``: no global backend is switched, no window can open, and rendering
works in a thread or a notebook without side effects. Matplotlib is imported
only inside these functions; :func:`plots_for` raises ``ImportError`` when it
is missing and the HTML renderer says so in the report.

Examples
--------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> scores = pd.DataFrame({"model": ["a", "a", "b", "b"], "fold": [0, 1, 0, 1],
...                        "metric": "rmse", "value": [1.0, 1.2, 2.0, 2.1]})
>>> report = SimpleNamespace(task="regression", metrics=["rmse"], fold_scores=scores,
...                          predictions=None, roles={"a": "candidate", "b": "baseline"},
...                          greater_is_better={"rmse": False})
>>> [p.key for p in plots_for(report)]
['fold-metrics']
>>> plots_for(report)[0].svg.startswith("<svg")
True
"""

from __future__ import annotations

import io
from dataclasses import dataclass

__all__ = ["Plot", "plots_for"]

#: at most this many models get their own line / panel in a figure
_MAX_MODELS = 6
#: forecasting: at most this many series are drawn
_MAX_SERIES = 3
#: points drawn in a scatter (a random, seeded sample above that)
_MAX_POINTS = 2000

_ROLE_STYLE = {"baseline": ":", "champion": "--", "candidate": "-"}
#: colour-blind-safe qualitative palette (Okabe & Ito), far apart in hue and lightness: two
#: series of one plot never get near-identical colours, and a model keeps its colour across plots
_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _colours(models: list[str]) -> dict[str, tuple[str, str]]:
    """``model -> (colour, marker)``, in the given order."""
    return {
        m: (_PALETTE[i % len(_PALETTE)], _MARKERS[i % len(_MARKERS)]) for i, m in enumerate(models)
    }


@dataclass(frozen=True)
class Plot:
    """One figure of the report.

    Parameters
    ----------
    key : str
        Stable identifier (``"fold-metrics"``, ``"roc"``...), used as the HTML
        ``data-plot`` attribute.
    title : str
        Heading shown above the figure.
    caption : str
        One sentence saying how to read it.
    svg : str
        The ``<svg>`` element, without XML prolog.

    Examples
    --------
    >>> Plot("k", "Title", "How to read it.", "<svg></svg>").key
    'k'
    """

    key: str
    title: str
    caption: str
    svg: str


def _figure(ncols: int = 1, width: float = 6.4, height: float = 3.6, nrows: int = 1):
    """A figure of ``nrows`` x ``ncols`` panels, each ``width`` x ``height`` inches; axes flattened."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    return fig, list(fig.subplots(nrows, ncols, squeeze=False).ravel())


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    # text stays text (smaller files, selectable, scales with the page)
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg") :].strip()


def _ordered_models(report) -> list[str]:
    """Models in leaderboard order (best first), capped, baselines and champion kept."""
    board = getattr(report, "leaderboard", None)
    if board is not None and len(board):
        names = [str(m) for m in board.index]
    else:
        names = list(dict.fromkeys(str(m) for m in report.fold_scores["model"]))
    roles = getattr(report, "roles", {}) or {}
    keep = [m for m in names if roles.get(m) in ("baseline", "champion")]
    rest = [m for m in names if m not in keep]
    chosen = set(rest[: max(_MAX_MODELS - len(keep), 1)] + keep)
    return [m for m in names if m in chosen]


def _label(text) -> str:
    """A legend / title text shown literally: a ``$`` would start matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _style(report, model: str) -> str:
    return _ROLE_STYLE.get((getattr(report, "roles", {}) or {}).get(model, "candidate"), "-")


def _best_candidate(report, models: list[str]) -> str:
    roles = getattr(report, "roles", {}) or {}
    for m in models:
        if roles.get(m, "candidate") == "candidate":
            return m
    return models[0]


def _sample(frame, n: int = _MAX_POINTS):
    return frame if len(frame) <= n else frame.sample(n, random_state=0)


def fold_metrics(report) -> list[Plot]:
    """Per-fold value of each metric (up to three), one line per model.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> scores = pd.DataFrame({"model": ["a", "a"], "fold": [0, 1], "metric": "mae", "value": [1.0, 2.0]})
    >>> fold_metrics(SimpleNamespace(metrics=["mae"], fold_scores=scores, roles={}))[0].title
    'Per-fold metrics'
    """
    scores = report.fold_scores
    if scores is None or not len(scores):
        return []
    metrics = [m for m in report.metrics if m in set(scores["metric"])][:3]
    if not metrics:
        return []
    models = _ordered_models(report)
    fig, axes = _figure(len(metrics), width=4.6 if len(metrics) > 1 else 6.4)
    for ax, metric in zip(axes, metrics, strict=True):
        part = scores[scores["metric"] == metric]
        folds = list(dict.fromkeys(part["fold"]))
        positions = {f: i for i, f in enumerate(folds)}
        for model in models:
            rows = part[part["model"].astype(str) == model]
            if not len(rows):
                continue
            ax.plot(
                [positions[f] for f in rows["fold"]],
                rows["value"].to_numpy(float),
                _style(report, model),
                marker="o",
                label=_label(model),
            )
        ax.set_xticks(range(len(folds)), [str(f) for f in folds])
        ax.set_xlabel("fold / origin")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    return [
        Plot(
            "fold-metrics",
            "Per-fold metrics",
            "Each point is one fold (or backtest origin); dotted lines are baselines, dashed the champion.",
            _svg(fig),
        )
    ]


def regression(report) -> list[Plot]:
    """Predicted against actual, and residuals against predicted, for the best candidate and the baseline.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> preds = pd.DataFrame({"model": "m", "fold": 0, "row": range(4), "y_true": [1.0, 2, 3, 4],
    ...                       "y_pred": [1.1, 2.2, 2.8, 4.1]})
    >>> scores = pd.DataFrame({"model": ["m"], "fold": [0], "metric": ["rmse"], "value": [0.1]})
    >>> [p.key for p in regression(SimpleNamespace(predictions=preds, fold_scores=scores, roles={}))]
    ['predicted-vs-actual']
    """
    preds = report.predictions
    if preds is None or not len(preds) or not {"y_true", "y_pred"} <= set(preds.columns):
        return []
    models = _ordered_models(report)
    shown = list(
        dict.fromkeys(
            [_best_candidate(report, models)]
            + [
                m
                for m in models
                if (getattr(report, "roles", {}) or {}).get(m) in ("baseline", "champion")
            ]
        )
    )[:3]
    fig, axes = _figure(2, width=4.6, height=3.8)
    lo = float(min(preds["y_true"].min(), preds["y_pred"].min()))
    hi = float(max(preds["y_true"].max(), preds["y_pred"].max()))
    for model in shown:
        part = _sample(preds[preds["model"].astype(str) == model])
        resid = part["y_true"].to_numpy(float) - part["y_pred"].to_numpy(float)
        axes[0].scatter(part["y_true"], part["y_pred"], s=8, alpha=0.5, label=_label(model))
        axes[1].scatter(part["y_pred"], resid, s=8, alpha=0.5, label=_label(model))
    axes[0].plot([lo, hi], [lo, hi], color="grey", lw=1)
    axes[0].set(xlabel="actual", ylabel="predicted (out of fold)", title="predicted vs actual")
    axes[1].axhline(0, color="grey", lw=1)
    axes[1].set(xlabel="predicted (out of fold)", ylabel="actual - predicted", title="residuals")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    return [
        Plot(
            "predicted-vs-actual",
            "Predicted vs actual, residuals",
            "Out-of-fold predictions; a good model hugs the diagonal and leaves residuals centred on 0 "
            "with no pattern.",
            _svg(fig),
        )
    ]


def classification(report) -> list[Plot]:
    """Calibration (reliability) curve and ROC curve, from out-of-fold probabilities.

    Binary tasks; a multiclass task gets the top-label calibration curve and the
    best candidate's confusion matrix instead.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> preds = pd.DataFrame({"model": "m", "fold": 0, "row": range(6), "y_true": [0, 0, 1, 1, 0, 1],
    ...                       "y_pred": [0, 0, 1, 1, 1, 1], "proba": [0.1, 0.3, 0.8, 0.7, 0.6, 0.9]})
    >>> scores = pd.DataFrame({"model": ["m"], "fold": [0], "metric": ["roc_auc"], "value": [0.9]})
    >>> [p.key for p in classification(SimpleNamespace(predictions=preds, fold_scores=scores, roles={}))]
    ['calibration', 'roc']
    """
    preds = report.predictions
    if preds is None or not len(preds):
        return []
    if "proba" not in preds.columns:
        return _multiclass(report) if "confidence" in preds.columns else []
    import numpy as np
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score, roc_curve

    models = _ordered_models(report)
    cal_fig, (cal,) = _figure(1, width=5.2, height=4.2)
    roc_fig, (roc,) = _figure(1, width=5.2, height=4.2)
    for model in models:
        part = preds[(preds["model"].astype(str) == model) & preds["proba"].notna()]
        if not len(part):
            continue
        y = part["y_true"].to_numpy()
        positive = np.sort(np.unique(y))[-1]
        y01 = (y == positive).astype(int)
        p = part["proba"].to_numpy(float)
        style = _style(report, model)
        if len(np.unique(y01)) == 2:
            frac, mean = calibration_curve(y01, p, n_bins=10, strategy="quantile")
            cal.plot(mean, frac, style, marker="o", ms=3, label=_label(model))
            fpr, tpr, _ = roc_curve(y01, p)
            roc.plot(fpr, tpr, style, label=f"{_label(model)} (AUC {roc_auc_score(y01, p):.3f})")
    cal.plot([0, 1], [0, 1], color="grey", lw=1)
    cal.set(
        xlabel="mean predicted probability",
        ylabel="observed frequency",
        title="calibration",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    roc.plot([0, 1], [0, 1], color="grey", lw=1)
    roc.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title="ROC",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    for ax in (cal, roc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return [
        Plot(
            "calibration",
            "Calibration curve",
            "Out-of-fold probabilities binned by quantile against the observed positive rate; "
            "the diagonal is perfect calibration.",
            _svg(cal_fig),
        ),
        Plot(
            "roc",
            "ROC curve",
            "Out-of-fold ROC per model; the diagonal is a random ranking.",
            _svg(roc_fig),
        ),
    ]


_MAX_CONFUSION_LABELS = 20


def _multiclass(report) -> list[Plot]:
    """Top-label calibration (every model) and the best candidate's confusion matrix.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> preds = pd.DataFrame({"model": "m", "fold": 0, "row": range(6), "y_true": list("abcabc"),
    ...                       "y_pred": list("abcaac"), "confidence": [.9, .8, .7, .6, .5, .9]})
    >>> scores = pd.DataFrame({"model": ["m"], "fold": [0], "metric": ["f1"], "value": [0.8]})
    >>> [p.key for p in _multiclass(SimpleNamespace(predictions=preds, fold_scores=scores, roles={}))]
    ['calibration', 'confusion']
    """
    import numpy as np
    import pandas as pd

    from uniml.evaluation.metrics.classification import reliability_bins

    preds = report.predictions
    models = _ordered_models(report)
    cal_fig, (cal,) = _figure(1, width=5.2, height=4.2)
    for model in models:
        part = preds[(preds["model"].astype(str) == model) & preds["confidence"].notna()]
        if not len(part):
            continue
        # the bins the ece metric is computed from
        count, mean, accuracy = reliability_bins(
            part["confidence"].to_numpy(float),
            part["y_true"].to_numpy() == part["y_pred"].to_numpy(),
        )
        filled = count > 0
        cal.plot(
            mean[filled],
            accuracy[filled],
            _style(report, model),
            marker="o",
            ms=3,
            label=_label(model),
        )
    cal.plot([0, 1], [0, 1], color="grey", lw=1)
    cal.set(
        xlabel="probability of the predicted label",
        ylabel="accuracy",
        title="top-label calibration",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    cal.grid(alpha=0.3)
    cal.legend(fontsize="small")
    plots = [
        Plot(
            "calibration",
            "Calibration curve (top label)",
            "Out-of-fold probability each model gave its predicted label, in the ten "
            "equal-width bins the ece metric uses, against how often that label was right; "
            "the diagonal is perfect calibration.",
            _svg(cal_fig),
        )
    ]

    best = _best_candidate(report, models)
    part = preds[preds["model"].astype(str) == best]
    labels = sorted(set(part["y_true"].tolist()) | set(part["y_pred"].tolist()), key=str)
    if not len(part) or len(labels) > _MAX_CONFUSION_LABELS:
        return plots
    counts = pd.crosstab(
        pd.Categorical(part["y_true"], categories=labels),
        pd.Categorical(part["y_pred"], categories=labels),
        dropna=False,
    ).to_numpy()
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    size = 1.6 + 0.6 * len(labels)
    fig, (ax,) = _figure(1, width=size + 1.2, height=size)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                str(counts[i, j]),
                ha="center",
                va="center",
                fontsize="small",
                color="white" if share[i, j] > 0.6 else "black",
            )
    ticks = [_label(v) for v in labels]
    ax.set_xticks(range(len(labels)), ticks, rotation=45 if len(labels) > 6 else 0)
    ax.set_yticks(range(len(labels)), ticks)
    ax.set(xlabel="predicted", ylabel="actual", title=f"confusion: {_label(best)}")
    fig.colorbar(image, ax=ax, label="share of the actual class")
    plots.append(
        Plot(
            "confusion",
            "Confusion matrix",
            f"Out-of-fold predictions of {best}: counts per actual (row) and predicted (column) "
            "label, shaded by the share of the row.",
            _svg(fig),
        )
    )
    return plots


def forecasting(report) -> list[Plot]:
    """Backtest forecasts against actuals, with interval bands, for a few series.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> t = pd.date_range("2024-01-01", periods=4, freq="D")
    >>> preds = pd.DataFrame({"model": "m", "origin": t[1], "series": "s", "time": t, "y_true": [1.0, 2, 3, 4],
    ...                       "y_pred": [1.0, 2, 3, 4], "lower": 0.0, "upper": 5.0})
    >>> scores = pd.DataFrame({"model": ["m"], "fold": [0], "metric": ["mae"], "value": [0.0]})
    >>> [p.key for p in forecasting(SimpleNamespace(predictions=preds, fold_scores=scores, roles={}))]
    ['backtest']
    """
    preds = report.predictions
    if preds is None or not len(preds) or not {"time", "y_true", "y_pred"} <= set(preds.columns):
        return []
    models = _ordered_models(report)
    best = _best_candidate(report, models)
    others = [m for m in models if m != best][:2]
    series_col = "series" if "series" in preds.columns else None
    keys = list(dict.fromkeys(preds[series_col])) if series_col else [None]
    keys = keys[:_MAX_SERIES]
    fig, axes = _figure(1, width=9.0, height=2.6, nrows=len(keys))
    colors = {m: f"C{i}" for i, m in enumerate([best, *others])}
    for ax, key in zip(axes, keys, strict=True):
        part = preds if key is None else preds[preds[series_col] == key]
        actual = part.drop_duplicates("time").sort_values("time")
        ax.plot(actual["time"], actual["y_true"], color="black", lw=1.2, label="actual")
        origins = list(dict.fromkeys(part["origin"])) if "origin" in part.columns else [None]
        for model in [best, *others]:
            rows = part[part["model"].astype(str) == model]
            for i, origin in enumerate(origins):
                seg = rows if origin is None else rows[rows["origin"] == origin]
                seg = seg.sort_values("time")
                if not len(seg):
                    continue
                ax.plot(
                    seg["time"],
                    seg["y_pred"],
                    _style(report, model),
                    color=colors[model],
                    lw=1.2,
                    label=_label(model) if i == 0 else None,
                )
                if (
                    model == best
                    and {"lower", "upper"} <= set(seg.columns)
                    and seg["lower"].notna().any()
                ):
                    ax.fill_between(
                        seg["time"],
                        seg["lower"].to_numpy(float),
                        seg["upper"].to_numpy(float),
                        color=colors[model],
                        alpha=0.2,
                        lw=0,
                        label="interval" if i == 0 else None,
                    )
        ax.set_title(_label(f"series {key}") if key is not None else "series")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small", ncol=4)
    n_series = len(dict.fromkeys(preds[series_col])) if series_col else 1
    shown = (
        f"the first {len(keys)} of {n_series} series" if n_series > len(keys) else "every series"
    )
    return [
        Plot(
            "backtest",
            "Backtest forecasts vs actuals",
            f"Each segment is the forecast made at one origin, for {shown}; the band is the "
            f"best candidate ({best})'s prediction interval.",
            _svg(fig),
        )
    ]


def causal(report) -> list[Plot]:
    """Qini (uplift) curve per model; with a known true effect, estimated against true effect too.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> preds = pd.DataFrame({"model": "m", "fold": 0, "row": range(4), "treatment": [1, 0, 1, 0],
    ...                       "outcome": [5.0, 1, 2, 1], "effect": [3.0, 2, 1, 0], "true_effect": [3.0, 2, 1, 0]})
    >>> scores = pd.DataFrame({"model": ["m"], "fold": [0], "metric": ["pehe"], "value": [0.0]})
    >>> [p.key for p in causal(SimpleNamespace(predictions=preds, fold_scores=scores, roles={}))]
    ['qini', 'effect-vs-truth']
    """
    preds = report.predictions
    if (
        preds is None
        or not len(preds)
        or not {"treatment", "outcome", "effect"} <= set(preds.columns)
    ):
        return []
    import numpy as np

    from uniml.evaluation.metrics.causal import qini_curve

    models = _ordered_models(report)
    colours = _colours(models)
    out = []
    fig, (ax,) = _figure(1, width=6.4, height=4.0)
    binary = set(np.unique(preds["treatment"].to_numpy(float))) <= {0.0, 1.0}
    if binary:
        last = None
        for model in models:
            part = preds[preds["model"].astype(str) == model]
            if not len(part):
                continue
            n, q = qini_curve(part["effect"], part["treatment"], part["outcome"])
            ax.plot(
                n / n[-1], q, _style(report, model), color=colours[model][0], label=_label(model)
            )
            last = q[-1]
        if last is not None:
            ax.plot([0, 1], [0, last], color="grey", lw=1, label="random targeting")
        ax.set(
            xlabel="fraction targeted (ranked by predicted effect)",
            ylabel="incremental outcome (Qini)",
            title="Qini curve",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        out.append(
            Plot(
                "qini",
                "Uplift (Qini) curve",
                "Rows ranked by predicted effect; the higher above the random-targeting line, the "
                "better the model finds who responds to treatment.",
                _svg(fig),
            )
        )
    if "true_effect" in preds.columns and preds["true_effect"].notna().any():
        fig, (ax,) = _figure(1, width=5.2, height=4.2)
        lo, hi = float(preds["true_effect"].min()), float(preds["true_effect"].max())
        for model in models:
            part = _sample(
                preds[(preds["model"].astype(str) == model) & preds["true_effect"].notna()]
            )
            if len(part):
                colour, marker = colours[model]
                ax.scatter(
                    part["true_effect"],
                    part["effect"],
                    s=10,
                    alpha=0.6,
                    color=colour,
                    marker=marker,
                    label=_label(model),
                )
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1)
        ax.set(xlabel="true effect", ylabel="estimated effect", title="estimated vs true effect")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        out.append(
            Plot(
                "effect-vs-truth",
                "Estimated vs true effect",
                "Per-row effect estimates against the known truth of the data; the diagonal is "
                "perfect (PEHE measures the spread around it).",
                _svg(fig),
            )
        )
    return out


def recommendation(report) -> list[Plot]:
    """Precision@k (and recall@k) curves, averaged over folds, one line per model.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> preds = pd.DataFrame({"model": "m", "fold": 0, "k": [1, 5, 10], "precision": [0.3, 0.2, 0.1],
    ...                       "recall": [0.1, 0.3, 0.4], "ndcg": [0.3, 0.3, 0.3]})
    >>> scores = pd.DataFrame({"model": ["m"], "fold": [0], "metric": ["ndcg@10"], "value": [0.3]})
    >>> [p.key for p in recommendation(SimpleNamespace(predictions=preds, fold_scores=scores, roles={}))]
    ['precision-at-k']
    """
    preds = report.predictions
    if preds is None or not len(preds) or not {"k", "precision"} <= set(preds.columns):
        return []
    models = _ordered_models(report)
    has_recall = "recall" in preds.columns
    fig, axes = _figure(2 if has_recall else 1, width=4.6 if has_recall else 6.4)
    for model in models:
        part = preds[preds["model"].astype(str) == model]
        if not len(part):
            continue
        curve = (
            part.groupby("k")[["precision", *(["recall"] if has_recall else [])]]
            .mean()
            .sort_index()
        )
        axes[0].plot(
            curve.index,
            curve["precision"],
            _style(report, model),
            marker="o",
            ms=3,
            label=_label(model),
        )
        if has_recall:
            axes[1].plot(
                curve.index,
                curve["recall"],
                _style(report, model),
                marker="o",
                ms=3,
                label=_label(model),
            )
    axes[0].set(xlabel="k", ylabel="precision@k", title="precision@k")
    if has_recall:
        axes[1].set(xlabel="k", ylabel="recall@k", title="recall@k")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    return [
        Plot(
            "precision-at-k",
            "Precision@k" + (" and recall@k" if has_recall else ""),
            "Held-out interactions found in each model's top k, averaged over folds.",
            _svg(fig),
        )
    ]


_TASK_PLOTS = {
    "regression": regression,
    "classification": classification,
    "forecasting": forecasting,
    "causal": causal,
    "recommendation": recommendation,
}


def plots_for(report) -> list[Plot]:
    """Every figure for ``report``: per-fold metrics, then the task's own plots.

    Parameters
    ----------
    report : EvalReport
        Or any object with the same attributes (``task``, ``metrics``,
        ``fold_scores``, ``predictions``, ``roles``).

    Returns
    -------
    list of Plot

    Raises
    ------
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> scores = pd.DataFrame({"model": ["a"], "fold": [0], "metric": ["rmse"], "value": [1.0]})
    >>> len(plots_for(SimpleNamespace(task="regression", metrics=["rmse"], fold_scores=scores,
    ...                               predictions=None, roles={})))
    1
    """
    import matplotlib  # noqa: F401  (fail early, before any work, when it is missing)

    plots = fold_metrics(report)
    task = str(getattr(report, "task", ""))
    if task in _TASK_PLOTS:
        plots += _TASK_PLOTS[task](report)
    return plots
