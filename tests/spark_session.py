"""ONE local SparkSession per test session for the Spark tests (``from spark_session import spark``).

``local[2]``, two shuffle partitions, no UI, Arrow on, UTC session time zone;
stopped at the end of the session. pyspark is a test dependency (a missing one is an
error). Java is not a Python package: on a machine without it the Spark tests are skipped,
unless ``UNIML_REQUIRE_SPARK=1`` (set by ``.ci/run``, which installs Java) makes that a
failure, so CI can never pass with the Spark tests silently not run.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

__all__ = ["spark"]


@pytest.fixture(scope="session")
def spark():
    """The test session's local SparkSession."""
    from pyspark.sql import SparkSession

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "Spark needs Java (.ci/run installs openjdk-17-jre-headless)"
        if os.environ.get("UNIML_REQUIRE_SPARK") == "1":
            pytest.fail(reason)
        pytest.skip(reason)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("uniml-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
