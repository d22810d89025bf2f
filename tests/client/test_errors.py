"""The error tree and the one status -> class mapping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orca_nb import wire
from orca_nb.client import errors as e


def reply(status: int, body: Any = None, *, text: str | None = None) -> httpx.Response:
    request = httpx.Request("POST", "https://api.orcarouter.ai/v1/asset/files")
    if text is not None:
        return httpx.Response(status, text=text, request=request)
    return httpx.Response(status, json=body, request=request)


def envelope(code: str | None, message: str = "m", param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "t", "code": code, "param": param}}


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, envelope("InvalidParameter", param="URL"), e.BadRequestError),
        (422, envelope("unprocessable"), e.BadRequestError),
        (401, envelope(wire.CODE_INVALID_API_KEY), e.AuthenticationError),
        (402, envelope(wire.CODE_QUOTA_INSUFFICIENT), e.PaymentRequiredError),
        (403, envelope(wire.CODE_ACCESS_DENIED), e.PermissionDeniedError),
        (403, envelope(wire.CODE_LIVENESS_GROUP_ACTIVE), e.PermissionDeniedError),
        (403, envelope(wire.CODE_ASSET_CAP_EXCEEDED), e.AssetQuotaExceededError),
        (403, envelope("QuotaExceeded.AssetCount"), e.AssetQuotaExceededError),
        (403, envelope(None, "Asset upload cap (100) reached"), e.AssetQuotaExceededError),
        (
            403,
            {"code": "asset_limit_exceeded", "message": "", "data": None},
            e.AssetQuotaExceededError,
        ),
        (403, envelope("model_not_allowed", "model quota for this group"), e.PermissionDeniedError),
        (404, envelope(wire.CODE_NOT_FOUND), e.NotFoundError),
        (400, {"code": wire.CODE_TASK_NOT_EXIST, "message": "x", "data": None}, e.NotFoundError),
        (409, envelope("conflict"), e.ConflictError),
        (429, envelope(wire.CODE_RATE_LIMITED), e.RateLimitError),
        (500, envelope("internal"), e.ServerError),
        (502, envelope("fallback_exhausted"), e.ServerError),
        (503, None, e.ServerError),
        (418, envelope("teapot"), e.APIStatusError),
    ],
)
def test_status_mapping(status: int, body: Any, cls: type[e.APIStatusError]) -> None:
    error = e.error_from_response(reply(status, body))
    assert type(error) is cls
    assert error.status == status
    assert error.advice in str(error)  # every message says what to do
    assert str(error).startswith(f"POST /v1/asset/files returned HTTP {status}")


def test_bad_request_names_the_parameter() -> None:
    error = e.error_from_response(reply(400, envelope("InvalidParameter", "bad", "URL")))
    assert isinstance(error, e.BadRequestError)
    assert error.param == "URL"
    assert error.code == "InvalidParameter"
    assert error.server_message == "bad"
    assert error.body == envelope("InvalidParameter", "bad", "URL")


def test_non_json_bodies_are_kept_as_text() -> None:
    error = e.error_from_response(reply(502, text="<html>Bad gateway</html>"))
    assert isinstance(error, e.ServerError)
    assert error.body == "<html>Bad gateway</html>"
    assert "<html>Bad gateway</html>" in str(error)


def test_the_tree() -> None:
    assert not issubclass(e.AssetQuotaExceededError, e.PermissionDeniedError)
    assert issubclass(e.APITimeoutError, e.APIConnectionError)
    assert issubclass(e.OutcomeUnknownError, e.APIError)
    assert not issubclass(e.OutcomeUnknownError, e.APIConnectionError)
    assert issubclass(e.ValidationError, ValueError)
    assert issubclass(e.WaitTimeoutError, TimeoutError)
    for name in e.__all__:
        member = getattr(e, name)
        if isinstance(member, type):
            assert issubclass(member, e.OrcaError)
            assert name in (e.__doc__ or "")  # the docstring draws every class


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (wire.ASSET_ERROR_FACE_MISMATCH, "verified person"),
        (wire.ASSET_ERROR_DOWNLOAD_FAILED, "make the URL public"),
        ("invalidparameter.downloadfailed", "make the URL public"),
        ("InvalidParameter.SomethingNew", "preflight"),
        ("TotallyUnknown", "requirements"),
        (None, "requirements"),
    ],
)
def test_asset_advice(code: str | None, fragment: str) -> None:
    assert fragment in e.advice_for(code)


def test_every_asset_error_code_in_wire_has_advice() -> None:
    codes = [v for k, v in vars(wire).items() if k.startswith("ASSET_ERROR_")]
    assert len(codes) >= 10
    for code in codes:
        assert code in e.ADVICE


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (wire.TASK_ERROR_INTERNAL, "submit the same request again"),
        ("InputImageSensitiveContentDetected", "content check"),
        ("inputimagesensitivecontentdetected.PrivacyInformation", "content check"),
        ("OutputVideoSensitiveContentDetected", "content check"),
        (wire.TASK_ERROR_TIMEOUT, "shorter duration"),
        (wire.TASK_ERROR_EXPIRED, "execution_expires_after"),
        ("SomethingNewUpstream", "video task failed"),
        (None, "video task failed"),
    ],
)
def test_task_advice(code: str | None, fragment: str) -> None:
    assert fragment in e.advice_for(code, subject="task")


def test_every_task_error_code_in_wire_has_advice() -> None:
    codes = [wire.TASK_ERROR_INTERNAL, wire.TASK_ERROR_TIMEOUT, wire.TASK_ERROR_EXPIRED]
    for code in [*codes, *wire.TASK_ERROR_SENSITIVE_CONTENT]:
        assert code in e.ADVICE


def test_asset_advice_states_the_wire_limits() -> None:
    video = wire.REQUIREMENTS["Video"]
    assert f"{video.min_fps:g}-{video.max_fps:g} fps" in e.advice_for(wire.ASSET_ERROR_FPS)
    assert "heif" in e.advice_for(wire.ASSET_ERROR_FORMAT)


def test_error_models_carry_their_advice() -> None:
    from orca_nb.client.models import AssetError, TaskError

    assert AssetError(code=wire.ASSET_ERROR_NO_FACE).advice == e.advice_for(
        wire.ASSET_ERROR_NO_FACE
    )
    task_error = TaskError(code=wire.TASK_ERROR_INTERNAL, message="render crashed")
    assert "submit the same request again" in task_error.advice
    assert "video task failed" in TaskError().advice


def test_every_request_error_says_what_to_do() -> None:
    """Views show ``advice`` as is, so every error a request can raise must carry some."""
    request = httpx.Request("GET", "https://api.orcarouter.ai/v1/asset/files")
    assert "network" in e.APIConnectionError("no route", request=request).advice
    assert e.APITimeoutError("slow", request=request).advice
    for status in (400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503):
        assert e.error_from_response(httpx.Response(status, request=request)).advice
