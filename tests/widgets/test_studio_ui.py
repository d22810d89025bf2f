"""The studio as a person uses it, without a browser (issue 8 items 4, 5, 7): the repeat question,
the history, prompt messages only after an edit, advice in the page's words, picker chips with
thumbnails and a count, the upload form's samples."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest
from PIL import Image

from orca_nb import wire
from orca_nb.client import errors as client_errors
from orca_nb.client.models import Asset, AssetError
from orca_nb.widgets.advice import asset_advice, describe_error, task_advice
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.rows import AssetRow, TaskRow
from orca_nb.widgets.state import studio as studio_state
from orca_nb.widgets.state.studio import StudioState
from orca_nb.widgets.state.upload import (
    UploadState,
    name_from_source,
    sample_choices,
    sample_purpose,
)
from orca_nb.widgets.views.forms import UploadView
from orca_nb.widgets.views.library import AssetsPanel
from orca_nb.widgets.views.studio import CHOICES, StudioView, choices_for, choices_note
from tests.widgets.fakes import FakeOrca


def _asset(n: int) -> AssetRow:
    return AssetRow(f"asset-20260101000000-a{n:04d}", f"look {n}", "group-x", "Image", "Active")


async def _store(per_group: int = 3) -> tuple[FakeOrca, LiveStore]:
    client = FakeOrca()
    gid = client.add_group("cast")
    for i in range(per_group):
        client.add_asset(gid, f"hero {i}")
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    await store.refresh()
    return client, store


def _ready(s: StudioState) -> None:
    s.picker.add_asset(_asset(1))
    s.picker.set_prompt("[Image 1] walks toward the camera")


# ---------------------------------------------------------------------- the same request twice
async def test_the_same_request_again_within_seconds_asks_first() -> None:
    client = FakeOrca()
    s = StudioState(LiveStore(client))
    _ready(s)
    assert await s.submit() is not None
    # a second click 0.5 s later: the same body, so it asks instead of sending
    assert await s.submit() is None
    assert s.confirming
    assert client.state.calls.count("videos.create") == 1
    s.cancel_repeat()
    assert not s.confirming
    # the person says yes: a second task
    assert await s.submit() is None
    assert s.confirming
    again = await s.submit(confirmed=True)
    assert again is not None
    assert again.number == 2
    assert not s.confirming
    assert client.state.calls.count("videos.create") == 2


async def test_a_request_whose_sending_got_no_reply_asks_before_it_is_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = FakeOrca()
    s = StudioState(LiveStore(client))
    _ready(s)
    client.state.fail_next = [
        client_errors.OutcomeUnknownError("POST /v1/video/generations got no reply.",
                                          how_to_check="Check the ledger.")
    ]  # fmt: skip
    assert await s.submit() is None
    assert s.unknowns  # not an error: listed as an unknown outcome, with what to do
    assert s.task_line()[0].startswith("Outcome unknown")
    later = time.time() + studio_state.REPEAT_SECONDS * 10  # long after: still asks
    monkeypatch.setattr(time, "time", lambda: later)
    assert await s.submit() is None
    assert s.confirming
    assert "got no reply" in s.repeat_reason
    assert client.state.calls.count("videos.create") == 1
    run = await s.submit(confirmed=True)
    assert run is not None
    assert client.state.calls.count("videos.create") == 2
    s.set_params(seed=3)  # a different request is not the uncertain one
    assert await s.submit() is not None


async def test_a_changed_request_or_a_later_one_is_sent_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = FakeOrca()
    s = StudioState(LiveStore(client))
    _ready(s)
    first = await s.submit()
    assert first is not None
    s.set_params(seed=7)  # a different body is a decision, not a second click
    assert await s.submit() is not None
    later = s.runs[-1].submitted_at + studio_state.REPEAT_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert s.repeats_last(s.preview()) is None
    assert await s.submit() is not None
    assert client.state.calls.count("videos.create") == 3


async def test_studio_view_second_click_shows_the_question_and_send_again_sends() -> None:
    client, store = await _store()
    view = StudioView(store)
    view.picker.vue_add_asset(view.picker.choices[0]["id"])
    view.picker.prompt = "[Image 1] waves"
    view.vue_submit()
    await settle()
    view.vue_submit()  # 0.5 s later in a browser; here as soon as the first is done
    await settle()
    assert client.state.calls.count("videos.create") == 1
    assert view.confirming
    assert "Run #1 sent this same request" in view.repeat_text
    view.vue_submit_again()
    await settle()
    assert client.state.calls.count("videos.create") == 2
    assert not view.confirming
    assert view.repeat_text == ""
    assert [r["number"] for r in view.runs] == [2, 1]
    view.close()


# ---------------------------------------------------------------------- history and progress
async def test_history_shows_prompt_time_parameters_status_tokens_and_plays_on_demand() -> None:
    _, store = await _store()
    fetched: list[str] = []

    async def fetch(url: str, **_: Any) -> bytes:
        fetched.append(url)
        return b"\x00\x00\x00\x18ftypmp42" + url.encode()

    store.gateway.fetch_bytes = fetch  # type: ignore[method-assign]
    view = StudioView(store)
    view.picker.vue_add_asset(view.picker.choices[0]["id"])
    view.picker.prompt = "[Image 1] waves"
    view.ratio = "9:16"
    view.vue_submit()
    await settle()
    run = view.state.runs[0]
    assert view.task_started_ms == pytest.approx(run.submitted_at * 1000)
    assert view.task_ended_ms == 0
    entry = view.runs[0]
    assert entry["prompt"] == "[Image 1] waves"
    assert entry["at_ms"] == pytest.approx(run.submitted_at * 1000)
    assert entry["params"].startswith("9:16 · 5 s · 720p · audio")
    # one line in a sweep variant's words (experiments.labels): the prompt, then the values
    assert entry["label"] == "[Image 1] waves · 9:16 · 5 s · 720p · audio · random seed"
    assert entry["status"] == "queued"
    assert entry["tokens"] == "tokens when it finishes"
    assert not entry["playable"]

    store.track_task(TaskRow(run.task_id, "running", progress=40))
    assert view.progress == 40
    assert view.task_running
    url = "http://127.0.0.1:9/result.mp4"
    store.track_task(TaskRow(run.task_id, "succeeded", 100, video_url=url, tokens=108_900))
    await settle()
    assert view.task_ended_ms > 0
    assert not view.task_running
    assert view.player is not None  # the result, fetched once by the kernel
    entry = view.runs[0]
    assert entry["status"] == "succeeded"
    assert entry["tokens"] == "108,900 tokens"
    assert entry["took"].endswith(" s")
    assert entry["playable"]
    assert fetched.count(url) == 1  # (the rest are the picker chips' thumbnails)
    player_layout = view.player.layout
    assert player_layout.max_height == "70vh"
    assert player_layout.object_fit == "contain"

    # a task the service reports no usage for shows the rule's figure, marked as an estimate
    view.picker.prompt = "[Image 1] waves again"
    view.vue_submit()
    await settle()
    silent = view.state.runs[-1]
    store.track_task(TaskRow(silent.task_id, "succeeded", 100, video_url=url + "?2"))
    await settle()
    entry = view.runs[0]
    assert entry["number"] == silent.number
    assert "tokens (estimate), not reported by the service" in entry["tokens"]

    # a second run, then play the first from the history: its bytes are fetched on demand
    view.picker.prompt = "[Image 1] bows"
    view.vue_submit()
    await settle()
    assert view.history_player is None
    view.vue_play_run(1)
    await settle()
    assert view.history_run == 1
    assert view.history_loading == 0
    assert view.history_player is not None
    assert bytes(view.history_player.value).endswith(url.encode())
    view.close()


async def test_edit_and_rerun_says_what_it_did() -> None:
    _, store = await _store()
    view = StudioView(store)
    view.picker.vue_add_asset(view.picker.choices[0]["id"])
    view.picker.prompt = "[Image 1] waves"
    view.vue_submit()
    await settle()
    view.picker.prompt = "something else"
    view.vue_edit_run(1)
    assert view.picker.prompt == "[Image 1] waves"
    assert "Run #1" in view.notice
    assert "Submit" in view.notice
    view.notice = ""  # the browser clears it after a few seconds
    assert view.state.notice == ""
    view.close()


# ---------------------------------------------------------------------- prompt messages
async def test_prompt_is_not_marked_wrong_before_the_person_types() -> None:
    _, store = await _store()
    view = StudioView(store)
    picker = view.picker
    assert view.state.blocked()  # an empty prompt is an error...
    assert picker.messages == []  # ...not said before anyone typed
    assert not view.prompt_touched
    picker.prompt = "[Image 4] waves"
    assert any(m["level"] == "error" for m in picker.messages)
    assert view.prompt_touched
    assert view.blocked
    view.close()


async def test_a_submit_attempt_shows_the_messages_and_says_the_error_once() -> None:
    client, store = await _store()
    view = StudioView(store)
    view.vue_submit()
    await settle()
    assert view.picker.messages  # shown now, under the prompt
    assert view.error == "Not submitted: fix the messages under the prompt."
    assert view.advice == ""
    for m in view.picker.messages:
        assert m["message"] not in view.error
    assert "videos.create" not in client.state.calls
    view.close()


# ---------------------------------------------------------------------- advice for the page
def _reply(status: int, body: dict[str, Any]) -> httpx.Response:
    request = httpx.Request("POST", "http://sandbox.invalid/v1/asset/files")
    return httpx.Response(status, json=body, request=request)


def test_quota_error_is_said_once_with_no_python_advice() -> None:
    body = {"error": {"code": wire.CODE_ASSET_CAP_EXCEEDED, "message": "quota reached"}}
    exc = client_errors.error_from_response(_reply(403, body))
    assert isinstance(exc, client_errors.AssetQuotaExceededError)
    assert "client.assets.delete" in exc.advice  # the client keeps its advice for Python users
    message, advice = describe_error(exc)
    assert "client.assets.delete" not in message + advice
    assert "Assets tab" in advice
    assert exc.advice not in message
    assert "quota reached" in message


def test_failed_asset_error_names_no_python_call_and_is_said_once() -> None:
    asset = Asset(
        id="asset-1",
        name="x",
        group_id="group-1",
        asset_type="Image",
        status="Failed",
        error=AssetError(code=wire.CODE_INVALID_PARAMETER, message="bad"),
    )
    exc = client_errors.AssetFailedError(asset)
    message, advice = describe_error(exc)
    assert "preflight" not in advice
    assert "Check" in advice
    assert exc.advice not in message
    assert "preflight" not in asset_advice("") + asset_advice("Some.UnknownCode")
    assert (
        asset_advice(wire.ASSET_ERROR_FACE_MISMATCH)
        == client_errors.ADVICE[wire.ASSET_ERROR_FACE_MISMATCH]
    )


def test_unknown_outcome_says_what_to_do_on_the_page_not_in_python() -> None:
    exc = client_errors.OutcomeUnknownError(
        "POST /v1/asset/files got no reply.",
        how_to_check="List assets of group 'g' named 'n' (client.assets.list(group_id=...)).",
    )
    message, advice = describe_error(exc)
    assert "client.assets" not in message + advice
    assert message.startswith("POST /v1/asset/files got no reply.")
    assert "refresh" in advice


def test_expired_task_advice_names_no_request_field() -> None:
    assert "execution_expires_after" not in task_advice("", "expired")
    assert "execution_expires_after" in client_errors.advice_for(wire.TASK_ERROR_EXPIRED)


# ---------------------------------------------------------------------- picker chips
def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


async def test_picker_chips_carry_kernel_made_thumbnails() -> None:
    _, store = await _store(per_group=3)
    for row in list(store.assets.values()):
        store.upsert_asset(replace(row, url=f"http://127.0.0.1:9/{row.id}.jpg"))
    data = _jpeg()

    async def fetch(url: str, **_: Any) -> bytes:
        return data

    store.gateway.fetch_bytes = fetch  # type: ignore[method-assign]
    view = StudioView(store)
    await settle()
    thumbs = [c["thumb"] for c in view.picker.choices]
    assert len(thumbs) == 3
    assert all(t.startswith("data:image/jpeg;base64,") for t in thumbs)
    view.close()


async def test_a_thumbnail_asked_for_by_the_picker_reaches_the_asset_cards() -> None:
    _, store = await _store(per_group=3)
    for row in list(store.assets.values()):
        store.upsert_asset(replace(row, url=f"http://127.0.0.1:9/{row.id}.jpg"))
    data = _jpeg()
    fetched: list[str] = []

    async def fetch(url: str, **_: Any) -> bytes:
        fetched.append(url)
        return data

    store.gateway.fetch_bytes = fetch  # type: ignore[method-assign]
    studio = StudioView(store)  # the picker claims every thumbnail first...
    panel = AssetsPanel(store)  # ...so the panel asks for none of its own
    await settle()
    assert len(fetched) == 3  # each made once
    cards = list(panel._cards.values())
    assert len(cards) == 3
    assert all(c.thumb.startswith("data:image/jpeg;base64,") for c in cards)
    panel.close()
    studio.close()


async def test_picker_says_how_many_it_shows_and_search_reaches_all() -> None:
    _, store = await _store(per_group=CHOICES + 8)
    view = StudioView(store)
    picker = view.picker
    assert len(picker.choices) == CHOICES
    assert picker.choices_note == (
        f"Showing the newest {CHOICES} of {CHOICES + 8} Active assets: type a name to find the "
        "others."
    )
    shown = {c["id"] for c in picker.choices}
    hidden = next(a for a in store.assets.values() if a.id not in shown)
    picker.asset_search = hidden.name
    assert [c["id"] for c in picker.choices] == [hidden.id]
    assert picker.choices_note == ""
    picker.asset_search = "cast"  # the group's name reaches every asset of it
    assert len(choices_for(store, "cast", set())) == CHOICES + 8
    picker.asset_search = "nothing like this"
    assert picker.choices == []
    assert "No Active asset matches" in picker.choices_note
    assert choices_note(0, 0, False) == "No Active assets yet."
    view.close()


# ---------------------------------------------------------------------- upload form
def test_samples_say_what_each_is_for() -> None:
    choices = sample_choices()
    assert choices
    by_name = {c["value"]: c["purpose"] for c in choices}
    assert by_name["ada_portrait.jpg"].startswith("Valid image")
    assert by_name["tiny_200.png"].startswith(
        f"Breaks a rule on purpose ({wire.ASSET_ERROR_DIMENSIONS})"
    )
    assert by_name["corrupt.mp4"].startswith(
        f"Breaks a rule on purpose ({wire.ASSET_ERROR_CORRUPT})"
    )
    valid = [c["purpose"].startswith("Valid") for c in choices]
    assert valid == sorted(valid, reverse=True)  # valid ones first
    assert sample_purpose("not-a-sample.jpg") == ""


async def test_choosing_a_sample_prefills_the_name_and_says_its_purpose() -> None:
    client, store = await _store()
    client.base_url = "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
    view = UploadView(store)
    view.source = "tiny_200.png"
    assert view.source == "http://127.0.0.1:9/sandbox/samples/tiny_200.png"
    assert view.name == "tiny_200"
    assert wire.ASSET_ERROR_DIMENSIONS in view.purpose
    view.source = "ada_portrait.jpg"  # the name followed the file: it follows again
    assert view.name == "ada_portrait"
    assert view.purpose.startswith("Valid image")
    view.name = "hero"
    view.source = "sunset.gif"  # a name the person typed stays
    assert view.name == "hero"
    view.source = "https://cdn.example.com/media/beach%20day.png?sig=1"
    assert view.purpose == ""
    view.close()


def test_name_from_source() -> None:
    assert name_from_source("https://x.example/a/b/hero_shot.final.jpg?x=1#f") == "hero_shot.final"
    assert name_from_source("https://x.example/clip") == "clip"
    assert len(name_from_source("https://x.example/" + "n" * 300 + ".png")) == wire.NAME_MAX_CHARS


def test_upload_state_purpose_is_empty_without_a_sandbox() -> None:
    client = FakeOrca()
    client.is_sandbox = False
    s = UploadState(LiveStore(client))
    s.set_source("https://cdn.example.com/ada_portrait.jpg")
    assert s.purpose == ""
    assert s.name == "ada_portrait"
