"""What to do next, for asset and video-task error codes and failed requests, worded for the
widgets.

The client's table (``orca_nb.client.errors.ADVICE``) speaks to Python users (``client.assets.
delete``, ``orca_nb.media.preflight``, ``execution_expires_after``); a studio page has buttons
instead. Where the client's advice names a call or setting, :data:`UI_ADVICE` (per error code) and
:data:`UI_ERROR_ADVICE` (per error class) say the same thing in the page's words; every other
code keeps the client's text, so there is still one table of facts. An error is said once: the
advice a client error appends to its message is cut from the message shown above the advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from orca_nb import wire
from orca_nb.client import errors as client_errors
from orca_nb.client.errors import ADVICE, advice_for

_CHECK = "press Check in the upload form to see which requirement it breaks"

#: Error code -> advice in the widgets' words (only where the client's wording is for Python).
UI_ADVICE: Final[Mapping[str, str]] = {
    wire.CODE_INVALID_PARAMETER: f"The server rejected the file: {_CHECK}.",
    wire.TASK_ERROR_EXPIRED: (
        "The task waited in the queue past its expiry and was dropped: submit it again."
    ),
}
_UI_GENERIC: Final[Mapping[str, str]] = {
    "asset": f"The file does not meet the requirements: {_CHECK}, then upload a corrected copy.",
}

#: Client error class -> advice in the widgets' words (first match in this order wins).
UI_ERROR_ADVICE: Final[tuple[tuple[type[BaseException], str], ...]] = (
    (
        client_errors.AssetQuotaExceededError,
        f"The asset upload cap (default {wire.DEFAULT_ASSET_CAP}) is reached: delete assets you "
        "no longer need (the bin icon on an asset card in the Assets tab) or ask OrcaRouter for "
        "a higher cap.",
    ),
    (
        client_errors.AuthenticationError,
        f"Check the API key: set {wire.API_KEY_ENV} where the notebook server starts (then "
        "restart the kernel); create a new key in the OrcaRouter dashboard if it expired or was "
        "revoked.",
    ),
    (
        client_errors.OutcomeUnknownError,
        "Press refresh and look for it before trying again: trying at once may make a duplicate.",
    ),
)
_UI_LOWER: Final = {code.lower(): text for code, text in UI_ADVICE.items()}
_CLIENT_LOWER: Final = {code.lower() for code in ADVICE}


def ui_advice_for(code: str | None, *, subject: Literal["asset", "task"] = "asset") -> str:
    """Advice for an error code in the widgets' words: :data:`UI_ADVICE` where the client's
    text is for Python users, else the client's table (same lookup: code, then its family)."""
    if code:
        for candidate in (code, code.split(".")[0]):
            key = candidate.lower()
            if key in _UI_LOWER:
                return _UI_LOWER[key]
            if key in _CLIENT_LOWER:
                return advice_for(code, subject=subject)
    return _UI_GENERIC.get(subject) or advice_for(None, subject=subject)


def asset_advice(code: str) -> str:
    """Advice for an asset ``Error.Code`` (empty for no code)."""
    return ui_advice_for(code) if code else ""


def task_advice(code: str, status: str) -> str:
    """Advice for a video task that ended ``failed`` or ``expired`` (empty for any other status);
    an expired task without a code gets the expiry advice."""
    if status == "expired" and not code:
        code = wire.TASK_ERROR_EXPIRED
    elif status not in ("failed", "expired"):
        return ""
    return ui_advice_for(code or None, subject="task")


def _without(message: str, said: str) -> str:
    """``message`` with ``said`` (advice or a how-to already shown as advice) cut out once."""
    if said and said in message:
        message = message.replace(said, "", 1).strip()
    return message


#: What the studio says of a video submission whose outcome is unknown (task line, history).
UNKNOWN_OUTCOME_TEXT: Final = "Outcome unknown: the service may have created this video"


def unknown_video_advice(submission_id: str | None = None) -> str:
    """What to do when a video submission's outcome is unknown, in the page's words (its
    buttons; the client's own advice, for notebook users, names the Python calls). Without a
    ledger row (``None``: the client keeps no ledger) the outcome cannot be recorded."""
    if submission_id is None:
        return (
            "The request reached the service but its reply was lost, and this studio keeps no "
            "usage ledger, so the outcome cannot be recorded here: check the service console (the "
            "OrcaRouter dashboard's usage or billing pages) for a video task created at that "
            "time before you submit again (sending it again may bill a second video)."
        )
    return (
        "The request reached the service but its reply was lost, so the video may exist: do "
        "not submit it again yet (that may bill a second one). Look in the service console "
        "(the OrcaRouter dashboard's usage or billing pages) for a video task created at that "
        "time. Found it: paste its task id below and press Attach task id. "
        "Not there: press It was not created."
    )


#: What the experiment progress widget says of a variant whose send got no usable reply.
UNKNOWN_VARIANT_ADVICE: Final = (
    "The video may exist: the experiment will not send this variant again on its own (a second "
    "send may bill a second video). Look in the service console (the OrcaRouter dashboard's "
    "usage or billing pages) for a video task created at that time; the usage ledger keeps the "
    "row (orca_nb.ledger.settle records what you find)."
)


def variant_advice(status: str, code: str | None) -> str:
    """Advice for an experiment variant that ended ``failed``, ``refused`` or ``unknown``."""
    if status == "unknown":
        return UNKNOWN_VARIANT_ADVICE
    if status == "failed":
        return task_advice(code or "", "failed")
    return ui_advice_for(code, subject="task")


def describe_error(exc: BaseException) -> tuple[str, str]:
    """``(message, advice)`` for a failed request, to show as text on a widget page: the advice
    in the page's words, and said once (not also inside the message)."""
    message = str(exc) or type(exc).__name__
    own = getattr(exc, "advice", None)  # every client error carries its own
    message = _without(message, own if isinstance(own, str) else "")
    how = getattr(exc, "how_to_check", None)
    message = _without(message, how if isinstance(how, str) else "")
    message = message or type(exc).__name__
    submission = getattr(exc, "submission_id", None)
    if isinstance(exc, client_errors.OutcomeUnknownError) and isinstance(submission, str):
        return message, unknown_video_advice(submission)
    for cls, text in UI_ERROR_ADVICE:
        if isinstance(exc, cls):
            return message, text
    code = getattr(exc, "code", None)
    if isinstance(exc, client_errors.AssetFailedError) and isinstance(code, str):
        return message, asset_advice(code)
    if isinstance(own, str) and own:
        return message, own
    return message, "Retry; if it persists, check the message above."
