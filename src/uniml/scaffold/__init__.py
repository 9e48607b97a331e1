"""The project scaffold: the Copier template behind ``uniml new`` and ``uniml update``.

The template ships inside the package (``uniml/scaffold/template``). Copier
updates a project by diffing two *versions* of its template, so
:func:`template_repo` mirrors the packaged template into a git repository
under ``~/.cache/uniml/template`` (``UNIML_TEMPLATE_CACHE`` overrides it),
with one commit and tag per uniml version; generated projects record that
repository and tag in ``.copier-answers.yml``, and :func:`update` moves them
to the installed uniml's tag.

Examples
--------
>>> from uniml import scaffold
>>> scaffold.TASKS[:2], (scaffold.template_path() / "copier.yml").is_file()
(('regression', 'classification'), True)
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = [
    "TASKS",
    "ScaffoldError",
    "check_package_name",
    "new",
    "template_path",
    "template_repo",
    "update",
]

#: the task kinds a project can be made for
TASKS = ("regression", "classification", "forecasting", "causal", "recommendation")

_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
_PROJECT = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")


class ScaffoldError(ValueError):
    """A project cannot be made or updated (bad name, bad task, non-empty target...).

    Examples
    --------
    >>> str(ScaffoldError("target exists"))
    'target exists'
    """


def template_path() -> Path:
    """The packaged Copier template (a folder holding ``copier.yml``).

    Returns
    -------
    Path
        ``uniml/scaffold/template`` inside the installed package.

    Examples
    --------
    >>> template_path().name
    'template'
    """
    return Path(__file__).resolve().parent / "template"


def _version() -> str:
    from uniml._version import __version__  # lazily: the scaffold imports no uniml at import

    return __version__


def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="uniml",
        GIT_AUTHOR_EMAIL="uniml@localhost",
        GIT_COMMITTER_NAME="uniml",
        GIT_COMMITTER_EMAIL="uniml@localhost",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ScaffoldError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def template_repo(
    cache: str | Path | None = None, version: str | None = None, source: str | Path | None = None
) -> tuple[Path, str]:
    """Mirror the template into a versioned git repository; return ``(repo, tag)``.

    The tag is ``v<version>``. A tag that already exists is reused as it is
    (one commit per uniml version), so projects made by an older uniml keep a
    base to update from.

    Parameters
    ----------
    cache : str or Path, optional
        The repository (default: ``$UNIML_TEMPLATE_CACHE``, else ``~/.cache/uniml/template``).
    version : str, optional
        Default: the installed uniml's version.
    source : str or Path, optional
        The template folder to mirror (default: :func:`template_path`).

    Returns
    -------
    tuple of (Path, str)
        The repository and the tag of this version.

    Examples
    --------
    >>> import tempfile
    >>> repo, tag = template_repo(tempfile.mkdtemp(), version="1.2.3")
    >>> tag, (repo / "copier.yml").is_file()
    ('v1.2.3', True)
    """
    repo = Path(
        cache or os.environ.get("UNIML_TEMPLATE_CACHE") or Path.home() / ".cache/uniml/template"
    )
    tag = f"v{version or _version()}"
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").exists():
        _git(repo, "init", "-q", "-b", "main")
    if tag in _git(repo, "tag", "--list", tag).splitlines():
        return repo, tag
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(
        Path(source) if source is not None else template_path(),
        repo,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", f"uniml template {tag}")
    _git(repo, "tag", tag)
    return repo, tag


def check_package_name(name: str) -> str:
    """``name`` if it is a valid package name, else :class:`ScaffoldError` saying why.

    Parameters
    ----------
    name : str
        The Python package name of a project.

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    ScaffoldError
        Not a lowercase identifier, or a Python keyword.

    Examples
    --------
    >>> check_package_name("churn_model")
    'churn_model'
    >>> check_package_name("Churn-Model")
    Traceback (most recent call last):
    uniml.scaffold.ScaffoldError: bad package name 'Churn-Model': ...
    """
    if not _PACKAGE.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"bad package name {name!r}: use a lowercase Python identifier "
            "(letters, digits and '_', not starting with a digit, not a Python keyword)"
        )
    return name


def _default_package(project: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", project.lower())


def new(
    path: str | Path,
    task: str = "regression",
    *,
    project_name: str | None = None,
    package_name: str | None = None,
    data: dict | None = None,
    defaults: bool = True,
    cache: str | Path | None = None,
) -> Path:
    """Render the template into ``path`` (a new or empty folder); return the folder.

    Parameters
    ----------
    path : str or Path
        The project folder; it must not exist or be empty.
    task : str
        One of :data:`TASKS`.
    project_name, package_name : str, optional
        Default: the folder's name, and its lowercase identifier form.
    data : dict, optional
        More answers to the template's questions (``conda_channel``, ``python_version``...).
    defaults : bool, default True
        Take the default of every question not answered (False asks the rest interactively).
    cache : str or Path, optional
        The template repository (see :func:`template_repo`).

    Returns
    -------
    Path
        The project folder.

    Raises
    ------
    ScaffoldError
        Non-empty target, unknown task, or bad project or package name; nothing is written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = new(pathlib.Path(tempfile.mkdtemp()) / "churn", "classification",
    ...           cache=tempfile.mkdtemp())
    >>> sorted(p.name for p in (out / "src" / "churn").iterdir())
    ['__init__.py', 'data.py', 'train.py']
    """
    target = Path(path)
    if task not in TASKS:
        raise ScaffoldError(f"unknown task {task!r}; one of {', '.join(TASKS)}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{str(target)!r} exists and is not an empty folder")
    project = project_name or target.resolve().name
    if not _PROJECT.match(project):
        raise ScaffoldError(
            f"bad project name {project!r}: start with a letter; use letters, digits, '.', '_', '-'"
        )
    package = check_package_name(package_name or _default_package(project))
    answers = {
        "uniml_version": _version(),
        **(data or {}),
        "project_name": project,
        "package_name": package,
        "task": task,
    }
    import copier

    repo, tag = template_repo(cache)
    created = not target.exists()
    try:
        copier.run_copy(
            str(repo),
            str(target),
            data=answers,
            vcs_ref=tag,
            defaults=defaults,
            unsafe=False,
            quiet=True,
        )
    except Exception:
        if created and target.exists():
            shutil.rmtree(target)
        raise
    return target


def update(
    path: str | Path = ".", *, cache: str | Path | None = None, vcs_ref: str | None = None
) -> Path:
    """Bring a project made by :func:`new` to the installed uniml's template (``copier update``).

    Copier replays the project's answers on the old and the new template
    version and merges the difference into the project: files the user
    edited keep their edits, conflicts (when both sides changed the same
    lines) are left inline.

    Parameters
    ----------
    path : str or Path
        The project (holds ``.copier-answers.yml``); it must be a git work
        tree without uncommitted changes.
    cache : str or Path, optional
        The template repository (see :func:`template_repo`).
    vcs_ref : str, optional
        The template tag to update to (default: the installed uniml's).

    Returns
    -------
    Path
        The project folder.

    Raises
    ------
    ScaffoldError
        ``path`` is not a project made by ``uniml new``.

    Examples
    --------
    >>> import tempfile
    >>> update(tempfile.mkdtemp())
    Traceback (most recent call last):
    uniml.scaffold.ScaffoldError: ... has no .copier-answers.yml: not a project made by `uniml new`
    """
    project = Path(path)
    if not (project / ".copier-answers.yml").is_file():
        raise ScaffoldError(
            f"{str(project)!r} has no .copier-answers.yml: not a project made by `uniml new`"
        )
    import copier

    if vcs_ref is None:
        _, vcs_ref = template_repo(cache)
    copier.run_update(
        str(project),
        vcs_ref=vcs_ref,
        defaults=True,
        overwrite=True,
        unsafe=False,
        quiet=True,
        conflict="inline",
    )
    return project
