"""``uniml monitor SPEC.yaml``: one scheduled monitoring run from a YAML spec.

Exit codes: **0** no alert (warnings may be printed), **1** at least one alert,
**2** the spec or its data is invalid (a readable message), **3** the run
crashed on an unexpected error (traceback printed).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import click

from uniml.monitoring._errors import MonitoringError

__all__ = ["load_spec", "monitor", "run_spec"]

EXIT_OK, EXIT_ALERT, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3

_KEYS = {
    "profile",
    "current",
    "since",
    "until",
    "actuals",
    "thresholds",
    "learned_thresholds",
    "alpha",
    "small_sample",
    "k",
    "domain_classifier",
    "chunk",
    "sinks",
    "retrain",
    "output",
}
_SINKS = {"log", "file", "webhook", "mlflow"}


def _path(base: Path, value, key: str) -> Path:
    """A spec path: absolute as written, relative ones inside the spec's folder (no ``..`` escape)."""
    if not isinstance(value, str) or not value:
        raise MonitoringError(f"spec key {key!r}: expected a path, got {value!r}")
    path = Path(value)
    if path.is_absolute():
        return path
    resolved = (base / path).resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise MonitoringError(
            f"spec key {key!r}: relative path {value!r} leaves the spec's folder; "
            "write an absolute path if that is intended"
        )
    return resolved


def load_spec(path) -> dict[str, Any]:
    """Read and check a monitoring spec (YAML); paths are resolved against its folder.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        The spec with resolved paths under ``_base``.

    Raises
    ------
    MonitoringError
        Unknown keys, missing ``profile``/``current``, bad values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "spec.yaml").write_text("profile: p.npz\\ncurrent: logs/\\n")
    >>> load_spec(folder / "spec.yaml")["current"].name
    'logs'
    """
    from uniml.core.safe_yaml import YAMLInputError, read_yaml

    path = Path(path)
    try:
        spec = read_yaml(path)  # safe types, size/alias/depth limits
    except YAMLInputError as exc:
        raise MonitoringError(f"spec {str(path)!r}: {exc}") from exc
    if not isinstance(spec, dict):
        raise MonitoringError(f"spec {str(path)!r}: expected a mapping at the top level")
    unknown = set(spec) - _KEYS
    if unknown:
        raise MonitoringError(f"spec: unknown key(s) {sorted(unknown)}; known: {sorted(_KEYS)}")
    for key in ("profile", "current"):
        if key not in spec:
            raise MonitoringError(f"spec: {key!r} is required")
    base = path.parent
    spec["_base"] = base
    spec["profile"] = _path(base, spec["profile"], "profile")
    spec["current"] = _path(base, spec["current"], "current")
    actuals = spec.get("actuals")
    if isinstance(actuals, dict):
        if "column" not in actuals:
            raise MonitoringError(
                "spec key 'actuals': needs 'column' (and 'path', 'join' for a file)"
            )
        if "path" in actuals:
            actuals["path"] = _path(base, actuals["path"], "actuals.path")
            if not actuals.get("join"):
                raise MonitoringError(
                    "spec key 'actuals': a file of actuals needs 'join' (the key columns, "
                    "e.g. [request_id, row])"
                )
    elif actuals is not None and not isinstance(actuals, str):
        raise MonitoringError("spec key 'actuals': a column name or {path, column, join}")
    sinks = spec.get("sinks") or []
    if not isinstance(sinks, list):
        raise MonitoringError(
            "spec key 'sinks': expected a list like [{log: {}}, {webhook: {url: ...}}]"
        )
    for entry in sinks:
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in _SINKS:
            raise MonitoringError(
                f"spec key 'sinks': each entry is one of {sorted(_SINKS)} with its options, "
                f"got {entry!r}"
            )
    output = spec.get("output") or {}
    for key in ("html", "json"):
        if key in output:
            output[key] = _path(base, output[key], f"output.{key}")
    spec["output"] = output
    retrain = spec.get("retrain")
    if retrain is not None:
        if not isinstance(retrain, dict):
            raise MonitoringError("spec key 'retrain': expected {k: 3, cooldown: 2, state: file}")
        if "state" in retrain:
            retrain["state"] = _path(base, retrain["state"], "retrain.state")
    return spec


def _sinks(spec) -> list:
    from uniml.monitoring._sinks import FileSink, LogSink, MlflowSink, WebhookSink

    out: list[Any] = []
    for entry in spec.get("sinks") or []:
        ((name, options),) = entry.items()
        options = dict(options or {})
        try:
            if name == "log":
                out.append(LogSink(**options))
            elif name == "file":
                options["path"] = _path(spec["_base"], options.get("path"), "sinks.file.path")
                out.append(FileSink(**options))
            elif name == "webhook":
                out.append(WebhookSink(**options))
            else:
                out.append(MlflowSink(**options))
        except TypeError as exc:
            raise MonitoringError(f"spec sink {name!r}: {exc}") from None
    return out


