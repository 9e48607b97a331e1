"""mkdocs hook: run the examples of the adapter pages and show their figures inline.

For every page under ``adapters/`` the Python blocks run in order, in one namespace, in a
temporary folder (``tools.docs_examples.run_page``). After each block, every open
matplotlib figure is inserted as inline SVG right below the block's closing fence, then
closed. A failing example fails the build with the page and line. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import sys
import tempfile
import traceback
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.docs_examples import run_page  # noqa: E402

SECTION = "adapters/"


def on_page_markdown(markdown, page, config, files):
    if not page.file.src_uri.startswith(SECTION):
        return markdown
    path = Path(page.file.abs_src_path).resolve()
    source = path.read_text(encoding="utf-8-sig").splitlines()
    lines = markdown.splitlines()
    offset = len(source) - len(lines)  # lines of front matter mkdocs removed
    if offset < 0 or source[offset:] != lines:
        raise PluginError(f"{path}: markdown changed before the figures hook ran")
    figures: dict[int, list[str]] = {}  # 0-based line of a closing fence -> figure HTML

    def after_block(block, namespace):
        import matplotlib.pyplot as plt

        drawn = [
            _figure_html(plt.figure(n), f"{path.stem}-{block.line}-{n}", page.title)
            for n in plt.get_fignums()
        ]
        plt.close("all")
        if drawn:
            figures[block.end - 1 - offset] = drawn

    with tempfile.TemporaryDirectory(prefix="uniml-docs-") as tmp:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run_page(path, Path(tmp), after_block=after_block)
        except Exception as exc:
            raise PluginError(f"{_where(exc, path)}: example failed: {exc!r}") from exc
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        for figure in figures.get(i, []):
            out += ["", figure, ""]
    return "\n".join(out) + "\n"


def _figure_html(fig, ident: str, page_title: str | None) -> str:
    """A ``<figure>`` holding ``fig`` as inline SVG, captioned and titled from its axes."""
    import matplotlib

    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    caption = "; ".join(titles) or "Figure"
    caption = html.escape(f"{page_title}: {caption}" if page_title else caption)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": ident}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and doctype
    svg = re.sub(
        r"<svg\b([^>]*)>",
        rf'<svg\1 role="img" aria-labelledby="{ident}" style="max-width: 100%; height: auto">'
        rf'<title id="{ident}">{caption}</title>',
        svg,
        count=1,
    )
    # a blank line would end Markdown's raw HTML block
    svg = "\n".join(line for line in svg.splitlines() if line.strip())
    return f'<figure class="uniml-figure">\n{svg}\n<figcaption>{caption}</figcaption>\n</figure>'


def _where(exc: BaseException, path: Path) -> str:
    """``page:line`` of the innermost traceback frame inside the page (else the page)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == str(path):
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)
