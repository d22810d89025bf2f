"""Pure translation of request bodies, task states and asset data into ledger rows.

Nothing here touches a database; :mod:`orca_nb.ledger.ledger` writes what these functions return.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orca_nb import wire
from orca_nb.compose.cost import estimate_tokens

#: ``content[]`` item type -> the wire's asset type.
_ITEM_TYPES = {"image_url": "Image", "video_url": "Video", "audio_url": "Audio"}


@dataclass(frozen=True)
class Item:
    """One media item of a request's ``content[]``."""

    position: int
    ordinal: int
    asset_type: str
    role: str | None
    source: str
    asset_id: str | None


@dataclass(frozen=True)
class Request:
    """What the ledger keeps of a submitted body."""

    model: str
    prompt: str
    params: str  # JSON of ``metadata`` without ``content``
    mode: str
    ratio: str | None
    resolution: str | None
    duration: int | None
    generate_audio: bool | None
    items: tuple[Item, ...]
    #: The reference's token rule applied to the request (``compose.estimate_tokens``), used as
    #: the task's tokens when it succeeds and the service reports none; ``estimate_source`` is
    #: ``estimated`` or ``estimated_min`` (a lower bound: a reference video's length unknown).
    estimated_tokens: int | None = None
    estimate_source: str | None = None


def parse_request(
    body: Mapping[str, Any], *, media_seconds: Mapping[str, float] | None = None
) -> Request:
    """Read a ``POST /video/generations`` body (the wire's Seedance shape).

    ``media_seconds`` (reference video URL -> seconds) makes the token estimate exact where a
    length would otherwise be unknown."""
    model = str(body.get("model") or "")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        metadata = {}
    content = metadata.get("content") or ()
    items: list[Item] = []
    counts: dict[str, int] = {}
    for position, raw in enumerate(content if isinstance(content, list | tuple) else ()):
        if not isinstance(raw, Mapping) or raw.get("type") not in _ITEM_TYPES:
            continue
        kind = str(raw["type"])
        asset_type = _ITEM_TYPES[kind]
        inner = raw.get(kind)
        url = str(inner.get("url", "")) if isinstance(inner, Mapping) else str(inner or "")
        url = wire.strip_secret_params(url)  # a signed link is a secret: keep where, not the key
        counts[asset_type] = counts.get(asset_type, 0) + 1
        asset_id = (
            url[len(wire.ASSET_URL_SCHEME) :] if url.startswith(wire.ASSET_URL_SCHEME) else None
        )
        role = raw.get("role")
        items.append(
            Item(
                position, counts[asset_type], asset_type, str(role) if role else None, url, asset_id
            )
        )
    spec = wire.MODELS.get(model)
    duration = metadata.get("duration", body.get("duration"))
    if duration is None and spec is not None:
        duration = spec.default_seconds
    resolution = metadata.get("resolution") or (spec.default_resolution if spec else None)
    ratio = metadata.get("ratio") or (spec.default_ratio if spec else None)
    generate_audio = metadata.get("generate_audio")
    if generate_audio is None and spec is not None:
        generate_audio = spec.native_audio
    params = {k: v for k, v in metadata.items() if k != "content"}
    estimate = estimate_tokens(body, media_seconds=media_seconds)
    return Request(
        model=model,
        prompt=str(body.get("prompt") or ""),
        params=wire.strip_secret_params(json.dumps(params, sort_keys=True, default=str)),
        mode=request_mode(items),
        ratio=str(ratio) if ratio is not None else None,
        resolution=str(resolution) if resolution is not None else None,
        duration=_int(duration),
        generate_audio=bool(generate_audio) if generate_audio is not None else None,
        items=tuple(items),
        estimated_tokens=estimate.tokens,
        estimate_source=estimate.source,
    )


def stored_body(
    model: str, params: str, items: list[tuple[str, str | None, str]]
) -> dict[str, Any]:
    """A request body rebuilt from a ledger row (``params`` JSON and ``(asset_type, role,
    source)`` per item), close enough for the token estimate of rows older than it."""
    try:
        metadata = json.loads(params) if params else {}
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}
    kinds = {v: k for k, v in _ITEM_TYPES.items()}
    metadata["content"] = [
        {"type": kinds[t], kinds[t]: {"url": source}, **({"role": role} if role else {})}
        for t, role, source in items
        if t in kinds
    ]
    return {"model": model, "metadata": metadata}


def request_mode(items: tuple[Item, ...] | list[Item]) -> str:
    """``text`` (no media), ``first_frame``, ``first_last`` or ``reference``."""
    roles = {i.role for i in items}
    if not items:
        return "text"
    if "last_frame" in roles:
        return "first_last"
    if "first_frame" in roles or (len(items) == 1 and items[0].role is None):
        return "first_frame"
    return "reference"


@dataclass(frozen=True)
class TaskState:
    """What the ledger keeps of one fetched task state (``None`` = not told)."""

    task_id: str | None
    status: str | None
    progress: int | None
    error_code: str | None
    error_message: str | None
    completion_tokens: int | None
    total_tokens: int | None
    video_url: str | None
    created_at: int | None
    started_at: int | None
    finished_at: int | None
    resolution: str | None
    duration: int | None


