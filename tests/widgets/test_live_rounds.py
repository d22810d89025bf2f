"""Request rounds of a full refresh: warm passes ask for every known page at once; a cold pass
learns list sizes first, unless ``guess_ahead`` fills the first round's free slots."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.widgets.gateway import Gateway
from orca_nb.widgets.live import LiveStore
from tests.widgets.fakes import FakeOrca

LATENCY = 0.2  # long next to the fake's work, so requests started together share a round


class RoundCounter:
    """Wraps the fake's list calls and records when each one started."""

    def __init__(self, client: FakeOrca) -> None:
        self.starts: list[float] = []
        self.t0 = time.perf_counter()
        for resource in (client.groups, client.assets):
            original = resource.list

            async def timed(*args: Any, _fn: Any = original, **kwargs: Any) -> Any:
                self.starts.append(time.perf_counter())
                return await _fn(*args, **kwargs)

            resource.list = timed  # type: ignore[method-assign]

    def reset(self) -> None:
        self.starts.clear()
        self.t0 = time.perf_counter()

    @property
    def rounds(self) -> int:
        return len({round((s - self.t0) / LATENCY) for s in self.starts})


def _library() -> tuple[FakeOrca, RoundCounter]:
    """A real-human group of 150 assets and a virtual one of 850: 2 + 2 + 9 = 13 pages."""
    client = FakeOrca()
    real = client.add_group("person", group_type="LivenessFace")
    virtual = client.add_group("scenes")
    for i in range(150):
        client.add_asset(real, f"look {i}")
    for i in range(850):
        client.add_asset(virtual, f"scene {i}")
    client.state.latency = LATENCY
    return client, RoundCounter(client)


async def test_cold_pass_learns_sizes_then_warm_pass_takes_the_floor_rounds() -> None:
    client, counter = _library()
    store = LiveStore(client, concurrency=8)
    await store.refresh()
    assert len(store.assets) == 1000
    assert len(counter.starts) == 13  # the fewest requests, nothing guessed
    assert counter.rounds == 3  # first pages, then 9 more pages at 8 at a time
    counter.reset()
    await store.refresh()
    assert len(counter.starts) == 13
    assert counter.rounds == 2  # ceil(13 / 8): the floor


async def test_guess_ahead_fills_the_first_round_and_drops_pages_past_the_end() -> None:
    client, counter = _library()
    store = LiveStore(client, concurrency=8, guess_ahead=True)
    await store.refresh()
    assert len(store.assets) == 1000
    assert len(set(store.assets)) == 1000
    # round 1: 2 group pages + pages 1-3 of both asset lists; page 3 of real-human is empty
    assert len(counter.starts) == 14
    assert counter.rounds == 2
    counter.reset()
    await store.refresh()  # warm passes guess nothing: they know the sizes
    assert len(counter.starts) == 13
    assert counter.rounds == 2


async def test_guess_ahead_leaves_no_slots_for_guesses_at_low_concurrency() -> None:
    client, counter = _library()
    store = LiveStore(client, concurrency=4, guess_ahead=True)
    await store.refresh()
    assert len(store.assets) == 1000
    assert len(counter.starts) == 13


async def test_list_all_refuses_negative_ahead() -> None:
    gateway = Gateway(FakeOrca())
    with pytest.raises(ValueError, match="ahead"):
        await gateway.list_all(gateway.assets_page("aigc"), ahead=-1)


async def test_list_all_ahead_on_a_one_page_list_returns_it_once() -> None:
    client = FakeOrca()
    gid = client.add_group("g")
    ids = {client.add_asset(gid, f"a{i}") for i in range(wire.MAX_PAGE_SIZE - 1)}
    gateway = Gateway(client)
    rows = await gateway.list_all(gateway.assets_page("aigc"), "k", ahead=3)
    assert [r.id for r in rows] == list(client.state.assets)
    assert {r.id for r in rows} == ids
    assert client.state.calls.count("assets.list") == 4
