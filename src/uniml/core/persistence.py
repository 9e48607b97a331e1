"""Saving and loading adapters: a folder with a JSON manifest plus native artifacts.

Layout of a saved model folder::

    model/
      uniml.json          manifest: adapter, versions, schema, params, sha256 of every artifact
      model.txt / .json   the library's native format (LightGBM text, XGBoost JSON, skops...)

:func:`load` verifies every hash before reading anything, and refuses
artifacts that would run pickle unless ``trusted=True``.

Examples
--------
>>> import numpy as np, tempfile, uniml
>>> from sklearn.linear_model import Ridge
>>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
>>> model = uniml.make("sklearn.estimator", estimator=Ridge()).fit(X, y)
>>> folder = model.save(tempfile.mkdtemp() + "/ridge")
>>> bool((uniml.load(folder).predict(X) == model.predict(X)).all())
True
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from uniml.core.errors import (
    IntegrityError,
    UnimlError,
    UntrustedArtifactError,
    VersionMismatchWarning,
)

if TYPE_CHECKING:
    from uniml.core.adapter import Adapter

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "artifact_digest",
    "load",
    "manifest_digest",
    "read_manifest",
    "sha256_file",
]

MANIFEST_NAME = "uniml.json"
FORMAT_VERSION = 1


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes.

    Parameters
    ----------
    path : str or Path
        The file.
    chunk : int, default 1 MiB
        Bytes read at a time.

    Returns
    -------
    str
        The 64-character hexadecimal digest.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "f")
    >>> _ = open(p, "wb").write(b"abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def to_jsonable(value: Any) -> Any:
    """Encode a parameter value for the manifest.

    Plain JSON values pass through (numpy scalars and arrays become Python
    values). Anything else is recorded as ``{"__repr__": repr(value)}`` — for
    the audit trail only; adapters that hold objects as parameters restore
    them from their own artifacts.

    Examples
    --------
    >>> to_jsonable({"a": np.int64(3), "b": (1, 2.5), "c": None})
    {'a': 3, 'b': [1, 2.5], 'c': None}
    >>> to_jsonable(object)["__repr__"]
    "<class 'object'>"
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_jsonable(v) for k, v in value.items()}
    return {"__repr__": repr(value)}


def is_restorable(encoded: Any) -> bool:
    """Whether a :func:`to_jsonable` value decodes back to the original (no ``__repr__`` inside)."""
    if isinstance(encoded, dict):
        return "__repr__" not in encoded and all(is_restorable(v) for v in encoded.values())
    if isinstance(encoded, list):
        return all(is_restorable(v) for v in encoded)
    return True


def library_versions(modules) -> dict[str, str | None]:
    """Installed versions of the given modules' distributions (no import)."""
    from uniml.core.dependencies import distribution_version

    return {m: distribution_version(m) for m in modules}


def build_manifest(adapter, artifacts: dict[str, dict], state: dict) -> dict:
    """Assemble the manifest of a fitted adapter (see :meth:`uniml.Adapter.save`)."""
    from uniml._version import __version__

    cls = type(adapter)
    params = {k: to_jsonable(v) for k, v in adapter.get_params(deep=False).items()}
    return {
        "format_version": FORMAT_VERSION,
        "adapter": cls.name,
        "adapter_class": f"{cls.__module__}:{cls.__qualname__}",
        "task": str(adapter.task_kind),
        "uniml_version": __version__,
        "python_version": platform.python_version(),
        "library_versions": library_versions(cls.library_modules()),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "params": params,
        "schema": adapter.schema_.to_dict(),
        "state": state,
        "artifacts": artifacts,
    }


