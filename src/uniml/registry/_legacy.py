"""Bring pickled models from shared drives into the lifecycle: inventory, then trusted import."""

from __future__ import annotations

import importlib.util
import json
import pickletools
import tempfile
from pathlib import Path

from uniml.core.errors import UntrustedArtifactError
from uniml.core.persistence import read_pickle
from uniml.registry._card import UNKNOWN
from uniml.registry._errors import RegistryError

SUPPORTED = ("sklearn", "xgboost", "lightgbm")
SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav")


def _scan(path: Path) -> dict:
    """Modules and the recorded scikit-learn version, read from pickle opcodes (nothing executed)."""
    modules: set[str] = set()
    version = None
    recent: list = []  # what each opcode pushed (strings, else None), memo reads resolved
    memo: dict = {}
    data = path.read_bytes()
    # joblib files are plain pickles (possibly followed by raw numpy buffers) unless compressed
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                if recent and recent[-1] == "_sklearn_version":
                    version = arg
                recent.append(arg)
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = recent[-1] if recent else None
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                recent.append(memo.get(arg))
            elif name == "GLOBAL" and isinstance(arg, str):
                modules.add(arg.split(" ")[0].split(".")[0])
                recent.append(None)
            elif name == "STACK_GLOBAL":
                if len(recent) >= 2 and isinstance(recent[-2], str):
                    modules.add(recent[-2].split(".")[0])
                recent.append(None)
            elif name == "STOP":
                break
            else:
                recent.append(None)
    except Exception as exc:
        return {
            "readable": False,
            "error": f"{type(exc).__name__}: {exc}",
            "modules": sorted(modules),
        }
    return {"readable": True, "modules": sorted(modules), "sklearn_version": version}


def audit(folder, out=None) -> list[dict]:
    """Inventory the pickled models under ``folder`` without loading any of them.

    Each row: ``path``, ``size``, ``sha256``, ``library`` (from the pickle's imports), ``version``
    (scikit-learn's recorded one), ``loadable`` (the pickle parses and its libraries are
    installed), ``action`` (``migrate`` or ``retire``).

    Parameters
    ----------
    folder : str or Path
    out : str or Path, optional
        Write the inventory there as JSON.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import pickle, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "m.pkl").write_bytes(pickle.dumps({"a": 1}))
    >>> [(r["path"], r["action"]) for r in audit(d)]
    [('m.pkl', 'retire')]
    """
    from uniml.core.persistence import sha256_file

    root = Path(folder)
    if not root.is_dir():
        raise RegistryError(f"{str(root)!r} is not a folder")
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        scan = _scan(path)
        libs = [m for m in scan["modules"] if m in SUPPORTED]
        library = libs[0] if libs else (scan["modules"][0] if scan["modules"] else None)
        installed = all(
            importlib.util.find_spec(m) is not None
            for m in scan["modules"]
            if m not in ("builtins", "copyreg", "_codecs", "__builtin__")
        )
        loadable = bool(scan["readable"] and installed)
        rows.append(
            {
                "path": str(path.relative_to(root)),
                "size": path.stat().st_size,
                "sha256": sha256_file(path),
                "library": library,
                "modules": scan["modules"],
                "version": scan.get("sklearn_version"),
                "loadable": loadable,
                "action": "migrate" if (loadable and libs) else "retire",
                "note": scan.get("error")
                or ("" if libs else "not a scikit-learn, XGBoost or LightGBM model"),
            }
        )
    if out is not None:
        Path(out).write_text(json.dumps(rows, indent=2))
    return rows


