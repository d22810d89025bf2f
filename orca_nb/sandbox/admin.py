"""Loopback-only controls of a running sandbox: ``/sandbox/admin/...`` (reset, step, clock,
settings, faults, fail-next-tasks, seed, balance, running). Other clients get 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orca_nb import wire
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.errors import ErrorReply, bad_request
from orca_nb.sandbox.faults import MAX_FAULT_SECONDS, Fault
from orca_nb.sandbox.parsing import Handler, backend_of, json_body, query_dict
from orca_nb.sandbox.processing import is_loopback_host


def admin_routes() -> list[Route]:
    """The loopback-only control routes (reset, step, clock, settings, faults, seed, ...)."""
    return [
        Route("/sandbox/admin/reset", _admin(_reset), methods=["POST"]),
        Route("/sandbox/admin/step", _admin(_step), methods=["POST"]),
        Route("/sandbox/admin/clock", _admin(_clock), methods=["POST"]),
        Route("/sandbox/admin/settings", _admin(_settings), methods=["GET", "POST"]),
        Route("/sandbox/admin/faults", _admin(_faults), methods=["GET", "POST", "DELETE"]),
        Route("/sandbox/admin/fail-next-tasks", _admin(_fail_next), methods=["POST"]),
        Route("/sandbox/admin/seed", _admin(_seed), methods=["POST"]),
        Route("/sandbox/admin/balance", _admin(_balance), methods=["POST"]),
        Route("/sandbox/admin/running", _admin(_running), methods=["GET", "DELETE"]),
    ]


def _admin(fn: Callable[[Request, Backend], Awaitable[Any]]) -> Handler:
    async def handler(request: Request) -> Response:
        host = request.client.host if request.client else ""
        if not is_loopback_host(host):
            raise ErrorReply(
                403, wire.CODE_ACCESS_DENIED, "the admin routes only answer on loopback"
            )
        return JSONResponse(await fn(request, backend_of(request)))

    return handler


async def _admin_body(request: Request, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The optional JSON object body of an admin route, with only the ``allowed`` keys (when
    given): a malformed body or an unknown key is a 400 and the route changes nothing."""
    body = await json_body(request, optional=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None)
    unknown = sorted(set(body) - set(allowed)) if allowed is not None else []
    if unknown and allowed is not None:
        known = ", ".join(allowed) if allowed else "none"
        raise bad_request(f"unknown field(s) {', '.join(unknown)} (known: {known})", unknown[0])
    return body


def _count(body: dict[str, Any], key: str = "n") -> int:
    n = body.get(key, 1)
    if type(n) is not int or not 0 <= n <= MAX_COUNT:
        raise bad_request(f"{key} must be an integer from 0 to {MAX_COUNT}", key)
    return n


