"""Every error the client raises, and the one place that maps an HTTP reply to an error class.

::

    OrcaError                        base of everything below
    ├── ValidationError              bad input caught locally, before any request (names the param)
    ├── AssetFailedError             an awaited asset ended ``Failed`` (``.code``, ``.advice``)
    ├── WaitTimeoutError             a ``wait``/``wait_many`` ran out of time (``.last``)
    └── APIError                     something went wrong talking to the server
        ├── APIConnectionError       no usable reply (refused, dropped, DNS, ...)
        │   └── APITimeoutError      the connect/read timed out
        ├── OutcomeUnknownError      a create may or may not have happened; says how to check
        └── APIStatusError           the server replied with an error status
            ├── BadRequestError          400 / 422 (``.param`` when the server names it)
            ├── AuthenticationError      401
            ├── PaymentRequiredError     402
            │   └── InsufficientBalanceError  403 ``insufficient_user_quota``: balance used up
            ├── PermissionDeniedError    403 (not the upload cap)
            ├── AssetQuotaExceededError  403 upload cap reached (*not* a permission error)
            ├── NotFoundError            404 (also new-api's 400 ``task_not_exist``)
            ├── ConflictError            409
            ├── RateLimitError           429 (``.retry_after`` seconds)
            └── ServerError              5xx

Every :class:`APIError` carries ``request`` (an ``httpx.Request`` whose Authorization header is
redacted), ``response`` (or ``None``), ``status``, ``body`` (the parsed JSON, or the text),
``code`` and the server ``message``. ``str(error)`` says what happened and what to do next.
The API key never appears in any of them: server text is scrubbed and headers are redacted.

Three body shapes are understood: the OpenAI envelope ``{"error": {message, type, code, param}}``,
Ark's ``{"ResponseMetadata": {"Error": {Code, Message}}}`` and new-api's ``{code, message, data}``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from orca_nb import wire
from orca_nb.client._redact import redact_request, redact_response, redact_text, redact_value

__all__ = [
    "ADVICE",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AssetFailedError",
    "AssetQuotaExceededError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InsufficientBalanceError",
    "NotFoundError",
    "OrcaError",
    "OutcomeUnknownError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
    "WaitTimeoutError",
    "advice_for",
    "error_from_response",
]


class OrcaError(Exception):
    """Base class of every orca_nb client error."""


class ValidationError(OrcaError, ValueError):
    """Bad input caught before any request was sent. ``param`` names the offending argument."""

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(redact_text(f"{param}: {message}"))


class AssetFailedError(OrcaError):
    """An asset finished preprocessing with ``Status: Failed``.

    ``code``/``server_message`` come from the asset's ``Error``; ``advice`` says what to do.
    """

    def __init__(self, asset: Any) -> None:
        self.asset = asset
        err = getattr(asset, "error", None)
        self.code: str | None = getattr(err, "code", None)
        self.server_message: str = redact_text(getattr(err, "message", None) or "")
        self.advice = advice_for(self.code)
        detail = f" ({self.server_message})" if self.server_message else ""
        super().__init__(
            f"asset {getattr(asset, 'id', '?')} failed: {self.code or 'unknown error'}{detail}. "
            f"{self.advice}"
        )


class WaitTimeoutError(OrcaError, TimeoutError):
    """Polling gave up before the object reached a final state. ``last`` is the last state seen."""

    def __init__(self, message: str, *, last: Any = None, pending: tuple[str, ...] = ()) -> None:
        self.last = last
        self.pending = pending
        super().__init__(redact_text(message))


class APIError(OrcaError):
    """A failure while talking to the server."""

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        body: Any = None,
        code: str | None = None,
        server_message: str | None = None,
    ) -> None:
        if request is None and response is not None:
            with contextlib.suppress(RuntimeError):  # a response built without a request
                request = response.request
        self.request = redact_request(request) if request is not None else None
        # Copies: the originals hold the key (request headers, maybe an echo in the body).
        self.response = redact_response(response, self.request) if response is not None else None
        self.status: int | None = response.status_code if response is not None else None
        self.body = redact_value(body)
        self.code = code
        self.server_message = redact_text(server_message) if server_message else None
        super().__init__(redact_text(message))


class APIConnectionError(APIError):
    """The server could not be reached or gave no usable reply. Reads were retried already."""

    advice = "Check the network and the base URL, then retry; the service may be briefly down."


class APITimeoutError(APIConnectionError):
    """The request timed out (connect or read)."""


class OutcomeUnknownError(APIError):
    """A create request may have reached the server but no reply came back.

    It was *not* retried blindly (that could create a duplicate), and it is not a refusal: the
    object may exist. ``how_to_check`` (also ``advice``) says how to find out and, for a video,
    how to settle the ledger row ``submission_id``; ``candidates`` lists ids that might be the
    created object.
    """

    def __init__(
        self,
        message: str,
        *,
        how_to_check: str,
        candidates: tuple[str, ...] = (),
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        submission_id: str | None = None,
    ) -> None:
        self.how_to_check = how_to_check
        self.advice = how_to_check
        self.candidates = candidates
        self.submission_id = submission_id
        super().__init__(
            f"{message} The request may have succeeded. {how_to_check}",
            request=request,
            response=response,
        )


class APIStatusError(APIError):
    """The server answered with an error status."""

    advice = "Check the request against the API reference."


class BadRequestError(APIStatusError):
    """400/422: the server rejected a parameter (``param`` when it says which)."""

    advice = "Fix the named parameter and send again."

    def __init__(self, message: str, *, param: str | None = None, **kw: Any) -> None:
        self.param = param
        super().__init__(message, **kw)


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong, expired or revoked."""

    advice = (
        f"Check the key (set {wire.API_KEY_ENV} or pass api_key=); create a new one in the "
        "OrcaRouter dashboard if it expired or was revoked."
    )


