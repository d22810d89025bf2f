"""Settling a video submission whose outcome is unknown, from the studio, without Python.

A real loopback sandbox drops the reply of ``POST /video/generations`` after reading the request
(the task exists, the client cannot know): the run and the task line say the outcome is unknown
in the page's words; "Attach task id" (the true id, read from the sandbox's tasks table) attaches
it in the ledger and the store follows it to ``succeeded``; "It was not created" asks once, then
records ``rejected`` / ``not_created``; rows an earlier kernel left unsettled are listed on open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca
from orca_nb.ledger import Ledger, open_ledger
from orca_nb.sandbox import Backend, Fault, SandboxServer
from orca_nb.widgets.advice import UNKNOWN_OUTCOME_TEXT
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.state.studio import task_id_problem
from orca_nb.widgets.views.studio import StudioView

VIDEO = "POST " + wire.VIDEOS_PATH


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


@pytest.fixture
async def store(
    sandbox_server: SandboxServer, sandbox_key: str, ledger: Ledger
) -> AsyncIterator[LiveStore]:
    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger)
    live = LiveStore(client, fast_interval=0.05, slow_interval=30)
    yield live
    await settle()
    await live.aclose()
    await client.close()


async def _until(check: Any, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def _server_tasks(backend: Backend, key: str) -> list[str]:
    account = backend.account_for_key(key)
    with backend.db.tx() as db:
        rows = db.execute("SELECT id FROM tasks WHERE account = ? ORDER BY rowid", (account,))
        return [str(r[0]) for r in rows]


def _row(ledger: Ledger, submission_id: str) -> tuple[Any, ...]:
    _, rows = ledger.database.query(
        "SELECT status, task_id, error_code FROM submissions WHERE id = ?", (submission_id,)
    )
    return tuple(rows[0])


async def _unknown_submit(view: StudioView, backend: Backend, prompt: str) -> str:
    """Submit through the view into a dropped reply; the run's ledger submission id."""
    backend.faults.add(VIDEO, Fault.drop_after())
    view.picker.prompt = prompt
    view.duration = 4
    view.resolution = "480p"
    view.vue_submit()
    await settle()
    await _until(lambda: bool(view.state.runs) and not view.state.submitting)
    run = view.state.runs[-1]
    assert run.outcome == "unknown"
    assert run.submission_id
    return run.submission_id


async def test_unknown_run_then_attach_the_real_task_id_follows_it_to_the_end(
    store: LiveStore, sandbox_backend: Backend, sandbox_key: str, ledger: Ledger
) -> None:
    view = StudioView(store)
    sid = await _unknown_submit(view, sandbox_backend, "a lighthouse at dusk")
    # the page says it in its own words, with both actions and no Python
    assert view.task_status.startswith(UNKNOWN_OUTCOME_TEXT)
    assert view.runs[0]["status"] == UNKNOWN_OUTCOME_TEXT
    [entry] = view.unknowns
    assert "Attach task id" in entry["advice"]  # what to do, said once: in its entry
    assert "It was not created" in entry["advice"]
    assert view.task_advice == ""
    assert not view.error  # nothing was refused: no red error
    assert "no reply came back" in entry["detail"]
    assert entry["submission_id"] == sid
    assert entry["settleable"]
    page = " ".join(
        str(v) for v in (view.task_status, view.task_advice, view.error, view.advice, entry)
    )
    assert "orca_nb." not in page
    assert "settle(" not in page
    assert _row(ledger, sid)[:2] == ("unknown", None)
    [task_id] = _server_tasks(sandbox_backend, sandbox_key)  # the service did create it

    # a malformed id is refused before any request; an id the service lacks leaves it unknown
    sent = store.gateway.requests
    view.vue_attach_task({"submission_id": sid, "task_id": "not an id/"})
    await settle()
    assert "not a task id" in view.unknowns[0]["note"]
    assert store.gateway.requests == sent
    view.vue_attach_task({"submission_id": sid, "task_id": "cgt-20990101000000-nothere"})
    await settle()
    await _until(lambda: "has no task" in view.unknowns[0]["note"])
    assert _row(ledger, sid)[:2] == ("unknown", None)
    assert view.unknowns[0]["settleable"]

    # the real id (pasted with spaces around it): attached, then followed to its end
    view.vue_attach_task({"submission_id": sid, "task_id": f"  {task_id} "})
    await settle()
    await _until(lambda: view.state.runs[-1].task_id == task_id)
    assert _row(ledger, sid)[1] == task_id
    assert view.unknowns[0]["state"] == "attached"
    assert not view.unknowns[0]["settleable"]
    await _until(lambda: "succeeded" in view.task_status, seconds=60)
    assert view.runs[0]["status"] == "succeeded"
    await _until(lambda: _row(ledger, sid)[0] == "succeeded")
    assert _row(ledger, sid) == ("succeeded", task_id, None)
    assert ledger.unsettled() == []
    view.close()