#: Manifest keys that are not part of the canonical digest (the seal itself).
DIGEST_EXCLUDED_KEYS = frozenset({"manifest_sha256"})


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The canonical sha256 of a manifest: the identity of a saved model.

    The manifest lists the sha256 of every artifact beside the schema, params
    and fitted state, so this one digest covers the whole folder. It is computed
    over the manifest's JSON with sorted keys and no whitespace, leaving out
    the seal field itself, so reformatting the file does not change it.

    Parameters
    ----------
    manifest : dict
        A manifest as returned by :func:`read_manifest`.

    Returns
    -------
    str
        64 hexadecimal characters.

    Examples
    --------
    >>> a = manifest_digest({"adapter": "x", "artifacts": {}})
    >>> a == manifest_digest({"artifacts": {}, "adapter": "x"}), len(a)
    (True, 64)
    """
    body = {k: v for k, v in manifest.items() if k not in DIGEST_EXCLUDED_KEYS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def artifact_digest(path: str | Path) -> str:
    """The digest that identifies a saved model folder (registry, gates, serving).

    Parameters
    ----------
    path : str or Path
        A folder written by :meth:`uniml.Adapter.save`.

    Returns
    -------
    str
        :func:`manifest_digest` of the folder's manifest.

    Raises
    ------
    IntegrityError
        The folder is not a saved uniml model.

    Examples
    --------
    >>> import numpy as np, tempfile, uniml
    >>> from sklearn.linear_model import Ridge
    >>> m = uniml.make("sklearn.estimator", estimator=Ridge()).fit(np.eye(3), [1.0, 2.0, 3.0])
    >>> folder = m.save(tempfile.mkdtemp() + "/m")
    >>> artifact_digest(folder) == manifest_digest(read_manifest(folder))
    True
    """
    return manifest_digest(read_manifest(path))


def write_manifest(folder: Path, manifest: dict) -> None:
    """Hash every artifact listed in ``manifest`` and write ``uniml.json``."""
    for name, info in manifest["artifacts"].items():
        info["sha256"] = sha256_file(folder / name)
        info["bytes"] = (folder / name).stat().st_size
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=False))


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and sanity-check the manifest of a saved model folder.

    Parameters
    ----------
    path : str or Path
        The saved model folder.

    Returns
    -------
    dict
        The manifest (adapter, versions, schema, params, state, artifacts);
        artifact hashes are not verified here.

    Raises
    ------
    IntegrityError
        The folder has no manifest, or it is not valid JSON, or it was
        written by a newer manifest format.

    Examples
    --------
    >>> import tempfile
    >>> read_manifest(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    uniml.core.errors.IntegrityError: ... is not a saved uniml model: uniml.json is missing
    """
    folder = Path(path)
    file = folder / MANIFEST_NAME
    if not file.is_file():
        raise IntegrityError(f"{folder} is not a saved uniml model: {MANIFEST_NAME} is missing")
    try:
        manifest = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise IntegrityError(f"{file} is not valid JSON: {exc}") from exc
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise IntegrityError(
            f"{file} has manifest format {manifest.get('format_version')}; this uniml reads up to "
            f"{FORMAT_VERSION} — upgrade uniml"
        )
    return manifest


def verify_artifacts(folder: Path, manifest: dict) -> None:
    """Check that every artifact exists and matches its recorded sha256.

    Raises
    ------
    IntegrityError
        Naming the first missing or altered file.
    """
    for name, info in manifest["artifacts"].items():
        file = folder / name
        if not file.is_file():
            raise IntegrityError(
                f"artifact {name!r} listed in the manifest is missing from {folder}"
            )
        digest = sha256_file(file)
        if digest != info.get("sha256"):
            raise IntegrityError(
                f"artifact {name!r} does not match its recorded sha256 (expected "
                f"{info.get('sha256')}, got {digest}); the folder was modified after saving"
            )


def load(path: str | Path, trusted: bool = False) -> Adapter:
    """Load a model saved with :meth:`uniml.Adapter.save`.

    Parameters
    ----------
    path : str or Path
        The saved folder.
    trusted : bool, default False
        Allow artifacts that execute code when read (pickle, or skops files
        holding types outside the safe list). Only pass ``True`` for folders
        you produced or whose source you trust.

    Returns
    -------
    Adapter
        A fitted adapter whose predictions equal, bit for bit, those of the
        adapter that was saved.

    Raises
    ------
    IntegrityError
        Missing manifest or artifact, or a hash mismatch.
    UntrustedArtifactError
        A pickle-based artifact and ``trusted`` is False.
    AdapterNotFoundError
        The manifest names an adapter that is not registered here.

    Examples
    --------
    >>> import numpy as np, tempfile, uniml
    >>> from sklearn.linear_model import LinearRegression
    >>> m = uniml.make("sklearn.estimator", estimator=LinearRegression()).fit(np.eye(3), [1.0, 2.0, 3.0])
    >>> uniml.load(m.save(tempfile.mkdtemp() + "/m")).task_kind
    <Task.REGRESSION: 'regression'>
    """
    from uniml.core.catalog import get_adapter_class
    from uniml.core.dependencies import distribution_version

    folder = Path(path)
    manifest = read_manifest(folder)
    verify_artifacts(folder, manifest)
    pickled = sorted(n for n, info in manifest["artifacts"].items() if info.get("pickle"))
    if pickled and not trusted:
        raise UntrustedArtifactError(
            f"{folder} holds pickle-based artifact(s) {pickled}, which can run arbitrary code when "
            f"loaded; pass trusted=True only if you trust where this folder came from"
        )
    cls = get_adapter_class(manifest["adapter"])
    for module, saved in manifest.get("library_versions", {}).items():
        now = distribution_version(module)
        if saved and now and saved != now:
            warnings.warn(
                f"{manifest['adapter']} was saved with {module} {saved} and is loaded with {now}",
                VersionMismatchWarning,
                stacklevel=2,
            )
    try:
        return cls._from_folder(folder, manifest, trusted=trusted)
    except (UnimlError, ImportError):
        raise
    except Exception as exc:
        raise IntegrityError(
            f"could not load {manifest['adapter']} from {folder}: {exc!r}"
        ) from exc
