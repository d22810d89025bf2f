"""A small ledger whose every report value is worked out by hand in the tests.

Days: D0 = 2026-03-02, D1 = 2026-03-03 (UTC). Groups a (Ada, AIGC), b (Bob, LivenessFace),
c (Empty, AIGC). Assets: a1, a2 (Image, group a, created 03-01), x (group a, created 03-01,
deleted on D1), b1 (Video, group b), b2 (Image, group b, Failed FaceMismatch), both created
03-02, c1 (Audio, group c, created 03-03, never used).

Submissions (submitted, submitter, resolution/duration, items -> outcome):
S1 D0 01:00 key-1 720p/5  [a1, a2]          succeeded: start +10 s, finish +60 s, 100 tokens
S2 D0 02:00 key-1 720p/5  [a1, URL]         succeeded: start +20 s, finish +120 s, 100 tokens
S3 D0 03:00 key-2 1080p/10 [b1 video, a1]   failed SensitiveContent: start +10 s, end +30 s
S4 D1 01:00 key-2 720p/5  [a1 first_frame]  rejected quota_insufficient
S5 D1 02:00 key-1 720p/5  []                succeeded: start +30 s, finish +90 s, 50 tokens
S6 D1 03:00 key-1 720p/5  [a2, a2]          still running
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orca_nb import wire
from orca_nb.ledger import Ledger, open_ledger

D0 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
D1 = D0 + 86_400
URL = "https://cdn.test/outfit.png"


class Clock:
    def __init__(self) -> None:
        self.now = D0

    def __call__(self) -> float:
        return self.now


def _item(kind: str, url: str, role: str) -> dict[str, Any]:
    return {"type": f"{kind}_url", f"{kind}_url": {"url": url}, "role": role}


def _ref(asset: str, role: str = "reference_image") -> dict[str, Any]:
    return _item("image", f"asset://asset-{asset}", role)


def _body(items: list[dict[str, Any]], resolution: str = "720p", duration: int = 5) -> Any:
    return {
        "model": wire.SEEDANCE_2,
        "prompt": "a short scene",
        "metadata": {"content": items, "resolution": resolution, "duration": duration},
    }


def seed(url: str) -> Ledger:
    """Write the scenario above into the ledger at ``url`` and return it opened."""
    clock = Clock()
    ledger = open_ledger(url, clock=clock)
    clock.now = D0 - 3600
    ledger.snapshot_assets(
        [
            {"Id": "asset-a1", "Name": "ada front", "AssetType": "Image", "Status": "Active",
             "GroupId": "group-a", "CreateTime": "2026-03-01T10:00:00Z"},
            {"Id": "asset-a2", "Name": "ada close", "AssetType": "Image", "Status": "Active",
             "GroupId": "group-a", "CreateTime": "2026-03-01T10:05:00Z"},
            {"Id": "asset-x", "Name": "old", "AssetType": "Image", "Status": "Active",
             "GroupId": "group-a", "CreateTime": "2026-03-01T09:00:00Z"},
            {"Id": "asset-b1", "Name": "bob walk", "AssetType": "Video", "Status": "Active",
             "GroupId": "group-b", "CreateTime": "2026-03-02T00:10:00Z"},
            {"Id": "asset-b2", "Name": "bob wrong", "AssetType": "Image", "Status": "Failed",
             "GroupId": "group-b", "CreateTime": "2026-03-02T00:20:00Z",
             "Error": {"Code": "FaceMismatch", "Message": "Face consistency verification failed."}},
            {"Id": "asset-c1", "Name": "theme", "AssetType": "Audio", "Status": "Active",
             "GroupId": "group-c", "CreateTime": "2026-03-03T08:00:00Z"},
        ],
        [
            {"Id": "group-a", "Name": "Ada", "GroupType": "AIGC"},
            {"Id": "group-b", "Name": "Bob", "GroupType": "LivenessFace"},
            {"Id": "group-c", "Name": "Empty", "GroupType": "AIGC"},
        ],
    )  # fmt: skip

    def run(
        at: float,
        submitter: str,
        body: Any,
        task: str,
        *,
        start: float | None = None,
        end: float | None = None,
        status: str = "succeeded",
        tokens: int | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        clock.now = at
        sid = ledger.before_submit(body, submitter=submitter, base_url="http://127.0.0.1:1/v1")
        if status == "rejected":
            assert error is not None
            ledger.submit_failed(sid, code=error[0], message=error[1])
            return
        clock.now = at + 1
        ledger.after_submit(sid, {"id": task, "status": "queued"})
        if start is not None:
            clock.now = at + start
            ledger.on_task({"id": task, "status": "running"})
        if end is not None:
            clock.now = at + end
            state: dict[str, Any] = {"id": task, "status": status}
            if tokens is not None:
                state["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
            if error is not None:
                state["error"] = {"code": error[0], "message": error[1]}
            ledger.on_task(state)

    video_b1 = _item("video", "asset://asset-b1", "reference_video")
    run(D0 + 3600, "key-1", _body([_ref("a1"), _ref("a2")]), "task-1", start=10, end=60, tokens=100)
    run(
        D0 + 7200,
        "key-1",
        _body([_ref("a1"), _item("image", URL, "reference_image")]),
        "task-2",
        start=20,
        end=120,
        tokens=100,
    )
    run(
        D0 + 10800,
        "key-2",
        _body([video_b1, _ref("a1")], "1080p", 10),
        "task-3",
        start=10,
        end=30,
        status="failed",
        error=("SensitiveContent", "output blocked"),
    )
    run(
        D1 + 3600,
        "key-2",
        _body([_ref("a1", "first_frame")]),
        "task-4",
        status="rejected",
        error=("quota_insufficient", "balance exhausted"),
    )
    run(D1 + 7200, "key-1", _body([]), "task-5", start=30, end=90, tokens=50)
    run(D1 + 10800, "key-1", _body([_ref("a2"), _ref("a2")]), "task-6", start=5)
    clock.now = D1 + 12 * 3600
    ledger.mark_deleted(asset_ids=["asset-x"])
    return ledger
