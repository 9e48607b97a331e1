"""``uniml lineage ...`` commands (a click group the ``uniml`` CLI mounts).

Importing this module does not import MLflow.

Examples
--------
>>> from click.testing import CliRunner
>>> import tempfile
>>> result = CliRunner().invoke(lineage, ["sync", "--spool", tempfile.mkdtemp()])
>>> result.exit_code, result.output.strip()
(0, 'nothing to replay: the spool is empty')
"""

from __future__ import annotations

import click

__all__ = ["lineage"]


@click.group(name="lineage")
def lineage():
    """Lineage: replay spooled runs into MLflow."""


@lineage.command()
@click.option(
    "--tracking-uri", default=None, help="MLflow tracking URI (default: each record's own)."
)
@click.option(
    "--spool",
    "spool",
    default=None,
    type=click.Path(file_okay=False),
    help="Spool folder (default: $UNIML_LINEAGE_SPOOL or ./.uniml-spool).",
)
def sync(tracking_uri, spool):
    """Replay spooled lineage into MLflow, idempotently.

    Records the store refuses are quarantined (listed, never retried); exit code 1
    if a record failed or was quarantined by this sync.
    """
    from uniml.lineage import sync as _sync

    results = _sync(tracking_uri=tracking_uri, spool=spool)
    if not results:
        click.echo("nothing to replay: the spool is empty")
        return
    counts = {"replayed": 0, "failed": 0, "quarantined": 0, "quarantined-earlier": 0}
    for r in results:
        counts[r.status] += 1
        if r.status == "replayed":
            click.echo(f"replayed {r.lineage_id} -> run {r.run_id}")
        elif r.status == "failed":
            click.echo(f"failed {r.lineage_id} (tracking store unreachable): {r.error}", err=True)
        else:
            click.echo(
                f"quarantined {r.lineage_id} (rejected by the store, not retried; in {r.folder}): "
                f"{(r.error or '').strip()}",
                err=True,
            )
    click.echo(
        f"{counts['replayed']} replayed, {counts['failed']} failed, "
        f"{counts['quarantined'] + counts['quarantined-earlier']} quarantined"
    )
    if counts["failed"] or counts["quarantined"]:
        raise SystemExit(1)