def run_spec(spec: dict, progress=None):
    """Run the monitoring described by a loaded spec.

    Parameters
    ----------
    spec : dict
        From :func:`load_spec`.
    progress : callable, optional
        ``progress(done, total)`` over columns.

    Returns
    -------
    MonitorReport
    """
    import pandas as pd

    from uniml.monitoring._alerts import RetrainPolicy
    from uniml.monitoring._io import read_current
    from uniml.monitoring._monitor import monitor as run_monitor
    from uniml.monitoring._profile import Profile

    profile = Profile.load(spec["profile"])
    current = read_current(spec["current"], since=spec.get("since"), until=spec.get("until"))
    if len(current) == 0:
        raise MonitoringError(f"no current rows in {str(spec['current'])!r}")
    actuals = spec.get("actuals")
    if isinstance(actuals, dict):
        if "path" in actuals:
            keys = list(actuals["join"]) if isinstance(actuals["join"], list) else [actuals["join"]]
            truth = read_current(actuals["path"])
            missing = [c for c in [*keys, actuals["column"]] if c not in truth.columns]
            if missing:
                raise MonitoringError(f"actuals file lacks column(s) {missing}")
            absent = [c for c in keys if c not in current.columns]
            if absent:
                raise MonitoringError(f"the current data lacks the join column(s) {absent}")
            truth = truth[[*keys, actuals["column"]]].drop_duplicates(keys)
            current = current.merge(truth, on=keys, how="left", validate="many_to_one")
        actuals = actuals["column"]
    retrain = spec.get("retrain")
    policy = RetrainPolicy(**retrain) if isinstance(retrain, dict) else None
    del pd
    return run_monitor(
        profile,
        current,
        actuals=actuals,
        thresholds=spec.get("thresholds"),
        learned_thresholds=bool(spec.get("learned_thresholds", False)),
        alpha=float(spec.get("alpha", 0.05)),
        small_sample=int(spec.get("small_sample", 2000)),
        k=float(spec.get("k", 3.0)),
        domain_classifier=bool(spec.get("domain_classifier", False)),
        chunk=spec.get("chunk"),
        sinks=_sinks(spec),
        retrain=policy,
        progress=progress,
    )


def _classify(exc: BaseException) -> tuple[int, str]:
    import yaml

    from uniml.core.errors import UnimlError

    if isinstance(exc, (UnimlError, yaml.YAMLError)):
        return EXIT_INVALID, str(exc)
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
        return EXIT_INVALID, f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    return EXIT_INTERNAL, f"{type(exc).__name__}: {exc}"


class _Progress:
    def __init__(self, console):
        self.console = console
        self.live = None
        self.task = None

    def __enter__(self):
        if self.console.is_terminal and not self.console.quiet:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.live = Progress(
                TextColumn("monitoring columns"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.live.__enter__()
            self.task = self.live.add_task("monitor", total=None)
        return self

    def __call__(self, done, total):
        if self.live is not None:
            self.live.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)
        return False


@click.command("monitor")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=str))
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="HTML report path.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="JSON report path.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the alerts (on stderr).")
def monitor(spec, report_path, json_path, quiet):
    """Monitor drift and performance as SPEC (YAML) says; the exit code is the verdict.

    Exit code 0: no alert; 1: at least one alert; 2: invalid spec or data;
    3: the run crashed (traceback printed).
    """
    from rich.console import Console

    console = Console(highlight=False, quiet=quiet)
    try:
        parsed = load_spec(spec)
        with _Progress(console) as progress:
            report = run_spec(parsed, progress=progress)
        html = Path(report_path) if report_path else parsed["output"].get("html")
        if html is None:
            html = Path(spec).with_name(Path(spec).stem + "-report.html")
        report.to_html(html)
        json_file = Path(json_path) if json_path else parsed["output"].get("json")
        if json_file is not None:
            report.to_json(json_file, indent=2)
    except Exception as exc:
        code, message = _classify(exc)
        if code == EXIT_INTERNAL:
            traceback.print_exc()
            message = f"the monitoring run crashed: {message} (traceback above)"
        click.secho("error: ", fg="red", bold=True, err=True, nl=False)
        click.echo(message, err=True)
        sys.exit(code)
    console.print(report.summary(), markup=False)
    console.print(f"report: {html}" + (f"  json: {json_file}" if json_file else ""), markup=False)
    alerts = [a for a in report.alerts if a.level == "alert"]
    if alerts:
        for alert in alerts:
            click.echo(f"ALERT {alert.kind}: {alert.message}", err=True)
        sys.exit(EXIT_ALERT)
