"""DBOS in this process: launched once, one queue per account, clients by account, recovery.

DBOS is a process-wide singleton running worker threads. :func:`launch` starts it once (later
calls reuse it; :func:`shutdown` stops it, e.g. between tests) with:

- a system database: ``database_url=``, else
  :func:`orca_nb.experiments.location.default_database_url`
  (SQLite beside the ledger; PostgreSQL when the ledger is one, so a team shares queues);
- a unique executor id per process, a heartbeat row in the experiments' db, and a thread that
  finds dead workers (a pid gone on this host, or no heartbeat for ``stale_seconds``) and puts
  their unfinished workflows back on their queue: one claimer per dead worker;
- one queue per account (``orca-nb-<submitter label>``) with a global concurrency cap (running
  variants, across every process) and a rate limit (submits per minute), both settable.
  The cap counts variants in flight (sent and not yet seen finished). Each spends a fraction of
  a second of its slot on the create's and the last poll's round trips and the queue's pickup,
  so a service that queues tasks over its own running cap (Ark does, GUESS) is kept fully busy
  by a cap ~20 % above the service's (``benchmarks/bench_sweep.py --headroom``).

DBOS refuses its blocking calls inside a running event loop (a notebook cell runs inside one), so
every DBOS call made from user code goes through :func:`off_loop`. Widgets must not be updated
from DBOS's threads: read progress from the db on the kernel's loop instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from orca_nb.experiments.db import ExperimentsDB
from orca_nb.experiments.location import default_database_url

if TYPE_CHECKING:
    from orca_nb.client import Orca

log = logging.getLogger("orca_nb.experiments")
T = TypeVar("T")

APP_NAME: Final = "orca_nb"
#: The workflows' contract: DBOS recovers only workflows of the same application version, so it
#: is fixed here (not hashed from source) and changes only when the steps change meaning.
APP_VERSION: Final = "orca_nb-experiments-1"
DEFAULT_CONCURRENCY: Final = 4
DEFAULT_PER_MINUTE: Final = 30
#: After a limits change, wait this many of the longest polling interval (DBOS waits it x
#: 0.95-1.05 between reading the limits and dequeuing; a busy machine stretches that) plus the
#: margin, so that every worker has read the new limits before new variants are enqueued.
QUEUE_RELOAD_POLLS: Final = 2.0
QUEUE_RELOAD_MARGIN_SECONDS: Final = 0.25


def queue_name(account: str) -> str:
    """The DBOS queue of one account (``account`` is a key label, never a key)."""
    return f"orca-nb-{account}"


@dataclass(frozen=True)
class Settings:
    """How this process runs experiments.

    ``polling_interval`` is how often DBOS looks for work on a queue (seconds);
    ``heartbeat_seconds``/``stale_seconds`` how often this process says it is alive and after how
    long without a heartbeat another host's worker counts as dead; ``poll_interval`` the first
    interval between task polls (None: the client's default) and ``follow_timeout`` how long one
    follow step waits before checkpointing and waiting again. ``rate_period`` is the window the
    queue's submits-per-minute limit counts over: 60 s; tests shorten it to keep the same rule
    quick.
    """

    database_url: str
    # a freed slot is taken within this (bench_sweep: 1 s cost 5-10 % of the wall time)
    polling_interval: float = 0.25
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 30.0
    poll_interval: float | None = None
    follow_timeout: float = 600.0
    rate_period: float = 60.0

    def __post_init__(self) -> None:
        names = ("polling_interval", "heartbeat_seconds", "stale_seconds", "follow_timeout",
                 "rate_period")  # fmt: skip
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")


class RuntimeConflictError(RuntimeError):
    """This process's DBOS already runs with other settings (another database or account)."""


def off_loop(fn: Callable[[], T]) -> T:
    """Run ``fn`` here, or in a short-lived thread when this thread is running an event loop
    (DBOS raises for its blocking calls there)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="orca-nb-dbos-call", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


class Runtime:
    """This process's DBOS, experiments db (``db``), clients and queues (from :func:`launch`)."""

    def __init__(self, settings: Settings, db: ExperimentsDB, executor_id: str, accounts: set[str]):
        self.settings = settings
        self.db = db
        self.executor_id = executor_id
        self.accounts = accounts
        self._clients: dict[str, Orca] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopped(self) -> bool:
        """True once :func:`shutdown` began: executions still in flight must record nothing."""
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` (less if :func:`shutdown` begins); returns whether it began."""
        return self._stop.wait(max(0.0, seconds))

    # ------------------------------------------------------------------ clients
    def add_client(self, client: Orca) -> str:
        """Use ``client`` for its account's variants in this process; returns the account."""
        from orca_nb.client import Orca

        if not isinstance(client, Orca):
            raise TypeError(
                "experiments run in worker threads and need a blocking client: pass an "
                f"orca_nb.Orca (got {type(client).__name__})"
            )
        account = client.key_label
        if account not in self.accounts:
            raise RuntimeConflictError(
                f"this process runs experiments for {', '.join(sorted(self.accounts))}, not "
                f"{account} (DBOS picks its queues at launch); run that account's experiments "
                "in another process, e.g. `orca-nb worker` with its key"
            )
        with self._lock:
            self._clients[account] = client
        return account

    def client(self, account: str) -> Orca:
        """The client for ``account`` (a clear error when this process has none)."""
        with self._lock:
            found = self._clients.get(account)
        if found is None:
            raise RuntimeConflictError(f"this process has no client for account {account}")
        return found

    # ------------------------------------------------------------------ queues
    def queue(
        self, account: str, *, concurrency: int | None = None, per_minute: int | None = None
    ) -> Any:
        """The account's queue, registered if new; given limits are written for every worker.

        A worker dequeues with the limits it read before its last polling wait, so when the
        limits change this returns only after that wait has passed in every worker: the
        variants enqueued next (``start``) are never taken under the old, higher cap.
        """
        from dbos import DBOS

        for name, value in (("concurrency", concurrency), ("per_minute", per_minute)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        name = queue_name(account)
        existing = off_loop(lambda: DBOS.retrieve_queue(name))
        if existing is not None and concurrency is None and per_minute is None:
            return existing
        before: tuple[Any, Any, float] | None = None
        if existing is not None:  # keep what is stored for the setting not given
            limiter = off_loop(lambda: existing.limiter)
            stored = off_loop(lambda: existing.global_concurrency)
            before = (stored, limiter, float(off_loop(lambda: existing.polling_interval_sec)))
            if concurrency is None:
                concurrency = stored
            if per_minute is None and limiter is not None:
                per_minute = int(limiter["limit"])
        concurrency = concurrency or DEFAULT_CONCURRENCY
        per_minute = per_minute or DEFAULT_PER_MINUTE
        # dbos._queue.QueueRateLimit
        limits: Any = {"limit": per_minute, "period": self.settings.rate_period}
        queue = off_loop(
            lambda: DBOS.register_queue(
                name,
                global_concurrency=concurrency,
                limiter=limits,
                polling_interval_sec=self.settings.polling_interval,
                on_conflict="always_update",
            )
        )
        if before is not None and before[:2] != (concurrency, limits):
            longest = max(before[2], self.settings.polling_interval)
            time.sleep(longest * QUEUE_RELOAD_POLLS + QUEUE_RELOAD_MARGIN_SECONDS)
        return queue

    def outstanding(self, account: str) -> int:
        """Workflows waiting on or running from the account's queue (every worker's)."""
        from dbos import DBOS

        waiting = off_loop(
            lambda: DBOS.list_workflows(
                queue_name=queue_name(account), status=["ENQUEUED", "PENDING"],
                load_input=False, load_output=False,
            )
        )  # fmt: skip
        return len(waiting)

    # ------------------------------------------------------------------ liveness
    def start_monitor(self) -> None:
        """Beat now, recover dead workers now, then keep doing both in a daemon thread."""
        self.db.heartbeat(self.executor_id)
        self.recover_dead()
        self._thread = threading.Thread(target=self._monitor, name="orca-nb-monitor", daemon=True)
        self._thread.start()

    def _monitor(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_seconds):
            try:
                self.db.heartbeat(self.executor_id)
                self.recover_dead()
            except Exception:  # keep beating; a database hiccup must not stop the worker
                log.exception("orca_nb experiments: heartbeat or recovery failed")

    def recover_dead(self) -> list[str]:
        """Put the unfinished workflows of dead workers back on their queues; returns their ids."""
        from dbos import DBOS

        stale_ms = int(self.settings.stale_seconds * 1000)
        recovered: list[str] = []
        for dead in self.db.claim_dead(stale_ms=stale_ms, me=self.executor_id):
            pending = DBOS.list_workflows(
                status="PENDING", executor_id=dead, load_input=False, load_output=False
            )
            for wf in pending:
                if wf.queue_name:
                    DBOS.resume_workflow(wf.workflow_id, queue_name=wf.queue_name)
                    recovered.append(wf.workflow_id)
            if pending:
                log.info("orca_nb experiments: recovered %d workflows of %s", len(pending), dead)
        return recovered

    def stop_monitor(self) -> None:
        """Stop beating and recovering."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def retire(self) -> None:
        """After DBOS stopped: mark this worker gone (others recover what it left) and close."""
        try:
            self.db.retire_executor(self.executor_id)
        finally:
            self.db.close()


_lock = threading.Lock()
_runtime: Runtime | None = None


def current() -> Runtime | None:
    """This process's runtime, if launched."""
    return _runtime


def launch(
    client: Orca,
    *,
    database_url: str | None = None,
    concurrency: int | None = None,
    per_minute: int | None = None,
    polling_interval: float | None = None,
    heartbeat_seconds: float | None = None,
    stale_seconds: float | None = None,
    poll_interval: float | None = None,
    follow_timeout: float | None = None,
    rate_period: float | None = None,
) -> Runtime:
    """Start (once per process) or reuse DBOS for ``client``'s account; returns the runtime.

    Settings apply at the first launch; later calls may pass the same database (or none) and the
    same account, and may change the queue's ``concurrency``/``per_minute``.
    """
    global _runtime
    from orca_nb.client import Orca

    if not isinstance(client, Orca):
        raise TypeError(
            "experiments run in worker threads and need a blocking client: pass an orca_nb.Orca"
            f" (got {type(client).__name__})"
        )
    account = client.key_label
    with _lock:
        if _runtime is not None:
            if database_url is not None and database_url != _runtime.settings.database_url:
                raise RuntimeConflictError(
                    "DBOS already runs in this process on another system database; call "
                    "orca_nb.experiments.shutdown() first to switch"
                )
            _runtime.add_client(client)
            if concurrency is not None or per_minute is not None:
                _runtime.queue(account, concurrency=concurrency, per_minute=per_minute)
            return _runtime
        overrides: dict[str, Any] = {
            k: v
            for k, v in {
                "polling_interval": polling_interval,
                "heartbeat_seconds": heartbeat_seconds,
                "stale_seconds": stale_seconds,
                "poll_interval": poll_interval,
                "follow_timeout": follow_timeout,
                "rate_period": rate_period,
            }.items()
            if v is not None
        }
        settings = Settings(database_url or default_database_url(), **overrides)
        _runtime = off_loop(lambda: _start(settings, client, concurrency, per_minute))
        return _runtime


def _start(
    settings: Settings, client: Orca, concurrency: int | None, per_minute: int | None
) -> Runtime:
    from dbos import DBOS, DBOSConfig

    from orca_nb.experiments import workflows  # registers the workflow functions

    assert workflows.variant_workflow is not None
    account = client.key_label
    executor_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": settings.database_url,
        "executor_id": executor_id,
        "application_version": APP_VERSION,
        "log_level": "WARNING",
    }
    db = ExperimentsDB(settings.database_url)
    DBOS(config=config)
    try:
        DBOS.listen_queues([queue_name(account)])
        DBOS.launch()
        runtime = Runtime(settings, db, executor_id, {account})
        runtime.add_client(client)
        runtime.queue(account, concurrency=concurrency, per_minute=per_minute)
        runtime.start_monitor()
        _stop_at_exit_once()
    except BaseException:
        DBOS.destroy()
        db.close()
        raise
    return runtime


_stop_at_exit_registered = False


def _stop_at_exit_once() -> None:
    """Have the interpreter's exit stop this process's runtime before it waits for DBOS's worker
    threads: in-flight executions unwind at once (their variants stay pending for the next launch
    or a worker) instead of holding a finished script or a closing kernel until they end."""
    global _stop_at_exit_registered
    if _stop_at_exit_registered:
        return
    # threading's exit hooks run before it joins thread pools (concurrent.futures registers its
    # join there, at import, so this later one runs first); plain atexit would run too late.
    register = getattr(threading, "_register_atexit", None)
    if register is None:  # pragma: no cover - every CPython since 3.9 has it
        return
    register(_stop_at_exit)
    _stop_at_exit_registered = True


def _stop_at_exit() -> None:
    if _runtime is None:
        return
    try:
        shutdown()
    except Exception:  # the process is exiting: say why, never block it
        log.exception("orca_nb experiments: stopping at exit failed")


def shutdown(*, wait_seconds: int = 0) -> None:
    """Stop DBOS in this process (queued variants stay queued for the next launch or worker)."""
    global _runtime
    from dbos import DBOS

    with _lock:
        runtime, _runtime = _runtime, None
        if runtime is not None:
            runtime.stop_monitor()
        try:
            off_loop(lambda: DBOS.destroy(workflow_completion_timeout_sec=wait_seconds))
        finally:
            if runtime is not None:
                runtime.retire()
