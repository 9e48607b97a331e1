"""Build the noarch uniml conda package offline, test it, index it, install it and run it.

No conda channel is reachable from CI and neither conda nor conda-build installs from
PyPI, so this smoke build uses ``py-rattler-build`` and ``py-rattler`` (both on PyPI):

1. render ``meta.yaml`` with :mod:`tools.conda.recipe` (``python_min`` set to the running
   interpreter) and convert it to a rattler-build v1 ``recipe.yaml``
   (:func:`to_v1_recipe`: bare versions become ranges, ``{{ PYTHON }}`` becomes
   ``${{ PYTHON }}``, entry points move to ``build.python``, tests become v1 tests);
2. write a local **stand-in channel**: a ``python`` package that turns the prefix into a
   virtual environment of the running interpreter, and one package per build and run
   requirement (``pip``, ``hatchling``, ``numpy``, ...) whose only file is a ``.pth``
   pointing at the already-installed distribution and its installed dependencies, at
   its installed version, so the version constraints of the recipe are really solved;
3. build with a fresh ``RATTLER_CACHE_DIR`` (rattler-build keys its cache by file name and
   would otherwise serve a stale build) and run the recipe's tests;
4. copy the packages into the channel, index it with ``py-rattler``, read the repodata back
   and compare each record's ``depends`` with the rendered run requirements;
5. solve and install ``uniml`` into a fresh prefix with ``py-rattler``, import it from
   there and run the ``uniml`` entry point.

Everything it writes is a **smoke build that must never be published**: build strings
start with ``smoke_do_not_publish``, summaries say so, ``extra.smoke-build`` is set, and
the stand-in packages only work on the machine that made them. The release build is
``.github/workflows/release.yml`` against the internal channel.

With ``--with-all`` it also installs ``uniml-all`` into a second prefix and checks that
every wrapped library is there (the running environment then needs every extra).

Run it as ``python -m tools.conda.package [--workdir DIR] [--keep] [--with-all]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib
from tools.conda.recipe import PYPI_TO_CONDA, Output, RecipeError, outputs, render, split_spec

SMOKE_BUILD_PREFIX = "smoke_do_not_publish"
"""Every smoke-built package's build string starts with this; release tooling refuses it."""

SMOKE_SUMMARY = "SMOKE BUILD - NEVER PUBLISH. "
"""Prefixed to every smoke-built package's summary."""

STANDIN_BUILD = "standin_0"
"""Build string of the stand-in packages of the local channel."""


class PackageBuildError(RecipeError):
    """A step of the smoke build failed; the message names the step.

    Examples
    --------
    >>> str(PackageBuildError("repodata: depends differ"))
    'repodata: depends differ'
    """


# --------------------------------------------------------------------------- conversion


def _ranged(spec: str) -> str:
    # conda-build reads `python 3.10` as 3.10.*; rattler-build wants the range spelled out
    name, constraint = split_spec(spec)
    if constraint and re.fullmatch(r"\d+(\.\d+)*", constraint):
        return f"{name} {constraint}.*"
    return " ".join(spec.split())


