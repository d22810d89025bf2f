"""The live store: full and fast passes, diffing, backoff, pause/resume, stop on last panel."""

from __future__ import annotations

import asyncio

import pytest

from orca_nb.client.models import AssetError
from orca_nb.widgets.live import LiveStore, StoreChange
from tests.widgets.fakes import FakeOrca, FakeStatusError


def _library(n_groups: int = 3, per_group: int = 5) -> FakeOrca:
    client = FakeOrca()
    for g in range(n_groups):
        gid = client.add_group(f"group {g}", group_type="LivenessFace" if g == 0 else "AIGC")
        for i in range(per_group):
            client.add_asset(gid, f"asset {g}-{i}")
    return client


async def test_full_refresh_lists_both_kinds_at_largest_page_size() -> None:
    client = _library(3, 150)
    store = LiveStore(client)
    await store.refresh()
    assert len(store.groups) == 3
    assert len(store.assets) == 450
    # 1 page of groups per kind; aigc assets 300 -> 3 pages, real-human 150 -> 2 pages
    assert client.state.calls.count("groups.list") == 2
    assert client.state.calls.count("assets.list") == 5


async def test_refresh_reports_only_changed_rows() -> None:
    client = _library()
    store = LiveStore(client)
    await store.refresh()
    changes: list[StoreChange] = []
    store.subscribe(changes.append)
    await store.refresh()
    assert [c for c in changes if c.table != "status"] == []  # nothing changed, nothing emitted
    aid = next(iter(client.state.assets))
    client.set_asset(aid, name="renamed", url="https://media.invalid/new-signature")
    await store.refresh()
    asset_changes = [c for c in changes if c.table == "assets"]
    assert len(asset_changes) == 1
    assert asset_changes[0].diff.changed == {aid}
    assert not asset_changes[0].diff.added
    assert not asset_changes[0].diff.removed


async def test_signed_url_churn_is_not_a_change() -> None:
    client = _library(1, 2)
    store = LiveStore(client)
    await store.refresh()
    changes: list[StoreChange] = []
    store.subscribe(changes.append)
    for aid in client.state.assets:
        client.set_asset(aid, url=f"https://media.invalid/{aid}?sig=fresh")
    await store.refresh()
    assert [c for c in changes if c.table == "assets"] == []


async def test_fast_pass_polls_only_processing_assets_and_settles_them() -> None:
    client = _library(2, 3)
    gid = next(iter(client.state.groups))
    aid = client.add_asset(gid, "fresh", status="Processing")
    store = LiveStore(client)
    await store.refresh()
    assert store.in_flight
    client.state.calls.clear()
    client.set_asset(aid, status="Failed", error=AssetError(code="FaceMismatch", message="no"))
    await store.refresh(full=False)
    # one Processing listing per kind, then one GET for the asset that left Processing
    assert sorted(client.state.calls) == ["assets.get", "assets.list", "assets.list"]
    assert store.assets[aid].status == "Failed"
    assert store.assets[aid].error_code == "FaceMismatch"
    assert not store.in_flight
    client.state.calls.clear()
    await store.refresh(full=False)
    assert client.state.calls == []  # nothing in flight: a fast pass sends nothing


async def test_deleted_processing_asset_disappears() -> None:
    client = _library(1, 1)
    gid = next(iter(client.state.groups))
    aid = client.add_asset(gid, "fresh", status="Processing")
    store = LiveStore(client)
    await store.refresh()
    del client.state.assets[aid]
    await store.refresh(full=False)
    assert aid not in store.assets


async def test_refresher_backs_off_and_exposes_errors_then_recovers() -> None:
    client = _library(1, 1)
    store = LiveStore(client, fast_interval=0.01, slow_interval=0.01, max_backoff=0.04)
    # a full pass sends 4 first-page requests at once; 12 failures fail 3 passes
    client.state.fail_next = [FakeStatusError(503, "down for a moment")] * 12
    seen: list[tuple[int, float]] = []
    store.subscribe(
        lambda c: (
            seen.append((store.status.consecutive_errors, store.status.retry_in))
            if c.table == "status" and store.status.error
            else None
        )
    )
    store.attach("panel")
    for _ in range(200):
        if store.status.loaded and not store.status.error:
            break
        await asyncio.sleep(0.01)
    store.detach("panel")
    errors = sorted({s for s in seen})
    assert [e for e, _ in errors][:3] == [1, 2, 3]
    assert [r for _, r in errors][:3] == [0.01, 0.02, 0.04]  # doubling, capped at max_backoff
    assert store.status.loaded
    assert store.status.error == ""
    assert len(store.assets) == 1