class PaymentRequiredError(APIStatusError):
    """402: the account balance or the key's credit limit is used up."""

    advice = "Top up the account or raise the key's credit limit in the dashboard, then retry."


class InsufficientBalanceError(PaymentRequiredError):
    """The account's balance (credit) is used up, said as new-api does: HTTP 403 with code
    ``insufficient_user_quota`` (reference 12.3). Not the asset upload cap, not a permission."""

    advice = (
        "The account balance is used up: top up in the OrcaRouter dashboard (or raise the key's "
        "credit limit), then submit again; client.billing.balance() shows what is left."
    )


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model, group or asset."""

    advice = (
        "Use a group/asset this key owns, or ask for access (the asset library needs "
        "'Advanced Creation Rights'; the real-human library is invite-only)."
    )


class AssetQuotaExceededError(APIStatusError):
    """403 on upload: the account's asset upload cap is reached."""

    advice = (
        f"The asset upload cap (default {wire.DEFAULT_ASSET_CAP}) is reached: delete assets you "
        "no longer need (client.assets.delete) or ask OrcaRouter for a higher cap."
    )


class NotFoundError(APIStatusError):
    """404: no such group, asset, session or task (or it belongs to another account)."""

    advice = "Check the id (list the resources to find it); it may have been deleted."


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state."""

    advice = "Fetch the object's current state and try again."


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's wait hint in seconds."""

    advice = "Wait and retry, or lower the request rate (limits are shared by the workspace)."

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(APIStatusError):
    """5xx: OrcaRouter or its upstream failed."""

    advice = "A temporary server problem: retry later; if it persists, report it with the time."


# --------------------------------------------------------------------------- error-code advice
# What to do about each asset ``Error.Code`` and video task ``error.code``: the one table of advice
# text, its limits read from ``wire.REQUIREMENTS``.
_IMAGE, _VIDEO, _AUDIO = (wire.REQUIREMENTS[k] for k in ("Image", "Video", "Audio"))


