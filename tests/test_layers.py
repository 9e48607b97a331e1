"""The one-way layers of DESIGN.md, as import-linter contracts in pyproject.toml.

`lint-imports` must pass on the source tree with no ignore lists, and must fail
when a core module reaches up into the adapters or imports MLflow: each
contract is checked to be able to break, on a copy of the package.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _lint(src: Path, config: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        timeout=300,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of src/uniml and pyproject.toml that a test may break."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "src" / "uniml", root / "src" / "uniml")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_contracts_have_no_ignore_lists():
    contracts = _config()["contracts"]
    assert {c["id"] for c in contracts} >= {"layers", "core-deps", "adapters-below-lineage"}
    assert not [c["id"] for c in contracts if c.get("ignore_imports")]


def test_the_source_tree_keeps_every_contract():
    result = _lint(ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/schema.py", "import uniml.adapters.lightgbm", "Layers"),
        ("core/schema.py", "import mlflow", "The core imports no wrapped library"),
        ("core/tasks.py", "from uniml import lineage", "Layers"),
        ("adapters/xgboost.py", "import uniml.evaluation", "Adapters never import"),
        ("lineage/_card.py", "import uniml.evaluation.gates", "Layers"),
    ],
)
def test_a_broken_layer_fails_the_check(package_copy, module, line, contract):
    target = package_copy / "src" / "uniml" / module
    original = target.read_text()
    target.write_text(original + f"\n{line}  # noqa\n")
    try:
        result = _lint(package_copy / "src", package_copy / "pyproject.toml")
    finally:
        target.write_text(original)
    assert result.returncode == 1, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    assert module.replace("/", ".").removesuffix(".py") in broken


def test_builtin_adapters_join_through_the_entry_point_group():
    import uniml
    from uniml.core.catalog import ENTRY_POINT_GROUP, get_adapter_class

    ours = {
        ep.value
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name == "uniml"
    }
    modules = {get_adapter_class(name).__module__ for name in uniml.catalog()["name"]} - {None}
    builtin = {m for m in modules if m.startswith("uniml.adapters.")}
    assert builtin == ours
    # and the core names no adapter module, not even as a string for importlib
    # ("uniml.adapters" alone is the entry-point group's name)
    named = re.compile(r"uniml\.adapters\.\w|import_module\([\"']uniml\.adapters")
    core = (ROOT / "src" / "uniml" / "core").glob("*.py")
    assert not [p.name for p in core if named.search(p.read_text())]


def test_catalog_is_the_plain_function_and_adapters_its_alias():
    import uniml
    from uniml.core import catalog

    assert uniml.catalog is catalog.catalog
    assert uniml.catalog().equals(uniml.adapters())