async def test_error_message_and_advice_are_shown() -> None:
    client = _library(1, 1)
    store = LiveStore(client, fast_interval=5, slow_interval=5)
    client.state.fail_next = [FakeStatusError(401, "key refused")]
    store.attach("p")
    for _ in range(100):
        if store.status.error:
            break
        await asyncio.sleep(0.005)
    store.detach("p")
    assert store.status.error == "key refused"
    assert "ORCAROUTER_API_KEY" in store.status.advice


async def test_closing_last_panel_stops_polling() -> None:
    client = _library(1, 1)
    gid = next(iter(client.state.groups))
    client.add_asset(gid, "busy", status="Processing")  # keeps the fast loop polling
    store = LiveStore(client, fast_interval=0.005, slow_interval=1)
    store.attach("a")
    store.attach("b")
    await asyncio.sleep(0.05)
    store.detach("a")
    assert store.running  # one panel still open
    store.detach("b")
    assert not store.running
    await asyncio.sleep(0.02)
    n = len(client.state.calls)
    await asyncio.sleep(0.05)
    assert len(client.state.calls) == n  # no request after the last panel closed
    await store.aclose()


async def test_a_panel_opened_on_a_live_store_asks_for_a_full_pass() -> None:
    client = _library(1, 1)
    store = LiveStore(client, fast_interval=0.01, slow_interval=60)
    store.attach("first cell")
    for _ in range(200):
        if store.status.loaded:
            break
        await asyncio.sleep(0.01)
    assert store.status.loaded
    client.add_group("made by another client", group_type="AIGC")  # between two full passes
    store.attach("re-run cell")  # e.g. studio() run again: it must not wait 60 s
    for _ in range(200):
        if any(g.name == "made by another client" for g in store.groups.values()):
            break
        await asyncio.sleep(0.01)
    assert any(g.name == "made by another client" for g in store.groups.values())
    n = len(client.state.calls)
    store.attach("re-run cell")  # the same panel again is not a new one: no extra pass
    await asyncio.sleep(0.05)
    assert client.state.calls[n:].count("groups.list") == 0
    store.detach("first cell")
    store.detach("re-run cell")
    await store.aclose()


async def test_pause_and_resume() -> None:
    client = _library(1, 1)
    gid = next(iter(client.state.groups))
    client.add_asset(gid, "busy", status="Processing")
    store = LiveStore(client, fast_interval=0.005, slow_interval=1)
    store.attach("p")
    await asyncio.sleep(0.03)
    store.pause()
    await asyncio.sleep(0.02)
    n = len(client.state.calls)
    await asyncio.sleep(0.05)
    assert len(client.state.calls) == n
    store.resume()
    await asyncio.sleep(0.03)
    assert len(client.state.calls) > n
    await store.aclose()


def test_start_without_loop_is_a_no_op() -> None:
    store = LiveStore(FakeOrca())
    store.attach("p")
    assert not store.running


def test_for_client_shares_one_store() -> None:
    client = FakeOrca()
    assert LiveStore.for_client(client) is LiveStore.for_client(client)


def test_bad_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="fast_interval"):
        LiveStore(FakeOrca(), fast_interval=5, slow_interval=1)


async def test_later_refreshes_follow_a_grown_or_shrunk_list() -> None:
    client = _library(1, 150)
    store = LiveStore(client)
    await store.refresh()
    gid = next(iter(client.state.groups))
    for i in range(120):
        client.add_asset(gid, f"more {i}")
    await store.refresh()  # pages guessed from 150, the total says 270: one more round
    assert len(store.assets) == 270
    for aid in list(client.state.assets)[:200]:
        del client.state.assets[aid]
    await store.refresh()
    assert len(store.assets) == 70
