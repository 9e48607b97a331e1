"""``uniml new`` and ``uniml update`` (loaded lazily by ``uniml.cli``)."""

from __future__ import annotations

import sys

import click

from uniml.scaffold import TASKS, ScaffoldError

_EXIT_INVALID = 2


def _fail(message: str) -> None:
    click.secho("error: ", fg="red", bold=True, err=True, nl=False)
    click.echo(message, err=True)
    sys.exit(_EXIT_INVALID)


@click.command("new")
@click.argument("path", type=click.Path(file_okay=True, dir_okay=True, path_type=str))
@click.option(
    "--task", type=click.Choice(TASKS), default="regression", show_default=True, help="Task kind."
)
@click.option("--name", "project_name", help="Project name (default: the folder's name).")
@click.option("--package", "package_name", help="Python package name (default: from the name).")
@click.option("--channel", help="Conda channel serving uniml (default: 'internal').")
@click.option(
    "--defaults", is_flag=True, help="Take the default of every question instead of asking."
)
def new(path, task, project_name, package_name, channel, defaults):
    """Create a project in PATH (new or empty) from the uniml template.

    Exit code 0: created; 2: PATH is not empty, or a bad task, project or
    package name (nothing is written).
    """
    from uniml.scaffold import new as render

    data = {"conda_channel": channel} if channel else {}
    try:
        out = render(
            path,
            task,
            project_name=project_name,
            package_name=package_name,
            data=data,
            defaults=defaults,
        )
    except ScaffoldError as exc:
        _fail(str(exc))
    click.echo(f"created {out} ({task}); next: see {out}/README.md")


@click.command("update")
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=str))
@click.option("--ref", "vcs_ref", help="Template tag to update to (default: this uniml's).")
def update(path, vcs_ref):
    """Bring PATH (made by `uniml new`) to this uniml's template with `copier update`.

    PATH must be a git work tree without uncommitted changes; your edits are
    kept, and conflicting lines are left inline for you to resolve.
    """
    from uniml.scaffold import update as run_update

    try:
        run_update(path, vcs_ref=vcs_ref)
    except ScaffoldError as exc:
        _fail(str(exc))
    except Exception as exc:  # copier's own errors (dirty work tree, unknown ref...)
        _fail(f"copier update failed: {exc}")
    click.echo(f"updated {path}")
