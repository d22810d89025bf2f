"""The ``unknown`` status and settling it, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from orca_nb.ledger import Ledger, reattach
from orca_nb.ledger.ledger import TERMINAL_STATUSES
from orca_nb.ledger.schema import STATUS_UNKNOWN
from orca_nb.reports import failures_by_code, quota_use, tokens_per_day
from tests.ledger.conftest import Clock
from tests.ledger.test_ledger import at, body, image


def _unknown(ledger: Ledger, clock: Clock) -> str:
    sid = ledger.before_submit(body(image("asset://asset-a")), submitter="key-1", base_url="u")
    clock.now += 2
    ledger.submit_unknown(sid, code=None, message="no reply (ReadTimeout)")
    return sid


def test_an_unknown_outcome_is_its_own_status_not_terminal(ledger: Ledger, clock: Clock) -> None:
    sid = _unknown(ledger, clock)
    row = ledger.submission(sid)
    assert row is not None
    assert (row["status"], row["error_code"], row["finished_at"]) == (
        "unknown", "outcome_unknown", None,
    )  # fmt: skip
    assert STATUS_UNKNOWN not in TERMINAL_STATUSES
    assert row["items"][0]["outcome"] is None  # neither succeeded nor failed in asset reports
    assert [s for s, _ in row["events"]] == ["submitting", "unknown"]
    assert ledger.unfinished() == []  # nothing to follow until a task id is known
    [waiting] = ledger.unsettled()
    assert (waiting["submission_id"], waiting["submitted_at"]) == (sid, at(0))
    assert ledger.unsettled(submitter="key-2") == []
    daily, quota = tokens_per_day(ledger), quota_use(ledger)
    assert (int(daily["videos"].sum()), int(daily["unknown"].sum())) == (1, 1)
    assert int(quota["unknown"].sum()) == 1
    assert failures_by_code(ledger).empty  # not a failure


def test_settled_with_its_task_it_is_followed_to_the_end(ledger: Ledger, clock: Clock) -> None:
    sid = _unknown(ledger, clock)
    clock.now += 60
    row = ledger.settle(sid, task_id="task-found")
    assert (row["status"], row["task_id"], row["error_code"], row["error_message"]) == (
        "unknown", "task-found", None, None,
    )  # fmt: skip
    assert ledger.unsettled() == []
    assert [u.task_id for u in ledger.unfinished()] == ["task-found"]

    class Videos:
        def get(self, task_id: str, /) -> dict[str, object]:
            return {"id": task_id, "status": "succeeded", "usage": {"total_tokens": 7}}

    class Client:
        videos = Videos()

    assert reattach(Client(), ledger, wait=False) == {"task-found": "succeeded"}
    done = ledger.submission(sid)
    assert done is not None
    assert (done["status"], done["total_tokens"]) == ("succeeded", 7)
    assert done["items"][0]["outcome"] == "succeeded"
    assert int(tokens_per_day(ledger)["unknown"].sum()) == 0


def test_settled_as_not_created_it_is_rejected(ledger: Ledger, clock: Clock) -> None:
    sid = _unknown(ledger, clock)
    row = ledger.settle(sid, created=False)
    assert (row["status"], row["error_code"]) == ("rejected", "not_created")
    assert row["items"][0]["outcome"] == "rejected"
    with pytest.raises(ValueError, match="not unknown"):
        ledger.settle(sid, task_id="late")


def test_a_row_a_dead_kernel_left_submitting_can_be_settled(ledger: Ledger) -> None:
    sid = ledger.before_submit(body(prompt="p"), submitter="key-1", base_url="u")
    assert ledger.settle(sid, task_id="t-1")["task_id"] == "t-1"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "task_id="),
        ({"created": True}, "task_id="),
        ({"created": "no"}, "True or False"),
        ({"task_id": "x", "created": False}, "not both"),
        ({"task_id": " x"}, "task's id"),
        ({"task_id": ""}, "task's id"),
    ],
)
def test_settle_refuses_what_does_not_say_what_happened(
    ledger: Ledger, clock: Clock, kwargs: dict[str, object], match: str
) -> None:
    sid = _unknown(ledger, clock)
    with pytest.raises(ValueError, match=match):
        ledger.settle(sid, **kwargs)  # type: ignore[arg-type]
    assert ledger.unsettled()[0]["submission_id"] == sid  # unchanged
