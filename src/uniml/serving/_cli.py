"""``uniml serve`` and ``uniml score``."""

from __future__ import annotations

import sys

import click


@click.command("serve")
@click.argument("model", required=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--tracking-uri", default=None, help="MLflow tracking/registry URI.")
@click.option(
    "--follow", is_flag=True, help="Poll the alias of models:/name@alias and swap versions."
)
@click.option("--poll-seconds", default=10.0, show_default=True, type=float)
@click.option("--max-rows", default=10_000, show_default=True, type=int)
@click.option("--max-bytes", default=16 * 1024 * 1024, show_default=True, type=int)
@click.option("--prediction-log", default=None, help="Folder of the prediction log (JSONL).")
@click.option("--no-access-log", is_flag=True, help="No JSON access-log lines on stderr.")
@click.option(
    "--log-proba",
    is_flag=True,
    help="Binary classifiers: log the positive class's probability of every row (for CBPE).",
)
@click.option(
    "--batch-max-rows",
    default=0,
    show_default=True,
    type=int,
    help="Micro-batching: rows per batch (0: off).",
)
@click.option("--batch-max-wait-ms", default=2.0, show_default=True, type=float)
@click.option("--trusted", is_flag=True, help="Allow pickle-based artifacts.")
@click.option(
    "--dockerfile",
    "dockerfile_out",
    default=None,
    help="Write a Dockerfile serving MODEL to this path and exit ('-' = stdout).",
)
def serve(
    model,
    host,
    port,
    workers,
    tracking_uri,
    follow,
    poll_seconds,
    max_rows,
    max_bytes,
    prediction_log,
    no_access_log,
    log_proba,
    batch_max_rows,
    batch_max_wait_ms,
    trusted,
    dockerfile_out,
):
    """Serve MODEL (a uniml folder, runs:/..., models:/name/version or models:/name@alias)."""
    from uniml.serving import dockerfile
    from uniml.serving._app import ServeConfig
    from uniml.serving._model import ServingError, parse_models_uri

    if dockerfile_out is not None:
        text = dockerfile(model or "/model")
        if dockerfile_out == "-":
            click.echo(text, nl=False)
        else:
            with open(dockerfile_out, "w", encoding="utf-8") as fh:
                fh.write(text)
        return
    if not model:
        raise click.UsageError("MODEL is required")
    if follow:
        try:
            _, _, alias = parse_models_uri(model)
        except ServingError:
            alias = None
        if alias is None:
            raise click.UsageError("--follow needs MODEL as models:/<name>@<alias>")
    config = ServeConfig(
        model,
        tracking_uri=tracking_uri,
        trusted=trusted,
        follow=follow,
        poll_seconds=poll_seconds,
        max_rows=max_rows,
        max_bytes=max_bytes,
        prediction_log=prediction_log,
        access_log=not no_access_log,
        batch_max_rows=batch_max_rows,
        batch_max_wait_ms=batch_max_wait_ms,
        log_proba=log_proba,
    )
    # load once here so a bad MODEL is a readable error and exit code 2, not a worker crash loop
    from uniml.core.errors import UnimlError
    from uniml.serving._model import load_model

    try:
        load_model(model, tracking_uri=tracking_uri, trusted=trusted)
    except UnimlError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    from uniml.serving._server import run

    run(config, host=host, port=port, workers=workers)


@click.command("score")
@click.argument("model")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--chunk-rows", default=100_000, show_default=True, type=click.IntRange(1))
@click.option("--tracking-uri", default=None)
@click.option("--trusted", is_flag=True)
@click.option("--no-progress", is_flag=True)
def score(model, source, output, chunk_rows, tracking_uri, trusted, no_progress):
    """Batch-score SOURCE (.parquet or .csv) with MODEL into OUTPUT (.parquet), in chunks."""
    from uniml.core.errors import UnimlError
    from uniml.serving import load_model, score_file

    try:
        served = load_model(model, tracking_uri=tracking_uri, trusted=trusted)
        total = None
        if not source.lower().endswith(".csv"):
            import pyarrow.parquet as pq

            total = pq.ParquetFile(source).metadata.num_rows
        with click.progressbar(
            length=total or 0, label="scoring", file=sys.stderr, hidden=no_progress or total is None
        ) as bar:
            n = score_file(served, source, output, chunk_rows=chunk_rows, progress=bar.update)
    except UnimlError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"scored {n} rows -> {output}")
