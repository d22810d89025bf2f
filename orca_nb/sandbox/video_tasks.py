"""Video tasks (``/video/generations`` and the ``/videos`` alias) and the render worker's
queue, as part of the :class:`~orca_nb.sandbox.backend.Backend`. Each task holds its tokens on
the play balance (:mod:`orca_nb.sandbox.billing`), renders on the worker
(:mod:`orca_nb.sandbox.render_worker`) and progresses per :mod:`orca_nb.sandbox.lifecycle`."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from orca_nb import wire
from orca_nb.sandbox import billing, shapes
from orca_nb.sandbox.assets import Assets
from orca_nb.sandbox.config import TASK_SHAPES
from orca_nb.sandbox.db import Tx
from orca_nb.sandbox.errors import bad_request, not_found, rate_limited
from orca_nb.sandbox.videos import VideoRequest, parse_video_request

log = logging.getLogger("orca_nb.sandbox.backend")

RENDER_WAIT_SECONDS = 300.0  # the longest step()/instant creation waits for one render
RATE_WINDOW_SECONDS = 60.0  # submits_per_minute counts creates in any rolling minute


class VideoTasks(Assets):
    """Backend methods for video tasks and renders (mixed into ``Backend``)."""

    def wait_for_renders(
        self, task_ids: list[str] | None = None, timeout: float = RENDER_WAIT_SECONDS
    ) -> None:
        """Block until the renders of ``task_ids`` (default: all) are done."""
        self._wait_jobs(self._renders, task_ids, timeout, "render")

    def fail_next_tasks(
        self,
        n: int = 1,
        code: str = wire.TASK_ERROR_INTERNAL,
        message: str = "The sandbox was told to fail this task.",
    ) -> None:
        """Make the next ``n`` created tasks end ``failed`` with this error (for demos/tests)."""
        self._fail_next.extend([(code, message)] * n)

    def create_task(self, account: str, body: object) -> dict[str, Any]:
        """``POST /video/generations`` (and its alias ``POST /videos``): check the body, hold
        the tokens of the declared duration on the play balance (403 when it does not cover
        them), queue a task and start its render."""
        self._settle_fetches_first()
        with self.db.tx() as db:
            now = self.now()
            self._check_submit_rate(db, account, now)  # the gateway refuses before reading
            request = parse_video_request(body, lambda aid: self._asset_lookup(db, account, aid))
            self._progress(db)  # tasks finished by now settle before the balance is read
            self._check_running_cap(db, account, now)
            params = request.to_json()
            hold = billing.task_tokens(params, ratio=_known_ratio(request))
            billing.check_hold(db, account, hold, self.config)  # 403 before anything exists
            tid = self._new_token(db, "tasks", "task_", 32)
            params["seed_used"] = request.seed if request.seed >= 0 else self.rng.randrange(2**31)
            params["hold_tokens"] = hold
            render_state, render_error, error_code = "pending", None, None
            if self._fail_next:
                error_code, render_error = self._fail_next.pop(0)
                render_state = "failed"
            row = db.insert_task(
                {
                    "id": tid, "account": account, "model": request.model, "status": "queued",
                    "progress": 0, "params": json.dumps(params), "body": json.dumps(body),
                    "error_code": error_code, "render_state": render_state,
                    "render_error": render_error, "created": now, "updated": now,
                }
            )  # fmt: skip
        if render_state == "pending":
            self._submit_render(tid)
            if self.config.processing == "instant":
                self.wait_for_renders([tid])
        return shapes.task_created_view(row)

    def _check_submit_rate(self, db: Tx, account: str, now: float) -> None:
        """429 when the account made ``submits_per_minute`` tasks in the last 60 s (DOC 1.2)."""
        limit = self.config.submits_per_minute
        if limit is None:
            return
        made, first = db.creates_since(account, now - RATE_WINDOW_SECONDS)
        if made >= limit and first is not None:
            raise rate_limited(first + RATE_WINDOW_SECONDS - now)

    def _check_running_cap(self, db: Tx, account: str, now: float) -> None:
        """With ``refuse_over_running_cap``: 429 while the account's queued and running tasks
        fill ``max_running_tasks`` (Retry-After: when the first running one should end)."""
        cap = self.config.max_running_tasks
        if cap is None or not self.config.refuse_over_running_cap:
            return
        rows = [r for r in db.unfinished_tasks() if r["account"] == account]
        if len(rows) < cap:
            return
        ends = [
            r["started"] + self.config.task_seconds
            for r in rows
            if r["status"] == "running" and r["started"] is not None
        ]
        wait = min(ends) - now if ends and self.config.processing == "timed" else 1.0
        raise rate_limited(wait)

    def running_stats(self, account: str | None = None) -> dict[str, dict[str, float]]:
        """Per account (``account`` only, when given): tasks ``running`` and ``queued`` now and
        ``max_running``, the most that ran at once since ``since`` (the last
        :meth:`reset_running_stats`), from the tasks' own start and end times."""
        with self.db.tx() as db:
            self._progress(db)
            unfinished = db.unfinished_tasks()
            spans = db.running_spans(self._running_since)
        stats: dict[str, dict[str, float]] = {}

        def entry(name: str) -> dict[str, float]:
            return stats.setdefault(
                name, {"running": 0, "queued": 0, "max_running": 0, "since": self._running_since}
            )

        for row in unfinished:
            entry(row["account"])[str(row["status"])] += 1
        events: dict[str, list[tuple[float, int]]] = {}
        for row in spans:
            began = max(float(row["started"]), self._running_since)
            ended = math.inf if row["finished"] is None else float(row["finished"])
            if ended > began:  # a task settled at its first look never ran beside another
                events.setdefault(row["account"], []).extend([(began, 1), (ended, -1)])
        for name, marks in events.items():
            level = peak = 0
            for _, change in sorted(marks):  # at one instant, ends (-1) before starts (+1)
                level += change
                peak = max(peak, level)
            entry(name)["max_running"] = peak
        if account is not None:
            return {account: stats.get(account) or entry(account)}
        return stats

    def reset_running_stats(self) -> float:
        """Count ``max_running`` from now on; returns the new ``since``."""
        self._running_since = self.now()
        return self._running_since

    def get_task(
        self, account: str, task_id: str, root: str, shape: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """``GET /video/generations/{id}`` in ``shape`` (default: the configured one) ->
        (HTTP status, body). Unknown tasks: new-api's 400 ``task_not_exist`` in the wrapper
        shapes (NEWAPI), the 404 envelope in the others."""
        shape = shape or self.config.task_shape
        if shape not in TASK_SHAPES:
            raise bad_request(f"task shape must be one of {', '.join(TASK_SHAPES)}", "shape")
        with self.db.tx() as db:
            self._progress(db)
            row = db.task(task_id, account)
        if row is None:
            if shape.startswith("newapi"):
                code = wire.CODE_TASK_NOT_EXIST
                return 400, {"code": code, "message": code, "data": None}
            raise not_found("task", task_id, "task_id")
        ttl = self.config.video_url_ttl
        return 200, shapes.TASK_VIEWS[shape](row, lambda blob: self.signed_url(root, blob, ttl))

    def _asset_lookup(self, db: Tx, account: str, asset_id: str) -> dict[str, Any] | None:
        self._progress(db)
        row = db.asset(account, asset_id)
        return None if row is None else dict(row)

    def _submit_render(self, task_id: str) -> None:
        from orca_nb.sandbox.render_worker import render_task

        self._start_job(self._executor, self._renders, task_id, render_task, self, task_id)

    def _resume_renders(self) -> None:
        with self.db.tx() as db:
            pending = db.pending_renders()
        for task_id in pending:
            self._submit_render(task_id)


def _known_ratio(request: VideoRequest) -> str | None:
    """The output ratio an ``adaptive`` request will get when its first image/video reference
    has known dimensions (as the render picks it); ``None`` when not known yet."""
    if request.ratio != "adaptive":
        return request.ratio
    from orca_nb.sandbox.render_worker import nearest_ratio

    for ref in request.refs:
        if ref.kind in ("image", "video") and ref.width and ref.height:
            return nearest_ratio(ref.width, ref.height)
    return None
