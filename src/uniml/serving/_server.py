"""Running the app under uvicorn: TCP_NODELAY on every connection, a per-server metrics dir."""

from __future__ import annotations

import asyncio
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


class CoalescingTransport:
    """A transport whose writes of one event-loop step leave as one send, in order.

    uvicorn writes a response's status line and headers, then its body, as two
    transport writes; with Nagle's algorithm off each becomes its own system call
    and TCP segment and wakes the client twice. Here writes are queued and joined
    at the end of the current loop iteration (``call_soon``, no timer, so no added
    wait); ``close`` and ``write_eof`` send what is queued first, ``abort`` drops it.
    Everything else is the wrapped transport's.

    Parameters
    ----------
    transport : asyncio.Transport
    loop : asyncio.AbstractEventLoop

    Examples
    --------
    >>> import asyncio
    >>> class Sink:
    ...     def __init__(self): self.sent = []
    ...     def write(self, data): self.sent.append(data)
    ...     def is_closing(self): return False
    >>> async def two_writes():
    ...     sink = Sink()
    ...     t = CoalescingTransport(sink, asyncio.get_running_loop())
    ...     t.write(b"head "); t.write(b"body")
    ...     await asyncio.sleep(0)
    ...     return sink.sent
    >>> asyncio.run(two_writes())
    [b'head body']
    """

    __slots__ = ("_transport", "_loop", "_queued", "_scheduled")

    def __init__(self, transport, loop) -> None:
        self._transport, self._loop = transport, loop
        self._queued: list[bytes] = []
        self._scheduled = False

    def write(self, data) -> None:
        if not data:
            return
        self._queued.append(data)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def writelines(self, lines) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        self._scheduled = False
        if not self._queued:
            return
        queued, self._queued = self._queued, []
        if not self._transport.is_closing():
            self._transport.write(queued[0] if len(queued) == 1 else b"".join(queued))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(b) for b in self._queued)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._queued = []
        self._transport.abort()

    def __getattr__(self, name):
        return getattr(self._transport, name)


def _prepared(transport):
    """The accepted connection with Nagle off, wrapped so each response is one send."""
    _nodelay(transport)
    return CoalescingTransport(transport, asyncio.get_running_loop())


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with Nagle's algorithm off on each accepted connection.

    With ``--workers > 1`` uvicorn hands workers a socket whose protocol number is 0, so
    asyncio does not set TCP_NODELAY itself (uvicorn #3149): a keep-alive client then waits
    ~40 ms for delayed ACKs on every response. The response's head and body then leave
    as one write (:class:`CoalescingTransport`).
    """

    def connection_made(self, transport) -> None:
        super().connection_made(_prepared(transport))


try:  # uvicorn's fast HTTP parser, when httptools is installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - depends on the environment
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with Nagle's algorithm off and one write per
        response (see NoDelayH11Protocol)."""

        def connection_made(self, transport) -> None:
            super().connection_made(_prepared(transport))


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
