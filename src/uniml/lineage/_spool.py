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
    "QUARANTINE",
    "RECORD",
    "default_spool",
    "fallback_spool",
    "pending",
    "quarantine",
    "quarantined",
    "read_record",
    "spool_record",
    "validate_record",
    "write_record",
]

RECORD = "record.json"
DEFAULT_SPOOL = ".uniml-spool"
FORMAT = 2  # 2: names mapped by uniml.lineage._names


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
    2
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


def fallback_spool() -> Path:
    """Where records go when the configured spool cannot be written: a per-user temp folder.

    Examples
    --------
    >>> fallback_spool().name.startswith("uniml-spool-")
    True
    """
    import getpass
    import tempfile

    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return Path(tempfile.gettempdir()) / f"uniml-spool-{user}"


def _move(staging: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.move(str(staging), str(dest))


def spool_record(staging: Path, spool: Path, lineage_id: str) -> tuple[Path, str | None]:
    """Move a staged record folder into the spool.

    When ``spool`` cannot be written (an existing file, no permission), the record
    goes to :func:`fallback_spool` instead; when that fails too, it stays where it
    was staged. Never raises for an unusable spool: lineage is never dropped silently.

    Returns
    -------
    (Path, str or None)
        The record's new location, and why the configured spool was not used
        (None when it was).

    Examples
    --------
    >>> import tempfile
    >>> stage = Path(tempfile.mkdtemp())
    >>> write_record(stage, {"lineage_id": "abc", "runs": []})
    >>> dest, problem = spool_record(stage, Path(tempfile.mkdtemp()), "abc")
    >>> dest.name, problem
    ('abc', None)
    """
    try:
        _move(staging, Path(spool) / lineage_id)
        return Path(spool) / lineage_id, None
    except OSError as exc:
        problem = f"{type(exc).__name__}: {exc}"
    for root in (fallback_spool(),):
        try:
            _move(staging, root / lineage_id)
            return root / lineage_id, problem
        except OSError as exc:
            problem += f"; fallback {root}: {type(exc).__name__}: {exc}"
    return Path(staging), problem


QUARANTINE = ".quarantine"
REASON = "reason.txt"


def quarantine(staging: Path, spool: Path, lineage_id: str, reason: str) -> tuple[Path, str | None]:
    """Move a record the tracking store refused to ``<spool>/.quarantine/<id>`` with its reason.

    Quarantined records are never replayed (:func:`pending` does not list them);
    :func:`quarantined` lists them with their reasons.

    Examples
    --------
    >>> import tempfile
    >>> root, stage = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> write_record(stage, {"lineage_id": "q1", "runs": []})
    >>> _ = quarantine(stage, root, "q1", "bad metric name")
    >>> pending(root), [(f.name, why) for f, why in quarantined(root)]
    ([], [('q1', 'bad metric name')])
    """
    try:
        (Path(staging) / REASON).write_text(reason)
    except OSError:
        pass
    return spool_record(staging, Path(spool) / QUARANTINE, lineage_id)


def quarantined(spool: Path) -> list[tuple[Path, str]]:
    """Quarantined records of ``spool`` as ``(folder, reason)`` pairs.

    Examples
    --------
    >>> quarantined(Path("/nonexistent-spool"))
    []
    """
    root = Path(spool) / QUARANTINE
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        if folder.is_dir():
            try:
                reason = (folder / REASON).read_text()
            except OSError:
                reason = "(no reason recorded)"
            out.append((folder, reason))
    return out


def validate_record(record: dict) -> None:
    """Check that MLflow will accept every name and value of a record, before it is spooled.

    Raises
    ------
    LineageError
        Naming the run and the offending name or value.

    Examples
    --------
    >>> validate_record({"runs": [{"name": "m", "params": {}, "tags": {},
    ...                            "metrics": {"ndcg@10": 1.0}}]})
    Traceback (most recent call last):
    ...
    uniml.lineage._errors.LineageError: run 'm': metric name 'ndcg@10' is not valid for MLflow...
    """
    import math

    from uniml.lineage._errors import LineageError
    from uniml.lineage._names import is_valid

    for spec in record.get("runs", []):
        where = f"run {spec.get('name')!r}"
        for part, label in (("params", "param"), ("metrics", "metric"), ("tags", "tag")):
            for key, value in (spec.get(part) or {}).items():
                if not is_valid(key):
                    raise LineageError(
                        f"{where}: {label} name {key!r} is not valid for MLflow (letters, digits, "
                        f"'_.- ' only, <= 250 characters; see uniml.lineage._names)"
                    )
                if part == "metrics":
                    if not isinstance(value, (int, float)) or not math.isfinite(float(value)):
                        raise LineageError(f"{where}: metric {key!r} = {value!r} is not finite")
                elif not isinstance(value, str):
                    raise LineageError(f"{where}: {label} {key!r} is not a string")
