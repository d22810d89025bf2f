"""The public resources of :class:`~orca_nb.client.AsyncOrca` (``groups``, ``assets``,
``real_human``, ``videos``, ``models``, ``billing``) and the auto-paging :class:`AsyncPage`.

Each method validates nothing itself: it hands its arguments to one operation in
:mod:`orca_nb.client.operations` (where every rule lives) and awaits the client's driver.
``_resources_sync.py`` is generated from ``_resources_async.py`` by ``scripts/unasync.py``
(outside the package): edit the async file, then run ``python scripts/unasync.py``.
A test fails when the two differ.
"""

# ruff: noqa: ASYNC109
# (timeout= is the per-request HTTP timeout, as in httpx; async generators cannot yield from)

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from orca_nb import wire
from orca_nb.client import defaults, discovery
from orca_nb.client import operations as ops
from orca_nb.client._core import Ctx, Op
from orca_nb.client.defaults import NOT_GIVEN, NotGiven, TimeoutTypes
from orca_nb.client.models import (
    Asset,
    Balance,
    Created,
    Group,
    Page,
    Session,
    VideoModel,
    VideoTask,
)

if TYPE_CHECKING:
    from orca_nb.client._clients import AsyncOrca

T = TypeVar("T")
ListOp = Callable[[Ctx, Mapping[str, Any]], Op[Page[T]]]


