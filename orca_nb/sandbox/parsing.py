"""Request parsing shared by the sandbox's routes: backend, root URL, bearer key, JSON body.

Every route reads its body with :func:`json_body` (or :func:`read_body` for non-JSON forms):
one place bounds the size, the nesting depth, the numbers (finite, 64-bit integers) and the
text (valid Unicode: no lone surrogates, no bytes that are not UTF-8) of whatever a client sends,
and answers a 4xx ``ErrorReply`` naming the offending field, before any route sees the value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from orca_nb import wire
from orca_nb.sandbox.backend import Backend
from orca_nb.sandbox.errors import ErrorReply, bad_request

API_PREFIX = "/v1"  # the OrcaRouter API lives below this path
MAX_BODY_BYTES = 16 * wire.MB
MAX_JSON_DEPTH = 64  # arrays/objects nested deeper than this are refused
MAX_JSON_INT = 2**63 - 1  # JSON integers beyond a signed 64-bit integer are refused
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
    """The caller's account (401 ``ErrorReply`` for a missing or malformed key)."""
    return await run_in_threadpool(backend_of(request).account_for_key, bearer(request))


def too_large(limit: int) -> ErrorReply:
    """The 413 for a body over ``limit`` bytes."""
    return ErrorReply(
        413,
        wire.CODE_INVALID_PARAMETER,
        f"the request body is too large (at most {limit:,} bytes)",
    )


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, read in chunks and refused (413) as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and len(declared) < 20 and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON, checked by :func:`check_json` (400 naming the field on any problem)."""
    # surrogateescape: bytes that are not UTF-8 become lone surrogates, which check_json then
    # reports with the field they are in (as it does for "\ud800"-style escapes)
    text = raw.decode("utf-8", "surrogateescape")
    try:
        value = json.loads(text, parse_int=_parse_int)
    except RecursionError:
        raise bad_request(
            f"the request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)", None
        ) from None
    except ValueError as exc:
        raise bad_request(f"the request body is not valid JSON ({_reason(exc)})", None) from None
    check_json(value)
    return value


class _HugeInt(str):
    """A JSON integer literal too long to be a 64-bit integer (kept as text, then refused)."""


def _parse_int(literal: str) -> int | _HugeInt:
    return int(literal) if len(literal) <= 20 else _HugeInt(literal)


def _reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc).split(";", 1)[0]  # e.g. int() digit-limit errors


def check_json(value: Any) -> None:
    """Refuse (400, ``param`` = the field's path) what no field of the API accepts: nesting
    deeper than ``MAX_JSON_DEPTH``, NaN/Infinity (also ``1e400``), integers beyond 64 bits,
    and invalid Unicode in keys or strings."""
    _check(value, "", 0)


def _check(value: Any, path: str, depth: int) -> None:
    if isinstance(value, _HugeInt):
        raise bad_request(
            f"{path or 'the body'} is too large a number (integers fit in 64 bits)", path or None
        )
    if isinstance(value, str):
        check_text(value, path or None)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > MAX_JSON_INT:
            raise bad_request(
                f"{path or 'the body'} is too large a number (integers fit in 64 bits)",
                path or None,
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise bad_request(
                f"{path or 'the body'} must be a finite number (not NaN or Infinity, "
                "nor beyond 1.8e308)",
                path or None,
            )
    elif isinstance(value, list | dict):
        if depth >= MAX_JSON_DEPTH:
            raise bad_request(
                f"the request body is nested too deeply (at most {MAX_JSON_DEPTH} levels)",
                path or None,
            )
        if isinstance(value, list):
            for index, item in enumerate(value):
                _check(item, f"{path}[{index}]", depth + 1)
        else:
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                check_text(key, _printable(where))
                _check(item, where, depth + 1)


def check_text(value: str, param: str | None) -> str:
    """``value`` if it is valid Unicode text, else a 400 naming ``param``."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(
            f"{_printable(param) if param else 'a value'} is not valid Unicode text (a lone "
            "surrogate such as \\ud800, or bytes that are not UTF-8); send UTF-8 text",
            _printable(param) if param else None,
        ) from None
    return value


def _printable(text: str) -> str:
    """``text`` with invalid Unicode replaced, so it can be shown and sent back."""
    return text.encode("utf-8", "replace").decode("utf-8")


async def json_body(request: Request, *, optional: bool = False) -> Any:
    """The parsed, checked JSON body (400 when missing, unless ``optional``, or invalid)."""
    raw = await read_body(request)
    if not raw.strip():
        if optional:
            return None
        raise bad_request("a JSON request body is required", None)
    return parse_json(raw)


def query_dict(request: Request) -> dict[str, str]:
    """Query parameters (the last value of repeated ones), checked as valid Unicode."""
    query = {k: v for k, v in request.query_params.items()}
    for key, value in query.items():
        check_text(key, key)
        check_text(value, key)
    return query


def path_param(request: Request, name: str) -> str:
    """A path parameter as a string, checked as valid Unicode."""
    return check_text(str(request.path_params[name]), name)
