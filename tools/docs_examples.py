"""Run the Python examples of a documentation page, in order, in one namespace.

Every fenced block whose info string starts with ``python`` or ``py`` is an example.
The blocks of a page run top to bottom in a shared namespace, like a notebook, inside
a working folder (files an example writes land there, not in the checkout). A block
that cannot run here (it needs the company's tracking server, say) is preceded by an
HTML comment giving the reason, which the page reader does not see::

    <!-- not run: needs a reachable MLflow server -->
    ```python
    uniml.lineage.enable(tracking_uri="http://mlflow.internal:5000")
    ```

A marker without a reason, or one that is not directly followed by a Python block, is
an error, and so is a code fence that is never closed.

A block written as an interactive session (its first line starts with ``>>>``) runs as
a doctest in the same namespace: the output shown on the page is checked (ellipsis
``...`` and whitespace differences allowed).

Tracebacks name the page and the line in it (the code is compiled with the page's
line numbers; a failing doctest reports the page and line of the failing example).
``tests/test_docs_examples.py`` runs every page in its own process; the mkdocs hook
``docs/_hooks/figures.py`` uses `run_page` to draw the figures the adapter pages show.

Usage::

    python tools/docs_examples.py docs/quickstart.md [WORKDIR]
"""

from __future__ import annotations

import doctest
import io
import os
import re
import sys
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\n`]*)$")
MARKER = re.compile(r"^\s*<!--\s*not[ -]run\b\s*:?(?P<reason>.*?)-->\s*$", re.IGNORECASE)
LANGUAGES = {"python", "py"}
MODULE = "__docs__"  # the module the examples run in
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


class DocsExampleError(Exception):
    """A page's examples are malformed, or a doctest-style example printed something else."""


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it starts, its code, and why it is not run (if so)."""

    page: Path
    line: int  # 1-based line of the first code line
    code: str
    not_run: str | None = None
    end: int = 0  # 1-based line of the closing fence

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def is_doctest(self) -> bool:
        """The block is an interactive session (``>>>`` prompts) checked as a doctest."""
        return self.code.lstrip().startswith(">>>")


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _misplaced(page: Path, line: int) -> DocsExampleError:
    return DocsExampleError(f"{page}:{line}: 'not run' marker is not before a Python block")


def blocks(page: Path) -> list[Block]:
    """The Python blocks of a Markdown page, in order.

    Raises `DocsExampleError` for an unclosed fence, a ``not run`` marker without a
    reason, or a marker that does not stand directly before a Python block.
    """
    page = Path(page)
    lines = page.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    marker: tuple[int, str] | None = None  # (line, reason) of a pending marker
    i = 0
    while i < len(lines):
        found = MARKER.match(lines[i])
        if found:
            if marker is not None:
                raise _misplaced(page, marker[0])
            reason = found["reason"].strip()
            if not reason:
                raise DocsExampleError(
                    f"{page}:{i + 1}: 'not run' marker without a reason; write <!-- not run: why -->"
                )
            marker = (i + 1, reason)
            i += 1
            continue
        match = FENCE.match(lines[i])
        if not match:
            if marker is not None and lines[i].strip():
                raise _misplaced(page, marker[0])
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        language = match["info"].strip().split(" ")[0].split("{")[0].lower()
        start = i + 1
        j = start
        while j < len(lines) and not _closes(lines[j], fence):
            j += 1
        if j == len(lines):
            raise DocsExampleError(f"{page}:{i + 1}: code fence is never closed")
        if language in LANGUAGES:
            if marker is not None and marker[0] != i:
                raise DocsExampleError(
                    f"{page}:{marker[0]}: 'not run' marker must be on the line right before the fence"
                )
            code = "\n".join(line[indent:] for line in lines[start:j])
            out.append(Block(page, start + 1, code, marker[1] if marker else None, end=j + 1))
        elif marker is not None:
            raise _misplaced(page, marker[0])
        marker = None
        i = j + 1
    if marker is not None:
        raise _misplaced(page, marker[0])
    return out


def _run_doctest(block: Block, namespace: dict) -> None:
    parser = doctest.DocTestParser()
    # lineno is 0-based: the first code line of the block is page line `block.line`
    test = parser.get_doctest(
        block.code, namespace, str(block.page), str(block.page), block.line - 1
    )
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    result = runner.run(test, out=out.write, clear_globs=False)
    if result.failed:
        raise DocsExampleError(f"doctest block at {block.where} failed:\n{out.getvalue()}")


def run_page(
    page: Path,
    workdir: Path,
    after_block: Callable[[Block, dict], None] | None = None,
) -> dict:
    """Run a page's runnable blocks in order, in ``workdir``; return the namespace.

    ``after_block(block, namespace)`` is called after each block that ran. The
    namespace is the ``__dict__`` of a module named ``__docs__`` registered in
    ``sys.modules`` (replaced by the next call).
    """
    import matplotlib

    matplotlib.use("Agg")
    page = Path(page).resolve()
    # the namespace is a registered module's, as a notebook's is __main__'s, so that
    # classes a page defines can be pickled (the conformance suite pickles adapters)
    module = types.ModuleType(MODULE, f"Python examples of {page.name}")
    module.__file__ = str(page)
    sys.modules[MODULE] = module
    namespace = module.__dict__
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        for block in blocks(page):
            if block.not_run:
                continue
            if block.is_doctest:
                _run_doctest(block, namespace)
            else:
                # pad so the compiled code's line numbers are the page's line numbers
                code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
                exec(code, namespace)
            if after_block is not None:
                after_block(block, namespace)
    finally:
        os.chdir(previous)
    return namespace


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print("usage: python tools/docs_examples.py PAGE.md [WORKDIR]", file=sys.stderr)
        return 2
    page = Path(argv[0])
    found = blocks(page)
    runnable = [b for b in found if not b.not_run]
    started = time.perf_counter()
    if len(argv) == 2:
        run_page(page, Path(argv[1]))
    else:
        with tempfile.TemporaryDirectory(prefix="uniml-docs-") as tmp:
            run_page(page, Path(tmp))
    seconds = time.perf_counter() - started
    print(f"{page}: {len(runnable)} of {len(found)} Python blocks ran in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
