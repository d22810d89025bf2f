"""The durable run of one variant: a DBOS workflow of two steps, submit and follow.

``submit`` claims the variant in the db (``queued`` -> ``sending``, a conditional update only
one caller wins), sends it through the client (which writes its own ledger row first) and records
the task id. If a run finds its variant already ``sending`` (a worker died with the request maybe
on the wire) it records ``unknown`` and does not send again; if it finds a task id it follows that
task. A 429, a connect failure or a 503 (each proves nothing was made) puts the variant back to
``queued``, closes the account's gate for the server's ``Retry-After`` (else a backoff) so every
worker waits, and the workflow sleeps durably before trying again.

``follow`` polls the task to a terminal status (paced by :class:`FollowPacer`: by the progress
rate once it moves) and records it; a follow cut short (timeout, crash) simply runs again: it
only reads.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Final

from dbos import DBOS

from orca_nb.client.defaults import POLL_GROWTH, VIDEO_POLL_FIRST_SECONDS, VIDEO_POLL_MAX_SECONDS
from orca_nb.client.errors import (
    APIConnectionError,
    APIError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from orca_nb.experiments import runtime
from orca_nb.experiments.db import (
    ACTIVE,
    FAILED,
    QUEUED,
    REFUSED,
    RUNNING,
    SENDING,
    SUCCEEDED,
    UNKNOWN,
    now_ms,
)
from orca_nb.ledger.context import submission_context

BACKOFF_MAX_SECONDS: Final = 60.0
FOLLOW_FAILURES_MAX: Final = 10
FOLLOW_RETRY_SECONDS: Final = 30.0
HALVE_ABOVE_SECONDS: Final = 1.0  # FollowPacer: poll half-way to an end further than this


_bound = threading.local()


class WorkerStopped(BaseException):
    """This process stopped running experiments while an execution was in flight.

    It unwinds the execution and records nothing, so the workflow stays pending for a live worker
    to recover. It is a ``BaseException`` on purpose: DBOS records an ``Exception`` as the
    workflow's error, and on its own cancellation error it parks the thread polling for an outcome
    nobody in this process will write, which kept the interpreter from exiting.
    """


def _runtime() -> runtime.Runtime:
    """The runtime this workflow execution started under (bound per thread by the workflow);
    raises :class:`WorkerStopped` after :func:`~orca_nb.experiments.runtime.shutdown` or a
    relaunch."""
    rt: runtime.Runtime | None = getattr(_bound, "rt", None) or runtime.current()
    if rt is None or rt.stopped:
        raise WorkerStopped("this process stopped running experiments")
    return rt


@DBOS.step(name="orca_nb.experiments.wake_at")
def wake_at_step(seconds: float) -> float:
    """The wall-clock time a durable wait ends (recorded, so a recovery resumes the same wait)."""
    return time.time() + max(0.0, seconds)


def durable_sleep(seconds: float) -> None:
    """Wait ``seconds`` inside a workflow, like ``DBOS.sleep`` (a recovered run waits only what
    is left), but cut short by :func:`~orca_nb.experiments.runtime.shutdown`."""
    wake = wake_at_step(seconds)
    if _runtime().sleep(wake - time.time()):
        raise WorkerStopped("this process stopped running experiments")


def _backoff(attempts: int) -> float:
    """Seconds to hold an account after a refusal without ``Retry-After``: 2, 4, 8 ... 60."""
    return float(min(BACKOFF_MAX_SECONDS, 2.0 ** max(1, attempts)))


@DBOS.step(name="orca_nb.experiments.submit")
def submit_step(experiment_id: str, variant_id: str, run: int) -> dict[str, Any]:
    """Send the variant once (or adopt its task, or record why not); see the module doc."""
    rt = _runtime()
    db = rt.db
    row = db.variant(experiment_id, variant_id)
    if row.run != run:
        return {"outcome": "superseded"}
    if row.task_id:
        return {"outcome": "submitted", "task_id": row.task_id}
    if row.status == SENDING:
        db.update(
            experiment_id, variant_id, only_if=[SENDING], status=UNKNOWN,
            error_code="outcome_unknown", finished_at=now_ms(),
            error_message="the worker stopped while this variant was being sent, so whether a "
            "task exists is unknown; check the usage ledger or the dashboard before sending it "
            "again (it is not resent automatically: a second send is a second billed video)",
        )  # fmt: skip
        return {"outcome": UNKNOWN}
    if row.status != QUEUED:
        return {"outcome": row.status}
    exp = db.experiment(experiment_id)
    assert exp is not None
    if exp.state != ACTIVE:
        db.update(experiment_id, variant_id, only_if=[QUEUED], status=exp.state)
        return {"outcome": exp.state}
    wait_ms = db.gate(exp.account) - now_ms()
    if wait_ms > 0:
        return {"outcome": "wait", "seconds": wait_ms / 1000}
    claimed = db.update(
        experiment_id, variant_id, only_if=[QUEUED], status=SENDING, sent_at=now_ms(),
        attempts=row.attempts + 1, executor_id=rt.executor_id,
    )  # fmt: skip
    if not claimed:  # paused, cancelled or taken between the read and the claim
        return {"outcome": db.variant(experiment_id, variant_id).status}
    client = rt.client(exp.account)
    assert row.body is not None
    try:
        with submission_context(experiment_id, variant_id):  # the ledger row names the variant
            task = client.videos.create(request=row.body, max_retries=0)
    except OutcomeUnknownError as exc:
        db.update(
            experiment_id, variant_id, status=UNKNOWN, error_code="outcome_unknown",
            error_message=str(exc), finished_at=now_ms(),
        )  # fmt: skip
        return {"outcome": UNKNOWN}
    except (RateLimitError, APIConnectionError, ServerError) as exc:
        # Each of these proves nothing was created (the client raises OutcomeUnknownError
        # otherwise), so the variant goes back to the queue and the whole account waits.
        retry_after = getattr(exc, "retry_after", None)
        seconds = float(retry_after) if retry_after else _backoff(row.attempts + 1)
        db.close_gate(exp.account, now_ms() + int(seconds * 1000), str(exc))
        db.update(
            experiment_id, variant_id, only_if=[SENDING], status=QUEUED,
            error_code=getattr(exc, "code", None) or type(exc).__name__, error_message=str(exc),
        )  # fmt: skip
        return {"outcome": "wait", "seconds": seconds}
    except (APIError, ValidationError) as exc:
        db.update(
            experiment_id, variant_id, status=REFUSED, finished_at=now_ms(),
            error_code=getattr(exc, "code", None) or type(exc).__name__, error_message=str(exc),
        )  # fmt: skip
        return {"outcome": REFUSED}
    db.update(
        experiment_id, variant_id, status=RUNNING, task_id=task.id, task_status=task.status,
        progress=task.progress, error_code=None, error_message=None,
    )  # fmt: skip
    return {"outcome": "submitted", "task_id": task.id}


class FollowPacer:
    """When to poll a task next: ``first`` seconds, growing x1.5 up to ``ceiling`` (the
    client's schedule), but sooner when the progress rate says the task ends sooner: half-way
    to the estimated end while that is more than a second away (each reading sharpens the
    rate), then just after it (never sooner than ``floor``). The rate is measured from the first
    progress seen, or from ``origin`` (the monotonic time it was sent, at 0 %) until a second
    reading exists. A task is seen done soon after it ends (bench_sweep: ~0.2 s on a 5 s
    render), with a few more polls than the schedule's near its end."""

    def __init__(
        self,
        first: float,
        *,
        origin: float | None = None,
        ceiling: float = VIDEO_POLL_MAX_SECONDS,
        floor: float = 0.25,
    ) -> None:
        self.interval = first
        self.ceiling = max(first, ceiling)
        self.floor = min(first, floor)
        self._seen: tuple[float, int] | None = None if origin is None else (origin, 0)

    def next(self, now: float, progress: int | None) -> float:
        """Seconds to wait after a poll at ``now`` (monotonic) that read ``progress`` %."""
        delay = self.interval
        self.interval = min(self.ceiling, self.interval * POLL_GROWTH)
        if progress is None or not 0 < progress < 100:
            return delay
        seen = self._seen
        if seen is None or progress < seen[1]:
            self._seen = (now, progress)
            return delay
        if seen[1] == 0:  # measured from the send: the next reading measures better
            self._seen = (now, progress)
        if progress <= seen[1] or now <= seen[0]:
            return delay
        left = (100 - progress) * (now - seen[0]) / (progress - seen[1])
        aim = left / 2 if left > HALVE_ABOVE_SECONDS else left * 1.02 + 0.02
        return max(self.floor, min(delay, aim))


@DBOS.step(name="orca_nb.experiments.follow")
def follow_step(experiment_id: str, variant_id: str, task_id: str) -> dict[str, Any]:
    """Poll the task until it ends (or ``follow_timeout``) and record what it reached."""
    rt = _runtime()
    db = rt.db
    exp = db.experiment(experiment_id)
    assert exp is not None
    client = rt.client(exp.account)

    def progress(task: Any) -> None:
        if rt.stopped:
            raise WorkerStopped("this process stopped running experiments")
        db.update(
            experiment_id, variant_id, only_if=[RUNNING], task_status=task.status,
            progress=task.progress,
        )  # fmt: skip

    sent_at = db.variant(experiment_id, variant_id).sent_at
    origin = None if sent_at is None else time.monotonic() - max(0, now_ms() - sent_at) / 1000
    pacer = FollowPacer(rt.settings.poll_interval or VIDEO_POLL_FIRST_SECONDS, origin=origin)
    deadline = time.monotonic() + rt.settings.follow_timeout
    try:
        while True:
            task = client.videos.get(task_id)
            progress(task)
            now = time.monotonic()
            if task.done:
                break
            if now >= deadline:
                return {"done": False}
            if rt.sleep(min(pacer.next(now, task.progress), deadline - now)):
                raise WorkerStopped("this process stopped running experiments")
    except NotFoundError as exc:
        db.update(
            experiment_id, variant_id, status=FAILED, error_code="task_not_found",
            error_message=str(exc), finished_at=now_ms(),
        )  # fmt: skip
        return {"done": True, "status": FAILED}
    except APIError as exc:  # the client already retried; the workflow waits and polls again
        return {"done": False, "error": str(exc)}
    usage = task.usage.total_tokens if task.usage is not None else None
    if task.status == "succeeded":
        status, code, message = SUCCEEDED, None, None
    else:
        error = task.error
        status = FAILED
        code = (error.code if error else None) or f"task_{task.status}"
        message = (error.message if error else None) or f"the task ended {task.status}"
    db.update(
        experiment_id, variant_id, status=status, task_status=task.status, progress=task.progress,
        tokens=usage, error_code=code, error_message=message, finished_at=now_ms(),
    )  # fmt: skip
    return {"done": True, "status": status}


@DBOS.step(name="orca_nb.experiments.note")
def note_step(experiment_id: str, variant_id: str, message: str) -> None:
    """Record why a variant's run stopped following its task."""
    _runtime().db.update(experiment_id, variant_id, error_message=message)


@DBOS.workflow(name="orca_nb.experiments.variant")
def variant_workflow(experiment_id: str, variant_id: str, run: int) -> str:
    """Submit one variant (waiting out 429s durably), then follow its task to the end."""
    _bound.rt = runtime.current()
    while True:
        out = submit_step(experiment_id, variant_id, run)
        if out["outcome"] != "wait":
            break
        durable_sleep(float(out["seconds"]))
    if out["outcome"] != "submitted":
        return str(out["outcome"])
    task_id = str(out["task_id"])
    failures = 0
    while True:
        result = follow_step(experiment_id, variant_id, task_id)
        if result["done"]:
            return str(result["status"])
        if "error" in result:
            failures += 1
            if failures >= FOLLOW_FAILURES_MAX:
                note_step(
                    experiment_id, variant_id,
                    f"stopped following task {task_id} after {failures} failed polls "
                    f"({result['error']}); orca_nb.ledger.reattach follows it again",
                )  # fmt: skip
                return "unfollowed"
            durable_sleep(FOLLOW_RETRY_SECONDS)
