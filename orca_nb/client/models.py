"""Typed views of what the server returns.

Asset-library objects use the wire's PascalCase names as aliases (``Id``, ``GroupId``,
``AssetType``, ``Error.Code``); Python names are snake_case; fields the reference does not list are
kept (``model_extra``), never dropped. :class:`VideoTask` normalises the three task shapes the
reference lists (raw Ark object, new-api wrapper, OpenAI-video object) into one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_pascal

from orca_nb import wire
from orca_nb.client.errors import advice_for

__all__ = [
    "Asset",
    "AssetError",
    "Balance",
    "Created",
    "Group",
    "Page",
    "Session",
    "TaskError",
    "TaskUsage",
    "VideoModel",
    "VideoTask",
    "session_status",
]

T = TypeVar("T")


class _Pascal(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="allow", frozen=True
    )


class Created(_Pascal):
    """The ``{"Id": ...}`` a create returns."""

    id: str


class Group(_Pascal):
    """An asset group (``AIGC`` virtual or ``LivenessFace`` real-human)."""

    id: str
    name: str | None = None
    description: str | None = None
    group_type: str | None = None
    project_name: str | None = None
    title: str | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None


class AssetError(_Pascal):
    """Why an asset ``Failed``: ``Error.Code`` and ``Error.Message``; ``advice`` says what to do."""

    code: str | None = None
    message: str | None = None

    @property
    def advice(self) -> str:
        """What to do next, from the client's advice table."""
        return advice_for(self.code)


class Asset(_Pascal):
    """One image, video or audio file in a group. ``url`` is a signed link valid about 12 h."""

    id: str
    group_id: str | None = None
    name: str | None = None
    asset_type: wire.AssetType | None = None
    status: wire.AssetStatus
    url: str | None = Field(  # a bearer link: kept out of repr
        default=None, alias="URL", validation_alias=AliasChoices("URL", "Url"), repr=False
    )
    error: AssetError | None = None
    moderation: dict[str, Any] | None = None
    project_name: str | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None

    @property
    def asset_url(self) -> str:
        """The ``asset://`` reference to use in a video request."""
        return wire.ASSET_URL_SCHEME + self.id

    @property
    def settled(self) -> bool:
        """True once preprocessing is over (``Active`` or ``Failed``)."""
        return self.status != "Processing"


def session_status(word: Any, result_code: Any = None) -> wire.SessionStatus:
    """One of ``pending``, ``success``, ``failed``, ``expired`` for any status word a service uses
    (``verified``, ``completed``, ``succeeded``, ``processing``, ... see
    ``wire.SESSION_STATUS_WORDS``); ``result_code`` ``"10000"`` also means success. An unknown
    or missing word reads as ``pending`` (still going)."""
    key = str(word).strip().lower().replace("-", "_").replace(" ", "_") if word is not None else ""
    mapped = wire.SESSION_STATUS_WORDS.get(key)
    if mapped in ("success", "failed", "expired"):
        return mapped  # type: ignore[return-value]
    if result_code is not None and str(result_code).strip() == wire.SESSION_RESULT_CODE_SUCCESS:
        return "success"
    return "pending"


class Session(BaseModel):
    """A real-human verification session (snake_case on the wire).

    ``status`` is always one of ``pending``, ``success``, ``failed``, ``expired`` whatever word the
    service used (see :func:`session_status`); ``status_raw`` keeps that word (``None`` when the
    reply had none, e.g. when a session is started).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    session_id: str
    h5_link: str | None = Field(default=None, repr=False)  # whoever has it can verify: not shown
    status: wire.SessionStatus = "pending"
    status_raw: str | None = None
    group_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise_status(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        raw = data.get("status")
        if "status_raw" not in data:
            data = {**data, "status_raw": None if raw is None or raw == "" else str(raw)}
        if raw not in wire.SESSION_STATUSES or data.get("result_code") is not None:
            data = {**data, "status": session_status(raw, data.get("result_code"))}
        return data

    @property
    def done(self) -> bool:
        """True once the session can no longer change (success, failed or expired)."""
        return self.status != "pending"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list call. The sync/async subclasses also iterate over every page."""

    items: list[T]
    total_count: int
    page_number: int
    page_size: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_next_page(self) -> bool:
        """Whether another page holds more items."""
        return bool(self.items) and self.page_number * self.page_size < self.total_count


