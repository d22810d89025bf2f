"""Wire shapes: stored rows rendered as the JSON the API documents (PascalCase for assets,
snake_case for sessions, four alternative shapes for video tasks: see :data:`TASK_VIEWS`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from orca_nb import wire
from orca_nb.sandbox.clock import iso_z

PROJECT_NAME = "default"
EXECUTION_EXPIRES_AFTER = 172_800  # ARK default


def group_view(row: sqlite3.Row) -> dict[str, Any]:
    """A group as ``GET /asset/groups`` items and ``GET /asset/groups/{id}`` show it."""
    return {
        "Id": row["id"],
        "Name": row["name"],
        "Description": row["description"],
        "GroupType": row["group_type"],
        "ProjectName": PROJECT_NAME,
        "CreateTime": iso_z(row["created"]),
        "UpdateTime": iso_z(row["updated"]),
    }


def _moderation(raw: str) -> dict[str, Any]:
    """The stored moderation JSON as a new dict (most assets store ``{}``: no parse needed)."""
    if raw == "{}":
        return {}
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def asset_view(row: sqlite3.Row, url: str) -> dict[str, Any]:
    """An asset; ``url`` is a fresh signed link (empty unless the asset is Active)."""
    view: dict[str, Any] = {
        "Id": row["id"],
        "Name": row["name"],
        "GroupId": row["group_id"],
        "AssetType": row["asset_type"],
        "Status": row["status"],
        "URL": url,
        "ProjectName": PROJECT_NAME,
        "Moderation": _moderation(row["moderation"]),
        "CreateTime": iso_z(row["created"]),
        "UpdateTime": iso_z(row["updated"]),
    }
    if row["status"] == "Failed":
        view["Error"] = {"Code": row["error_code"], "Message": row["error_message"]}
    return view


def session_view(row: sqlite3.Row, h5_link: str) -> dict[str, Any]:
    """A real-human session (GUESS shape beyond the documented start response)."""
    view: dict[str, Any] = {
        "session_id": row["id"],
        "status": row["status"],
        "group_id": row["group_id"],
        "h5_link": h5_link,
        "created_at": int(row["created"]),
        "expires_at": int(row["expires"]),
    }
    if row["status"] == "failed":
        view["error"] = {"code": row["error_code"], "message": row["error_message"]}
    return view


def upstream_model(model: str) -> str:
    """Ark's model id for an OrcaRouter model name (``byteplus/`` prefix dropped)."""
    return model.split("/", 1)[1] if "/" in model else model


def task_created_view(row: sqlite3.Row) -> dict[str, Any]:
    """The ``POST /video/generations`` answer (DOC fields plus new-api's object/status)."""
    return {
        "id": row["id"],
        "task_id": row["id"],
        "object": "video",
        "model": row["model"],
        "status": "queued",
        "progress": 0,
        "created_at": int(row["created"]),
    }


def ark_task(row: sqlite3.Row, video_url: Callable[[str], str]) -> dict[str, Any]:
    """The raw Ark task object (section 9.3 of the reference)."""
    params = json.loads(row["params"])
    view: dict[str, Any] = {
        "id": row["id"],
        "model": upstream_model(row["model"]),
        "status": row["status"],
        "error": None,
        "created_at": int(row["created"]),
        "updated_at": int(row["updated"]),
    }
    if row["status"] == "failed":
        view["error"] = {"code": row["error_code"], "message": row["error_message"]}
    if row["status"] == "succeeded" and row["blob_id"]:
        content = {"video_url": video_url(row["blob_id"])}
        if row["last_frame_blob_id"]:
            content["last_frame_url"] = video_url(row["last_frame_blob_id"])
        view["content"] = content
    view.update(
        {
            "seed": params["seed_used"],
            "resolution": params["resolution"],
            "ratio": params.get("ratio_used", params["ratio"]),
            "duration": params["duration"],
            "framespersecond": wire.OUTPUT_FPS,
            "generate_audio": params["generate_audio"],
            "service_tier": params["service_tier"],
            "execution_expires_after": EXECUTION_EXPIRES_AFTER,
        }
    )
    if row["status"] == "succeeded":
        tokens = params["usage_tokens"]
        view["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
    return view


#: Ark status -> new-api's task status word (NEWAPI ``TaskStatus``; progress "NN%" beside it).
NEWAPI_STATUS: dict[str, str] = {
    "queued": "QUEUED",
    "running": "IN_PROGRESS",
    "succeeded": "SUCCESS",
    "failed": "FAILURE",
}


def newapi_task(
    row: sqlite3.Row, video_url: Callable[[str], str], *, inner: bool = False
) -> dict[str, Any]:
    """new-api's ``{"code": "success", "data": {...}}`` wrapper (DOC-other section 12.1).

    ``data.data`` is ``null`` (NEWAPI: the newest new-api nulls the upstream object of video
    tasks, so no usage, ratio or upstream id reach the caller) unless ``inner``, which puts the
    raw Ark object there (older new-api builds). ``result_url`` is the gateway's link.
    """
    status = row["status"]
    links: dict[str, str] = {}

    def link(blob_id: str) -> str:  # one signature per file, so inner and outer links agree
        return links.setdefault(blob_id, video_url(blob_id))

    result_url = link(row["blob_id"]) if status == "succeeded" and row["blob_id"] else ""
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": row["id"],
            "platform": "byteplus",  # GUESS: new-api's channel platform name
            "action": "generate",  # NEWAPI
            "status": NEWAPI_STATUS.get(status, "UNKNOWN"),
            "progress": f"{row['progress']}%",
            "fail_reason": (row["error_message"] or "") if status == "failed" else "",
            "result_url": result_url,
            "submit_time": int(row["created"]),
            "start_time": int(row["started"] or 0),
            "finish_time": int(row["finished"] or 0),
            "data": ark_task(row, link) if inner else None,
        },
    }


