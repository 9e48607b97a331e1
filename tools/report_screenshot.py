#!/usr/bin/env python
"""Open uniml evaluation reports in headless chromium, screenshot them, and prove the plots rendered.

Usage (from the project root)::

    python tools/report_screenshot.py                      # every docs/examples/*.yaml spec
    python tools/report_screenshot.py --spec docs/examples/regression.yaml
    python tools/report_screenshot.py --html some/report.html

For each report it

1. builds it (``uniml eval SPEC --report build/report-<name>.html``) unless ``--html`` is given;
2. loads a copy with a tiny probe script appended in chromium (``--dump-dom`` with a virtual
   time budget) and reads, for every ``<figure class="plot">``, the size and position of its
   rendered SVG and how many drawn elements it holds; the report itself has no script;
3. screenshots the unmodified report (``build/report-<name>.png``; the first one, the
   regression example by default, is also copied to ``build/report.png``) at the page's full height;
4. checks the screenshot's pixels inside each figure's box: a rendered plot is not blank
   (enough non-white pixels, several colours).

Exit code 0 when every report has at least one plot and every plot rendered, 1 when a check
fails, 2 when chromium cannot be found or a report cannot be built. Chromium is found via
``--chromium``, ``$CHROMIUM``, or ``chromium`` / ``chromium-browser`` / ``google-chrome`` on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--mute-audio",
]
WIDTH = 1280
MAX_HEIGHT = 16000
#: a plot's box must have at least this share of non-white pixels, and this many distinct colours
MIN_INK, MIN_COLOURS = 0.01, 4

PROBE = """
<script>
(function () {
  var out = {height: Math.ceil(document.documentElement.scrollHeight), plots: []};
  document.querySelectorAll("figure.plot").forEach(function (fig) {
    var svg = fig.querySelector("svg");
    var entry = {key: fig.getAttribute("data-plot"), svg: !!svg, x: 0, y: 0, w: 0, h: 0, drawn: 0, bbox: 0};
    if (svg) {
      var r = svg.getBoundingClientRect();
      entry.x = r.left + window.scrollX; entry.y = r.top + window.scrollY; entry.w = r.width; entry.h = r.height;
      entry.drawn = svg.querySelectorAll("path, use, line, polyline, rect, text").length;
      try { var b = svg.getBBox(); entry.bbox = b.width * b.height; } catch (e) { entry.bbox = -1; }
    }
    out.plots.push(entry);
  });
  document.body.setAttribute("data-uniml-probe", JSON.stringify(out));
})();
</script>
"""


def find_chromium(explicit: str | None) -> str | None:
    for candidate in (
        explicit,
        os.environ.get("CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def _run_browser(
    chromium: str, args: list[str], timeout: float = 120
) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="uniml-chromium-") as profile:
        cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def probe(chromium: str, html: Path) -> dict:
    """Layout facts about the report's figures, measured by chromium."""
    text = html.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="uniml-probe-") as tmp:
        copy = Path(tmp) / "probe.html"
        copy.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        done = _run_browser(
            chromium,
            [
                f"--window-size={WIDTH},1000",
                "--virtual-time-budget=10000",
                "--dump-dom",
                copy.as_uri(),
            ],
        )
    match = re.search(r'data-uniml-probe="([^"]*)"', done.stdout)
    if not match:
        raise RuntimeError(
            f"chromium did not run the probe (exit {done.returncode}): {done.stderr[-800:]}"
        )
    import html as _html

    return json.loads(_html.unescape(match.group(1)))


def screenshot(chromium: str, html: Path, png: Path, height: int) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    done = _run_browser(
        chromium,
        [
            f"--window-size={WIDTH},{height}",
            "--virtual-time-budget=10000",
            f"--screenshot={png}",
            html.as_uri(),
        ],
    )
    if not png.exists():
        raise RuntimeError(
            f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-800:]}"
        )


