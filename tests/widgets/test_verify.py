"""Verify-a-person: stale links offered again, failure reasons, and the link kept out of widget
state (it travels in a custom message only)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from ipywidgets import Widget
from ipywidgets.widgets.widget import _instances

from orca_nb.client.models import Session
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.rows import session_from
from orca_nb.widgets.state.verify import EXPIRED_REASON, VerifyState
from orca_nb.widgets.views.app import StudioApp
from orca_nb.widgets.views.forms import VerifyView
from tests.widgets.fakes import FakeOrca


class Clock:
    """A settable epoch clock."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Widget, dict[str, Any]]]:
    """Every comm message any widget sends: (widget, message)."""
    log: list[tuple[Widget, dict[str, Any]]] = []
    original = Widget._send

    def send(self: Widget, msg: dict[str, Any], buffers: Any = None) -> None:
        log.append((self, msg))
        original(self, msg, buffers)

    monkeypatch.setattr(Widget, "_send", send)
    return log


def _links(sent: list[tuple[Widget, dict[str, Any]]], view: VerifyView) -> list[list[Any]]:
    return [
        m["content"]["args"]
        for w, m in sent
        if w is view and m.get("method") == "custom" and m["content"].get("method") == "link"
    ]


def _set(client: FakeOrca, sid: str, **update: Any) -> None:
    client.state.sessions[sid] = client.state.sessions[sid].model_copy(update=update)


# ---------------------------------------------------------------------- rows
def test_session_row_reads_reason_expiry_and_raw_word() -> None:
    """Rows come from the client's Session model, as the service's reply validates into it."""
    row = session_from(
        Session.model_validate(
            {
                "session_id": "s1",
                "status": "FAILURE",
                "error": {"code": "MultipleFaces", "message": "Two faces were in the frame."},
                "expires_at": 1234,
                "h5_link": "https://x/",
            }
        )
    )
    assert (row.status, row.raw_status) == ("failed", "FAILURE")
    assert (row.error_code, row.error_message) == ("MultipleFaces", "Two faces were in the frame.")
    assert row.expires_at == 1234.0
    same = session_from(
        Session.model_validate({"session_id": "s1", "status": "pending", "expires_at": "nan"})
    )
    assert (same.raw_status, same.expires_at) == ("", 0.0)
    soon = Session.model_validate({"session_id": "s", "expires_at": "soon"})
    assert session_from(soon).expires_at == 0.0
    client_model = Session.model_validate({"session_id": "s", "status": "verified"})
    assert session_from(client_model).raw_status == "verified"  # the client's name for it
    reason = Session.model_validate({"session_id": "s", "status": "failed", "fail_reason": "x"})
    assert session_from(reason).error_message == "x"


# ---------------------------------------------------------------------- state
async def test_expired_session_is_stale_and_a_new_link_replaces_it() -> None:
    client = FakeOrca()
    store = LiveStore(client)
    v = VerifyState(store)
    assert await v.start()
    first = v.session_id or ""
    assert not await v.start()  # one at a time while the link is fresh
    _set(client, first, status="expired")
    await store.refresh(full=False)
    assert v.stale
    assert v.link == ""
    assert v.reason == EXPIRED_REASON
    assert await v.start()  # one click: a new session and link
    assert v.session_id != first
    assert first not in store.sessions  # the stale one is no longer followed
    assert v.status == "pending"
    assert v.link.startswith("https://verify.invalid/")
    assert not v.stale
    assert client.state.calls.count("real_human.start_session") == 2


async def test_a_pending_link_past_its_expiry_is_stale_by_the_clock() -> None:
    client = FakeOrca()
    clock = Clock()
    store = LiveStore(client)
    v = VerifyState(store, clock=clock)
    assert await v.start()
    sid = v.session_id or ""
    _set(client, sid, expires_at=int(clock.now) + 120)
    await store.refresh(full=False)
    assert v.expires_in == 120.0
    assert not v.stale
    assert v.link
    clock.now += 121  # the service still says pending (it answers `expired` lazily, or never)
    assert v.status == "pending"
    assert v.stale
    assert v.link == ""
    assert await v.start()
    assert v.session_id != sid


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"code": "NoFaceDetected", "message": "No face was detected; look into the camera."},
         "No face was detected; look into the camera. (NoFaceDetected)"),
        ({"code": "MultipleFaces"}, "Two faces were in the frame. (MultipleFaces)"),
        ({"code": "SomethingNew"}, "SomethingNew"),
        (None, "The service did not say why."),
    ],
)  # fmt: skip
async def test_failed_verification_says_why(error: Any, expected: str) -> None:
    client = FakeOrca()
    store = LiveStore(client)
    v = VerifyState(store)
    assert await v.start()
    _set(client, v.session_id or "", status="failed", error=error)
    await store.refresh(full=False)
    assert v.status == "failed"
    assert v.reason == expected
    assert not v.stale


