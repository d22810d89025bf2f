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
"""

from __future__ import annotations

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
    for row in db.unfinished_tasks():
        _advance_task(db, row, config, now, mode)


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