def ink(png: Path, box: dict) -> tuple[float, int]:
    """Share of non-white pixels and number of distinct colours inside ``box`` of the screenshot."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as img:
        pixels = np.asarray(img.convert("RGB"))
    x0, y0 = max(int(box["x"]), 0), max(int(box["y"]), 0)
    x1, y1 = (
        min(int(box["x"] + box["w"]), pixels.shape[1]),
        min(int(box["y"] + box["h"]), pixels.shape[0]),
    )
    region = pixels[y0:y1, x0:x1].reshape(-1, 3)
    if not len(region):
        return 0.0, 0
    non_white = (region < 245).any(axis=1).mean()
    colours = len(np.unique(region // 16, axis=0))
    return float(non_white), int(colours)


def check(chromium: str, html: Path, png: Path) -> list[str]:
    """Screenshot ``html`` to ``png``; the list of problems (empty when every plot rendered)."""
    facts = probe(chromium, html)
    height = min(max(int(facts["height"]) + 40, 800), MAX_HEIGHT)
    screenshot(chromium, html, png, height)
    problems = []
    if not facts["plots"]:
        problems.append("the report has no plot")
    for p in facts["plots"]:
        name = p["key"]
        if not p["svg"]:
            problems.append(f"{name}: no <svg> in the figure")
            continue
        if p["w"] < 100 or p["h"] < 100 or p["drawn"] < 10 or p["bbox"] <= 0:
            problems.append(
                f"{name}: not laid out (box {p['w']:.0f}x{p['h']:.0f}, {p['drawn']} elements, "
                f"bbox area {p['bbox']:.0f})"
            )
            continue
        if p["y"] + p["h"] > height:
            problems.append(f"{name}: below the screenshot's {height} px")
            continue
        share, colours = ink(png, p)
        status = "ok" if share >= MIN_INK and colours >= MIN_COLOURS else "BLANK"
        print(
            f"  {name:22s} {p['w']:.0f}x{p['h']:.0f} px, {p['drawn']} elements, "
            f"{share:.1%} ink, {colours} colours: {status}"
        )
        if status != "ok":
            problems.append(
                f"{name}: the screenshot shows nothing drawn ({share:.1%} ink, {colours} colours)"
            )
    return problems


def build(spec: Path, out: Path) -> Path:
    """Run ``uniml eval`` on ``spec``; returns the HTML report (gates may pass or fail)."""
    sys.path.insert(0, str(ROOT / "src"))
    from uniml.cli import main

    html = out / f"report-{spec.stem}.html"
    code = main(["eval", str(spec), "--report", str(html), "--quiet"])
    if code not in (0, 1) or not html.exists():
        raise RuntimeError(f"uniml eval {spec} exited {code} without a report")
    return html


def build_monitoring(out: Path) -> Path:
    """A monitoring report (``uniml.monitoring``) with every kind of plot, on synthetic drifting data."""
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from uniml.monitoring import Profile, monitor

    rng = np.random.default_rng(0)

    def world(n, shift):
        X = pd.DataFrame(
            {
                "age": rng.normal(40 + 8 * shift, 10, n),
                "income": rng.lognormal(10, 0.5, n),
                "plan": rng.choice(["basic", "plus", "pro"], n),
            }
        )
        y = (rng.random(n) < 1 / (1 + np.exp(-(X["age"] - 40) / 8))).astype(int)
        return X, y

    X, y = world(6000, 0.0)
    model = LogisticRegression().fit(X[["age", "income"]], y)

    def scored(X):
        proba = model.predict_proba(X[["age", "income"]])[:, 1]
        return X.assign(prediction=(proba >= 0.5).astype(int), proba=proba)

    profile = Profile.fit(
        scored(X).assign(y=y),
        target="y",
        proba="proba",
        task="classification",
        model_info={"name": "churn", "version": "3"},
    )
    days = []
    for i, shift in enumerate((0.0, 0.0, 0.5, 1.0, 1.5)):
        Xd, _ = world(1500, shift)
        days.append(scored(Xd).assign(timestamp=f"2026-12-0{i + 1}T12:00:00+00:00"))
    report = monitor(profile, pd.concat(days, ignore_index=True), chunk="1D", emit=False)
    return report.to_html(out / "report-monitoring.html")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--spec", action="append", type=Path, help="spec(s) to evaluate (default: docs/examples)"
    )
    parser.add_argument(
        "--html", action="append", type=Path, help="existing report(s) to check instead"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "build", help="output folder (default: build/)"
    )
    parser.add_argument("--chromium", help="chromium binary")
    args = parser.parse_args(argv)

    chromium = find_chromium(args.chromium)
    if chromium is None:
        print(
            "chromium not found: install it (apt-get install chromium) or pass --chromium",
            file=sys.stderr,
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.html:
        reports = list(args.html)
    else:
        # regression first: its screenshot becomes build/report.png
        order = ("regression", "classification", "forecasting", "causal", "recommendation")
        specs = args.spec or sorted(
            (ROOT / "docs" / "examples").glob("*.yaml"),
            key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.stem),
        )
        try:
            reports = [build(spec, args.out) for spec in specs]
            if not args.spec:
                reports.append(build_monitoring(args.out))  # issue 18: the monitoring report
        except Exception as exc:  # a build failure is its own exit code, not a rendering failure
            print(f"could not build a report: {exc}", file=sys.stderr)
            return 2
    failures = 0
    for i, html in enumerate(reports):
        png = args.out / f"{html.stem}.png"
        print(f"{html} -> {png}")
        try:
            problems = check(chromium, html, png)
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
            problems = [str(exc)]
        if i == 0 and png.exists():
            shutil.copyfile(png, args.out / "report.png")
        for problem in problems:
            print(f"  FAIL {problem}", file=sys.stderr)
        failures += bool(problems)
    print(
        f"{len(reports) - failures} of {len(reports)} report(s) rendered with every plot; "
        f"screenshots in {args.out}"
    )
    failures += _report_evidence(chromium, args.out, bool(args.html))
    return 1 if failures else 0


# ---------------------------------------------------------------- registry evidence bundle (issue 16)
EVIDENCE_PROBE = """
<script>
(function () {
  var out = {height: Math.ceil(document.documentElement.scrollHeight), sections: []};
  document.querySelectorAll("section[id]").forEach(function (sec) {
    var r = sec.getBoundingClientRect();
    var body = sec.querySelector("table, pre");
    var b = body ? body.getBoundingClientRect() : {left: 0, top: 0, width: 0, height: 0};
    out.sections.push({id: sec.id, x: b.left + window.scrollX, y: b.top + window.scrollY,
                       w: b.width, h: b.height, sh: r.height,
                       rows: sec.querySelectorAll("tr").length,
                       text: (body ? body.innerText : "").trim().length,
                       heading: !!sec.querySelector("h2")});
  });
  document.body.setAttribute("data-uniml-probe", JSON.stringify(out));
})();
</script>
"""


def _evidence_bundle(tmp: Path, out: Path) -> Path:
    """A governed champion on an embedded SQLite store, and its evidence bundle in ``out``."""
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import Ridge

    import uniml
    import uniml.lineage
    import uniml.registry as registry

    store = f"sqlite:///{tmp / 'mlflow.db'}"
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "c"])
    y = 2.0 * X["a"] - X["b"] + rng.normal(scale=0.3, size=len(X))
    with uniml.lineage.enable(
        tracking_uri=store,
        experiment="evidence",
        artifact_location=(tmp / "artifacts").as_uri(),
        spool=str(tmp / "spool"),
    ):
        model = uniml.make("sklearn.estimator", estimator=Ridge()).fit(X, y)
    report = uniml.evaluate(model, (X, y), gates=["rmse better than baseline"], n_boot=100)
    card = {
        "owner": "ann",
        "intended_use": "the report screenshot check",
        "out_of_scope_use": "anything else",
        "limitations": "synthetic data",
        "ethical_considerations": "none: synthetic data",
    }
    v = registry.register(
        model, "evidence.check", card, report=report, actor="ann", tracking_uri=store
    )
    registry.promote(
        "evidence.check", v["version"], approver="bob", approvers=["bob"], tracking_uri=store
    )
    return registry.evidence("evidence.check@champion", out / "evidence", tracking_uri=store)


def check_evidence(chromium: str, out: Path) -> list[str]:
    """Build a registry evidence bundle, open it in chromium, check every section rendered.

    Every section the bundle promises (``uniml.registry._evidence.SECTIONS``) must be in the
    page with its heading, laid out with a visible table or text block that holds content, and
    show ink in the screenshot (``build/evidence.png``). Returns the problems (empty when none).
    """
    import html as _html

    with tempfile.TemporaryDirectory(prefix="uniml-evidence-") as tmp:
        try:
            page = _evidence_bundle(Path(tmp), out)
        except Exception as exc:  # any failure to build is a failed check
            return [f"evidence bundle: could not be built: {type(exc).__name__}: {exc}"]
    from uniml.registry._evidence import SECTIONS

    text = page.read_text(encoding="utf-8")
    copy = page.with_name("evidence-probe.html")
    copy.write_text(text.replace("</body>", EVIDENCE_PROBE + "</body>"), encoding="utf-8")
    done = _run_browser(
        chromium,
        [f"--window-size={WIDTH},1000", "--virtual-time-budget=5000", "--dump-dom", copy.as_uri()],
    )
    copy.unlink()
    match = re.search(r'data-uniml-probe="([^"]*)"', done.stdout)
    if not match:
        return [f"evidence bundle: chromium did not run the probe (exit {done.returncode})"]
    facts = json.loads(_html.unescape(match.group(1)))
    height = min(max(int(facts["height"]) + 40, 800), MAX_HEIGHT)
    png = out / "evidence.png"
    screenshot(chromium, page, png, height)
    found = {s["id"]: s for s in facts["sections"]}
    problems = []
    print(f"{page} -> {png}")
    for name in SECTIONS:
        sec = found.get(name)
        if sec is None:
            problems.append(f"evidence {name}: section missing")
            continue
        if not sec["heading"] or sec["w"] < 50 or sec["h"] < 10 or sec["text"] == 0:
            problems.append(
                f"evidence {name}: not rendered (box {sec['w']:.0f}x{sec['h']:.0f}, "
                f"{sec['text']} characters, heading {sec['heading']})"
            )
            continue
        share, colours = ink(png, sec)
        status = "ok" if share > 0.005 and colours >= 2 else "BLANK"
        print(
            f"  {name:12s} {sec['w']:.0f}x{sec['h']:.0f} px, {sec['rows']} rows, "
            f"{sec['text']} characters, {share:.1%} ink: {status}"
        )
        if status != "ok":
            problems.append(f"evidence {name}: the screenshot shows nothing ({share:.1%} ink)")
    return problems


def _report_evidence(chromium: str, out: Path, skip: bool) -> int:
    """The evidence bundle check's share of main(): 1 when it failed (skipped with --html)."""
    if skip:
        return 0
    problems = check_evidence(chromium, out)
    for problem in problems:
        print(f"  FAIL {problem}", file=sys.stderr)
    print(f"evidence bundle: {'every section rendered' if not problems else 'FAILED'}")
    return int(bool(problems))


if __name__ == "__main__":
    sys.exit(main())
