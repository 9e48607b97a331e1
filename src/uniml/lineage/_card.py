"""Model cards: a JSON document and its Markdown rendering, logged with every fitted model.

Sections: model details, intended use (set with ``enable(intended_use=...)``),
training data (fingerprint, schema, size, source), parameters, metrics,
explanation summary (top drivers by global importance), limitations, and the
lineage ids tying the card to its MLflow run.

Examples
--------
>>> card = {"model_details": {"adapter": "lightgbm.regressor", "task": "regression"},
...         "intended_use": "demo", "limitations": None,
...         "training_data": {"fingerprint": "ab" * 32, "n_rows": 10, "n_columns": 2,
...                           "schema": {"columns": [{"name": "a", "dtype": "float64"}]}},
...         "parameters": {"n_estimators": 5}, "metrics": {"train_rmse": 0.5},
...         "explanation": {"kind": "tree_shap", "top_drivers": [{"feature": "a", "importance": 1.0}]},
...         "lineage": {"run_id": "r1"}}
>>> print(render_markdown(card).splitlines()[0])
# Model card: lightgbm.regressor
"""

from __future__ import annotations

import json

__all__ = ["render_markdown", "top_drivers"]

NOT_SET = "_not set_ (pass `intended_use=` / `limitations=` to `uniml.lineage.enable`)"


def top_drivers(explanation, n: int = 10) -> list[dict]:
    """The ``n`` features with the largest global importance of an :class:`uniml.Explanation`.

    Parameters
    ----------
    explanation : uniml.Explanation
    n : int

    Returns
    -------
    list of dict
        ``{"feature": str, "importance": float}``, most important first.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> m = uniml.make("lightgbm.regressor", n_estimators=10, verbose=-1).fit(X, 3 * X[:, 1])
    >>> top_drivers(m.explain(X), n=1)[0]["feature"]
    'x1'
    """
    importance = explanation.importance
    if importance is None:
        return []
    if getattr(importance.index, "nlevels", 1) > 1:  # multi-output: sum over outputs
        importance = importance.groupby(level=-1).sum()
    importance = importance.sort_values(ascending=False, kind="stable").head(n)
    return [{"feature": str(k), "importance": float(v)} for k, v in importance.items()]


UNKNOWN = "_unknown_"


def _cell(value) -> str:
    """One Markdown table cell: ``|`` escaped, one line, None (a fact not known) as unknown."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return UNKNOWN
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(rows: list[tuple], header: tuple) -> list[str]:
    r"""A GitHub-flavoured Markdown table; every cell (header included) escaped by :func:`_cell`.

    Examples
    --------
    >>> print("\n".join(_table([("a", None)], ("mean |x|", "v"))))
    | mean \|x\| | v |
    |---|---|
    | a | _unknown_ |
    """
    out = ["| " + " | ".join(_cell(c) for c in header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return out


def render_markdown(card: dict) -> str:
    """Render a model card dict as Markdown.

    Parameters
    ----------
    card : dict

    Returns
    -------
    str
    """
    details = card.get("model_details", {})
    data = card.get("training_data", {})
    lines = [f"# Model card: {details.get('adapter', '?')}", "", "## Model details", ""]
    lines += _table(sorted(details.items()), ("field", "value"))
    lines += ["", "## Intended use", "", card.get("intended_use") or NOT_SET]
    lines += ["", "## Training data", ""]
    lines += _table(
        [(k, data.get(k)) for k in ("fingerprint", "n_rows", "n_columns", "source") if k in data],
        ("field", "value"),
    )
    columns = (data.get("schema") or {}).get("columns", [])
    if columns:
        lines += ["", "Schema:", ""]
        lines += _table(
            [
                (c.get("name"), c.get("dtype"), ", ".join(map(str, c.get("categories", []))))
                for c in columns
            ],
            ("column", "dtype", "categories"),
        )
    lines += ["", "## Parameters", ""]
    lines += _table(sorted(card.get("parameters", {}).items()), ("parameter", "value"))
    lines += ["", "## Metrics (in-sample; the evaluation harness logs held-out ones)", ""]
    metrics = card.get("metrics", {})
    lines += _table(sorted(metrics.items()), ("metric", "value")) if metrics else ["_none_"]
    explanation = card.get("explanation") or {}
    lines += ["", "## Explanation summary", ""]
    if explanation.get("top_drivers"):
        lines += [
            f"Kind: `{explanation.get('kind')}`, on {explanation.get('n_rows')} training rows.",
            "",
        ]
        lines += _table(
            [(d["feature"], f"{d['importance']:.6g}") for d in explanation["top_drivers"]],
            ("top driver", "mean |contribution|"),
        )
    else:
        lines += [f"_not available_: {explanation.get('error', 'no explanation')}"]
    lines += ["", "## Limitations and caveats", "", card.get("limitations") or NOT_SET]
    lines += ["", "## Lineage", ""]
    lines += _table(sorted(card.get("lineage", {}).items()), ("id", "value"))
    lines += ["", "<!-- machine-readable: model_card.json -->", ""]
    return "\n".join(lines)


def dumps(card: dict) -> str:
    """The card as indented JSON (non-JSON values as strings)."""
    return json.dumps(card, indent=2, default=str)
