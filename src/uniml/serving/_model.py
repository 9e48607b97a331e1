"""Resolving a model URI to a loaded adapter with its identity (name, version, run id, digest)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uniml.core.errors import IntegrityError, UnimlError

#: the model-version tag holding the artifact digest (written by the registry)
DIGEST_TAG = "uniml.artifact_digest"


class ServingError(UnimlError, ValueError):
    """A model URI cannot be served (unknown scheme, missing version, digest mismatch).

    Examples
    --------
    >>> issubclass(ServingError, UnimlError)
    True
    """


@dataclass(frozen=True)
class ServedModel:
    """A loaded adapter and the identity every response carries.

    Parameters
    ----------
    adapter : uniml.Adapter
        The saved adapter itself (same preprocessing and schema as at training).
    name, version, run_id : str
        Registered model name and version (for a folder: its name and the first
        12 characters of its digest; for ``runs:/``: ``"run"``), and the MLflow run id
        (empty when unknown).
    digest : str
        :func:`uniml.core.persistence.artifact_digest` of the served folder.
    uri : str
        The URI it was loaded from.
    extra : dict, optional
        Free-form details (not part of the identity).

    Examples
    --------
    >>> import numpy as np, tempfile, uniml
    >>> from uniml.serving import load_model
    >>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1)
    >>> folder = m.fit(np.eye(4), [1.0, 2.0, 3.0, 4.0]).save(tempfile.mkdtemp() + "/m")
    >>> served = load_model(str(folder))
    >>> served.name, served.version == served.digest[:12], served.task
    ('m', True, 'regression')
    """

    adapter: Any
    name: str
    version: str
    run_id: str
    digest: str
    uri: str
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def task(self) -> str:
        """The adapter's task kind as a string."""
        return str(self.adapter.task_kind.value)

    def headers(self) -> dict[str, str]:
        """The response headers naming this model.

        Returns
        -------
        dict
        """
        return {
            "x-model-name": self.name,
            "x-model-version": self.version,
            "x-model-run-id": self.run_id,
        }

    def identity(self) -> dict[str, str]:
        """Name, version, run id and digest as a dict.

        Returns
        -------
        dict
        """
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "digest": self.digest,
        }


def _find_folder(path: Path) -> Path | None:
    from uniml.core.persistence import MANIFEST_NAME

    if (path / MANIFEST_NAME).is_file():
        return path
    found = sorted((path / "artifacts").glob(f"*/{MANIFEST_NAME}"))
    return found[0].parent if found else None


def _client(tracking_uri: str | None):
    import mlflow
    from mlflow import MlflowClient

    uri = tracking_uri or mlflow.get_tracking_uri()
    return MlflowClient(tracking_uri=uri, registry_uri=uri), uri


def parse_models_uri(uri: str) -> tuple[str, str | None, str | None]:
    """Split ``models:/name/version`` or ``models:/name@alias`` into (name, version, alias).

    Parameters
    ----------
    uri : str

    Returns
    -------
    tuple
        ``(name, version or None, alias or None)``.

    Raises
    ------
    ServingError
        Not a ``models:/`` URI of either form.

    Examples
    --------
    >>> parse_models_uri("models:/churn@champion")
    ('churn', None, 'champion')
    >>> parse_models_uri("models:/churn/3")
    ('churn', '3', None)
    """
    if not uri.startswith("models:/"):
        raise ServingError(f"{uri!r} is not a models:/ URI")
    ref = uri[len("models:/") :].strip("/")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        if name and alias and "/" not in alias:
            return name, None, alias
    else:
        name, _, version = ref.partition("/")
        if name and version and "/" not in version:
            return name, version, None
    raise ServingError(f"{uri!r}: expected models:/<name>/<version> or models:/<name>@<alias>")


def alias_version(uri: str, tracking_uri: str | None = None) -> str:
    """The version an alias URI points at now (asked of MLflow's registry).

    Parameters
    ----------
    uri : str
        ``models:/name@alias``.
    tracking_uri : str, optional

    Returns
    -------
    str
    """
    name, _, alias = parse_models_uri(uri)
    if alias is None:
        raise ServingError(f"{uri!r} names no alias")
    client, _ = _client(tracking_uri)
    return str(client.get_model_version_by_alias(name, alias).version)


def load_model(uri: str, *, tracking_uri: str | None = None, trusted: bool = False) -> ServedModel:
    """Load a model for serving from a folder, ``runs:/...``, ``models:/n/v`` or ``models:/n@alias``.

    Registry URIs are resolved with MLflow's registry API; when the version carries a
    ``uniml.artifact_digest`` tag, the downloaded folder's digest must equal it.

    Parameters
    ----------
    uri : str
    tracking_uri : str, optional
        Tracking/registry URI (default: MLflow's current one).
    trusted : bool, default False
        Passed to :func:`uniml.load` (allow pickle-based artifacts).

    Returns
    -------
    ServedModel

    Raises
    ------
    ServingError
        Nothing loadable at ``uri``.
    IntegrityError
        The digest differs from the version's ``uniml.artifact_digest`` tag.

    Examples
    --------
    >>> load_model("/nonexistent")
    Traceback (most recent call last):
    ...
    uniml.serving._model.ServingError: no model at '/nonexistent'
    """
    from uniml.core.persistence import artifact_digest
    from uniml.lineage import load_adapter

    name = version = run_id = ""
    expected = None
    if uri.startswith("models:/"):
        import mlflow.artifacts

        name, version_, alias = parse_models_uri(uri)
        client, resolved = _client(tracking_uri)
        try:
            if alias is not None:
                mv = client.get_model_version_by_alias(name, alias)
            else:
                mv = client.get_model_version(name, str(version_))
            source = client.get_model_version_download_uri(name, mv.version)
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=source,
                    tracking_uri=resolved,
                    dst_path=tempfile.mkdtemp(prefix="uniml-serve-"),
                )
            )
        except Exception as exc:
            raise ServingError(f"could not resolve {uri!r}: {exc}") from exc
        version, run_id = str(mv.version), str(mv.run_id or "")
        expected = (mv.tags or {}).get(DIGEST_TAG)
    elif uri.startswith("runs:/") or "://" in uri:
        import mlflow.artifacts

        _, resolved = _client(tracking_uri)
        try:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=uri,
                    tracking_uri=resolved,
                    dst_path=tempfile.mkdtemp(prefix="uniml-serve-"),
                )
            )
        except Exception as exc:
            raise ServingError(f"could not download {uri!r}: {exc}") from exc
        if uri.startswith("runs:/"):
            run_id = uri[len("runs:/") :].split("/", 1)[0]
            name, version = uri.rstrip("/").rsplit("/", 1)[-1], "run"
    else:
        local = Path(uri)
        if not local.exists():
            raise ServingError(f"no model at {uri!r}")
    folder = _find_folder(local)
    if folder is None:
        raise ServingError(f"{uri!r} holds no uniml model")
    digest = artifact_digest(folder)
    if expected and expected != digest:
        raise IntegrityError(
            f"{uri!r}: artifact digest {digest[:12]}... differs from the version's "
            f"{DIGEST_TAG} tag {expected[:12]}..."
        )
    adapter = load_adapter(str(folder), trusted=trusted)
    if not name:
        name = local.resolve().name
    if not version:
        version = digest[:12]
    return ServedModel(adapter, name, version, run_id, digest, uri)
