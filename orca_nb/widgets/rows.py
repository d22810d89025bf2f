"""Plain, hashable records the widgets keep for groups, assets, tasks and sessions.

Rows are built from the client's models by the ``*_from`` functions, so the rest of the widgets
never depend on the exact model classes. Fields marked ``compare=False`` (signed URLs, request
bodies) change on every fetch without the row really changing; they are kept out of equality so
refresh diffing only reports real changes. Signed URLs never leave the kernel: views do not show
them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, Generic, TypeVar

from orca_nb.client.models import Asset, Group, Session, VideoTask


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _model_time(moment: datetime | None) -> str:
    """A model's timestamp in ISO format, memoised: a refresh lists the same times
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


def group_from(g: Group) -> GroupRow:
    """A :class:`GroupRow` from a client ``Group``."""
    return GroupRow(
        id=g.id,
        name=g.name or "",
        group_type=g.group_type or "AIGC",
        description=g.description or "",
        create_time=_model_time(g.create_time),
        update_time=_model_time(g.update_time),
    )


def asset_from(a: Asset) -> AssetRow:
    """An :class:`AssetRow` from a client ``Asset`` (thousands per refresh: kept lean)."""
    err = a.error
    return AssetRow(
        a.id,
        a.name or "",
        a.group_id or "",
        a.asset_type or "",
        a.status,
        (err.code or "") if err is not None else "",
        (err.message or "") if err is not None else "",
        _model_time(a.create_time),
        _model_time(a.update_time),
        a.url or "",
    )


def task_from(t: VideoTask) -> TaskRow:
    """A :class:`TaskRow` from a client ``VideoTask`` (already normalised by the client)."""
    err, usage = t.error, t.usage
    tokens = None
    if usage is not None:
        tokens = usage.total_tokens if usage.total_tokens is not None else usage.completion_tokens
    return TaskRow(
        id=t.id,
        status=t.status,
        progress=t.progress,
        error_code=(err.code or "") if err is not None else "",
        error_message=(err.message or "") if err is not None else "",
        created_at="" if t.created_at is None else str(t.created_at),
        video_url=t.video_url or "",
        tokens=tokens,
    )


def session_from(s: Session) -> SessionRow:
    """A :class:`SessionRow` from a client ``Session``. Beyond the documented start reply the
    session's shape is a guess (snake_case, reference 5.11): a failure's reason is read from
    ``error`` {code, message}, else ``error_code`` / ``error_message`` / ``fail_reason``."""
    extra = s.model_extra or {}
    error = extra.get("error")
    error = error if isinstance(error, Mapping) else {}
    try:
        expires_at = float(extra.get("expires_at") or 0)
    except (TypeError, ValueError):
        expires_at = 0.0
    raw = s.status_raw or s.status
    return SessionRow(
        id=s.session_id,
        status=s.status,
        group_id=s.group_id or "",
        h5_link=s.h5_link or "",
        raw_status=raw if raw != s.status else "",
        error_code=_text(error.get("code") or extra.get("error_code")),
        error_message=_text(
            error.get("message") or extra.get("error_message") or extra.get("fail_reason")
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
