"""Run coroutines from widget callbacks as tasks on the kernel's own asyncio loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_RUNNING: set[asyncio.Task[Any]] = set()  # strong references until each task ends


def spawn(
    coro: Coroutine[Any, Any, Any], *, on_error: Callable[[BaseException], None] | None = None
) -> asyncio.Task[Any]:
    """Schedule ``coro`` on the running loop; errors go to ``on_error`` (else the log).

    Widget callbacks run on the kernel's loop, so this never needs a thread or nest-asyncio.
    Raises ``RuntimeError`` with advice when called outside a running loop.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        coro.close()
        raise RuntimeError(
            "orca_nb widgets need a running asyncio loop (a Jupyter kernel or Voilà has one); "
            "in a plain script call the state's async actions with `asyncio.run(...)`."
        ) from None
    task = loop.create_task(coro)
    _RUNNING.add(task)

    def done(t: asyncio.Task[Any]) -> None:
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
    """Wait for every spawned action to finish (tests, benchmarks, notebooks' last cells)."""
    while _RUNNING:
        await asyncio.gather(*list(_RUNNING), return_exceptions=True)
