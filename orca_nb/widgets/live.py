"""The live store: one refresher per client, shared by every panel.

:class:`LiveStore` keeps the library (groups, assets), the video tasks and the verification
sessions it follows as plain rows, and tells its listeners exactly which rows changed. Its
refresher is a task on the kernel's own asyncio loop (never a thread, never nest-asyncio):

* often (``fast_interval``) it polls only what can still change: ``Processing`` assets, tasks
  not yet finished, pending sessions; with nothing in flight it sleeps until the next full pass,
  unless ``watch_new``: then it lists ``Processing`` assets at that cadence anyway (two small
  requests), so an upload made elsewhere (another notebook, a colleague) shows within seconds;
* rarely (``slow_interval``) or on demand (:meth:`request_refresh`, :meth:`refresh`) it lists
  everything, at the largest page size and the client's concurrency: the first pass asks for
  the first page of every list in one round and the rest in the next (``guess_ahead`` also fills
  that first round's free slots with likely next pages); later passes ask for every page the
  last totals imply at once;
* on errors it backs off by the client's retry policy
  (:func:`orca_nb.client.retries.poller_retry_delay`: doubling from ``fast_interval`` up to
  ``max_backoff``, at least the server's ``Retry-After``) and
  exposes the error and advice in :attr:`status`; :meth:`pause` / :meth:`resume`;
* it starts when the first panel attaches and stops when the last one detaches.

One loop owns the store (its :class:`~orca_nb.widgets.loops.Home`, shared with the gateway): the
refresher, its wake event and lock, and every request of the client run there. A widget handler
on another thread and loop (JupyterLab's kernel subshells) may call any public method: a pass or
an action is awaited on the home loop, a wake-up is handed over with ``call_soon_threadsafe``,
and the rows, listeners and panels are guarded by a lock, so whatever is tracked is polled at the
fast interval from the moment it is tracked, whichever thread tracked it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from orca_nb import wire
from orca_nb.client.errors import NotFoundError
from orca_nb.client.retries import poller_retry_delay
from orca_nb.widgets.advice import describe_error
from orca_nb.widgets.gateway import Gateway
from orca_nb.widgets.loops import Home, gather_all
from orca_nb.widgets.ports import StudioClient
from orca_nb.widgets.rows import AssetRow, Diff, GroupRow, SessionRow, TaskRow, diff

log = logging.getLogger(__name__)

Table = Literal["groups", "assets", "tasks", "sessions", "status"]


@dataclass(frozen=True)
class StoreStatus:
    """What the refresher is doing, for the views' status line."""

    running: bool = False
    paused: bool = False
    loading: bool = False
    loaded: bool = False
    error: str = ""
    advice: str = ""
    consecutive_errors: int = 0
    retry_in: float = 0.0
    last_refresh: float = 0.0  # time.time() of the last successful pass
    requests: int = 0


@dataclass(frozen=True)
class StoreChange:
    """One notification: which table changed and which keys (empty diff for ``status``)."""

    table: Table
    diff: Diff[str]


Listener = Callable[[StoreChange], None]

_STORES: weakref.WeakKeyDictionary[StudioClient, LiveStore] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


