"""The client core: every decision, no I/O.

Each operation is written once as a generator that *yields effects* (:class:`Send`,
:class:`Download`, :class:`Sleep`, :class:`Gather`, :class:`Notify`) and receives their results.
``Orca`` runs these generators with blocking httpx calls and ``time.sleep``; ``AsyncOrca`` runs
the very same generators with ``await``. Request building, the auth header, URL joining, sending
with retries (the policy: :mod:`orca_nb.client.retries`), error mapping, duplicate reconciliation
and poll intervals all live here or in :mod:`orca_nb.client.operations`, so the two clients
cannot drift apart: they share everything but a ~40-line driver. (Only the public method
signatures exist twice, and the sync ones are generated from the async ones by
``scripts/unasync.py``.)
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar
from urllib.parse import quote

import httpx

from orca_nb import __version__, wire
from orca_nb.client import defaults
from orca_nb.client.errors import (
    APIError,
    OutcomeUnknownError,
    ValidationError,
)
from orca_nb.client.hooks import VideoLedger
from orca_nb.client.retries import (
    backoff_delay,
    classify,
    next_retry,
)

log = logging.getLogger("orca_nb.client")
T = TypeVar("T")


# --------------------------------------------------------------------------- effects
@dataclass(frozen=True)
class Send:
    """Send ``request``; the driver answers with the read ``httpx.Response`` or the
    ``httpx.TransportError`` it caught (never raises it)."""

    request: httpx.Request


@dataclass(frozen=True)
class Download:
    """Stream ``request``: on a 2xx reply feed the body to ``sink`` chunk by chunk, otherwise read
    it. Answered like :class:`Send`."""

    request: httpx.Request
    sink: Callable[[bytes], None]


@dataclass(frozen=True)
class Sleep:
    """Pause for ``seconds`` (through the client's injectable sleep)."""

    seconds: float


@dataclass(frozen=True)
class Gather:
    """Run ``ops`` concurrently where the driver can; answered with one result or exception each,
    in order."""

    ops: tuple[Op[Any], ...]


@dataclass(frozen=True)
class Notify:
    """Call the user's ``callback(value)``; the async driver also awaits a coroutine result."""

    callback: Callable[[Any], object]
    value: Any


Effect: TypeAlias = Send | Download | Sleep | Gather | Notify
Op: TypeAlias = Generator[Effect, Any, T]


# --------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class Config:
    """Resolved client configuration. The key is kept out of ``repr``."""

    api_key: str = field(repr=False)
    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    is_sandbox: bool
    ledger: VideoLedger | None = None
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random, repr=False)
    #: Which route reads a task (``wire.TASK_APIS``) and whether a finished task without usage
    #: is read once more from the OpenAI-style alias for its usage (see ``wire``).
    task_api: wire.TaskApi = wire.DEFAULT_TASK_API
    usage_from_alias: bool = wire.USAGE_FROM_ALIAS
    #: What this client learnt at run time (usage read from the alias per task; whether the
    #: alias is offered). Shared by ``with_options`` copies.
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ledger_service(self) -> str:
        """The service this client's submissions are recorded under in the usage ledger (the
        ``base_url`` given to ``before_submit``, and what its readers filter by): the base URL,
        or ``sandbox:local`` for a sandbox on a loopback host, whose port changes with every
        process (:func:`orca_nb.ledger.service.service_name`)."""
        from orca_nb.ledger.service import service_name  # local: ``import orca_nb`` stays light

        return service_name(self.base_url, is_sandbox=self.is_sandbox)


@dataclass(frozen=True)
class Ctx:
    """Configuration plus this call's overrides."""

    config: Config
    timeout: httpx.Timeout
    max_retries: int

    def now(self) -> float:
        """The (possibly virtual) monotonic clock used for wait deadlines."""
        return self.config.clock()