def newapi_ark_task(row: sqlite3.Row, video_url: Callable[[str], str]) -> dict[str, Any]:
    """The wrapper with the raw Ark object under ``data.data`` (the ``newapi_ark`` shape)."""
    return newapi_task(row, video_url, inner=True)


#: Ark status -> OpenAI video status (DOC-other section 12.2).
OPENAI_STATUS: dict[str, str] = {
    "queued": "queued",
    "running": "in_progress",
    "succeeded": "completed",
    "failed": "failed",
}


def openai_task(row: sqlite3.Row, video_url: Callable[[str], str]) -> dict[str, Any]:
    """The OpenAI video object new-api serves on ``/v1/videos/{id}`` (DOC-other + NEWAPI
    ``OpenAIVideo``): integer progress, ``seconds``, ``size``, the link in ``metadata.url``,
    ``usage`` once completed, ``expires_at`` = when that link expires (``None`` before)."""
    params = json.loads(row["params"])
    status = row["status"]
    size = params.get("size_used")
    done = status == "succeeded" and bool(row["blob_id"])
    view: dict[str, Any] = {
        "id": row["id"],
        "task_id": row["id"],  # NEWAPI: the public id is served under both names
        "object": "video",
        "model": row["model"],
        "status": OPENAI_STATUS.get(status, status),
        "progress": row["progress"],
        "created_at": int(row["created"]),
        "completed_at": int(row["finished"]) if row["finished"] else None,
        "expires_at": None,
        "seconds": str(params["duration"]),
        "size": f"{size[0]}x{size[1]}" if size else None,
        "error": None,
        "usage": None,
        "metadata": {},
    }
    if status == "failed":
        view["error"] = {"code": row["error_code"], "message": row["error_message"]}
    if done:
        url = video_url(row["blob_id"])
        view["metadata"] = {"url": url}
        view["expires_at"] = _expiry(url)
        tokens = params.get("usage_tokens")
        if tokens is not None:
            view["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
    return view


def _expiry(url: str) -> int | None:
    """When a sandbox signed link stops working (``X-Tos-Date`` + ``X-Tos-Expires``)."""
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(url).query)
    try:
        issued = datetime.strptime(query["X-Tos-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return int(issued.timestamp()) + int(query["X-Tos-Expires"][0])
    except (KeyError, IndexError, ValueError):
        return None


#: The task shapes the sandbox serves on ``GET /video/generations/{id}``, the default first:
#: ``newapi`` the documented wrapper without the upstream object (DOC-other 12.1), ``newapi_ark``
#: the wrapper with the raw Ark object in ``data.data`` (NEWAPI, older builds), ``ark`` the raw
#: Ark object (ARK 9.3), ``openai`` the OpenAI video object (DOC-other 12.2).
TASK_VIEWS: dict[str, Callable[[sqlite3.Row, Callable[[str], str]], dict[str, Any]]] = {
    "newapi": newapi_task,
    "newapi_ark": newapi_ark_task,
    "ark": ark_task,
    "openai": openai_task,
}
