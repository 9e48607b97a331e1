"""Every Python example in the documentation runs, as written.

Each page with Python blocks runs in its own process through ``tools/docs_examples.py``
(blocks in order, one namespace), in a temporary working folder and with MLflow and the
lineage spool pointed into it, so nothing lands in the checkout. The executor itself is
tested below: line numbers in tracebacks, the ``<!-- not run: reason -->`` marker, doctest
blocks, malformed pages.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TOOL = ROOT / "tools" / "docs_examples.py"

_spec = importlib.util.spec_from_file_location("docs_examples", TOOL)
docs_examples = importlib.util.module_from_spec(_spec)
sys.modules["docs_examples"] = docs_examples  # dataclasses need the module registered
_spec.loader.exec_module(docs_examples)

# Not-run blocks are for what cannot run on a CI machine (a company-internal server).
# They are the exception: at most one Python block in ten may be skipped.
MAX_NOT_RUN_SHARE = 0.10


def _pages() -> list[Path]:
    """Markdown pages under docs/, except the data folder docs/examples/."""
    return sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).parts[0] not in {"examples"})


def _has_python(page: Path) -> bool:
    try:
        return bool(docs_examples.blocks(page))
    except docs_examples.DocsExampleError:
        return True  # malformed: let its test report why


PAGES = [p for p in _pages() if _has_python(p)]


def _environment(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("UNIML_LINEAGE", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_NAME"):
        env.pop(name, None)
    env.update(
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlruns.db'}",
        UNIML_LINEAGE_SPOOL=str(tmp_path / "spool"),
        MPLBACKEND="Agg",
    )
    return env


def _run_page(page: Path, tmp_path: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, str(TOOL), str(page), str(workdir)],
        cwd=ROOT,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_docs_have_python_examples():
    assert len(PAGES) >= 5, [str(p) for p in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_examples_run(page, tmp_path):
    result = _run_page(page, tmp_path)
    assert result.returncode == 0, (
        f"the examples of {page.relative_to(ROOT)} failed:\n{result.stderr}"
    )
    spool = tmp_path / "spool"
    spooled = sorted(p.name for p in spool.iterdir()) if spool.exists() else []
    assert not spooled, f"lineage could not reach MLflow and spooled {spooled}:\n{result.stderr}"


def test_not_run_blocks_have_a_reason_and_stay_the_exception():
    found = [b for page in _pages() for b in docs_examples.blocks(page)]
    skipped = [b for b in found if b.not_run]
    assert all(b.not_run.strip() for b in skipped)
    assert len(skipped) <= MAX_NOT_RUN_SHARE * len(found), "\n".join(
        f"{b.where}: {b.not_run}" for b in skipped
    )


# ------------------------------------------------------------------ the executor


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return page


def test_failing_block_names_the_page_and_line(tmp_path):
    page = _page(
        tmp_path,
        """
        # A page

        ```python
        x = 1
        ```

        Some prose.

        ```python
        y = x + 1
        raise ValueError(f"boom {y}")
        ```
        """,
    )
    result = _run_page(page, tmp_path)
    assert result.returncode != 0
    assert f'File "{page}", line 11' in result.stderr, result.stderr
    assert "ValueError: boom 2" in result.stderr

    with pytest.raises(ValueError) as err:
        docs_examples.run_page(page, tmp_path)
    last = traceback.extract_tb(err.value.__traceback__)[-1]
    assert (last.filename, last.lineno) == (str(page), 11)


def test_not_run_block_is_not_executed(tmp_path):
    page = _page(
        tmp_path,
        """
        <!-- not run: needs the company's tracking server -->
        ```python
        raise RuntimeError("must not run")
        ```

        ```python
        ran = True
        ```
        """,
    )
    first, second = docs_examples.blocks(page)
    assert first.not_run == "needs the company's tracking server" and second.not_run is None
    assert docs_examples.run_page(page, tmp_path)["ran"] is True


@pytest.mark.parametrize("marker", ["<!-- not run -->", "<!-- not run: -->", "<!-- not run:   -->"])
def test_not_run_marker_without_a_reason_is_an_error(tmp_path, marker):
    page = _page(tmp_path, f"{marker}\n```python\nx = 1\n```\n")
    with pytest.raises(docs_examples.DocsExampleError, match=r"page\.md:1: .*without a reason"):
        docs_examples.blocks(page)


@pytest.mark.parametrize(
    "text",
    [
        "<!-- not run: why -->\n```bash\nls\n```\n",  # before a shell block
        "<!-- not run: why -->\n\n```python\nx = 1\n```\n",  # a blank line in between
        "<!-- not run: why -->\nprose\n",  # before no block at all
        "text\n<!-- not run: why -->\n",  # at the end of the page
    ],
)
def test_misplaced_not_run_marker_is_an_error(tmp_path, text):
    page = _page(tmp_path, text)
    with pytest.raises(docs_examples.DocsExampleError, match="not run' marker"):
        docs_examples.blocks(page)


def test_unclosed_fence_is_an_error(tmp_path):
    page = _page(tmp_path, "# A page\n\n```python\nx = 1\n")
    with pytest.raises(docs_examples.DocsExampleError, match=r"page\.md:3: .*never closed"):
        docs_examples.blocks(page)
    result = _run_page(page, tmp_path)
    assert result.returncode != 0 and "never closed" in result.stderr


def test_blocks_share_one_namespace_in_order(tmp_path):
    page = _page(
        tmp_path,
        """
        ```python
        seen = ["first"]
        ```

        ```bash
        echo "not Python: not run"
        ```

        - in a list:

            ```py
            seen.append("second")
            ```

        ```python title="third"
        seen.append("third")
        assert seen == ["first", "second", "third"]
        ```
        """,
    )
    order = []
    namespace = docs_examples.run_page(
        page, tmp_path, after_block=lambda block, ns: order.append((block.line, list(ns["seen"])))
    )
    assert namespace["seen"] == ["first", "second", "third"]
    assert order == [
        (2, ["first"]),
        (12, ["first", "second"]),
        (16, ["first", "second", "third"]),
    ]
    # where each block's closing fence is (the figures hook inserts plots after it)
    lines = page.read_text(encoding="utf-8").splitlines()
    ends = [b.end for b in docs_examples.blocks(page)]
    assert ends == [3, 13, 18]
    assert all(lines[end - 1].strip() == "```" for end in ends)


def test_blocks_run_in_the_workdir_and_page_classes_pickle(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    page = _page(
        tmp_path,
        """
        ```python
        from pathlib import Path


        class Point:
            x = 1


        Path("out.txt").write_text("written")
        ```
        """,
    )
    namespace = docs_examples.run_page(page, workdir)
    assert (workdir / "out.txt").read_text() == "written"
    assert Path.cwd() != workdir and not (Path.cwd() / "out.txt").exists()
    assert type(pickle.loads(pickle.dumps(namespace["Point"]()))).x == 1


def test_interactive_blocks_are_checked_as_doctests(tmp_path):
    page = _page(
        tmp_path,
        """
        ```python
        total = 40
        ```

        ```python
        >>> total + 2
        42
        >>> print("a   b")
        a b

        ```

        ```python
        >>> total
        41

        ```
        """,
    )
    with pytest.raises(docs_examples.DocsExampleError) as err:
        docs_examples.run_page(page, tmp_path)
    message = str(err.value)
    assert f'File "{page}", line 14' in message and "Expected:\n    41\nGot:\n    40" in message
    assert [b.is_doctest for b in docs_examples.blocks(page)] == [False, True, True]
