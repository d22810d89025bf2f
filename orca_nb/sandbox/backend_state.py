"""What every resource family of the sandbox backend shares: the attributes
:class:`~orca_nb.sandbox.backend.Backend` sets up and the methods one family calls on another.

The families build on one another as the resources do: ``Groups`` on :class:`BackendState`;
``Assets`` (an asset lives in a group) and ``Sessions`` (a verified session makes a group) on
``Groups``; ``VideoTasks`` (tasks reference assets) and ``Accounts`` (a new demo account gets
groups and assets) on ``Assets``.
``Backend`` mixes in ``Accounts``, ``Sessions`` and ``VideoTasks`` and implements the few shared
methods declared below (type-checking only).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from orca_nb.sandbox.clock import Clock
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.db import SandboxDB, Tx
from orca_nb.sandbox.faults import Faults
from orca_nb.sandbox.signing import Signer

log = logging.getLogger("orca_nb.sandbox.backend")


class BackendState:
    """Shared state of one sandbox backend (set by ``Backend.__init__``)."""

    config: SandboxConfig
    clock: Clock
    rng: random.Random
    db: SandboxDB
    faults: Faults
    signer: Signer
    _ready_accounts: set[str]
    _fail_next: list[tuple[str, str]]
    _renders: dict[str, Future[None]]
    _executor: ThreadPoolExecutor
    _fetches: dict[str, Future[None]]
    _fetcher: ThreadPoolExecutor
    _closed: bool
    _lock: threading.Lock
    _running_since: float

    def _start_job(
        self,
        pool: ThreadPoolExecutor,
        jobs: dict[str, Future[None]],
        key: str,
        work: Callable[..., None],
        *args: Any,
    ) -> None:
        """Run ``work(*args)`` on ``pool``, listed in ``jobs`` under ``key`` until it ends
        (nothing once the backend is closed)."""
        if self._closed:
            return
        future = pool.submit(work, *args)
        with self._lock:
            jobs[key] = future

        def forget(_done: Future[None]) -> None:
            with self._lock:
                if jobs.get(key) is future:
                    del jobs[key]

        future.add_done_callback(forget)

    def _wait_jobs(
        self, jobs: dict[str, Future[None]], keys: list[str] | None, timeout: float, what: str
    ) -> None:
        """Block until the jobs of ``keys`` (None: all listed now) end, each at most
        ``timeout`` s (a longer one is logged and left running)."""
        with self._lock:
            futures = [f for k, f in jobs.items() if keys is None or k in keys]
        for future in futures:
            try:
                future.result(timeout=timeout)
            except FutureTimeout:
                log.warning("a sandbox %s took longer than %s s", what, timeout)

    if TYPE_CHECKING:  # implemented by Backend (the families call them)

        def now(self) -> float: ...
        def _progress(self, db: Tx, *, force_manual: bool = False) -> None: ...
        def _new_id(self, db: Tx, kind: str, table: str, now: float) -> str: ...
        def _new_token(self, db: Tx, table: str, prefix: str, length: int) -> str: ...
