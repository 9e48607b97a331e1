"""The self-contained audit bundle (HTML + JSON) a governance reviewer reads without MLflow."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from uniml.registry._audit import chain_problems
from uniml.registry._core import audit_log, read_card, read_report, trace, tracking

SECTIONS = ("lineage", "card", "evaluation", "gates", "approvals", "hashes", "libraries")


def _table(rows) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(v if isinstance(v, str) else json.dumps(v, default=str))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def evidence(ref: str, out, *, tracking_uri: str | None = None) -> Path:
    """Write ``evidence.json`` and ``evidence.html`` for a version into the folder ``out``.

    The bundle holds the lineage trace, the model card, the evaluation report summary, the gate
    results, every audit entry of the version with the chain's check, the hashes and the library
    versions; the HTML has no external resources.

    Parameters
    ----------
    ref : str
        ``name@alias`` or ``name/version``.
    out : str or Path
        Folder to create.
    tracking_uri : str, optional

    Returns
    -------
    Path
        The HTML file.

    Examples
    --------
    >>> callable(evidence)
    True
    """
    uri = tracking(tracking_uri)
    info = trace(ref, tracking_uri=uri)
    name, version = info["name"], info["version"]
    card = read_card(name, version, tracking_uri=uri)
    report = read_report(name, version, tracking_uri=uri)
    entries = audit_log(name, tracking_uri=uri)
    data: dict[str, Any] = {
        "lineage": {k: v for k, v in info.items() if k != "approvals"},
        "card": dict(card),
        "evaluation": None
        if report is None
        else {
            "summary": report.summary(),
            "leaderboard": json.loads(report.leaderboard.to_json(orient="index")),
        },
        "gates": [] if report is None else [g.to_dict() for g in report.gates],
        "approvals": [e for e in entries if e.get("version") == version],
        "hashes": {
            "artifact_digest": info["artifact_digest"],
            "card_sha256": info["card_sha256"],
            "audit_head": entries[-1]["hash"] if entries else None,
            "audit_chain_problems": chain_problems(entries),
        },
        "libraries": card.get("library_versions") or {},
    }
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evidence.json").write_text(json.dumps(data, indent=2, default=str))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Evidence {html.escape(name)} v{version}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        "th{background:#f4f4f4}pre{background:#f8f8f8;padding:1em;white-space:pre-wrap}</style></head><body>",
        f"<h1>Governance evidence: {html.escape(name)} v{version}</h1>",
        f"<section id='lineage'><h2>Lineage</h2>{_table(data['lineage'].items())}</section>",
        f"<section id='card'><h2>Model card</h2>{_table(sorted(card.items()))}</section>",
        "<section id='evaluation'><h2>Evaluation</h2><pre>"
        + html.escape(
            data["evaluation"]["summary"] if data["evaluation"] else "no evaluation report stored"
        )
        + "</pre></section>",
        "<section id='gates'><h2>Gates</h2>"
        + _table(
            (g["name"], ("PASS " if g["passed"] else "FAIL ") + g["reason"]) for g in data["gates"]
        )
        + "</section>",
        "<section id='approvals'><h2>Approvals and audit events</h2>"
        + _table(
            (
                f"#{e.get('seq')} {e.get('ts')}",
                f"{e.get('action')} {e.get('decision')} by {e.get('actor')}: {e.get('reason')}",
            )
            for e in data["approvals"]
        )
        + "</section>",
        f"<section id='hashes'><h2>Hashes</h2>{_table(data['hashes'].items())}</section>",
        f"<section id='libraries'><h2>Library versions</h2>{_table(data['libraries'].items())}</section>",
        "</body></html>",
    ]
    page = folder / "evidence.html"
    page.write_text("\n".join(parts))
    return page
