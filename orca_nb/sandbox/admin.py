"""Loopback-only controls of a running sandbox: ``/sandbox/admin/...`` (reset, step, clock,
settings, faults, fail-next-tasks, seed). Other clients get 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orca_nb import wire
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.errors import ApiError, bad_request
from orca_nb.sandbox.parsing import Handler, backend_of, json_body
from orca_nb.sandbox.processing import is_loopback_host


def admin_routes() -> list[Route]:
    """The loopback-only control routes (reset, step, clock, settings, faults, seed)."""
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
        return JSONResponse(await fn(request, backend_of(request)))

    return handler


async def _admin_body(request: Request) -> dict[str, Any]:
    body = await json_body(request, optional=True)
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
    given = {k: str(body[k]) for k in ("code", "message") if k in body}
    backend.fail_next_tasks(n, **given)  # its defaults: InternalServiceError, a stock message
    return {"ok": True}


async def _seed(request: Request, backend: Backend) -> Any:
    key = (await _admin_body(request)).get("api_key", wire.DEFAULT_SANDBOX_KEY)
    if not isinstance(key, str):
        raise bad_request("api_key must be a string", "api_key")
    await run_in_threadpool(backend.account_for_key, key)
    await run_in_threadpool(backend.seed_demo, key)
    return {"ok": True}