class TaskError(BaseModel):
    """Why a video task failed; ``advice`` says what to do."""

    model_config = ConfigDict(extra="allow", frozen=True)
    code: str | None = None
    message: str | None = None

    @property
    def advice(self) -> str:
        """What to do next, from the client's advice table."""
        return advice_for(self.code, subject="task")


class TaskUsage(BaseModel):
    """Tokens billed for a video task."""

    model_config = ConfigDict(extra="allow", frozen=True)
    completion_tokens: int | None = None
    total_tokens: int | None = None


class VideoTask(BaseModel):
    """A video generation task, whatever shape the server answered in (see :meth:`from_wire`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: wire.TaskStatus
    progress: int = Field(ge=0, le=100)
    model: str | None = None
    video_url: str | None = Field(default=None, repr=False)  # signed links: kept out of repr
    last_frame_url: str | None = Field(default=None, repr=False)
    error: TaskError | None = None
    usage: TaskUsage | None = None
    created_at: int | None = None
    started_at: int | None = None
    updated_at: int | None = None
    completed_at: int | None = None
    ratio: str | None = None
    resolution: str | None = None
    duration: int | None = None
    seed: int | None = None
    upstream_id: str | None = None
    shape: wire.TaskShape = "ark"
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def done(self) -> bool:
        """True on a terminal status (succeeded, failed, cancelled, expired)."""
        return self.status in wire.TERMINAL_TASK_STATUSES

    def ledger_dict(self) -> dict[str, Any]:
        """The normalised task as plain JSON values (what ledgers receive)."""
        return self.model_dump(mode="json", exclude={"raw"})

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> VideoTask:
        """Normalise a submit or fetch reply (Ark object, new-api wrapper, OpenAI-video object)."""
        return _normalise_task(body)


# --------------------------------------------------------------------------- task normalisation
_STATUS_MAP: dict[str, str] = {
    **{s: s for s in wire.TASK_STATUSES},
    **{word.lower(): status for word, status in wire.NEWAPI_TASK_STATUSES.items()},
    "canceled": "cancelled",
    "in_progress": "running",  # the OpenAI video object's words
    "completed": "succeeded",
    "processing": "running",
    "pending": "queued",
}


def _status(value: Any) -> str:
    key = str(value or "queued").strip().lower()
    return _STATUS_MAP.get(key, "running")


def _progress(value: Any, status: str) -> int:
    if value is None or value == "":
        return 100 if status in wire.TERMINAL_TASK_STATUSES else 0
    try:
        number = float(str(value).strip().rstrip("%"))
    except ValueError:
        return 100 if status in wire.TERMINAL_TASK_STATUSES else 0
    return max(0, min(100, round(number)))


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _error(value: Any, fallback_message: Any = None) -> TaskError | None:
    if isinstance(value, Mapping) and (value.get("code") or value.get("message")):
        return TaskError(code=_str(value.get("code")), message=_str(value.get("message")))
    if isinstance(value, str) and value:
        return TaskError(message=value)
    if fallback_message:
        return TaskError(message=str(fallback_message))
    return None


def _usage(value: Any) -> TaskUsage | None:
    if not isinstance(value, Mapping):
        return None
    return TaskUsage(
        completion_tokens=_int(value.get("completion_tokens")),
        total_tokens=_int(value.get("total_tokens")),
        **{k: v for k, v in value.items() if k not in ("completion_tokens", "total_tokens")},
    )


def _from_ark(ark: Mapping[str, Any]) -> dict[str, Any]:
    status = _status(ark.get("status"))
    content = _map(ark.get("content"))
    return {
        "id": _str(ark.get("id")),
        "status": status,
        "progress": _progress(ark.get("progress"), status),
        "model": _str(ark.get("model")),
        "video_url": _str(content.get("video_url")),
        "last_frame_url": _str(content.get("last_frame_url")),
        "error": _error(ark.get("error")),
        "usage": _usage(ark.get("usage")),
        "created_at": _int(ark.get("created_at")),
        "updated_at": _int(ark.get("updated_at")),
        "ratio": _str(ark.get("ratio")),
        "resolution": _str(ark.get("resolution")),
        "duration": _int(ark.get("duration")),
        "seed": _int(ark.get("seed")),
    }


def _normalise_task(body: Mapping[str, Any]) -> VideoTask:
    fields: dict[str, Any]
    if isinstance(body.get("data"), Mapping) and "code" in body:
        shape = "newapi"
        outer = body["data"]
        inner = _map(outer.get("data"))
        fields = _from_ark(inner) if inner else {}
        status = _status(inner.get("status") or outer.get("status"))
        fields["status"] = status
        if inner.get("progress") is None:
            fields["progress"] = _progress(outer.get("progress"), status)
        fields["upstream_id"] = _str(inner.get("id"))
        fields["id"] = _str(outer.get("task_id") or outer.get("id")) or fields.get("upstream_id")
        # 12.1: the wrapper's result_url is the URL the gateway hands out; it wins.
        fields["video_url"] = _str(outer.get("result_url")) or fields.get("video_url")
        fields["error"] = fields.get("error") or _error(None, outer.get("fail_reason"))
        fields["created_at"] = fields.get("created_at") or _int(outer.get("submit_time"))
        fields["started_at"] = _int(outer.get("start_time"))
        fields["completed_at"] = _int(outer.get("finish_time"))
        fields["model"] = fields.get("model") or _str(outer.get("model"))
    elif body.get("object") == "video" and "content" not in body:
        shape = "openai"
        status = _status(body.get("status"))
        meta = _map(body.get("metadata"))
        fields = {
            "id": _str(body.get("id") or body.get("task_id")),
            "status": status,
            "progress": _progress(body.get("progress"), status),
            "model": _str(body.get("model")),
            "video_url": _str(meta.get("url") or body.get("video_url") or body.get("url")),
            "last_frame_url": _str(meta.get("last_frame_url")),
            "error": _error(body.get("error")),
            "usage": _usage(body.get("usage")),
            "created_at": _int(body.get("created_at")),
            "completed_at": _int(body.get("completed_at")),
            "seed": _int(body.get("seed")),
            "duration": _int(body.get("seconds") or meta.get("duration")),
        }
    else:
        shape = "ark"
        fields = _from_ark(body)
        public = _str(body.get("task_id"))
        if public and public != fields["id"]:
            fields["upstream_id"] = fields["id"]
            fields["id"] = public
        fields["id"] = fields["id"] or public
    if not fields.get("id"):
        raise ValueError("video task reply has no task id")
    return VideoTask(shape=shape, raw=dict(body), **fields)


# --------------------------------------------------------------------------- model discovery
@dataclass(frozen=True)
class VideoModel:
    """A video model the service lists (``GET /v1/models``) or the built-in table names.

    ``spec`` holds its limits (durations, resolutions, reference counts) for
    ``compose.validate(spec=...)``: what the service says where it says it, else the table's
    (``wire.MODELS``, then ``wire.PEER_MODELS``), else Seedance 2.0's. ``source`` is ``"service"``
    or ``"table"`` (the service did not list models); ``routable`` says whether it can be used now.
    """

    id: str
    routable: bool
    spec: wire.ModelSpec
    source: str = "service"
    input_modalities: tuple[str, ...] = ()
    endpoint_types: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """A short name for people (the id without its ``provider/`` prefix)."""
        return self.id.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Balance:
    """What is left on the account, from ``/v1/dashboard/billing/subscription`` and ``/usage``.

    ``limit`` is the subscription's ``hard_limit_usd`` (new-api: what was left plus what was used),
    ``used`` the usage route's ``total_usage`` (cents) in ``unit``, ``remaining`` their difference
    (``None`` when either is unknown, or ``unlimited``). ``expires_at`` is ``access_until``
    (``None``: never). ``raw`` keeps both replies as the service sent them.
    """

    remaining: float | None
    limit: float | None
    used: float | None
    unit: str = wire.BALANCE_UNIT
    expires_at: datetime | None = None
    unlimited: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """One line for people, e.g. ``12.34 USD left``."""
        if self.unlimited:
            return "unlimited balance"
        if self.remaining is not None:
            return f"{self.remaining:,.2f} {self.unit} left"
        if self.limit is not None:
            return f"limit {self.limit:,.2f} {self.unit}"
        return "balance unknown"
