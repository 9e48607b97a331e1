"""Saving and loading adapters: a folder with a JSON manifest plus native artifacts.

Layout of a saved model folder::

    model/
      uniml.json          manifest: adapter, versions, schema, params, sha256 of every artifact
      model.txt / .json   the library's native format (LightGBM text, XGBoost JSON, skops...)

:func:`load` checks the manifest's seal (``manifest_sha256``, the
:func:`manifest_digest` of everything else in it), confines every artifact to
the folder, copies the artifacts to a private staging folder while hashing
them, and reads only that copy; adapters whose class declares a format that
runs code on load (pickle) are refused unless ``trusted=True``. See
``docs/security.md`` for the trust model.

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
import hmac
import json
import os
import platform
import shutil
import tempfile
import warnings
from pathlib import Path, PurePosixPath
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
    "read_pickle",
    "safe_artifact_path",
    "sha256_file",
]

MANIFEST_NAME = "uniml.json"
FORMAT_VERSION = 2
#: the manifest key holding the seal (format 2 and later)
SEAL_KEY = "manifest_sha256"


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
DIGEST_EXCLUDED_KEYS = frozenset({SEAL_KEY})


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
    manifest[SEAL_KEY] = manifest_digest(manifest)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=False))


def safe_artifact_path(folder: str | Path, name: Any) -> Path:
    """The file an artifact ``name`` from a manifest refers to, confined to ``folder``.

    Parameters
    ----------
    folder : str or Path
        The saved model folder.
    name : str
        An artifact name as written in the manifest.

    Returns
    -------
    Path
        ``folder / name``.

    Raises
    ------
    IntegrityError
        The name is not a plain relative path inside the folder: empty, absolute,
        with ``..`` or backslashes, or reaching outside through a symbolic link.
        The message names the entry only, never anything about the outside file.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> safe_artifact_path(d, "model.txt").name
    'model.txt'
    >>> safe_artifact_path(d, "../../etc/passwd")
    Traceback (most recent call last):
    ...
    uniml.core.errors.IntegrityError: artifact name '../../etc/passwd' is not a plain file name inside the model folder
    """
    bad = IntegrityError(f"artifact name {name!r} is not a plain file name inside the model folder")
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise bad
    pure = PurePosixPath(name)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in name.split("/")):
        raise bad
    if name == MANIFEST_NAME:
        raise bad
    base = Path(folder)
    path = base.joinpath(*pure.parts)
    # no symbolic link anywhere between the folder and the file, and nothing resolving outside
    probe = base
    for part in pure.parts:
        probe = probe / part
        if probe.is_symlink():
            raise IntegrityError(
                f"artifact {name!r} is a symbolic link; saved folders hold plain files"
            )
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        raise bad from None
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check the manifest of a saved model folder.

    Checks its shape (an object with an ``artifacts`` object), that every
    artifact name stays inside the folder, and for format 2 its seal: any edit
    to ``uniml.json`` (state, schema, params, labels, artifact entries) is refused.

    Parameters
    ----------
    path : str or Path
        The saved model folder.

    Returns
    -------
    dict
        The manifest (adapter, versions, schema, params, state, artifacts);
        artifact file hashes are not verified here (:func:`load` does).

    Raises
    ------
    IntegrityError
        No manifest, not valid JSON, not an object, no ``artifacts`` object, an
        artifact name outside the folder, a broken seal, or a newer format.

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
    return _parse_manifest(file.read_bytes(), file, folder)


def _parse_manifest(raw: bytes, file: Path, folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{file} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IntegrityError(
            f"{file} is not a manifest: it holds a JSON {type(manifest).__name__}, not an object"
        )
    version = manifest.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise IntegrityError(f"{file}: format_version {version!r} is not an integer")
    if version > FORMAT_VERSION:
        raise IntegrityError(
            f"{file} has manifest format {version}; this uniml reads up to "
            f"{FORMAT_VERSION} — upgrade uniml"
        )
    artifacts = manifest.get("artifacts")
    if not isinstance(artifacts, dict):
        what = (
            "has no 'artifacts'"
            if artifacts is None
            else "has an 'artifacts' that is not an object"
        )
        raise IntegrityError(f"{file} {what}; it is not a complete uniml manifest")
    for name, info in artifacts.items():
        safe_artifact_path(folder, name)
        if not isinstance(info, dict):
            raise IntegrityError(f"{file}: the entry of artifact {name!r} is not an object")
    # a seal, when present, is always checked (relabelling the format cannot skip it)
    if version >= 2 or SEAL_KEY in manifest:
        seal = manifest.get(SEAL_KEY)
        if not isinstance(seal, str):
            raise IntegrityError(
                f"{file} has format {version} but no valid {SEAL_KEY}; the manifest was edited"
            )
        if not hmac.compare_digest(seal, manifest_digest(manifest)):
            raise IntegrityError(
                f"{file} was modified after saving: its content does not match its {SEAL_KEY} seal"
            )
    return manifest


def verify_artifacts(folder: Path, manifest: dict) -> None:
    """Check that every artifact exists, stays inside ``folder`` and matches its sha256.

    Raises
    ------
    IntegrityError
        Naming the first missing, misplaced or altered file.
    """
    for name, info in manifest["artifacts"].items():
        file = safe_artifact_path(folder, name)
        if not file.is_file():
            raise IntegrityError(
                f"artifact {name!r} listed in the manifest is missing from {folder}"
            )
        if sha256_file(file) != info.get("sha256"):
            raise IntegrityError(
                f"artifact {name!r} does not match its recorded sha256; the folder was "
                f"modified after saving"
            )


def _stage(folder: Path, manifest: dict, staging: Path) -> None:
    """Copy every artifact into ``staging``, hashing the bytes copied; the copy is what is read.

    Hashing while copying means the bytes verified are the bytes loaded: swapping a
    file in ``folder`` after the check cannot reach the adapter.
    """
    for name, info in manifest["artifacts"].items():
        source = safe_artifact_path(folder, name)
        if not source.is_file():
            raise IntegrityError(
                f"artifact {name!r} listed in the manifest is missing from {folder}"
            )
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(source, flags)
        except OSError as exc:
            raise IntegrityError(f"artifact {name!r} cannot be opened as a plain file") from exc
        with os.fdopen(fd, "rb") as src, open(target, "wb") as dst:
            while block := src.read(1 << 20):
                digest.update(block)
                dst.write(block)
        if digest.hexdigest() != info.get("sha256"):
            raise IntegrityError(
                f"artifact {name!r} does not match its recorded sha256; the folder was "
                f"modified after saving"
            )


def read_pickle(path: str | Path, *, trusted: bool) -> Any:
    """The one place uniml unpickles a file; refuses unless the caller trusts it.

    Adapters whose class declares a pickle-based persistence call it from
    ``_load`` on the staged copy :func:`load` verified.

    Parameters
    ----------
    path : str or Path
        The pickle file (a ``.joblib`` file is read with joblib, which also
        handles its compressed containers).
    trusted : bool
        Must be True: unpickling runs whatever code the file names.

    Returns
    -------
    object

    Raises
    ------
    UntrustedArtifactError
        ``trusted`` is False.

    Examples
    --------
    >>> read_pickle("model.pkl", trusted=False)
    Traceback (most recent call last):
    ...
    uniml.core.errors.UntrustedArtifactError: model.pkl is a pickle, which can run arbitrary code when loaded; pass trusted=True only if you trust where it came from
    """
    if trusted is not True:
        raise UntrustedArtifactError(
            f"{path} is a pickle, which can run arbitrary code when loaded; pass trusted=True "
            f"only if you trust where it came from"
        )
    if Path(path).suffix.lower() == ".joblib":  # joblib's own container (maybe compressed)
        import joblib

        return joblib.load(path)
    import pickle

    with open(path, "rb") as fh:
        return pickle.load(fh)


def load(path: str | Path, trusted: bool = False, expected_digest: str | None = None) -> Adapter:
    """Load a model saved with :meth:`uniml.Adapter.save`.

    Parameters
    ----------
    path : str or Path
        The saved folder.
    trusted : bool, default False
        Allow adapters whose format executes code when read (pickle, or skops
        files holding types outside the reviewed list), and folders of the
        unsealed manifest format 1. Only pass ``True`` for folders you produced
        or whose source you trust.
    expected_digest : str, optional
        The :func:`artifact_digest` the folder must have (the registry and the
        server pass the digest they recorded).

    Returns
    -------
    Adapter
        A fitted adapter whose predictions equal, bit for bit, those of the
        adapter that was saved.

    Raises
    ------
    IntegrityError
        Missing or malformed manifest, a broken seal, an artifact outside the
        folder, a missing artifact, a hash mismatch, or a digest other than
        ``expected_digest``.
    UntrustedArtifactError
        ``trusted`` is False and the adapter class reads pickle (or the
        manifest is format 1, which has no seal).
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
    digest = manifest_digest(manifest)
    if expected_digest is not None and not hmac.compare_digest(str(expected_digest), digest):
        raise IntegrityError(
            f"{folder} is not the expected model: its digest is {digest}, expected {expected_digest}"
        )
    if SEAL_KEY not in manifest and not trusted:
        raise UntrustedArtifactError(
            f"{folder} has an unsealed manifest (format {manifest.get('format_version', 0)}): "
            f"edits to it cannot be detected; pass trusted=True only if you trust where it came "
            f"from, and save it again to seal it"
        )
    cls = get_adapter_class(str(manifest.get("adapter")))
    # the adapter CLASS decides whether loading runs code; the manifest's flags can only add refusals
    flagged = sorted(n for n, info in manifest["artifacts"].items() if info.get("pickle"))
    if (cls.loads_code() or flagged) and not trusted:
        raise UntrustedArtifactError(
            f"{folder} holds a {cls.name} model saved as {cls.persistence!r}, which can run "
            f"arbitrary code when loaded; pass trusted=True only if you trust where this folder "
            f"came from"
        )
    for module, saved in (manifest.get("library_versions") or {}).items():
        now = distribution_version(module)
        if saved and now and saved != now:
            warnings.warn(
                f"{manifest['adapter']} was saved with {module} {saved} and is loaded with {now}",
                VersionMismatchWarning,
                stacklevel=2,
            )
    staging = Path(tempfile.mkdtemp(prefix="uniml-load-"))
    try:
        _stage(folder, manifest, staging)
        return cls._from_folder(staging, manifest, trusted=trusted)
    except (UnimlError, ImportError):
        raise
    except Exception as exc:
        raise IntegrityError(
            f"could not load {manifest['adapter']} from {folder}: {exc!r}"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
