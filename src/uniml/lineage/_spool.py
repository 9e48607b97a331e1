"""The local spool: lineage that could not reach the tracking server, kept until replayed.

A *record* is a folder holding ``record.json`` and the files it points at::

    .uniml-spool/
      3f2a...c1/                 one record per fit (or evaluation), named by its lineage id
        record.json              runs to create: params, tags, metrics, dataset inputs, artifacts
        model/                   the MLflow pyfunc model folder (uniml save folder inside)
        model_card.json          the card, completed with run ids when replayed

The same record is what the sink sends in the normal case, so a replay logs
exactly what a live fit would have. Replays are idempotent: every run carries
the tag ``uniml.lineage_id``; a run already present and finished is not
created again, and a record leaves the spool only after all its runs are in.

Examples
--------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> folder = root / "r1"
>>> write_record(folder, {"lineage_id": "r1", "runs": []})
>>> [r["lineage_id"] for _, r in pending(root)]
['r1']
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

__all__ = [
    "DEFAULT_SPOOL",
    "RECORD",
    "default_spool",
    "pending",
    "read_record",
    "spool_record",
    "write_record",
]

RECORD = "record.json"
DEFAULT_SPOOL = ".uniml-spool"
FORMAT = 1


def default_spool() -> Path:
    """``$UNIML_LINEAGE_SPOOL`` or ``./.uniml-spool``, as an absolute path.

    Examples
    --------
    >>> default_spool().is_absolute()
    True
    """
    return Path(os.environ.get("UNIML_LINEAGE_SPOOL") or DEFAULT_SPOOL).expanduser().resolve()


def write_record(folder: Path, record: dict) -> None:
    """Write ``record.json`` into ``folder`` (created if needed), atomically.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "x"
    >>> write_record(f, {"lineage_id": "x", "runs": []})
    >>> read_record(f)["format"]
    1
    """
    folder.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, **record}
    tmp = folder / (RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=1, default=str))
    os.replace(tmp, folder / RECORD)


def read_record(folder: Path) -> dict:
    """Read a record folder's ``record.json``.

    Raises
    ------
    LineageError
        The folder holds no readable record.
    """
    from uniml.lineage._errors import LineageError

    try:
        return json.loads((Path(folder) / RECORD).read_text())
    except (OSError, ValueError) as exc:
        raise LineageError(f"{folder} is not a lineage spool record: {exc}") from exc


def pending(spool: Path) -> list[tuple[Path, dict]]:
    """Spooled records, oldest first, as ``(folder, record)`` pairs (unreadable ones skipped).

    Examples
    --------
    >>> pending(Path("/nonexistent-spool"))
    []
    """
    spool = Path(spool)
    if not spool.is_dir():
        return []
    out = []
    for folder in sorted(spool.iterdir(), key=lambda p: p.stat().st_mtime):
        if folder.is_dir() and (folder / RECORD).is_file():
            try:
                out.append((folder, read_record(folder)))
            except (
                Exception
            ):  # a half-written record from a killed process: leave it for inspection
                continue
    return out


def spool_record(staging: Path, spool: Path, lineage_id: str) -> Path:
    """Move a staged record folder into the spool; returns its new location.

    Examples
    --------
    >>> import tempfile
    >>> stage = Path(tempfile.mkdtemp())
    >>> write_record(stage, {"lineage_id": "abc", "runs": []})
    >>> spool_record(stage, Path(tempfile.mkdtemp()), "abc").name
    'abc'
    """
    spool = Path(spool)
    spool.mkdir(parents=True, exist_ok=True)
    dest = spool / lineage_id
    if dest.exists():
        shutil.rmtree(dest)
    shutil.move(str(staging), str(dest))
    return dest