class LiveStore:
    """Shared, diffed, self-refreshing view of one client's library, tasks and sessions."""

    def __init__(
        self,
        client: StudioClient,
        *,
        fast_interval: float = 2.0,
        slow_interval: float = 60.0,
        max_backoff: float = 60.0,
        concurrency: int | None = None,
        page_size: int = wire.MAX_PAGE_SIZE,
        asset_cap: int | None = None,
        gateway: Gateway | None = None,
        guess_ahead: bool = False,
        watch_new: bool = False,
    ) -> None:
        if fast_interval <= 0 or slow_interval < fast_interval:
            raise ValueError("need 0 < fast_interval <= slow_interval")
        self.gateway = gateway or Gateway(client, concurrency=concurrency, page_size=page_size)
        self.client = client
        #: The loop that owns this store and the client's connections (shared with the gateway).
        self.home: Home = self.gateway.home
        self.fast_interval = fast_interval
        self.slow_interval = slow_interval
        self.max_backoff = max_backoff
        self.guess_ahead = guess_ahead
        self.watch_new = watch_new
        self.asset_cap: int = asset_cap if asset_cap and asset_cap > 0 else wire.DEFAULT_ASSET_CAP
        self.groups: dict[str, GroupRow] = {}
        self.assets: dict[str, AssetRow] = {}
        self.tasks: dict[str, TaskRow] = {}
        self.sessions: dict[str, SessionRow] = {}
        self.status = StoreStatus()
        self._listeners: list[Listener] = []
        self._panels: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._primitives_loop: asyncio.AbstractEventLoop | None = None
        self._guard = threading.RLock()  # rows, status, listeners, panels (any thread)
        self._full_due = True
        self._next_full = 0.0

    # ------------------------------------------------------------------ registry
    @classmethod
    def for_client(cls, client: StudioClient, **options: Any) -> LiveStore:
        """The one store of ``client`` (created on first use with ``options``)."""
        with _STORES_LOCK:
            store = _STORES.get(client)
            if store is None:
                store = cls(client, **options)
                _STORES[client] = store
            return store

    # ------------------------------------------------------------------ listeners and panels
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on every change; returns the function that unsubscribes it."""
        with self._guard:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._guard, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def attach(self, panel: object) -> None:
        """Count ``panel`` as open; the first one starts the refresher (on a running loop).

        A panel opened on a store that is already live (a re-run cell, a second studio) asks
        for a full pass, so it shows what other clients changed since the last one."""
        with self._guard:
            new = id(panel) not in self._panels
            self._panels.add(id(panel))
        was_running = self.running
        self.start()
        if new and was_running and self.status.loaded:
            self.request_refresh(full=True)

    def detach(self, panel: object) -> None:
        """Count ``panel`` as closed; after the last one the refresher stops."""
        with self._guard:
            self._panels.discard(id(panel))
            last = not self._panels
        if last:
            self.stop()

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        """True while the refresher task is alive (on a loop that is not closed)."""
        task = self._task
        return task is not None and not task.done() and not task.get_loop().is_closed()

    def start(self) -> bool:
        """Start the refresher on the home loop (the running loop becomes home if there is no
        live one); False (and no error) if no loop runs. From another thread or loop the
        start is handed to the home loop."""
        home = self.home.adopt()
        if home is None:
            return False
        if not self.home.here():
            home.call_soon_threadsafe(self.start)
            return True
        if self.running:
            return True
        self._primitives()
        self._task = home.create_task(self._run(), name="orca_nb-live-store")
        self._set_status(running=True)
        return True

    def stop(self) -> None:
        """Cancel the refresher (rows stay; :meth:`start` resumes polling)."""
        self.home.call(self._stop_here)

    def _stop_here(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        self._set_status(running=False)

    async def aclose(self) -> None:
        """Stop and wait for the refresher to finish; close the media HTTP client."""
        await self.home.run(self._aclose_here())

    async def _aclose_here(self) -> None:
        task = self._task
        self._stop_here()
        if task is not None and not task.get_loop().is_closed():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.gateway.aclose()

    def _primitives(self) -> asyncio.Lock:
        """The wake event and pass lock of the running (home) loop, made anew for a new loop."""
        loop = asyncio.get_running_loop()
        if self._primitives_loop is not loop or self._lock is None:
            self._wake = asyncio.Event()
            self._lock = asyncio.Lock()
            self._primitives_loop = loop
        return self._lock

    def pause(self) -> None:
        """Stop polling until :meth:`resume` (the task stays, idle)."""
        self._set_status(paused=True)

    def resume(self) -> None:
        """Resume polling; the next pass runs at once."""
        self._set_status(paused=False)
        self._poke()

    def request_refresh(self, *, full: bool = True) -> None:
        """Ask the refresher for a pass now (a full listing when ``full``)."""
        if full:
            self._full_due = True
        self._poke()

    def _poke(self) -> None:
        """Wake the refresher now, from any thread (handed to the home loop's thread)."""
        self.home.call(self._wake_here)

    def _wake_here(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------ what is in flight
    @property
    def in_flight(self) -> bool:
        """True when something can still change by itself (worth polling often)."""
        return (
            any(a.status == "Processing" for a in self.assets.values())
            or any(t.status not in wire.TERMINAL_TASK_STATUSES for t in self.tasks.values())
            or any(s.status == "pending" for s in self.sessions.values())
        )

    # ------------------------------------------------------------------ passes
    async def refresh(self, *, full: bool = True) -> None:
        """One pass now: everything (``full``) or only what is in flight. Raises on failure.

        Runs on the home loop (awaited from there when called on another loop)."""
        await self.home.run(self._refresh_here(full))

    async def _refresh_here(self, full: bool) -> None:
        async with self._primitives():
            # Only a full pass shows as loading: a fast pass every few seconds would flip every
            # panel's status line (widget messages that also keep an abandoned kernel "active"
            # for the server's culler).
            if full:
                self._set_status(loading=True)
            try:
                if full:
                    await self._full_pass()
                else:
                    await self._fast_pass()
            finally:
                self._set_status(loading=False, requests=self.gateway.requests)

    def _cold_ahead(self) -> int:
        """Pages to guess beyond page 1 of each asset list on a first pass (``guess_ahead``).

        A first pass knows no list sizes, so its first round carries only the four first pages
        (groups and assets of both group types); with ``guess_ahead`` the free request slots of that
        round go to the asset lists' next pages (a library's long lists): a large library loads
        one round sooner, a small one pays up to that many requests for empty pages, once.
        """
        if not self.guess_ahead:
            return 0
        first_pages = 2 * len(wire.GROUP_TYPE_QUERIES)
        return max(0, self.gateway.concurrency - first_pages) // len(wire.GROUP_TYPE_QUERIES)

    async def _full_pass(self) -> None:
        groups_job = asyncio.ensure_future(self.gateway.all_groups())
        try:
            assets = await self.gateway.all_assets(ahead=self._cold_ahead())
            groups = await groups_job
        except BaseException:
            groups_job.cancel()
            await asyncio.gather(groups_job, return_exceptions=True)
            raise
        self._apply("groups", {g.id: g for g in groups}, replace_all=True)
        self._apply("assets", {a.id: a for a in assets}, replace_all=True)
        await self._fast_pass(assets_too=False)
        self._full_due = False
        self._next_full = time.monotonic() + self.slow_interval
        self._set_status(loaded=True)

    async def _fast_pass(self, *, assets_too: bool = True) -> None:
        jobs: list[Any] = []
        if assets_too and (
            self.watch_new or any(a.status == "Processing" for a in self.assets.values())
        ):
            jobs.append(self._poll_processing())
        jobs += [
            self._poll_task(t.id)
            for t in self.tasks.values()
            if t.status not in wire.TERMINAL_TASK_STATUSES
        ]
        jobs += [self._poll_session(s.id) for s in self.sessions.values() if s.status == "pending"]
        await gather_all(*jobs)

    async def _poll_processing(self) -> None:
        before = {k for k, a in self.assets.items() if a.status == "Processing"}
        now = {a.id: a for a in await self.gateway.all_assets(statuses=["Processing"])}
        left = sorted(before - now.keys())
        finals = await gather_all(*(self._get_asset_or_none(i) for i in left))
        gone = {i for i, row in zip(left, finals, strict=True) if row is None}
        now.update({row.id: row for row in finals if row is not None})
        self._apply("assets", now, removed=gone)

    async def _get_asset_or_none(self, asset_id: str) -> AssetRow | None:
        try:
            return await self.gateway.get_asset(asset_id)
        except NotFoundError:
            return None

    async def _poll_task(self, task_id: str) -> None:
        row = await self.gateway.get_video(task_id)
        self._apply("tasks", {task_id: replace(row, id=task_id)})

    async def _poll_session(self, session_id: str) -> None:
        row = await self.gateway.get_session(session_id)
        old = self.sessions.get(session_id)
        # the link is kept only while the session is pending
        link = old.h5_link if old is not None and row.status == "pending" else ""
        self._apply("sessions", {session_id: replace(row, id=session_id, h5_link=link)})
        if row.status == "success" and row.group_id and row.group_id not in self.groups:
            self.upsert_group(await self.gateway.get_group(row.group_id))

    # ------------------------------------------------------------------ the refresher
    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            if self.status.paused:
                wake.clear()
                await wake.wait()
                continue
            # cleared before the pass: what is tracked during it wakes the next wait at once
            wake.clear()
            full = self._full_due or time.monotonic() >= self._next_full
            delay = self.fast_interval if self.in_flight else self.slow_interval
            try:
                await self._refresh_here(full)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # shown to the user, then retried with backoff
                errors = self.status.consecutive_errors + 1
                hint = getattr(exc, "retry_after", None)
                backoff = poller_retry_delay(
                    errors,
                    float(hint) if isinstance(hint, int | float) else None,
                    initial=self.fast_interval,
                    cap=self.max_backoff,
                )
                message, advice = describe_error(exc)
                self._set_status(
                    error=message, advice=advice, consecutive_errors=errors, retry_in=backoff
                )
                delay = backoff
            else:
                if self.status.error or self.status.consecutive_errors:
                    self._set_status(error="", advice="", consecutive_errors=0, retry_in=0.0)
                self._set_status(last_refresh=time.time())
                fast = self.in_flight or self.watch_new
                delay = self.fast_interval if fast else self._until_full()
            # a timer that sets the event, not wait_for: no inner task whose cancellation can be
            # lost while a wake-up from another thread lands at the same moment
            timer = asyncio.get_running_loop().call_later(max(0.0, delay), wake.set)
            try:
                await wake.wait()
            finally:
                timer.cancel()

    def _until_full(self) -> float:
        return max(0.0, min(self.slow_interval, self._next_full - time.monotonic()))

    # ------------------------------------------------------------------ local updates (actions)
    def upsert_group(self, row: GroupRow) -> None:
        """Put one group (after a create or rename) without waiting for a pass."""
        self._apply("groups", {row.id: row})

    def remove_group(self, group_id: str) -> None:
        """Drop a deleted group and its assets."""
        self._apply("groups", {}, removed={group_id})
        self._apply(
            "assets", {}, removed={k for k, a in self.assets.items() if a.group_id == group_id}
        )

    def upsert_asset(self, row: AssetRow) -> None:
        """Put one asset (after an upload) and poll it while it processes."""
        self._apply("assets", {row.id: row})
        self._poke()

    def remove_asset(self, asset_id: str) -> None:
        """Drop a deleted asset."""
        self._apply("assets", {}, removed={asset_id})

    def track_task(self, row: TaskRow) -> None:
        """Follow a submitted video task until it finishes."""
        self._apply("tasks", {row.id: row})
        self._poke()

    def track_session(self, row: SessionRow) -> None:
        """Follow a verification session until it settles."""
        self._apply("sessions", {row.id: row})
        self._poke()

    def forget_session(self, session_id: str) -> None:
        """Drop a session (and its link) from the store."""
        self._apply("sessions", {}, removed={session_id})

    # ------------------------------------------------------------------ counts
    # ------------------------------------------------------------------ internals
    def _apply(
        self,
        table: Literal["groups", "assets", "tasks", "sessions"],
        rows: Mapping[str, Any],
        *,
        removed: Iterable[str] = (),
        replace_all: bool = False,
    ) -> None:
        with self._guard:  # a handler thread and the refresher may both write a table
            before: dict[str, Any] = getattr(self, table)
            after: dict[str, Any] = dict(rows) if replace_all else {**before, **rows}
            for key in removed:
                after.pop(key, None)
            change = diff(before, after)
            if not change:
                return
            # keep unchanged row objects so signed URLs refresh without counting as a change
            setattr(self, table, after)
            self._emit(StoreChange(table, change))

    def _set_status(self, **fields: Any) -> None:
        with self._guard:
            new = replace(self.status, **fields)
            if new != self.status:
                self.status = new
                self._emit(StoreChange("status", Diff()))

    def _emit(self, change: StoreChange) -> None:
        with self._guard:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(change)
            except Exception:  # a broken view must not stop the refresher
                log.exception("live store listener failed on %s", change.table)
