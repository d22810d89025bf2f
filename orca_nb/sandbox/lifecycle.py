"""Lifecycles of the sandbox's asynchronous objects, as transitions over the stored rows.

* Asset: ``Processing -> Active | Failed``. The upload is answered at once (DOC 12.7); the fetch
  worker then fetches and reads the media and stores the verdict (``fetch_state`` pending ->
  done); the transition only reveals it, never before the fetch is done (timed: at the later of
  ``processing_seconds`` after the upload and the fetch's end).
* Video task: ``queued -> running -> succeeded | failed``. The MP4 renders on a worker thread
  from creation on; a task cannot succeed before its render is done (it stays ``running``, 99 %).

Progression modes (``SandboxConfig.processing``):

* ``instant``: everything settles at the first look.
* ``manual``: an asset settles on one ``Backend.step()``; a task needs ``task_steps`` steps
  (progress ``100 * steps / task_steps``).
* ``timed``: an asset settles ``processing_seconds`` after its upload; a task is queued for
  ``task_queue_seconds``, then runs for ``task_seconds`` (progress proportional), on the
  backend's clock. Timestamps are those of the transitions, not of the reads.

With ``max_running_tasks`` set, an account runs at most that many tasks at once; the others
stay ``queued`` and start, first come first served, as running ones end (GUESS: Ark's
behaviour): timed, at the later of ``task_queue_seconds`` after their creation and the moment a
slot frees (so the timeline stays true whenever it is read); manual, ``Backend.step`` only
steps the tasks that hold or get a slot; instant, a task starts once a slot is free.
"""

from __future__ import annotations

import heapq
import math

from orca_nb import wire
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.db import Row, Tx


def advance(db: Tx, config: SandboxConfig, now: float, mode: str) -> None:
    """Apply every transition due at ``now`` under ``mode``."""
    for row in db.assets_to_settle():
        if mode == "instant":
            settle_asset(db, row, now)
        elif mode == "timed":
            due = max(row["created"] + config.processing_seconds, row["fetched"] or 0.0)
            if due <= now:
                settle_asset(db, row, due)
    cap = config.max_running_tasks
    rows = db.unfinished_tasks()
    if cap is None or mode == "manual":  # manual: Backend.step gives steps within the cap
        for row in rows:
            _advance_task(db, row, config, now, mode)
        return
    by_account: dict[str, list[Row]] = {}
    for row in rows:
        by_account.setdefault(row["account"], []).append(row)
    for account_rows in by_account.values():
        _advance_capped(db, account_rows, config, now, mode, cap)


def slot_holders(rows: list[Row], cap: int | None) -> list[str]:
    """Ids of the tasks a manual step advances: every running one, then the oldest queued ones
    of each account while it has fewer than ``cap`` running (``rows`` oldest first)."""
    if cap is None:
        return [row["id"] for row in rows]
    running: dict[str, int] = {}
    for row in rows:
        if row["status"] == "running":
            running[row["account"]] = running.get(row["account"], 0) + 1
    chosen = []
    for row in rows:
        if row["status"] == "running":
            chosen.append(row["id"])
        elif running.get(row["account"], 0) < cap:
            running[row["account"]] = running.get(row["account"], 0) + 1
            chosen.append(row["id"])
    return chosen


def _advance_capped(
    db: Tx, rows: list[Row], config: SandboxConfig, now: float, mode: str, cap: int
) -> None:
    """One account's unfinished tasks (oldest first) under a running cap (timed or instant)."""
    ends = [  # when each running task frees its slot (inf: its render is not done yet)
        _run(
            db, row, float(row["started"] if row["started"] is not None else now), config, now, mode
        )
        for row in rows
        if row["status"] == "running"
    ]
    heapq.heapify(ends)
    last_start = -math.inf
    for row in rows:
        if row["status"] != "queued":
            continue
        start = now if mode == "instant" else row["created"] + config.task_queue_seconds
        start = max(start, last_start)  # first come, first served
        while len(ends) >= cap:
            start = max(start, heapq.heappop(ends))
        if start > now:  # no slot yet (inf: none until a render ends): the rest wait too
            return
        last_start = start
        heapq.heappush(ends, _run(db, row, start, config, now, mode))


def _run(db: Tx, row: Row, started: float, config: SandboxConfig, now: float, mode: str) -> float:
    """Advance a task running since ``started``; returns when it frees its slot."""
    end = started + config.task_seconds if mode == "timed" else now
    fraction = (
        (now - started) / config.task_seconds if mode == "timed" and config.task_seconds else 1.0
    )
    if fraction >= 1.0 and row["render_state"] != "pending":
        _finish(db, row, started, max(end, started))
        return end
    db.run_task(row["id"], max(1, min(99, int(fraction * 100))), started, now)
    return end if end > now else math.inf


def settle_asset(db: Tx, row: Row, at: float) -> None:
    """Processing -> the stored verdict (Active, or Failed with its Error), updated ``at``."""
    status = "Active" if row["verdict_code"] is None else "Failed"
    db.settle_asset(
        row["id"], status, row["verdict_code"], row["verdict_message"], max(at, row["created"])
    )


def _advance_task(db: Tx, row: Row, config: SandboxConfig, now: float, mode: str) -> None:
    started: float | None = row["started"]
    done_at = now
    if mode == "timed":
        started = row["created"] + config.task_queue_seconds
        if now < started:
            return
        running = config.task_seconds
        fraction = (now - started) / running if running else 1.0
        done_at = started + running
    elif mode == "manual":
        if row["steps"] <= 0:
            return
        started = started or now
        fraction = row["steps"] / config.task_steps
    else:
        started = started or now
        fraction = 1.0
    if fraction >= 1.0 and row["render_state"] != "pending":
        _finish(db, row, started, max(done_at, started))
        return
    progress = max(1, min(99, int(fraction * 100)))
    db.run_task(row["id"], progress, started, now)


def _finish(db: Tx, row: Row, started: float, at: float) -> None:
    if row["render_state"] == "done":
        db.succeed_task(row["id"], started, at)
        return
    message = row["render_error"] or "rendering failed"
    db.fail_task(row["id"], started, at, wire.TASK_ERROR_INTERNAL, message)
