"""The conda recipe checker (tools/conda/recipe.py): the real meta.yaml passes, and each kind
of drift between meta.yaml and pyproject.toml makes it fail. Every mutation is made on a
copy in tmp_path; the repository's files are only read."""

from __future__ import annotations

import doctest
import re
import shutil
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.conda import recipe  # noqa: E402
from tools.conda.recipe import (  # noqa: E402
    PLATFORMS,
    RecipeError,
    SelectorError,
    TemplateError,
    check,
    outputs,
    pypi_to_conda,
    render,
    split_spec,
)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of what the recipe reads: meta.yaml, pyproject.toml, LICENSE and the package sources."""
    shutil.copy2(ROOT / "meta.yaml", tmp_path / "meta.yaml")
    shutil.copy2(ROOT / "LICENSE", tmp_path / "LICENSE")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


# ----------------------------------------------------------------------------- the real recipe


def test_real_recipe_agrees_with_pyproject():
    assert check(ROOT) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rendered_recipe_matches_an_independent_reading_of_pyproject(platform):
    found = outputs(render(ROOT, platform))
    core, everything = found[PROJECT["name"]], found[PROJECT["name"] + "-all"]
    assert core.version == PROJECT["version"]
    assert core.noarch == "python"
    # the run requirements, re-derived here by plain string handling rather than packaging
    expected = {"python": ">=" + PROJECT["requires-python"].removeprefix(">=")}
    for dep in PROJECT["dependencies"]:
        name, op, version = re.match(r"([A-Za-z0-9_.-]+)\s*(>=|==|<=|~=)\s*(\S+)", dep).groups()
        expected[name.lower()] = op + version
    assert {split_spec(r)[0]: split_spec(r)[1] for r in core.run} == expected
    assert core.entry_points == [f"{k} = {v}" for k, v in PROJECT["scripts"].items()]
    assert "uniml --help" in core.test_commands and "uniml adapters" in core.test_commands
    assert f"{PROJECT['name']} =={PROJECT['version']}" in everything.run
    # every wrapped library of the `all` extra, by its conda-forge name
    names = {split_spec(r)[0] for r in everything.run}
    assert {
        "py-xgboost",
        "lightgbm",
        "prophet",
        "statsmodels",
        "dowhy",
        "econml",
        "lightfm",
        "mlflow",
    } <= names


def test_selectors_differ_per_platform_only_in_the_test_commands():
    unix = outputs(render(ROOT, "linux-64"))["uniml"]
    win = outputs(render(ROOT, "win-64"))["uniml"]
    assert unix.run == win.run and unix.host == win.host
    assert any("bin/uniml" in c for c in unix.test_commands)
    assert any("Scripts" in c for c in win.test_commands)
    assert not any("Scripts" in c for c in unix.test_commands)


# ----------------------------------------------------------------------------- drift


def test_new_core_dependency_fails(tree):
    edit(tree / "pyproject.toml", '"pluggy>=1.5",', '"pluggy>=1.5",\n    "requests>=2.31",')
    problems = check(tree)
    assert any("missing 'requests >=2.31'" in p for p in problems), problems
    assert all(p.startswith("[") for p in problems)  # reported once per platform
    assert sum("requests" in p for p in problems) == len(PLATFORMS)


def test_new_dependency_with_a_conda_name_is_expected_under_that_name(tree):
    edit(tree / "pyproject.toml", '"pluggy>=1.5",', '"pluggy>=1.5",\n    "matplotlib>=3.7",')
    problems = check(tree)
    assert any("missing 'matplotlib-base >=3.7'" in p for p in problems), problems


def test_changed_lower_bound_fails(tree):
    edit(tree / "pyproject.toml", '"numpy>=1.26"', '"numpy>=2.0"')
    problems = check(tree)
    assert any("'numpy >=1.26' should be 'numpy >=2.0'" in p for p in problems), problems


def test_dependency_only_in_the_recipe_fails(tree):
    edit(tree / "meta.yaml", "        - pluggy >=1.5\n", "        - pluggy >=1.5\n        - tqdm\n")
    problems = check(tree)
    assert any("'tqdm' is not in pyproject.toml" in p for p in problems), problems


def test_new_extra_dependency_fails_the_all_metapackage(tree):
    edit(
        tree / "pyproject.toml",
        'parquet = ["pyarrow>=15"]',
        'parquet = ["pyarrow>=15", "fastparquet>=2024.2"]',
    )
    problems = check(tree)
    assert any("uniml-all run: missing 'fastparquet >=2024.2'" in p for p in problems), problems


def test_new_script_fails(tree):
    edit(
        tree / "pyproject.toml",
        'uniml = "uniml.cli:main"',
        'uniml = "uniml.cli:main"\nuniml-eval = "uniml.cli:evaluate"',
    )
    problems = check(tree)
    assert any("entry point uniml-eval = uniml.cli:evaluate missing" in p for p in problems), (
        problems
    )
    assert any("test.commands must run 'uniml-eval --help'" in p for p in problems), problems


def test_retargeted_script_fails(tree):
    edit(tree / "pyproject.toml", 'uniml = "uniml.cli:main"', 'uniml = "uniml.cli:run"')
    problems = check(tree)
    assert any(
        "entry point uniml -> uniml.cli:main, pyproject says uniml.cli:run" in p for p in problems
    )


def test_version_typed_by_hand_fails_even_when_it_is_right(tree):
    edit(
        tree / "meta.yaml",
        '{% set version = project["version"] %}',
        f'{{% set version = "{PROJECT["version"]}" %}}',
    )
    problems = check(tree)
    assert any("version is typed in meta.yaml" in p for p in problems), problems


def test_version_typed_by_hand_and_stale_fails(tree):
    edit(tree / "pyproject.toml", f'version = "{PROJECT["version"]}"', 'version = "0.2.0"')
    edit(tree / "meta.yaml", "  version: {{ version }}", f"  version: {PROJECT['version']}")
    problems = check(tree)
    assert any(
        f"version {PROJECT['version']!r} != pyproject.toml's '0.2.0'" in p for p in problems
    ), problems


def test_python_bound_typed_by_hand_fails(tree):
    edit(tree / "meta.yaml", "        - python >={{ python_min }}", "        - python >=3.10")
    problems = check(tree)
    assert any("Python bound is typed in meta.yaml" in p for p in problems), problems


def test_requires_python_that_the_recipe_cannot_mirror_fails(tree):
    edit(tree / "pyproject.toml", 'requires-python = ">=3.10"', 'requires-python = ">=3.10,<3.14"')
    with pytest.raises(RecipeError, match="single '>=X.Y' bound"):
        check(tree)


def test_typo_in_a_selector_fails_rendering(tree):
    edit(tree / "meta.yaml", "# [unix]", "# [unx]")
    with pytest.raises(SelectorError, match=r"selector \[unx\] uses an unknown name 'unx'"):
        check(tree)


def test_selector_that_is_not_an_expression_fails(tree):
    edit(tree / "meta.yaml", "# [win]", "# [win and]")
    with pytest.raises(SelectorError, match="not a valid expression"):
        check(tree)


def test_undefined_jinja_name_fails_rendering(tree):
    edit(tree / "meta.yaml", '{{ project["license"] }}', '{{ projct["license"] }}')
    with pytest.raises(TemplateError, match="'projct' is undefined"):
        check(tree)


def test_git_describe_names_exist_only_with_a_tag(tree):
    # the copy is not a git checkout: conda-build would leave GIT_DESCRIBE_TAG undefined
    edit(
        tree / "meta.yaml",
        '{{ environ.get("UNIML_BUILD_NUMBER", "0") }}',
        "{{ GIT_DESCRIBE_NUMBER }}",
    )
    with pytest.raises(TemplateError, match="GIT_DESCRIBE_NUMBER"):
        check(tree)


def test_removed_test_section_fails(tree):
    meta = (tree / "meta.yaml").read_text(encoding="utf-8")
    start = meta.index("    test:\n")
    end = meta.index("    about:\n", start)
    (tree / "meta.yaml").write_text(meta[:start] + meta[end:], encoding="utf-8")
    problems = check(tree)
    assert any("test.imports is empty" in p for p in problems), problems
    assert any("test.commands must run 'uniml --help'" in p for p in problems), problems


def test_test_import_of_a_module_that_does_not_exist_fails(tree):
    edit(
        tree / "meta.yaml",
        "        - uniml.core.errors\n",
        "        - uniml.core.errors\n        - uniml.core.nothing\n",
    )
    problems = check(tree)
    assert any("'uniml.core.nothing', which is not in the source tree" in p for p in problems), (
        problems
    )


def test_license_typed_differently_fails(tree):
    edit(
        tree / "meta.yaml",
        '      license: {{ project["license"] }}\n      license_file: {{ project["license-files"][0] }}\n\n  - name:',
        '      license: MIT\n      license_file: {{ project["license-files"][0] }}\n\n  - name:',
    )
    problems = check(tree)
    assert any(
        "uniml: about.license 'MIT' != pyproject.toml's 'BSD-3-Clause'" in p for p in problems
    ), problems


def test_missing_license_file_fails(tree):
    edit(tree / "meta.yaml", '  license_file: {{ project["license-files"][0] }}\n', "", count=3)
    problems = check(tree)
    assert any("uniml: about.license_file is missing" in p for p in problems), problems
    assert any("uniml-all: about.license_file is missing" in p for p in problems), problems


def test_license_file_not_in_the_source_tree_fails(tree):
    (tree / "LICENSE").unlink()
    problems = check(tree)
    assert any("'LICENSE' is not a file in the source tree" in p for p in problems), problems


def test_license_file_typed_by_hand_and_different_from_pyproject_fails(tree):
    (tree / "COPYING").write_text("BSD-3-Clause\n", encoding="utf-8")
    edit(
        tree / "meta.yaml",
        'license_file: {{ project["license-files"][0] }}',
        "license_file: COPYING",
        count=3,
    )
    problems = check(tree)
    assert any(
        "about.license_file 'COPYING' is not in pyproject.toml's license-files ['LICENSE']" in p
        for p in problems
    ), problems


def test_build_script_without_no_deps_fails(tree):
    edit(tree / "meta.yaml", "--no-deps --no-build-isolation", "--no-build-isolation")
    problems = check(tree)
    assert any("build script must run" in p for p in problems), problems


def test_build_backend_missing_from_host_fails(tree):
    edit(
        tree / "pyproject.toml",
        'requires = ["hatchling>=1.21"]',
        'requires = ["hatchling>=1.21", "hatch-vcs>=0.4"]',
    )
    problems = check(tree)
    assert any("host: missing 'hatch-vcs >=0.4'" in p for p in problems), problems


def test_platform_dependent_run_requirement_fails(tree):
    edit(
        tree / "meta.yaml",
        "        - pluggy >=1.5\n",
        "        - pluggy >=1.5\n        - pywin32  # [win]\n",
    )
    problems = check(tree)
    assert any("must not vary by platform" in p for p in problems), problems


def test_command_line_reports_drift_with_exit_status(tree, capsys):
    assert recipe.main([str(tree)]) == 0
    edit(tree / "pyproject.toml", '"pluggy>=1.5",', '"pluggy>=1.5",\n    "requests>=2.31",')
    assert recipe.main([str(tree)]) == 1
    assert "requests" in capsys.readouterr().err


DRIFTS = {
    "new dependency": (
        "pyproject.toml",
        '"pluggy>=1.5",',
        '"pluggy>=1.5",\n    "requests>=2.31",',
        "requests",
    ),
    "new script": (
        "pyproject.toml",
        'uniml = "uniml.cli:main"',
        'uniml = "uniml.cli:main"\nuniml-x = "uniml.cli:x"',
        "uniml-x",
    ),
    "version typed by hand": (
        "meta.yaml",
        "  version: {{ version }}",
        f"  version: {PROJECT['version']}",
        "typed",
    ),
    "typo'd selector": ("meta.yaml", "# [unix]", "# [unixx]", "unixx"),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_the_session_command_exits_non_zero_on_drift(tree, drift):
    """What `nox -s conda_recipe` runs, as a process: each named kind of drift fails it."""
    import subprocess

    command = [sys.executable, "-m", "tools.conda.recipe", str(tree)]
    clean = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    filename, old, new, needle = DRIFTS[drift]
    edit(tree / filename, old, new)
    drifted = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert drifted.returncode == 1
    assert needle in drifted.stderr


# ----------------------------------------------------------------------------- translation


def test_pypi_to_conda_refuses_what_noarch_cannot_express():
    with pytest.raises(RecipeError, match="environment markers"):
        pypi_to_conda("pywin32>=306; sys_platform == 'win32'")
    with pytest.raises(RecipeError, match="extras"):
        pypi_to_conda("dask[dataframe]>=2024.1")


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(
        ["numpy", "Scikit_Learn", "xgboost", "rectools-lightfm", "PyYAML", "rich"]
    ),
    clauses=st.lists(
        st.tuples(
            st.sampled_from([">=", "<", "<=", "!=", "=="]),
            st.lists(st.integers(0, 30), min_size=1, max_size=3),
        ),
        min_size=0,
        max_size=3,
        unique_by=lambda c: c[0],
    ),
)
def test_pypi_to_conda_keeps_every_clause_and_maps_the_name(name, clauses):
    spec = ",".join(op + ".".join(map(str, parts)) for op, parts in clauses)
    conda_name, constraint = split_spec(pypi_to_conda(name + spec))
    canonical = re.sub(r"[-_.]+", "-", name).lower()
    assert conda_name == recipe.PYPI_TO_CONDA.get(canonical, canonical)
    assert sorted(constraint.split(",")) == sorted(c for c in spec.split(",") if c) or (
        not spec and constraint == ""
    )


def test_rendered_yaml_is_what_conda_build_would_parse():
    # no Jinja or selector syntax survives rendering
    from tools.conda.recipe import render_text

    for platform in PLATFORMS:
        text = render_text(ROOT, platform)
        assert "{{" not in text and "{%" not in text
        assert not re.search(r"#\s*\[[^\]]+\]\s*$", text, re.M)
        assert isinstance(yaml.safe_load(text), dict)


def test_docstring_examples():
    result = doctest.testmod(recipe, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


def test_description_with_yaml_syntax_renders_verbatim(tree):
    text = (tree / "pyproject.toml").read_text(encoding="utf-8")
    tricky = 'Models: one API # for \\"all\\" & <every> library\'s {needs}'
    start = text.index("description = ")
    end = text.index("\n", start)
    (tree / "pyproject.toml").write_text(
        text[:start] + f'description = "{tricky}"' + text[end:], encoding="utf-8"
    )
    expected = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "description"
    ]
    meta = render(tree, "linux-64")
    assert meta["about"]["summary"] == expected
    assert outputs(meta)["uniml"].summary == expected
    assert check(tree) == []
