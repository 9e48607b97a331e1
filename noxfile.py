"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s benchmarks`."""

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, property, conformance, parity, doctests) with coverage."""
    session.install("-e", ".[all,test]")
    session.run(
        "python", "-m", "pytest", "-n", "auto", "--cov=uniml", "--cov-report=term-missing:skip-covered",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting rules from pyproject.toml."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Adapter-vs-raw-library ratios; pass `-- --quick` for a short run."""
    session.install("-e", ".[all,test]")
    session.run("python", "benchmarks/run.py", *session.posargs)