def parse_task(task: Mapping[str, Any]) -> TaskState:
    """Read a task as the client normalises it (``VideoTask.ledger_dict()``: the one
    normaliser of the wire's task shapes is ``orca_nb.client.models.VideoTask.from_wire``).

    Keys: ``id``, ``status``, ``progress``, ``error`` {code, message}, ``usage``
    {completion_tokens, total_tokens}, ``video_url``, ``created_at``, ``started_at``,
    ``completed_at``, ``updated_at`` (unix seconds), ``resolution``, ``duration``; any may be
    missing (``None`` = not told).
    """
    error = task.get("error")
    code = message = None
    if isinstance(error, Mapping):
        code = _str(error.get("code"))
        message = _str(error.get("message"))
    usage = task.get("usage")
    completion = total = None
    if isinstance(usage, Mapping):
        completion = _int(usage.get("completion_tokens"))
        total = _int(usage.get("total_tokens"))
    video_url = _str(task.get("video_url"))
    status = _str(task.get("status"))
    finished = task.get("completed_at")
    if finished is None and status and status.lower() in wire.TERMINAL_TASK_STATUSES:
        finished = task.get("updated_at")  # a raw Ark task's last update is its end
    return TaskState(
        task_id=_str(task.get("id")),
        status=status.lower() if status else None,
        progress=_int(task.get("progress")),
        error_code=code,
        error_message=message,
        completion_tokens=completion,
        total_tokens=total if total is not None else completion,
        video_url=wire.strip_secret_params(video_url) if video_url else None,
        created_at=to_ms(task.get("created_at")),
        started_at=to_ms(task.get("started_at")),
        finished_at=to_ms(finished),
        resolution=_str(task.get("resolution")),
        duration=_int(task.get("duration")),
    )


@dataclass(frozen=True)
class AssetSnapshot:
    """Name, asset type, status and group of an asset as last seen."""

    asset_id: str
    name: str | None
    asset_type: str | None
    status: str | None
    group_id: str | None
    error_code: str | None
    error_message: str | None
    created_at: int | None


@dataclass(frozen=True)
class GroupSnapshot:
    """Name and type (``group_type``: AIGC, LivenessFace) of a group as last seen."""

    group_id: str
    name: str | None
    group_type: str | None
    created_at: int | None


def parse_asset(asset: Any) -> AssetSnapshot:
    """Read an asset: a dict with the wire's PascalCase keys, or a model with ``model_dump``."""
    data = _as_wire_dict(asset)
    asset_id = _str(data.get("Id"))
    if not asset_id:
        raise ValueError(f"an asset snapshot needs its 'Id' (got keys {sorted(data)})")
    error = data.get("Error")
    error = error if isinstance(error, Mapping) else {}
    return AssetSnapshot(
        asset_id=asset_id,
        name=_str(data.get("Name")),
        asset_type=_str(data.get("AssetType")),
        status=_str(data.get("Status")),
        group_id=_str(data.get("GroupId")),
        error_code=_str(error.get("Code")),
        error_message=_str(error.get("Message")),
        created_at=to_ms(data.get("CreateTime")),
    )


def parse_group(group: Any) -> GroupSnapshot:
    """Read a group: a dict with the wire's PascalCase keys, or a model with ``model_dump``."""
    data = _as_wire_dict(group)
    group_id = _str(data.get("Id"))
    if not group_id:
        raise ValueError(f"a group snapshot needs its 'Id' (got keys {sorted(data)})")
    return GroupSnapshot(
        group_id=group_id,
        name=_str(data.get("Name")),
        group_type=_str(data.get("GroupType")),
        created_at=to_ms(data.get("CreateTime")),
    )


def narrow(stamp: int | None, low: int | None, high: int | None) -> int | None:
    """A service time (ms) made as exact as the kernel's own observations allow.

    Services stamp tasks in whole seconds: the moment is somewhere in ``[stamp, stamp + 1 s)``.
    The kernel may know it came after ``low`` (the request was sent) and before ``high`` (the
    reply that carried it arrived). The middle of what is left of that second is returned, so
    the error is at most half of it (half a second without bounds, instead of up to a whole
    second early). A stamp finer than a second, or one our bounds do not overlap (the clocks
    disagree), is returned as the service gave it.
    """
    if stamp is None or stamp % 1000:
        return stamp
    lo = max(stamp, low if low is not None else stamp)
    hi = min(stamp + 999, high if high is not None else stamp + 999)
    if lo > hi:
        return stamp
    return (lo + hi) // 2


def agrees(value: int | None, stamp: int | None) -> bool:
    """Whether a kernel time ``value`` (ms) lies within the service's ``stamp`` (its second,
    or exactly it when the stamp is finer than a second)."""
    if value is None or stamp is None:
        return False
    return stamp <= value < stamp + 1000 if stamp % 1000 == 0 else value == stamp


def to_ms(value: Any) -> int | None:
    """Unix milliseconds from unix seconds (int/float), an ISO-8601 string or a datetime."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return round(float(value) * 1000) if value > 0 else None
    if isinstance(value, str):
        try:
            return to_ms(float(value))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return round(parsed.timestamp() * 1000)
    return None


def _as_wire_dict(obj: Any) -> Mapping[str, Any]:
    if isinstance(obj, Mapping):
        return obj
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        data = dump(by_alias=True)
        if isinstance(data, Mapping):
            return data
    raise TypeError(
        f"expected a dict with the wire's PascalCase keys or a pydantic model, got {type(obj)!r}"
    )


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.rstrip("%").strip()
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
