"""The one place the widgets call the client (``orca_nb.client.AsyncOrca``).

Every request the panels make goes through :class:`Gateway`: paging at the largest page size,
fetching every page of a list at bounded concurrency, and turning models into rows. Media bytes
for thumbnails and the result video are fetched here too, by the kernel, so the browser never
needs to reach a URL only the kernel can reach.

Every request runs on the gateway's :class:`~orca_nb.widgets.loops.Home` loop: the client's pooled
connections and the concurrency limit belong to one loop, and a call made on another thread's
loop (a widget handler on a JupyterLab kernel subshell) is awaited there.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import httpx

from orca_nb import wire
from orca_nb.client.errors import NotFoundError
from orca_nb.client.models import Balance, Page, VideoModel
from orca_nb.media import afetch_media
from orca_nb.widgets.loops import Home, gather_all
from orca_nb.widgets.ports import StudioClient
from orca_nb.widgets.rows import (
    AssetRow,
    GroupRow,
    SessionRow,
    TaskRow,
    asset_from,
    group_from,
    session_from,
    task_from,
)

T = TypeVar("T")

#: Requests in flight at once unless the caller says otherwise.
DEFAULT_CONCURRENCY = 8

PageFetch = Callable[[int], Awaitable[tuple[list[T], int]]]


def _page(result: Page[T]) -> tuple[list[T], int]:
    return list(result.items), result.total_count


class Gateway:
    """Requests for the widgets, over one ``AsyncOrca`` client.

    ``concurrency`` bounds requests in flight (default :data:`DEFAULT_CONCURRENCY`);
    ``page_size`` defaults to ``wire.MAX_PAGE_SIZE`` so lists take the fewest requests.
    """

    def __init__(
        self,
        client: StudioClient,
        *,
        concurrency: int | None = None,
        page_size: int = wire.MAX_PAGE_SIZE,
        http: httpx.AsyncClient | None = None,
        home: Home | None = None,
    ) -> None:
        if page_size < 1 or page_size > wire.MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{wire.MAX_PAGE_SIZE}, got {page_size}")
        self.client = client
        self.concurrency = concurrency or DEFAULT_CONCURRENCY
        self.page_size = page_size
        self._http = http
        #: The loop every request runs on (the live store shares it).
        self.home = home or Home()
        self._limit: asyncio.Semaphore | None = None
        self._limit_loop: asyncio.AbstractEventLoop | None = None
        self.requests = 0  # requests sent through this gateway (for tests and benchmarks)
        self._totals: dict[str, int] = {}  # last total of each list (to request pages at once)

    # ------------------------------------------------------------------ plumbing
    async def _call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        if not self.home.here():
            return await self.home.run(self._call(fn, *args, **kwargs))
        self.home.adopt()
        loop = asyncio.get_running_loop()
        if self._limit is None or self._limit_loop is not loop:
            self._limit = asyncio.Semaphore(self.concurrency)
            self._limit_loop = loop
        async with self._limit:
            self.requests += 1
            return await fn(*args, **kwargs)

    async def list_all(self, fetch: PageFetch[T], key: str = "", *, ahead: int = 0) -> list[T]:
        """Every item of a paged list, in the fewest rounds.

        The first time (no total known for ``key``), page 1 comes first (for the total) together
        with the next ``ahead`` pages, a guess that fills request slots that would otherwise
        idle in that round (a guessed page past the end comes back empty and is dropped); then
        the rest at once. Later, the pages the last total implies are all requested at once,
        and only pages beyond them (if the list grew) need a second round.
        """
        if ahead < 0:
            raise ValueError(f"ahead must be >= 0, got {ahead}")
        hint = self._totals.get(key) if key else None
        guess = 1 + ahead if hint is None else max(1, math.ceil(hint / self.page_size))
        results = await gather_all(*(fetch(n) for n in range(1, guess + 1)))
        total = results[0][1]
        got = {n: items for n, (items, _) in enumerate(results, start=1)}
        pages = max(1, math.ceil(total / self.page_size))
        missing = [n for n in range(2, pages + 1) if n not in got]
        for n, (items, _) in zip(
            missing, await gather_all(*(fetch(n) for n in missing)), strict=True
        ):
            got[n] = items
        if key:
            self._totals[key] = total
        return [item for n in range(1, pages + 1) for item in got.get(n, [])]

    # ------------------------------------------------------------------ groups
    def groups_page(self, group_type: wire.GroupTypeQuery) -> PageFetch[GroupRow]:
        """A page fetcher for groups of one type (query word: ``aigc`` or ``real_human``)."""

        async def fetch(page: int) -> tuple[list[GroupRow], int]:
            result = await self._call(
                self.client.groups.list,
                group_type=group_type,
                page_number=page,
                page_size=self.page_size,
            )
            items, total = _page(result)
            return [group_from(g) for g in items], total

        return fetch

    async def all_groups(self) -> list[GroupRow]:
        """Every group of both types."""
        parts = await gather_all(
            *(self.list_all(self.groups_page(k), f"groups:{k}") for k in wire.GROUP_TYPE_QUERIES)
        )
        return [g for part in parts for g in part]

    async def create_group(self, name: str, description: str = "") -> str:
        """Create a virtual (AIGC) group; returns its id."""
        created = await self._call(self.client.groups.create, name=name, description=description)
        return created.id

    async def update_group(self, group_id: str, *, name: str, description: str) -> None:
        """Rename a group / change its description."""
        await self._call(self.client.groups.update, group_id, name=name, description=description)

    async def delete_group(self, group_id: str) -> None:
        """Delete a group (the server deletes its assets too)."""
        await self._call(self.client.groups.delete, group_id)

    async def get_group(self, group_id: str) -> GroupRow:
        """One group."""
        return group_from(await self._call(self.client.groups.get, group_id))

    # ------------------------------------------------------------------ assets
    def assets_page(
        self,
        group_type: wire.GroupTypeQuery,
        *,
        statuses: Sequence[str] | None = None,
        group_id: str | None = None,
    ) -> PageFetch[AssetRow]:
        """A page fetcher for assets of one group type, optionally by status or group."""
        extra: dict[str, Any] = {}
        if statuses:
            extra["statuses"] = list(statuses)
        if group_id:
            extra["group_id"] = group_id

        async def fetch(page: int) -> tuple[list[AssetRow], int]:
            result = await self._call(
                self.client.assets.list,
                group_type=group_type,
                page_number=page,
                page_size=self.page_size,
                **extra,
            )
            items, total = _page(result)
            return [asset_from(a) for a in items], total

        return fetch

    async def all_assets(
        self, *, statuses: Sequence[str] | None = None, ahead: int = 0
    ) -> list[AssetRow]:
        """Every asset of both group types (optionally only some statuses); ``ahead``: pages
        guessed beyond the first of a list not fetched before (see :meth:`list_all`)."""
        parts = await gather_all(
            *(
                self.list_all(
                    self.assets_page(k, statuses=statuses), f"assets:{k}:{statuses}", ahead=ahead
                )
                for k in wire.GROUP_TYPE_QUERIES
            )
        )
        return [a for part in parts for a in part]

    async def get_asset(self, asset_id: str) -> AssetRow:
        """One asset (fresh status)."""
        return asset_from(await self._call(self.client.assets.get, asset_id))

    async def upload_asset(self, *, group_id: str, url: str, asset_type: str, name: str) -> str:
        """Register media by URL into a group; returns the new asset id."""
        created = await self._call(
            self.client.assets.upload,
            group_id=group_id,
            url=url,
            asset_type=cast(wire.AssetType, asset_type),  # the client checks the word
            name=name or None,
        )
        return created.id

    async def delete_asset(self, asset_id: str) -> None:
        """Delete one asset."""
        await self._call(self.client.assets.delete, asset_id)

    # ------------------------------------------------------------------ sessions and videos
    async def start_session(self) -> SessionRow:
        """Start a real-human verification session."""
        return session_from(await self._call(self.client.real_human.start_session))

    async def get_session(self, session_id: str) -> SessionRow:
        """The session's current status (and group id once verified)."""
        return session_from(await self._call(self.client.real_human.get_session, session_id))

    async def create_video(self, body: dict[str, Any]) -> TaskRow:
        """Submit a Seedance request body exactly as built by ``compose.build_request``."""
        return task_from(await self._call(self.client.videos.create, request=body))

    async def get_video(self, task_id: str) -> TaskRow:
        """The task's status, progress and (when done) result link."""
        return task_from(await self._call(self.client.videos.get, task_id))

    # ------------------------------------------------------------------ models and balance
    async def offer_models(self) -> list[VideoModel]:
        """The video models to offer, with their limits: the service's list (``GET /v1/models``)
        or, when it lists none, the built-in table."""
        return list(await self._call(self.client.models.offer))

    async def balance(self) -> Balance | None:
        """What is left on the account; None when the service does not say."""
        return await self._call(self.client.billing.balance)

    # ------------------------------------------------------------------ media bytes (kernel side)
    async def fetch_bytes(self, url: str, *, limit: int = 64 * wire.MB) -> bytes:
        """Download media the kernel can reach (signed asset URL, result video)."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"only http(s) media can be fetched, got {url[:40]!r}")
        if not self.home.here():
            return await self.home.run(self.fetch_bytes(url, limit=limit))
        self.home.adopt()
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=30.0, follow_redirects=True)
        got = await afetch_media(url, max_bytes=limit, http=self._http)  # the capped downloader
        if not got.complete:
            raise ValueError(f"media larger than {limit} bytes: {url[:60]}")
        return got.data

    async def result_video(self, task_id: str) -> bytes:
        """A finished task's MP4 bytes through a fresh read of the task (a stored result link
        expires), fetched by the kernel; ``ValueError`` saying why when there is none now."""
        try:
            task = await self.get_video(task_id)
        except NotFoundError:
            raise ValueError(
                f"the service no longer has task {task_id}: results are kept for a limited "
                "time (about 24 h upstream), so this video cannot be played any more"
            ) from None
        if task.status != "succeeded" or not task.video_url:
            raise ValueError(
                f"task {task_id} has no result link now (it is {task.status}): no video to play"
            )
        return await self.fetch_bytes(task.video_url)

    async def aclose(self) -> None:
        """Close the media HTTP client (the API client stays the caller's)."""
        if not self.home.here():
            await self.home.run(self.aclose())
            return
        if self._http is not None:
            await self._http.aclose()
            self._http = None
