"""Clocks the sandbox reads time from: the wall clock, or a manual clock tests advance by hand."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

#: Where a :class:`ManualClock` starts by default: the reference's example timestamp.
MANUAL_EPOCH = datetime(2026, 3, 18, 3, 33, 32, tzinfo=UTC).timestamp()


class Clock(Protocol):
    """Anything that tells the time as unix seconds."""

    def now(self) -> float:
        """Current time in unix seconds."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        """Current wall-clock time in unix seconds."""
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to (``advance``); thread-safe."""

    def __init__(self, start: float = MANUAL_EPOCH) -> None:
        self._start = float(start)
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current manual time in unix seconds."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (>= 0) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance({seconds}))")
        with self._lock:
            self._now += seconds
            return self._now

    def reset(self) -> None:
        """Go back to the start time."""
        with self._lock:
            self._now = self._start

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now()!r})"


def iso_z(ts: float) -> str:
    """Unix seconds as the wire's ISO-8601 UTC form, e.g. ``2026-03-18T03:33:32Z``."""
    return _iso_z_seconds(int(ts))


@lru_cache(maxsize=16_384)
def _iso_z_seconds(seconds: int) -> str:
    # Cached: every listed row formats two timestamps, and a library's rows repeat them.
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact(ts: float) -> str:
    """Unix seconds as ``YYYYMMDDhhmmss`` (UTC), the timestamp inside ids."""
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y%m%d%H%M%S")
