"""Views built and driven without a browser: events in, state and traits out."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from ipywidgets import Widget
from ipywidgets.widgets.widget import _instances

from orca_nb.client.models import Session
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.views.app import StudioApp
from orca_nb.widgets.views.forms import QuotaView, VerifyView
from orca_nb.widgets.views.library import AssetsPanel, GroupsPanel
from orca_nb.widgets.views.studio import PickerView, StudioView
from orca_nb.widgets.views.video import PLAYER_MAX_HEIGHT, video_player
from tests.widgets.conftest import CommLog
from tests.widgets.fakes import FakeOrca

TEMPLATES = Path(__file__).parents[2] / "orca_nb" / "widgets" / "views" / "templates"
XSS = "<img src=x onerror=alert(1)>"


async def _store(n_groups: int = 2, per_group: int = 30) -> tuple[FakeOrca, LiveStore]:
    client = FakeOrca()
    for g in range(n_groups):
        gid = client.add_group(f"group {g}")
        for i in range(per_group):
            client.add_asset(gid, f"asset {g}-{i}")
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    await store.refresh()
    return client, store


def test_templates_never_interpret_text_as_html() -> None:
    files = sorted(TEMPLATES.glob("*.vue"))
    assert len(files) >= 9
    for f in files:
        text = f.read_text()
        assert "v-html" not in text, f.name
        assert "innerHTML" not in text, f.name
        assert not re.search(r"\{\{\{", text), f.name


async def test_user_text_stays_text() -> None:
    client, store = await _store(0, 0)
    gid = client.add_group(XSS)
    client.add_asset(gid, XSS)
    await store.refresh()
    groups = GroupsPanel(store)
    assets = AssetsPanel(store, thumbnails=False)
    assert groups.rows[0].name == XSS  # raw text, rendered by {{ }} interpolation
    assert assets.cards[0].name == XSS
    assert assets.cards[0].group_name == XSS
    groups.close()
    assets.close()


async def test_assets_panel_ships_one_page_and_pages() -> None:
    _, store = await _store(2, 30)
    panel = AssetsPanel(store, page_size=24, thumbnails=False)
    assert panel.total == 60
    assert panel.pages == 3
    assert len(panel.cards) == 24
    first = {c.asset_id for c in panel.cards}
    panel.page = 3
    assert len(panel.cards) == 12
    assert not first & {c.asset_id for c in panel.cards}
    panel.search = "asset 1-1"
    assert panel.page == 1
    assert {c.name for c in panel.cards} == {"asset 1-1"} | {f"asset 1-1{i}" for i in range(10)}
    assert len(panel.frame()) == 11
    panel.close()
    assert not store.running


async def test_failed_asset_shows_code_and_advice() -> None:
    client, store = await _store(1, 0)
    gid = next(iter(client.state.groups))
    aid = client.add_asset(gid, "bad", status="Processing")
    await store.refresh()
    panel = AssetsPanel(store, thumbnails=False)
    from orca_nb.client.models import AssetError

    client.set_asset(aid, status="Failed", error=AssetError(code="FaceMismatch", message="x"))
    await store.refresh(full=False)
    card = panel.cards[0]
    assert card.status == "Failed"
    assert card.error_code == "FaceMismatch"
    assert "verified person" in card.advice
    panel.close()


async def test_one_asset_change_sends_little(comm_log: CommLog) -> None:
    client, store = await _store(40, 50)
    panels = [GroupsPanel(store), AssetsPanel(store, thumbnails=False), QuotaView(store)]
    aid = next(c.asset_id for c in panels[1].cards)
    comm_log.clear()
    client.set_asset(aid, status="Processing")
    await store.refresh()
    assert 0 < comm_log.total < 5_000, comm_log.messages
    for p in panels:
        p.close()


async def test_groups_panel_create_and_confirmed_delete() -> None:
    client, store = await _store(1, 3)
    panel = GroupsPanel(store)
    panel.new_name = "heroes"
    panel.vue_create()
    await settle()
    assert "heroes" in {r.name for r in panel.rows}
    assert panel.new_name == ""
    row = next(r for r in panel.rows if r.name == "group 0")
    row.vue_ask_delete()
    assert panel.confirm_open
    assert "3 asset(s)" in panel.confirm_label
    panel.vue_confirm_delete()
    await settle()
    assert not panel.confirm_open
    assert "group 0" not in {r.name for r in panel.rows}
    assert len(client.state.groups) == 1
    panel.close()


async def test_picker_view_inserts_tokens_at_the_cursor() -> None:
    _, store = await _store(1, 3)
    view = PickerView(store)
    assert len(view.choices) == 3
    view.vue_add_asset(view.choices[0]["id"])
    view.vue_add_asset(view.choices[0]["id"])
    assert [i["token"] for i in view.items] == ["[Image 1]", "[Image 2]"]
    view.prompt = "hugs"  # typed in the browser
    view.vue_insert_token({"token": "[Image 2]", "cursor": 0})
    assert view.prompt == "[Image 2] hugs"
    view.vue_move({"from": 1, "to": 0})
    assert view.prompt == "[Image 1] hugs"
    assert '"asset://' in view.content_json
    view.prompt = "[Image 5] hugs"
    assert any(m["level"] == "error" for m in view.messages) or view._issues is None
    view.close()


async def test_studio_view_double_click_one_task() -> None:
    client, store = await _store(1, 2)
    client.state.latency = 0.01
    view = StudioView(store)
    view.picker.vue_add_asset(view.picker.choices[0]["id"])
    view.picker.prompt = "[Image 1] waves"
    view.vue_submit()
    view.vue_submit()
    await settle()
    assert client.state.calls.count("videos.create") == 1
    assert len(view.runs) == 1
    assert '"[Image 1] waves"' in view.runs[0]["request_json"]
    assert view.task_status.startswith("Task ")
    view.close()


async def test_verify_view_drops_link_when_done() -> None:
    client, store = await _store(0, 0)
    view = VerifyView(store)
    view.vue_start()
    await settle()
    assert view.link.startswith("https://")
    assert view.has_link
    sid = view.state.session_id or ""
    gid = client.add_group("person", group_type="LivenessFace")
    client.state.sessions[sid] = client.state.sessions[sid].model_copy(
        update={"status": "success", "group_id": gid}
    )
    await store.refresh(full=False)
    assert view.link == ""
    assert not view.has_link
    assert view.status == "success"
    assert view.group_name == "person · real-human (LivenessFace)"
    assert view.uploader is not None
    assert view.uploader.group_id == gid
    view.close()


def _all_trait_values(root: Widget) -> list[Any]:
    seen: set[int] = set()
    out: list[Any] = []

    def walk(w: Widget) -> None:
        if id(w) in seen:
            return
        seen.add(id(w))
        for name in w.keys:
            value = getattr(w, name)
            out.append(value)
            for child in value if isinstance(value, list | tuple) else [value]:
                if isinstance(child, Widget):
                    walk(child)

    walk(root)
    return out


async def test_no_api_key_in_any_trait(sandbox_server: Any, sandbox_key: str) -> None:
    from orca_nb.client import AsyncOrca

    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url)
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    await store.refresh()
    app = StudioApp(store)
    values = _all_trait_values(app)
    assert len(values) > 100
    for value in values:
        assert "sk-orca-" not in repr(value)
    for w in list(_instances.values()):
        state = w.get_state()
        assert "sk-orca-" not in repr(state)
    app.close()
    assert not store.running
    await store.aclose()
    await client.close()


async def test_closing_panels_stops_polling() -> None:
    client, store = await _store(1, 1)
    gid = next(iter(client.state.groups))
    client.add_asset(gid, "busy", status="Processing")
    store.fast_interval = 0.005
    a, b = GroupsPanel(store), AssetsPanel(store, thumbnails=False)
    await asyncio.sleep(0.05)
    a.close()
    assert store.running
    b.close()
    assert not store.running
    await asyncio.sleep(0.01)
    n = len(client.state.calls)
    await asyncio.sleep(0.05)
    assert len(client.state.calls) == n


async def test_panels_show_refresh_errors_with_advice_and_recover() -> None:
    from tests.widgets.fakes import FakeStatusError

    client, store = await _store(1, 1)
    store.fast_interval, store.max_backoff = 0.01, 0.02
    store.slow_interval = 0.01
    client.state.fail_next = [FakeStatusError(429, "slow down")] * 8
    panel = AssetsPanel(store, thumbnails=False)
    seen: list[tuple[str, str]] = []
    panel.observe(lambda c: seen.append((panel.store_error, panel.store_advice)), "store_error")
    store.request_refresh()  # a full pass now: it fails 8 requests' worth, then succeeds
    for _ in range(300):
        if seen and not panel.store_error:
            break
        await asyncio.sleep(0.01)
    assert ("slow down", seen[0][1]) == seen[0]
    assert "retry" in seen[0][1]
    assert panel.store_error == ""  # recovered after backing off
    assert panel.store_status == "Live"
    panel.close()


async def test_pause_button_stops_and_resumes() -> None:
    _, store = await _store(1, 1)
    panel = GroupsPanel(store)
    panel.vue_toggle_pause()
    assert panel.paused
    assert store.status.paused
    panel.vue_toggle_pause()
    assert not panel.paused
    panel.close()


async def test_asset_delete_needs_confirmation() -> None:
    client, store = await _store(1, 3)
    panel = AssetsPanel(store, thumbnails=False)
    card = panel.cards[0]
    target = card.asset_id
    card.vue_ask_delete()
    assert panel.confirm_open
    panel.confirm_open = False  # the dialog was dismissed: nothing is deleted
    await settle()
    assert target in client.state.assets
    assert panel.library.confirm is None
    panel.cards[0].vue_ask_delete()
    panel.vue_confirm_delete()
    await settle()
    assert target not in client.state.assets
    assert target not in {c.asset_id for c in panel.cards}
    assert panel.total == 2
    panel.close()


async def test_groups_panel_windows_many_groups() -> None:
    _, store = await _store(120, 0)
    panel = GroupsPanel(store)
    assert len(panel.rows) == 50
    assert panel.hidden == 70
    panel.vue_show_more()
    assert len(panel.rows) == 100
    assert panel.hidden == 20
    panel.close()


async def test_verify_view_never_links_a_non_http_url() -> None:
    client, store = await _store(0, 0)
    start = client.real_human.start_session

    async def hostile_start() -> Session:  # a hostile or broken server's link
        session = await start()
        return session.model_copy(update={"h5_link": "javascript:alert(document.domain)"})

    client.real_human.start_session = hostile_start  # type: ignore[method-assign]
    view = VerifyView(store)
    view.vue_start()
    await settle()
    assert view.state.session_id
    assert view.state.link.startswith("javascript:")  # the state has it ...
    assert view.link == ""  # ... the browser never gets it as a link
    assert not view.has_link
    view.close()


async def test_studio_view_blocks_submit_while_an_issue_is_an_error() -> None:
    _, store = await _store(1, 2)
    view = StudioView(store)
    view.picker.prompt = "[Image 3] waves"  # no third image picked
    assert view.state.blocked()
    assert view.blocked
    view.picker.prompt = "a calm sea"
    assert not view.state.blocked()
    assert not view.blocked
    view.close()


def test_one_video_player_for_the_studio_and_the_grid() -> None:
    mp4 = b"\x00\x00\x00\x18ftypmp42"
    fitted = video_player(mp4, controls=True, autoplay=True)  # the studio's
    assert (fitted.controls, fitted.autoplay, fitted.loop) == (True, True, False)
    assert fitted.layout.max_height == PLAYER_MAX_HEIGHT
    assert fitted.layout.object_fit == "contain"
    cell = video_player(mp4, controls=False, fit=False)  # a compare grid cell's
    assert (cell.controls, cell.autoplay) == (False, False)
    assert cell.layout.width == "100%"
    assert cell.layout.max_height is None
    assert bytes(cell.value) == mp4
    assert cell.format == "mp4"
    fitted.close()
    cell.close()
