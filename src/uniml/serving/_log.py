"""The prediction log: requests and predictions appended in batches to JSONL partitions.

Layout (documented in docs/serving.md, read by monitoring)::

    <root>/date=YYYY-MM-DD/part-<pid>-<start>-<seq>.jsonl

one JSON object per scored row, written by a background thread.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

_STOP = object()


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class PredictionLog:
    """Append prediction records off the request path; bounded memory; drained on close.

    Parameters
    ----------
    root : str or Path
        Folder of the ``date=YYYY-MM-DD`` partitions.
    max_pending : int, default 10000
        Requests queued at most; beyond it :meth:`append` waits up to 1 s, then
        drops the request and counts it in :attr:`dropped`.
    flush_seconds : float, default 0.5
    rows_per_file : int, default 100000
        A new part file starts after this many rows.

    Examples
    --------
    >>> import json, tempfile, pandas as pd
    >>> log = PredictionLog(tempfile.mkdtemp())
    >>> log.append({"name": "m", "version": "1", "run_id": ""}, "r1",
    ...            pd.DataFrame({"a": [1.0]}), [0.5])
    >>> log.close()
    >>> [json.loads(line)["prediction"] for f in log.files() for line in f.read_text().splitlines()]
    [0.5]
    """

    def __init__(
        self,
        root,
        *,
        max_pending: int = 10000,
        flush_seconds: float = 0.5,
        rows_per_file: int = 100_000,
    ):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._flush = flush_seconds
        self._rows_per_file = rows_per_file
        self._start = int(time.time() * 1000)
        self._seq = 0
        self._rows_in_file = 0
        self._handle: IO[str] | None = None
        self._day = ""
        self._thread = threading.Thread(target=self._run, name="uniml-prediction-log", daemon=True)
        self._thread.start()

    def append(self, model: dict, request_id: str, frame, predictions, proba=None) -> None:
        """Queue one request's rows and predictions (cheap: serialised by the writer thread).

        Parameters
        ----------
        model : dict
            ``name``, ``version``, ``run_id``.
        request_id : str
        frame : pandas.DataFrame
            The scored rows.
        predictions : sequence
            One prediction (scalar or dict) per row.
        proba : sequence of float, optional
            Binary classifiers: the positive class's probability per row, logged
            as ``proba`` (what monitoring's CBPE estimate reads).
        """
        item = (time.time(), model, request_id, frame, predictions, proba)
        try:
            self._queue.put(item, timeout=1.0)
        except queue.Full:
            self.dropped += 1

    def files(self) -> list[Path]:
        """The part files written so far, sorted.

        Returns
        -------
        list of Path
        """
        return sorted(self.root.glob("date=*/part-*.jsonl"))

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the writer.

        Parameters
        ----------
        timeout : float, default 30
        """
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    # ----------------------------------------------------------------- writer
    def _file(self, day: str):
        if self._handle is None or day != self._day or self._rows_in_file >= self._rows_per_file:
            if self._handle is not None:
                self._handle.close()
            folder = self.root / f"date={day}"
            folder.mkdir(parents=True, exist_ok=True)
            self._seq += 1
            path = folder / f"part-{os.getpid()}-{self._start}-{self._seq:05d}.jsonl"
            self._handle = open(path, "a", encoding="utf-8")
            self._day, self._rows_in_file = day, 0
        return self._handle

    def _write(self, batch: list) -> None:
        for ts, model, request_id, frame, predictions, proba in batch:
            when = datetime.fromtimestamp(ts, tz=timezone.utc)
            handle = self._file(when.strftime("%Y-%m-%d"))
            stamp = when.isoformat()
            records = frame.to_dict("records")
            lines = []
            for i, (row, pred) in enumerate(zip(records, predictions, strict=False)):
                record: dict[str, Any] = {
                    "ts": stamp,
                    "request_id": request_id,
                    "row": i,
                    "model_name": model["name"],
                    "model_version": model["version"],
                    "run_id": model["run_id"],
                    "features": {str(k): _plain(v) for k, v in row.items()},
                    "prediction": _plain(pred)
                    if not isinstance(pred, dict)
                    else {k: _plain(v) for k, v in pred.items()},
                }
                if proba is not None:
                    record["proba"] = _plain(proba[i])
                lines.append(json.dumps(record, allow_nan=True, default=str))
            handle.write("\n".join(lines) + "\n")
            self._rows_in_file += len(lines)
            self.written += len(lines)
        if self._handle is not None:
            self._handle.flush()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = []
            try:
                item = self._queue.get(timeout=self._flush)
            except queue.Empty:
                continue
            deadline = time.monotonic() + self._flush
            while True:
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
                if len(batch) >= 1000 or time.monotonic() >= deadline:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    self._write(batch)
                except Exception:  # a disk error must not kill the writer thread
                    self.dropped += len(batch)
        if self._handle is not None:
            self._handle.close()
            self._handle = None
