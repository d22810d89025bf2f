"""HTTP for the sandbox: a Starlette app that parses requests and hands them to the backend.

Routes: the OrcaRouter API under ``/v1`` (paths from ``orca_nb.wire``), public samples under
``/sandbox/samples/``, signed downloads under ``/sandbox/files/``, the H5 verification pages
under ``/sandbox/h5/``, and the loopback-only controls under ``/sandbox/admin/``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orca_nb import wire
from orca_nb.sandbox import h5
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.errors import ApiError, bad_request, envelope
from orca_nb.sandbox.faults import Fault
from orca_nb.sandbox.processing import is_loopback_host

log = logging.getLogger(__name__)

API_PREFIX = "/v1"
MAX_BODY_BYTES = 16 * wire.MB
TASK_SHAPE_HEADER = "x-orca-sandbox-task-shape"
Handler = Callable[[Request], Awaitable[Response]]


def create_app(backend: Backend) -> ASGIApp:
    """The sandbox ASGI application serving ``backend`` (with fault injection on ``/v1``)."""
    routes = [
        Route("/", _index, methods=["GET"]),
        Route("/sandbox", _index, methods=["GET"]),
        Route("/healthz", _health, methods=["GET"]),
        *_api_routes(),
        Route("/sandbox/samples/{filename}", _sample, methods=["GET"]),
        Route("/sandbox/files/{blob_id}", _file, methods=["GET"]),
        Route("/sandbox/h5/people/{person}.png", _person_picture, methods=["GET"]),
        Route("/sandbox/h5/{session_id}", _h5_page, methods=["GET"]),
        Route("/sandbox/h5/{session_id}", _h5_submit, methods=["POST"]),
        Route("/sandbox/h5/{session_id}/done", _h5_done, methods=["GET"]),
        *_admin_routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.backend = backend
    return FaultMiddleware(app, backend)


def _api_routes() -> list[Route]:
    def api(path: str) -> str:
        return API_PREFIX + path

    return [
        Route(api(wire.GROUPS_PATH), _json(_list_groups), methods=["GET"]),
        Route(api(wire.GROUPS_PATH), _json(_create_group), methods=["POST"]),
        Route(api(wire.GROUP_PATH), _json(_get_group), methods=["GET"]),
        Route(api(wire.GROUP_PATH), _json(_update_group), methods=["PATCH", "PUT"]),
        Route(api(wire.GROUP_PATH), _json(_delete_group), methods=["DELETE"]),
        Route(api(wire.ASSETS_PATH), _json(_list_assets), methods=["GET"]),
        Route(api(wire.ASSETS_PATH), _json(_upload_asset), methods=["POST"]),
        Route(api(wire.ASSET_PATH), _json(_get_asset), methods=["GET"]),
        Route(api(wire.ASSET_PATH), _json(_delete_asset), methods=["DELETE"]),
        Route(api(wire.SESSIONS_PATH), _json(_start_session), methods=["POST"]),
        Route(api(wire.SESSION_PATH), _json(_get_session), methods=["GET"]),
        Route(api(wire.VIDEOS_PATH), _json(_create_task), methods=["POST"]),
        Route(api(wire.VIDEO_PATH), _get_task, methods=["GET"]),
    ]


# ---------------------------------------------------------------------- request parsing
def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def root_url(request: Request) -> str:
    """``http://host:port`` as the client addressed the server."""
    return f"{request.url.scheme}://{request.url.netloc}"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def _account(request: Request) -> str:
    return await run_in_threadpool(_backend(request).account_for_key, _bearer(request))


async def _body(request: Request, *, optional: bool = False) -> Any:
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


