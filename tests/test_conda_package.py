"""The offline conda smoke build (tools/conda/package.py): the meta.yaml -> v1 conversion as
rattler-build itself reads it, the repodata comparison, the stand-in closure, and one real
build that is tested, indexed, installed into a fresh prefix and run from there."""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.conda import package  # noqa: E402
from tools.conda.package import (  # noqa: E402
    SMOKE_BUILD_PREFIX,
    SMOKE_SUMMARY,
    PackageBuildError,
    _check_repodata,
    build_smoke_package,
    conda_to_pypi,
    installed_closure,
    to_v1_recipe,
)
from tools.conda.recipe import PYPI_TO_CONDA, outputs, pypi_to_conda, render, split_spec  # noqa: E402

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VARIANT = {"python_min": f"{sys.version_info[0]}.{sys.version_info[1]}"}


@pytest.fixture(scope="module")
def meta():
    return render(ROOT, "linux-64", variant=VARIANT)


def test_v1_recipe_carries_the_rendered_recipe(meta):
    v1 = to_v1_recipe(meta, ROOT)
    by_name = {o["package"]["name"]: o for o in v1["outputs"]}
    core = by_name[PROJECT["name"]]
    assert core["package"]["version"] == PROJECT["version"]
    assert core["build"]["noarch"] == "python"
    assert (
        core["build"]["script"]
        == "${{ PYTHON }} -m pip install . --no-deps --no-build-isolation -vv"
    )
    assert core["build"]["python"]["entry_points"] == [
        f"{k} = {v}" for k, v in PROJECT["scripts"].items()
    ]
    # conda-build's bare `python 3.11` means 3.11.*; rattler-build needs that spelled out
    assert f"python {VARIANT['python_min']}.*" in core["requirements"]["host"]
    assert core["tests"][0]["python"]["imports"][0] == "uniml"
    assert "uniml adapters" in core["tests"][1]["script"]
    pin = by_name[PROJECT["name"] + "-all"]["requirements"]["run"][0]
    assert pin == '${{ pin_subpackage("uniml", exact=True) }}'


def test_every_smoke_output_is_marked_never_to_publish(meta):
    v1 = to_v1_recipe(meta, ROOT)
    assert "never publish" in v1["extra"]["smoke-build"]
    for out in v1["outputs"]:
        assert out["build"]["string"].startswith(SMOKE_BUILD_PREFIX)
        assert out["about"]["summary"].startswith(SMOKE_SUMMARY)
    release = to_v1_recipe(meta, ROOT, smoke=False)
    assert "extra" not in release and all("string" not in o["build"] for o in release["outputs"])


def test_rattler_build_renders_the_converted_recipe_to_the_same_requirements(meta, tmp_path):
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe

    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(to_v1_recipe(meta, ROOT), sort_keys=False))
    recipe = Stage0Recipe.from_file(tmp_path / "recipe.yaml")
    rendered = recipe.render(
        render_config=RenderConfig(platform=PlatformConfig(target_platform="linux-64"))
    )
    expected = {name: out.run for name, out in outputs(meta).items()}
    assert {v.recipe.package.name for v in rendered} == set(expected)
    for variant in rendered:
        name = variant.recipe.package.name
        run = [str(r) for r in variant.recipe.requirements.run]
        if name == PROJECT["name"]:
            assert sorted(split_spec(r) for r in run) == sorted(
                split_spec(r) for r in expected[name]
            )
        else:  # the exact pin is resolved from the sibling output
            assert len(run) == len(expected[name])


def test_stand_ins_cover_the_core_build_and_with_all_every_wrapped_library(meta):
    from tools.conda.package import _requirements_to_offer

    found = outputs(meta)
    core = _requirements_to_offer(found, PROJECT["name"])
    assert {"python", "pip", "hatchling"} <= set(core)
    assert {split_spec(pypi_to_conda(d))[0] for d in PROJECT["dependencies"]} <= set(core)
    assert "py-xgboost" not in core and PROJECT["name"] not in core
    everything = _requirements_to_offer(found, PROJECT["name"], with_all=True)
    wrapped = {split_spec(s)[0] for s in found[PROJECT["name"] + "-all"].run} - {PROJECT["name"]}
    assert wrapped <= set(everything) and PROJECT["name"] not in everything


def test_conda_names_map_back_to_their_pypi_distributions():
    for pypi, conda in PYPI_TO_CONDA.items():
        assert conda_to_pypi(conda) == pypi
        assert split_spec(pypi_to_conda(pypi))[0] == conda


