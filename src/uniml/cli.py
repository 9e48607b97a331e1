"""The ``uniml`` command.

=====================  =========================================================
command                does
=====================  =========================================================
``uniml eval SPEC``    evaluate the candidates of a YAML spec; the exit code is the gate
``uniml adapters``     the adapter catalog as a table
``uniml demo``         every task kind on bundled data, evaluated, with lineage and HTML reports
``uniml lineage ...``  lineage utilities (from :mod:`uniml.lineage`)
=====================  =========================================================

Exit codes of ``uniml eval``: **0** every gate passed, **1** a gate failed (the
reasons are printed), **2** the spec or its data is invalid (a readable
message, never a traceback), **3** the evaluation crashed on an unexpected
error (a model that raised inside its library, or a bug; the traceback is
printed). Nothing heavy (pandas, scikit-learn, the
wrapped libraries) is imported until a command runs, so ``uniml --help`` is
instant.

Examples
--------
>>> from click.testing import CliRunner
>>> result = CliRunner().invoke(cli, ["--help"])
>>> result.exit_code, "eval" in result.output
(0, True)
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

__all__ = ["EXIT_FAILED", "EXIT_INTERNAL", "EXIT_INVALID", "EXIT_OK", "cli", "main"]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3

#: sub-command groups that live in other modules: name -> (module, attribute, one-line help)
_LAZY = {
    "lineage": ("uniml.lineage._cli", "lineage", "Lineage: replay spooled runs into MLflow."),
    "registry": (
        "uniml.registry._cli",
        "registry",
        "Registry: register, promote, roll back, audit and verify model versions.",
    ),
    "serve": ("uniml.serving._cli", "serve", "Serve a model over HTTP (FastAPI)."),
    "score": ("uniml.serving._cli", "score", "Batch-score a Parquet/CSV file with a model."),
    "monitor": ("uniml.monitoring._cli", "monitor", "Monitor drift and performance from a spec."),
    "new": ("uniml.scaffold._cli", "new", "Create a new project from the uniml template."),
    "update": ("uniml.scaffold._cli", "update", "Update a project made by `uniml new`."),
}


class _LazyGroup(click.Group):
    """A group whose some sub-commands are imported only when invoked (``--help`` stays fast)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(_LAZY))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None or name not in _LAZY:
            return command
        module, attr, _ = _LAZY[name]
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            return _unavailable(name, module, attr, exc)

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            if name in _LAZY and name not in self.commands:
                rows.append((name, _LAZY[name][2]))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append(
                    (name, command.get_short_help_str(limit=formatter.width - 6 - len(name)))
                )
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _unavailable(name: str, module: str, attr: str, exc: Exception) -> click.Command:
    @click.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        help=_LAZY[name][2],
    )
    def unavailable():
        _error(
            f"'uniml {name}' is not available in this installation: {module}.{attr} could not be "
            f"loaded ({exc})"
        )
        sys.exit(EXIT_INVALID)

    return unavailable


def _version() -> str:
    from uniml._version import __version__

    return __version__


def _error(message: str) -> None:
    click.secho("error: ", fg="red", bold=True, err=True, nl=False)
    click.echo(message, err=True)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    _version(), "--version", "-V", prog_name="uniml", message="%(prog)s %(version)s"
)
def cli():
    """uniml: one interface over classical ML libraries, with lineage and an evaluation harness."""


@cli.command("eval")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the HTML report here (default: the spec's output.html, else SPEC-report.html "
    "in the working folder).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the report as JSON here.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Print nothing but the failing gates' reasons (on stderr)."
)
@click.option(
    "--trusted",
    is_flag=True,
    help="Load the saved models the spec marks 'trusted: true' with trusted=True (pickle-based "
    "formats run code). The spec's mark alone grants nothing.",
)
def eval_command(spec, report_path, json_path, quiet, trusted):
    """Evaluate the candidates of SPEC (a YAML file) against baselines, champion and gates.

    Exit code 0: every gate passed; 1: a gate failed; 2: invalid spec or data;
    3: the evaluation crashed (traceback printed).
    """
    from uniml.evaluation import spec as specs

    out = _console(quiet=quiet)
    try:
        parsed = specs.load_spec(spec)
        with _progress(out, parsed) as progress:
            report = specs.run_spec(parsed, progress=progress, trusted=trusted)
        html_path, json_file = specs.output_paths(parsed, report_path, json_path)
        report.to_html(html_path)
        if json_file is not None:
            json_file.parent.mkdir(parents=True, exist_ok=True)
            report.to_json(json_file, indent=2)
    except Exception as exc:
        code, message = _classify(exc)
        if code == EXIT_INTERNAL:
            traceback.print_exc()
            _error(
                f"the evaluation crashed: {message} (traceback above; with a valid spec and data this is a "
                "bug in uniml or in a wrapped library)"
            )
        else:
            _error(message)
        sys.exit(code)
    _print_report(out, report)
    out.print(
        f"report: {html_path}" + (f"  json: {json_file}" if json_file is not None else ""),
        markup=False,
    )
    if not report.passed:
        # the failing reasons go to stderr too, so a CI log shows them even with --quiet
        for gate in report.failed_gates:
            click.echo(f"FAILED gate {gate.name}: {gate.reason}", err=True)
        sys.exit(EXIT_FAILED)


