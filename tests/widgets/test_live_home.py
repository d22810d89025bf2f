"""One loop owns the live store: handlers on another thread and loop (JupyterLab's kernel
subshells, one thread and asyncio loop each in ipykernel 7) hand their work to it.

The store runs on the test's loop (the kernel's main loop); a "handler" runs on a second thread
with its own running loop, as a ``vue_*`` handler does under a subshell. What it tracks must be
polled at the fast cadence by the refresher on the main loop, its requests must use the main
loop's pooled connections without "bound to a different event loop", and the store's rows and
wake-up must survive both threads writing at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from orca_nb.client import AsyncOrca
from orca_nb.sandbox import Backend
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import Home, settle, spawn
from orca_nb.widgets.rows import AssetRow
from orca_nb.widgets.state.upload import UploadState

T = TypeVar("T")
FAST = 0.3


@pytest.fixture
async def store(sandbox_server: Any, sandbox_key: str) -> AsyncIterator[LiveStore]:
    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url)
    live = LiveStore(client, fast_interval=FAST, slow_interval=60)
    yield live
    await settle()
    await live.aclose()
    await client.close()


def _on_other_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``make()`` on a new thread with its own running loop (a subshell), return its result."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=main, name="subshell-test")
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the handler's loop did not finish"
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


async def _until(check: Callable[[], bool], seconds: float = 10.0) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def _loaded(store: LiveStore) -> None:
    assert store.start()
    await _until(lambda: store.status.loaded and not store.status.loading)


async def test_upload_tracked_on_another_loop_is_polled_at_the_fast_cadence(
    store: LiveStore, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(processing="manual")
    await _loaded(store)
    gid = await store.gateway.create_group("cast", "")
    # nothing in flight: the refresher now sleeps until the next full pass (60 s away)
    await asyncio.sleep(FAST * 2)
    form = UploadState(store, group_id=gid)
    form.set_source("ada_portrait.jpg")
    aid = await asyncio.to_thread(_on_other_loop, lambda: form.upload(force=True))
    assert aid
    assert store.assets[aid].status == "Processing"
    await asyncio.sleep(FAST)  # the tracked upload is being polled; now the service settles it
    sandbox_backend.step()
    seen_after = await _until(lambda: store.assets[aid].status != "Processing", 5.0)
    assert store.assets[aid].status == "Active"
    assert seen_after <= FAST + 0.5, f"settled asset seen {seen_after:.2f}s later"


async def test_handler_requests_run_on_the_home_loop_with_its_connections(
    store: LiveStore,
) -> None:
    await _loaded(store)  # the main loop has opened (and pooled) connections
    home = asyncio.get_running_loop()
    ran_on: list[asyncio.AbstractEventLoop] = []
    original = store.client.groups.create

    async def create(**kwargs: Any) -> Any:
        ran_on.append(asyncio.get_running_loop())
        return await original(**kwargs)

    store.client.groups.create = create

    async def handler() -> list[str]:
        gid = await store.gateway.create_group("from a subshell", "")
        groups = await store.gateway.all_groups()  # pooled connections, never another loop's
        await store.refresh()  # the pass lock is the home loop's, awaited from there
        return [gid, *(g.id for g in groups)]

    # the refresher keeps polling on the home loop meanwhile
    store.request_refresh()
    result = await asyncio.to_thread(_on_other_loop, handler)
    assert ran_on == [home]
    assert result[0] in result[1:]
    assert result[0] in store.groups


async def test_spawned_action_runs_on_the_home_loop_and_reports_errors_there(
    store: LiveStore,
) -> None:
    await _loaded(store)
    home_thread = threading.get_ident()
    seen: list[int] = []
    errors: list[tuple[str, int]] = []

    async def action() -> None:
        seen.append(threading.get_ident())

    async def failing() -> None:
        raise ValueError("no")

    def on_error(exc: BaseException) -> None:
        errors.append((str(exc), threading.get_ident()))

    async def handler() -> None:  # what Panel.run does in a vue_* handler
        spawn(action(), home=store.home)
        spawn(failing(), on_error=on_error, home=store.home)

    await asyncio.to_thread(_on_other_loop, handler)
    await _until(lambda: bool(seen) and bool(errors))
    await settle()
    assert seen == [home_thread]
    assert errors == [("no", home_thread)]


async def test_wake_from_a_plain_thread_reaches_the_sleeping_refresher(store: LiveStore) -> None:
    await _loaded(store)
    passes = store.gateway.requests
    await asyncio.sleep(FAST * 2)
    assert store.gateway.requests == passes  # idle: sleeping until the full pass
    threading.Thread(target=store.request_refresh).start()
    waited = await _until(lambda: store.gateway.requests > passes, 3.0)
    assert waited < 1.0


async def test_rows_written_from_two_threads_are_all_kept(store: LiveStore) -> None:
    await _loaded(store)

    def write(prefix: str) -> None:
        for i in range(300):
            store.upsert_asset(AssetRow(f"{prefix}{i}", "n", "g", "Image", "Active"))

    threads = [threading.Thread(target=write, args=(p,)) for p in ("a", "b")]
    for t in threads:
        t.start()
    write("c")
    for t in threads:
        t.join()
    for prefix in "abc":
        assert all(f"{prefix}{i}" in store.assets for i in range(300))


async def test_store_started_from_another_thread_runs_on_the_home_loop(
    store: LiveStore,
) -> None:
    store.home.adopt()  # the kernel's loop is home (a panel was made in a cell)
    home = asyncio.get_running_loop()
    started = await asyncio.to_thread(_on_other_loop, lambda: _start(store))
    assert started
    await _until(lambda: store.running)
    assert store._task is not None
    assert store._task.get_loop() is home
    threading.Thread(target=store.stop).start()
    await _until(lambda: not store.running)


async def _start(store: LiveStore) -> bool:
    return store.start()


def test_home_is_replaced_when_its_loop_has_closed() -> None:
    home = Home()
    first = asyncio.run(_adopted(home))
    second = asyncio.run(_adopted(home))
    assert first is not second
    assert home.loop is None  # neither runs now


async def _adopted(home: Home) -> asyncio.AbstractEventLoop | None:
    home.adopt()
    assert home.here()
    return home.loop


def test_spawn_without_any_loop_says_what_to_do() -> None:
    async def nothing() -> None:
        return None

    with pytest.raises(RuntimeError, match="running asyncio loop"):
        spawn(nothing(), home=Home())


async def test_a_failed_create_leaves_the_create_button_free(store: LiveStore) -> None:
    from orca_nb.widgets.state.library import LibraryState

    library = LibraryState(store)
    busy_seen: list[bool] = []
    library.on_change(lambda: busy_seen.append(library.busy))

    async def refuse(**_: Any) -> Any:
        raise ConnectionError("connection refused")

    store.client.groups.create = refuse
    assert await library.create_group("cast") is None
    assert library.error
    assert busy_seen[0] is True
    assert busy_seen[-1] is False  # the last notification the view got says "not busy"


async def test_watch_new_shows_an_upload_made_elsewhere_at_the_fast_cadence(
    sandbox_server: Any, sandbox_key: str, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(processing="manual")
    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url)
    store = LiveStore(client, fast_interval=FAST, slow_interval=60, watch_new=True)
    other = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url)
    try:
        await _loaded(store)
        group = await other.groups.create(name="elsewhere", description="")
        url = f"{sandbox_server.root_url}/sandbox/samples/ada_portrait.jpg"
        created = await other.assets.upload(group_id=group.id, url=url, asset_type="Image")
        await _until(lambda: created.id in store.assets, FAST + 1.0)
        sandbox_backend.step()
        await _until(lambda: store.assets[created.id].status == "Active", FAST + 1.0)
    finally:
        await store.aclose()
        await client.close()
        await other.close()
