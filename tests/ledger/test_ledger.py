"""The ledger records each submission and its task's life, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client.hooks import VideoLedger, key_label
from orca_nb.ledger import LEDGER_ENV, Ledger, default_ledger_url, open_ledger
from tests.ledger.conftest import T0, Clock


def body(*items: dict[str, Any], prompt: str = "[Image 1] walks", **params: Any) -> dict[str, Any]:
    metadata = {"content": list(items), **params}
    return {"model": wire.SEEDANCE_2, "prompt": prompt, "metadata": metadata}


def image(url: str, role: str | None = "reference_image") -> dict[str, Any]:
    item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if role:
        item["role"] = role
    return item


def audio(url: str) -> dict[str, Any]:
    return {"type": "audio_url", "audio_url": {"url": url}, "role": "reference_audio"}


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, tz=UTC)


def test_is_a_video_ledger(ledger: Ledger) -> None:
    assert isinstance(ledger, VideoLedger)


def test_submission_is_recorded_with_items_and_groups_before_sending(
    ledger: Ledger, clock: Clock
) -> None:
    ledger.snapshot_assets(
        [{"Id": "asset-a", "Name": "ada", "AssetType": "Image", "GroupId": "group-g"}],
        [{"Id": "group-g", "Name": "Ada", "GroupType": "AIGC"}],
    )
    label = key_label("sk-orca-test-000")
    sid = ledger.before_submit(
        body(
            image("asset://asset-a"),
            image("https://cdn.test/x.png"),
            audio("asset://asset-s"),
            duration=8,
            resolution="1080p",
            seed=7,
        ),
        submitter=label,
        base_url="http://127.0.0.1:1/v1",
    )
    row = ledger.submission(sid)
    assert row is not None
    assert row["status"] == "submitting"
    assert row["task_id"] is None
    assert row["submitter"] == label
    assert row["prompt"] == "[Image 1] walks"
    assert row["duration"] == 8
    assert row["resolution"] == "1080p"
    assert row["ratio"] == "adaptive"  # the model's default when not sent
    assert row["mode"] == "reference"
    assert '"seed": 7' in row["params"]
    assert row["submitted_at"] == at(0)
    items = [
        (i["position"], i["ordinal"], i["asset_type"], i["role"], i["asset_id"], i["group_id"])
        for i in row["items"]
    ]
    assert items == [
        (0, 1, "Image", "reference_image", "asset-a", "group-g"),
        (1, 2, "Image", "reference_image", None, None),
        (2, 1, "Audio", "reference_audio", "asset-s", None),
    ]
    assert row["items"][1]["source"] == "https://cdn.test/x.png"
    assert row["events"] == [("submitting", at(0))]


def test_the_key_itself_is_refused_as_submitter(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="key_label"):
        ledger.before_submit(body(), submitter="sk-orca-test-123", base_url="x")
    assert ledger.count() == 0


def test_task_life_is_followed_to_the_end(ledger: Ledger, clock: Clock) -> None:
    sid = ledger.before_submit(body(image("asset://asset-a")), submitter="key-1", base_url="u")
    clock.now += 1
    ledger.after_submit(sid, {"id": "task-1", "status": "queued", "progress": 0})
    assert [u.task_id for u in ledger.unfinished()] == ["task-1"]
    clock.now += 9
    ledger.on_task({"id": "task-1", "status": "running", "progress": 40})
    clock.now += 50
    ledger.on_task(
        {
            "id": "task-1",
            "status": "succeeded",
            "video_url": "http://v/1.mp4",
            "usage": {"completion_tokens": 108_900, "total_tokens": 108_900},
        }
    )
    row = ledger.submission(sid)
    assert row is not None
    assert (row["status"], row["progress"], row["total_tokens"]) == ("succeeded", 100, 108_900)
    assert (row["accepted_at"], row["started_at"], row["finished_at"]) == (at(1), at(10), at(60))
    assert row["video_url_expires_at"] == at(60 + wire.VIDEO_URL_TTL_SECONDS)
    assert [s for s, _ in row["events"]] == ["submitting", "queued", "running", "succeeded"]
    assert row["items"][0]["outcome"] == "succeeded"
    assert row["items"][0]["tokens"] == 108_900
    assert ledger.unfinished() == []
    # A stale state fetched later does not move a finished task back.
    ledger.on_task({"id": "task-1", "status": "running", "progress": 50})
    again = ledger.submission(sid)
    assert again is not None
    assert again["status"] == "succeeded"
    assert len(again["events"]) == 4


def test_server_task_times_win_over_observation_times(ledger: Ledger, clock: Clock) -> None:
    sid = ledger.before_submit(body(), submitter="key-1", base_url="u")
    ledger.after_submit(sid, {"id": "task-2", "status": "queued"})
    clock.now += 500
    ledger.on_task(
        {
            "id": "task-2",
            "status": "failed",
            "started_at": T0 + 20,
            "completed_at": T0 + 80,
            "error": {"code": "SensitiveContent", "message": "blocked"},
        }
    )
    row = ledger.submission(sid)
    assert row is not None
    assert (row["status"], row["error_code"], row["error_message"]) == (
        "failed",
        "SensitiveContent",
        "blocked",
    )
    # whole-second stamps: the middle of each second (issue 8: latency within 1 s of the truth)
    assert (row["started_at"], row["finished_at"]) == (at(20.499), at(80.499))
    assert [s for s, _ in row["events"]] == ["submitting", "queued", "failed"]


def test_refused_submission_is_terminal_with_its_error(ledger: Ledger) -> None:
    sid = ledger.before_submit(body(image("asset://asset-a")), submitter="key-1", base_url="u")
    ledger.submit_failed(sid, code="quota_insufficient", message="balance exhausted")
    row = ledger.submission(sid)
    assert row is not None
    assert (row["status"], row["error_code"]) == ("rejected", "quota_insufficient")
    assert row["items"][0]["outcome"] == "rejected"
    assert ledger.unfinished() == []


def test_unknown_task_states_are_ignored_and_unknown_submissions_refused(ledger: Ledger) -> None:
    ledger.on_task({"id": "task-elsewhere", "status": "succeeded"})
    assert ledger.count() == 0
    with pytest.raises(KeyError, match="sub-missing"):
        ledger.after_submit("sub-missing", {"id": "t"})


def test_snapshots_fill_groups_keep_names_and_survive_deletion(ledger: Ledger) -> None:
    sid = ledger.before_submit(body(image("asset://asset-b")), submitter="key-1", base_url="u")

    class Model:  # what a pydantic client model offers
        def model_dump(self, *, by_alias: bool = False) -> dict[str, Any]:
            assert by_alias
            return {
                "Id": "asset-b",
                "Name": "bob",
                "AssetType": "Image",
                "Status": "Active",
                "GroupId": "group-h",
                "CreateTime": "2026-03-18T03:57:10Z",
            }

    assert ledger.snapshot_assets([Model()], [{"Id": "group-h", "Name": "Bob"}]) == 2
    failed = {"Id": "asset-b", "Status": "Failed", "Error": {"Code": "FaceMismatch"}}
    ledger.snapshot_assets([failed])
    ledger.mark_deleted(group_ids=["group-h"])
    row = ledger.submission(sid)
    assert row is not None
    assert row["items"][0]["group_id"] == "group-h"
    _, assets = ledger.database.query(
        "SELECT name, status, error_code, created_at, deleted_at IS NOT NULL FROM assets"
    )
    created = round(datetime(2026, 3, 18, 3, 57, 10, tzinfo=UTC).timestamp() * 1000)
    assert [tuple(r) for r in assets] == [("bob", "Failed", "FaceMismatch", created, True)]
    with pytest.raises(ValueError, match="'Id'"):
        ledger.snapshot_assets([{"Name": "no id"}])


def test_urls_and_the_default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = open_ledger(tmp_path / "a.sqlite3")
    assert plain.url == f"sqlite://{tmp_path / 'a.sqlite3'}"
    plain.close()
    four = open_ledger(f"sqlite:///{tmp_path / 'a.sqlite3'}")  # SQLAlchemy's absolute spelling
    assert four.url == plain.url
    four.close()
    with pytest.raises(ValueError, match="postgresql://"):
        open_ledger("mysql://x")
    with pytest.raises(ValueError, match="needs a path"):
        open_ledger("sqlite://")
    memory = open_ledger("sqlite:///:memory:")
    assert memory.count() == 0
    memory.close()
    monkeypatch.setenv(LEDGER_ENV, f"sqlite://{tmp_path / 'env.sqlite3'}")
    assert default_ledger_url() == f"sqlite://{tmp_path / 'env.sqlite3'}"
    monkeypatch.delenv(LEDGER_ENV)
    assert default_ledger_url().endswith("ledger.sqlite3")


def test_unchanged_snapshots_are_not_written_again(ledger: Ledger, clock: Clock) -> None:
    """Live panels list the same rows every refresh: only news costs a write."""
    asset = {"Id": "asset-r1", "Name": "hero", "AssetType": "Image", "Status": "Processing"}
    group = {"Id": "group-r1", "Name": "cast", "GroupType": "AIGC"}
    assert ledger.snapshot_assets([asset], [group]) == 2
    clock.now += 5
    assert ledger.snapshot_assets([asset], [group]) == 0
    assert ledger.snapshot_assets([{**asset, "Status": "Active"}], [group]) == 1
    clock.now += 601  # past SEEN_REFRESH_MS: last_seen_at is refreshed
    assert ledger.snapshot_assets([{**asset, "Status": "Active"}], [group]) == 2
    _, seen = ledger.database.query(
        "SELECT status, last_seen_at FROM assets WHERE asset_id = ?", ("asset-r1",)
    )
    assert seen == [("Active", int((T0 + 606) * 1000))]