@dataclass(frozen=True)
class AsyncPage(Page[T], Generic[T]):
    """One page of results; ``async for item in page`` walks this and every following page."""

    source: tuple[_AsyncResource, ListOp[T], Ctx, Mapping[str, Any]] | None = field(
        default=None, repr=False, compare=False
    )

    async def next_page(self) -> AsyncPage[T] | None:
        """The following page, or ``None`` after the last one."""
        if self.source is None or not self.has_next_page:
            return None
        resource, list_op, ctx, params = self.source
        # Count from the page *asked for*, so a server that ignores page_number cannot loop us.
        asked = int(params["page_number"])
        if asked * int(params["page_size"]) >= self.total_count:
            return None
        return await resource._page(list_op, ctx, {**params, "page_number": asked + 1})

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and every following one."""
        page: AsyncPage[T] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    async def _all_items(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._all_items()


class _AsyncResource:
    def __init__(self, client: AsyncOrca) -> None:
        self._client = client

    def _ctx(self, timeout: TimeoutTypes | NotGiven, max_retries: int | NotGiven) -> Ctx:
        return self._client._ctx(timeout, max_retries)

    async def _page(self, list_op: ListOp[T], ctx: Ctx, params: Mapping[str, Any]) -> AsyncPage[T]:
        page = await self._client._run(list_op(ctx, params))
        return AsyncPage(
            page.items,
            page.total_count,
            page.page_number,
            page.page_size,
            page.raw,
            source=(self, list_op, ctx, params),
        )


class AsyncGroups(_AsyncResource):
    """Asset groups: ``/asset/groups``."""

    async def create(
        self,
        *,
        name: str,
        description: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Created:
        """Create a virtual (AIGC) group; never creates a duplicate (see operations)."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(ops.create_group(ctx, name=name, description=description))

    async def list(
        self,
        *,
        group_type: wire.GroupTypeQuery | None = None,
        name: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_number: int = 1,
        page_size: int = wire.DEFAULT_PAGE_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncPage[Group]:
        """One page of groups (``group_type=None`` means the server default, ``real_human``);
        iterate the page to walk every page."""
        params = ops.group_list_params(
            group_type=group_type,
            name=name,
            sort_by=sort_by,
            sort_order=sort_order,
            page_number=page_number,
            page_size=page_size,
        )
        return await self._page(ops.list_groups, self._ctx(timeout, max_retries), params)

    async def iter(
        self,
        *,
        group_type: wire.GroupTypeQuery | None = None,
        name: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_size: int = defaults.ITER_PAGE_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[Group]:
        """Every matching group, page after page."""
        page = await self.list(
            group_type=group_type,
            name=name,
            sort_by=sort_by,
            sort_order=sort_order,
            page_size=page_size,
            timeout=timeout,
            max_retries=max_retries,
        )
        async for group in page:
            yield group

    async def get(
        self,
        group_id: str,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Group:
        """One group by id."""
        return await self._client._run(ops.get_group(self._ctx(timeout, max_retries), group_id))

    async def update(
        self,
        group_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Group:
        """Rename and/or re-describe a group; returns the updated group."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(
            ops.update_group(ctx, group_id, name=name, description=description)
        )

    async def delete(
        self,
        group_id: str,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> None:
        """Delete a group and, irreversibly, all its assets."""
        await self._client._run(ops.delete_group(self._ctx(timeout, max_retries), group_id))


class AsyncAssets(_AsyncResource):
    """Assets: ``/asset/files``."""

    async def upload(
        self,
        *,
        group_id: str,
        url: str,
        asset_type: wire.AssetType,
        name: str | None = None,
        moderation: str | Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Created:
        """Register a public URL as an asset (processing continues server-side; see ``wait``).
        Pass ``name=`` so an unanswered upload can be checked instead of raising."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(
            ops.upload_asset(
                ctx,
                group_id=group_id,
                url=url,
                asset_type=asset_type,
                name=name,
                moderation=moderation,
            )
        )

    async def list(
        self,
        *,
        group_type: wire.GroupTypeQuery | None = None,
        group_id: str | None = None,
        statuses: str | builtins.list[str] | tuple[str, ...] | None = None,
        name: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_number: int = 1,
        page_size: int = wire.DEFAULT_PAGE_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncPage[Asset]:
        """One page of assets; iterate the page to walk every page."""
        params = ops.asset_list_params(
            group_type=group_type,
            group_id=group_id,
            statuses=statuses,
            name=name,
            sort_by=sort_by,
            sort_order=sort_order,
            page_number=page_number,
            page_size=page_size,
        )
        return await self._page(ops.list_assets, self._ctx(timeout, max_retries), params)

    async def iter(
        self,
        *,
        group_type: wire.GroupTypeQuery | None = None,
        group_id: str | None = None,
        statuses: str | builtins.list[str] | tuple[str, ...] | None = None,
        name: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_size: int = defaults.ITER_PAGE_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[Asset]:
        """Every matching asset, page after page."""
        page = await self.list(
            group_type=group_type,
            group_id=group_id,
            statuses=statuses,
            name=name,
            sort_by=sort_by,
            sort_order=sort_order,
            page_size=page_size,
            timeout=timeout,
            max_retries=max_retries,
        )
        async for asset in page:
            yield asset

    async def get(
        self,
        asset_id: str,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Asset:
        """One asset by id (its ``url`` is a fresh signed link)."""
        return await self._client._run(ops.get_asset(self._ctx(timeout, max_retries), asset_id))

    async def delete(
        self,
        asset_id: str,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> None:
        """Delete an asset (irreversible)."""
        await self._client._run(ops.delete_asset(self._ctx(timeout, max_retries), asset_id))

    async def wait(
        self,
        asset_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
    ) -> Asset:
        """Poll until the asset is ``Active`` and return it; ``AssetFailedError`` (with
        ``.code`` and ``.advice``) if it fails, ``WaitTimeoutError`` after ``timeout`` seconds."""
        ctx = self._ctx(NOT_GIVEN, NOT_GIVEN)
        return await self._client._run(
            ops.wait_asset(ctx, asset_id, timeout=timeout, poll_interval=poll_interval)
        )

    async def wait_many(
        self,
        asset_ids: builtins.list[str] | tuple[str, ...],
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        raise_on_failure: bool = False,
    ) -> builtins.list[Asset]:
        """Poll several assets concurrently until each is ``Active`` or ``Failed``; results in
        input order. ``WaitTimeoutError`` (``.pending``) after ``timeout`` seconds."""
        ctx = self._ctx(NOT_GIVEN, NOT_GIVEN)
        return await self._client._run(
            ops.wait_assets(
                ctx,
                asset_ids,
                timeout=timeout,
                poll_interval=poll_interval,
                raise_on_failure=raise_on_failure,
            )
        )


class AsyncRealHuman(_AsyncResource):
    """Real-human verification sessions: ``/asset/real-human/sessions``."""

    async def start_session(
        self,
        return_url: str | None = None,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        **extra: Any,
    ) -> Session:
        """Start a verification session; show ``session.h5_link`` to the person. Extra keyword
        fields are forwarded to the upstream verification call unchanged."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(ops.start_session(ctx, return_url=return_url, extra=extra))

    async def get_session(
        self,
        session_id: str,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Session:
        """A session's status (and ``group_id`` once verified)."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(ops.get_session(ctx, session_id))


class AsyncVideos(_AsyncResource):
    """Seedance video tasks: ``/video/generations``."""

    async def create(
        self,
        *,
        request: Mapping[str, Any] | None = None,
        model: str = wire.SEEDANCE_2,
        prompt: str | None = None,
        content: Any = None,
        ratio: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        generate_audio: bool | None = None,
        watermark: bool | None = None,
        seed: int | None = None,
        return_last_frame: bool | None = None,
        service_tier: str | None = None,
        callback_url: str | None = None,
        extra_metadata: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> VideoTask:
        """Submit a video task. Either the fields (``content`` as dicts or a compose
        ``Selection``) or ``request=`` (a full body from ``orca_nb.compose.build_request``).
        Never submitted twice: an unknown outcome raises ``OutcomeUnknownError``."""
        body = ops.video_request(
            request=request,
            model=model,
            prompt=prompt,
            content=content,
            ratio=ratio,
            duration=duration,
            resolution=resolution,
            generate_audio=generate_audio,
            watermark=watermark,
            seed=seed,
            return_last_frame=return_last_frame,
            service_tier=service_tier,
            callback_url=callback_url,
            extra_metadata=extra_metadata,
        )
        return await self._client._run(ops.create_video(self._ctx(timeout, max_retries), body))

    async def get(
        self,
        task_id: str,
        *,
        via: wire.TaskApi | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> VideoTask:
        """A task's current state, normalised whatever shape the server used.

        ``via="generations"`` reads the documented ``GET /video/generations/{id}``;
        ``via="openai"`` the alias ``GET /videos/{id}`` (the OpenAI video object, which carries
        usage); ``None``: the client's ``task_api`` (default ``generations``). A succeeded task
        read without usage is read once from the alias for it (``usage_from_alias``)."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(ops.get_video(ctx, task_id, via=via))

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_progress: Callable[[VideoTask], object] | None = None,
        via: wire.TaskApi | None = None,
    ) -> VideoTask:
        """Poll until the task is terminal (succeeded, failed, cancelled, expired) and return it;
        ``on_progress(task)`` is called after every poll (AsyncOrca also awaits it when it
        returns an awaitable). ``via``: which route to poll, as for :meth:`get`."""
        ctx = self._ctx(NOT_GIVEN, NOT_GIVEN)
        return await self._client._run(
            ops.wait_video(
                ctx,
                task_id,
                timeout=timeout,
                poll_interval=poll_interval,
                on_progress=on_progress,
                via=via,
            )
        )

    async def download(
        self,
        task: VideoTask | str,
        path_or_file: str | PathLike[str] | IO[bytes],
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> int:
        """Stream the finished MP4 (``task``: a VideoTask, task id or video URL) to a path or a
        binary file; returns the number of bytes written."""
        ctx = self._ctx(defaults.DOWNLOAD_TIMEOUT if timeout is NOT_GIVEN else timeout, max_retries)
        return await self._client._run(ops.download_video(ctx, task, path_or_file))


class AsyncModels(_AsyncResource):
    """Video models: ``GET /v1/models`` (reference 12.5)."""

    async def list(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> builtins.list[VideoModel]:
        """The video models the service lists (``supported_endpoint_types`` has
        ``"openai-video"``), routable first, each with its limits (``.spec``); limits the
        service does not state come from ``wire.MODELS``. Errors raise (see :meth:`offer`)."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(discovery.list_models(ctx))

    async def offer(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> builtins.list[VideoModel]:
        """The models to offer and their limits, never failing: the service's list, or the
        built-in table (``source == "table"``) when the service lists none or cannot be read.
        Pass a model's ``.spec`` to ``compose.validate(spec=...)``."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(discovery.offer_models(ctx))


class AsyncBilling(_AsyncResource):
    """The account's balance: ``/v1/dashboard/billing/subscription`` and ``/usage`` (12.4)."""

    async def balance(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Balance | None:
        """What is left (``Balance.remaining`` in ``Balance.unit``, expiry, both raw replies);
        ``None`` when the service does not offer these routes to this key (401/403/404/405)."""
        ctx = self._ctx(timeout, max_retries)
        return await self._client._run(discovery.get_balance(ctx))
