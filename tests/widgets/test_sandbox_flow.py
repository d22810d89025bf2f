"""End to end on the real loopback sandbox with the real AsyncOrca: upload with pre-flight,
live status, thumbnails made by the kernel, submit, and the finished MP4 handed to a widget."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ipywidgets.widgets.widget import _instances

from orca_nb import wire
from orca_nb.client import AsyncOrca
from orca_nb.client.errors import advice_for
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.state.upload import UploadState
from orca_nb.widgets.views.app import StudioApp
from orca_nb.widgets.views.library import AssetsPanel, GroupsPanel
from orca_nb.widgets.views.studio import StudioView


@pytest.fixture
async def store(sandbox_server: Any, sandbox_key: str) -> AsyncIterator[LiveStore]:
    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url)
    live = LiveStore(client, fast_interval=0.05, slow_interval=30)
    yield live
    await settle()
    await live.aclose()
    await client.close()


async def _until(check: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def test_upload_flow_thumbnail_and_failed_advice(
    store: LiveStore, sandbox_server: Any
) -> None:
    groups = GroupsPanel(store)
    assets = AssetsPanel(store)
    gid = await groups.library.create_group("cast", "people of the film")
    assert gid
    form = UploadState(store, group_id=gid)
    form.set_source("ada_portrait.jpg")  # a sandbox sample becomes its sandbox URL
    assert form.source.startswith(sandbox_server.root_url)
    assert form.detected == "Image"
    assert await form.upload()
    await _until(lambda: form.status_line()[0] == "Active")
    await _until(lambda: bool(assets.cards) and bool(assets.cards[0].thumb))
    assert assets.cards[0].thumb.startswith("data:image/jpeg;base64,")
    assert len(assets.cards[0].thumb) < 8_000  # small: made by the kernel, sent as data

    bad = UploadState(store, group_id=gid)
    bad.set_source("tiny_200.png")
    assert await bad.check() is False
    assert bad.violations  # each requirement broken is listed
    assert await bad.upload() is None  # refused before sending
    assert await bad.upload(force=True)
    await _until(lambda: bad.status_line()[0].startswith("Failed"))
    assert bad.status_line()[1]  # advice for the Error.Code
    counts = next(r for r in groups.rows if r.group_id == gid).counts_list
    assert {c["status"]: c["n"] for c in counts} == {"Active": 1, "Failed": 1}
    groups.close()
    assets.close()


async def test_studio_submits_and_plays_the_result(store: LiveStore) -> None:
    gid = await GroupsPanel(store).library.create_group("cast")
    assert gid
    form = UploadState(store, group_id=gid)
    form.set_source("scene_16x9.jpg")
    await form.upload(force=True)
    await _until(lambda: form.status_line()[0] == "Active")
    assert form.asset_id
    view = StudioView(store)
    view.picker.vue_add_asset(form.asset_id)
    view.picker.prompt = "[Image 1] at dawn, slow pan"
    view.duration = 4
    view.resolution = "480p"
    view.vue_submit()
    view.vue_submit()  # double-click
    await settle()
    assert len(view.state.runs) == 1
    await _until(lambda: view.player is not None, seconds=60)
    assert view.player is not None
    assert view.player.format == "mp4"
    assert bytes(view.player.value[4:8]) == b"ftyp"  # real MP4 bytes, not a URL
    assert "succeeded" in view.task_status
    view.close()


async def test_failed_task_shows_code_message_and_advice(
    store: LiveStore, sandbox_server: Any
) -> None:
    sandbox_server.backend.fail_next_tasks(1)  # the sandbox's render failure code
    view = StudioView(store)
    view.picker.prompt = "a lighthouse at dusk"
    view.duration = 4
    view.resolution = "480p"
    view.vue_submit()
    await settle()
    await _until(lambda: "failed" in view.task_status)
    assert wire.TASK_ERROR_INTERNAL in view.task_status
    assert "told to fail" in view.task_status  # the server's message
    assert view.task_advice == advice_for(wire.TASK_ERROR_INTERNAL)
    assert "submit the same request again" in view.task_advice
    assert not view.task_running
    view.close()


async def test_no_widget_state_carries_the_key_or_a_signed_link(
    store: LiveStore, sandbox_server: Any, sandbox_key: str
) -> None:
    gid = await GroupsPanel(store).library.create_group("cast")
    assert gid
    form = UploadState(store, group_id=gid)
    form.set_source("scene_16x9.jpg")
    assert await form.upload(force=True)
    await _until(lambda: form.status_line()[0] == "Active")
    app = StudioApp(store)
    await store.refresh()
    await settle()
    states = [json.dumps(w.get_state(), default=str) for w in list(_instances.values())]
    assert len(states) > 10
    everything = "\n".join(states)
    assert sandbox_key not in everything
    assert "X-Tos-Signature" not in everything
    assert "/sandbox/files/" not in everything
    app.close()
