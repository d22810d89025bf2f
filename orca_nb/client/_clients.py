"""``Orca`` and ``AsyncOrca``: configuration plus a driver that performs the core's effects.

Everything both clients decide is in :mod:`orca_nb.client._core` and
:mod:`orca_nb.client.operations`; a driver only sends requests, streams downloads, sleeps, calls
back, and runs several operations at once (the async client gathers them on its loop; the sync
client runs one polling round in a small thread pool, or one GET after another with
``gather_threads=1``).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import TracebackType
from typing import Any, Self, TypedDict, TypeVar, cast

import httpx

from orca_nb import wire
from orca_nb.client import _validate as v
from orca_nb.client import defaults
from orca_nb.client._core import (
    Config,
    Ctx,
    Download,
    Effect,
    Gather,
    Notify,
    Op,
    Send,
    Sleep,
)
from orca_nb.client._redact import install_log_filter, register_key
from orca_nb.client._resources_async import (
    AsyncAssets,
    AsyncBilling,
    AsyncGroups,
    AsyncModels,
    AsyncRealHuman,
    AsyncVideos,
)
from orca_nb.client._resources_sync import Assets, Billing, Groups, Models, RealHuman, Videos
from orca_nb.client.default_ledger import DefaultLedger
from orca_nb.client.defaults import NOT_GIVEN, NotGiven, TimeoutTypes
from orca_nb.client.errors import ValidationError
from orca_nb.client.hooks import VideoLedger, key_label

log = logging.getLogger("orca_nb.client")
T = TypeVar("T")

_sandbox_note_shown = False


def _note_sandbox_once(base_url: str) -> None:
    global _sandbox_note_shown
    if not _sandbox_note_shown:
        _sandbox_note_shown = True
        log.warning(
            "orca_nb: no API key set, so using the embedded OrcaRouter sandbox at %s "
            "(set %s to use the real service).",
            base_url,
            wire.API_KEY_ENV,
        )


class _Clock:
    """Monotonic time, plus the seconds an injected (non-sleeping) sleep pretended to wait."""

    def __init__(self, virtual: bool) -> None:
        self.virtual = virtual
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        if self.virtual:
            self.offset += seconds


def _resolve(api_key: str | None, base_url: str | None) -> tuple[str, str, bool]:
    """``(key, base_url, is_sandbox)`` from arguments, environment, or the embedded sandbox."""
    key = api_key if api_key is not None else (os.environ.get(wire.API_KEY_ENV) or None)
    base = base_url if base_url is not None else (os.environ.get(wire.BASE_URL_ENV) or None)
    if base is not None:
        base = v.http_url("base_url", base)
    embedded = False
    if key is None:
        if base is None:
            # Lazy: the sandbox (uvicorn, media) loads only when it is actually needed.
            from orca_nb.sandbox import ensure_embedded

            sandbox = ensure_embedded()
            key, base, embedded = sandbox.api_key, sandbox.base_url, True
            _note_sandbox_once(base)
        elif wire.is_loopback_host(httpx.URL(base).host):
            key = wire.DEFAULT_SANDBOX_KEY
        else:
            raise ValidationError(
                "api_key",
                f"no API key: pass api_key= or set {wire.API_KEY_ENV} (or pass neither key nor "
                "base_url to use the embedded sandbox)",
            )
    if not isinstance(key, str) or not key.strip() or any(c.isspace() for c in key):
        raise ValidationError("api_key", "must be a non-empty key without spaces (sk-orca-...)")
    if not key.isascii() or not key.isprintable():
        # never echo the key: it travels in a header, which must be printable ASCII
        raise ValidationError("api_key", "must be printable ASCII (check for a pasted stray char)")
    register_key(key)
    install_log_filter()
    base = v.http_url("base_url", base or wire.DEFAULT_BASE_URL).rstrip("/")
    return key, base, embedded or key.startswith(wire.SANDBOX_KEY_PREFIX)


class _TwinSettings(TypedDict):
    """A client's settings its twin of the other kind is made with (the key aside)."""

    base_url: str
    timeout: httpx.Timeout
    max_retries: int
    ledger: VideoLedger | None
    task_api: wire.TaskApi
    usage_from_alias: bool


