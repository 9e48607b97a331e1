"""Serving: a FastAPI scoring service for any uniml model, batch scoring, a prediction log.

``uniml serve MODEL`` serves a uniml folder, ``runs:/...``, ``models:/name/version`` or
``models:/name@alias`` (``--follow`` swaps versions when the alias moves). Routes, the
prediction-log layout and deployment are described in ``docs/serving.md``. FastAPI,
uvicorn and prometheus-client are imported only when an app is built (extra ``uniml[serve]``).

Examples
--------
>>> import numpy as np, tempfile, uniml
>>> from uniml.serving import load_model
>>> m = uniml.make("lightgbm.regressor", n_estimators=3, verbose=-1)
>>> folder = m.fit(np.eye(4), [1.0, 2.0, 3.0, 4.0]).save(tempfile.mkdtemp() + "/m")
>>> load_model(str(folder)).task
'regression'
"""

from __future__ import annotations

from uniml.serving._app import ServeConfig, create_app
from uniml.serving._batch import score_file
from uniml.serving._log import PredictionLog
from uniml.serving._model import DIGEST_TAG, ServedModel, ServingError, load_model

__all__ = [
    "DIGEST_TAG",
    "PredictionLog",
    "ServeConfig",
    "ServedModel",
    "ServingError",
    "create_app",
    "dockerfile",
    "load_model",
    "score_file",
]

#: pinned base image of :func:`dockerfile` (a digest-free but exact tag)
BASE_IMAGE = "python:3.12.8-slim-bookworm"


def dockerfile(
    model_path: str = "/model",
    *,
    port: int = 8080,
    workers: int = 2,
    extras: str = "serve,lightgbm",
) -> str:
    """A Dockerfile serving a uniml model folder copied into the image.

    Non-root user, pinned base image and uniml version, a HEALTHCHECK on
    ``/v2/health/ready``; build it next to the model folder (``COPY model /model``).

    Parameters
    ----------
    model_path : str, default "/model"
        Where the model is served from in the image (a folder, or a ``models:/`` URI).
    port : int, default 8080
    workers : int, default 2
    extras : str, default "serve,lightgbm"
        uniml extras to install.

    Returns
    -------
    str

    Examples
    --------
    >>> text = dockerfile()
    >>> "USER 10001" in text and "HEALTHCHECK" in text and BASE_IMAGE in text
    True
    """
    import uniml

    version = uniml.__version__
    copy = "COPY --chown=10001:10001 model /model\n" if model_path == "/model" else ""
    return f"""# syntax=docker/dockerfile:1
FROM {BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 uniml \\
 && pip install --no-cache-dir "uniml[{extras}]=={version}"
{copy}USER 10001
WORKDIR /home/uniml
EXPOSE {port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/v2/health/ready', timeout=2)"]
CMD ["uniml", "serve", "{model_path}", "--host", "0.0.0.0", "--port", "{port}", "--workers", "{workers}"]
"""
