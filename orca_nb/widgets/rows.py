"""Plain, hashable records the widgets keep for groups, assets, tasks and sessions.

Rows are built from the client's models (or from wire dicts) by the ``*_from`` functions, so the
rest of the widgets never depend on the exact model classes. Fields marked ``compare=False``
(signed URLs, request bodies) change on every fetch without the row really changing; they are
kept out of equality so refresh diffing only reports real changes. Signed URLs never leave the
kernel: views do not show them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, Generic, TypeVar

from orca_nb.client.models import Asset


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    """First present attribute or key among ``names`` (snake_case model or PascalCase dict)."""
    for name in names:
        if isinstance(obj, Mapping):
            if name in obj and obj[name] is not None:
                return obj[name]
        else:
            value = getattr(obj, name, None)
            if value is not None:
                return value
    return default


def _text(value: Any) -> str:
    if value is None:
        return ""
    raw = getattr(value, "value", value)  # enums
    if hasattr(raw, "isoformat"):
        return str(raw.isoformat())
    return str(raw)


def _model_time(moment: datetime | None) -> str:
    """A model's timestamp as ``_text`` writes it, memoised: a refresh lists the same times
    again for every row (keyed with the tzinfo, as equal instants in other zones print apart)."""
    return "" if moment is None else _isoformat(moment, moment.tzinfo)


@lru_cache(maxsize=8192)
def _isoformat(moment: datetime, zone: tzinfo | None) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class GroupRow:
    """One asset group. ``group_type`` is the wire GroupType: ``AIGC`` or ``LivenessFace``
    (:func:`orca_nb.wire.group_type_label` words it for users)."""

    id: str
    name: str
    group_type: str
    description: str = ""
    create_time: str = ""
    update_time: str = ""


@dataclass(frozen=True)
class AssetRow:
    """One asset. ``url`` is the kernel-only signed link (not compared, never sent to views)."""

    id: str
    name: str
    group_id: str
    asset_type: str
    status: str
    error_code: str = ""
    error_message: str = ""
    create_time: str = ""
    update_time: str = ""
    url: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class TaskRow:
    """One video task as the studio follows it."""

    id: str
    status: str
    progress: int = 0
    error_code: str = ""
    error_message: str = ""
    created_at: str = ""
    video_url: str = field(default="", compare=False, repr=False)
    tokens: int | None = None  # usage.total_tokens as the service billed it (None: not yet)


@dataclass(frozen=True)
class SessionRow:
    """One real-human verification session. ``h5_link`` is not compared and not kept after use."""

    id: str
    status: str
    group_id: str = ""
    h5_link: str = field(default="", compare=False, repr=False)
    raw_status: str = ""  # the service's own word when it is not the normalised one
    error_code: str = ""
    error_message: str = ""
    expires_at: float = 0.0  # epoch seconds when the service says the link expires, else 0


def group_from(obj: Any) -> GroupRow:
    """A :class:`GroupRow` from a client ``Group`` model or a wire dict."""
    return GroupRow(
        id=_text(_get(obj, "id", "Id")),
        name=_text(_get(obj, "name", "Name", default="")),
        group_type=_text(_get(obj, "group_type", "GroupType", default="AIGC")),
        description=_text(_get(obj, "description", "Description", default="")),
        create_time=_text(_get(obj, "create_time", "CreateTime")),
        update_time=_text(_get(obj, "update_time", "UpdateTime")),
    )


def asset_from(obj: Any) -> AssetRow:
    """An :class:`AssetRow` from a client ``Asset`` model or a wire dict."""
    if isinstance(obj, Asset):  # the common case, kept fast: thousands of rows per refresh
        err = obj.error
        return AssetRow(
            obj.id,
            obj.name or "",
            obj.group_id or "",
            obj.asset_type or "",
            obj.status,
            (err.code or "") if err is not None else "",
            (err.message or "") if err is not None else "",
            _model_time(obj.create_time),
            _model_time(obj.update_time),
            obj.url or "",
        )
    error = _get(obj, "error", "Error")
    return AssetRow(
        id=_text(_get(obj, "id", "Id")),
        name=_text(_get(obj, "name", "Name", default="")),
        group_id=_text(_get(obj, "group_id", "GroupId", default="")),
        asset_type=_text(_get(obj, "asset_type", "AssetType", default="")),
        status=_text(_get(obj, "status", "Status", default="")),
        error_code=_text(_get(error, "code", "Code")),
        error_message=_text(_get(error, "message", "Message")),
        create_time=_text(_get(obj, "create_time", "CreateTime")),
        update_time=_text(_get(obj, "update_time", "UpdateTime")),
        url=_text(_get(obj, "url", "URL")),
    )


def task_from(obj: Any) -> TaskRow:
    """A :class:`TaskRow` from a client ``VideoTask`` model or a normalised dict."""
    error = _get(obj, "error")
    progress = _get(obj, "progress", default=0)
    try:
        progress_int = int(str(progress).rstrip("%"))
    except ValueError:
        progress_int = 0
    return TaskRow(
        id=_text(_get(obj, "id", "task_id")),
        status=_text(_get(obj, "status", default="queued")),
        progress=progress_int,
        error_code=_text(_get(error, "code", "Code")),
        error_message=_text(_get(error, "message", "Message")),
        created_at=_text(_get(obj, "created_at")),
        video_url=_text(_get(obj, "video_url")),
        tokens=_tokens(_get(obj, "usage")),
    )


def _tokens(usage: Any) -> int | None:
    total = _get(usage, "total_tokens")
    if total is None:
        total = _get(usage, "completion_tokens")
    try:
        return None if total is None else int(total)
    except (TypeError, ValueError):
        return None


def session_from(obj: Any) -> SessionRow:
    """A :class:`SessionRow` from a client ``Session`` model or the wire dict."""
    status = _text(_get(obj, "status", default="pending"))
    raw = _text(_get(obj, "status_raw", "raw_status", default=status))
    error = _get(obj, "error")
    try:
        expires_at = float(_get(obj, "expires_at", default=0) or 0)
    except (TypeError, ValueError):
        expires_at = 0.0
    return SessionRow(
        id=_text(_get(obj, "session_id", "id")),
        status=status,
        group_id=_text(_get(obj, "group_id")),
        h5_link=_text(_get(obj, "h5_link")),
        raw_status=raw if raw != status else "",
        error_code=_text(_get(error, "code", "Code", default=_get(obj, "error_code"))),
        error_message=_text(
            _get(error, "message", "Message", default=_get(obj, "error_message", "fail_reason"))
        ),
        expires_at=expires_at if math.isfinite(expires_at) and expires_at > 0 else 0.0,
    )


K = TypeVar("K")
R = TypeVar("R")


@dataclass(frozen=True)
class Diff(Generic[K]):
    """Keys added, changed and removed between two snapshots of a table."""

    added: frozenset[K] = frozenset()
    changed: frozenset[K] = frozenset()
    removed: frozenset[K] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    @property
    def touched(self) -> frozenset[K]:
        """Every key that is new, different or gone."""
        return self.added | self.changed | self.removed


def diff(before: Mapping[K, R], after: Mapping[K, R]) -> Diff[K]:
    """Compare two ``{key: row}`` snapshots by row equality."""
    added = frozenset(k for k in after if k not in before)
    removed = frozenset(k for k in before if k not in after)
    changed = frozenset(k for k in after if k in before and before[k] != after[k])
    return Diff(added, changed, removed)
