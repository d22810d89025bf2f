"""A real loopback sandbox whose creates are slow in the ways a network makes them look lost.

:class:`SlowCreates` wraps the sandbox's ASGI app: for the POST paths it is given it reads the
whole request first (so the server has it, whatever the client does next), then either

* ``finish_late``: waits ``delay`` seconds and only then runs the route (the create commits
  after a client with a shorter read timeout has given up and maybe looked for it), or
* ``reply_late``: runs the route at once (the create commits) and holds the reply ``delay``
  seconds (the reply arrives after the client's read timeout, or never reaches it).

Other requests (the client's reconciling lists) are served at once meanwhile. A client that
gave up is gone by the time the reply is sent; the reply is then dropped silently.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orca_nb.sandbox import Backend
from orca_nb.sandbox.app import create_app

Mode = Literal["finish_late", "reply_late"]


class SlowCreates:
    """ASGI wrapper delaying POSTs to ``paths`` (full paths, e.g. ``/v1/asset/files``)."""

    def __init__(self, app: ASGIApp, *, paths: set[str], delay: float, mode: Mode) -> None:
        self.app = app
        self.paths = paths
        self.delay = delay
        self.mode = mode
        self.started = 0  # matching POSTs received
        self.finished = 0  # of which the route has run to the end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        self.started += 1
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.started -= 1  # never read: like a refusal
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
        given = False

        async def replay() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the route never sees a disconnect
            raise AssertionError("unreachable")

        if self.mode == "finish_late":
            await asyncio.sleep(self.delay)
            await self.app(scope, replay, _forgiving(send))
            self.finished += 1
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, replay, hold)
        self.finished += 1
        await asyncio.sleep(self.delay)
        forward = _forgiving(send)
        for message in held:
            await forward(message)


def _forgiving(send: Send) -> Send:
    async def forward(message: Message) -> None:
        try:
            await send(message)
        except Exception:  # the client gave up and closed the connection
            return

    return forward


@contextmanager
def slow_sandbox(
    backend: Backend, *, paths: set[str], delay: float, mode: Mode
) -> Iterator[tuple[str, SlowCreates]]:
    """Serve ``backend`` on loopback through :class:`SlowCreates`; yields ``(base_url, app)``."""
    app = SlowCreates(create_app(backend), paths=paths, delay=delay, mode=mode)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="none", access_log=False,
        timeout_graceful_shutdown=1,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "slow sandbox did not start"
        assert time.monotonic() < deadline, "slow sandbox did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    """Poll ``predicate()`` (every 20 ms) until true or ``timeout`` s pass (then fail)."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