# ---------------------------------------------------------------------- view
async def test_link_travels_in_a_custom_message_never_in_widget_state(
    sent: list[tuple[Widget, dict[str, Any]]],
) -> None:
    client = FakeOrca()
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    view = VerifyView(store)
    view.vue_start()
    await settle()
    link = view.state.link
    assert link.startswith("https://verify.invalid/")
    assert view.has_link
    [(sent_link, qr, seconds)] = _links(sent, view)
    assert sent_link == link
    assert qr.startswith("data:image/svg+xml")
    assert seconds == -1  # the fake service gives no expiry
    sid = view.state.session_id or ""
    state_messages = [json.dumps(m, default=str) for _, m in sent if "state" in m.get("data", m)]
    assert state_messages
    for text in state_messages + [repr(w.get_state()) for w in _instances.values()]:
        assert sid not in text
    view.vue_want_link()  # a second browser view mounts: it is sent the link too
    assert _links(sent, view)[-1][0] == link
    gid = client.add_group("Ada", group_type="LivenessFace")
    _set(client, sid, status="success", group_id=gid)
    await store.refresh(full=False)
    assert _links(sent, view)[-1] == ["", "", -1]  # withdrawn from the browser
    assert not view.has_link
    view.vue_want_link()
    assert _links(sent, view)[-1][0] == ""
    view.close()


async def test_an_expiry_learnt_later_is_sent_with_the_link(
    sent: list[tuple[Widget, dict[str, Any]]],
) -> None:
    client = FakeOrca()
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    clock = Clock(time.time())
    view = VerifyView(store, VerifyState(store, clock=clock))
    view.vue_start()
    await settle()
    assert _links(sent, view)[-1][2] == -1  # the start reply names no expiry
    _set(client, view.state.session_id or "", expires_at=clock.now + 90)  # a poll does
    await store.refresh(full=False)
    link, _, seconds = _links(sent, view)[-1]
    assert link == view.state.link
    assert seconds in (89, 90)
    view.close()


async def test_new_link_works_the_moment_the_browser_countdown_runs_out(
    sent: list[tuple[Widget, dict[str, Any]]],
) -> None:
    """The browser shows "New link" when its countdown (now + the seconds sent) runs out; the
    kernel must by then hold the link stale too, or that click is dropped (one at a time)."""
    client = FakeOrca()
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    clock = Clock(1_000_000.7)
    view = VerifyView(store, VerifyState(store, clock=clock))
    view.vue_start()
    await settle()
    first = view.state.session_id or ""
    # the sandbox sends whole seconds: a session made at .7 with an 8 s life says 1_000_008
    _set(client, first, expires_at=int(clock.now + 8))
    await store.refresh(full=False)
    _, _, seconds = _links(sent, view)[-1]
    browser_deadline = clock.now + seconds
    clock.now += 1
    view.vue_start()  # (no button shows yet) still one at a time while the link is fresh
    await settle()
    assert view.state.session_id == first
    clock.now = browser_deadline  # the browser's countdown ran out: it offers "New link"
    view.vue_start()
    await settle()
    assert view.state.session_id != first  # the one click started a new session
    assert view.has_link
    assert _links(sent, view)[-1][0] == view.state.link
    assert client.state.calls.count("real_human.start_session") == 2
    view.close()


async def test_stale_link_view_offers_a_new_one_and_shows_the_raw_word(
    sent: list[tuple[Widget, dict[str, Any]]],
) -> None:
    client = FakeOrca()
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    view = VerifyView(store)
    view.vue_start()
    await settle()
    first = view.state.session_id or ""
    _set(client, first, status="expired", status_raw="timeout")
    await store.refresh(full=False)
    assert view.stale
    assert view.done  # the start button shows (as "New link")
    assert (view.status, view.raw_status) == ("expired", "timeout")
    assert view.reason == EXPIRED_REASON
    assert _links(sent, view)[-1][0] == ""
    view.vue_start()
    await settle()
    assert view.state.session_id != first
    assert not view.stale
    assert view.has_link
    assert _links(sent, view)[-1][0] == view.state.link
    view.close()
    assert _links(sent, view)[-1][0] == ""


async def test_whole_app_state_never_holds_the_session_token() -> None:
    client = FakeOrca()
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    app = StudioApp(store)
    app.verify.vue_start()
    await settle()
    sid = app.verify.state.session_id or ""
    assert sid
    for w in list(_instances.values()):
        assert sid not in json.dumps(w.get_state(), default=str)
    app.close()
