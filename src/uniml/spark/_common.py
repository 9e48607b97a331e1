"""Shared helpers of the Spark layer: model blobs, the per-worker model cache, thread pinning.

Nothing here imports pyspark at module import time.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from uniml.core.errors import DataContractError, UnimlError

__all__ = ["SparkJobError", "pack_model", "unpack_model"]

#: environment variables that cap the thread pools of BLAS/OpenMP libraries
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

# worker-process cache: digest -> loaded adapter (a Python worker is reused across tasks);
# bounded, so a worker that loads many shards does not keep them all
_MODEL_CACHE: dict[str, Any] = {}
_MODEL_CACHE_SIZE = 4
# worker-process memory of the shards this process fitted: digest -> (adapter, needs trusted=);
# a later task of the same job that lands on this process skips reloading the blob
_FITTED: dict[str, tuple[Any, bool]] = {}
_FITTED_SIZE = 4

#: the column naming each row's shard (a group of series fitted and stored together)
SHARD = "__uniml_shard__"


class SparkJobError(UnimlError, RuntimeError):
    """A Spark job of the uniml Spark layer could not run (bad arguments or no session).

    Examples
    --------
    >>> issubclass(SparkJobError, RuntimeError)
    True
    """


def pack_model(model) -> tuple[bytes, str, str]:
    """Save a fitted adapter and return ``(tar bytes of the folder, manifest json, digest)``.

    Parameters
    ----------
    model : uniml.Adapter
        A fitted adapter.

    Returns
    -------
    tuple of (bytes, str, str)
        The saved folder as an uncompressed tar archive, its ``uniml.json``
        manifest text and the canonical digest of the manifest.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1).fit(np.eye(4), np.arange(4.0))
    >>> blob, manifest, digest = pack_model(m)
    >>> len(digest), unpack_model(blob).predict(np.eye(4)).equals(m.predict(np.eye(4)))
    (64, True)
    """
    from uniml.core.persistence import artifact_digest

    with tempfile.TemporaryDirectory(prefix="uniml-spark-") as tmp:
        folder = model.save(Path(tmp) / "model")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for path in sorted(folder.iterdir()):
                tar.add(path, arcname=path.name, recursive=False)
        manifest = (folder / "uniml.json").read_text(encoding="utf-8")
        return buf.getvalue(), manifest, artifact_digest(folder)


def unpack_model(blob: bytes, trusted: bool = False, digest: str | None = None):
    """Load an adapter from :func:`pack_model`'s archive (hash-verified by :func:`uniml.load`).

    Parameters
    ----------
    blob : bytes
        The tar archive.
    trusted : bool, default False
        Passed to :func:`uniml.load` (pickle-based artifacts need True).
    digest : str, optional
        Cache key: a model already loaded in this process under this digest is reused.

    Returns
    -------
    uniml.Adapter

    Raises
    ------
    IntegrityError, UntrustedArtifactError
        As :func:`uniml.load`; an archive member that is not a plain file at
        the top level is refused.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1).fit(np.eye(4), np.arange(4.0))
    >>> unpack_model(pack_model(m)[0]).name
    'lightgbm.regressor'
    """
    from uniml.core.errors import IntegrityError
    from uniml.core.persistence import load

    cache_key = f"{digest}:{bool(trusted)}"
    if digest is not None and cache_key in _MODEL_CACHE:
        return _MODEL_CACHE[cache_key]
    fitted = _FITTED.get(digest) if digest is not None else None
    if fitted is not None and (trusted or not fitted[1]):
        return fitted[0]
    with tempfile.TemporaryDirectory(prefix="uniml-spark-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as tar:
            for member in tar.getmembers():
                if not member.isfile() or "/" in member.name or member.name in ("", ".", ".."):
                    raise IntegrityError(
                        f"model archive member {member.name!r} is not a plain top-level file"
                    )
                data = tar.extractfile(member)
                assert data is not None
                (Path(tmp) / member.name).write_bytes(data.read())
        model = load(tmp, trusted=trusted)
    if digest is not None:
        while len(_MODEL_CACHE) >= _MODEL_CACHE_SIZE:
            _MODEL_CACHE.pop(next(iter(_MODEL_CACHE)))
        _MODEL_CACHE[cache_key] = model
    return model


def remember_fitted(model, manifest_text: str, digest: str) -> None:
    """Keep a model this worker process just fitted and saved, under its manifest digest.

    :func:`unpack_model` with the same digest returns it instead of unpacking
    the blob (the blob was written from this very object, so it is the same
    model), unless the manifest lists pickle-based artifacts and the caller did
    not pass ``trusted=True``: then the blob is loaded, and refused, as always.
    Bounded to the last few shards.

    Examples
    --------
    >>> import numpy as np, uniml
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1).fit(np.eye(4), np.arange(4.0))
    >>> blob, manifest, digest = pack_model(m)
    >>> remember_fitted(m, manifest, digest)
    >>> unpack_model(blob, digest=digest) is m
    True
    """
    import json

    pickled = any(
        info.get("pickle") for info in json.loads(manifest_text).get("artifacts", {}).values()
    )
    while len(_FITTED) >= _FITTED_SIZE:
        _FITTED.pop(next(iter(_FITTED)))
    _FITTED[digest] = (model, pickled)


@contextmanager
def one_thread() -> Iterator[None]:
    """Pin BLAS/OpenMP pools to one thread while a task runs (one thread per Spark task)."""
    from threadpoolctl import threadpool_limits

    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    for k in _THREAD_VARS:
        os.environ[k] = "1"
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def task_scope() -> Iterator[None]:
    """What a uniml task runs under on a Python worker: one thread, and no full collection after.

    BLAS/OpenMP are pinned to one thread (:func:`one_thread`). And the garbage
    collector: a reused PySpark worker runs a full ``gc.collect()`` after every
    task, which walks every live object of the process: its imported libraries
    and the fitted shards it keeps (0.19-0.36 s per task with 250 fitted ETS
    series in memory, on the critical path between a core's tasks). Freezing
    what is alive when the task ends (``gc.freeze()``) makes that collection
    skip it; the next uniml task in the process unfreezes it at its start, so
    its garbage goes back to the ordinary generational collector. What stays
    frozen in between is what one task left, until the next uniml task or the
    worker's exit.
    """
    import gc

    gc.unfreeze()
    try:
        with one_thread():
            yield
    finally:
        gc.freeze()


#: Spark's Arrow input batches close at whichever comes first, a row count or a byte size;
#: with a byte cap set (Spark 4 default: 64 MB) the JVM re-measures the batch after every row
_ARROW_BYTES = "spark.sql.execution.arrow.maxBytesPerBatch"
#: Int.MaxValue: Spark's "no byte cap", which skips that per-row measurement
_NO_BYTE_CAP = str(2**31 - 1)


@contextmanager
def session_confs(spark, values: dict[str, str]) -> Iterator[None]:
    """Set runtime SQL confs while a job of ours is planned and run, restoring each after.

    A conf the session did not set is unset again; a user's own value is put
    back, also after an error.
    """
    before = {key: spark.conf.get(key, None) for key in values}
    try:
        for key, value in values.items():
            spark.conf.set(key, value)
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


@contextmanager
def rows_only_arrow_batches(spark) -> Iterator[None]:
    """Close Arrow batches by row count alone while a job of ours is planned and run.

    Spark 4 sizes each Arrow batch it sends to Python workers after every row
    whenever ``spark.sql.execution.arrow.maxBytesPerBatch`` is set (64 MB by
    default), a measurable share of the JVM's CPU on long, narrow inputs (rows
    of a key, a time and a value, where ``maxRecordsPerBatch`` rows are far
    below the byte cap). The session value is restored on exit, also after an
    error.
    """
    with session_confs(spark, {_ARROW_BYTES: _NO_BYTE_CAP}):
        yield


def adaptive_buckets(tasks: int) -> int:
    """Hash buckets the adaptive shards are made of: fine enough to deal out evenly.

    At least 256 and 16 per task, at most 2,000 (above that Spark's map
    statuses keep only an average block size, and the sizes that even the
    shards out are lost).

    Examples
    --------
    >>> adaptive_buckets(4), adaptive_buckets(64), adaptive_buckets(1000)
    (256, 1024, 2000)
    """
    return min(2000, max(256, 16 * int(tasks)))


@contextmanager
def job_confs(spark, shards: int | None) -> Iterator[None]:
    """The confs a sharded job of ours runs under: :func:`rows_only_arrow_batches`, and adaptive shards.

    With ``shards=None`` (adaptive: the checked ``shards=`` that :func:`sharded`
    is given too), the rows are shuffled into :func:`adaptive_buckets` buckets,
    and Spark's adaptive execution, which knows every bucket's size once the
    shuffle is written, merges neighbouring whole buckets into about
    :func:`default_shards` tasks of equal bytes (never more bytes per task than
    the session's ``spark.sql.adaptive.advisoryPartitionSizeInBytes``, so a
    large input gets more tasks). A task's series are one shard. It balances
    the tasks by rows at no extra job, where hashed shards differ by chance.
    """
    values = {_ARROW_BYTES: _NO_BYTE_CAP}
    if shards is None:
        tasks = default_shards(spark)
        values |= {
            "spark.sql.adaptive.enabled": "true",
            "spark.sql.adaptive.coalescePartitions.enabled": "true",
            "spark.sql.adaptive.coalescePartitions.initialPartitionNum": str(
                adaptive_buckets(tasks)
            ),
            "spark.sql.adaptive.coalescePartitions.minPartitionNum": str(tasks),
            # the 1 MB default would merge a small input into one task: one core for the job
            "spark.sql.adaptive.coalescePartitions.minPartitionSize": "1b",
        }
    with session_confs(spark, values):
        yield


def active_session(spark_df):
    """The SparkSession of a DataFrame, with a typed error for anything else."""
    try:
        from pyspark.sql import DataFrame
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise SparkJobError("uniml.spark needs pyspark: pip install 'uniml[spark]'") from exc
    if not isinstance(spark_df, DataFrame):
        raise DataContractError(f"expected a pyspark.sql.DataFrame, got {type(spark_df).__name__}")
    return spark_df.sparkSession


def require_columns(spark_df, columns, what: str) -> None:
    """Every named column is in the Spark DataFrame; else a SchemaError naming the first missing."""
    from uniml.core.errors import SchemaError

    have = list(spark_df.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise SchemaError(
            f"{what} lacks column {missing[0]!r}"
            + (f" (and {missing[1:]})" if len(missing) > 1 else "")
            + f"; it has {have}",
            column=missing[0],
            expected=tuple(columns),
            got=tuple(have),
        )


def spark_schema_of(frame):
    """A Spark StructType for a pandas frame (via Arrow)."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(pa.Schema.from_pandas(frame, preserve_index=False))


