"""Experiments on the real sandbox: a fresh system database per test, fast polling, and DBOS
shut down after every test (it is a process-wide singleton)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client import Orca
from orca_nb.compose import Selection, build_request
from orca_nb.experiments import runtime, shutdown
from orca_nb.experiments.db import ExperimentsDB
from orca_nb.sandbox import Backend, SandboxServer

#: A small, fast render: no references, 480p, the shortest duration.
BODY = build_request(
    wire.SEEDANCE_2, "a lighthouse in a storm", Selection(), ratio="1:1", resolution="480p",
    duration=4,
)  # fmt: skip


@pytest.fixture
def exp_db(tmp_path: Path) -> str:
    """A fresh experiments system database (SQLite)."""
    return f"sqlite:///{tmp_path / 'experiments.sqlite3'}"


@pytest.fixture
def fast(exp_db: str) -> dict[str, Any]:
    """Runtime settings for tests: this test's database, 0.1 s queue and task polling."""
    return {
        "database_url": exp_db,
        "polling_interval": 0.1,
        "poll_interval": 0.1,
        "heartbeat_seconds": 0.5,
    }


@pytest.fixture
def client(sandbox_server: SandboxServer, sandbox_key: str) -> Iterator[Orca]:
    """A blocking client on the test sandbox, recording into the session's throwaway ledger."""
    with Orca(sandbox_key, base_url=sandbox_server.base_url) as c:
        yield c


@pytest.fixture(autouse=True)
def _dbos_stopped() -> Iterator[None]:
    yield
    if runtime.current() is not None:
        shutdown()


@pytest.fixture
def db(exp_db: str) -> Iterator[ExperimentsDB]:
    """A second handle on the test's experiments database (for assertions)."""
    handle = ExperimentsDB(exp_db)
    yield handle
    handle.close()


def sandbox_tasks(backend: Backend) -> list[str]:
    """Every task id the sandbox holds (the API has no task list; the emulator does)."""
    with backend.db.tx() as db:
        return [str(r[0]) for r in db.execute("SELECT id FROM tasks ORDER BY created")]
