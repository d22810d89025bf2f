"""The OpenAI-style error envelope the sandbox answers with, raised as :class:`ErrorReply`."""

from __future__ import annotations

import math
from typing import Any

from orca_nb import wire

# GUESS: ``error.type`` per HTTP status (the reference shows invalid_request_error and
# rate_limit_error / orcarouter_api_error; the rest follow OpenAI's vocabulary).
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


class ErrorReply(Exception):
    """A failure the sandbox reports to the caller as ``{"error": {...}}`` with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        newapi: bool = False,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = dict(headers or {})
        self.newapi = newapi
        self.body = body

    def envelope(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"message", "type", "code", "param"}}``, or new-api's own
        ``{"code", "message", "data": null}`` when raised with ``newapi=True`` (NEWAPI 12.3), or
        the exact ``body`` it was raised with."""
        if self.body is not None:
            return self.body
        if self.newapi:
            return {"code": self.code, "message": self.message, "data": None}
        return envelope(self.status, self.code, self.message, self.param)


def error_type(status: int) -> str:
    """The ``error.type`` served with an HTTP status."""
    if status >= 500:
        return "orcarouter_api_error"
    return _TYPES.get(status, "invalid_request_error")


def envelope(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    """The OpenAI-style error body for one failure."""
    return {"error": {"message": message, "type": error_type(status), "code": code, "param": param}}


def rate_limited(seconds: float) -> ErrorReply:
    """A 429 with an integer ``Retry-After`` (at least 1) and the documented body (DOC 1.2)."""
    wait = max(1, math.ceil(round(seconds, 6)))
    message = f"Rate limit exceeded. Try again in {wait} seconds."
    body = {
        "error": {"message": message, "type": "rate_limit_error", "code": wire.CODE_RATE_LIMITED}
    }
    return ErrorReply(
        429, wire.CODE_RATE_LIMITED, message, headers={"Retry-After": str(wait)}, body=body
    )


def bad_request(message: str, param: str | None) -> ErrorReply:
    """A 400 ``InvalidParameter`` naming the offending field."""
    return ErrorReply(400, wire.CODE_INVALID_PARAMETER, message, param)


def not_found(kind: str, ident: str, param: str | None) -> ErrorReply:
    """A 404 that says the same for unknown and for other accounts' ids (no existence leak)."""
    return ErrorReply(404, wire.CODE_NOT_FOUND, f"{kind} {ident!r} was not found", param)
