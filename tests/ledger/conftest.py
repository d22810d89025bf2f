"""Fixtures for the ledger tests: a loopback PostgreSQL server, a ledger URL per backend, and
a ledger on each with a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from orca_nb.ledger import Ledger, open_ledger
from tests.ledger.postgres_server import ledger_url, postgres_server, postgres_url

__all__ = ["T0", "Clock", "clock", "ledger", "ledger_url", "postgres_server", "postgres_url"]

#: The tests' "now" at the start: 2026-03-18 09:00 UTC.
T0 = datetime(2026, 3, 18, 9, 0, tzinfo=UTC).timestamp()


class Clock:
    """A clock the test moves by hand (``clock.now += 5``)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(ledger_url: str, clock: Clock) -> Iterator[Ledger]:
    """A ledger on each backend (SQLite, PostgreSQL) that reads ``clock``."""
    with open_ledger(ledger_url, clock=clock) as opened:
        yield opened
