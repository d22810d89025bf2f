"""Request parsing shared by the sandbox's routes: backend, root URL, bearer key, JSON body."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from orca_nb import wire
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.errors import ApiError, bad_request

API_PREFIX = "/v1"  # the OrcaRouter API lives below this path
MAX_BODY_BYTES = 16 * wire.MB
Handler = Callable[[Request], Awaitable[Response]]


def backend_of(request: Request) -> Backend:
    """The backend the app serves."""
    backend: Backend = request.app.state.backend
    return backend


def root_url(request: Request) -> str:
    """``http://host:port`` as the client addressed the server."""
    return f"{request.url.scheme}://{request.url.netloc}"


def bearer(request: Request) -> str | None:
    """The bearer token of the ``Authorization`` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def account_of(request: Request) -> str:
    """The caller's account (401 ``ApiError`` for a missing or malformed key)."""
    return await run_in_threadpool(backend_of(request).account_for_key, bearer(request))


async def json_body(request: Request, *, optional: bool = False) -> Any:
    """The parsed JSON body (400 when missing, unless ``optional``, or not JSON)."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, wire.CODE_INVALID_PARAMETER, "the request body is too large")
    if not raw.strip():
        if optional:
            return None
        raise bad_request("a JSON request body is required", None)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("the request body is not valid JSON", None) from None


def query_dict(request: Request) -> dict[str, str]:
    """Query parameters (the last value of repeated ones)."""
    return {k: v for k, v in request.query_params.items()}


def path_param(request: Request, name: str) -> str:
    """A path parameter as a string."""
    return str(request.path_params[name])
