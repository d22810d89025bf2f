"""Fault injection on the wire: an ASGI middleware applying ``backend.faults`` to ``/v1``."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orca_nb import wire
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.errors import envelope
from orca_nb.sandbox.faults import Fault
from orca_nb.sandbox.parsing import API_PREFIX

_STATUS_CODES = {
    429: wire.CODE_RATE_LIMITED,
    500: "internal_error",
    502: "upstream_error",
    503: "service_unavailable",
    504: "upstream_timeout",
}


class FaultMiddleware:
    """Applies ``backend.faults`` to ``/v1`` requests before the routes see them."""

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        decision = self.backend.faults.decide(scope["method"], path[len(API_PREFIX) :])
        if decision.latency:
            await asyncio.sleep(decision.latency)
        fault = decision.fault
        if fault is None or fault.kind == "ok":
            await self.app(scope, receive, send)
        elif fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif fault.kind == "status":
            await self._status(fault, scope, receive, send)
        elif fault.kind == "drop_before":
            await _drop(send)
        elif fault.kind == "drop_after":
            await self.app(scope, receive, _discard)
            await _drop(send)
        else:  # slow_body
            await self.app(scope, receive, _slow(send, fault.seconds))

    async def _status(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        message = (
            f"Rate limit exceeded. Try again in {fault.retry_after:g} seconds."
            if fault.status == 429
            else f"The sandbox injected an HTTP {fault.status} fault."
        )
        code = _STATUS_CODES.get(fault.status, "injected_fault")
        response = JSONResponse(envelope(fault.status, code, message), fault.status, headers)
        await response(scope, receive, send)


async def _discard(message: Message) -> None:
    return None


async def _drop(send: Send) -> None:
    """Close the client's connection without any response (uvicorn: via its transport)."""
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("sandbox fault: connection dropped")
    transport.close()
    for _ in range(200):  # let uvicorn see the disconnect so it does not answer 500
        if getattr(owner, "disconnected", True):
            return
        await asyncio.sleep(0.005)


def _slow(send: Send, seconds: float) -> Send:
    async def slow_send(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        pieces = 10
        step = max(1, -(-len(body) // pieces))
        chunks = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more or not last})
            if not last:
                await asyncio.sleep(seconds / (len(chunks) - 1))

    return slow_send