class _BaseClient:
    _config: Config
    _clock: _Clock

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int,
        ledger: VideoLedger | NotGiven | None,
        injected_sleep: bool,
        clock: Callable[[], float] | None,
        seed: int | None,
        task_api: wire.TaskApi = wire.DEFAULT_TASK_API,
        usage_from_alias: bool = wire.USAGE_FROM_ALIAS,
    ) -> None:
        key, base, sandbox = _resolve(api_key, base_url)
        chosen_api = v.choice("task_api", task_api, wire.TASK_APIS)
        alias_usage = v.boolean("usage_from_alias", usage_from_alias)
        v.integer("max_retries", max_retries, low=0, high=100)
        if seed is not None:
            v.integer("seed", seed, low=-(2**63), high=2**63 - 1)
        if clock is not None and not callable(clock):
            raise ValidationError("clock", "must be a function returning monotonic seconds")
        if ledger is NOT_GIVEN:
            ledger = DefaultLedger()  # opened on first use, see orca_nb.client.default_ledger
        elif ledger is not None and not isinstance(ledger, VideoLedger):
            raise ValidationError(
                "ledger",
                "must implement orca_nb.client.hooks.VideoLedger (e.g. orca_nb.ledger."
                "open_ledger(...)), or be None to record nothing",
            )
        self._clock = _Clock(virtual=injected_sleep and clock is None)
        self._config = Config(
            api_key=key,
            base_url=base,
            timeout=(
                defaults.DEFAULT_TIMEOUT if timeout is NOT_GIVEN else v.timeout("timeout", timeout)
            ),
            max_retries=max_retries,
            is_sandbox=sandbox,
            ledger=ledger,
            clock=clock or self._clock,
            rng=random.Random(seed),
            task_api=chosen_api,  # type: ignore[arg-type]
            usage_from_alias=alias_usage,
        )

    @property
    def base_url(self) -> str:
        """The API root every path is joined to (``.../v1``)."""
        return self._config.base_url

    @property
    def is_sandbox(self) -> bool:
        """True when talking to a sandbox (embedded, or a ``sk-orca-sandbox-`` key)."""
        return self._config.is_sandbox

    @property
    def key_label(self) -> str:
        """A non-reversible label of the key (safe to show and store)."""
        return key_label(self._config.api_key)

    @property
    def ledger_service(self) -> str:
        """The service name this client's submissions are recorded under in the usage ledger,
        and the one to read them back by (``ledger.history(base_url=...)``, ``reattach``): the
        base URL, or ``sandbox:local`` for a sandbox on this machine, the same in every kernel
        although the embedded sandbox listens on a new port in each."""
        return self._config.ledger_service

    @property
    def ledger(self) -> VideoLedger | None:
        """Where video submissions are recorded: the ``ledger=`` given, or the default ledger
        (opened now if not yet; ``None`` when off or it could not be opened)."""
        ledger = self._config.ledger
        return ledger.resolve() if isinstance(ledger, DefaultLedger) else ledger

    @property
    def task_api(self) -> str:
        """Which route reads tasks: ``generations`` (the documented fetch) or ``openai``."""
        return self._config.task_api

    @property
    def max_retries(self) -> int:
        """Retries per request after the first attempt."""
        return self._config.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The default per-request timeout."""
        return self._config.timeout

    def _ctx(self, timeout: TimeoutTypes | NotGiven, max_retries: int | NotGiven) -> Ctx:
        retries = (
            self._config.max_retries
            if max_retries is NOT_GIVEN
            else v.integer("max_retries", max_retries, low=0, high=100)
        )
        chosen = self._config.timeout if timeout is NOT_GIVEN else v.timeout("timeout", timeout)
        return Ctx(self._config, chosen, retries)

    def _copy_with(self, timeout: TimeoutTypes | NotGiven, max_retries: int | NotGiven) -> Self:
        ctx = self._ctx(timeout, max_retries)
        other = copy.copy(self)
        other._config = replace(self._config, timeout=ctx.timeout, max_retries=ctx.max_retries)
        other._owns_http = False  # type: ignore[attr-defined]
        other._make_resources()  # type: ignore[attr-defined]
        return other

    def _twin_settings(self) -> _TwinSettings:
        """What a twin of the other kind (``Orca.asynchronous``, ``AsyncOrca.blocking``) keeps;
        the key is passed beside it."""
        c = self._config
        return _TwinSettings(
            base_url=c.base_url,
            timeout=c.timeout,
            max_retries=c.max_retries,
            ledger=c.ledger,
            task_api=c.task_api,
            usage_from_alias=c.usage_from_alias,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, sandbox={self.is_sandbox}, "
            f"key={self.key_label})"
        )


class Orca(_BaseClient):
    """Blocking client for OrcaRouter's Seedance asset library and video API.

    ``Orca()`` with no key (argument or ``ORCAROUTER_API_KEY``) and no base URL starts and uses
    the embedded sandbox. Use as a context manager (or call :meth:`close`) to free connections.
    ``http_client`` (not closed by this client), ``sleep`` and ``clock`` are injectable for tests;
    ``seed`` fixes the retry jitter; ``gather_threads`` is how many GETs ``wait_many`` runs at
    once in each polling round (1: one after another).

    Video submissions are recorded in a usage ledger before they are sent: ``ledger=`` one from
    :func:`orca_nb.ledger.open_ledger`, ``None`` for none; not given, the default ledger
    (``$ORCA_NB_LEDGER``, ``off`` to disable) opened on first use. Assets and groups the client
    reads are snapshotted there too, so reports name them after they are deleted.

    Tasks are read from the documented ``GET /video/generations/{id}`` (``task_api=
    "generations"``); a task that succeeds without usage there (the documented wrapped reply
    carries none) is read once from the OpenAI-style alias ``GET /videos/{id}``, the only
    documented way to read usage back (``usage_from_alias=False`` to skip it). With no usage
    from either, the ledger records the tokens estimated from the request, marked as estimated.
    ``task_api="openai"`` reads tasks from the alias throughout.
    """

    groups: Groups
    assets: Assets
    real_human: RealHuman
    videos: Videos
    models: Models
    billing: Billing

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = defaults.DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        ledger: VideoLedger | NotGiven | None = NOT_GIVEN,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
        gather_threads: int = defaults.SYNC_GATHER_THREADS,
        task_api: wire.TaskApi = wire.DEFAULT_TASK_API,
        usage_from_alias: bool = wire.USAGE_FROM_ALIAS,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            ledger=ledger,
            injected_sleep=sleep is not None,
            clock=clock,
            seed=seed,
            task_api=task_api,
            usage_from_alias=usage_from_alias,
        )
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ValidationError(
                "http_client", "must be an httpx.Client (AsyncOrca takes an httpx.AsyncClient)"
            )
        if sleep is not None and not callable(sleep):
            raise ValidationError("sleep", "must be a function taking seconds")
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._config.timeout)
        self._sleep = sleep or time.sleep
        self._gather_threads = v.integer("gather_threads", gather_threads, low=1, high=32)
        self._make_resources()

    def _make_resources(self) -> None:
        self.groups = Groups(self)
        self.assets = Assets(self)
        self.real_human = RealHuman(self)
        self.videos = Videos(self)
        self.models = Models(self)
        self.billing = Billing(self)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Orca:
        """A client sharing this one's connections, with other defaults."""
        return self._copy_with(timeout, max_retries)

    def asynchronous(self) -> AsyncOrca:
        """An :class:`AsyncOrca` with this client's key, base URL, ledger, timeout, retries and
        task API, on its own connections (close it when done): what the notebook widgets need
        when given a blocking client. The twin of :meth:`AsyncOrca.blocking`."""
        return AsyncOrca(self._config.api_key, **self._twin_settings())

    # -- driver ------------------------------------------------------------------------------
    def _run(self, op: Op[T]) -> T:
        value: Any = None
        try:
            while True:
                try:
                    effect = op.send(value)
                except StopIteration as stop:
                    return cast(T, stop.value)
                value = self._perform(effect)
        finally:
            op.close()

    def _capture(self, op: Op[Any]) -> Any:
        try:
            return self._run(op)
        except Exception as exc:
            return exc

    def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            try:
                return self._http.send(effect.request)
            except httpx.TransportError as exc:
                return exc
        if isinstance(effect, Download):
            try:
                response = self._http.send(effect.request, stream=True, follow_redirects=True)
                try:
                    if response.is_success:
                        for chunk in response.iter_bytes(defaults.DOWNLOAD_CHUNK_BYTES):
                            effect.sink(chunk)
                    else:
                        response.read()
                finally:
                    response.close()
                return response
            except httpx.TransportError as exc:
                return exc
        if isinstance(effect, Sleep):
            self._sleep(effect.seconds)
            self._clock.advance(effect.seconds)
            return None
        if isinstance(effect, Gather):
            if len(effect.ops) < 2 or self._gather_threads < 2:
                return [self._capture(op) for op in effect.ops]
            workers = min(self._gather_threads, len(effect.ops))
            with ThreadPoolExecutor(workers, thread_name_prefix="orca-nb") as pool:
                return list(pool.map(self._capture, effect.ops))
        if isinstance(effect, Notify):
            effect.callback(effect.value)
            return None
        raise TypeError(f"unknown effect {effect!r}")  # pragma: no cover

    # -- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection pool (unless the http_client was injected)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncOrca(_BaseClient):
    """Asyncio client; same configuration and resources as :class:`Orca`, methods awaited.

    ``sleep`` must be an async function (default ``asyncio.sleep``); ``http_client`` an
    ``httpx.AsyncClient``. Use ``async with`` (or ``await client.close()``).
    """

    groups: AsyncGroups
    assets: AsyncAssets
    real_human: AsyncRealHuman
    videos: AsyncVideos
    models: AsyncModels
    billing: AsyncBilling

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = defaults.DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        ledger: VideoLedger | NotGiven | None = NOT_GIVEN,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        clock: Callable[[], float] | None = None,
        seed: int | None = None,
        task_api: wire.TaskApi = wire.DEFAULT_TASK_API,
        usage_from_alias: bool = wire.USAGE_FROM_ALIAS,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            ledger=ledger,
            injected_sleep=sleep is not None,
            clock=clock,
            seed=seed,
            task_api=task_api,
            usage_from_alias=usage_from_alias,
        )
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ValidationError(
                "http_client", "must be an httpx.AsyncClient (Orca takes an httpx.Client)"
            )
        if sleep is not None and not callable(sleep):
            raise ValidationError("sleep", "must be an async function taking seconds")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._config.timeout)
        self._sleep = sleep or asyncio.sleep
        self._make_resources()

    def _make_resources(self) -> None:
        self.groups = AsyncGroups(self)
        self.assets = AsyncAssets(self)
        self.real_human = AsyncRealHuman(self)
        self.videos = AsyncVideos(self)
        self.models = AsyncModels(self)
        self.billing = AsyncBilling(self)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncOrca:
        """A client sharing this one's connections, with other defaults."""
        return self._copy_with(timeout, max_retries)

    def blocking(self) -> Orca:
        """A blocking :class:`Orca` with this client's key, base URL, ledger, timeout, retries
        and task API, on its own connections (close it when done): for work that must block in
        worker threads, e.g. an experiment started from the studio."""
        return Orca(self._config.api_key, **self._twin_settings())

    # -- driver ------------------------------------------------------------------------------
    async def _run(self, op: Op[T]) -> T:
        value: Any = None
        try:
            while True:
                try:
                    effect = op.send(value)
                except StopIteration as stop:
                    return cast(T, stop.value)
                value = await self._perform(effect)
        finally:
            op.close()

    async def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            try:
                return await self._http.send(effect.request)
            except httpx.TransportError as exc:
                return exc
        if isinstance(effect, Download):
            try:
                response = await self._http.send(effect.request, stream=True, follow_redirects=True)
                try:
                    if response.is_success:
                        async for chunk in response.aiter_bytes(defaults.DOWNLOAD_CHUNK_BYTES):
                            effect.sink(chunk)
                    else:
                        await response.aread()
                finally:
                    await response.aclose()
                return response
            except httpx.TransportError as exc:
                return exc
        if isinstance(effect, Sleep):
            await self._sleep(effect.seconds)
            self._clock.advance(effect.seconds)
            return None
        if isinstance(effect, Gather):
            results = await asyncio.gather(
                *(self._run(op) for op in effect.ops), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException) and not isinstance(result, Exception):
                    raise result
            return results
        if isinstance(effect, Notify):
            outcome = effect.callback(effect.value)
            if inspect.isawaitable(outcome):
                await outcome
            return None
        raise TypeError(f"unknown effect {effect!r}")  # pragma: no cover

    # -- lifetime ----------------------------------------------------------------------------
    async def close(self) -> None:
        """Close the connection pool (unless the http_client was injected)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
