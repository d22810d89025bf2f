"""Picker, studio, library, quota and verify state, driven without a browser."""

from __future__ import annotations

import asyncio

import pytest

from orca_nb import wire
from orca_nb.widgets.advice import task_advice
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.rows import AssetRow
from orca_nb.widgets.state.library import LibraryState
from orca_nb.widgets.state.picker import PickerState
from orca_nb.widgets.state.quota import QuotaState
from orca_nb.widgets.state.studio import StudioState
from orca_nb.widgets.state.verify import VerifyState, qr_data_uri
from tests.widgets.fakes import FakeOrca, FakeStatusError


def _asset(n: int, kind: str = "Image", status: str = "Active") -> AssetRow:
    return AssetRow(f"asset-20260101000000-a{n:04d}", f"look {n}", "group-x", kind, status)


# ---------------------------------------------------------------------- picker
def test_selecting_gives_tokens_and_content() -> None:
    p = PickerState()
    assert p.add_asset(_asset(1))
    assert p.add_url("https://cdn.example.com/theme.mp3")
    assert p.add_asset(_asset(2))
    assert [i.token for i in p.items()] == ["[Image 1]", "[Audio 1]", "[Image 2]"]
    content = p.content()
    assert content[0]["image_url"]["url"] == "asset://asset-20260101000000-a0001"
    assert content[1]["audio_url"]["url"] == "https://cdn.example.com/theme.mp3"
    assert '"reference_image"' in p.content_json()


def test_only_active_assets_can_be_picked() -> None:
    p = PickerState()
    assert not p.add_asset(_asset(1, status="Processing"))
    assert "only Active assets" in p.error
    assert len(p.selection) == 0


def test_reorder_renumbers_the_prompt() -> None:
    p = PickerState()
    p.add_asset(_asset(1))
    p.add_asset(_asset(2))
    p.set_prompt("[Image 1] hugs [Image 2].")
    p.move(1, 0)
    assert p.prompt == "[Image 2] hugs [Image 1]."
    assert [i.label for i in p.items()] == ["look 2", "look 1"]


def test_remove_marks_the_removed_token() -> None:
    p = PickerState()
    p.add_asset(_asset(1))
    p.add_asset(_asset(2))
    p.set_prompt("[Image 1] and [Image 2]")
    p.remove(0)
    assert "[Image 1] and" not in p.prompt
    assert p.prompt.endswith("[Image 1]")
    assert "removed" in p.prompt


def test_token_insertion_at_cursor() -> None:
    p = PickerState()
    p.add_asset(_asset(1))
    p.set_prompt("A walks in the rain", cursor=1)
    p.insert("[Image 1]", cursor=1)
    assert p.prompt == "A [Image 1] walks in the rain"
    assert p.cursor == len("A [Image 1]")
    p.insert("[Image 1]")  # at the remembered cursor
    assert p.prompt.startswith("A [Image 1] [Image 1] walks")


def test_bad_url_is_an_inline_message() -> None:
    p = PickerState()
    assert not p.add_url("not a url")
    assert p.error


# ---------------------------------------------------------------------- studio
def _studio() -> tuple[FakeOrca, StudioState]:
    client = FakeOrca()
    return client, StudioState(LiveStore(client))


async def test_validation_messages_before_submit() -> None:
    client, s = _studio()
    s.picker.add_asset(_asset(1))
    s.picker.set_prompt("[Image 3] runs")  # points at nothing
    assert any(i.level == "error" for i in s.issues())
    assert await s.submit() is None
    assert s.error
    assert "videos.create" not in client.state.calls


async def test_double_click_submits_one_task() -> None:
    client, s = _studio()
    client.state.latency = 0.02
    s.picker.add_asset(_asset(1))
    s.picker.set_prompt("[Image 1] walks toward the camera")
    first, second = await asyncio.gather(s.submit(), s.submit())
    assert client.state.calls.count("videos.create") == 1
    assert (first is None) != (second is None)
    assert len(s.runs) == 1
    assert s.current == s.runs[0].task_id
    assert s.current in s.store.tasks


async def test_run_history_keeps_exact_request_and_reruns_with_edits() -> None:
    client, s = _studio()
    s.picker.add_asset(_asset(1))
    s.picker.set_prompt("[Image 1] dances")
    s.set_params(duration=8, ratio="9:16")
    run = await s.submit()
    assert run is not None
    assert run.request["metadata"]["duration"] == 8
    assert '"prompt": "[Image 1] dances"' in run.request_json
    s.picker.set_prompt("something else")
    s.set_params(duration=5)
    s.load_run(1)
    assert s.picker.prompt == "[Image 1] dances"
    assert s.params.duration == 8
    s.set_params(seed=7)
    again = await s.submit()
    assert again is not None
    assert again.request["metadata"]["seed"] == 7
    assert client.state.calls.count("videos.create") == 2


