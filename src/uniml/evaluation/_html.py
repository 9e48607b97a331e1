"""The self-contained HTML evaluation report (what :meth:`uniml.EvalReport.to_html` writes).

One file, nothing fetched: the styles are inline, the figures are inline SVG
drawn by :mod:`uniml.evaluation._plots`, and there is no script. Every string
that came from the user (model names, parameters, gate expressions, reasons,
protocol values) is HTML-escaped. Without matplotlib the report still renders,
minus the figures, and says how to get them.

Examples
--------
>>> import tempfile, pathlib
>>> from uniml.evaluation import EvalReport
>>> path = render(EvalReport.example(), pathlib.Path(tempfile.mkdtemp()) / "report.html")
>>> text = path.read_text()
>>> "PASSED" in text and "<svg" in text and "<script" not in text
True
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from pathlib import Path

__all__ = ["render", "render_text"]

_CSS = """
:root{--ok:#1a7f37;--bad:#cf222e;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1180px;margin:0 auto;padding:1.5em 2em 3em}
h1{margin:.2em 0 .1em;font-size:1.7em}h2{margin-top:1.8em;border-bottom:1px solid var(--line);padding-bottom:.2em}
.banner{padding:.8em 1.2em;border-radius:6px;color:#fff;font-weight:600;font-size:1.15em;margin:1em 0}
.banner.passed{background:var(--ok)}.banner.failed{background:var(--bad)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1.2em;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
table{border-collapse:collapse;margin:.6em 0;font-size:.93em}
th,td{padding:.35em .8em;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{background:var(--bg);text-align:center}td.name,th.name,td.text{text-align:left}
td.reason{text-align:left;max-width:46em}
.badge{display:inline-block;padding:.05em .55em;border-radius:1em;font-size:.8em;font-weight:600;color:#fff}
.badge.candidate{background:#0969da}.badge.baseline{background:#6e7781}.badge.champion{background:#8250df}
.badge.pass{background:var(--ok)}.badge.fail{background:var(--bad)}
td.primary,th.primary{font-weight:600}tr.best td.name{font-weight:700}
.muted{color:var(--muted)}.note{background:#fff8c5;border:1px solid #d4a72c;padding:.6em 1em;border-radius:6px}
figure{margin:1.2em 0}figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:.9em;margin-top:.3em}
details{margin:.5em 0}pre{background:var(--bg);padding:.6em;border-radius:6px;overflow:auto;font-size:.85em}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value, digits: int = 4) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return _e(value) if value is not None else "—"
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}g}"


def _pm(mean, std) -> str:
    """``mean ± std`` at the same decimal place (:func:`mean_pm`); an unknown part as —."""
    from uniml.evaluation._report import mean_pm

    m_text, s_text = mean_pm(mean, std)
    if m_text == "nan":
        return "—"
    spread = "" if s_text == "nan" else f' <span class="muted">± {_e(s_text)}</span>'
    return f"{_e(m_text)}{spread}"


def _badge(kind: str) -> str:
    return f'<span class="badge {_e(kind)}">{_e(kind)}</span>'


def _header(report, when: str) -> str:
    from uniml._version import __version__

    verdict = "PASSED" if report.passed else "FAILED"
    n_gates = len(report.gates)
    n_failed = sum(not g.passed for g in report.gates)
    if n_gates == 1:
        detail = "the gate passed" if not n_failed else "the gate failed"
    else:
        detail = (
            f"all {n_gates} gates passed"
            if not n_failed
            else f"{n_failed} of {n_gates} gates failed"
        )
    if not n_gates:
        detail = "no gates were set"
    protocol = ", ".join(
        f"{_e(k)}={_e(v)}" for k, v in (report.protocol or {}).items() if v is not None
    )
    rows = [
        ("task", _e(report.task)),
        ("protocol", protocol or "—"),
        (
            "metrics",
            ", ".join(
                f"{_e(m)} ({'higher' if report.greater_is_better.get(m, False) else 'lower'} is better)"
                + (" — primary" if i == 0 else "")
                for i, m in enumerate(report.metrics)
            ),
        ),
        ("date", _e(when)),
        ("uniml", _e(__version__)),
        ("duration", f"{float(report.duration):.1f} s"),
        ("random_state", _e(report.random_state)),
        ("n_jobs", _e(report.n_jobs)),
    ]
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f"<h1>uniml evaluation: {_e(report.task)}</h1>"
        f'<div class="banner {verdict.lower()}" id="verdict">{verdict} — {_e(detail)}</div>'
        f'<dl class="meta">{meta}</dl>'
    )


def _leaderboard(report) -> str:
    board = report.leaderboard
    if board is None or not len(board):
        return "<h2>Leaderboard</h2><p class='muted'>No model was scored.</p>"
    metrics = [m for m in report.metrics if f"{m}_mean" in board.columns]
    head = "".join(
        f'<th class="{"primary" if i == 0 else ""}">{_e(m)} {"↑" if report.greater_is_better.get(m) else "↓"}</th>'
        for i, m in enumerate(metrics)
    )
    body = []
    for rank, (name, row) in enumerate(board.iterrows(), start=1):
        role = row.get("role", (report.roles or {}).get(name, "candidate"))
        cells = "".join(
            f'<td class="{"primary" if i == 0 else ""}">{_pm(row.get(f"{m}_mean"), row.get(f"{m}_std"))}</td>'
            for i, m in enumerate(metrics)
        )
        body.append(
            f'<tr class="{"best" if rank == 1 else ""}"><td>{rank}</td><td class="name">{_e(name)}</td>'
            f"<td>{_badge(role)}</td>{cells}</tr>"
        )
    return (
        "<h2>Leaderboard</h2>"
        "<p class='muted'>Mean ± standard deviation over folds (or backtest origins), best first by the "
        "primary metric.</p>"
        f'<table id="leaderboard"><thead><tr><th>#</th><th class="name">model</th><th>role</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _gate_reference(report, gate, spec) -> tuple[str, float | None]:
    """(name, mean) of what a relative gate compared with: the best baseline or a named model."""
    board = report.leaderboard
    column = f"{gate.metric}_mean"
    if board is None or column not in board.columns:
        return spec.reference, None
    if spec.reference == "baseline":
        roles = board["role"] if "role" in board.columns else None
        pool = board[roles == "baseline"] if roles is not None else board.iloc[0:0]
        if not len(pool):
            return "baseline", None
        values = pool[column].astype(float)
        best = values.idxmax() if report.greater_is_better.get(gate.metric) else values.idxmin()
        return str(best), float(values[best])
    if spec.reference == "champion" and "role" in board.columns:
        champ = board.index[board["role"] == "champion"]
        if len(champ):
            return str(champ[0]), float(board.loc[champ[0], column])
    if spec.reference in board.index:
        return spec.reference, float(board.loc[spec.reference, column])
    return spec.reference, None


def _gates(report) -> str:
    """The Gates table: each gate's model value and what it was compared with, in the metric's
    own units; a relative gate's difference and interval in % of the reference (absolute with an
    absolute margin); rows in leaderboard order."""
    from uniml.evaluation.gates import RelativeGate, parse_gate

    if not report.gates:
        return "<h2>Gates</h2><p class='muted'>No gates were set: the verdict is PASSED by definition.</p>"
    board = report.leaderboard
    order = {name: i for i, name in enumerate(board.index)} if board is not None else {}
    gates = sorted(enumerate(report.gates), key=lambda p: (order.get(p[1].model, len(order)), p[0]))
    rows = []
    for _, g in gates:
        try:
            spec = parse_gate(g.name)
        except Exception:
            spec = None
        column = f"{g.metric}_mean"
        actual = (
            board.loc[g.model, column]
            if board is not None and g.model in board.index and column in board.columns
            else None
        )
        if isinstance(spec, RelativeGate):
            ref_name, ref_value = _gate_reference(report, g, spec)
            compared = f"{_e(ref_name)} {_num(ref_value)}"
            pct = spec.relative
            unit = (lambda v: f"{float(v) * 100:+.1f}%") if pct else (lambda v: f"{float(v):+.4g}")
            diff = unit(g.value) if g.value is not None else "—"
            if g.ci_low is not None and g.ci_high is not None:
                diff += f" <span class='muted'>[{unit(g.ci_low)}, {unit(g.ci_high)}]</span>"
        else:
            op = getattr(spec, "op", "vs")
            compared = f"limit {_e(op)} {_num(g.threshold)}"
            actual = g.value if actual is None else actual
            diff = "—"
        verdict = _badge("pass") if g.passed else _badge("fail")
        rows.append(
            f'<tr class="gate {"passed" if g.passed else "failed"}"><td>{verdict}</td>'
            f'<td class="text"><code>{_e(g.name)}</code></td><td class="text">{_e(g.model)}</td>'
            f'<td class="text">{_e(g.metric)}</td><td>{_num(actual)}</td><td>{compared}</td>'
            f'<td>{diff}</td><td class="reason">{_e(g.reason)}</td></tr>'
        )
    return (
        "<h2>Gates</h2>"
        "<p class='muted'>Model value: the model's mean over folds, in the metric's units. A relative "
        "gate compares it with its reference; its difference and interval (at the gate's confidence) are "
        "relative (% of the "
        "reference) unless the gate sets an absolute margin. Rows in leaderboard order.</p>"
        '<table id="gates"><thead><tr><th>verdict</th><th class="name">gate</th><th class="name">model</th>'
        '<th class="name">metric</th><th>model value</th><th>compared with</th>'
        "<th>difference [interval]</th>"
        f'<th class="name">reason</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _comparison_rows(report, comp) -> str:
    rows = []
    for _, r in comp.iterrows():
        better = report.greater_is_better.get(r["metric"], False)
        low, high = float(r["ci_low"]), float(r["ci_high"])
        # a difference is clear when its interval excludes 0; say in which direction
        if low > 0 or high < 0:
            good = (low > 0) == bool(better)
            verdict = _badge("pass") if good else _badge("fail")
            word = "better" if good else "worse"
        else:
            verdict, word = "", "no clear difference"
        conf = r.get("confidence")
        rows.append(
            f'<tr><td class="name">{_e(r["model"])}</td><td class="text">{_e(r["reference"])}</td>'
            f'<td class="text">{_e(r["metric"])}</td><td>{_num(r["diff"])}</td>'
            f"<td>[{_num(low)}, {_num(high)}]</td><td>{_num(float(conf) * 100, 3) + '%' if conf is not None else '—'}"
            f'</td><td class="text">{verdict} {_e(word)}</td></tr>'
        )
    return (
        '<table class="comparisons"><thead><tr><th class="name">model</th><th class="name">reference</th>'
        '<th class="name">metric</th><th>difference</th><th>interval</th><th>confidence</th>'
        f'<th class="name">reading</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _comparisons(report) -> str:
    comp = report.comparisons
    if comp is None or not len(comp):
        return ""
    primary = comp["metric"] == report.metrics[0]
    out = (
        "<h2>Comparisons</h2>"
        "<p class='muted'>Mean paired difference <code>model − reference</code> over the same folds, with a "
        f"paired bootstrap confidence interval; primary metric {_e(report.metrics[0])}.</p>"
        + _comparison_rows(report, comp[primary])
    )
    if (~primary).any():
        out += (
            f"<details><summary>the other metrics ({int((~primary).sum())} comparisons)</summary>"
            + _comparison_rows(report, comp[~primary])
            + "</details>"
        )
    return out


def _figures(report) -> str:
    from uniml.evaluation import _plots

    try:
        plots = _plots.plots_for(report)
    except ImportError:
        return (
            "<h2>Plots</h2><p class='note' id='no-plots'>Plots are not included: matplotlib is not "
            "installed. Install it with <code>pip install 'uniml[plot]'</code> and render the report "
            "again.</p>"
        )
    if not plots:
        return "<h2>Plots</h2><p class='muted'>Nothing to plot.</p>"
    parts = ["<h2>Plots</h2>"]
    for p in plots:
        parts.append(
            f'<figure class="plot" data-plot="{_e(p.key)}"><h3>{_e(p.title)}</h3>{p.svg}'
            f"<figcaption>{_e(p.caption)}</figcaption></figure>"
        )
    return "".join(parts)


def _params(report) -> str:
    if not report.params:
        return ""
    items = "".join(
        f"<details><summary>{_e(name)} {_badge((report.roles or {}).get(name, 'candidate'))}</summary>"
        f"<pre>{_e(json.dumps(params, indent=2, sort_keys=True, default=str))}</pre></details>"
        for name, params in report.params.items()
    )
    return f"<h2>Parameters</h2>{items}"


def render_text(report, *, when: str | None = None) -> str:
    """The report as one HTML document (a string).

    Parameters
    ----------
    report : EvalReport
    when : str, optional
        Date shown in the header (default: now, UTC).

    Returns
    -------
    str

    Examples
    --------
    >>> from uniml.evaluation import EvalReport
    >>> text = render_text(EvalReport.example(), when="2024-01-01 00:00 UTC")
    >>> text.startswith("<!doctype html>") and "2024-01-01 00:00 UTC" in text
    True
    """
    when = when or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"uniml evaluation — {report.task} — {'PASSED' if report.passed else 'FAILED'}"
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        + _header(report, when)
        + _gates(report)
        + _leaderboard(report)
        + _comparisons(report)
        + _figures(report)
        + _params(report)
        + "<p class='muted'>Written by uniml; this file is self-contained.</p></main></body></html>\n"
    )


def render(report, path) -> Path:
    """Write ``report`` as a self-contained HTML file.

    Parameters
    ----------
    report : EvalReport
    path : str or Path
        Destination file; its parent folder is created.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from uniml.evaluation import EvalReport
    >>> out = render(EvalReport.example(), pathlib.Path(tempfile.mkdtemp()) / "sub" / "r.html")
    >>> out.name, out.stat().st_size > 1000
    ('r.html', True)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_text(report), encoding="utf-8")
    return path
