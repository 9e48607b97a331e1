"""The monitoring report as one self-contained HTML file: inline CSS, inline SVG plots, no script.

Plots (each a ``<figure class="plot" data-plot=KEY>``): ``drift-overview`` (every
column's main statistic against its thresholds), ``dist-<column>`` (reference vs
current shares for the most drifted columns and the prediction),
``drift-over-time`` and ``performance-over-time`` (with ``chunk=``), or
``performance`` (reference vs estimated vs realised) without chunks.
Matplotlib draws off-screen on :class:`matplotlib.figure.Figure` (no pyplot).
"""

from __future__ import annotations

import html
import io
import math
from pathlib import Path

__all__ = ["plots", "render", "render_text"]

_COLOURS = {"ok": "#1a7f37", "warn": "#bf8700", "alert": "#cf222e"}
_MAX_DIST = 4

_CSS = """
:root{--ok:#1a7f37;--warn:#bf8700;--bad:#cf222e;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1180px;margin:0 auto;padding:1.5em 2em 3em}
h1{margin:.2em 0 .1em;font-size:1.7em}h2{margin-top:1.8em;border-bottom:1px solid var(--line);padding-bottom:.2em}
.banner{padding:.8em 1.2em;border-radius:6px;color:#fff;font-weight:600;font-size:1.15em;margin:1em 0}
.banner.ok{background:var(--ok)}.banner.warn{background:var(--warn)}.banner.alert{background:var(--bad)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1.2em;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
table{border-collapse:collapse;margin:.6em 0;font-size:.93em}
th,td{padding:.35em .8em;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{background:var(--bg);text-align:center}td.name,td.text{text-align:left}
.badge{display:inline-block;padding:.05em .55em;border-radius:1em;font-size:.8em;font-weight:600;color:#fff}
.badge.ok{background:var(--ok)}.badge.warn{background:var(--warn)}.badge.alert{background:var(--bad)}
.muted{color:var(--muted)}.note{background:#fff8c5;border:1px solid #d4a72c;padding:.6em 1em;border-radius:6px}
figure{margin:1.2em 0}figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:.9em;margin-top:.3em}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return _e(value)


def _figure(width=9.0, height=3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg") :].strip()


def _main_stat(col) -> str:
    return "wasserstein" if col.kind == "numeric" else "js"


def _overview(report):
    cols = [c for c in report.columns if c.statistics.get(_main_stat(c)) is not None]
    cols = sorted(cols, key=lambda c: -(c.statistics[_main_stat(c)] or 0))[:25]
    if not cols:
        return None
    fig, ax = _figure(9.0, max(2.4, 0.32 * len(cols) + 1.0))
    names = [f"{c.name} ({'W1' if c.kind == 'numeric' else 'JS'})" for c in cols][::-1]
    values = [c.statistics[_main_stat(c)] for c in cols][::-1]
    colours = [_COLOURS[c.level] for c in cols][::-1]
    ax.barh(names, values, color=colours)
    for i, c in enumerate(cols[::-1]):
        pair = c.thresholds.get(_main_stat(c))
        if pair:
            ax.plot([pair[0]] * 2, [i - 0.4, i + 0.4], color=_COLOURS["warn"], lw=1.5)
            ax.plot([pair[1]] * 2, [i - 0.4, i + 0.4], color=_COLOURS["alert"], lw=1.5)
    ax.set_xlabel("normalised Wasserstein (numeric) / Jensen-Shannon distance (categorical)")
    ax.grid(axis="x", alpha=0.3)
    return (
        "drift-overview",
        "Drift by column",
        "Each column's main statistic; ticks mark its warn (amber) and alert (red) thresholds; "
        "bars are coloured by the column's level (missing-rate and unseen-category flags included).",
        _svg(fig),
    )


def _distribution(col):
    bins = col.bins
    if not bins or not len(bins.get("current", [])):
        return None
    import numpy as np

    labels = list(bins["labels"])[:30]
    ref = np.asarray(bins["reference"], float)[: len(labels)]
    cur = np.asarray(bins["current"], float)[: len(labels)]
    fig, ax = _figure(9.0, 3.2)
    x = np.arange(len(labels))
    ax.bar(x - 0.2, ref, width=0.4, label="reference", color="#6e7781")
    ax.bar(x + 0.2, cur, width=0.4, label="current", color=_COLOURS[col.level])
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("share of rows")
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    what = "reference quantile bins" if col.kind == "numeric" else "categories"
    return (
        f"dist-{col.name}",
        f"{col.name}: reference vs current ({col.level})",
        f"Shares of rows per {what}; {'; '.join(col.reasons) or 'no threshold reached'}.",
        _svg(fig),
    )


def _over_time(report):
    ch = report.chunks
    if ch is None or len(ch) == 0:
        return []
    import numpy as np

    out = []
    x = np.arange(len(ch))
    ticks = [str(v)[:16] for v in ch["start"]]
    fig, ax = _figure(9.0, 3.4)
    cols = [c for c in report.columns if c.name in ch.columns]
    top = sorted(cols, key=lambda c: -(c.statistics.get(_main_stat(c)) or 0))[:5]
    for c in top:
        ax.plot(x, ch[c.name].astype(float), marker="o", label=c.name)
    ax.set_ylabel("main drift statistic")
    ax.set_xticks(x, ticks, rotation=30, ha="right", fontsize=7)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    out.append(
        (
            "drift-over-time",
            "Drift over time",
            "The main statistic of the five most drifted columns in each chunk of the current data.",
            _svg(fig),
        )
    )
    perf_cols = [c for c in ch.columns if c.startswith(("realised_", "estimated_"))]
    metrics = sorted({c.split("_", 1)[1] for c in perf_cols if not c.endswith(("_low", "_high"))})
    if metrics:
        fig, ax = _figure(9.0, 3.4)
        for metric in metrics:
            est = f"estimated_{metric}"
            if est in ch.columns:
                ax.plot(x, ch[est], marker="o", color="#0969da", label=f"estimated {metric}")
                if f"{est}_low" in ch.columns:
                    ax.fill_between(
                        x, ch[f"{est}_low"], ch[f"{est}_high"], color="#0969da", alpha=0.2
                    )
            real = f"realised_{metric}"
            if real in ch.columns:
                ax.plot(x, ch[real], marker="s", color="#1f2328", label=f"realised {metric}")
            ref = next(
                (
                    report.performance[part][metric]["reference"]
                    for part in ("realised", "estimated")
                    if metric in report.performance.get(part, {})
                ),
                None,
            )
            if ref is not None:
                ax.axhline(ref, color="#6e7781", ls="--", label=f"reference {metric}")
        ax.set_xticks(x, ticks, rotation=30, ha="right", fontsize=7)
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.3)
        out.append(
            (
                "performance-over-time",
                "Estimated vs realised performance",
                "Label-free estimates (with their 95 % interval) and, where actuals arrived, "
                "the realised metric per chunk; the dashed line is the reference.",
                _svg(fig),
            )
        )
    return out


def _performance(report):
    entries = [
        (part, metric, e)
        for part in ("realised", "estimated")
        for metric, e in report.performance.get(part, {}).items()
    ]
    if not entries:
        return None
    fig, ax = _figure(7.0, 3.0)
    labels, values, colours, errs = [], [], [], []
    for part, metric, e in entries:
        labels += [f"reference {metric}", f"{part} {metric}"]
        values += [e["reference"], e["value"]]
        colours += ["#6e7781", _COLOURS[e["level"]]]
        half = (e["interval"][1] - e["interval"][0]) / 2 if "interval" in e else 0.0
        errs += [0.0, half]
        ax.axhline(e["threshold"], color=_COLOURS["alert"], ls=":", lw=1)
    ax.bar(labels, values, color=colours, yerr=errs, capsize=6)
    ax.grid(axis="y", alpha=0.3)
    return (
        "performance",
        "Performance against the reference",
        "Reference metric vs this run's realised value or label-free estimate (error bar: its "
        "95 % interval); the dotted line is the alert threshold.",
        _svg(fig),
    )


def plots(report) -> list[tuple[str, str, str, str]]:
    """The report's figures as ``(key, title, caption, svg)``.

    Parameters
    ----------
    report : MonitorReport

    Returns
    -------
    list of tuple
    """
    out = []
    first = _overview(report)
    if first:
        out.append(first)
    ranked = sorted(
        (c for c in report.columns if c.role == "feature"),
        key=lambda c: (
            -{"alert": 2, "warn": 1, "ok": 0}[c.level],
            -(c.statistics.get(_main_stat(c)) or 0),
        ),
    )
    chosen = ranked[:_MAX_DIST] + [c for c in report.columns if c.role == "prediction"]
    for col in chosen:
        fig = _distribution(col)
        if fig:
            out.append(fig)
    out += _over_time(report)
    if report.chunks is None or len(report.chunks) == 0:
        perf = _performance(report)
        if perf:
            out.append(perf)
    return out


def _table(report) -> str:
    rows = []
    for c in report.columns:
        s = c.statistics
        rows.append(
            "<tr>"
            f'<td class="name">{_e(c.name)}</td><td class="text">{_e(c.role)}</td>'
            f'<td><span class="badge {c.level}">{c.level}</span></td>'
            + "".join(
                f"<td>{_num(s.get(k))}</td>"
                for k in ("wasserstein", "ks", "js", "psi", "missing", "unseen", "p_adjusted")
            )
            + f'<td class="text">{_e(c.thresholds.get("source", ""))}</td>'
            f'<td class="text">{_e("; ".join(c.reasons))}</td></tr>'
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "column",
            "role",
            "level",
            "W1 (norm.)",
            "KS",
            "JS",
            "PSI",
            "Δ missing",
            "unseen",
            "p (BH)",
            "thresholds",
            "why",
        )
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _perf_section(report) -> str:
    parts = []
    for part in ("realised", "estimated"):
        for metric, e in report.performance.get(part, {}).items():
            interval = e.get("interval")
            parts.append(
                f"<tr><td class='name'>{_e(part)} {_e(metric)}</td><td>{_num(e['value'])}</td>"
                f"<td>{'[' + _num(interval[0]) + ', ' + _num(interval[1]) + ']' if interval else '—'}</td>"
                f"<td>{_num(e['reference'])} <span class='muted'>({_e(e.get('reference_source'))})</span></td>"
                f"<td>{_num(e['threshold'])}</td><td><span class='badge {e['level']}'>{e['level']}</span></td>"
                f"<td class='text'>{_e(e.get('assumptions', 'measured on actuals'))}</td></tr>"
            )
    notes = "".join(f"<p class='muted'>{_e(n)}</p>" for n in report.performance.get("notes", []))
    if not parts:
        return (
            "<p class='muted'>No performance: the profile has no reference performance, or "
            "neither actuals nor what estimation needs were given.</p>" + notes
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("metric", "value", "95 % interval", "reference", "threshold", "level", "basis")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(parts)}</tbody></table>{notes}"


def render_text(report) -> str:
    """The HTML text of ``report``.

    Parameters
    ----------
    report : MonitorReport

    Returns
    -------
    str
    """
    level = report.level
    model = report.model or {}
    who = " ".join(f"{k} {v}" for k, v in model.items() if v) or "unnamed model"
    try:
        figures = "".join(
            f'<figure class="plot" data-plot="{_e(key)}"><h3>{_e(title)}</h3>{svg}'
            f"<figcaption>{_e(caption)}</figcaption></figure>"
            for key, title, caption, svg in plots(report)
        )
    except ImportError:
        figures = (
            "<p class='note'>matplotlib is not installed: pip install matplotlib for plots.</p>"
        )
    mv = report.multivariate.get("pca_error")
    mv_html = (
        f"<p>PCA reconstruction error {_num(mv['value'])} vs reference {_num(mv['reference'])} "
        f"(alert above {_num(mv['threshold'])}; {mv['components']} components of "
        f"{len(mv['columns'])} standardised columns): "
        f"<span class='badge {mv['level']}'>{mv['level']}</span></p>"
        if mv
        else "<p class='muted'>No multivariate check (fewer than two numeric columns).</p>"
    )
    dom = report.multivariate.get("domain_auc")
    if dom:
        mv_html += (
            f"<p>Domain classifier AUC {_num(dom.get('value'))} "
            f"<span class='badge {dom['level']}'>{dom['level']}</span></p>"
        )
    alerts = (
        "".join(f"<li><strong>{_e(a.kind)}</strong>: {_e(a.message)}</li>" for a in report.alerts)
        or "<li class='muted'>none</li>"
    )
    notes = "".join(f"<p class='note'>{_e(n)}</p>" for n in report.notes)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>uniml monitoring: {_e(who)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>Monitoring report</h1><p class='muted'>{_e(who)}</p>"
        f"<div class='banner {level}'>{level.upper()}: {len(report.drifted_columns)} drifted "
        f"feature(s), {len(report.alerts)} alert(s)</div>"
        "<dl class='meta'>"
        f"<dt>run</dt><dd>{_e(report.created)} ({report.duration:.2f} s)</dd>"
        f"<dt>current rows</dt><dd>{report.n_rows:,}</dd>"
        f"<dt>reference rows</dt><dd>{report.settings.get('reference_rows', 0):,}</dd>"
        f"<dt>drift share</dt><dd>{report.drift_share:.1%}</dd></dl>"
        f"{notes}<h2>Alerts</h2><ul>{alerts}</ul>"
        f"<h2>Plots</h2>{figures}"
        f"<h2>Data and prediction drift</h2>{_table(report)}"
        f"<h2>Multivariate drift</h2>{mv_html}"
        f"<h2>Performance</h2>{_perf_section(report)}"
        "<p class='muted'>Statistics: W1 is the Wasserstein distance divided by the reference "
        "standard deviation; JS the Jensen-Shannon distance (base 2) on reference quantile bins "
        "or categories; PSI on the same bins; p-values only below the small-sample size, "
        "Benjamini-Hochberg adjusted across columns. See docs/monitoring.md.</p>"
        "</main></body></html>"
    )


def render(report, path) -> Path:
    """Write the HTML report to ``path``.

    Parameters
    ----------
    report : MonitorReport
    path : str or Path

    Returns
    -------
    Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_text(report), encoding="utf-8")
    return path
