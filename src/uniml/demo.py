"""The main demo: every installed adapter on bundled data, measured, explained, saved and reloaded.

Run it with ``python -m uniml.demo [--out DIR]``. For every tabular adapter in
the catalog whose library is installed it:

1. fits on scikit-learn's bundled diabetes (regression) or breast-cancer
   (classification) data, inside 5-fold cross-validation, next to a naive
   baseline (mean / prior), and reports the metric with its spread;
2. refits on all data and explains it (top drivers);
3. saves it to ``DIR/models/<adapter>`` and reloads it, checking the reloaded
   model predicts bit for bit the same;
4. writes ``DIR/report.html`` (leaderboard and importance charts).

Examples
--------
>>> from uniml.demo import run
>>> report = run(out=__import__("tempfile").mkdtemp(), folds=2, only=["lightgbm.regressor"])
>>> report.name
'report.html'
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["main", "run"]


def _candidates(name: str, task: str) -> list[tuple[str, object]]:
    """(label, adapter) pairs to demo for one catalog entry."""
    import uniml

    if name == "sklearn.estimator":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if task == "regression":
            return [("sklearn Ridge", uniml.make(name, estimator=Ridge(alpha=0.1))),
                    ("sklearn RandomForest", uniml.make(name, estimator=RandomForestRegressor(
                        n_estimators=100, min_samples_leaf=5, random_state=0, n_jobs=1)))]
        return [("sklearn LogisticRegression", uniml.make(name, estimator=make_pipeline(
                    StandardScaler(), LogisticRegression(max_iter=2000)))),
                ("sklearn RandomForest", uniml.make(name, estimator=RandomForestClassifier(
                    n_estimators=100, random_state=0, n_jobs=1)))]
    params = {"n_estimators": 200, "learning_rate": 0.05, "random_state": 0, "n_jobs": 1}
    if name.startswith("lightgbm"):
        params.update(num_leaves=15, min_child_samples=10)
    else:
        params.update(max_depth=4)
    return [(name, uniml.make(name, **params))]


def _baseline(task: str):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    import uniml

    est = DummyRegressor() if task == "regression" else DummyClassifier(strategy="prior")
    return uniml.make("sklearn.estimator", estimator=est)


def _png(explanation, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = explanation.plot(top=10)
    ax.set_title(title)
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=90)
    plt.close(ax.figure)
    return base64.b64encode(buf.getvalue()).decode()


def run(out: str | Path = "uniml-demo", folds: int = 5, only: list[str] | None = None,
        verbose: bool = False) -> Path:
    """Run the demo and return the path of the HTML report.

    Parameters
    ----------
    out : str or Path
        Output folder (created).
    folds : int
        Cross-validation folds.
    only : list of str, optional
        Restrict to these catalog names.
    verbose : bool
        Print progress.

    Returns
    -------
    Path
        ``out/report.html``.

    Examples
    --------
    >>> import tempfile
    >>> run(tempfile.mkdtemp(), folds=2, only=["xgboost.classifier"]).exists()
    True
    """
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    import uniml

    out = Path(out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    data = {
        "regression": load_diabetes(return_X_y=True, as_frame=True),
        "classification": load_breast_cancer(return_X_y=True, as_frame=True),
    }
    scoring = {
        "regression": {"rmse": "neg_root_mean_squared_error", "r2": "r2"},
        "classification": {"roc_auc": "roc_auc", "log_loss": "neg_log_loss"},
    }
    catalog = uniml.adapters()
    rows, sections = [], []
    for task in ("regression", "classification"):
        X, y = data[task]
        splitter = (KFold if task == "regression" else StratifiedKFold)(folds, shuffle=True, random_state=0)
        entries = catalog[catalog["installed"] & catalog["task"].str.contains(task)]
        candidates = [("baseline (naive)", _baseline(task))]
        for name in entries["name"]:
            if only is None or name in only:
                candidates += _candidates(name, task)
        for label, model in candidates:
            start = time.perf_counter()
            cv = cross_validate(model, X, y, cv=splitter, scoring=scoring[task])
            row = {"task": task, "model": label, "adapter": model.name}
            for metric in scoring[task]:
                values = cv[f"test_{metric}"] * (-1 if scoring[task][metric].startswith("neg_") else 1)
                row[metric] = values.mean()
                row[f"{metric}_sd"] = values.std(ddof=1)
            model.fit(X, y)
            folder = model.save(out / "models" / label.replace(" ", "_").replace("(", "").replace(")", ""),
                                overwrite=True)
            again = uniml.load(folder)
            row["reload_identical"] = bool(np.array_equal(model.predict(X), again.predict(X)))
            if label.startswith("baseline"):
                row["top_drivers"] = "-"
            else:
                exp = model.explain(X.head(200))
                row["top_drivers"] = ", ".join(map(str, exp.importance.index[:3]))
                try:
                    sections.append((f"{label} ({task}) — {exp.kind}", _png(exp, label)))
                except ImportError:
                    pass
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            if verbose:
                print(f"  {task:14s} {label:28s} done in {row['seconds']:.1f}s", file=sys.stderr)
    board = pd.DataFrame(rows)
    report = out / "report.html"
    report.write_text(_html(board, sections))
    board.to_csv(out / "leaderboard.csv", index=False)
    return report


def _html(board: pd.DataFrame, sections: list[tuple[str, str]]) -> str:
    tables = []
    for task, part in board.groupby("task", sort=False):
        tables.append(f"<h2>{html.escape(task)}</h2>" + part.dropna(axis=1, how="all").to_html(
            index=False, float_format=lambda v: f"{v:.4f}", border=0, classes="board"))
    figures = "".join(
        f"<figure><img alt='{html.escape(t)}' src='data:image/png;base64,{png}'><figcaption>{html.escape(t)}"
        f"</figcaption></figure>" for t, png in sections
    )
    import uniml

    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>uniml demo report</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}"
        "table.board{border-collapse:collapse}table.board td,table.board th{padding:4px 10px;"
        "border-bottom:1px solid #ddd;text-align:right}figure{display:inline-block;margin:1em}"
        "</style></head><body>"
        f"<h1>uniml demo</h1><p>uniml {html.escape(uniml.__version__)} — every installed tabular adapter, "
        "cross-validated next to a naive baseline on scikit-learn's bundled data, explained, saved and "
        "reloaded (reload_identical: predictions equal bit for bit).</p>"
        + "".join(tables) + "<h2>Explanations</h2>" + figures + "</body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m uniml.demo``; returns the exit code.

    Examples
    --------
    >>> import tempfile
    >>> main(["--out", tempfile.mkdtemp(), "--folds", "2", "--only", "lightgbm.regressor"])  # doctest: +ELLIPSIS
    <BLANKLINE>
    == regression
    ...
    report: ...report.html
    0
    """
    parser = argparse.ArgumentParser(prog="python -m uniml.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="uniml-demo", help="output folder (default: uniml-demo)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="catalog names to run (default: every installed adapter)")
    args = parser.parse_args(argv)
    report = run(args.out, folds=args.folds, only=args.only, verbose=True)
    board = pd.read_csv(Path(args.out) / "leaderboard.csv")
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 4):
        for task, part in board.groupby("task", sort=False):
            part = part.dropna(axis=1, how="all").drop(columns=["task", "adapter"])
            print(f"\n== {task}\n" + part.drop(columns=[c for c in part if c.endswith("_sd")]).to_string(index=False))
    print(f"\nreport: {report}")
    if not board["reload_identical"].all():
        print("some reloaded models did not reproduce their predictions", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