def to_v1_recipe(
    meta: Mapping[str, Any],
    source: str | os.PathLike[str],
    *,
    smoke: bool = True,
    python_path: str | None = None,
) -> dict[str, Any]:
    """Convert a rendered conda-build ``meta.yaml`` into a rattler-build v1 recipe.

    Parameters
    ----------
    meta : mapping
        The rendered recipe (:func:`tools.conda.recipe.render`).
    source : path-like
        Absolute source directory (replaces ``source: path: .``).
    smoke : bool, default True
        Mark every output as a never-publish smoke build (build string, summary, extra).
    python_path : str, optional
        What ``{{ PYTHON }}`` rendered to; replaced by ``${{ PYTHON }}``. Defaults to the
        renderer's unix stand-in path.

    Returns
    -------
    dict
        The v1 recipe (``schema_version: 1``, ``recipe``, ``source``, ``outputs``).

    Raises
    ------
    RecipeError
        The recipe has no outputs to convert.

    Examples
    --------
    >>> meta = {"package": {"name": "p", "version": "1.0"}, "build": {"number": 0},
    ...         "requirements": {"host": ["python 3.11", "pip"], "run": ["python >=3.11"]}}
    >>> v1 = to_v1_recipe(meta, "/src")
    >>> v1["outputs"][0]["requirements"]["host"]
    ['python 3.11.*', 'pip']
    >>> v1["outputs"][0]["build"]["string"]
    'smoke_do_not_publish_${{ hash }}_0'
    """
    from tools.conda.recipe import HOST_PREFIX_UNIX

    python_path = python_path or f"{HOST_PREFIX_UNIX}/bin/python"
    package = meta["package"]
    number = int((meta.get("build") or {}).get("number", 0))
    found = outputs(meta)
    if not found:
        raise RecipeError("meta.yaml has no outputs")
    converted = []
    for out in found.values():
        build: dict[str, Any] = {"number": number}
        if out.noarch:
            build["noarch"] = out.noarch
        if smoke:
            build["string"] = f"{SMOKE_BUILD_PREFIX}_${{{{ hash }}}}_{number}"
        if out.script:
            build["script"] = out.script.replace(python_path, "${{ PYTHON }}")
        else:
            build["script"] = "true"  # a metapackage: do not inherit a default build script
        if out.entry_points:
            build["python"] = {"entry_points": list(out.entry_points)}
        run = []
        for spec in out.run:
            name, constraint = split_spec(spec)
            if name in found and constraint == f"=={out.version}":
                run.append(f'${{{{ pin_subpackage("{name}", exact=True) }}}}')
            else:
                run.append(_ranged(spec))
        requirements: dict[str, Any] = {"run": run}
        if out.host:
            requirements["host"] = [_ranged(s) for s in out.host]
        tests: list[dict[str, Any]] = []
        if out.test_imports:
            tests.append({"python": {"imports": list(out.test_imports), "pip_check": True}})
        if out.test_commands:
            script_test: dict[str, Any] = {"script": list(out.test_commands)}
            extra = [_ranged(r) for r in out.test_requires if split_spec(r)[0] != "python"]
            if extra:
                script_test["requirements"] = {"run": extra}
            tests.append(script_test)
        entry: dict[str, Any] = {
            "package": {"name": out.name, "version": out.version},
            "build": build,
            "requirements": requirements,
            "about": {
                "summary": (SMOKE_SUMMARY if smoke else "") + (out.summary or ""),
                "license": out.license,
                **({"license_file": out.license_file} if out.license_file else {}),
            },
        }
        if tests:
            entry["tests"] = tests
        converted.append(entry)
    recipe: dict[str, Any] = {
        "schema_version": 1,
        "recipe": {"name": str(package["name"]), "version": str(package["version"])},
        "source": {"path": str(source)},
        "outputs": converted,
    }
    if smoke:
        recipe["extra"] = {
            "smoke-build": "never publish: built against machine-local stand-in packages"
        }
    return recipe


# --------------------------------------------------------------------------- stand-ins


def conda_to_pypi(conda_name: str, mapping: Mapping[str, str] = PYPI_TO_CONDA) -> str:
    """The PyPI distribution a conda-forge package name stands for (inverse of the name map).

    Parameters
    ----------
    conda_name : str
        A conda-forge package name.
    mapping : mapping, default PYPI_TO_CONDA
        PyPI -> conda-forge names.

    Returns
    -------
    str
        The PyPI distribution name.

    Examples
    --------
    >>> conda_to_pypi("py-xgboost"), conda_to_pypi("numpy")
    ('xgboost', 'numpy')
    """
    inverse = {conda: pypi for pypi, conda in mapping.items()}
    return inverse.get(conda_name, conda_name)