def _query(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


def _json(fn: Callable[[Request, Backend, str], Awaitable[Any]]) -> Handler:
    async def handler(request: Request) -> Response:
        account = await _account(request)
        return JSONResponse(await fn(request, _backend(request), account))

    return handler


def _path(request: Request, name: str) -> str:
    return str(request.path_params[name])


# ---------------------------------------------------------------------- API handlers
async def _list_groups(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.list_groups, account, _query(request))


async def _create_group(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.create_group, account, await _body(request))


async def _get_group(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.get_group, account, _path(request, "group_id"))


async def _update_group(request: Request, backend: Backend, account: str) -> Any:
    body = await _body(request)
    return await run_in_threadpool(backend.update_group, account, _path(request, "group_id"), body)


async def _delete_group(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.delete_group, account, _path(request, "group_id"))


async def _list_assets(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.list_assets, account, _query(request), root_url(request))


async def _upload_asset(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.upload_asset, account, await _body(request))


async def _get_asset(request: Request, backend: Backend, account: str) -> Any:
    aid = _path(request, "asset_id")
    return await run_in_threadpool(backend.get_asset, account, aid, root_url(request))


async def _delete_asset(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.delete_asset, account, _path(request, "asset_id"))


async def _start_session(request: Request, backend: Backend, account: str) -> Any:
    body = await _body(request, optional=True)
    return await run_in_threadpool(backend.start_session, account, body, root_url(request))


async def _get_session(request: Request, backend: Backend, account: str) -> Any:
    sid = _path(request, "session_id")
    return await run_in_threadpool(backend.get_session, account, sid, root_url(request))


async def _create_task(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.create_task, account, await _body(request))


async def _get_task(request: Request) -> Response:
    backend = _backend(request)
    account = await _account(request)
    shape = request.headers.get(TASK_SHAPE_HEADER)
    status, body = await run_in_threadpool(
        backend.get_task, account, _path(request, "task_id"), root_url(request), shape
    )
    return JSONResponse(body, status_code=status)


# ---------------------------------------------------------------------- public sandbox pages
async def _index(request: Request) -> Response:
    root = root_url(request)
    return JSONResponse(
        {
            "service": "orca_nb sandbox (a local OrcaRouter emulator)",
            "base_url": root + API_PREFIX,
            "demo_api_key": wire.DEFAULT_SANDBOX_KEY,
            "samples": root + "/sandbox/samples/",
        }
    )


async def _health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _sample(request: Request) -> Response:
    from orca_nb.sandbox.samples import SAMPLES, media_type, sample_bytes

    filename = _path(request, "filename")
    if filename not in SAMPLES:
        raise ApiError(404, wire.CODE_NOT_FOUND, f"no sample named {filename!r}", "filename")
    data = await run_in_threadpool(sample_bytes, filename)
    return Response(data, media_type=media_type(filename))


async def _file(request: Request) -> Response:
    backend = _backend(request)
    data, media_type = await run_in_threadpool(backend.open_file, request.url.path, _query(request))
    return byte_range_response(data, media_type, request.headers.get("range"))


def byte_range_response(data: bytes, media_type: str, range_header: str | None) -> Response:
    """The whole file, or one ``Range: bytes=a-b`` slice of it (browsers seek videos so)."""
    headers = {"Accept-Ranges": "bytes"}
    size = len(data)
    if range_header and range_header.startswith("bytes=") and "," not in range_header:
        first, _, last = range_header[len("bytes=") :].strip().partition("-")
        try:
            if first:
                start, end = int(first), int(last) if last else size - 1
            else:
                start, end = max(0, size - int(last)), size - 1
        except ValueError:
            start, end = 0, -1
        end = min(end, size - 1)
        if 0 <= start <= end:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            return Response(data[start : end + 1], 206, headers, media_type=media_type)
        headers["Content-Range"] = f"bytes */{size}"
        return Response(b"", 416, headers)
    return Response(data, media_type=media_type, headers=headers)


@lru_cache(maxsize=32)
def _picture(person: str) -> bytes:
    from orca_nb.media.synth import image_bytes

    return image_bytes(240, 300, fmt="png", faces=[person])


async def _person_picture(request: Request) -> Response:
    from orca_nb.media.faces import PEOPLE

    person = _path(request, "person")
    if person not in PEOPLE:
        raise ApiError(404, wire.CODE_NOT_FOUND, f"no sample person {person!r}", "person")
    return Response(await run_in_threadpool(_picture, person), media_type="image/png")


async def _h5_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    from orca_nb.media.faces import PEOPLE

    backend = _backend(request)
    try:
        session = await run_in_threadpool(backend.h5_session, _path(request, "session_id"))
    except ApiError:
        return HTMLResponse(
            h5.message_page("Unknown verification link", "This link is not valid."), 404
        )
    return HTMLResponse(h5.verify_page(session, list(PEOPLE), error=error), status)


async def _h5_submit(request: Request) -> Response:
    backend = _backend(request)
    raw = (await request.body())[:65536].decode("utf-8", "replace")
    form = {k: v[0] for k, v in parse_qs(raw).items()}
    try:
        result = await run_in_threadpool(
            lambda: backend.h5_complete(
                _path(request, "session_id"),
                root_url(request),
                consent=form.get("consent") == "yes",
                choice=form.get("choice", ""),
            )
        )
    except ApiError as exc:
        if exc.status == 404:
            return HTMLResponse(
                h5.message_page("Unknown verification link", "This link is not valid."), 404
            )
        return await _h5_page(request, error=exc.message, status=exc.status)
    return RedirectResponse(result.redirect or "/", status_code=303)


async def _h5_done(request: Request) -> Response:
    backend = _backend(request)
    try:
        session = await run_in_threadpool(backend.h5_session, _path(request, "session_id"))
    except ApiError:
        return HTMLResponse(
            h5.message_page("Unknown verification link", "This link is not valid."), 404
        )
    return HTMLResponse(h5.outcome_page(session))


# ---------------------------------------------------------------------- admin (loopback only)
def _admin_routes() -> list[Route]:
    return [
        Route("/sandbox/admin/reset", _admin(_reset), methods=["POST"]),
        Route("/sandbox/admin/step", _admin(_step), methods=["POST"]),
        Route("/sandbox/admin/clock", _admin(_clock), methods=["POST"]),
        Route("/sandbox/admin/settings", _admin(_settings), methods=["GET", "POST"]),
        Route("/sandbox/admin/faults", _admin(_faults), methods=["GET", "POST", "DELETE"]),
        Route("/sandbox/admin/fail-next-tasks", _admin(_fail_next), methods=["POST"]),
        Route("/sandbox/admin/seed", _admin(_seed), methods=["POST"]),
    ]


def _admin(fn: Callable[[Request, Backend], Awaitable[Any]]) -> Handler:
    async def handler(request: Request) -> Response:
        host = request.client.host if request.client else ""
        if not is_loopback_host(host):
            raise ApiError(403, wire.CODE_ACCESS_DENIED, "the admin routes only answer on loopback")
        return JSONResponse(await fn(request, _backend(request)))

    return handler


async def _admin_body(request: Request) -> dict[str, Any]:
    body = await _body(request, optional=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None)
    return body


async def _reset(request: Request, backend: Backend) -> Any:
    await run_in_threadpool(backend.reset)
    return {"ok": True}


async def _step(request: Request, backend: Backend) -> Any:
    n = (await _admin_body(request)).get("n", 1)
    if type(n) is not int or not 0 <= n <= 1000:
        raise bad_request("n must be an integer from 0 to 1000", "n")
    await run_in_threadpool(backend.step, n)
    return {"ok": True, "now": backend.now()}


async def _clock(request: Request, backend: Backend) -> Any:
    from orca_nb.sandbox.clock import ManualClock

    seconds = (await _admin_body(request)).get("advance", 0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise bad_request("advance must be a number of seconds >= 0", "advance")
    if not isinstance(backend.clock, ManualClock):
        raise bad_request("this sandbox runs on the wall clock; it cannot be advanced", "advance")
    return {"now": backend.clock.advance(float(seconds))}


_SETTABLE = (
    "processing",
    "processing_seconds",
    "task_queue_seconds",
    "task_seconds",
    "task_steps",
    "asset_cap",
    "task_shape",
    "url_ttl",
    "video_url_ttl",
    "session_ttl",
)


async def _settings(request: Request, backend: Backend) -> Any:
    if request.method == "POST":
        body = await _admin_body(request)
        unknown = sorted(set(body) - set(_SETTABLE))
        if unknown:
            raise bad_request(f"unknown or fixed setting(s): {', '.join(unknown)}", unknown[0])
        try:
            backend.configure(**body)
        except (ValueError, TypeError) as exc:
            raise bad_request(str(exc), None) from None
    return {name: getattr(backend.config, name) for name in _SETTABLE}


async def _faults(request: Request, backend: Backend) -> Any:
    if request.method == "DELETE":
        route = request.query_params.get("route")
        backend.faults.clear(route)
    elif request.method == "POST":
        body = await _admin_body(request)
        route = body.get("route")
        actions = body.get("actions", [])
        latency = body.get("latency", 0.0)
        if not isinstance(route, str) or not isinstance(actions, list):
            raise bad_request('send {"route": "POST /asset/files", "actions": ["429", "ok"]}', None)
        if not isinstance(latency, int | float) or isinstance(latency, bool):
            raise bad_request("latency must be seconds", "latency")
        try:
            backend.faults.add(
                route, *actions, repeat=bool(body.get("repeat", False)), latency=float(latency)
            )
        except ValueError as exc:
            raise bad_request(str(exc), "actions") from None
    return {"faults": backend.faults.describe()}


async def _fail_next(request: Request, backend: Backend) -> Any:
    body = await _admin_body(request)
    n = body.get("n", 1)
    if type(n) is not int or not 0 <= n <= 1000:
        raise bad_request("n must be an integer from 0 to 1000", "n")
    backend.fail_next_tasks(
        n,
        str(body.get("code", "InternalServiceError")),
        str(body.get("message", "The sandbox was told to fail this task.")),
    )
    return {"ok": True}


async def _seed(request: Request, backend: Backend) -> Any:
    key = (await _admin_body(request)).get("api_key", wire.DEFAULT_SANDBOX_KEY)
    if not isinstance(key, str):
        raise bad_request("api_key must be a string", "api_key")
    await run_in_threadpool(backend.account_for_key, key)
    await run_in_threadpool(backend.seed_demo, key)
    return {"ok": True}


# ---------------------------------------------------------------------- errors
async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.envelope(), status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: wire.CODE_NOT_FOUND, 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = (
        f"no route {request.method} {request.url.path}"
        if exc.status_code in (404, 405)
        else str(exc.detail)
    )
    return JSONResponse(envelope(exc.status_code, code, message), status_code=exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("sandbox bug on %s %s", request.method, request.url.path)
    return JSONResponse(
        envelope(500, "internal_error", f"sandbox internal error: {type(exc).__name__}"), 500
    )


# ---------------------------------------------------------------------- fault injection
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