def _mb(n: int) -> str:
    return f"{round(n / wire.MB)} MB"


_MODERATION_ADVICE = (
    "The content check refused the prompt or a reference (or the generated video): reword the "
    "prompt and replace the flagged image, video or audio, then submit again."
)

ADVICE: Mapping[str, str] = {
    # asset ``Error.Code`` (Status: Failed)
    wire.ASSET_ERROR_FACE_MISMATCH: (
        "The face does not match this real-human group's verified person: upload a photo or "
        "video of the verified person, or use a virtual (AIGC) group for anyone else."
    ),
    wire.ASSET_ERROR_MULTIPLE_FACES: (
        "More than one face was found: crop the image to the verified person alone."
    ),
    wire.ASSET_ERROR_NO_FACE: (
        "No face was found: upload a frontal, well-lit photo where the face is clearly visible."
    ),
    wire.ASSET_ERROR_DOWNLOAD_FAILED: (
        "The server could not download the URL: make the URL public (no login, no expired "
        "signature, reachable from the internet) and upload again."
    ),
    wire.ASSET_ERROR_FORMAT: (
        f"Unsupported format: images must be {'/'.join(_IMAGE.formats)}, videos "
        f"{'/'.join(_VIDEO.formats)}, audio {'/'.join(_AUDIO.formats)}. Convert the file and "
        "upload again."
    ),
    wire.ASSET_ERROR_ASPECT_RATIO: (
        f"Width/height ratio outside {_IMAGE.min_ratio}-{_IMAGE.max_ratio}: crop or pad the "
        "media to a less extreme shape."
    ),
    wire.ASSET_ERROR_DIMENSIONS: (
        f"Each side must be {_IMAGE.min_side}-{_IMAGE.max_side} px: resize the media."
    ),
    wire.ASSET_ERROR_PIXELS: (
        f"Video frame area outside {_VIDEO.min_pixels:,}-{_VIDEO.max_pixels:,} px (W x H): "
        f"re-encode at {', '.join(wire.RESOLUTIONS)}."
    ),
    wire.ASSET_ERROR_DURATION: (
        f"Duration must be {_VIDEO.min_seconds:g}-{_VIDEO.max_seconds:g} s: trim or extend the "
        "clip."
    ),
    wire.ASSET_ERROR_FPS: (
        f"Video frame rate must be {_VIDEO.min_fps:g}-{_VIDEO.max_fps:g} fps: re-encode the video."
    ),
    wire.ASSET_ERROR_SIZE: (
        f"File too large (images < {_mb(_IMAGE.max_bytes + 1)}, videos <= "
        f"{_mb(_VIDEO.max_bytes)}, audio <= {_mb(_AUDIO.max_bytes)}): compress it."
    ),
    wire.ASSET_ERROR_CORRUPT: "The file could not be decoded: re-export it and upload again.",
    wire.CODE_INVALID_PARAMETER: (
        "The server rejected the file: run orca_nb.media.preflight on it to see which "
        "requirement it breaks."
    ),
    # video task ``error.code`` (status: failed)
    wire.TASK_ERROR_INTERNAL: (
        "The video service failed while rendering (not your request's fault): submit the same "
        "request again; if it keeps failing, try later."
    ),
    **dict.fromkeys(wire.TASK_ERROR_SENSITIVE_CONTENT, _MODERATION_ADVICE),
    wire.TASK_ERROR_TIMEOUT: (
        "Rendering took too long: submit again, or ask for a shorter duration or lower resolution."
    ),
    wire.TASK_ERROR_EXPIRED: (
        "The task waited in the queue past its expiry and was dropped: submit it again (a "
        "larger execution_expires_after gives it longer)."
    ),
}
"""What to do next, per asset ``Error.Code`` and video task ``error.code`` (one table)."""

