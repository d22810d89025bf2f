"""The asset cap: Upload disabled with the reason, deletion candidates on the meter; the upload
form in a real-human group; group labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orca_nb.client import Orca
from orca_nb.client.models import AssetError
from orca_nb.ledger import open_ledger
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.rows import AssetRow
from orca_nb.widgets.state.quota import QuotaState, deletion_candidates, used_asset_ids
from orca_nb.widgets.state.upload import FACE_NOTE, UploadState
from orca_nb.widgets.views.forms import QuotaView, UploadView, group_label
from tests.widgets.fakes import FakeOrca


def _row(aid: str, status: str = "Active", created: str = "2026-01-01T00:00:00") -> AssetRow:
    return AssetRow(aid, f"name {aid}", "g", "Image", status, create_time=created)


def test_candidates_are_failed_then_never_used_then_oldest() -> None:
    rows = [
        _row("new-used", created="2026-03-01"),
        _row("old-used", created="2026-01-01"),
        _row("unused", created="2026-02-01"),
        _row("failed", "Failed", created="2026-02-15"),
        _row("no-time", created=""),
    ]
    found = deletion_candidates(rows, {"g": "Props"}, frozenset({"new-used", "old-used", "x"}))
    assert [(c.asset_id, c.why) for c in found] == [
        ("failed", "failed"),
        ("unused", "never used in a video"),
        ("no-time", "never used in a video"),
        ("old-used", "oldest"),
        ("new-used", "oldest"),
    ]
    assert found[0].group_name == "Props"
    without_ledger = deletion_candidates(rows, {}, None, limit=3)
    assert [(c.asset_id, c.why) for c in without_ledger] == [
        ("failed", "failed"),
        ("old-used", "oldest"),
        ("unused", "oldest"),
    ]


def test_used_asset_ids_read_the_clients_ledger(tmp_path: Path) -> None:
    ledger = open_ledger(str(tmp_path / "ledger.sqlite3"))
    image = {"type": "image_url", "image_url": {"url": "asset://asset-used-1"}}
    body = {
        "model": "byteplus/dreamina-seedance-2-0-260128",
        "prompt": "[Image 1] waves",
        "metadata": {"content": [image | {"role": "reference_image"}]},
    }
    ledger.before_submit(body, submitter="tester", base_url="http://sandbox.invalid/v1")

    client: Any = FakeOrca()
    assert used_asset_ids(client) is None  # no ledger: the hint is left out, nothing fails
    client.ledger = ledger
    assert used_asset_ids(client) == frozenset({"asset-used-1"})
    with Orca("sk-test-quota", base_url="http://127.0.0.1:9/v1", ledger=ledger) as real:
        assert used_asset_ids(real) == frozenset({"asset-used-1"})  # a real client's ledger
    ledger.close()
    assert used_asset_ids(client) is None  # unreadable: no hint, no error


async def test_quota_at_cap_names_candidates_and_blocks_uploads() -> None:
    client = FakeOrca()
    gid = client.add_group("props")
    ids = [client.add_asset(gid, f"a{i}") for i in range(3)]
    client.set_asset(ids[1], status="Failed", error=AssetError(code="FaceMismatch", message="x"))
    store = LiveStore(client, asset_cap=3, fast_interval=30, slow_interval=60)
    await store.refresh()
    q = QuotaState(store).quota()
    assert q.level == "full"
    assert q.candidates[0].asset_id == ids[1]
    assert q.candidates[0].why == "failed"
    assert "3 of its 3 assets" in q.upload_block
    upload = UploadState(store, group_id=gid)
    assert upload.blocked == q.upload_block
    upload.set_source("https://example.invalid/a.png")
    assert await upload.upload(force=True) is None
    assert "3 of its 3 assets" in upload.error
    assert "assets.upload" not in client.state.calls  # refused before any request


async def test_views_disable_upload_at_the_cap_and_list_candidates() -> None:
    client = FakeOrca()
    gid = client.add_group("props")
    for i in range(2):
        client.add_asset(gid, f"a{i}")
    store = LiveStore(client, asset_cap=3, fast_interval=30, slow_interval=60)
    await store.refresh()
    upload, meter = UploadView(store), QuotaView(store)
    assert upload.blocked == ""
    assert meter.level == "ok"
    client.add_asset(gid, "a2")
    await store.refresh()
    await settle()
    assert "the most it may have" in upload.blocked
    assert meter.level == "full"
    assert [c["name"] for c in meter.candidates] == ["a0", "a1", "a2"]
    assert {c["why"] for c in meter.candidates} == {"oldest"}  # the fake keeps no ledger
    assert all(c["group"] == "props" for c in meter.candidates)
    upload.close()
    meter.close()


async def test_upload_in_a_verified_persons_group_says_where_faces_are_checked() -> None:
    client = FakeOrca()
    person = client.add_group("ada (verified)", group_type="LivenessFace")
    virtual = client.add_group("props")
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    await store.refresh()
    view = UploadView(store, group_id=person)
    assert view.face_note == FACE_NOTE
    assert "after upload" in FACE_NOTE
    titles = {c["value"]: c["title"] for c in view.group_choices}
    assert titles == {
        person: "ada · real-human (LivenessFace)",
        virtual: "props · virtual (AIGC)",
    }
    view.group_id = virtual
    assert view.face_note == ""
    view.close()


def test_group_labels_say_the_group_type_once() -> None:
    assert group_label("ada (verified)", "LivenessFace") == "ada · real-human (LivenessFace)"
    assert group_label("Ada", "LivenessFace") == "Ada · real-human (LivenessFace)"
    assert group_label("(verified)", "LivenessFace") == "(verified) · real-human (LivenessFace)"
    assert group_label("team (verified)", "AIGC") == "team (verified) · virtual (AIGC)"
    assert group_label("x", "SomethingNew") == "x · SomethingNew"
