"""Fixtures shared by the tests in ``tests/`` and the doctests in ``src/uniml``."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _lineage_worker_idle():
    """Let queued lineage finish inside the test that queued it.

    The lineage worker thread may still be opening a SQLite store (MLflow runs
    its migrations, which fill ``linecache``) when the next test starts; on
    Python 3.11 ``linecache.checkcache`` in the main thread then races with it
    and raises ``KeyError``. Waiting here keeps each test's background work
    inside that test.
    """
    yield
    worker = sys.modules.get("uniml.lineage._mlflow")
    if worker is not None:
        try:
            worker.flush(120)
        except Exception:  # a test that left lineage failing has already reported it
            pass