def _seconds(value: object, key: str, maximum: float) -> float:
    """A number of seconds from 0 to ``maximum`` (finite; booleans are not numbers)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= maximum  # False for NaN
    ):
        raise bad_request(f"{key} must be a number of seconds from 0 to {maximum:g}", key)
    return float(value)


def _text(body: dict[str, Any], key: str, max_chars: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise bad_request(
            f"{key} must be a non-empty string of at most {max_chars} characters", key
        )
    return value


MAX_COUNT = 1000  # step n, fail-next-tasks n
MAX_ADVANCE_SECONDS = 10 * 366 * 86_400.0  # one clock advance: at most ten years


async def _reset(request: Request, backend: Backend) -> Any:
    await _admin_body(request, ())
    await run_in_threadpool(backend.reset)
    return {"ok": True}


async def _step(request: Request, backend: Backend) -> Any:
    n = _count(await _admin_body(request, ("n",)))
    await run_in_threadpool(backend.step, n)
    return {"ok": True, "now": backend.now()}


async def _clock(request: Request, backend: Backend) -> Any:
    from orca_nb.sandbox.clock import ManualClock

    body = await _admin_body(request, ("advance",))
    seconds = _seconds(body.get("advance", 0), "advance", MAX_ADVANCE_SECONDS)
    if not isinstance(backend.clock, ManualClock):
        raise bad_request("this sandbox runs on the wall clock; it cannot be advanced", "advance")
    return {"now": backend.clock.advance(seconds)}


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
    "play_balance_usd",
    "usd_per_million_tokens",
    "list_unroutable_models",
    "max_running_tasks",
    "refuse_over_running_cap",
    "submits_per_minute",
    "render_once",
)


async def _settings(request: Request, backend: Backend) -> Any:
    if request.method == "POST":
        body = await _admin_body(request)
        unknown = sorted(set(body) - set(_SETTABLE))
        if unknown:
            raise bad_request(f"unknown or fixed setting(s): {', '.join(unknown)}", unknown[0])
        current = backend.config
        for name, value in body.items():  # each alone first, so the error names its setting
            try:
                current.updated(**{name: value})
            except (ValueError, TypeError) as exc:
                raise bad_request(str(exc), name) from None
        try:
            backend.configure(**body)  # all or nothing
        except (ValueError, TypeError) as exc:
            raise bad_request(str(exc), None) from None
    return {name: getattr(backend.config, name) for name in _SETTABLE}


async def _faults(request: Request, backend: Backend) -> Any:
    if request.method == "DELETE":
        route = query_dict(request).get("route")
        backend.faults.clear(route)
    elif request.method == "POST":
        body = await _admin_body(request, ("route", "actions", "repeat", "latency"))
        route = body.get("route")
        actions = body.get("actions", [])
        if not isinstance(route, str) or not route.strip():
            raise bad_request('route must be a string like "POST /asset/files" or "*"', "route")
        if not isinstance(actions, list):
            raise bad_request('actions must be a list like ["429", "ok"]', "actions")
        parsed = []
        for index, action in enumerate(actions):
            if isinstance(action, bool) or not isinstance(action, str | int):
                raise bad_request(
                    'each action is a string like "503" or "latency:0.5", or a status',
                    f"actions[{index}]",
                )
            try:
                parsed.append(Fault.parse(action))
            except ValueError as exc:
                raise bad_request(str(exc), f"actions[{index}]") from None
        latency = _seconds(body.get("latency", 0.0), "latency", MAX_FAULT_SECONDS)
        repeat = body.get("repeat", False)
        if not isinstance(repeat, bool):
            raise bad_request("repeat must be true or false", "repeat")
        try:
            backend.faults.add(route, *parsed, repeat=repeat, latency=latency)
        except ValueError as exc:
            raise bad_request(str(exc), "route") from None
    return {"faults": backend.faults.describe()}


async def _fail_next(request: Request, backend: Backend) -> Any:
    body = await _admin_body(request, ("n", "code", "message"))
    n = _count(body)
    given = {
        k: v for k in ("code", "message") if (v := _text(body, k, 2000 if k == "message" else 200))
    }
    backend.fail_next_tasks(n, **given)  # its defaults: InternalServiceError, a stock message
    return {"ok": True}


async def _seed(request: Request, backend: Backend) -> Any:
    key = (await _admin_body(request, ("api_key",))).get("api_key", wire.DEFAULT_SANDBOX_KEY)
    if not isinstance(key, str):
        raise bad_request("api_key must be a string", "api_key")
    await run_in_threadpool(backend.account_for_key, key)
    await run_in_threadpool(backend.seed_demo, key)
    return {"ok": True}


async def _balance(request: Request, backend: Backend) -> Any:
    """Set one account's play balance: ``{"api_key": "sk-orca-...", "usd": 5}`` (``"usd": null``
    returns it to the ``play_balance_usd`` setting); answers what the billing routes show."""
    body = await _admin_body(request, ("api_key", "usd"))
    key = body.get("api_key", wire.DEFAULT_SANDBOX_KEY)
    if not isinstance(key, str):
        raise bad_request("api_key must be a string", "api_key")
    if "usd" not in body:
        raise bad_request('send {"api_key": "sk-orca-...", "usd": 5} (null: the default)', "usd")
    account = await run_in_threadpool(backend.account_for_key, key)
    try:
        await run_in_threadpool(backend.set_balance, account, body["usd"])
    except ValueError as exc:
        raise bad_request(str(exc), "usd") from None
    subscription = await run_in_threadpool(backend.billing_subscription, account)
    usage = await run_in_threadpool(backend.billing_usage, account)
    return {"subscription": subscription, "usage": usage}


async def _running(request: Request, backend: Backend) -> Any:
    """``GET``: tasks running and queued now and the most that ran at once, per account
    (``?api_key=sk-orca-...``: that key's account only); ``DELETE``: count the most from now."""
    from orca_nb.sandbox.accounts import account_id

    if request.method == "DELETE":
        return {"since": backend.reset_running_stats()}
    key = query_dict(request).get("api_key")
    account = None if key is None else account_id(key)
    stats = await run_in_threadpool(backend.running_stats, account)
    if account is not None:
        return stats[account]
    return {"accounts": stats}