def installed_closure(distribution: str) -> list[str]:
    """An installed distribution and every installed distribution it requires, recursively.

    Optional (extra) requirements and requirements whose markers do not hold here are
    left out, as pip would leave them out.

    Parameters
    ----------
    distribution : str
        Distribution name.

    Returns
    -------
    list of str
        Canonical names, ``distribution`` first.

    Raises
    ------
    PackageBuildError
        ``distribution`` or one of its requirements is not installed.

    Examples
    --------
    >>> closure = installed_closure("packaging")
    >>> closure[0]
    'packaging'
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import distribution as get_distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    order: list[str] = []
    pending = [canonicalize_name(distribution)]
    while pending:
        name = pending.pop(0)
        if name in order:
            continue
        try:
            dist = get_distribution(name)
        except PackageNotFoundError:
            raise PackageBuildError(
                f"{name} is not installed in {sys.prefix}; the stand-in channel can only offer installed packages"
            ) from None
        order.append(name)
        for item in dist.requires or []:
            req = Requirement(item)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            pending.append(canonicalize_name(req.name))
    return order


def _top_level_entries(name: str) -> list[Path]:
    from importlib.metadata import distribution as get_distribution

    dist = get_distribution(name)
    entries: dict[str, Path] = {}
    for file in dist.files or []:
        first = file.parts[0]
        if first in {"..", "__pycache__"} or first.endswith(".pth"):
            continue
        entries.setdefault(first, Path(dist.locate_file(first)))
    if not entries:
        raise PackageBuildError(f"{name}: no RECORD of installed files; cannot make a stand-in")
    return [path for path in entries.values() if path.exists()]


def _index(channel: Path) -> None:
    from rattler.index import index_fs

    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def current_subdir() -> str:
    """The conda subdir of this machine (``linux-64``, ``osx-arm64``, ...).

    Returns
    -------
    str
        The subdir.

    Examples
    --------
    >>> current_subdir().split("-")[0] in {"linux", "osx", "win"}
    True
    """
    from rattler import Subdir

    return str(Subdir.current())


def make_standin_channel(
    channel: Path, workdir: Path, conda_names: Iterable[str]
) -> dict[str, str]:
    """Write a local channel whose packages stand in for the running interpreter and installed distributions.

    ``python`` turns the prefix it is installed into into a virtual environment of the
    running interpreter (``pyvenv.cfg`` plus a copy of the interpreter binary, as
    ``python -m venv --copies`` does). Every other package carries one ``.pth`` file that
    adds a private directory of links to the installed distribution and the installed
    distributions it requires, so a prefix sees exactly the packages it was given.

    Parameters
    ----------
    channel : pathlib.Path
        Channel directory to create.
    workdir : pathlib.Path
        Where the link directories go (must outlive every prefix that uses the channel).
    conda_names : iterable of str
        conda-forge names to offer besides ``python``.

    Returns
    -------
    dict
        conda name -> version offered.

    Raises
    ------
    PackageBuildError
        On Windows, or when a distribution is not installed.

    Examples
    --------
    >>> import tempfile
    >>> work = Path(tempfile.mkdtemp())
    >>> offered = make_standin_channel(work / "channel", work, ["packaging"])
    >>> sorted(offered) == ["packaging", "python"]
    True
    >>> sorted(p.name for p in (work / "channel" / "noarch").glob("*.conda"))[0].startswith("packaging-")
    True
    """
    from importlib.metadata import version as installed_version

    from rattler_build import assemble_package

    if sys.platform == "win32":
        raise PackageBuildError("the stand-in channel needs a unix interpreter (copy + pyvenv.cfg)")
    subdir = current_subdir()
    for sub in ("noarch", subdir):
        (channel / sub).mkdir(parents=True, exist_ok=True)
    py_version = ".".join(map(str, sys.version_info[:3]))
    py_short = f"{sys.version_info[0]}.{sys.version_info[1]}"

    stage = workdir / "stage" / "python"
    (stage / "bin").mkdir(parents=True, exist_ok=True)
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    shutil.copy2(base, stage / "bin" / f"python{py_short}")
    for alias in ("python", "python3"):
        if not (stage / "bin" / alias).exists():
            os.symlink(f"python{py_short}", stage / "bin" / alias)
    (stage / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\nversion = {py_version}\n",
        encoding="utf-8",
    )
    site = stage / "lib" / f"python{py_short}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    (site / "UNIML-SMOKE-STANDIN.txt").write_text(
        f"stand-in for the interpreter at {base}; never publish\n", encoding="utf-8"
    )
    offered = {"python": py_version}
    assemble_package(
        name="python",
        version=py_version,
        target_platform=subdir,
        build_string=STANDIN_BUILD,
        output_dir=channel / subdir,
        files_dir=stage,
        summary=SMOKE_SUMMARY + f"stand-in for {base}",
        compression_level=1,
        detect_prefix=False,
    )

    for conda_name in conda_names:
        if conda_name in offered:
            continue
        pypi = conda_to_pypi(conda_name)
        links = workdir / "standin-links" / conda_name
        links.mkdir(parents=True, exist_ok=True)
        for dist in installed_closure(pypi):
            for entry in _top_level_entries(dist):
                target = links / entry.name
                if not target.exists():
                    os.symlink(entry, target)
        stage = workdir / "stage" / conda_name / "site-packages"
        stage.mkdir(parents=True, exist_ok=True)
        (stage / f"_uniml_standin_{conda_name.replace('-', '_')}.pth").write_text(
            f"{links}\n", encoding="utf-8"
        )
        offered[conda_name] = installed_version(pypi)
        assemble_package(
            name=conda_name,
            version=offered[conda_name],
            target_platform="noarch",
            build_string=STANDIN_BUILD,
            output_dir=channel / "noarch",
            files_dir=stage.parent,
            depends=["python"],
            noarch="python",
            summary=SMOKE_SUMMARY + f"stand-in for the installed {pypi}",
            compression_level=1,
            detect_prefix=False,
        )
    _index(channel)
    return offered


# --------------------------------------------------------------------------- the build


@dataclass
class SmokeResult:
    """What the smoke build produced and proved.

    Parameters
    ----------
    packages : dict
        Output name -> path of the built ``.conda``.
    channel : pathlib.Path
        The indexed local channel (stand-ins plus the built packages).
    prefix : pathlib.Path
        The prefix ``uniml`` was installed into.
    repodata : dict
        Output name -> its repodata record.
    transcript : list of str
        Commands run from the prefixes and their output.
    prefix_all : pathlib.Path or None
        The prefix ``uniml-all`` was installed into (with ``with_all=True``).

    Examples
    --------
    >>> SmokeResult({}, Path("c"), Path("p"), {}).transcript
    []
    """

    packages: dict[str, Path]
    channel: Path
    prefix: Path
    repodata: dict[str, dict[str, Any]]
    transcript: list[str] = field(default_factory=list)
    prefix_all: Path | None = None


def _requirements_to_offer(
    found: Mapping[str, Output], core: str, with_all: bool = False
) -> list[str]:
    names: list[str] = []
    out = found[core]
    specs = [*out.host, *out.run, *out.test_requires]
    if with_all:
        specs += [spec for name, other in found.items() if name != core for spec in other.run]
    for spec in specs:
        name = split_spec(spec)[0]
        if name not in names and name not in found:
            names.append(name)
    return names


def _normalised(specs: Iterable[str]) -> list[tuple[str, str]]:
    return sorted(split_spec(s) for s in specs)


def _check_repodata(channel: Path, found: Mapping[str, Output]) -> dict[str, dict[str, Any]]:
    repodata = json.loads((channel / "noarch" / "repodata.json").read_text(encoding="utf-8"))
    records = {**repodata.get("packages", {}), **repodata.get("packages.conda", {})}
    by_name: dict[str, dict[str, Any]] = {}
    for filename, record in records.items():
        if record["name"] in found and record["build"].startswith(SMOKE_BUILD_PREFIX):
            by_name[record["name"]] = {**record, "fn": filename}
    problems = []
    for name, out in found.items():
        record = by_name.get(name)
        if record is None:
            problems.append(f"{name}: not in the indexed channel")
            continue
        if record["version"] != out.version:
            problems.append(
                f"{name}: repodata version {record['version']} != rendered {out.version}"
            )
        # an exact pin of a sibling output gains its build string in the package; drop it
        depends = [
            " ".join(d.split()[:2]) if d.split()[0] in found else d for d in record["depends"]
        ]
        if _normalised(depends) != _normalised(_ranged(r) for r in out.run):
            problems.append(
                f"{name}: repodata depends {sorted(record['depends'])} != rendered run {sorted(out.run)}"
            )
        for dep in record["depends"]:
            parts = dep.split()
            sibling = by_name.get(parts[0])
            if sibling is not None and parts[2:] != [sibling["build"]]:
                problems.append(
                    f"{name}: pins {dep!r}, but the {parts[0]} built alongside is {sibling['build']}"
                )
    if problems:
        raise PackageBuildError("repodata check failed:\n  " + "\n  ".join(problems))
    return by_name


def _install(channel: Path, spec: str, prefix: Path, cache: Path) -> list[str]:
    from rattler import Channel, Gateway, install, solve

    async def go() -> list[str]:
        records = await solve(
            sources=[Channel(channel.as_uri())],
            specs=[spec],
            gateway=Gateway(cache_dir=cache / "repodata"),  # nothing shared between runs
            platforms=[current_subdir(), "noarch"],
        )
        await install(records, target_prefix=prefix, cache_dir=cache, show_progress=False)
        return sorted(f"{r.name.normalized} {r.version} {r.build}" for r in records)

    return asyncio.run(go())


def _run(args: list[str], transcript: list[str], env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, check=False)
    transcript.append(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise PackageBuildError(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def _check_licenses(
    packages: Mapping[str, Path], found: Mapping[str, Output], repo_root: Path, dest: Path
) -> None:
    """Each built package holds its recipe's ``license_file``, byte for byte, under info/licenses."""
    from rattler.package_streaming import extract

    problems = []
    for name, path in packages.items():
        license_file = found[name].license_file
        if not license_file:
            continue  # the recipe checker reports a missing license_file
        extract(path, dest / name)
        shipped = dest / name / "info" / "licenses" / Path(license_file).name
        if not shipped.is_file():
            problems.append(f"{path.name}: no info/licenses/{Path(license_file).name}")
        elif shipped.read_bytes() != (repo_root / license_file).read_bytes():
            problems.append(
                f"{path.name}: info/licenses/{shipped.name} differs from {license_file}"
            )
    if problems:
        raise PackageBuildError("license check failed:\n  " + "\n  ".join(problems))