def test_installed_closure_follows_requires_dist():
    closure = installed_closure("pandas")
    assert closure[0] == "pandas"
    # independently: every unconditional requirement pandas declares is in the closure
    for item in distribution("pandas").requires or []:
        if ";" not in item:
            name = item.split(">")[0].split("=")[0].split("<")[0].strip().lower().replace("_", "-")
            assert name in closure
    with pytest.raises(PackageBuildError, match="not installed"):
        installed_closure("surely-not-an-installed-distribution")


def _fake_channel(tmp_path: Path, depends: list[str]) -> Path:
    noarch = tmp_path / "channel" / "noarch"
    noarch.mkdir(parents=True)
    record = {
        "name": "uniml",
        "version": PROJECT["version"],
        "build": f"{SMOKE_BUILD_PREFIX}_x_0",
        "depends": depends,
    }
    (noarch / "repodata.json").write_text(json.dumps({"packages.conda": {"uniml-x.conda": record}}))
    return tmp_path / "channel"


def test_repodata_check_compares_depends_with_the_rendered_run_requirements(meta, tmp_path):
    core = {PROJECT["name"]: outputs(meta)[PROJECT["name"]]}
    run = list(core[PROJECT["name"]].run)
    assert _check_repodata(_fake_channel(tmp_path / "a", run), core)["uniml"]["depends"] == run
    with pytest.raises(PackageBuildError, match="repodata depends"):
        _check_repodata(_fake_channel(tmp_path / "b", run[:-1]), core)
    with pytest.raises(PackageBuildError, match="repodata depends"):
        _check_repodata(_fake_channel(tmp_path / "c", [*run, "requests >=2"]), core)


def test_public_modules_missing_from_test_imports_fail(meta):
    from tools.conda.package import _check_test_imports, public_module_report

    python = Path(sys.prefix) / "bin" / "python"
    report = public_module_report(python, PROJECT["name"], dict(os.environ))
    assert report["uniml.core.schema"] == "ok" and "uniml.core._private" not in report
    core = outputs(meta)[PROJECT["name"]]
    core.test_imports = sorted(
        m for m, state in report.items() if state == "ok" and m != "uniml.core.schema"
    )
    with pytest.raises(
        PackageBuildError, match=r"not in meta.yaml's test.imports: uniml.core.schema$"
    ):
        _check_test_imports(Path(sys.prefix), PROJECT["name"], core, [], dict(os.environ))


def test_repodata_check_requires_the_metapackage_to_pin_the_build_made_with_it(meta, tmp_path):
    found = outputs(meta)
    core_run, all_run = found[PROJECT["name"]].run, found[PROJECT["name"] + "-all"].run
    version = PROJECT["version"]

    def channel(folder: str, pinned_build: str) -> Path:
        noarch = tmp_path / folder / "noarch"
        noarch.mkdir(parents=True)
        core = {
            "name": "uniml",
            "version": version,
            "build": f"{SMOKE_BUILD_PREFIX}_a_0",
            "depends": core_run,
        }
        pin = f"uniml =={version} {pinned_build}"
        everything = {
            "name": "uniml-all",
            "version": version,
            "build": f"{SMOKE_BUILD_PREFIX}_b_0",
            "depends": [pin, *all_run[1:]],
        }
        packages = {"uniml-a.conda": core, "uniml-all-b.conda": everything}
        (noarch / "repodata.json").write_text(json.dumps({"packages.conda": packages}))
        return tmp_path / folder

    assert set(_check_repodata(channel("ok", f"{SMOKE_BUILD_PREFIX}_a_0"), found)) == {
        "uniml",
        "uniml-all",
    }
    with pytest.raises(PackageBuildError, match="but the uniml built alongside is"):
        _check_repodata(channel("stale", f"{SMOKE_BUILD_PREFIX}_old_0"), found)