async def test_it_was_not_created_asks_once_then_records_rejected_not_created(
    store: LiveStore, sandbox_backend: Backend, ledger: Ledger
) -> None:
    view = StudioView(store)
    sid = await _unknown_submit(view, sandbox_backend, "a fox in the snow")
    view.vue_not_created(sid)
    assert view.asking_not_created == sid
    assert _row(ledger, sid)[:2] == ("unknown", None)  # only asked
    view.vue_cancel_not_created()
    assert view.asking_not_created == ""
    view.vue_not_created(sid)
    both = await asyncio.gather(  # "Yes" pressed twice: settled once
        view.state.mark_not_created(sid, confirmed=True),
        view.state.mark_not_created(sid, confirmed=True),
    )
    assert sorted(both) == [False, True]
    assert view.asking_not_created == ""
    assert _row(ledger, sid) == ("rejected", None, "not_created")
    assert view.unknowns[0]["note"].startswith("Recorded as not created")
    assert view.unknowns[0]["state"] == "not_created"
    assert not view.unknowns[0]["settleable"]
    assert view.runs[0]["status"] == "not created (settled)"
    assert "not created" in view.task_status
    # the same request is no longer a possible duplicate: Submit sends it without asking
    sandbox_backend.faults.clear()
    view.vue_submit()
    await settle()
    await _until(lambda: len(view.state.runs) == 2)
    assert not view.state.confirming
    view.close()


async def test_unsettled_rows_of_an_earlier_kernel_are_listed_when_the_studio_opens(
    store: LiveStore, sandbox_backend: Backend, ledger: Ledger
) -> None:
    first = StudioView(store)
    sid = await _unknown_submit(first, sandbox_backend, "a kite over the dunes")
    first.close()  # the kernel restarts: a new studio knows nothing of this kernel's runs
    again = StudioView(store)
    await settle()
    await _until(lambda: bool(again.unknowns))
    [entry] = again.unknowns
    assert entry["submission_id"] == sid
    assert entry["run"] == 0
    assert entry["settleable"]
    assert entry["prompt"] == "a kite over the dunes"
    assert entry["text"].startswith(UNKNOWN_OUTCOME_TEXT)
    again.vue_not_created(sid)
    again.vue_confirm_not_created(sid)
    await settle()
    await _until(lambda: _row(ledger, sid)[0] == "rejected")
    assert again.unknowns[0]["state"] == "not_created"
    again.close()


async def test_an_earlier_kernels_row_is_attached_and_followed_to_its_end(
    store: LiveStore, sandbox_backend: Backend, sandbox_key: str, ledger: Ledger
) -> None:
    first = StudioView(store)
    sid = await _unknown_submit(first, sandbox_backend, "a train in the rain")
    first.close()
    again = StudioView(store)
    await settle()
    await _until(lambda: bool(again.unknowns))
    assert "no reply came back" in again.unknowns[0]["detail"]  # what the ledger recorded
    [task_id] = _server_tasks(sandbox_backend, sandbox_key)
    again.vue_attach_task({"submission_id": sid, "task_id": task_id})
    await settle()
    await _until(lambda: again.unknowns[0]["state"] == "attached")
    assert task_id in store.tasks  # followed by the live store like any submitted task
    await _until(lambda: again.unknowns[0]["text"].endswith("succeeded"), seconds=60)
    await _until(lambda: _row(ledger, sid)[0] == "succeeded")
    again.close()


async def test_a_task_id_that_belongs_to_another_submission_is_not_attached(
    store: LiveStore, sandbox_backend: Backend, sandbox_key: str, ledger: Ledger
) -> None:
    view = StudioView(store)
    view.picker.prompt = "a quiet harbour"
    view.duration = 4
    view.resolution = "480p"
    view.vue_submit()
    await settle()
    await _until(lambda: bool(view.state.runs) and bool(view.state.runs[0].task_id))
    taken = view.state.runs[0].task_id
    sid = await _unknown_submit(view, sandbox_backend, "a busy harbour")
    view.vue_attach_task({"submission_id": sid, "task_id": taken})
    await settle()
    await _until(lambda: "Not attached" in view.unknowns[0]["note"])
    assert "already belongs" in view.unknowns[0]["note"]
    assert _row(ledger, sid)[:2] == ("unknown", None)
    assert view.unknowns[0]["settleable"]
    view.close()


def test_task_id_problems_are_said_in_words() -> None:
    assert task_id_problem("").startswith("Paste the task id")
    assert "asset or group id" in task_id_problem("asset-20260101-x")
    assert "not a task id" in task_id_problem("cgt 1")
    assert "not a task id" in task_id_problem("cgt/1")
    assert "not a task id" in task_id_problem("cgt-\u00e9")
    assert task_id_problem("cgt-20260101000000-abc") == ""


async def test_without_a_ledger_the_page_says_it_cannot_be_recorded(
    sandbox_server: SandboxServer, sandbox_backend: Backend, sandbox_key: str
) -> None:
    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url, ledger=None)
    live = LiveStore(client, fast_interval=0.05, slow_interval=30)
    view = StudioView(live)
    try:
        sandbox_backend.faults.add(VIDEO, Fault.drop_after())
        view.picker.prompt = "a boat at night"
        view.duration = 4
        view.resolution = "480p"
        view.vue_submit()
        await settle()
        await _until(lambda: bool(view.state.runs) and not view.state.submitting)
        assert view.task_status.startswith(UNKNOWN_OUTCOME_TEXT)
        [entry] = view.unknowns
        assert "cannot be recorded" in entry["advice"]
        assert "service console" in entry["advice"]
        assert not entry["settleable"]  # no actions: only "check the service console"
        assert "Attach task id" not in entry["advice"]
    finally:
        view.close()
        await settle()
        await live.aclose()
        await client.close()