# --------------------------------------------------------------------------- requests
def join_url(base_url: str, path: str, **path_params: str) -> str:
    """``base_url`` + ``path`` with each ``{name}`` replaced by its percent-encoded value."""
    encoded = {k: quote(v, safe="") for k, v in path_params.items()}
    return base_url.rstrip("/") + "/" + path.format(**encoded).lstrip("/")


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (auth is only ever sent to the API's)."""
    ua, ub = httpx.URL(a), httpx.URL(b)
    return (ua.scheme, ua.host, ua.port) == (ub.scheme, ub.host, ub.port)


def build_request(
    ctx: Ctx,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    idempotency_key: str | None = None,
    auth: bool = True,
) -> httpx.Request:
    """One HTTP request with auth, user agent, JSON body and this call's timeout."""
    headers = {"Accept": "application/json", "User-Agent": f"orca-nb/{__version__}"}
    if auth:
        headers["Authorization"] = f"Bearer {ctx.config.api_key}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    query = {k: v for k, v in (params or {}).items() if v is not None}
    # Only pass params when there are some: httpx replaces a URL's own query (a signed
    # download link's signature) with the params given, even an empty dict.
    try:
        request = httpx.Request(method, url, params=query or None, json=json, headers=headers)
    except (UnicodeError, ValueError, TypeError, httpx.InvalidURL) as exc:
        # The operations check every input first; this is the net under them, so nothing
        # leaves a public call as a bare encoding error.
        raise ValidationError(
            "request", f"cannot be sent ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    request.extensions["timeout"] = ctx.timeout.as_dict()
    return request


# --------------------------------------------------------------------------- sending
@dataclass(frozen=True)
class Found:
    """Reconciliation found the object an unanswered create made."""

    id: str


Reconcile: TypeAlias = Callable[[], Op[str | None]]
Mode: TypeAlias = Literal["read", "delete", "create"]


def send(
    ctx: Ctx,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    mode: Mode = "read",
    reconcile: Reconcile | None = None,
    how_to_check: str = "",
    auth: bool = True,
) -> Op[httpx.Response | Found]:
    """Send with retries; return the 2xx response (or :class:`Found` after reconciliation).

    ``read``/``delete``: 408/409/429/5xx and transport failures are retried up to
    ``ctx.max_retries`` times; a delete that gets 404 after an attempt that may have landed counts
    as done. ``create``: a failure that proves nothing happened (connect failure, 429, 503) is
    retried; one that may have landed (dropped after sending, read timeout, 408/409/500/502/504)
    first runs ``reconcile`` (returns the created id, ``None`` if nothing was created, or raises
    :class:`OutcomeUnknownError`); without ``reconcile`` it raises :class:`OutcomeUnknownError`.
    """
    # One Idempotency-Key per create call, the same on its retries. GUESS: whether OrcaRouter
    # honours it is unknown (the reference is silent); the sandbox ignores it on purpose, and
    # nothing here depends on it: reconciliation alone prevents duplicates.
    idempotency_key = uuid.uuid4().hex if mode == "create" else None
    attempt = 0
    may_have_landed = False
    while True:
        request = build_request(
            ctx, method, url, params=params, json=json, idempotency_key=idempotency_key, auth=auth
        )
        result = yield Send(request)
        if isinstance(result, httpx.Response):
            if result.is_success:
                return result
            if mode == "delete" and result.status_code == 404 and may_have_landed:
                return result
        failed = classify(result, request)
        failure = failed.error
        if not failed.retryable:
            if isinstance(result, Exception):
                raise failure from result
            raise failure
        landed = failed.may_have_landed
        may_have_landed = may_have_landed or landed
        if mode == "create" and landed:
            if reconcile is None:
                raise OutcomeUnknownError(
                    _no_usable_reply(request, result),
                    how_to_check=how_to_check,
                    request=request,
                    response=result if isinstance(result, httpx.Response) else None,
                ) from failure
            log.info("%s %s: outcome unknown, reconciling before any retry", method, url)
            found = yield from _reconcile_patiently(ctx, reconcile)
            if found is not None:
                return Found(found)
        delay = next_retry(attempt, failed, max_retries=ctx.max_retries, rng=ctx.config.rng)
        if delay is None:
            raise failure
        log.info(
            "%s %s failed (%s); retry %d/%d in %.2fs",
            method,
            request.url.path,
            type(failure).__name__,
            attempt + 1,
            ctx.max_retries,
            delay,
        )
        yield Sleep(delay)
        attempt += 1


def _reconcile_patiently(ctx: Ctx, reconcile: Reconcile) -> Op[str | None]:
    """Look for the object an unanswered create made; while nothing shows, wait the retry
    backoff and look again, ``defaults.RECONCILE_LOOKS`` more times (the server may still be
    finishing the create after the client gave up), before concluding nothing was created."""
    found = yield from reconcile()
    for look in range(defaults.RECONCILE_LOOKS):
        if found is not None:
            break
        yield Sleep(backoff_delay(look, ctx.config.rng))
        found = yield from reconcile()
    return found


def _no_usable_reply(request: httpx.Request, result: httpx.Response | Exception) -> str:
    """What happened to a create that may have landed (no advice: retrying could duplicate)."""
    what = f"{request.method} {request.url.path}"
    if isinstance(result, httpx.Response):
        return f"{what} answered HTTP {result.status_code}, which does not say whether it worked."
    return f"{what}: the request was sent but no reply came back ({type(result).__name__})."


def send_json(
    ctx: Ctx,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    mode: Mode = "read",
) -> Op[Any]:
    """:func:`send` and parse the JSON reply (``{}`` for an empty body)."""
    response = yield from send(ctx, method, url, params=params, json=json, mode=mode)
    assert isinstance(response, httpx.Response)
    return parse_json(response)


def parse_json(response: httpx.Response) -> Any:
    """The reply's JSON (``{}`` when empty); a non-JSON 2xx body is an :class:`APIError`."""
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise APIError(
            f"{response.request.method} {response.request.url.path} returned HTTP "
            f"{response.status_code} with a body that is not JSON; is base_url right?",
            request=response.request,
            response=response,
            body=response.text[:500],
        ) from exc
