"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s docs`,
`nox -s benchmarks`, `nox -s demo`, `nox -s conda_recipe`, `nox -s conda_package`
(see docs/distribution.md)."""

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, property, conformance, parity, doctests) with coverage."""
    session.install("-e", ".[all,test]")
    session.run(
        "python",
        "-m",
        "pytest",
        "-n",
        "auto",
        "--cov=uniml",
        "--cov-report=term-missing:skip-covered",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint rules + formatter in check mode) and lint-imports (the layer contracts)."""
    session.install(RUFF)  # pinned: the formatter's style changes between releases
    paths = ["src", "tests", "benchmarks", "tools", "docs", "noxfile.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)
    # the one-way layers of DESIGN.md (contracts in pyproject.toml's [tool.importlinter])
    session.install("import-linter>=2.1")
    session.install("-e", ".", "--no-deps")  # the package's source, not its dependencies
    session.run("lint-imports", "--no-cache")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy over src/uniml with the settings in pyproject.toml (check_untyped_defs on)."""
    session.install(MYPY, "-e", ".[all]")  # the installed libraries' own type hints count
    session.run("mypy", *session.posargs)


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Adapter-vs-raw-library ratios; pass `-- --quick` for a short run."""
    session.install("-e", ".[all,test]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The demo over every installed adapter; pass e.g. `-- --only lightgbm.regressor --folds 2`."""
    session.install("-e", ".[all]")
    tmp = Path(session.create_tmp())
    # the demo's lineage goes to the session's tmp, not to a mlruns.db in the checkout
    session.run(
        "python",
        "-m",
        "uniml.demo",
        "--out",
        str(tmp / "uniml-demo"),
        *session.posargs,
        env={
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlruns.db'}",
            "UNIML_LINEAGE_SPOOL": str(tmp / "lineage-spool"),
        },
    )


# the docs toolchain's pins (mkdocs-material with mkdocstrings' Python handler)
@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The mkdocs site with its API reference; `--strict` turns every warning into a failure."""
    session.install("-e", ".[all,docs]")  # the docs tool pins live in pyproject's `docs` extra
    session.run("mkdocs", "build", "--strict", "-d", "build/site", env={"NO_MKDOCS_2_WARNING": "1"})
    # every public class and function rendered in the reference, with a complete numpydoc docstring
    session.run("python", "-m", "tools.api_docs", "build/site")


# the conda tooling's own pins; the package's dependencies come from pyproject.toml
CONDA_RECIPE_DEPS = ["jinja2==3.1.6", "pyyaml==6.0.3", "packaging==26.3"]
CONDA_PACKAGE_DEPS = [
    *CONDA_RECIPE_DEPS,
    "py-rattler-build==0.73.0",
    "py-rattler==0.28.0",
    "hatchling==1.33.0",
]


@nox.session(python=PYTHON)
def conda_recipe(session: nox.Session) -> None:
    """Render meta.yaml like conda-build (linux-64, osx-arm64, win-64) and check it against pyproject.toml."""
    session.install(*CONDA_RECIPE_DEPS)
    session.run("python", "-m", "tools.conda.recipe", ".")


@nox.session(python=PYTHON)
def conda_package(session: nox.Session) -> None:
    """Offline smoke build of the conda packages: build + recipe tests, index, repodata, install, run.

    The stand-in channel offers what this session's virtualenv has installed: the build
    backend, pip, and every dependency of uniml and of the `all` extra, at their installed
    versions; `uniml` and `uniml-all` are each installed into a fresh prefix and run.
    """
    pyproject = nox.project.load_toml("pyproject.toml")
    session.install(*CONDA_PACKAGE_DEPS, "pip", *pyproject["build-system"]["requires"], ".[all]")
    workdir = Path(session.create_tmp()) / "conda-smoke"
    shutil.rmtree(workdir, ignore_errors=True)  # every smoke build starts from nothing
    session.run(
        "python",
        "-m",
        "tools.conda.package",
        ".",
        "--workdir",
        str(workdir),
        "--with-all",
        *session.posargs,
    )


# `nox -s oldest`: the lowest versions pyproject.toml declares (tools/oldest.py pins each
# floor), on the CI Python. Left out (docs/distribution.md): prophet (CmdStan) and recsys
# (lightfm builds from source), and causal, whose floor dowhy 0.14 needs numpy > 2.0, so it
# cannot share an environment with the numpy 1.26 floor.
OLDEST_EXTRAS = ["xgboost", "lightgbm", "statsmodels", "mlflow", "plot", "parquet"]
OLDEST_MODULES = ["xgboost", "lightgbm", "statsmodels", "mlflow", "matplotlib"]
OLDEST_TESTS = [
    "tests/test_tabular.py",
    "tests/test_persistence.py",
    "tests/test_statsmodels.py",
    "tests/test_sklearn_compat.py",
    "tests/test_lineage.py",
]


@nox.session(python=PYTHON)
def oldest(session: nox.Session) -> None:
    """The core tests at the lowest declared versions (a missing library fails, never skips)."""
    constraints = Path(session.create_tmp()) / "oldest-constraints.txt"
    pins = session.run("python", "-m", "tools.oldest", *OLDEST_EXTRAS, silent=True, external=True)
    constraints.write_text(str(pins))
    session.log(f"floors:\n{pins}")
    extras = ",".join(OLDEST_EXTRAS)
    session.install("-c", str(constraints), "-e", f".[{extras}]", "pytest>=8", "hypothesis>=6.100")
    # every library of the chosen extras must import: a missing one fails here, not as skips
    session.run("python", "-c", f"import {', '.join(OLDEST_MODULES)}")
    session.run(
        "python", "-m", "pytest", "-p", "no:randomly", "-q", *OLDEST_TESTS, *session.posargs
    )
