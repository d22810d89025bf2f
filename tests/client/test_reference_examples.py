"""Every JSON example of the API reference parses into the client's models and errors.

The examples are copied here (the reference lives outside the repository); where the reference
shows a placeholder (``{ <raw Ark task object> }``, ``"…"``) the nearest concrete value is used.
When the reference is present, a test checks that every JSON block in it is covered here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from orca_nb import wire
from orca_nb.client import (
    Asset,
    BadRequestError,
    Created,
    Group,
    InsufficientBalanceError,
    NotFoundError,
    RateLimitError,
    Session,
    VideoTask,
)
from orca_nb.client.errors import error_from_response, parse_error_body
from orca_nb.client.operations import prebuilt_body
from orca_nb.client.retries import parse_retry_after

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "orcarouter-api.md"

ERROR_ENVELOPE = {
    "error": {
        "message": "Descriptive error message",
        "type": "invalid_request_error",
        "code": "model_not_found",
        "param": None,
    }
}
RATE_LIMIT = {
    "error": {
        "message": "Rate limit exceeded. Try again in 5 seconds.",
        "type": "rate_limit_error",
        "code": "rate_limit_exceeded",
    }
}
CREATE_GROUP_BODY = {"Name": "actor_zhang", "Description": "角色 Zhang 的虚拟人像组"}
CREATE_GROUP_REPLY = {"Id": "group-20260318033332-ab12c"}
LIST_GROUPS = {
    "TotalCount": 1,
    "Items": [
        {
            "Id": "group-20260318033332-ab12c",
            "Name": "actor_zhang",
            "GroupType": "AIGC",
            "ProjectName": "default",
            "CreateTime": "2026-03-18T03:33:32Z",
            "UpdateTime": "2026-03-18T03:33:32Z",
        }
    ],
    "PageNumber": 1,
    "PageSize": 10,
}
UPLOAD_BODY = {
    "GroupId": "group-20260318033332-ab12c",
    "URL": "https://your-cdn.com/zhang/full_body.jpg",
    "AssetType": "Image",
    "Name": "full_body_front",
}
UPLOAD_REPLY = {"Id": "asset-20260318071009-xy98z"}
LIST_ASSETS = {
    "TotalCount": 1,
    "Items": [
        {
            "Id": "asset-20260318035710-kctzf",
            "Name": "full_body_front",
            "AssetType": "Image",
            "Status": "Active",
            "GroupId": "group-20260318033332-ab12c",
            "URL": "https://ark-media-asset-....volces.com/...",
            "CreateTime": "2026-03-18T03:57:10Z",
            "UpdateTime": "2026-03-18T03:57:14Z",
        }
    ],
    "PageNumber": 1,
    "PageSize": 10,
}
GET_ASSET = {
    "Id": "asset-20260318071009-xy98z",
    "GroupId": "group-20260318033332-ab12c",
    "AssetType": "Image",
    "Status": "Active",
    "URL": "https://ark-media-asset-....volces.com/...",
    "CreateTime": "2026-03-18T03:57:10Z",
    "UpdateTime": "2026-03-18T03:57:14Z",
}
SESSION = {
    "session_id": "Xa9f...40-char-token",
    "h5_link": "https://verify.example.com/?session=...",
    "status": "pending",
}
SESSION_STATUS = {"session_id": "Xa9f...", "status": "success", "group_id": "group-1"}
VIDEO_REQUEST = {
    "model": "byteplus/dreamina-seedance-2-0-260128",
    "prompt": "[Image 1] walks toward the camera in the rain; keep the outfit from [Image 2]; "
    "music follows [Audio 1].",
    "metadata": {
        "content": [
            {
                "type": "image_url",
                "image_url": {"url": "asset://asset-20260318071009-xy98z"},
                "role": "reference_image",
            },
            {
                "type": "image_url",
                "image_url": {"url": "https://cdn.example.com/outfit.png"},
                "role": "reference_image",
            },
            {
                "type": "audio_url",
                "audio_url": {"url": "asset://asset-20260318080000-a1b2c"},
                "role": "reference_audio",
            },
        ],
        "ratio": "9:16",
        "duration": 8,
        "resolution": "720p",
        "generate_audio": True,
        "watermark": False,
    },
}
SUBMIT_REPLY = {
    "id": "<string>",
    "task_id": "<string>",
    "model": "<string>",
    "progress": 50,
    "created_at": 123,
}
SUBMIT_REPLY_NEWAPI = {
    "id": "task_abc",
    "task_id": "task_abc",
    "object": "video",
    "model": "byteplus/dreamina-seedance-2-0-260128",
    "status": "queued",
    "progress": 0,
    "created_at": 1773000000,
}
ARK_TASK = {
    "id": "cgt-20260708094649-mxfjc",
    "model": "dreamina-seedance-2-0-260128",
    "status": "succeeded",
    "error": None,
    "created_at": 1783475210,
    "updated_at": 1783475364,
    "content": {"video_url": "https://…mp4", "last_frame_url": "https://…png"},
    "seed": 11,
    "resolution": "720p",
    "ratio": "16:9",
    "duration": 5,
    "framespersecond": 24,
    "generate_audio": True,
    "service_tier": "default",
    "execution_expires_after": 172800,
    "usage": {"completion_tokens": 108900, "total_tokens": 108900},
}
NEWAPI_TASK = {
    "code": "success",
    "message": "",
    "data": {
        "task_id": "task_abc",
        "platform": "…",
        "action": "generate",
        "status": "SUCCESS",
        "progress": "100%",
        "fail_reason": "",
        "result_url": "https://…mp4",
        "submit_time": 1773000000,
        "start_time": 1773000005,
        "finish_time": 1773000120,
        "data": ARK_TASK,
    },
}
OPENAI_TASK = {
    "id": "video_abc",
    "object": "video",
    "model": "byteplus/dreamina-seedance-2-0-260128",
    "status": "in_progress",
    "progress": 40,
    "created_at": 1773000000,
    "completed_at": None,
    "error": {"code": None, "message": None},
    "metadata": {"url": None},
}
NEWAPI_MISSING = {"code": "task_not_exist", "message": "task_not_exist", "data": None}
ARK_ERROR = {
    "ResponseMetadata": {
        "RequestId": "2026031803",
        "Action": "GetAsset",
        "Version": "2024-01-01",
        "Service": "ark",
        "Region": "ap-southeast-1",
        "Error": {"Code": "AssetNotFound", "Message": "The asset does not exist."},
    },
    "Result": {},
}
CONTENT_ITEMS = [
    {"type": "text", "text": "..."},
    {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,AAAA"},
        "role": "first_frame",
    },
    {"type": "video_url", "video_url": {"url": "https://x.test/v.mp4"}, "role": "reference_video"},
    {"type": "audio_url", "audio_url": {"url": "asset://asset-1"}, "role": "reference_audio"},
]

# --- section 12 (addendum): the documented wrapper, the alias, new-api's errors
WRAPPED_TASK = {
    "code": "success",
    "message": "",
    "data": {
        "task_id": "task_xxxx",
        "status": "SUCCESS",
        "progress": "100%",
        "result_url": "https://…/output.mp4",
    },
}
SUBMIT_REPLY_DOC_OTHER = {"id": "task_xxxx", "status": "queued", "model": "…"}
OPENAI_ALIAS_TASK = {
    "id": "task_xxxx",
    "object": "video",
    "model": "byteplus/dreamina-seedance-2-0-260128",
    "status": "completed",
    "progress": 100,
    "created_at": 1773000000,
    "completed_at": 1773000120,
    "expires_at": 1773086520,
    "seconds": "5",
    "size": "1280x720",
    "error": None,
    "metadata": {"url": "https://…/output.mp4"},
    "usage": {"completion_tokens": 108900, "total_tokens": 108900},
}
NEWAPI_NO_BALANCE = {
    "code": "insufficient_user_quota",
    "message": "user quota is not enough",
    "data": None,
}

ALL_EXAMPLES: list[Any] = [
    WRAPPED_TASK,
    SUBMIT_REPLY_DOC_OTHER,
    OPENAI_ALIAS_TASK,
    NEWAPI_NO_BALANCE,
    ERROR_ENVELOPE,
    RATE_LIMIT,
    CREATE_GROUP_BODY,
    CREATE_GROUP_REPLY,
    LIST_GROUPS,
    UPLOAD_BODY,
    UPLOAD_REPLY,
    LIST_ASSETS,
    GET_ASSET,
    SESSION,
    SESSION_STATUS,
    VIDEO_REQUEST,
    SUBMIT_REPLY,
    SUBMIT_REPLY_NEWAPI,
    ARK_TASK,
    NEWAPI_TASK,
    OPENAI_TASK,
    NEWAPI_MISSING,
    ARK_ERROR,
    *CONTENT_ITEMS,
]


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://api.orcarouter.ai/v1/asset/files/x")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_asset_library_examples_parse() -> None:
    assert Created.model_validate(CREATE_GROUP_REPLY).id == CREATE_GROUP_REPLY["Id"]
    assert Created.model_validate(UPLOAD_REPLY).id.startswith("asset-")
    group = Group.model_validate(LIST_GROUPS["Items"][0])  # type: ignore[index]
    assert (group.name, group.group_type, group.project_name) == ("actor_zhang", "AIGC", "default")
    listed = Asset.model_validate(LIST_ASSETS["Items"][0])  # type: ignore[index]
    assert listed.name == "full_body_front"
    assert listed.url == "https://ark-media-asset-....volces.com/..."
    asset = Asset.model_validate(GET_ASSET)
    assert asset.status == "Active"
    assert asset.group_id == "group-20260318033332-ab12c"
    assert asset.error is None
    assert asset.model_dump(by_alias=True, exclude_none=True)["URL"] == GET_ASSET["URL"]
    failed = Asset.model_validate(
        {
            **GET_ASSET,
            "Status": "Failed",
            "Error": {"Code": "FaceMismatch", "Message": "m"},
            "Moderation": {"Strategy": "Skip"},
            "Brand": "new field",
        }
    )
    assert failed.error is not None
    assert failed.error.code == "FaceMismatch"
    assert failed.model_extra == {"Brand": "new field"}  # unknown fields are kept


def test_session_examples_parse() -> None:
    assert Session.model_validate(SESSION).status == "pending"
    assert Session.model_validate(SESSION_STATUS).group_id == "group-1"


def test_request_examples_are_what_the_client_sends() -> None:
    assert prebuilt_body(VIDEO_REQUEST) == VIDEO_REQUEST
    body = prebuilt_body(
        {"model": wire.SEEDANCE_2, "prompt": "x", "metadata": {"content": CONTENT_ITEMS}}
    )
    assert body["metadata"]["content"] == CONTENT_ITEMS


@pytest.mark.parametrize(
    ("body", "shape", "status", "progress", "task_id"),
    [
        (SUBMIT_REPLY, "ark", "queued", 50, "<string>"),
        (SUBMIT_REPLY_NEWAPI, "openai", "queued", 0, "task_abc"),
        (ARK_TASK, "ark", "succeeded", 100, "cgt-20260708094649-mxfjc"),
        (NEWAPI_TASK, "newapi", "succeeded", 100, "task_abc"),
        (OPENAI_TASK, "openai", "running", 40, "video_abc"),
    ],
)
def test_task_shapes_normalise(
    body: dict[str, Any], shape: str, status: str, progress: int, task_id: str
) -> None:
    task = VideoTask.from_wire(body)
    assert (task.shape, task.status, task.progress, task.id) == (shape, status, progress, task_id)
    assert task.raw == body
    if status == "succeeded":
        assert task.video_url == "https://…mp4"
        assert task.last_frame_url == "https://…png"
        assert task.usage is not None
        assert task.usage.completion_tokens == 108900
        assert task.done
    if shape == "newapi":
        assert task.upstream_id == "cgt-20260708094649-mxfjc"
        assert (task.created_at, task.started_at, task.completed_at) == (
            1783475210,
            1773000005,
            1773000120,
        )


@pytest.mark.parametrize(
    ("status", "raw_status", "progress"),
    [
        ("queued", "NOT_START", "0%"),
        ("queued", "SUBMITTED", None),
        ("running", "IN_PROGRESS", "50%"),
        ("failed", "FAILURE", "100%"),
        ("running", "UNKNOWN", ""),
    ],
)
def test_newapi_internal_statuses(status: str, raw_status: str, progress: str | None) -> None:
    body = {
        "code": "success",
        "message": "",
        "data": {
            "task_id": "t1",
            "status": raw_status,
            "progress": progress,
            "fail_reason": "boom" if raw_status == "FAILURE" else "",
        },
    }
    task = VideoTask.from_wire(body)
    assert task.status == status
    assert 0 <= task.progress <= 100
    if status == "failed":
        assert task.error is not None
        assert task.error.message == "boom"
        assert task.done


@pytest.mark.parametrize("raw", ["cancelled", "canceled", "expired", "completed", "failed"])
def test_every_status_maps_into_the_wire_vocabulary(raw: str) -> None:
    task = VideoTask.from_wire({"id": "t", "object": "video", "status": raw})
    assert task.status in wire.TASK_STATUSES
    assert task.done


def test_task_without_id_is_refused() -> None:
    with pytest.raises(ValueError, match="no task id"):
        VideoTask.from_wire({"status": "queued"})


def test_error_bodies_parse_in_all_three_shapes() -> None:
    assert parse_error_body(ERROR_ENVELOPE) == (
        "model_not_found",
        "Descriptive error message",
        None,
    )
    assert parse_error_body(ARK_ERROR) == ("AssetNotFound", "The asset does not exist.", None)
    assert parse_error_body(NEWAPI_MISSING) == ("task_not_exist", "task_not_exist", None)
    assert parse_error_body("upstream exploded") == (None, "upstream exploded", None)


def test_error_examples_map_to_classes() -> None:
    bad = error_from_response(reply(400, ERROR_ENVELOPE))
    assert isinstance(bad, BadRequestError)
    assert bad.code == "model_not_found"
    assert "Descriptive error message" in str(bad)
    limited = reply(429, RATE_LIMIT, {"Retry-After": "5"})
    err = error_from_response(limited, retry_after=parse_retry_after(limited.headers))
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 5
    assert isinstance(error_from_response(reply(404, ARK_ERROR)), NotFoundError)
    assert isinstance(error_from_response(reply(400, NEWAPI_MISSING)), NotFoundError)


@pytest.mark.skipif(not REFERENCE.exists(), reason="the API reference is not beside the repo")
def test_every_reference_json_block_is_covered() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) >= 10
    for block in blocks:
        try:
            example = json.loads(block)
        except ValueError:
            continue  # placeholders; covered above by their concrete versions
        assert example in ALL_EXAMPLES, block[:80]


def test_section_12_examples_parse() -> None:
    wrapped = VideoTask.from_wire(WRAPPED_TASK)
    assert (wrapped.shape, wrapped.status, wrapped.progress) == ("newapi", "succeeded", 100)
    assert wrapped.id == "task_xxxx"
    assert wrapped.video_url == "https://…/output.mp4"
    assert wrapped.usage is None  # the documented shape carries no usage: the ledger estimates
    assert wrapped.upstream_id is None
    submitted = VideoTask.from_wire(SUBMIT_REPLY_DOC_OTHER)
    assert (submitted.id, submitted.status, submitted.progress) == ("task_xxxx", "queued", 0)
    alias = VideoTask.from_wire(OPENAI_ALIAS_TASK)
    assert (alias.shape, alias.status, alias.duration) == ("openai", "succeeded", 5)
    assert alias.usage is not None
    assert alias.usage.total_tokens == 108_900
    no_balance = error_from_response(reply(403, NEWAPI_NO_BALANCE))
    assert isinstance(no_balance, InsufficientBalanceError)
    assert "top up" in str(no_balance)
