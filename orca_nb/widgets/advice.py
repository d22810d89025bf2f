"""What to do next, for asset and video-task error codes and failed requests.

Error codes use the client's table (``orca_nb.client.errors.advice_for``) and client errors carry
their own ``advice``; only a generic line is added here, for errors from outside the client.
"""

from __future__ import annotations

from orca_nb import wire
from orca_nb.client.errors import advice_for


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


def describe_error(exc: BaseException) -> tuple[str, str]:
    """``(message, advice)`` for a failed request, suitable to show as text."""
    message = str(exc) or type(exc).__name__
    own_advice = getattr(exc, "advice", None)  # every client error carries its own
    if isinstance(own_advice, str) and own_advice:
        return message, own_advice
    return message, "Retry; if it persists, check the message above."
