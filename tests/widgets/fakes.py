"""An in-memory stand-in for ``AsyncOrca``'s resource calls, for store/state unit tests.

It answers with the client's own models (``orca_nb.client.models``) and lets a test count
requests, add latency and make calls fail. End-to-end tests use the real sandbox instead.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from orca_nb import wire
from orca_nb.client import errors, models
from orca_nb.client.discovery import table_models
from orca_nb.client.hooks import VideoLedger
from orca_nb.client.models import Asset, Created, Group, Page, Session, VideoTask
from orca_nb.ledger.service import service_name

_ids = itertools.count(1)
FAKE_URL = "http://fake.invalid/v1"


def _id(kind: str) -> str:
    return f"{kind}-20260101000000-{next(_ids):05d}"


class FakeStatusError(Exception):
    """A failed request carrying an HTTP status and, like the client's errors, the advice the
    client gives for that status (from its one status -> class mapping)."""

    def __init__(self, status: int, message: str = "injected failure") -> None:
        super().__init__(message)
        self.status_code = status
        reply = httpx.Response(status, request=httpx.Request("GET", "http://fake.invalid/v1"))
        self.advice = errors.error_from_response(reply).advice


@dataclass
class FakeState:
    groups: dict[str, Group] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    tasks: dict[str, VideoTask] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)
    latency: float = 0.0


class _Resource:
    def __init__(self, state: FakeState) -> None:
        self.s = state

    async def _enter(self, name: str) -> None:
        self.s.calls.append(name)
        if self.s.latency:
            await asyncio.sleep(self.s.latency)
        if self.s.fail_next:
            raise self.s.fail_next.pop(0)


def _paged(items: Sequence[Any], page_number: int, page_size: int) -> Page[Any]:
    start = (page_number - 1) * page_size
    return Page(list(items[start : start + page_size]), len(items), page_number, page_size)


class _Groups(_Resource):
    async def list(
        self, *, group_type: str = "real_human", page_number: int = 1, page_size: int = 10
    ) -> Page[Group]:
        await self._enter("groups.list")
        kind = wire.GROUP_TYPE_QUERY_TO_WIRE[group_type]
        items = [g for g in self.s.groups.values() if g.group_type == kind]
        return _paged(items, page_number, page_size)

    async def create(self, *, name: str, description: str = "") -> Created:
        await self._enter("groups.create")
        gid = _id("group")
        self.s.groups[gid] = Group(id=gid, name=name, description=description, group_type="AIGC")
        return Created(id=gid)

    async def get(self, group_id: str) -> Group:
        await self._enter("groups.get")
        return self.s.groups[group_id]

    async def update(self, group_id: str, *, name: str, description: str) -> None:
        await self._enter("groups.update")
        g = self.s.groups[group_id]
        self.s.groups[group_id] = g.model_copy(update={"name": name, "description": description})

    async def delete(self, group_id: str) -> None:
        await self._enter("groups.delete")
        del self.s.groups[group_id]
        for aid in [a.id for a in self.s.assets.values() if a.group_id == group_id]:
            del self.s.assets[aid]


class _Assets(_Resource):
    async def list(
        self,
        *,
        group_type: str = "real_human",
        group_id: str | None = None,
        statuses: Sequence[str] | None = None,
        page_number: int = 1,
        page_size: int = 10,
    ) -> Page[Asset]:
        await self._enter("assets.list")
        kind = wire.GROUP_TYPE_QUERY_TO_WIRE[group_type]
        items = [
            a
            for a in self.s.assets.values()
            if self.s.groups[a.group_id or ""].group_type == kind
            and (group_id is None or a.group_id == group_id)
            and (not statuses or a.status in statuses)
        ]
        return _paged(items, page_number, page_size)

    async def get(self, asset_id: str) -> Asset:
        await self._enter("assets.get")
        if asset_id not in self.s.assets:
            raise errors.error_from_response(  # what AsyncOrca raises for a deleted asset
                httpx.Response(404, request=httpx.Request("GET", f"{FAKE_URL}/asset/files"))
            )
        return self.s.assets[asset_id]

    async def upload(
        self, *, group_id: str, url: str, asset_type: str, name: str | None = None
    ) -> Created:
        await self._enter("assets.upload")
        aid = _id("asset")
        self.s.assets[aid] = Asset(
            id=aid,
            group_id=group_id,
            name=name,
            asset_type=asset_type,
            status="Processing",
            url=url,
        )  # type: ignore[arg-type]
        return Created(id=aid)

    async def delete(self, asset_id: str) -> None:
        await self._enter("assets.delete")
        del self.s.assets[asset_id]


class _RealHuman(_Resource):
    async def start_session(self) -> Session:
        await self._enter("real_human.start_session")
        sid = "s" * 20 + f"{next(_ids):020d}"
        session = Session(
            session_id=sid, h5_link=f"https://verify.invalid/?s={sid}", status="pending"
        )
        self.s.sessions[sid] = session
        return session

    async def get_session(self, session_id: str) -> Session:
        await self._enter("real_human.get_session")
        return self.s.sessions[session_id]


class _Videos(_Resource):
    async def create(self, *, request: dict[str, Any]) -> VideoTask:
        await self._enter("videos.create")
        tid = _id("task")
        task = VideoTask(id=tid, status="queued", progress=0, model=request.get("model"))
        self.s.tasks[tid] = task
        return task

    async def get(self, task_id: str) -> VideoTask:
        await self._enter("videos.get")
        return self.s.tasks[task_id]


class _Models:
    """Not counted in ``calls`` and never failed by ``fail_next`` (tests count library calls)."""

    async def offer(self) -> list[models.VideoModel]:
        return table_models()  # what AsyncOrca offers when the service lists no model


class _Billing:
    """Not counted in ``calls`` and never failed by ``fail_next``."""

    async def balance(self) -> models.Balance | None:
        return None  # what AsyncOrca answers when the service has no billing routes


class FakeOrca:
    """``AsyncOrca`` as the widgets use it (``orca_nb.widgets.ports.StudioClient``), backed by
    dicts."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.groups = _Groups(self.state)
        self.assets = _Assets(self.state)
        self.real_human = _RealHuman(self.state)
        self.videos = _Videos(self.state)
        self.models = _Models()
        self.billing = _Billing()
        self.is_sandbox = True
        self.base_url = FAKE_URL
        self.key_label = "sk-…fake"
        self.ledger: VideoLedger | None = None

    @property
    def ledger_service(self) -> str:
        """The service name the ledger records runs under, by the client's one rule."""
        return service_name(self.base_url, is_sandbox=self.is_sandbox)

    def blocking(self) -> FakeOrca:
        """The blocking twin: the fake stands for itself (only passed on to a test starter)."""
        return self

    def close(self) -> None:
        """Nothing to close (``SweepState.release`` closes the blocking twin)."""

    # helpers for tests ------------------------------------------------------------
    def add_group(self, name: str, group_type: str = "AIGC") -> str:
        gid = _id("group")
        self.state.groups[gid] = Group(id=gid, name=name, group_type=group_type, description="")
        return gid

    def add_asset(
        self, group_id: str, name: str, *, asset_type: str = "Image", status: str = "Active"
    ) -> str:
        aid = _id("asset")
        self.state.assets[aid] = Asset(
            id=aid,
            group_id=group_id,
            name=name,
            asset_type=asset_type,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            url=f"https://media.invalid/{aid}",
        )
        return aid

    def set_asset(self, asset_id: str, **fields: Any) -> None:
        a = self.state.assets[asset_id]
        self.state.assets[asset_id] = a.model_copy(update=fields)