def to_arrow_safe(frame):
    """The frame with Arrow- or string-backed columns as plain object columns.

    pyspark's UDF serializer builds Arrow record batches from numpy-backed
    columns; pandas' Arrow-backed string columns come through as chunked arrays
    it cannot take.
    """
    import pandas as pd

    out = frame
    for name in frame.columns:
        dtype = frame[name].dtype
        if isinstance(dtype, (pd.StringDtype, pd.ArrowDtype)):
            if out is frame:
                out = frame.copy()
            out[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return out


def check_trusted(manifest_text: str | None, trusted: bool, where: str) -> None:
    """Refuse on the driver what the workers would refuse: pickle-based artifacts without ``trusted``."""
    import json

    from uniml.core.errors import UntrustedArtifactError

    if trusted or manifest_text is None:
        return
    manifest = json.loads(manifest_text)
    pickled = sorted(n for n, info in manifest.get("artifacts", {}).items() if info.get("pickle"))
    if pickled:
        raise UntrustedArtifactError(
            f"{where} holds pickle-based artifact(s) {pickled} ({manifest.get('adapter')}), which can run "
            f"arbitrary code when loaded; pass trusted=True only if you trust where the models came from"
        )


def default_shards(spark) -> int:
    """Default number of shards: twice the session's default parallelism (cores), at least 2."""
    return max(2, 2 * int(spark.sparkContext.defaultParallelism))


def check_shards(shards, spark, balance: bool = False) -> int | None:
    """``shards=`` as a positive int; None stays None (adaptive shards) unless ``balance``
    (then :func:`default_shards`)."""
    if not isinstance(balance, bool):
        raise DataContractError(f"balance must be True or False, got {balance!r}")
    if shards is None:
        return default_shards(spark) if balance else None
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise DataContractError(f"shards must be a positive integer, got {shards!r}")
    return shards


def shard_expr(keys, shards: int):
    """The hashed shard of a row: ``pmod(hash(keys as strings), shards)``.

    Spark's hash partitioning places a row in partition
    ``pmod(murmur3(exprs), n)``, and ``hash`` is that same Murmur3, so
    ``repartition(shards, *key strings)`` puts shard ``s`` into partition ``s``:
    one shard per task, no shuffle sort. Keys are hashed as strings so an
    ``int`` key and a ``long`` key of the same value land in the same shard.
    """
    from pyspark.sql import functions as F

    return F.pmod(F.hash(*[F.col(k).cast("string") for k in keys]), F.lit(int(shards)))


def spark_hash_int(value: int, seed: int = 42) -> int:
    """Spark SQL's ``hash()`` of one 32-bit integer: Murmur3_x86_32 with seed 42, signed.

    Examples
    --------
    >>> [spark_hash_int(v) for v in (0, 1, -1)]
    [933211791, -559580957, -1604776387]
    """
    mask = 0xFFFFFFFF

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & mask

    k1 = rotl((value & mask) * 0xCC9E2D51 & mask, 15) * 0x1B873593 & mask
    h1 = rotl((seed & mask) ^ k1, 13)
    h1 = (h1 * 5 + 0xE6546B64) & mask
    h1 ^= 4  # the input's length in bytes
    h1 ^= h1 >> 16
    h1 = h1 * 0x85EBCA6B & mask
    h1 ^= h1 >> 13
    h1 = h1 * 0xC2B2AE35 & mask
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 >= 1 << 31 else h1


def partition_routes(shards: int) -> list[int]:
    """For each shard ``s``, the smallest int that hash partitioning into ``shards`` puts in partition ``s``.

    ``repartition(shards, route)`` then runs shard ``s`` as task ``s``.

    Examples
    --------
    >>> routes = partition_routes(4)
    >>> [spark_hash_int(r) % 4 for r in routes]
    [0, 1, 2, 3]
    """
    found: dict[int, int] = {}
    value = 0
    while len(found) < shards:
        found.setdefault(spark_hash_int(value) % shards, value)
        value += 1
    return [found[s] for s in range(shards)]


def balanced_assignment(counts, shards: int) -> dict:
    """Series to shards, longest first, each to the shard with the fewest rows so far (LPT).

    Parameters
    ----------
    counts : iterable of (key, int)
        Each series' key and its number of rows (the cost model: a fit's time
        grows with the series' length).
    shards : int
        Number of shards.

    Returns
    -------
    dict
        key -> shard. Deterministic: ties are broken by the key's ``repr`` and
        the lower shard number.

    Examples
    --------
    >>> balanced_assignment([("a", 5), ("b", 4), ("c", 3), ("d", 3)], 2)
    {'a': 0, 'b': 1, 'c': 1, 'd': 0}
    """
    import heapq

    loads = [(0, s) for s in range(shards)]
    out = {}
    for key, n in sorted(counts, key=lambda kc: (-kc[1], repr(kc[0]))):
        load, shard = heapq.heappop(loads)
        out[key] = shard
        heapq.heappush(loads, (load + int(n), shard))
    return out


_ROUTE = "__uniml_route__"


def key_aliases(keys) -> list[str]:
    """Names under which a lookup table carries the key columns (so a join is never ambiguous).

    Examples
    --------
    >>> key_aliases(["store", "item"])
    ['__uniml_key0__', '__uniml_key1__']
    """
    return [f"__uniml_key{i}__" for i in range(len(keys))]


def left_join_on_keys(spark_df, lookup, keys):
    """``spark_df`` left-joined, null-safe, to ``lookup`` keyed by :func:`key_aliases` columns.

    Every row of ``spark_df`` stays (one that ``lookup`` lacks gets nulls in the looked-up
    columns); the alias columns are dropped.
    """
    names = key_aliases(keys)
    match = None
    for k, n in zip(keys, names, strict=True):
        same = spark_df[k].eqNullSafe(lookup[n])
        match = same if match is None else match & same
    return spark_df.join(lookup, match, "left").drop(*names)


def sharded(spark_df, keys, shards: int | None, balance: bool = False):
    """``spark_df`` placed so that every series sits whole in one task.

    With ``shards=None`` (adaptive), the rows are hashed by key into buckets
    and carry no shard column: run the job under :func:`job_confs` with the
    same ``shards=None``, and Spark's adaptive execution deals whole buckets out
    to tasks of about equal bytes; :func:`iter_shards` names a task's shard
    by its partition. Otherwise the rows get a :data:`SHARD` column and shard
    ``s`` runs in partition ``s``: by default the key's hash
    (:func:`shard_expr`: no extra job, shards uneven by chance); with
    ``balance`` one small aggregation job counts each series' rows, the
    driver deals the series out with :func:`balanced_assignment`, and a join
    carries the assignment to the rows.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if not isinstance(balance, bool):
        raise DataContractError(f"balance must be True or False, got {balance!r}")
    as_text = [F.col(k).cast("string") for k in keys]
    if shards is None:
        if balance:
            raise DataContractError("balance=True deals the series into a number of shards")
        return spark_df.repartition(*as_text)
    if not balance:
        return spark_df.withColumn(SHARD, shard_expr(keys, shards)).repartition(shards, *as_text)
    counts = spark_df.groupBy(*keys).count().collect()
    assignment = balanced_assignment(
        [(tuple(row[k] for k in keys), row["count"]) for row in counts], shards
    )
    routes = partition_routes(shards)
    names = key_aliases(keys)
    schema = T.StructType(
        [
            *[
                T.StructField(n, spark_df.schema[k].dataType)
                for n, k in zip(names, keys, strict=True)
            ],
            T.StructField(SHARD, T.IntegerType(), False),
            T.StructField(_ROUTE, T.IntegerType(), False),
        ]
    )
    lookup = spark_df.sparkSession.createDataFrame(
        [(*key, shard, routes[shard]) for key, shard in assignment.items()], schema
    )
    # a left join: a row whose series was not counted (an input that changed between the two
    # reads) keeps a null shard, and iter_shards refuses it instead of dropping it. Broadcast
    # (one row per series): the rows meet the lookup where they are read, and the repartition
    # below is their only shuffle (unhinted, Spark cannot size a driver-made table, so it
    # shuffled both sides for the join and then shuffled the rows again)
    routed = left_join_on_keys(spark_df, F.broadcast(lookup), keys)
    return routed.repartition(shards, F.col(_ROUTE)).drop(_ROUTE)


def iter_shards(batches) -> Iterator[tuple[int, Any]]:
    """Inside ``mapInPandas``: the partition's Arrow batches, regrouped as ``(shard, frame)``.

    A shard's rows may span several Arrow batches, so the partition is
    gathered first (its series, not the whole data). Rows without a
    :data:`SHARD` column (adaptive shards) are one shard, named by the task's
    partition.
    """
    import pandas as pd

    frames = [b for b in batches if len(b)]
    if not frames:
        return
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if SHARD not in frame.columns:
        from pyspark import TaskContext

        context = TaskContext.get()
        yield (context.partitionId() if context is not None else 0), frame
        return
    if frame[SHARD].isna().any():
        raise SparkJobError(
            f"{int(frame[SHARD].isna().sum())} row(s) belong to series that were not there when the "
            f"series were counted: the input DataFrame changed between two reads (cache or "
            f"checkpoint a non-deterministic input)"
        )
    for shard, part in frame.groupby(SHARD, sort=True):
        yield int(shard), part.drop(columns=SHARD)