def build_smoke_package(
    repo_root: str | os.PathLike[str] = ".",
    workdir: str | os.PathLike[str] | None = None,
    *,
    with_all: bool = False,
    log=print,
) -> SmokeResult:
    """Build, test, index, install and run the uniml conda package, offline.

    Parameters
    ----------
    repo_root : path-like, default "."
        The repository (holding ``meta.yaml`` and ``pyproject.toml``).
    workdir : path-like, optional
        A fresh directory for everything the build writes (a new temporary directory
        by default). Must not exist or be empty.
    with_all : bool, default False
        Also install the ``-all`` metapackage into a second prefix and check that every
        wrapped library's distribution is there. Needs every extra installed here (the
        stand-ins are made from them).
    log : callable, default print
        Progress messages.

    Returns
    -------
    SmokeResult
        Paths, repodata records and the transcript of the commands run from the prefix.

    Raises
    ------
    PackageBuildError
        A step failed (build or its tests, repodata mismatch, install, import, entry point).

    Examples
    --------
    >>> build_smoke_package  # doctest: +ELLIPSIS
    <function build_smoke_package at ...>
    """
    import yaml
    from rattler_build import Stage0Recipe, ToolConfiguration

    repo_root = Path(repo_root).resolve()
    workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="uniml-conda-smoke-"))
    workdir = workdir.resolve()
    if workdir.exists() and any(workdir.iterdir()):
        raise PackageBuildError(f"workdir {workdir} is not empty; every smoke build starts fresh")
    workdir.mkdir(parents=True, exist_ok=True)
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))
    core = pyproject["project"]["name"]

    variant = {"python_min": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    meta = render(repo_root, current_subdir(), variant=variant)
    found = outputs(meta)
    recipe_dir = workdir / "recipe"
    recipe_dir.mkdir()
    v1 = to_v1_recipe(meta, repo_root)
    (recipe_dir / "recipe.yaml").write_text(yaml.safe_dump(v1, sort_keys=False), encoding="utf-8")
    log(f"v1 recipe: {recipe_dir / 'recipe.yaml'}")

    channel = workdir / "channel-smoke-do-not-publish"
    offered = make_standin_channel(channel, workdir, _requirements_to_offer(found, core, with_all))
    log("stand-in channel: " + ", ".join(f"{k} {v}" for k, v in offered.items()))

    saved = os.environ.get("RATTLER_CACHE_DIR")
    os.environ["RATTLER_CACHE_DIR"] = str(workdir / "rattler-cache")
    try:
        recipe = Stage0Recipe.from_file(recipe_dir / "recipe.yaml")
        try:
            results = recipe.run_build(
                tool_config=ToolConfiguration(test_strategy="native", compression_threads=1),
                output_dir=workdir / "output",
                channels=[channel.as_uri()],
                no_build_id=True,
            )
        except Exception as exc:  # rattler-build raises its own error types
            raise PackageBuildError(
                f"rattler-build (build and recipe tests) failed: {exc}"
            ) from exc
    finally:
        if saved is None:
            os.environ.pop("RATTLER_CACHE_DIR", None)
        else:
            os.environ["RATTLER_CACHE_DIR"] = saved
    packages: dict[str, Path] = {}
    for result in results:
        for path in result.packages:
            path = Path(path)
            packages[result.name] = path
            shutil.copy2(path, channel / "noarch" / path.name)
    log("built and tested: " + ", ".join(p.name for p in packages.values()))
    missing = set(found) - set(packages)
    if missing:
        raise PackageBuildError(f"rattler-build produced no package for {sorted(missing)}")

    _check_licenses(packages, found, repo_root, workdir / "extracted")
    log("every package carries its license file: " + ", ".join(sorted(packages)))

    _index(channel)
    records = _check_repodata(channel, found)
    log("repodata depends == rendered run requirements for " + ", ".join(sorted(records)))

    prefix = workdir / "prefix"
    installed = _install(
        channel, f"{core} =={found[core].version}", prefix, workdir / "install-cache"
    )
    log(f"installed into {prefix}: " + "; ".join(installed))
    transcript: list[str] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{prefix / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"  # rich would truncate the adapter names in an 80-column pipe
    where = _run(
        [
            str(prefix / "bin" / "python"),
            "-c",
            f"import {core}; print({core}.__version__, {core}.__file__)",
        ],
        transcript,
        env,
    ).split()
    if where[0] != found[core].version or not Path(where[1]).resolve().is_relative_to(prefix):
        raise PackageBuildError(
            f"import {core} from the prefix gave {where}, expected {found[core].version} under {prefix}"
        )
    _check_test_imports(prefix, core, found[core], transcript, env, pyproject["project"])
    log(
        f"every public module that imports with only the core dependencies is in {core}'s test.imports"
    )
    scripts = pyproject["project"].get("scripts") or {}
    for script in scripts:
        _run([str(prefix / "bin" / script), "--help"], transcript, env)
    if core in scripts:
        _run([str(prefix / "bin" / core), "adapters"], transcript, env)
    log(f"ran from the prefix: import {core}, " + ", ".join(f"{s} --help" for s in scripts))
    result = SmokeResult(packages, channel, prefix, records, transcript)
    if with_all:
        result.prefix_all = _install_all(channel, found, core, workdir, env, transcript, log)
    return result


_IMPORT_PROBE = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
found = {sys.argv[1]: "ok"}
failed = {}
def onerror(name):
    failed[name] = repr(sys.exc_info()[1])
for info in pkgutil.walk_packages(package.__path__, sys.argv[1] + ".", onerror=onerror):
    if any(part.startswith("_") for part in info.name.split(".")):
        continue
    try:
        importlib.import_module(info.name)
        found[info.name] = "ok"
    except ModuleNotFoundError as exc:
        found[info.name] = "needs " + str(exc.name)
    except Exception as exc:
        found[info.name] = "error " + repr(exc)
found.update({k: "error " + v for k, v in failed.items() if k not in found})
print(json.dumps(found))
"""


def public_module_report(
    python: Path, package: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Try to import every public module of ``package`` with a given interpreter.

    Parameters
    ----------
    python : pathlib.Path
        The interpreter (for example a prefix's ``bin/python``).
    package : str
        Top-level package name.
    env : mapping, optional
        Environment for the interpreter.

    Returns
    -------
    dict
        Module -> ``"ok"``, ``"needs <module>"`` (a dependency is not installed) or
        ``"error <exception>"``. Modules with a ``_``-prefixed part are private and skipped.

    Examples
    --------
    >>> report = public_module_report(Path(sys.executable), "json")
    >>> report["json"], report["json.decoder"]
    ('ok', 'ok')
    """
    done = subprocess.run(
        [str(python), "-c", _IMPORT_PROBE, package],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise PackageBuildError(f"could not list the modules of {package}: {done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def declared_import_names(project: Mapping[str, Any]) -> set[str]:
    """Top-level module names that ``[project]`` dependencies or extras may provide.

    A module is attributed to a distribution through the installed distributions' file
    lists where possible, and otherwise by name (``xgboost`` provides ``xgboost``).

    Parameters
    ----------
    project : mapping
        The ``[project]`` table of ``pyproject.toml``.

    Returns
    -------
    set of str
        Importable top-level names.

    Examples
    --------
    >>> names = declared_import_names({"name": "p", "dependencies": ["scikit-learn>=1"],
    ...                                "optional-dependencies": {"x": ["PyYAML"]}})
    >>> {"sklearn", "yaml"} <= names
    True
    """
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    requirements = list(project.get("dependencies") or [])
    for items in (project.get("optional-dependencies") or {}).values():
        requirements += items
    declared = {canonicalize_name(Requirement(r).name) for r in requirements}
    names = {name.replace("-", "_") for name in declared}
    for module, dists in packages_distributions().items():
        if any(canonicalize_name(d) in declared for d in dists):
            names.add(module)
    return names


def _check_test_imports(
    prefix: Path, core: str, out: Output, transcript: list[str], env, project=None
) -> None:
    report = public_module_report(prefix / "bin" / "python", core, env)
    transcript.append(
        "public modules in the core-only prefix:\n"
        + "\n".join(f"  {k}: {v}" for k, v in sorted(report.items()))
    )
    broken = {k: v for k, v in report.items() if v.startswith("error")}
    unlisted = sorted(k for k, v in report.items() if v == "ok" and k not in out.test_imports)
    problems = [f"{k} fails to import: {v}" for k, v in sorted(broken.items())]
    if project is not None:
        allowed = declared_import_names(project)
        for module, state in sorted(report.items()):
            needed = state.removeprefix("needs ").split(".")[0]
            if state.startswith("needs ") and needed not in allowed:
                problems.append(
                    f"{module} imports {needed!r} at import time, which no dependency or extra of "
                    "pyproject.toml provides"
                )
    if unlisted:
        problems.append(
            "these public modules import with only the core dependencies but are not in "
            f"meta.yaml's test.imports: {', '.join(unlisted)}"
        )
    if problems:
        raise PackageBuildError("test.imports check failed:\n  " + "\n  ".join(problems))


def _install_all(channel: Path, found, core: str, workdir: Path, env, transcript, log) -> Path:
    everything = f"{core}-all"
    prefix = workdir / "prefix-all"
    env = {**env, "PATH": f"{prefix / 'bin'}{os.pathsep}{env['PATH']}"}
    installed = _install(
        channel, f"{everything} =={found[everything].version}", prefix, workdir / "install-cache"
    )
    log(f"installed {everything} into {prefix}: {len(installed)} packages")
    wanted = [
        conda_to_pypi(split_spec(s)[0])
        for s in found[everything].run
        if split_spec(s)[0] not in found
    ]
    probe = (
        "import importlib.metadata as m, sys\n"
        f"wanted = {wanted!r}\n"
        "missing = []\n"
        "for name in wanted:\n"
        "    try:\n"
        "        print(name, m.version(name))\n"
        "    except m.PackageNotFoundError:\n"
        "        missing.append(name)\n"
        "sys.exit(f'missing from the prefix: {missing}' if missing else 0)\n"
    )
    _run([str(prefix / "bin" / "python"), "-c", probe], transcript, env)
    _run([str(prefix / "bin" / core), "adapters"], transcript, env)
    log(f"{everything}: every wrapped library is installed in {prefix}")
    return prefix


def main(argv: list[str] | None = None) -> int:
    """Command line: run the smoke build; print where everything went.

    Parameters
    ----------
    argv : list of str, optional
        ``[--workdir DIR] [--keep] [--with-all] [REPO_ROOT]``.

    Returns
    -------
    int
        0 on success, 1 when a step failed.

    Examples
    --------
    >>> main  # doctest: +ELLIPSIS
    <function main at ...>
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tools.conda.package", description=__doc__.splitlines()[0]
    )
    parser.add_argument("repo_root", nargs="?", default=".")
    parser.add_argument(
        "--workdir", help="fresh directory for the build (default: a new temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary workdir")
    parser.add_argument(
        "--with-all",
        action="store_true",
        help="also install uniml-all into a second prefix (needs every extra installed here)",
    )
    args = parser.parse_args(argv)
    workdir = (
        Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="uniml-conda-smoke-"))
    )
    try:
        result = build_smoke_package(args.repo_root, workdir, with_all=args.with_all)
    except RecipeError as exc:
        print(f"conda smoke build failed: {exc}", file=sys.stderr)
        print(f"(work directory kept: {workdir})", file=sys.stderr)
        return 1
    for line in result.transcript:
        print(line.rstrip())
    print("packages (SMOKE, never publish): " + ", ".join(str(p) for p in result.packages.values()))
    if not args.keep and not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
