"""Run coroutines from widget callbacks on the loop that owns the store and its connections.

JupyterLab 4.6 sends widget comm messages over kernel *subshells*, and ipykernel 7 runs each
subshell on its own thread with its own asyncio loop. A ``vue_*`` handler may therefore run on a
thread other than the kernel's main one, where the live store's refresher, its wake event and the
client's pooled HTTP connections live. :class:`Home` is that owner: work started anywhere else is
handed to it (``call_soon_threadsafe`` / ``run_coroutine_threadsafe``), so one loop only ever
touches those primitives. Voilà, nbclient and scripts have a single loop; there ``Home`` does
nothing but adopt it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_RUNNING: set[asyncio.Task[Any]] = set()  # strong references until each task ends
_RUNNING_LOCK = threading.Lock()

NO_LOOP_ADVICE = (
    "orca_nb widgets need a running asyncio loop (a Jupyter kernel or Voilà has one); "
    "in a plain script call the state's async actions with `asyncio.run(...)`."
)


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Home:
    """The one loop that owns a store's primitives and its client's connections.

    The first loop that starts the store (or runs a pass) becomes home; it stays home while it
    runs. Code on another thread or loop reaches it through :meth:`call` (a plain function),
    :meth:`run` (await a coroutine there) and :meth:`spawn` (start one there in the background).
    A home loop that has stopped or closed (tests and scripts run one ``asyncio.run`` after
    another) is replaced by the next loop that asks.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._guard = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The home loop while it is alive (running, not closed), else None."""
        loop = self._loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return None
        return loop

    def adopt(self) -> asyncio.AbstractEventLoop | None:
        """The home loop, made the running one if there is no live home; None when no loop
        runs here and there is no live home."""
        with self._guard:
            home = self.loop
            if home is None:
                home = self._loop = _current_loop()
            return home

    def here(self) -> bool:
        """True when the caller runs on the home loop (or no other live loop owns the store)."""
        home = self.loop
        return home is None or home is _current_loop()

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` on the home loop's thread: now when already there, else soon."""
        home = self.loop
        if home is None or home is _current_loop():
            fn(*args)
        else:
            home.call_soon_threadsafe(fn, *args)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the home loop (directly when already there) and return its result."""
        home = self.adopt()
        if home is None or home is _current_loop():
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))

    def spawn(
        self,
        coro: Coroutine[Any, Any, Any],
        *,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Task[Any] | concurrent.futures.Future[asyncio.Task[Any]]:
        """Start ``coro`` as a task on the home loop; errors go to ``on_error`` there (else the
        log). Returns the task, or (from another thread) a future of it."""
        home = self.adopt()
        if home is None:
            coro.close()
            raise RuntimeError(NO_LOOP_ADVICE)
        if home is _current_loop():
            return _start(home, coro, on_error)
        made: concurrent.futures.Future[asyncio.Task[Any]] = concurrent.futures.Future()

        def start() -> None:
            try:
                made.set_result(_start(home, coro, on_error))
            except BaseException as exc:  # the loop is closing: say so to whoever waits
                coro.close()
                made.set_exception(exc)

        try:
            home.call_soon_threadsafe(start)
        except RuntimeError:  # closed between the check and the call: run it here instead
            here = _current_loop()
            if here is None:
                coro.close()
                raise RuntimeError(NO_LOOP_ADVICE) from None
            return _start(here, coro, on_error)
        return made


def _start(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, Any],
    on_error: Callable[[BaseException], None] | None,
) -> asyncio.Task[Any]:
    task = loop.create_task(coro)
    with _RUNNING_LOCK:
        _RUNNING.add(task)

    def done(t: asyncio.Task[Any]) -> None:
        with _RUNNING_LOCK:
            _RUNNING.discard(t)
        if t.cancelled():
            return
        exc = t.exception()
        if exc is None:
            return
        if on_error is not None:
            on_error(exc)
        else:
            log.error("widget action failed", exc_info=exc)

    task.add_done_callback(done)
    return task


def spawn(
    coro: Coroutine[Any, Any, Any],
    *,
    on_error: Callable[[BaseException], None] | None = None,
    home: Home | None = None,
) -> asyncio.Task[Any] | concurrent.futures.Future[asyncio.Task[Any]]:
    """Schedule ``coro`` on ``home``'s loop (default: the running loop); errors go to
    ``on_error`` (else the log). Views pass their store's home (``Panel.run`` does).

    Raises ``RuntimeError`` with advice when there is neither a running loop nor a live home.
    """
    if home is not None:
        return home.spawn(coro, on_error=on_error)
    loop = _current_loop()
    if loop is None:
        coro.close()
        raise RuntimeError(NO_LOOP_ADVICE)
    return _start(loop, coro, on_error)


async def gather_all(*aws: Awaitable[T]) -> list[T]:
    """Like ``asyncio.gather`` but the first failure cancels the others before it is raised."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def settle() -> None:
    """Wait for every spawned action to finish (tests, benchmarks, notebooks' last cells).

    Actions on this loop are awaited; those on another live loop are waited for by polling.
    """
    here = asyncio.get_running_loop()
    while True:
        with _RUNNING_LOCK:
            pending = [t for t in _RUNNING if not t.done()]
            _RUNNING.difference_update(t for t in list(_RUNNING) if t.done())
        mine = [t for t in pending if t.get_loop() is here]
        others = [t for t in pending if t.get_loop() is not here and t.get_loop().is_running()]
        if mine:
            await asyncio.gather(*mine, return_exceptions=True)
        elif others:
            await asyncio.sleep(0.01)
        else:
            return