def test_module_importing_an_undeclared_library_fails(tmp_path):
    from tools.conda.package import _check_test_imports
    from tools.conda.recipe import Output

    package_dir = tmp_path / "site" / "fakepkg"
    package_dir.mkdir(parents=True)
    (package_dir / "__init__.py").write_text("")
    (package_dir / "plain.py").write_text("import json\n")
    (package_dir / "wrapped.py").write_text("import uniml_test_absent_library\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = Output("fakepkg", "1", test_imports=["fakepkg", "fakepkg.plain"])
    declared = {"name": "fakepkg", "optional-dependencies": {"x": ["uniml-test-absent-library>=1"]}}
    _check_test_imports(Path(sys.prefix), "fakepkg", out, [], env, declared)  # an extra: fine
    undeclared = {"name": "fakepkg", "dependencies": ["numpy"]}
    with pytest.raises(
        PackageBuildError, match="fakepkg.wrapped imports 'uniml_test_absent_library'"
    ):
        _check_test_imports(Path(sys.prefix), "fakepkg", out, [], env, undeclared)


def test_license_check_fails_for_a_package_without_its_license_file(tmp_path):
    from rattler_build import assemble_package
    from tools.conda.package import _check_licenses
    from tools.conda.recipe import Output

    (tmp_path / "files" / "site-packages").mkdir(parents=True)
    (tmp_path / "files" / "site-packages" / "x.py").write_text("", encoding="utf-8")
    assemble_package(
        name="nolicense",
        version="1.0",
        target_platform="noarch",
        build_string="0",
        output_dir=tmp_path / "out",
        files_dir=tmp_path / "files",
        noarch="python",
        compression_level=1,
    )
    (archive,) = (tmp_path / "out").glob("*.conda")
    found = {"nolicense": Output("nolicense", "1.0", license_file="LICENSE")}
    with pytest.raises(PackageBuildError, match="no info/licenses/LICENSE"):
        _check_licenses({"nolicense": archive}, found, ROOT, tmp_path / "extracted")


def test_workdir_must_start_empty(tmp_path):
    (tmp_path / "stale.conda").write_text("")
    with pytest.raises(PackageBuildError, match="not empty"):
        build_smoke_package(ROOT, tmp_path, log=lambda message: None)


@pytest.mark.slow
def test_smoke_build_installs_and_runs_from_a_fresh_prefix(tmp_path):
    from rattler.package import IndexJson, PathsJson
    from rattler.package_streaming import extract

    result = build_smoke_package(ROOT, tmp_path / "work", log=lambda message: None)
    core, everything = result.packages[PROJECT["name"]], result.packages[PROJECT["name"] + "-all"]
    assert core.suffix == ".conda" and core.name.startswith(
        f"uniml-{PROJECT['version']}-{SMOKE_BUILD_PREFIX}"
    )

    # the archive itself, read independently of the repodata the builder checked
    index = IndexJson.from_package_archive(core)
    expected = {split_spec(pypi_to_conda(d)) for d in PROJECT["dependencies"]}
    expected.add(("python", f">={VARIANT['python_min']}"))
    assert {split_spec(d) for d in index.depends} == expected
    assert index.noarch.python
    files = [str(p.relative_path) for p in PathsJson.from_package_archive(core).paths]
    assert "site-packages/uniml/__init__.py" in files
    assert PathsJson.from_package_archive(everything).paths == []  # a metapackage
    for name, archive in result.packages.items():  # the license travels with each package
        extract(archive, tmp_path / "read" / name)
        shipped = tmp_path / "read" / name / "info" / "licenses" / "LICENSE"
        assert shipped.read_bytes() == (ROOT / "LICENSE").read_bytes()

    # the prefix has the core dependencies and nothing else from this environment
    python = result.prefix / "bin" / "python"
    probe = "import importlib.util as u; print(u.find_spec('numpy') is not None, u.find_spec('xgboost') is None)"
    assert subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split() == [
        "True",
        "True",
    ]
    version = subprocess.run(
        [result.prefix / "bin" / "uniml", "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and PROJECT["version"] in version.stdout
    assert any(
        "uniml adapters" in line and "sklearn.estimator" in line for line in result.transcript
    )


@pytest.mark.slow
def test_smoke_build_fails_when_a_recipe_test_fails(tmp_path):
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("meta.yaml", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, tree / name)
    meta_text = (tree / "meta.yaml").read_text(encoding="utf-8")
    (tree / "meta.yaml").write_text(
        meta_text.replace(
            "        - uniml adapters\n",
            "        - uniml adapters\n        - uniml no-such-command\n",
        ),
        encoding="utf-8",
    )
    with pytest.raises(PackageBuildError, match="rattler-build"):
        build_smoke_package(tree, tmp_path / "work", log=lambda message: None)
    assert not list((tmp_path / "work").glob("prefix*"))  # nothing was installed


def test_docstring_examples():
    outcome = doctest.testmod(package, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 5 and outcome.failed == 0


def test_release_workflow_runs_on_tags_and_refuses_smoke_builds():
    workflow = yaml.safe_load(
        (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    )
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as True
    assert triggers["push"]["tags"] == ["v*"]
    steps = {
        job: " ".join(str(s.get("run", "")) for s in spec["steps"])
        for job, spec in workflow["jobs"].items()
    }
    for session in ("lint", "typecheck", "tests", "docs", "conda_recipe", "conda_package"):
        assert f" {session}" in steps["verify"], session  # what .ci/run gates on, and the tests
    assert "--override-channels" in steps["build"]
    # the guard looks for exactly the marker the smoke build puts in every build string
    assert SMOKE_BUILD_PREFIX in steps["build"] and SMOKE_BUILD_PREFIX in steps["publish"]
    assert workflow["jobs"]["publish"]["environment"] == "release"
    assert (
        workflow["jobs"]["publish"]["needs"] == "build"
        and workflow["jobs"]["build"]["needs"] == "verify"
    )
