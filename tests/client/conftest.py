"""Fixtures that run each client test twice: once with ``Orca``, once with ``AsyncOrca``.

Tests are ``async def`` and wrap every client call in ``await run(...)`` (which awaits only when
the async client returned an awaitable) and ``await collect(...)`` for iterators.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

import httpx
import pytest

from orca_nb.client import AsyncOrca, Orca
from tests.client.fakeapi import BASE_URL, FAKE_KEY, FakeAPI


async def run(value: Any) -> Any:
    """The call's result for either client flavour."""
    return await value if inspect.isawaitable(value) else value


async def collect(items: Iterable[Any] | AsyncIterable[Any]) -> list[Any]:
    """Drain a sync or async iterator."""
    if isinstance(items, AsyncIterable):
        return [item async for item in items]
    return list(items)


class Sleeps(list[float]):
    """Records every sleep the client asks for (and sleeps for none of them)."""

    def sync(self, seconds: float) -> None:
        self.append(seconds)

    async def async_(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_client(
    flavour: str,
    fake: FakeAPI,
    sleeps: Sleeps,
    *,
    key: str = FAKE_KEY,
    **kw: Any,
) -> Orca | AsyncOrca:
    """A client of ``flavour`` wired to ``fake`` through a MockTransport."""
    if flavour == "sync":
        http = httpx.Client(transport=fake.transport())
        return Orca(key, base_url=BASE_URL, http_client=http, sleep=sleeps.sync, seed=1, **kw)
    ahttp = httpx.AsyncClient(transport=fake.transport())
    return AsyncOrca(key, base_url=BASE_URL, http_client=ahttp, sleep=sleeps.async_, seed=1, **kw)


@pytest.fixture
async def client(flavour: str, fake: FakeAPI, sleeps: Sleeps) -> AsyncIterator[Orca | AsyncOrca]:
    c = make_client(flavour, fake, sleeps)
    yield c
    http = c._http
    if isinstance(http, httpx.AsyncClient):
        await http.aclose()
    else:
        http.close()
