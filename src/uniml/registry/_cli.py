"""``uniml registry ...``: exit 0 ok, 1 refused or verification failed, 2 bad input, 3 crash."""

from __future__ import annotations

import functools
import json
import sys

import click

from uniml.core.errors import UnimlError


def _guard(fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        from uniml.registry._errors import AuditChainError, ConflictError, GovernanceError

        try:
            return fn(*args, **kwargs)
        except (GovernanceError, ConflictError, AuditChainError) as exc:
            click.echo(f"refused: {exc}", err=True)
            sys.exit(1)
        except UnimlError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except click.exceptions.Exit:
            raise
        except Exception as exc:  # a crash is never mistaken for a refusal
            click.echo(f"crash: {type(exc).__name__}: {exc}", err=True)
            sys.exit(3)

    return run


def _out(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


uri_option = click.option(
    "--tracking-uri",
    default=None,
    help="MLflow tracking URI (default MLFLOW_TRACKING_URI or ./mlruns.db).",
)


@click.group()
def registry():
    """The governed registry: register, promote, rollback, history, lineage, evidence, verify."""


@registry.command()
@click.argument("run_uri")
@click.argument("name")
@click.option(
    "--card", "card_path", type=click.Path(exists=True, dir_okay=False), help="Card fields (JSON)."
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Evaluation report JSON.",
)
@click.option("--actor", default=None)
@uri_option
@_guard
def register(run_uri, name, card_path, report_path, actor, tracking_uri):
    """Register RUN_URI (runs:/<id>/model) as a new version of NAME."""
    from uniml.registry import register as reg

    report = None
    if report_path:
        from uniml.evaluation import EvalReport

        with open(report_path) as fh:
            report = EvalReport.from_json(fh.read())
    card = None
    if card_path:
        with open(card_path) as fh:
            card = json.load(fh)
    _out(reg(run_uri, name, card, report=report, actor=actor, tracking_uri=tracking_uri))


@registry.command()
@click.argument("name")
@click.argument("version")
@click.option("--alias", default="champion")
@click.option("--approver", default=None, help="Default: UNIML_ACTOR, else the OS user.")
@click.option("--reason", default="")
@uri_option
@_guard
def promote(name, version, alias, approver, reason, tracking_uri):
    """Point ALIAS at VERSION of NAME after the governance checks."""
    from uniml.registry import promote as prom

    _out(prom(name, version, alias, approver=approver, reason=reason, tracking_uri=tracking_uri))


@registry.command()
@click.argument("name")
@click.option("--alias", default="champion")
@click.option("--to", default=None)
@click.option("--actor", default=None)
@click.option("--reason", default="")
@uri_option
@_guard
def rollback(name, alias, to, actor, reason, tracking_uri):
    """Re-point ALIAS of NAME at its previous holder (or --to a version that passed a gate)."""
    from uniml.registry import rollback as rb

    _out(rb(name, alias, to, actor=actor, reason=reason, tracking_uri=tracking_uri))


@registry.command()
@click.argument("name")
@click.option("--alias", default="champion")
@uri_option
@_guard
def history(name, alias, tracking_uri):
    """Every holder of ALIAS over time."""
    from uniml.registry import history as hist

    _out(hist(name, alias, tracking_uri=tracking_uri))


@registry.command("lineage")
@click.argument("ref")
@uri_option
@_guard
def lineage_cmd(ref, tracking_uri):
    """REF (name@alias or name/version) -> version -> run -> data -> commit -> report -> card -> approvals."""
    from uniml.registry import trace

    _out(trace(ref, tracking_uri=tracking_uri))


@registry.command()
@click.argument("ref")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@uri_option
@_guard
def evidence(ref, out, tracking_uri):
    """Write the audit bundle (evidence.html + evidence.json) of REF into OUT."""
    from uniml.registry import evidence as ev

    click.echo(str(ev(ref, out, tracking_uri=tracking_uri)))


@registry.command()
@click.option("--no-digests", is_flag=True, help="Skip downloading artifacts to recheck digests.")
@uri_option
@_guard
def verify(no_digests, tracking_uri):
    """Fail (exit 1) unless every alias is governed and every audit chain intact."""
    from uniml.registry import verify as ver

    result = ver(check_digests=not no_digests, tracking_uri=tracking_uri)
    for problem in result.problems:
        click.echo(problem, err=True)
    click.echo(f"governed: {result.governed}/{result.aliased} aliased models ({result.share:.0%})")
    if not result.ok:
        sys.exit(1)


@registry.command("import-legacy")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.argument("name")
@click.option(
    "--sample",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="CSV or Parquet of feature rows.",
)
@click.option(
    "--trusted", is_flag=True, help="I know where this pickle comes from (unpickling runs code)."
)
@click.option("--actor", default=None)
@uri_option
@_guard
def import_legacy(path, name, sample, trusted, actor, tracking_uri):
    """Register the pickled model PATH as a legacy version of NAME."""
    import pandas as pd

    from uniml.registry import import_legacy as imp

    frame = pd.read_parquet(sample) if sample.endswith(".parquet") else pd.read_csv(sample)
    _out(imp(path, name, frame, trusted=trusted, actor=actor, tracking_uri=tracking_uri))


@registry.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out", default=None, type=click.Path(dir_okay=False), help="Write the inventory JSON here."
)
@_guard
def audit(folder, out):
    """Inventory the pickled models in FOLDER (nothing is loaded)."""
    from uniml.registry import audit as aud

    _out(aud(folder, out))


@registry.command()
@click.argument("name")
@click.argument("version")
@click.option("--reason", required=True)
@click.option("--actor", default=None)
@uri_option
@_guard
def retire(name, version, reason, actor, tracking_uri):
    """Mark VERSION of NAME retired."""
    from uniml.registry import retire as ret

    _out(ret(name, version, reason, actor=actor, tracking_uri=tracking_uri))
