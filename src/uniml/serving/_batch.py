"""Micro-batching of single-row requests, and batch scoring of files in chunks."""

from __future__ import annotations

import asyncio
from pathlib import Path


class MicroBatcher:
    """Collect concurrent 1-row requests for up to ``max_wait`` seconds and score them together.

    Parameters
    ----------
    slot : ModelSlot
    max_rows : int
    max_wait : float
        Seconds.
    """

    def __init__(self, slot, max_rows: int, max_wait: float):
        self.slot, self.max_rows, self.max_wait = slot, max_rows, max_wait
        self._pending: list = []
        self._timer: asyncio.TimerHandle | None = None

    async def submit(self, model, frame) -> list:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((model, frame, future))
        if len(self._pending) >= self.max_rows:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        groups: dict = {}
        for model, frame, future in pending:
            groups.setdefault(id(model), (model, []))[1].append((frame, future))
        for model, items in groups.values():
            try:
                frames = [f for f, _ in items]
                joined = _stack(frames)
                preds = model.adapter.predict(joined).tolist()
            except Exception:
                # one bad row must not fail the batch: score each alone, each gets its own answer
                for frame, future in items:
                    if future.done():  # the client went away
                        continue
                    try:
                        frame = frame.frame() if hasattr(frame, "rows_array") else frame
                        future.set_result(model.adapter.predict(frame).tolist())
                    except Exception as exc:
                        future.set_exception(exc)
                continue
            for i, (_, future) in enumerate(items):
                if not future.done():
                    future.set_result([preds[i]])

    async def close(self) -> None:
        if self._pending:
            self._flush()


def _stack(frames):
    """Rows of same-layout frames as one frame: one numpy concatenation when every frame is
    one float block on the same column index (the server's fast path), else ``pd.concat``."""
    import numpy as np
    import pandas as pd

    frames = list(frames)
    if len(frames) == 1:
        only = frames[0]
        return only.frame() if hasattr(only, "rows_array") else only
    columns = frames[0].columns
    # the shared index object marks rows the server parsed into one float64 array each
    if all(f.columns is columns for f in frames):
        if all(hasattr(f, "rows_array") for f in frames):
            rows = [f.rows_array for f in frames]
            return pd.DataFrame(np.concatenate(rows), columns=columns, copy=False)
        arrays = [f.to_numpy() for f in frames]
        if all(a.dtype == np.float64 for a in arrays):
            return pd.DataFrame(np.concatenate(arrays), columns=columns, copy=False)
    frames = [f.frame() if hasattr(f, "rows_array") else f for f in frames]
    return pd.concat(frames, ignore_index=True)


def _read_ahead(chunks, depth: int = 1):
    """Yield ``chunks`` produced by a background thread at most ``depth`` items ahead.

    The next chunk is read and decoded (Parquet/CSV decoding releases the GIL)
    while the consumer scores the current one. At most ``depth + 2`` chunks are
    alive at once (queued, being produced, being consumed). An exception of the
    producer is raised here; leaving the loop early stops the producer.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(("chunk", chunk)):
                    return
            put(("end", None))
        except BaseException as exc:  # re-raised in the consumer's thread
            put(("error", exc))

    thread = threading.Thread(target=produce, name="uniml-score-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "chunk":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        thread.join(timeout=5)


def score_file(
    model,
    source: str | Path,
    output: str | Path,
    *,
    chunk_rows: int = 100_000,
    progress=None,
) -> int:
    """Score a Parquet or CSV file in chunks (bounded memory) and write predictions to Parquet.

    The next chunk is read in a background thread while the current one is
    scored, so at most three chunks are in memory at once.

    Parameters
    ----------
    model : ServedModel or uniml.Adapter
    source : str or Path
        ``.parquet`` or ``.csv``.
    output : str or Path
        Parquet file with one ``prediction`` column, row for row.
    chunk_rows : int, default 100000
    progress : callable, optional
        Called with the number of rows of each scored chunk.

    Returns
    -------
    int
        Rows scored.

    Raises
    ------
    SchemaError
        A chunk does not match the schema; the message names the rows and the column.

    Examples
    --------
    >>> import numpy as np, pandas as pd, pyarrow.parquet as pq, tempfile, uniml
    >>> tmp = tempfile.mkdtemp()
    >>> X = pd.DataFrame({"a": np.arange(10.0)})
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, min_child_samples=1, verbose=-1)
    >>> _ = m.fit(X, np.arange(10.0))
    >>> X.to_parquet(tmp + "/in.parquet")
    >>> score_file(m, tmp + "/in.parquet", tmp + "/out.parquet", chunk_rows=4)
    10
    >>> bool((pq.read_table(tmp + "/out.parquet")["prediction"].to_numpy() == m.predict(X)).all())
    True
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from uniml.core.errors import SchemaError

    adapter = getattr(model, "adapter", model)
    source = Path(source)
    if source.suffix.lower() == ".csv":
        chunks = (c for c in pd.read_csv(source, chunksize=chunk_rows))
    else:
        pf = pq.ParquetFile(source, memory_map=True)  # local file: read without a copy
        chunks = (b.to_pandas() for b in pf.iter_batches(batch_size=chunk_rows))
    writer = None
    done = 0
    try:
        for chunk in _read_ahead(chunks):
            try:
                pred = adapter.predict(chunk)
            except SchemaError as exc:
                raise SchemaError(
                    f"rows {done}..{done + len(chunk) - 1}: {exc}",
                    column=exc.column,
                    expected=exc.expected,
                    got=exc.got,
                ) from None
            table = pa.table({"prediction": pred.to_numpy()})
            if writer is None:
                writer = pq.ParquetWriter(str(output), table.schema)
            writer.write_table(table)
            done += len(chunk)
            if progress is not None:
                progress(len(chunk))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # empty input: still write an empty file
        pq.write_table(pa.table({"prediction": pa.array([], pa.float64())}), str(output))
    return done
