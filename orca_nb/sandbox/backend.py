"""The sandbox's state and rules, independent of HTTP: accounts, groups, assets, real-human
sessions and video tasks, persisted in SQLite, progressing on an injectable clock.

:class:`Backend` is the facade the routes, the admin API and tests use. Its methods live with
their resource family (``accounts.py``, ``groups.py``, ``assets.py``, ``sessions.py``,
``video_tasks.py``); the SQL schema and every query live in ``db.py`` alone.

Every public method takes the caller's account (see :meth:`Backend.account_for_key`) and plain
JSON-like values, and returns the wire JSON or raises :class:`ErrorReply`. ``root`` arguments are
the server's root URL (``http://127.0.0.1:PORT``), used to build links.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from orca_nb.sandbox import ids, lifecycle
from orca_nb.sandbox.accounts import Accounts, account_id
from orca_nb.sandbox.assets import FETCH_WORKERS
from orca_nb.sandbox.clock import Clock, ManualClock, SystemClock
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.db import SandboxDB, Tx
from orca_nb.sandbox.errors import ErrorReply
from orca_nb.sandbox.faults import Faults
from orca_nb.sandbox.sessions import H5Result, Sessions
from orca_nb.sandbox.signing import Signer
from orca_nb.sandbox.video_tasks import VideoTasks
from orca_nb.sandbox.videos import VideoRequest


class Backend(Accounts, Sessions, VideoTasks):
    """One sandbox: state, rules, clock, random source and fault table.

    The routes' methods live with their resource family: :class:`Accounts` (keys, demo
    library, balance, models), ``Groups``, ``Assets`` (uploads, the fetch worker, signed files),
    :class:`Sessions` (real-human verification, H5) and :class:`VideoTasks` (tasks, renders);
    see :mod:`orca_nb.sandbox.backend_state` for how they stack. Every read and write goes
    through the one :class:`~orca_nb.sandbox.db.SandboxDB`; this class sets up the shared state
    and the clock-driven progression.
    """

    def __init__(self, config: SandboxConfig | None = None, **settings: Any) -> None:
        base = config or SandboxConfig()
        self._initial = base.updated(**settings) if settings else base
        self.config = self._initial
        self.clock: Clock = self._initial.clock or SystemClock()
        self.rng = random.Random(self._initial.seed)
        self.db = SandboxDB(self._initial.db_path)
        self.faults = Faults()
        secret = self.db.setdefault_meta("secret", secrets.token_hex(32))
        self.signer = Signer(bytes.fromhex(secret))
        self._ready_accounts: set[str] = set()  # exist (and, for the demo key, are seeded)
        self._fail_next: list[tuple[str, str]] = []
        self._renders: dict[str, Future[None]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orca-sandbox-render")
        self._fetches: dict[str, Future[None]] = {}
        self._fetcher = ThreadPoolExecutor(
            max_workers=FETCH_WORKERS, thread_name_prefix="orca-sandbox-fetch"
        )
        self._closed = False
        self._running_since = 0.0  # running_stats() counts from here (reset_running_stats)
        self._lock = threading.Lock()
        self._resume_renders()
        self._resume_fetches()

    # ------------------------------------------------------------------ lifecycle
    def configure(self, **changes: Any) -> SandboxConfig:
        """Change settings at run time (e.g. ``processing="manual"``, ``task_shape="newapi"``)."""
        if "clock" in changes or "db_path" in changes:
            raise ValueError("clock and db_path are fixed when the backend is created")
        self.config = self.config.updated(**changes)
        return self.config

    def reset(self) -> None:
        """Forget every account, restore the initial settings, clock, random seed and faults."""
        self.db.clear()
        self._ready_accounts.clear()
        self.config = self._initial
        self.rng.seed(self._initial.seed)
        self.faults.clear()
        self._fail_next.clear()
        self._running_since = 0.0
        if isinstance(self.clock, ManualClock):
            self.clock.reset()

    def close(self) -> None:
        """Stop the render worker and close the database."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._fetcher.shutdown(wait=True, cancel_futures=True)
        self.db.close()

    def now(self) -> float:
        """The backend's current time (unix seconds)."""
        return self.clock.now()

    def step(self, n: int = 1) -> None:
        """Advance every processing asset and unfinished task by ``n`` transitions.

        An asset settles (Active/Failed) in one step; a task needs ``config.task_steps`` steps
        from queued to succeeded, and its last step waits for its render to finish.
        """
        if n < 0:
            raise ValueError("step(n) needs n >= 0")
        for _ in range(n):
            with self.db.tx() as db:
                unfinished = [r["id"] for r in db.unfinished_tasks()]
            self.wait_for_renders(unfinished)
            self.wait_for_fetches()  # an asset settles in one step, its fetch included
            with self.db.tx() as db:
                now = self.now()
                for row in db.assets_to_settle():
                    lifecycle.settle_asset(db, row, now)
                cap = self.config.max_running_tasks
                db.step_tasks(lifecycle.slot_holders(db.unfinished_tasks(), cap))
                self._progress(db, force_manual=True)

    # ------------------------------------------------------------------ progression
    def _progress(self, db: Tx, *, force_manual: bool = False) -> None:
        """Apply every transition that is due now (timed) or by step count (manual)."""
        mode = "manual" if force_manual else self.config.processing
        lifecycle.advance(db, self.config, self.now(), mode)

    def _new_id(self, db: Tx, kind: str, table: str, now: float) -> str:
        """A free ``<kind>-<time>-<5 alnum>`` id of ``table`` (inside the inserting write
        transaction, whose lock makes check-then-insert atomic across processes)."""
        return self._free_id(db, table, lambda: ids.resource_id(kind, now))

    def _new_token(self, db: Tx, table: str, prefix: str, length: int) -> str:
        """A free ``prefix`` + random token id of ``table`` (see :meth:`_new_id`)."""
        return self._free_id(db, table, lambda: prefix + ids.token(length))

    def _free_id(self, db: Tx, table: str, draw: Callable[[], str]) -> str:
        for _ in range(100):  # 36**5 suffixes per second: a retry is already rare
            candidate = draw()
            if not db.id_taken(table, candidate):
                return candidate
        raise RuntimeError(f"could not find a free id in {table}")  # pragma: no cover


__all__ = ["Backend", "ErrorReply", "H5Result", "VideoRequest", "account_id"]
