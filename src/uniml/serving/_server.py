"""Running the app under uvicorn: TCP_NODELAY on every connection, a per-server metrics dir."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile

from uvicorn.protocols.http.h11_impl import H11Protocol

from uniml.serving._app import ServeConfig, create_app

ENV_CONFIG = "UNIML_SERVE_CONFIG"


def _nodelay(transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with Nagle's algorithm off on each accepted connection.

    With ``--workers > 1`` uvicorn hands workers a socket whose protocol number is 0, so
    asyncio does not set TCP_NODELAY itself (uvicorn #3149): a keep-alive client then waits
    ~40 ms for delayed ACKs on every response.
    """

    def connection_made(self, transport) -> None:
        _nodelay(transport)
        super().connection_made(transport)


try:  # uvicorn's fast HTTP parser, when httptools is installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - depends on the environment
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with Nagle's algorithm off (see NoDelayH11Protocol)."""

        def connection_made(self, transport) -> None:
            _nodelay(transport)
            super().connection_made(transport)


def _http_protocol() -> type:
    """httptools with TCP_NODELAY when installed, else h11 with TCP_NODELAY (module-level
    classes: uvicorn pickles the config for its worker processes)."""
    if HttpToolsProtocol is not None:
        return NoDelayHttpToolsProtocol
    return NoDelayH11Protocol


def app_from_env():
    """App factory for uvicorn workers: the config comes from ``UNIML_SERVE_CONFIG``."""
    return create_app(ServeConfig.from_env(os.environ[ENV_CONFIG]))


def run(
    config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8080, workers: int = 1
) -> None:
    """Serve ``config`` with uvicorn until interrupted (blocking).

    Parameters
    ----------
    config : ServeConfig
    host : str, default "127.0.0.1"
    port : int, default 8080
    workers : int, default 1
        Worker processes; a worker that dies is replaced by uvicorn's supervisor.
    """
    import logging
    import sys

    import uvicorn

    if config.access_log:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log = logging.getLogger("uniml.serving.access")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    os.environ[ENV_CONFIG] = config.to_env()
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="uniml-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "uniml.serving._server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http=_http_protocol(),
            loop="auto",  # uvloop when installed
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=30,
        )
    finally:
        if metrics_dir is not None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
