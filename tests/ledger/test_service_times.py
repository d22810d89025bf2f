"""Ledger times are the service's: submitted/started/finished come from the task's own stamps
(narrowed within their whole second by what the kernel saw), otherwise from the first poll that
saw the change; a live store polling at the fast cadence makes the report's latency agree with
the sandbox's truth within a second, whichever shape the service answers in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca
from orca_nb.compose import Selection, build_request
from orca_nb.ledger import Ledger, open_ledger
from orca_nb.ledger.records import agrees, narrow, parse_task
from orca_nb.sandbox import SandboxConfig, SandboxServer
from orca_nb.widgets.live import LiveStore

S = 1_700_000_000_000  # a whole second, in ms


def test_narrow_takes_the_middle_of_what_is_left_of_the_service_second() -> None:
    assert narrow(None, 0, 1) is None
    assert narrow(S, None, None) == S + 499  # somewhere in [S, S+1 s): its middle
    assert narrow(S, S - 5_000, S + 5_000) == S + 499  # bounds outside the second
    assert narrow(S, S + 600, S + 5_000) == S + 799  # sent at +0.6 s
    assert narrow(S, S - 5_000, S + 200) == S + 100  # the reply came at +0.2 s
    assert narrow(S, S + 300, S + 500) == S + 400
    assert narrow(S, S + 2_000, S + 3_000) == S  # clocks disagree: the service's word
    assert narrow(S + 123, S, S + 999) == S + 123  # finer than a second: as told


def test_agrees_means_within_the_service_second() -> None:
    assert agrees(S + 999, S)
    assert not agrees(S + 1_000, S)
    assert not agrees(S - 1, S)
    assert agrees(S + 5, S + 5)
    assert not agrees(S + 6, S + 5)
    assert not agrees(None, S)


def test_a_raw_ark_task_ends_at_its_last_update() -> None:
    done = parse_task({"id": "t", "status": "succeeded", "created_at": 100, "updated_at": 107})
    assert (done.created_at, done.finished_at) == (100_000, 107_000)
    running = parse_task({"id": "t", "status": "running", "created_at": 100, "updated_at": 103})
    assert running.finished_at is None  # a running task's last update is not its end


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[Ledger, Clock]]:
    clock = Clock(S / 1000 - 0.004)
    with open_ledger(tmp_path / "ledger.sqlite3") as base:
        yield Ledger(base.database, clock=clock), clock


def _times(ledger: Ledger, sid: str) -> tuple[int, int, int, int]:
    _, rows = ledger.database.query(
        "SELECT submitted_at, started_at, finished_at, latency_ms FROM submissions WHERE id = ?",
        (sid,),
    )
    return tuple(rows[0])  # type: ignore[return-value]


def _body() -> dict[str, object]:
    return {"model": "byteplus/dreamina-seedance-2-0-260128", "prompt": "a lighthouse"}


def test_submitted_is_the_services_creation_and_finished_is_narrowed(
    clocked: tuple[Ledger, Clock],
) -> None:
    ledger, clock = clocked
    sid = ledger.before_submit(_body(), submitter="key-1", base_url="u")  # 4 ms before S
    clock.now = S / 1000 + 0.010
    ledger.after_submit(sid, {"id": "task-1", "status": "queued", "created_at": S // 1000})
    assert _times(ledger, sid)[0] == S + 5  # within [S, S+10 ms]: created between send and reply
    clock.now = S / 1000 + 7.4  # a poll sees it running
    ledger.on_task({"id": "task-1", "status": "running", "created_at": S // 1000})
    clock.now = S / 1000 + 8.3  # the next poll sees it done; the service says second S+8
    second = S // 1000
    ledger.on_task(
        {"id": "task-1", "status": "succeeded", "created_at": second, "updated_at": second + 8}
    )
    _, started, finished, latency = _times(ledger, sid)
    assert finished == S + 8_150  # in [S+8 s, S+8.3 s]: the middle
    assert latency == 8_145
    assert started == S + 7_400  # no service start time: the first poll that saw it


def test_without_service_times_the_first_poll_that_saw_it_counts(
    clocked: tuple[Ledger, Clock],
) -> None:
    ledger, clock = clocked
    sid = ledger.before_submit(_body(), submitter="key-1", base_url="u")
    ledger.after_submit(sid, {"id": "task-2", "status": "queued"})
    clock.now += 3
    ledger.on_task({"id": "task-2", "status": "succeeded"})
    clock.now += 2
    ledger.on_task({"id": "task-2", "status": "succeeded"})  # a later poll changes nothing
    assert _times(ledger, sid)[3] == 3_000


def _truth(server: SandboxServer, task_id: str) -> float:
    with server.backend.db.tx() as db:
        row = db.execute("SELECT created, finished FROM tasks WHERE id = ?", (task_id,)).fetchone()
    return float(row["finished"] - row["created"]) * 1000


@pytest.mark.parametrize("shape", ["newapi", "ark", "openai"])
async def test_live_store_latency_matches_the_sandbox_truth(tmp_path: Path, shape: str) -> None:
    config = SandboxConfig(
        db_path=":memory:",
        processing="timed",
        task_queue_seconds=0.3,
        task_seconds=1.3,
        task_shape=shape,
    )
    with (
        SandboxServer(config) as server,
        open_ledger(tmp_path / "ledger.sqlite3") as ledger,
    ):
        client = AsyncOrca(wire.DEFAULT_SANDBOX_KEY, base_url=server.base_url, ledger=ledger)
        store = LiveStore(client, fast_interval=0.4, slow_interval=30)
        try:
            assert store.start()
            body = build_request(
                "byteplus/dreamina-seedance-2-0-260128",
                "a lighthouse at dusk",
                Selection([]),
                duration=4,
                resolution="480p",
            )
            ids = []
            for _ in range(3):
                row = await store.gateway.create_video(body)
                store.track_task(row)
                ids.append(row.id)
                await asyncio.sleep(0.37)
            deadline = time.monotonic() + 30
            while any(store.tasks[i].status not in wire.TERMINAL_TASK_STATUSES for i in ids):
                assert time.monotonic() < deadline, "tasks did not finish"
                await asyncio.sleep(0.05)
        finally:
            await store.aclose()
            await client.close()
        for task_id in ids:
            _, rows = ledger.database.query(
                "SELECT latency_ms FROM submissions WHERE task_id = ?", (task_id,)
            )
            error = rows[0][0] - _truth(server, task_id)
            assert abs(error) < 1_000, f"{shape}: ledger latency off by {error:.0f} ms"
