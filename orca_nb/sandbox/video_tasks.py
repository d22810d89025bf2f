"""Video tasks (``/video/generations`` and the ``/videos`` alias) and the render worker's
queue, as part of the :class:`~orca_nb.sandbox.backend.Backend`. Each task holds its tokens on
the play balance (:mod:`orca_nb.sandbox.billing`), renders on the worker
(:mod:`orca_nb.sandbox.render_worker`) and progresses per :mod:`orca_nb.sandbox.lifecycle`."""

from __future__ import annotations

import json
import logging
from typing import Any

from orca_nb import wire
from orca_nb.sandbox import billing, shapes
from orca_nb.sandbox.assets import Assets
from orca_nb.sandbox.config import TASK_SHAPES
from orca_nb.sandbox.db import Tx
from orca_nb.sandbox.errors import bad_request, not_found
from orca_nb.sandbox.videos import VideoRequest, parse_video_request

log = logging.getLogger("orca_nb.sandbox.backend")

RENDER_WAIT_SECONDS = 300.0  # the longest step()/instant creation waits for one render


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
        with self.store.tx() as db:
            request = parse_video_request(body, lambda aid: self._asset_lookup(db, account, aid))
            now = self.now()
            self._progress(db)  # tasks finished by now settle before the balance is read
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

    def get_task(
        self, account: str, task_id: str, root: str, shape: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """``GET /video/generations/{id}`` in ``shape`` (default: the configured one) ->
        (HTTP status, body). Unknown tasks: new-api's 400 ``task_not_exist`` in the wrapper
        shapes (NEWAPI), the 404 envelope in the others."""
        shape = shape or self.config.task_shape
        if shape not in TASK_SHAPES:
            raise bad_request(f"task shape must be one of {', '.join(TASK_SHAPES)}", "shape")
        with self.store.tx() as db:
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
        with self.store.tx() as db:
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