async def test_submit_error_shows_advice() -> None:
    client, s = _studio()
    s.picker.set_prompt("a quiet lake")
    client.state.fail_next = [FakeStatusError(402, "balance exhausted")]
    assert await s.submit() is None
    assert s.error == "balance exhausted"
    assert "Top up" in s.advice
    assert not s.submitting


# ---------------------------------------------------------------------- library
async def test_library_filters_search_and_window() -> None:
    client = FakeOrca()
    g1, g2 = client.add_group("cast"), client.add_group("props")
    for i in range(30):
        client.add_asset(g1, f"hero {i}", asset_type="Image")
    for i in range(5):
        client.add_asset(g2, f"lamp {i}", asset_type="Video", status="Failed")
    store = LiveStore(client)
    await store.refresh()
    lib = LibraryState(store, page_size=10)
    assert len(lib.window()) == 10
    assert lib.page_count == 4
    lib.set_page(3)
    assert len(lib.window()) == 5
    lib.set_query(status="Failed")
    assert lib.query.page == 0
    assert {a.name for a in lib.window()} == {f"lamp {i}" for i in range(5)}
    lib.set_query(status=None, search="HERO 2")
    assert {a.name for a in lib.filtered()} == {"hero 2"} | {f"hero {i}" for i in range(20, 30)}
    with pytest.raises(ValueError, match="status must be one of"):
        lib.set_query(status="Broken")
    summaries = {s.group.name: s for s in lib.group_summaries()}
    assert summaries["cast"].counts["Active"] == 30
    assert summaries["props"].counts["Failed"] == 5


async def test_group_create_rename_and_confirmed_delete() -> None:
    client = FakeOrca()
    store = LiveStore(client)
    lib = LibraryState(store)
    gid = await lib.create_group("heroes", "the cast")
    assert gid in store.groups
    assert await lib.rename_group(gid, "villains")
    assert store.groups[gid].name == "villains"
    assert await lib.create_group("x" * (wire.NAME_MAX_CHARS + 1)) is None
    assert "shorten it" in lib.error
    lib.ask_delete_group(gid)
    assert lib.confirm is not None
    assert lib.confirm.label.startswith("villains")
    assert gid in client.state.groups  # nothing deleted before the confirmation
    assert await lib.confirm_pending()
    assert gid not in store.groups
    assert gid not in client.state.groups


# ---------------------------------------------------------------------- quota and verify
async def test_quota_counts_both_group_types_and_warns_near_cap() -> None:
    client = FakeOrca()
    a, r = client.add_group("a"), client.add_group("r", group_type="LivenessFace")
    for i in range(60):
        client.add_asset(a, f"a{i}")
    for i in range(31):
        client.add_asset(r, f"r{i}")
    store = LiveStore(client, asset_cap=100)
    await store.refresh()
    q = QuotaState(store).quota()
    assert (q.used, q.cap) == (91, 100)
    assert q.by_group_type == {"AIGC": 60, "LivenessFace": 31}
    assert q.level == "near"
    assert "only 9 left" in q.message


async def test_verify_shows_link_until_done_then_removes_it() -> None:
    client = FakeOrca()
    store = LiveStore(client)
    v = VerifyState(store)
    assert await v.start()
    assert v.status == "pending"
    assert v.link.startswith("https://verify.invalid/")
    assert qr_data_uri(v.link).startswith("data:image/svg+xml")
    gid = client.add_group("person", group_type="LivenessFace")
    sid = v.session_id or ""
    client.state.sessions[sid] = client.state.sessions[sid].model_copy(
        update={"status": "success", "group_id": gid}
    )
    await store.refresh(full=False)
    assert v.status == "success"
    assert v.link == ""
    assert store.sessions[sid].h5_link == ""
    assert v.group_id == gid
    assert gid in store.groups


@pytest.mark.parametrize(
    ("code", "status", "fragment"),
    [
        ("InputImageSensitiveContentDetected", "failed", "content check"),
        ("", "failed", "video task failed"),
        ("", "expired", "past its expiry and was dropped: submit it again"),
        ("InternalServiceError", "running", ""),
        ("", "succeeded", ""),
    ],
)
def test_task_advice_only_for_failed_or_expired(code: str, status: str, fragment: str) -> None:
    advice = task_advice(code, status)
    assert fragment in advice
    assert bool(advice) == bool(fragment)
