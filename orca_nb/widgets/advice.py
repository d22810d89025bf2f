"""What to do next, for asset and video-task error codes and failed requests.

Error codes use the client's table (``orca_nb.client.errors.advice_for``); client errors carry
their own ``advice``; only errors from outside the client fall back to the status lines here.
"""

from __future__ import annotations

from orca_nb import wire
from orca_nb.client.errors import advice_for

_STATUS_ADVICE: dict[int, str] = {
    400: "The request was refused as invalid; correct the field named in the message.",
    401: "The API key was refused. Set ORCAROUTER_API_KEY to a valid key (or omit it for the "
    "sandbox).",
    402: "The account balance is exhausted. Top up, then retry.",
    403: "Not allowed: the asset cap may be reached (delete assets to free room) or the key "
    "lacks permission.",
    404: "Not found: it may have been deleted. Refresh the panel.",
    429: "Rate limited: the panels slow down and retry by themselves.",
    500: "The server failed; retrying shortly.",
    502: "The upstream service failed; retrying shortly.",
    503: "The service is temporarily unavailable; retrying shortly.",
}


def asset_advice(code: str) -> str:
    """Advice for an asset ``Error.Code`` (the client's table; empty for no code)."""
    return advice_for(code) if code else ""


def task_advice(code: str, status: str) -> str:
    """Advice for a video task that ended ``failed`` or ``expired`` (empty for any other status);
    an expired task without a code gets the expiry advice."""
    if status == "expired" and not code:
        code = wire.TASK_ERROR_EXPIRED
    elif status not in ("failed", "expired"):
        return ""
    return advice_for(code or None, subject="task")


def error_status(exc: BaseException) -> int | None:
    """The HTTP status an error carries, if any (client errors and httpx errors)."""
    for name in ("status_code", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def describe_error(exc: BaseException) -> tuple[str, str]:
    """``(message, advice)`` for a failed request, suitable to show as text."""
    message = str(exc) or type(exc).__name__
    own_advice = getattr(exc, "advice", None)
    if isinstance(own_advice, str) and own_advice:
        return message, own_advice
    status = error_status(exc)
    if status is not None and status in _STATUS_ADVICE:
        return message, _STATUS_ADVICE[status]
    if status is None:
        return message, "The server could not be reached; retrying with a growing delay."
    return message, "Retry; if it persists, check the message above."
