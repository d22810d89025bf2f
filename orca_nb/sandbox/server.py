"""Run the sandbox as a real loopback HTTP server (uvicorn in a daemon thread)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from orca_nb.sandbox.app import create_app
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.parsing import API_PREFIX

START_TIMEOUT_SECONDS = 15.0


class SandboxServer:
    """A sandbox served on ``127.0.0.1`` (``port=0`` picks a free port). Use as a context
    manager, or call :meth:`start` and :meth:`close`.

    Pass a :class:`Backend` to serve it (it stays open after ``close``), or a
    :class:`SandboxConfig` / nothing to have the server own a new backend.
    """

    def __init__(
        self,
        backend: Backend | SandboxConfig | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        log_level: str = "warning",
    ) -> None:
        self._owns_backend = not isinstance(backend, Backend)
        self.backend = backend if isinstance(backend, Backend) else Backend(backend)
        self.host = host
        self._requested_port = port
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (samples, H5 pages, admin, files live below it)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL, ``http://127.0.0.1:PORT/v1``."""
        return self.root_url + API_PREFIX

    @property
    def running(self) -> bool:
        """True while the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SandboxServer:
        """Bind the port and serve in a daemon thread; returns once requests are accepted."""
        if self.running:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # accepted connections inherit this: without it every keep-alive response waits ~40 ms
        # for a delayed ACK (uvicorn writes headers and body separately)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(128)
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            create_app(self.backend),
            log_level=self._log_level,
            lifespan="off",
            ws="none",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="orca-sandbox-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the sandbox server did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        """Stop serving (and close the backend if this server created it)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        if self._owns_backend:
            self.backend.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = self.base_url if self.running else "stopped"
        return f"SandboxServer({state})"
