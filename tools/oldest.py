"""Pin every declared dependency of uniml to its floor, for ``nox -s oldest``.

Reads ``pyproject.toml`` and prints pip constraints (``name==floor``) for the core
dependencies and the extras given on the command line, so the oldest session
installs exactly the lowest versions uniml declares it supports.

Usage: ``python -m tools.oldest xgboost lightgbm > constraints.txt``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

_FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def floors(pyproject: Path, extras: list[str]) -> dict[str, str]:
    """``{distribution: lowest declared version}`` for the core and the chosen extras."""
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = list(project["dependencies"])
    optional = project["optional-dependencies"]
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"unknown extra {extra!r}; pyproject declares {sorted(optional)}")
        specs += optional[extra]
    out: dict[str, str] = {}
    for spec in specs:
        match = _FLOOR.match(spec)
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


def main(argv: list[str]) -> int:
    for name, version in sorted(floors(Path("pyproject.toml"), argv).items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