def import_legacy(
    path,
    name: str,
    sample,
    *,
    trusted: bool = False,
    expected_sha256: str | None = None,
    card: dict | None = None,
    actor: str | None = None,
    tracking_uri: str | None = None,
) -> dict:
    """Register a pickled/joblib scikit-learn, XGBoost or LightGBM model as a ``legacy`` version.

    The file is hashed, loaded only with ``trusted=True`` (unpickling runs code), wrapped in
    ``sklearn.estimator`` with the schema of ``sample``, checked to predict on ``sample`` exactly as
    the raw object does, re-saved in uniml's format and registered with the card fields nobody
    recorded marked unknown. It cannot hold a guarded alias until it passes a gate and its card is
    completed (re-register with a full card).

    Parameters
    ----------
    path : str or Path
    name : str
    sample : pandas.DataFrame
        A few rows of the features the model expects (columns in training order).
    trusted : bool, default False
    expected_sha256 : str, optional
        Refuse a file whose hash differs.
    card : dict, optional
        Card fields you do know (``owner``...).
    actor : str, optional
    tracking_uri : str, optional

    Returns
    -------
    dict
        As :func:`register`, plus ``file_sha256``.

    Raises
    ------
    UntrustedArtifactError
        ``trusted`` is not True.

    Examples
    --------
    >>> import_legacy("model.pkl", "m", None)
    Traceback (most recent call last):
    ...
    uniml.core.errors.UntrustedArtifactError: ...
    """
    import numpy as np
    import pandas as pd

    import uniml
    from uniml.core.persistence import artifact_digest, sha256_file
    from uniml.registry._core import client_for, register, tracking

    if trusted is not True:
        raise UntrustedArtifactError(
            f"refusing to unpickle {str(path)!r}: loading a pickle runs arbitrary code; "
            "pass trusted=True only for files whose origin you know (check audit() first)"
        )
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"no file at {str(path)!r}")
    digest = sha256_file(path)
    if expected_sha256 and expected_sha256 != digest:
        raise RegistryError(
            f"{path.name}: sha256 {digest} differs from the expected {expected_sha256}"
        )
    raw = read_pickle(path, trusted=True)  # the caller's trusted=True was checked above
    library = type(raw).__module__.split(".")[0]
    if library not in SUPPORTED or not hasattr(raw, "predict"):
        raise RegistryError(
            f"{path.name} holds a {type(raw).__module__}.{type(raw).__name__}, not a scikit-learn, XGBoost or LightGBM model"
        )
    # fit the wrapper on the sample labelled by the legacy model itself, so every fitted attribute
    # uniml keeps (schema, target name, classes...) is set; then swap in the legacy estimator as is
    sample_y = pd.Series(np.asarray(raw.predict(sample)), name="prediction")
    model = uniml.make("sklearn.estimator", estimator=raw).fit(
        sample.reset_index(drop=True), sample_y
    )
    model.estimator_ = raw
    if hasattr(raw, "classes_"):
        model.classes_ = raw.classes_
    if not np.array_equal(np.asarray(model.predict(sample)), np.asarray(raw.predict(sample))):
        raise RegistryError(
            f"{path.name}: the wrapped model does not predict like the raw object on the sample"
        )
    uri = tracking(tracking_uri)
    client = client_for(uri)
    with tempfile.TemporaryDirectory() as tmp:
        folder = model.save(Path(tmp) / "model")
        exp = client.get_experiment_by_name("uniml-legacy")
        exp_id = exp.experiment_id if exp else client.create_experiment("uniml-legacy")
        run = client.create_run(
            exp_id,
            run_name=f"legacy-{path.name}",
            tags={
                "uniml.legacy": "true",
                "uniml.legacy_file": str(path),
                "uniml.legacy_sha256": digest,
                "uniml.artifact_digest": artifact_digest(folder),
            },
        )
        client.log_artifacts(run.info.run_id, str(folder), "model")
        lib_version = getattr(raw, "_sklearn_version", None)
        lineage_card = {
            "model_details": {
                "adapter": "sklearn.estimator",
                "library": library,
                "library_version": lib_version or UNKNOWN,
                "legacy_file_sha256": digest,
            },
            "training_data": {"fingerprint": UNKNOWN, "schema": model.schema_.to_dict()},
            "intended_use": UNKNOWN,
            "limitations": UNKNOWN,
        }
        client.log_text(run.info.run_id, json.dumps(lineage_card), "model_card.json")
        client.set_terminated(run.info.run_id)
    user = {
        "owner": UNKNOWN,
        "out_of_scope_use": UNKNOWN,
        "ethical_considerations": UNKNOWN,
        "code_version": UNKNOWN,
        **(card or {}),
    }
    result = register(
        f"runs:/{run.info.run_id}/model",
        name,
        user,
        actor=actor,
        allow_incomplete=True,
        tags={"uniml.legacy": "true", "uniml.legacy_sha256": digest},
        tracking_uri=uri,
    )
    return {**result, "file_sha256": digest}
