"""HTTP for the sandbox: a Starlette app that parses requests and hands them to the backend.

Routes: the OrcaRouter API under ``/v1`` (paths from ``orca_nb.wire``: the asset library, video
tasks and their OpenAI-style aliases ``/videos``, ``/models``, the billing dashboard), public
samples under ``/sandbox/samples/``, signed downloads under ``/sandbox/files/``, the H5
verification pages under ``/sandbox/h5/``, and the loopback-only controls under
``/sandbox/admin/``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from orca_nb import wire
from orca_nb.sandbox.admin import admin_routes
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.errors import ErrorReply, envelope
from orca_nb.sandbox.middleware import FaultMiddleware
from orca_nb.sandbox.pages import page_routes
from orca_nb.sandbox.parsing import (
    API_PREFIX,
    Handler,
    account_of,
    backend_of,
    bearer,
    json_body,
    path_param,
    query_dict,
    root_url,
)

log = logging.getLogger(__name__)

TASK_SHAPE_HEADER = "x-orca-sandbox-task-shape"  # per-request shape: config.TASK_SHAPES


def create_app(backend: Backend) -> ASGIApp:
    """The sandbox ASGI application serving ``backend`` (with fault injection on ``/v1``)."""
    routes = [*_api_routes(), *page_routes(), *admin_routes()]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ErrorReply: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected,
        },
    )
    app.state.backend = backend
    return FaultMiddleware(app, backend)


def _api_routes() -> list[Route]:
    def api(path: str) -> str:
        return API_PREFIX + path

    return [
        Route(api(wire.GROUPS_PATH), _bodiless(_list_groups), methods=["GET"]),
        Route(api(wire.GROUPS_PATH), _json(_create_group), methods=["POST"]),
        Route(api(wire.GROUP_PATH), _bodiless(_get_group), methods=["GET"]),
        Route(api(wire.GROUP_PATH), _json(_update_group), methods=["PATCH", "PUT"]),
        Route(api(wire.GROUP_PATH), _bodiless(_delete_group), methods=["DELETE"]),
        Route(api(wire.ASSETS_PATH), _bodiless(_list_assets), methods=["GET"]),
        Route(api(wire.ASSETS_PATH), _json(_upload_asset), methods=["POST"]),
        Route(api(wire.ASSET_PATH), _bodiless(_get_asset), methods=["GET"]),
        Route(api(wire.ASSET_PATH), _bodiless(_delete_asset), methods=["DELETE"]),
        Route(api(wire.SESSIONS_PATH), _json(_start_session), methods=["POST"]),
        Route(api(wire.SESSION_PATH), _bodiless(_get_session), methods=["GET"]),
        Route(api(wire.VIDEOS_PATH), _json(_create_task), methods=["POST"]),
        Route(api(wire.VIDEO_PATH), _get_task, methods=["GET"]),
        Route(api(wire.OPENAI_VIDEOS_PATH), _json(_create_task), methods=["POST"]),
        Route(api(wire.OPENAI_VIDEO_PATH), _get_openai_task, methods=["GET"]),
        Route(api(wire.MODELS_PATH), _bodiless(_list_models), methods=["GET"]),
        Route(api(wire.BILLING_SUBSCRIPTION_PATH), _bodiless(_subscription), methods=["GET"]),
        Route(api(wire.BILLING_USAGE_PATH), _bodiless(_usage), methods=["GET"]),
    ]


def _json(fn: Callable[[Request, Backend, str], Awaitable[Any]]) -> Handler:
    async def handler(request: Request) -> Response:
        account = await account_of(request)
        return JSONResponse(await fn(request, backend_of(request), account))

    return handler


#: A backend method and the arguments it takes after the caller's account.
Call = tuple[Callable[..., Any], tuple[Any, ...]]


def _bodiless(fn: Callable[[Request, Backend], Call]) -> Handler:
    """A route without a request body: the key check and the backend call share one worker
    thread (one hop per request instead of two; a bad key is still refused first)."""

    async def handler(request: Request) -> Response:
        backend = backend_of(request)
        method, args = fn(request, backend)
        key = bearer(request)

        def work() -> Any:
            return method(backend.account_for_key(key), *args)

        return JSONResponse(await run_in_threadpool(work))

    return handler


# ---------------------------------------------------------------------- API handlers
def _list_groups(request: Request, backend: Backend) -> Call:
    return backend.list_groups, (query_dict(request),)


async def _create_group(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.create_group, account, await json_body(request))


def _get_group(request: Request, backend: Backend) -> Call:
    return backend.get_group, (path_param(request, "group_id"),)


async def _update_group(request: Request, backend: Backend, account: str) -> Any:
    body = await json_body(request)
    return await run_in_threadpool(
        backend.update_group, account, path_param(request, "group_id"), body
    )


def _delete_group(request: Request, backend: Backend) -> Call:
    return backend.delete_group, (path_param(request, "group_id"),)


def _list_assets(request: Request, backend: Backend) -> Call:
    return backend.list_assets, (query_dict(request), root_url(request))


async def _upload_asset(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.upload_asset, account, await json_body(request))


def _get_asset(request: Request, backend: Backend) -> Call:
    return backend.get_asset, (path_param(request, "asset_id"), root_url(request))


def _delete_asset(request: Request, backend: Backend) -> Call:
    return backend.delete_asset, (path_param(request, "asset_id"),)


async def _start_session(request: Request, backend: Backend, account: str) -> Any:
    body = await json_body(request, optional=True)
    return await run_in_threadpool(backend.start_session, account, body, root_url(request))


def _get_session(request: Request, backend: Backend) -> Call:
    return backend.get_session, (path_param(request, "session_id"), root_url(request))


async def _create_task(request: Request, backend: Backend, account: str) -> Any:
    return await run_in_threadpool(backend.create_task, account, await json_body(request))


async def _get_task(request: Request) -> Response:
    backend = backend_of(request)
    key, task_id = bearer(request), path_param(request, "task_id")
    root, shape = root_url(request), request.headers.get(TASK_SHAPE_HEADER)

    def work() -> tuple[int, Any]:  # one worker-thread hop, the key checked first
        return backend.get_task(backend.account_for_key(key), task_id, root, shape)

    status, body = await run_in_threadpool(work)
    return JSONResponse(body, status_code=status)


async def _get_openai_task(request: Request) -> Response:
    """``GET /videos/{task_id}``: always the OpenAI video object (DOC-other 12.2), whatever
    the ``task_shape`` setting; unknown ids get the 404 envelope (GUESS)."""
    backend = backend_of(request)
    key, task_id, root = bearer(request), path_param(request, "task_id"), root_url(request)

    def work() -> tuple[int, Any]:
        return backend.get_task(backend.account_for_key(key), task_id, root, "openai")

    status, body = await run_in_threadpool(work)
    return JSONResponse(body, status_code=status)


def _list_models(request: Request, backend: Backend) -> Call:
    return backend.list_models, ()


def _subscription(request: Request, backend: Backend) -> Call:
    return backend.billing_subscription, ()


def _usage(request: Request, backend: Backend) -> Call:
    return backend.billing_usage, ()


# ---------------------------------------------------------------------- errors
async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ErrorReply)
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


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The caller hung up before its request was read: nothing was done, no one to answer
    (499, nginx's "client closed request"; not logged as a sandbox bug)."""
    return Response(status_code=499)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("sandbox bug on %s %s", request.method, request.url.path)
    return JSONResponse(
        envelope(500, "internal_error", f"sandbox internal error: {type(exc).__name__}"), 500
    )
