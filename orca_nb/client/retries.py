"""The client's retry policy, decided once: which statuses and transport failures are retried,
which prove a create did not happen, the delays (exponential backoff with jitter, the server's
``Retry-After``), and a background poller's pause. ``_core.send`` applies it to every call,
``operations._stream`` to downloads and the live store (widgets) to its refresh loop. What each
call guarantees on top of it is the table in README.md.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

from orca_nb.client import defaults
from orca_nb.client.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    error_from_response,
)

#: Statuses worth another try: timeout, conflict, rate limit, server trouble.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Retryable statuses that prove a create did *not* happen (refused before any work).
REFUSED_STATUSES = frozenset({429, 503})


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (delta seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    reference = time.time() if now is None else now
    return max(0.0, float(when.timestamp()) - reference)


def backoff_delay(
    attempt: int,
    rng: random.Random | None,
    *,
    initial: float = defaults.INITIAL_BACKOFF_SECONDS,
    cap: float = defaults.MAX_BACKOFF_SECONDS,
) -> float:
    """Exponential backoff for retry ``attempt`` (0-based): ``initial`` doubling, capped at
    ``cap``, minus up to 25% jitter (none without ``rng``: a pause shown to the user)."""
    base = min(cap, initial * 2.0**attempt)
    return base if rng is None else base * (1 - defaults.BACKOFF_JITTER * rng.random())


def retry_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float | None:
    """How long to wait before the next try, or ``None`` if the server asks for longer than the
    cap (then the error is raised with its ``retry_after`` instead of sleeping for minutes)."""
    if retry_after is not None:
        return None if retry_after > defaults.RETRY_AFTER_CAP_SECONDS else retry_after
    return backoff_delay(attempt, rng)


def poller_retry_delay(
    failures: int, retry_after: float | None, *, initial: float, cap: float
) -> float:
    """The pause of a background poller (the live store) after ``failures`` consecutive
    failed passes (1-based): the backoff from ``initial`` capped at ``cap``, and never shorter
    than the server's ``Retry-After`` (capped too). A poller never gives up."""
    delay = backoff_delay(max(0, failures - 1), None, initial=initial, cap=cap)
    if retry_after is not None and retry_after > 0:
        delay = min(cap, max(delay, retry_after))
    return delay


def poll_delay(interval: float, remaining: float, hint: float | None) -> float:
    """Next poll pause: the server's hint if any (capped), else ``interval``; never past the
    deadline."""
    delay = interval if hint is None else min(hint, defaults.RETRY_AFTER_CAP_SECONDS)
    return max(0.0, min(delay, remaining))


def next_interval(interval: float, ceiling: float) -> float:
    """Grow a poll interval geometrically up to ``ceiling``."""
    return min(ceiling, interval * defaults.POLL_GROWTH)


def _maybe_sent(exc: httpx.TransportError) -> bool:
    """Could the server have received (and acted on) the request before this failure?"""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _retryable_transport(exc: httpx.TransportError) -> bool:
    return not isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError)


def connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """The error for a transport failure (a timeout gets :class:`APITimeoutError`)."""
    what = f"{request.method} {request.url.path}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"{what} timed out ({type(exc).__name__}). Try again, or raise timeout= "
            "(per call or via client.with_options).",
            request=request,
        )
    return APIConnectionError(
        f"{what}: no reply from {request.url.host} ({type(exc).__name__}: {exc}). "
        "Check the network connection and base_url.",
        request=request,
    )


@dataclass(frozen=True)
class Failure:
    """What a failed attempt means for the retry policy (the one place that decides it)."""

    error: APIError
    retryable: bool  # RETRY_STATUSES, or a transport failure worth another try
    retry_after: float | None  # the server's hint, in seconds
    may_have_landed: bool  # the server may have acted on the request


def classify(result: httpx.Response | httpx.TransportError, request: httpx.Request) -> Failure:
    """The policy's reading of a non-2xx reply or a transport failure."""
    if isinstance(result, httpx.Response):
        retry_after = parse_retry_after(result.headers)
        return Failure(
            error_from_response(result, retry_after=retry_after),
            retryable=result.status_code in RETRY_STATUSES,
            retry_after=retry_after,
            may_have_landed=result.status_code not in REFUSED_STATUSES,
        )
    return Failure(
        connection_error(result, request),
        retryable=_retryable_transport(result),
        retry_after=None,
        may_have_landed=_maybe_sent(result),
    )


def next_retry(
    attempt: int, failure: Failure, *, max_retries: int, rng: random.Random
) -> float | None:
    """Seconds to wait before retry ``attempt`` (0-based), or None when the policy gives up
    (not retryable, ``max_retries`` used, or a ``Retry-After`` above the cap)."""
    if not failure.retryable or attempt >= max_retries:
        return None
    return retry_delay(attempt, failure.retry_after, rng)
