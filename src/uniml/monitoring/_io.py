"""Reading current data: a file, a folder of Parquet/JSONL/CSV, or the serving prediction log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uniml.monitoring._errors import MonitoringError

__all__ = ["read_current"]

_SUFFIXES = (".parquet", ".jsonl", ".json", ".csv")


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.exists():
        raise MonitoringError(f"current data {str(root)!r} does not exist")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
    if not files:
        raise MonitoringError(
            f"current data folder {str(root)!r} holds no .parquet, .jsonl or .csv file"
        )
    return files


def _read_parquet(path: Path) -> pd.DataFrame:
    """Column by column, so peak memory is about one copy of the data (not Arrow's plus pandas')."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = [n for n in pf.schema_arrow.names if not n.startswith("__index_level_")]
    parts = {
        n: pf.read(columns=[n], use_pandas_metadata=False).column(0).to_pandas() for n in names
    }
    return pd.DataFrame(parts, copy=False)


def _read_one(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return _read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path)
        if path.stat().st_size == 0:
            return pd.DataFrame()
        return pd.read_json(path, lines=path.suffix == ".jsonl", precise_float=True)
    except (ValueError, OSError) as exc:
        raise MonitoringError(f"cannot read {str(path)!r}: {exc}") from None


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """The serving log's nested ``features`` / ``prediction`` objects as flat columns."""
    out = frame
    if "features" in out.columns and out["features"].map(lambda v: isinstance(v, dict)).all():
        feats = pd.DataFrame.from_records(out["features"].tolist(), index=out.index)
        clash = [c for c in feats.columns if c in out.columns and c != "features"]
        if clash:
            raise MonitoringError(
                f"prediction log: feature(s) {clash} clash with the log's own fields"
            )
        out = pd.concat([out.drop(columns="features"), feats], axis=1)
    if "prediction" in out.columns and out["prediction"].map(lambda v: isinstance(v, dict)).all():
        pred = pd.DataFrame.from_records(out["prediction"].tolist(), index=out.index)
        pred.columns = [f"prediction.{c}" for c in pred.columns]
        out = pd.concat([out.drop(columns="prediction"), pred], axis=1)
    if "ts" in out.columns and "timestamp" not in out.columns:
        out = out.rename(columns={"ts": "timestamp"})
    return out


def read_current(source, *, since=None, until=None, timestamp: str = "timestamp") -> pd.DataFrame:
    """Read current rows from a file or a folder (recursively), flattening the serving prediction log.

    Accepted: ``.parquet``, ``.jsonl`` (one object per line), ``.json``, ``.csv``
    files, and folders of them (hive folders such as ``date=2026-12-06/`` are
    walked). Rows of the serving prediction log (``ts``, ``request_id``,
    ``row``, ``model_name``, ``model_version``, ``run_id``, ``features`` object,
    ``prediction``) become one column per feature plus ``timestamp``,
    ``prediction`` (or ``prediction.<key>`` for object predictions) and the
    log's identifiers. Flat files are used as they are: feature columns, a
    ``prediction`` column, optionally ``timestamp``, ``request_id``,
    ``model_version``.

    Parameters
    ----------
    source : str or Path
    since, until : str or datetime, optional
        Keep rows with ``since <= timestamp < until`` (UTC).
    timestamp : str, default "timestamp"

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    MonitoringError
        Missing path, no readable file, unreadable file, or a time filter
        without a timestamp column.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "date=2026-12-06"
    >>> root.mkdir()
    >>> rows = [{"ts": "2026-12-06T10:00:00+00:00", "request_id": "r1", "row": 0,
    ...          "model_name": "m", "model_version": "1", "run_id": "",
    ...          "features": {"x": 1.5, "c": "a"}, "prediction": 0.3}]
    >>> _ = (root / "part-1-0-00001.jsonl").write_text("\\n".join(json.dumps(r) for r in rows))
    >>> frame = read_current(root.parent)
    >>> print(frame[["timestamp", "x", "c", "prediction"]].to_string(index=False))
                    timestamp   x c  prediction
    2026-12-06T10:00:00+00:00 1.5 a         0.3
    """
    files = _files(Path(source))
    frames = [f for f in (_flatten(_read_one(p)) for p in files) if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if since is not None or until is not None:
        if timestamp not in frame.columns:
            raise MonitoringError(f"since/until need a {timestamp!r} column in {str(source)!r}")
        ts = pd.to_datetime(frame[timestamp], utc=True, format="ISO8601")
        keep = pd.Series(True, index=frame.index)
        if since is not None:
            keep &= (
                ts >= pd.Timestamp(since, tz="UTC")
                if pd.Timestamp(since).tzinfo is None
                else ts >= pd.Timestamp(since)
            )
        if until is not None:
            keep &= (
                ts < pd.Timestamp(until, tz="UTC")
                if pd.Timestamp(until).tzinfo is None
                else ts < pd.Timestamp(until)
            )
        frame = frame[keep].reset_index(drop=True)
    return frame
