"""Render ``meta.yaml`` the way conda-build does and check it against ``pyproject.toml``.

conda-build renders a recipe in three steps, and so does :func:`render`:

1. **selectors**: a line ending in ``# [expr]`` is kept (without the comment) when ``expr``
   is true for the target platform and dropped otherwise; a name that is neither a
   platform flag, a Python flag nor a variant key is an error, so a typo such as
   ``# [lnux]`` cannot silently drop a line;
2. **Jinja** with conda-build's context (``load_file_data``, ``load_file_regex``,
   ``load_str_data``, ``environ``, ``os``, ``pin_subpackage``, ``pin_compatible``,
   ``compiler``, ``stdlib``, ``cdt``, ``PYTHON``, ``PREFIX``, ``SRC_DIR``, ``RECIPE_DIR``,
   ``target_platform``, ``build_platform``, ``GIT_DESCRIBE_TAG``/``_NUMBER``/``_HASH``,
   ``GIT_FULL_HASH``, ``GIT_BUILD_STR`` and the variant keys) and ``StrictUndefined``, so an
   undefined name is an error instead of an empty string;
3. **YAML**.

:func:`check` then compares the rendering for linux-64, osx-arm64 and win-64 with
``pyproject.toml``: name and version (and that they *follow* ``pyproject.toml`` rather
than being typed twice), run requirements against ``[project].dependencies`` through
:data:`PYPI_TO_CONDA`, the Python bound against ``requires-python``, entry points against
``[project.scripts]``, the build backend in ``host``, the build script, the test section,
and the ``-all`` metapackage against the ``all`` extra.

Run it as ``python -m tools.conda.recipe [RECIPE_DIR]`` (exit status 1 on drift).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

PLATFORMS = ("linux-64", "osx-arm64", "win-64")
"""The platforms every check renders the recipe for."""

PYPI_TO_CONDA = {
    "xgboost": "py-xgboost",
    "rectools-lightfm": "lightfm",
    "matplotlib": "matplotlib-base",
    "mlflow": "mlflow",
    "scikit-learn": "scikit-learn",
    "pyyaml": "pyyaml",
    "pyarrow": "pyarrow",
}
"""PyPI distribution (canonical name) -> conda-forge package, where the two differ or the
choice needs saying. Anything absent keeps its PyPI name. ``mlflow`` stays the full
``mlflow`` (not ``mlflow-skinny``) because ``pip install uniml[mlflow]`` gets the full one,
tracking server included."""

HOST_PREFIX_UNIX = "/opt/conda-bld/_h_env"
"""What ``{{ PREFIX }}`` renders to for unix targets (conda-build uses the real host prefix)."""
HOST_PREFIX_WINDOWS = "C:\\conda-bld\\_h_env"
"""What ``{{ PREFIX }}`` renders to for Windows targets."""

_SELECTOR = re.compile(r"^(?P<content>.*?)\s*#\s*\[(?P<expr>[^\[\]]+)\]\s*$")
_PIP_COMMAND = "-m pip install . --no-deps --no-build-isolation"


class RecipeError(Exception):
    """The recipe cannot be rendered or does not agree with ``pyproject.toml``.

    Examples
    --------
    >>> issubclass(SelectorError, RecipeError)
    True
    """


class SelectorError(RecipeError):
    """A ``# [selector]`` uses a name conda-build does not define, or is not an expression.

    Examples
    --------
    >>> try:
    ...     apply_selectors("a: 1  # [lnux]", "linux-64")
    ... except SelectorError as exc:
    ...     print(exc)
    line 1: selector [lnux] uses an unknown name 'lnux' (known: linux, osx, win, ...)
    """


class TemplateError(RecipeError):
    """The Jinja template refers to an undefined name or is malformed.

    Examples
    --------
    >>> issubclass(TemplateError, RecipeError)
    True
    """


class RecipeDriftError(RecipeError):
    """The rendered recipe disagrees with ``pyproject.toml``; ``problems`` lists every disagreement.

    Parameters
    ----------
    problems : list of str
        One sentence per disagreement.

    Examples
    --------
    >>> err = RecipeDriftError(["run requirements: missing requests >=2"])
    >>> err.problems
    ['run requirements: missing requests >=2']
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("meta.yaml drifted from pyproject.toml:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- selectors


def selector_namespace(
    platform: str, python: str = "3.11", variant: Mapping[str, Any] | None = None
):
    """The names a conda-build selector may use when rendering for ``platform``.

    Parameters
    ----------
    platform : str
        A conda subdir such as ``"linux-64"``, ``"osx-arm64"`` or ``"win-64"``.
    python : str, default "3.11"
        The Python version of the variant (``py``, ``py3k`` follow from it).
    variant : mapping, optional
        Variant keys (from ``conda_build_config.yaml``), also usable in selectors.

    Returns
    -------
    dict
        Name -> value.

    Raises
    ------
    RecipeError
        If ``platform`` is not of the form ``os-arch``.

    Examples
    --------
    >>> ns = selector_namespace("osx-arm64")
    >>> ns["osx"], ns["arm64"], ns["unix"], ns["win"], ns["py"]
    (True, True, True, False, 311)
    """
    os_name, sep, arch = platform.partition("-")
    if not sep or os_name not in {"linux", "osx", "win"}:
        raise RecipeError(
            f"unknown platform {platform!r}; expected e.g. linux-64, osx-arm64, win-64"
        )
    major, minor = (int(part) for part in python.split(".")[:2])
    ns: dict[str, Any] = {
        "linux": os_name == "linux",
        "osx": os_name == "osx",
        "win": os_name == "win",
        "unix": os_name in {"linux", "osx"},
        "x86": arch in {"32", "64"},
        "x86_64": arch == "64",
        "linux32": platform == "linux-32",
        "linux64": platform == "linux-64",
        "win32": platform == "win-32",
        "win64": platform == "win-64",
        "arm64": arch == "arm64",
        "aarch64": arch == "aarch64",
        "ppc64le": arch == "ppc64le",
        "s390x": arch == "s390x",
        "armv6l": arch == "armv6l",
        "armv7l": arch == "armv7l",
        "py": major * 100 + minor if minor >= 10 else major * 10 + minor,
        "py3k": major == 3,
        "py2k": major == 2,
        "np": 200,
        "nomkl": False,
        "target_platform": platform,
        "build_platform": platform,
        "environ": os.environ,
    }
    for known_minor in range(6, 15):
        ns[f"py3{known_minor}"] = (major, minor) == (3, known_minor)
    ns["py27"] = (major, minor) == (2, 7)
    ns.update(variant or {})
    return ns


def apply_selectors(
    text: str, platform: str, python: str = "3.11", variant: Mapping[str, Any] | None = None
) -> str:
    """Keep or drop each ``# [selector]`` line of a recipe, as conda-build does before Jinja.

    Parameters
    ----------
    text : str
        The recipe text.
    platform : str
        Target conda subdir.
    python : str, default "3.11"
        Python version of the variant.
    variant : mapping, optional
        Extra variant keys.

    Returns
    -------
    str
        The text with false-selector lines removed and selector comments stripped.

    Raises
    ------
    SelectorError
        A selector names something conda-build does not define, or is not valid Python.

    Examples
    --------
    >>> text = "- a  # [unix]\\n- b  # [win]\\n- c"
    >>> print(apply_selectors(text, "win-64"))
    - b
    - c
    """
    namespace = selector_namespace(platform, python, variant)
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SELECTOR.match(line)
        if match is None:
            out.append(line)
            continue
        expr = match["expr"].strip()
        try:
            keep = eval(
                compile(expr, f"<selector line {number}>", "eval"), {"__builtins__": {}}, namespace
            )
        except NameError as exc:
            name = getattr(exc, "name", None) or str(exc)
            raise SelectorError(
                f"line {number}: selector [{expr}] uses an unknown name {name!r} "
                f"(known: linux, osx, win, unix, arm64, x86_64, py, ...)"
            ) from None
        except SyntaxError:
            raise SelectorError(
                f"line {number}: selector [{expr}] is not a valid expression"
            ) from None
        if keep:
            out.append(match["content"])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


# --------------------------------------------------------------------------- Jinja


def _load_data(path: Path, fmt: str | None = None) -> Any:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "toml":
        return tomllib.loads(path.read_text(encoding="utf-8"))
    if fmt == "json":
        import json

        return json.loads(path.read_text(encoding="utf-8"))
    if fmt in {"yaml", "yml"}:
        import yaml

        return yaml.safe_load(path.read_text(encoding="utf-8"))
    raise TemplateError(f"load_file_data cannot read {path.name!r}: unknown format {fmt!r}")


def git_describe(path: Path) -> dict[str, str]:
    """The ``GIT_*`` Jinja variables conda-build defines for a source tree that is a git checkout.

    Parameters
    ----------
    path : pathlib.Path
        The source directory.

    Returns
    -------
    dict
        ``GIT_FULL_HASH`` whenever ``path`` is in a git checkout; ``GIT_DESCRIBE_TAG``,
        ``GIT_DESCRIBE_NUMBER``, ``GIT_DESCRIBE_HASH`` and ``GIT_BUILD_STR`` only when a tag
        is reachable (as in conda-build, so a recipe that uses them without a tag fails to
        render instead of getting an empty string).

    Examples
    --------
    >>> import tempfile
    >>> git_describe(Path(tempfile.mkdtemp()))
    {}
    """

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(path), *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    info: dict[str, str] = {}
    full = git("rev-parse", "HEAD")
    if full is None:
        return info
    info["GIT_FULL_HASH"] = full
    described = git("describe", "--tags", "--long", "HEAD")
    if described:
        tag, number, ghash = described.rsplit("-", 2)
        info.update(
            GIT_DESCRIBE_TAG=tag,
            GIT_DESCRIBE_NUMBER=number,
            GIT_DESCRIBE_HASH=ghash,
            GIT_BUILD_STR=f"{number}_{ghash}",
        )
    return info


def _version_tuple(version: str) -> list[int]:
    return [int(part) for part in re.findall(r"\d+", version)]


def jinja_context(
    recipe_dir: Path,
    platform: str,
    variant: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    data_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """conda-build's Jinja context for a recipe whose source is its own directory.

    Parameters
    ----------
    recipe_dir : pathlib.Path
        Directory holding ``meta.yaml`` (also the source tree: ``source: path: .``).
    platform : str
        Target conda subdir.
    variant : mapping, optional
        Variant keys (``python_min`` and the like), visible as Jinja names.
    environ : mapping, optional
        What ``environ`` shows; defaults to the process environment.
    data_overrides : mapping, optional
        File name -> data that ``load_file_data`` returns instead of reading the file
        (used to check that values *follow* ``pyproject.toml``).

    Returns
    -------
    dict
        Name -> value or function.

    Examples
    --------
    >>> import tempfile
    >>> ctx = jinja_context(Path(tempfile.mkdtemp()), "win-64", environ={})
    >>> ctx["PYTHON"], ctx["target_platform"]
    ('C:\\\\conda-bld\\\\_h_env\\\\python.exe', 'win-64')
    >>> ctx["pin_subpackage"]("uniml", exact=True)
    'uniml ==0.0.0'
    """
    recipe_dir = Path(recipe_dir)
    overrides = dict(data_overrides or {})
    windows = platform.startswith("win")

    def load_file_data(filename, fmt=None, *args, from_recipe_dir=False, recipe_dir=None, **kwargs):
        if filename in overrides:
            return overrides[filename]
        base = Path(recipe_dir) if (from_recipe_dir and recipe_dir) else recipe_dir_
        path = base / filename
        if not path.is_file():
            raise TemplateError(f"load_file_data: {path} does not exist")
        return _load_data(path, fmt)

    def load_file_regex(load_file, regex_pattern, from_recipe_dir=False, recipe_dir=None):
        path = recipe_dir_ / load_file
        return (
            re.search(regex_pattern, path.read_text(encoding="utf-8")) if path.is_file() else None
        )

    def load_str_data(string, fmt):
        if fmt == "toml":
            return tomllib.loads(string)
        if fmt == "json":
            import json

            return json.loads(string)
        import yaml

        return yaml.safe_load(string)

    def own_version() -> str:
        # the recipe's version is known only after rendering; pins use pyproject's
        data = overrides.get("pyproject.toml")
        if data is None:
            pyproject = recipe_dir_ / "pyproject.toml"
            data = _load_data(pyproject) if pyproject.is_file() else {}
        return str(data.get("project", {}).get("version", "0.0.0"))

    def pin_subpackage(name, min_pin="x.x.x.x.x.x", max_pin="x", exact=False, **kwargs):
        version = own_version()
        if exact:
            return f"{name} =={version}"
        parts = _version_tuple(version)
        width = max_pin.count("x")
        upper = parts[:width]
        upper[-1] += 1
        return f"{name} >={version},<{'.'.join(map(str, upper))}.0a0"

    def pin_compatible(name, min_pin="x.x.x.x.x.x", max_pin="x", exact=False, **kwargs):
        return name

    recipe_dir_ = recipe_dir
    # conda-build substitutes the host prefix's real path; a fixed stand-in keeps renders stable
    prefix = HOST_PREFIX_WINDOWS if windows else HOST_PREFIX_UNIX
    ctx: dict[str, Any] = {
        "load_file_data": load_file_data,
        "load_setup_py_data": lambda *a, **k: {},
        "load_file_regex": load_file_regex,
        "load_str_data": load_str_data,
        "environ": dict(os.environ if environ is None else environ),
        "os": os,
        "pin_subpackage": pin_subpackage,
        "pin_compatible": pin_compatible,
        "compiler": lambda language: f"{language}_compiler_stub",
        "stdlib": lambda language: f"{language}_stdlib_stub",
        "cdt": lambda package: f"{package}-cos7-x86_64",
        "PYTHON": f"{prefix}\\python.exe" if windows else f"{prefix}/bin/python",
        "PREFIX": prefix,
        "SRC_DIR": str(recipe_dir),
        "RECIPE_DIR": str(recipe_dir),
        "target_platform": platform,
        "build_platform": platform,
    }
    ctx.update(git_describe(recipe_dir))
    ctx.update(variant or {})
    return ctx


def render_text(
    recipe_dir: str | os.PathLike[str],
    platform: str = "linux-64",
    *,
    variant: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    data_overrides: Mapping[str, Any] | None = None,
    filename: str = "meta.yaml",
) -> str:
    """Selectors, then Jinja: the rendered YAML text of a recipe for one platform.

    Parameters
    ----------
    recipe_dir : path-like
        Directory holding the recipe (and, for ``source: path: .``, the source).
    platform : str, default "linux-64"
        Target conda subdir.
    variant : mapping, optional
        Variant keys; ``python`` (default ``"3.11"``) sets the selector Python.
    environ : mapping, optional
        What ``environ`` shows in Jinja.
    data_overrides : mapping, optional
        File name -> data that ``load_file_data`` returns instead of reading the file.
    filename : str, default "meta.yaml"
        The recipe file inside ``recipe_dir``.

    Returns
    -------
    str
        The rendered recipe text.

    Raises
    ------
    SelectorError
        A selector names something undefined.
    TemplateError
        The template uses an undefined name or is not valid Jinja.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "meta.yaml").write_text("a: {{ b }}\\n")
    >>> try:
    ...     render_text(d)
    ... except TemplateError as exc:
    ...     print(exc)
    meta.yaml: 'b' is undefined
    """
    import jinja2

    recipe_dir = Path(recipe_dir)
    variant = dict(variant or {})
    python = str(variant.get("python", "3.11"))
    text = (recipe_dir / filename).read_text(encoding="utf-8")
    text = apply_selectors(text, platform, python, variant)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        template = env.from_string(text)
        return template.render(
            **jinja_context(recipe_dir, platform, variant, environ, data_overrides)
        )
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{filename} line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{filename}: {exc.message}") from None


def render(recipe_dir: str | os.PathLike[str], platform: str = "linux-64", **kwargs: Any) -> dict:
    """Render a recipe for one platform to a dict (selectors, Jinja, then YAML).

    Parameters
    ----------
    recipe_dir : path-like
        Directory holding ``meta.yaml``.
    platform : str, default "linux-64"
        Target conda subdir.
    **kwargs
        Passed to :func:`render_text`.

    Returns
    -------
    dict
        The recipe.

    Raises
    ------
    RecipeError
        The recipe does not render or is not a YAML mapping.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "meta.yaml").write_text("package:\\n  name: x  # [win]\\n  name: y  # [not win]\\n")
    >>> render(d, "osx-arm64")["package"]["name"], render(d, "win-64")["package"]["name"]
    ('y', 'x')
    """
    import yaml

    text = render_text(recipe_dir, platform, **kwargs)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RecipeError(f"rendered meta.yaml is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RecipeError("rendered meta.yaml is not a mapping")
    return data


# --------------------------------------------------------------------------- outputs


@dataclass
class Output:
    """One package a rendered recipe produces, in the shape the checker and converter need.

    Parameters
    ----------
    name, version : str
        Package name and version.
    noarch : str or None
        ``"python"``, ``"generic"`` or None.
    script : str or None
        The build script (inline commands).
    entry_points : list of str
        ``name = module:function`` console scripts.
    host, run : list of str
        Requirements, as conda match specs.
    test_requires, test_imports, test_commands : list of str
        The test section.
    summary, license, license_file : str or None
        About fields (``license_file`` relative to the recipe's source).

    Examples
    --------
    >>> Output("uniml", "0.1.0").run
    []
    """

    name: str
    version: str
    noarch: str | None = None
    script: str | None = None
    entry_points: list[str] = field(default_factory=list)
    host: list[str] = field(default_factory=list)
    run: list[str] = field(default_factory=list)
    test_requires: list[str] = field(default_factory=list)
    test_imports: list[str] = field(default_factory=list)
    test_commands: list[str] = field(default_factory=list)
    summary: str | None = None
    license: str | None = None
    license_file: str | None = None


def _script_text(script: Any) -> str | None:
    if script is None:
        return None
    if isinstance(script, list):
        return "\n".join(str(line) for line in script)
    return str(script)


def outputs(meta: Mapping[str, Any]) -> dict[str, Output]:
    """The packages a rendered ``meta.yaml`` produces (its outputs, or the top-level package).

    Parameters
    ----------
    meta : mapping
        A rendered recipe (see :func:`render`).

    Returns
    -------
    dict
        Output name -> :class:`Output`.

    Raises
    ------
    RecipeError
        The recipe has no package name or version.

    Examples
    --------
    >>> meta = {"package": {"name": "a", "version": "1"}, "build": {"noarch": "python"},
    ...         "requirements": {"run": ["python >=3.10"]}}
    >>> outputs(meta)["a"].run
    ['python >=3.10']
    """
    package = meta.get("package") or {}
    if "name" not in package or "version" not in package:
        raise RecipeError("meta.yaml has no package name/version")
    version = str(package["version"])
    top_about = meta.get("about") or {}
    sections = meta.get("outputs") or [
        {
            "name": package["name"],
            "build": meta.get("build") or {},
            "requirements": meta.get("requirements") or {},
            "test": meta.get("test") or {},
            "about": top_about,
        }
    ]
    result: dict[str, Output] = {}
    for section in sections:
        build = section.get("build") or {}
        requirements = section.get("requirements") or {}
        if isinstance(requirements, list):  # conda-build's shorthand: a list means run
            requirements = {"run": requirements}
        test = section.get("test") or {}
        about = section.get("about") or top_about
        name = str(section["name"])
        result[name] = Output(
            name=name,
            version=str(section.get("version", version)),
            noarch=build.get("noarch"),
            script=_script_text(build.get("script") or section.get("script")),
            entry_points=[str(e) for e in build.get("entry_points") or []],
            host=[str(r) for r in requirements.get("host") or []],
            run=[str(r) for r in requirements.get("run") or []],
            test_requires=[str(r) for r in test.get("requires") or []],
            test_imports=[str(m) for m in test.get("imports") or []],
            test_commands=[str(c) for c in test.get("commands") or []],
            summary=about.get("summary"),
            license=about.get("license"),
            license_file=about.get("license_file"),
        )
    return result


# --------------------------------------------------------------------------- requirements


def split_spec(spec: str) -> tuple[str, str]:
    """Split a conda match spec into its name and a normalised version constraint.

    Parameters
    ----------
    spec : str
        ``"numpy >=1.26"``, ``"python 3.10"``, ``"pandas>=2.2,<3"``.

    Returns
    -------
    tuple of str
        ``(name, constraint)``; the constraint has no spaces and its comma-separated
        clauses sorted, so equal constraints compare equal.

    Examples
    --------
    >>> split_spec("pandas   <3, >=2.2")
    ('pandas', '<3,>=2.2')
    >>> split_spec("pip")
    ('pip', '')
    """
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    if match is None:
        raise RecipeError(f"not a conda match spec: {spec!r}")
    name, rest = match.groups()
    clauses = sorted(c for c in re.sub(r"\s+", "", rest).split(",") if c)
    return name.lower(), ",".join(clauses)


def pypi_to_conda(requirement: str, mapping: Mapping[str, str] = PYPI_TO_CONDA) -> str:
    """Translate one PyPI requirement (PEP 508) to a conda-forge match spec.

    Parameters
    ----------
    requirement : str
        ``"scikit-learn>=1.6"``.
    mapping : mapping, default PYPI_TO_CONDA
        PyPI canonical name -> conda-forge name where they differ.

    Returns
    -------
    str
        ``"scikit-learn >=1.6"``.

    Raises
    ------
    RecipeError
        The requirement has an environment marker or extras, which a noarch conda package
        cannot express.

    Examples
    --------
    >>> pypi_to_conda("xgboost>=2.1")
    'py-xgboost >=2.1'
    >>> pypi_to_conda("pandas<3,>=2.2")
    'pandas <3,>=2.2'
    >>> try:
    ...     pypi_to_conda("tomli; python_version < '3.11'")
    ... except RecipeError as exc:
    ...     print(exc)
    tomli; python_version < '3.11': environment markers cannot be expressed ...
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        req = Requirement(requirement)
    except InvalidRequirement as exc:
        raise RecipeError(f"{requirement}: not a PEP 508 requirement ({exc})") from None
    if req.marker is not None:
        raise RecipeError(
            f"{requirement}: environment markers cannot be expressed in a noarch conda package; "
            "make the dependency unconditional or drop noarch"
        )
    if req.extras:
        raise RecipeError(
            f"{requirement}: extras have no conda equivalent; list the packages instead"
        )
    if req.url:
        raise RecipeError(f"{requirement}: URL requirements have no conda equivalent")
    name = canonicalize_name(req.name)
    conda_name = mapping.get(name, name)
    clauses = sorted(str(s) for s in req.specifier)
    return f"{conda_name} {','.join(clauses)}".strip()


def extra_requirements(
    project: Mapping[str, Any], extra: str, _seen: set[str] | None = None
) -> list[str]:
    """An extra's requirements with self-references (``uniml[a,b]``) expanded recursively.

    Parameters
    ----------
    project : mapping
        The ``[project]`` table.
    extra : str
        Extra name, e.g. ``"all"``.

    Returns
    -------
    list of str
        PEP 508 requirements, first occurrence order, without duplicates.

    Raises
    ------
    RecipeError
        The extra does not exist.

    Examples
    --------
    >>> project = {"name": "p", "optional-dependencies": {
    ...     "a": ["x>=1"], "b": ["y"], "all": ["p[a,b]", "z"]}}
    >>> extra_requirements(project, "all")
    ['x>=1', 'y', 'z']
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    extras = project.get("optional-dependencies") or {}
    if extra not in extras:
        raise RecipeError(f"pyproject.toml has no extra {extra!r}")
    seen = _seen if _seen is not None else set()
    seen.add(extra)
    own = canonicalize_name(project["name"])
    result: list[str] = []
    for item in extras[extra]:
        req = Requirement(item)
        if canonicalize_name(req.name) == own:
            for sub in sorted(req.extras):
                if sub not in seen:
                    result.extend(
                        r for r in extra_requirements(project, sub, seen) if r not in result
                    )
        elif item not in result:
            result.append(item)
    return result


def _python_floor(requires_python: str) -> str:
    from packaging.specifiers import SpecifierSet

    specs = list(SpecifierSet(requires_python))
    if len(specs) != 1 or specs[0].operator != ">=":
        raise RecipeError(
            f"requires-python = {requires_python!r}: the recipe can mirror a single '>=X.Y' bound only"
        )
    return specs[0].version


def _compare(label: str, expected: Iterable[str], actual: Iterable[str]) -> list[str]:
    want = {split_spec(s): s for s in expected}
    have = {split_spec(s): s for s in actual}
    problems = []
    for key in sorted(set(want) - set(have)):
        other = [have[k] for k in have if k[0] == key[0]]
        if other:
            problems.append(f"{label}: {other[0]!r} should be {want[key]!r} (from pyproject.toml)")
        else:
            problems.append(f"{label}: missing {want[key]!r} (from pyproject.toml)")
    for key in sorted(set(have) - set(want)):
        if not any(k[0] == key[0] for k in want):
            problems.append(f"{label}: {have[key]!r} is not in pyproject.toml")
    return problems


def _module_exists(source_root: Path, module: str) -> bool:
    parts = module.split(".")
    for base in (source_root / "src", source_root):
        path = base.joinpath(*parts)
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
    return False


# --------------------------------------------------------------------------- the check


def check_rendered(
    meta: Mapping[str, Any], pyproject: Mapping[str, Any], source_root: Path, platform: str
) -> list[str]:
    """Every disagreement between one platform's rendered recipe and ``pyproject.toml``.

    Parameters
    ----------
    meta : mapping
        The rendered recipe.
    pyproject : mapping
        The parsed ``pyproject.toml``.
    source_root : pathlib.Path
        The source tree (to check that ``test.imports`` name real modules).
    platform : str
        Used in the messages.

    Returns
    -------
    list of str
        Problems; empty when the recipe agrees.

    Examples
    --------
    >>> pyproject = {"project": {"name": "p", "version": "1", "requires-python": ">=3.10",
    ...              "dependencies": ["numpy>=2"]}}
    >>> meta = {"package": {"name": "p", "version": "1"}}
    >>> check_rendered(meta, pyproject, Path("."), "linux-64")[0]
    "[linux-64] p: must be 'noarch: python' (is None)"
    """
    project = pyproject["project"]
    name = project["name"]
    where = f"[{platform}]"
    problems: list[str] = []
    found = outputs(meta)
    if name not in found:
        return [f"{where} no output named {name!r} (pyproject.toml [project].name)"]
    core = found[name]
    if core.version != str(project["version"]):
        problems.append(
            f"{where} version {core.version!r} != pyproject.toml's {project['version']!r}"
        )
    if core.noarch != "python":
        problems.append(f"{where} {name}: must be 'noarch: python' (is {core.noarch!r})")
    if not core.script or _PIP_COMMAND not in " ".join(core.script.split()):
        problems.append(f"{where} {name}: build script must run '<python> {_PIP_COMMAND} -vv'")

    floor = _python_floor(project.get("requires-python", ">=3"))
    backend = [pypi_to_conda(r) for r in (pyproject.get("build-system") or {}).get("requires", [])]
    problems += _compare(f"{where} {name} host", [f"python {floor}", "pip", *backend], core.host)
    problems += _compare(
        f"{where} {name} run",
        [f"python >={floor}", *(pypi_to_conda(r) for r in project.get("dependencies", []))],
        core.run,
    )

    scripts = {k: v for k, v in (project.get("scripts") or {}).items()}
    declared = {}
    for entry in core.entry_points:
        key, _, target = entry.partition("=")
        declared[key.strip()] = target.strip()
    for script, target in sorted(scripts.items()):
        if script not in declared:
            problems.append(
                f"{where} {name}: entry point {script} = {target} missing ([project.scripts])"
            )
        elif declared[script] != target:
            problems.append(
                f"{where} {name}: entry point {script} -> {declared[script]}, pyproject says {target}"
            )
    for script in sorted(set(declared) - set(scripts)):
        problems.append(f"{where} {name}: entry point {script!r} is not in [project.scripts]")

    license_ = project.get("license")
    license_files = [str(f) for f in project.get("license-files") or []]
    if isinstance(license_, dict):  # the older table form: {text = "..."} or {file = "..."}
        license_ = license_.get("text")
    for out in found.values():
        if license_ and out.license != license_:
            problems.append(
                f"{where} {out.name}: about.license {out.license!r} != pyproject.toml's {license_!r}"
            )
        if not out.summary:
            problems.append(f"{where} {out.name}: about.summary is empty")
        if not out.license_file:
            problems.append(f"{where} {out.name}: about.license_file is missing")
        elif not (source_root / out.license_file).is_file():
            problems.append(
                f"{where} {out.name}: about.license_file {out.license_file!r} is not a file in the source tree"
            )
        elif license_files and out.license_file not in license_files:
            problems.append(
                f"{where} {out.name}: about.license_file {out.license_file!r} is not in pyproject.toml's license-files {license_files}"
            )

    import_name = name.replace("-", "_")
    if not core.test_imports:
        problems.append(f"{where} {name}: test.imports is empty")
    elif import_name not in core.test_imports:
        problems.append(f"{where} {name}: test.imports must include {import_name!r}")
    for module in core.test_imports:
        if not _module_exists(source_root, module):
            problems.append(
                f"{where} {name}: test.imports names {module!r}, which is not in the source tree"
            )
    commands = [" ".join(c.split()) for c in core.test_commands]
    for script in sorted(scripts):
        if f"{script} --help" not in commands:
            problems.append(f"{where} {name}: test.commands must run '{script} --help'")
    if core.test_requires:
        problems += _compare(
            f"{where} {name} test.requires",
            [f"python {floor}"],
            [r for r in core.test_requires if split_spec(r)[0] == "python"],
        )

    meta_name = f"{name}-all"
    if "all" in (project.get("optional-dependencies") or {}):
        if meta_name not in found:
            problems.append(f"{where} no output {meta_name!r} for the 'all' extra")
        else:
            everything = found[meta_name]
            pin = f"{name} =={project['version']}"
            expected = [pin, *(pypi_to_conda(r) for r in extra_requirements(project, "all"))]
            problems += _compare(f"{where} {meta_name} run", expected, everything.run)
            if everything.noarch not in {"python", "generic"}:
                problems.append(f"{where} {meta_name}: must be noarch (a metapackage)")
    return problems


_PROBE_VERSION = "9999.42.0"
_PROBE_PYTHON = "3.99"


def check(
    recipe_dir: str | os.PathLike[str] = ".", platforms: Iterable[str] = PLATFORMS
) -> list[str]:
    """Render ``meta.yaml`` for each platform and list every disagreement with ``pyproject.toml``.

    Besides comparing values, the recipe is rendered once more against a probe
    ``pyproject.toml`` (another version and Python floor): if the rendered version or Python
    bound does not follow, it was typed by hand. Run requirements must also be identical
    on every platform, since the package is noarch.

    Parameters
    ----------
    recipe_dir : path-like, default "."
        Directory holding ``meta.yaml`` and ``pyproject.toml``.
    platforms : iterable of str, default PLATFORMS
        Conda subdirs to render for.

    Returns
    -------
    list of str
        Problems; empty when the recipe agrees.

    Raises
    ------
    RecipeError
        The recipe does not render (bad selector, undefined Jinja name, invalid YAML).

    Examples
    --------
    >>> from pathlib import Path
    >>> root = Path(__file__).resolve().parents[2]
    >>> check(root)
    []
    """
    recipe_dir = Path(recipe_dir)
    pyproject = tomllib.loads((recipe_dir / "pyproject.toml").read_text(encoding="utf-8"))
    problems: list[str] = []
    runs: dict[str, dict[str, list[str]]] = {}
    for platform in platforms:
        meta = render(recipe_dir, platform)
        problems += check_rendered(meta, pyproject, recipe_dir, platform)
        runs[platform] = {n: sorted(o.run) for n, o in outputs(meta).items() if o.noarch}
    first, *rest = list(runs)
    for platform in rest:
        if runs[platform] != runs[first]:
            problems.append(
                f"noarch outputs must not vary by platform: {first} and {platform} differ in run"
            )

    probe = tomllib.loads((recipe_dir / "pyproject.toml").read_text(encoding="utf-8"))
    probe["project"]["version"] = _PROBE_VERSION
    probe["project"]["requires-python"] = f">={_PROBE_PYTHON}"
    probed = outputs(render(recipe_dir, "linux-64", data_overrides={"pyproject.toml": probe}))
    name = pyproject["project"]["name"]
    if name in probed:
        if probed[name].version != _PROBE_VERSION:
            problems.append(
                "version is typed in meta.yaml: it must come from pyproject.toml through "
                "load_file_data (a changed pyproject version did not change the recipe)"
            )
        if f"python >={_PROBE_PYTHON}" not in [" ".join(r.split()) for r in probed[name].run]:
            problems.append(
                "the Python bound is typed in meta.yaml: it must follow requires-python "
                "(a changed requires-python did not change the run requirement)"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: check a recipe directory; print the problems; exit 1 on any.

    Parameters
    ----------
    argv : list of str, optional
        ``[RECIPE_DIR]`` (default: the current directory).

    Returns
    -------
    int
        0 when the recipe agrees with ``pyproject.toml``, 1 otherwise.

    Examples
    --------
    >>> root = str(Path(__file__).resolve().parents[2])
    >>> main([root])
    meta.yaml agrees with pyproject.toml on linux-64, osx-arm64, win-64
    0
    """
    args = sys.argv[1:] if argv is None else argv
    recipe_dir = Path(args[0]) if args else Path(".")
    try:
        problems = check(recipe_dir)
    except RecipeError as exc:
        print(f"meta.yaml does not render: {exc}", file=sys.stderr)
        return 1
    if problems:
        print(str(RecipeDriftError(problems)), file=sys.stderr)
        return 1
    print(f"meta.yaml agrees with pyproject.toml on {', '.join(PLATFORMS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
