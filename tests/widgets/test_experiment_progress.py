"""The experiment progress widget without a browser: figures from a run's status, errors with
advice, buttons, and the rule that the status is read on the view's home loop only."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from orca_nb.experiments.db import VariantRow
from orca_nb.experiments.progress import RunStatus, run_status
from orca_nb.widgets import experiment_progress
from orca_nb.widgets.advice import UNKNOWN_VARIANT_ADVICE, task_advice
from orca_nb.widgets.loops import Home
from orca_nb.widgets.state.experiment import ExperimentProgressState, build_figures
from orca_nb.widgets.views.experiment import ExperimentProgressView

T = 1_000_000_000_000
XSS = "<img src=x onerror=alert(1)>"


def row(vid: str, status: str, **kw: Any) -> VariantRow:
    base: dict[str, Any] = {
        "experiment_id": "exp", "variant_id": vid, "position": 0, "values": {"prompt": XSS},
        "body": {}, "reasons": [], "status": status, "task_id": None, "task_status": None,
        "progress": None, "error_code": None, "error_message": None,
        "estimated_tokens": 1000, "tokens": None, "attempts": 0, "run": 1, "queued_at": T,
        "sent_at": None, "finished_at": None, "updated_at": T,
    }  # fmt: skip
    base.update(kw)
    return VariantRow(**base)


class FakeRun:
    """An ExperimentRun's shape: statuses played in order; records the reading threads."""

    experiment_id = "exp"

    def __init__(self, steps: list[list[VariantRow]], name: str = "sweep") -> None:
        self.name = name
        self.steps = steps
        self.step = 0
        self.state = "active"
        self.read_on: set[int] = set()
        self.actions: list[tuple[str, int]] = []

    async def status_async(self) -> RunStatus:
        self.read_on.add(threading.get_ident())
        rows = self.steps[min(self.step, len(self.steps) - 1)]
        self.step += 1
        return run_status(self.name, self.state, rows, now=T + 60_000)

    def pause(self) -> list[str]:
        self.actions.append(("pause", threading.get_ident()))
        self.state = "paused"
        return []

    def resume(self) -> int:
        self.actions.append(("resume", threading.get_ident()))
        self.state = "active"
        return 0

    def cancel(self) -> list[str]:
        self.actions.append(("cancel", threading.get_ident()))
        self.state = "cancelled"
        return []


FAILED = row("c", "failed", sent_at=T, finished_at=T + 20_000, error_code="InternalServiceError",
             error_message="The render failed.")  # fmt: skip
UNKNOWN = row("d", "unknown", sent_at=T, error_code="outcome_unknown", error_message="no reply")
OK = row("a", "succeeded", sent_at=T, finished_at=T + 30_000, tokens=900)


async def test_state_builds_figures_and_errors_with_advice() -> None:
    run = FakeRun([[OK, FAILED, UNKNOWN, row("e", "running", sent_at=T), row("f", "queued")]])
    state = ExperimentProgressState(run)
    seen: list[Any] = []
    off = state.subscribe(seen.append)
    view = await state.refresh()
    off()
    assert seen == [view]
    assert view.title == "sweep"
    assert view.state == "running"
    assert [(s, n) for s, n, _ in view.chips] == [
        ("queued", 1), ("running", 1), ("succeeded", 1), ("failed", 1), ("unknown", 1),
    ]  # fmt: skip
    assert view.percent == 60.0  # 3 of 5 finished
    assert view.finished_text == "3 of 5 videos finished"
    assert view.tokens == "900 tokens spent of ~5,000 estimated"
    # 2 finished with times (a, c) in 60 s since the first send; 2 still moving: 60 s.
    assert view.eta == "about 1 min left"
    failed, unknown = view.errors
    assert (failed.status, failed.code, failed.message) == (
        "failed", "InternalServiceError", "The render failed."
    )  # fmt: skip
    assert failed.advice == task_advice("InternalServiceError", "failed")
    assert failed.advice
    assert unknown.advice == UNKNOWN_VARIANT_ADVICE
    assert failed.label == XSS  # user text kept as text (the template escapes it)


async def test_a_status_that_cannot_be_read_is_shown_not_raised() -> None:
    class Broken(FakeRun):
        async def status_async(self) -> RunStatus:
            raise OSError("database is locked")

    state = ExperimentProgressState(Broken([[OK]]))
    view = await state.refresh()
    assert view.failure == "Could not read the progress: database is locked"


async def test_view_follows_on_its_home_loop_until_done() -> None:
    steps = [
        [row("a", "queued"), row("b", "queued")],
        [row("a", "running", sent_at=T), row("b", "queued")],
        [OK, row("b", "running", sent_at=T)],
        [OK, OK],
    ]
    run = FakeRun(steps)
    view = ExperimentProgressView(run, home=Home(), interval=0.01)
    for _ in range(200):
        if view.phase == "done":
            break
        await asyncio.sleep(0.01)
    assert view.phase == "done"
    assert view.percent == 100.0
    assert view.chips == [{"status": "succeeded", "count": 2, "color": "green"}]
    assert view.eta == "done"
    assert run.step == 4  # stopped reading once done
    await asyncio.sleep(0.05)
    assert run.step == 4
    assert run.read_on == {threading.get_ident()}  # only the loop's thread read the status
    view.close()


async def test_buttons_act_off_the_loop_and_follow_again() -> None:
    run = FakeRun([[row("a", "running", sent_at=T), row("b", "queued")]])
    loop_thread = threading.get_ident()
    view = experiment_progress(run, interval=0.01)
    await asyncio.sleep(0.05)
    assert view.phase == "running"
    view.vue_pause()
    for _ in range(100):
        if view.phase == "paused" and not view.busy:
            break
        await asyncio.sleep(0.01)
    assert view.phase == "paused"
    assert run.actions[0][0] == "pause"
    assert run.actions[0][1] != loop_thread  # the store write ran in a worker thread
    view.vue_resume()
    for _ in range(100):
        if view.phase == "running" and not view.busy:
            break
        await asyncio.sleep(0.01)
    assert [a for a, _ in run.actions] == ["pause", "resume"]
    view.vue_cancel()
    for _ in range(100):
        if view.phase == "cancelled" and not view.busy:
            break
        await asyncio.sleep(0.01)
    assert view.phase == "cancelled"
    assert view.action_error == ""
    view.close()


async def test_a_failing_button_says_why() -> None:
    class Stubborn(FakeRun):
        def pause(self) -> list[str]:
            raise RuntimeError("the system database is unreachable")

    run = Stubborn([[row("a", "running", sent_at=T)]])
    view = ExperimentProgressView(run, home=Home(), interval=0.01)
    view.vue_pause()
    for _ in range(100):
        if view.action_error:
            break
        await asyncio.sleep(0.01)
    assert view.action_error == "the system database is unreachable"
    assert view.busy is False
    view.close()


def test_without_a_loop_the_view_waits_to_be_refreshed() -> None:
    run = FakeRun([[OK]])
    view = ExperimentProgressView(run)
    assert view.phase == ""  # nothing followed: no loop runs here
    asyncio.run(view.refresh())
    assert view.phase == "done"
    view.close()


def test_build_figures_counts_errors_beyond_the_list() -> None:
    rows = [row(f"v{i}", "failed", error_code="X", error_message="m") for i in range(25)]
    view = build_figures(run_status("many", "active", rows))
    assert len(view.errors) == 20
    assert view.more_errors == 5
