"""Ledger.history: a run history newest first, one key and service at a time, a keyset cursor
for "show more", experiments' runs in or out, each with its media items (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from orca_nb import wire
from orca_nb.ledger import Ledger
from orca_nb.ledger.context import submission_context
from tests.ledger.conftest import T0, Clock


def body(prompt: str, *urls: str, seed: int = 1) -> dict[str, Any]:
    content = [
        {"type": "image_url", "image_url": {"url": u}, "role": "reference_image"} for u in urls
    ]
    metadata = {"content": content, "ratio": "16:9", "duration": 5, "seed": seed}
    return {"model": wire.SEEDANCE_2, "prompt": prompt, "metadata": metadata}


def _send(ledger: Ledger, clock: Clock, prompt: str, *urls: str, who: str = "key-1") -> str:
    clock.now += 1
    sid = ledger.before_submit(body(prompt, *urls), submitter=who, base_url="u")
    ledger.after_submit(sid, {"id": f"task-{prompt}", "status": "queued"})
    return sid


def test_newest_first_with_items_params_and_a_cursor(ledger: Ledger, clock: Clock) -> None:
    a = _send(ledger, clock, "a", "asset://asset-x", "https://e.example/b.png")
    b = _send(ledger, clock, "b")
    c = _send(ledger, clock, "c")
    _send(ledger, clock, "other", who="key-2")
    rows = ledger.history(submitter="key-1", base_url="u", limit=2)
    assert [r["submission_id"] for r in rows] == [c, b]
    assert rows[0]["task_id"] == "task-c"
    assert rows[0]["status"] == "queued"
    assert rows[0]["prompt"] == "c"
    assert '"seed": 1' in rows[0]["params"]
    assert rows[0]["submitted_at_ms"] == int((T0 + 3) * 1000)
    assert rows[0]["items"] == []
    more = ledger.history(
        submitter="key-1", limit=2, before=(rows[-1]["submitted_at_ms"], rows[-1]["submission_id"])
    )
    assert [r["submission_id"] for r in more] == [a]
    assert more[0]["items"] == [
        ("Image", "reference_image", "asset://asset-x"),
        ("Image", "reference_image", "https://e.example/b.png"),
    ]
    assert len(ledger.history()) == 4  # no filter: every key


def test_same_millisecond_rows_page_without_loss_or_repeat(ledger: Ledger, clock: Clock) -> None:
    sids = set()
    for i in range(5):
        sids.add(ledger.before_submit(body(f"p{i}"), submitter="k", base_url="u"))
    seen: list[str] = []
    cursor = None
    while True:
        page = ledger.history(limit=2, before=cursor)
        if not page:
            break
        seen += [r["submission_id"] for r in page]
        cursor = (page[-1]["submitted_at_ms"], page[-1]["submission_id"])
    assert sorted(seen) == sorted(sids)
    assert len(seen) == 5


def test_experiment_runs_in_or_out(ledger: Ledger, clock: Clock) -> None:
    mine = _send(ledger, clock, "by hand")
    with submission_context("exp-x-1234abcd", "var-1"):
        swept = _send(ledger, clock, "swept")
    rows = ledger.history()
    assert [r["submission_id"] for r in rows] == [swept, mine]
    assert (rows[0]["experiment_id"], rows[0]["variant_id"]) == ("exp-x-1234abcd", "var-1")
    assert [r["submission_id"] for r in ledger.history(experiments=False)] == [mine]


@pytest.mark.parametrize("limit", [0, 1001, True, 2.5])
def test_a_bad_limit_is_refused(ledger: Ledger, limit: Any) -> None:
    with pytest.raises(ValueError, match="limit must be a whole number from 1 to 1000"):
        ledger.history(limit=limit)
