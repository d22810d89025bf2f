"""What every resource family of the sandbox backend shares: the attributes
:class:`~orca_nb.sandbox.backend.Backend` sets up and the methods one family calls on another.

``Accounts``, ``Groups``, ``Assets``, ``Sessions`` and ``VideoTasks`` each derive from
:class:`BackendState` and are mixed into ``Backend``; the declarations below (type-checking only)
let each module call across families with full types while the code lives in one place each.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from orca_nb.sandbox.clock import Clock
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.faults import Faults
from orca_nb.sandbox.signing import Signer
from orca_nb.sandbox.store import Row, Store, Tx

if TYPE_CHECKING:
    from orca_nb.sandbox.processing import Verdict


class BackendState:
    """Shared state of one sandbox backend (set by ``Backend.__init__``)."""

    config: SandboxConfig
    clock: Clock
    rng: random.Random
    store: Store
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

    if TYPE_CHECKING:  # implemented by Backend or by one resource family

        def now(self) -> float: ...
        def _progress(self, db: Tx, *, force_manual: bool = False) -> None: ...
        def _new_id(self, db: Tx, kind: str, table: str, now: float) -> str: ...
        def _new_token(self, db: Tx, table: str, prefix: str, length: int) -> str: ...

        # groups
        def insert_group(
            self,
            db: Tx,
            account: str,
            name: str,
            description: str,
            group_type: str,
            person: str | None = None,
        ) -> str: ...
        def _group(self, db: Tx, account: str, group_id: str, param: str = "group_id") -> Row: ...

        # assets and files
        def insert_asset(
            self,
            db: Tx,
            account: str,
            group_id: str,
            name: str,
            asset_type: str,
            source_url: str,
            moderation: dict[str, Any],
            verdict: Verdict | None,
            data: bytes | None,
            *,
            created: float | None = None,
            settled: bool = False,
        ) -> str: ...
        def signed_url(self, root: str, blob_id: str, ttl: float) -> str: ...
        def internal_bytes(self, url: str) -> bytes | None: ...
        def wait_for_fetches(self, timeout: float | None = None) -> None: ...
        def _settle_fetches_first(self) -> None: ...
        def _resume_fetches(self) -> None: ...

        # video tasks
        def wait_for_renders(
            self, task_ids: list[str] | None = None, timeout: float = ...
        ) -> None: ...
        def _resume_renders(self) -> None: ...