_GENERIC_ADVICE = {
    "asset": (
        "Check the file against the requirements (orca_nb.media.preflight) and upload a "
        "corrected copy."
    ),
    "task": "The video task failed: check the message, then submit again.",
}
_BY_LOWER = {known.lower(): text for known, text in ADVICE.items()}


def advice_for(code: str | None, *, subject: Literal["asset", "task"] = "asset") -> str:
    """Advice for an asset or video-task error code (any letter case), else for its family (the
    part before the first dot), else a generic hint for that ``subject``."""
    if code:
        for candidate in (code, code.split(".")[0]):
            if candidate.lower() in _BY_LOWER:
                return _BY_LOWER[candidate.lower()]
    return _GENERIC_ADVICE[subject]


# --------------------------------------------------------------------------- reply -> error
def parse_error_body(body: Any) -> tuple[str | None, str | None, str | None]:
    """``(code, message, param)`` from any of the three error body shapes (``None`` if absent)."""
    if not isinstance(body, Mapping):
        return None, (body.strip() or None) if isinstance(body, str) else None, None
    err = body.get("error")
    if isinstance(err, Mapping):
        return _s(err.get("code")), _s(err.get("message")), _s(err.get("param"))
    if isinstance(err, str):
        return _s(body.get("code")), err, None
    meta = body.get("ResponseMetadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("Error"), Mapping):
        e = meta["Error"]
        return _s(e.get("Code")), _s(e.get("Message")), None
    if "code" in body or "message" in body:
        return _s(body.get("code")), _s(body.get("message")), None
    if isinstance(body.get("Error"), Mapping):
        e = body["Error"]
        return _s(e.get("Code")), _s(e.get("Message")), None
    return None, None, None


def _s(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


_CAP_HINTS = ("quota", "cap", "limit", "exceed")


def _is_upload_cap(code: str | None, message: str | None) -> bool:
    if code == wire.CODE_ASSET_CAP_EXCEEDED:
        return True
    text = f"{code or ''} {message or ''}".lower()
    return "asset" in text and any(h in text for h in _CAP_HINTS)


def _status_class(status: int, code: str | None, message: str | None) -> type[APIStatusError]:
    if status == 400 and code == wire.CODE_TASK_NOT_EXIST:
        return NotFoundError
    if status in (400, 422):
        return BadRequestError
    if status == 403 and code in wire.BALANCE_CODES:
        return InsufficientBalanceError
    if status == 403 and _is_upload_cap(code, message):
        return AssetQuotaExceededError
    by_status: dict[int, type[APIStatusError]] = {
        401: AuthenticationError,
        402: PaymentRequiredError,
        403: PermissionDeniedError,
        404: NotFoundError,
        409: ConflictError,
        429: RateLimitError,
    }
    if status in by_status:
        return by_status[status]
    return ServerError if status >= 500 else APIStatusError


def read_body(response: httpx.Response) -> Any:
    """The response body parsed as JSON, else its text (``None`` when empty or unread)."""
    try:
        raw = response.content
    except httpx.ResponseNotRead:
        return None
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return response.text


def error_from_response(
    response: httpx.Response, *, retry_after: float | None = None
) -> APIStatusError:
    """Build the error for a non-2xx reply: the single status -> class mapping."""
    body = read_body(response)
    code, server_message, param = parse_error_body(body)
    cls = _status_class(response.status_code, code, server_message)
    request = response.request
    what = f"{request.method} {request.url.path} returned HTTP {response.status_code}"
    if code:
        what += f" ({code})"
    if server_message:
        what += f": {server_message}"
    message = f"{what}. {cls.advice}"
    kw: dict[str, Any] = {
        "request": request,
        "response": response,
        "body": body,
        "code": code,
        "server_message": server_message,
    }
    if cls is BadRequestError:
        return BadRequestError(message, param=param, **kw)
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kw)
    return cls(message, **kw)