def _classify(exc: BaseException) -> tuple[int, str]:
    """Exit code and message for an exception raised while evaluating a spec."""
    import yaml
    from pydantic import ValidationError

    from uniml.core.errors import UnimlError

    if isinstance(exc, (UnimlError, ValidationError, yaml.YAMLError)):
        return EXIT_INVALID, str(exc)
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
        return EXIT_INVALID, f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    return EXIT_INTERNAL, f"{type(exc).__name__}: {exc}"


def _console(**kwargs):
    """A rich console; wide when writing to a file or a CI log (rich would assume 80 columns)."""
    from rich.console import Console

    console = Console(highlight=False, **kwargs)
    if not console.is_terminal:
        console = Console(highlight=False, width=160, **kwargs)
    return console


class _progress:
    """A rich progress bar over the harness's (model, fold) jobs, with elapsed time (only on a terminal)."""

    def __init__(self, console, spec):
        self.console = console
        self.spec = spec
        self._live = None
        self._task = None

    def __enter__(self):
        if self.console.is_terminal and not self.console.quiet:
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._live = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._live.__enter__()
            n = len(self.spec.candidates)
            self._task = self._live.add_task(
                f"evaluating {n} candidate{'s' if n != 1 else ''} ({self.spec.task})", total=None
            )
        return self

    def __call__(self, done: int, total: int) -> None:
        """Progress callback of the harness: ``done`` of ``total`` (model, fold) jobs finished."""
        if self._live is not None:
            self._live.update(self._task, completed=done, total=total)

    def __exit__(self, *exc):
        if self._live is not None:
            self._live.__exit__(*exc)
        return False


def _cell(mean, std) -> str:
    import math

    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.4g}"  # a single fold has no spread
    return f"{mean:.4g} ± {std:.2g}"


def _print_report(console, report) -> None:
    from rich.markup import escape
    from rich.table import Table

    verdict = "[bold green]PASSED[/]" if report.passed else "[bold red]FAILED[/]"
    protocol = ", ".join(
        f"{k}={v}"
        for k, v in report.protocol.items()
        if v is not None and not isinstance(v, (list, dict))
    )
    console.print(
        f"{escape(report.task)} evaluation ({escape(protocol)}): {verdict} in {report.duration:.1f} s"
    )
    table = Table(title="leaderboard (mean ± std over folds, best first)", title_justify="left")
    table.add_column("model", no_wrap=True)
    table.add_column("role", no_wrap=True)
    metrics = [m for m in report.metrics if f"{m}_mean" in report.leaderboard.columns]
    for m in metrics:
        table.add_column(
            f"{escape(m)} {'↑' if report.greater_is_better.get(m) else '↓'}",
            justify="right",
            no_wrap=True,
        )
    for name, row in report.leaderboard.iterrows():
        table.add_row(
            escape(str(name)),
            str(row["role"]),
            *(_cell(row[f"{m}_mean"], row[f"{m}_std"]) for m in metrics),
        )
    console.print(table)
    for gate in report.gates:
        mark = "[green]PASS[/]" if gate.passed else "[red]FAIL[/]"
        console.print(f"{mark} ", end="")
        console.print(f"{gate.name}: {gate.reason}", markup=False, highlight=False)


@cli.command("adapters")
@click.option(
    "--all", "show_all", is_flag=True, help="Also list adapters whose library is not installed."
)
def adapters_command(show_all):
    """List the adapter catalog: name, task, library, whether it is installed."""
    from rich.markup import escape
    from rich.table import Table

    import uniml

    table = uniml.catalog()
    shown = table if show_all else table[table["installed"]]
    view = Table(
        title=f"uniml adapters ({len(shown)} of {len(table)}"
        f"{'' if show_all or len(shown) == len(table) else ' installed; --all lists the rest'})",
        title_justify="left",
    )
    for column in ("name", "task", "library", "installed", "version", "install with"):
        view.add_column(column)
    for row in shown.itertuples(index=False):
        view.add_row(
            row.name,
            row.task,
            row.library,
            "yes" if row.installed else "[red]no[/]",
            str(row.version or "—"),
            # escaped: rich would read "[xgboost]" as a markup tag and drop it
            escape(f"pip install 'uniml[{row.extra}]'") if row.extra != "core" else "—",
        )
    _console().print(view)


@cli.command(
    "demo",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def demo_command(args):
    """Every task kind on bundled data, evaluated, with lineage and HTML reports (python -m uniml.demo)."""
    from uniml import demo

    sys.exit(demo.main(list(args), prog="uniml demo"))


def main(argv: list[str] | None = None) -> int:
    """Run the ``uniml`` command and return its exit code (the console-script entry point).

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    uniml ...
    0
    """
    try:
        cli.main(args=argv, prog_name="uniml", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_INVALID)
    return EXIT_OK
