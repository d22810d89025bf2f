"""Client defaults in one place: timeouts, retries, backoff bounds, poll intervals.

``NOT_GIVEN`` tells "argument not passed" apart from an explicit ``None``.
"""

from __future__ import annotations

from enum import Enum
from typing import Final, Literal, TypeAlias

import httpx


class NotGiven(Enum):
    """Sentinel type: the caller did not pass this argument."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

#: What ``timeout=`` accepts: seconds, an ``httpx.Timeout``, or ``None`` for no limit.
TimeoutTypes: TypeAlias = float | httpx.Timeout | None

DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0)
DOWNLOAD_TIMEOUT: Final = httpx.Timeout(300.0, connect=10.0)
DEFAULT_MAX_RETRIES: Final = 2

# Backoff: INITIAL * 2**n, capped at MAX, minus up to JITTER of itself (full-jitter-ish).
INITIAL_BACKOFF_SECONDS: Final = 0.5
MAX_BACKOFF_SECONDS: Final = 8.0
BACKOFF_JITTER: Final = 0.25
#: Longest ``Retry-After`` the client will sleep through; longer hints surface as the error.
RETRY_AFTER_CAP_SECONDS: Final = 60.0

# Polling: first interval, growth factor, ceiling; overall wait timeouts.
ASSET_POLL_FIRST_SECONDS: Final = 0.5
ASSET_POLL_MAX_SECONDS: Final = 5.0
VIDEO_POLL_FIRST_SECONDS: Final = 2.0
VIDEO_POLL_MAX_SECONDS: Final = 15.0
POLL_GROWTH: Final = 1.5
ASSET_WAIT_TIMEOUT_SECONDS: Final = 600.0
VIDEO_WAIT_TIMEOUT_SECONDS: Final = 1800.0

#: Page size used when walking every page, and by duplicate reconciliation.
ITER_PAGE_SIZE: Final = 100
#: Most pages reconciliation reads before giving up (bounds the loop).
RECONCILE_MAX_PAGES: Final = 20
#: Further looks reconciliation takes when the first finds nothing, waiting the retry backoff
#: between them (0.5 s, 1 s, 2 s, 4 s: about 7 s in all): a server may still be finishing the
#: create after the client's read timeout, and concluding "nothing was created" too early
#: creates a duplicate on the retry.
RECONCILE_LOOKS: Final = 4
DOWNLOAD_CHUNK_BYTES: Final = 1 << 16
#: Worker threads the blocking client uses for one polling round of ``wait_many``.
SYNC_GATHER_THREADS: Final = 4
