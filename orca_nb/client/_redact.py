"""Keep API keys out of every message, repr and log line.

Two nets: every key a client was configured with is registered here and replaced wherever it
appears, and anything shaped like an OrcaRouter key (``sk-orca-...``) is masked too, so a key the
server echoes back (or a key the user pasted into a name) is caught as well. Signed links lose
their signature the same way, and a logging filter applies all of it to httpx's request log
lines and the client's own.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

from orca_nb import wire

REDACTED = "[redacted]"
_KEY_SHAPE = re.compile(re.escape(wire.KEY_PREFIX) + r"[A-Za-z0-9_\-\.]+")
_known_keys: set[str] = set()


def register_key(api_key: str) -> None:
    """Remember a configured key so it is scrubbed from any text, whatever its shape."""
    if len(api_key) >= 4:
        _known_keys.add(api_key)


def redact_text(text: str) -> str:
    """``text`` with every known or key-shaped secret replaced by ``[redacted]``, and the
    signature of any signed link in it too (``wire.strip_secret_params``)."""
    for key in sorted(_known_keys, key=len, reverse=True):
        if key in text:
            text = text.replace(key, REDACTED)
    return wire.strip_secret_params(_KEY_SHAPE.sub(wire.KEY_PREFIX + REDACTED, text))


class RedactingFilter(logging.Filter):
    """Rewrites a log record whose message holds a key or a signed link's signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()
#: Loggers whose records can carry URLs: httpx logs every request URL (a signed download link
#: included) at INFO; the client's own.
_LOGGERS = ("httpx", "orca_nb.client")


def install_log_filter() -> None:
    """Put :class:`RedactingFilter` on the loggers that may see secrets (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def redact_value(value: Any) -> Any:
    """A copy of a parsed JSON value with every string redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact_headers(headers: httpx.Headers) -> httpx.Headers:
    """A copy of ``headers`` whose Authorization value no longer holds the key."""
    out = httpx.Headers(headers)
    if "authorization" in out:
        out["authorization"] = "Bearer " + REDACTED
    return out


def redact_request(request: httpx.Request) -> httpx.Request:
    """A copy of ``request`` safe to keep on an exception (headers and URL scrubbed)."""
    try:
        content: bytes | None = request.content
    except httpx.RequestNotRead:
        content = None
    url = httpx.URL(redact_text(str(request.url)))
    return httpx.Request(
        request.method, url, headers=redact_headers(request.headers), content=content
    )


_BODY_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


def redact_response(response: httpx.Response, request: httpx.Request | None) -> httpx.Response:
    """A copy of ``response`` (body scrubbed, attached to the redacted ``request``)."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = b""
    with contextlib.suppress(UnicodeDecodeError):
        content = redact_text(content.decode("utf-8")).encode("utf-8")
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in _BODY_HEADERS]
    copy = httpx.Response(response.status_code, headers=headers, content=content)
    if request is not None:
        copy.request = request
    return copy
