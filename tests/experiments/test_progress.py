"""Progress of an experiment: counts, ETA, tokens against the estimate and errors, computed from
stored variants (by hand), and the tqdm bar, on fake bars and on the sandbox."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from orca_nb.client import Orca
from orca_nb.experiments import Experiment, start
from orca_nb.experiments.db import VariantRow
from orca_nb.experiments.progress import RunStatus, duration_text, phase, run_status, track
from tests.experiments.conftest import BODY

T = 1_000_000_000_000  # unix ms


def row(vid: str, status: str, **kw: Any) -> VariantRow:
    base: dict[str, Any] = {
        "experiment_id": "exp", "variant_id": vid, "position": 0, "values": {"seed": vid},
        "body": {}, "reasons": [], "status": status, "task_id": None, "task_status": None,
        "progress": None, "error_code": None, "error_message": None,
        "estimated_tokens": 1000, "tokens": None, "attempts": 0, "run": 1, "queued_at": T,
        "sent_at": None, "finished_at": None, "updated_at": T,
    }  # fmt: skip
    base.update(kw)
    return VariantRow(**base)


ROWS = [
    row("a", "succeeded", sent_at=T, finished_at=T + 30_000, tokens=900),
    row("b", "succeeded", sent_at=T + 10_000, finished_at=T + 50_000),  # no usage: estimate
    row(
        "c",
        "failed",
        sent_at=T + 20_000,
        finished_at=T + 40_000,
        error_code="InternalError",
        error_message="boom",
    ),
    row("d", "unknown", sent_at=T + 20_000, error_code="outcome_unknown", error_message="lost"),
    row("e", "running", sent_at=T + 50_000),
    row("f", "queued"),
    row("g", "queued"),
    row("h", "invalid", estimated_tokens=None, reasons=["bad ratio"]),
    row("i", "cancelled"),
]


def test_status_by_hand() -> None:
    s = run_status("sweep", "active", ROWS, now=T + 60_000)
    assert dict(s.counts) == {"succeeded": 2, "failed": 1, "unknown": 1, "running": 1,
                              "queued": 2, "invalid": 1, "cancelled": 1}  # fmt: skip
    assert (s.total, s.planned, s.finished) == (9, 7, 4)  # planned: not invalid, not cancelled
    assert s.fraction == pytest.approx(4 / 7)
    assert not s.done
    # Tokens: 900 reported (a) + 1000 estimated (b); the plan is 7 x 1000.
    assert (s.spent, s.spent_estimated, s.estimated_total) == (1900, 1000, 7000)
    assert s.tokens_text() == "1,900 tokens spent (~1,000 of it estimated) of ~7,000 estimated"
    # Pace: 3 finished with times in 60 s since the first send: 3 still moving -> 60 s left.
    assert s.eta_seconds == pytest.approx(60.0)
    assert s.eta_text() == "about 1 min left"
    assert [(e.variant_id, e.status, e.code, e.message) for e in s.errors] == [
        ("c", "failed", "InternalError", "boom"), ("d", "unknown", "outcome_unknown", "lost"),
    ]  # fmt: skip
    assert s.errors[0].label == "seed c"  # experiments.labels.variant_label
    assert s.counts_text() == (
        "1 invalid · 2 queued · 1 running · 2 succeeded · 1 failed · 1 unknown · 1 cancelled"
    )


def test_eta_waits_for_a_first_finish_and_says_done_and_paused() -> None:
    fresh = run_status("x", "active", [row("a", "running", sent_at=T), row("b", "queued")])
    assert fresh.eta_seconds is None
    assert fresh.eta_text() == "ETA after the first video finishes"
    over = run_status("x", "active", ROWS[:4])
    assert over.done
    assert over.eta_text() == "done"
    held = run_status("x", "paused", [row("a", "paused"), ROWS[0]])
    assert held.done
    assert held.eta_text() == "paused"
    assert [duration_text(s) for s in (12.4, 150, 4000)] == ["12 s", "2 min", "1 h 07 min"]


class FakeBar:
    made: ClassVar[list[FakeBar]] = []

    def __init__(self, **kw: Any) -> None:
        self.kw, self.n, self.total, self.postfix, self.closed = kw, 0, kw["total"], "", False
        self.seen: list[tuple[int, int]] = []
        FakeBar.made.append(self)

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def refresh(self) -> None:
        self.seen.append((self.n, self.total))

    def close(self) -> None:
        self.closed = True


def test_track_moves_the_bar_to_the_end_and_closes_it() -> None:
    steps = [
        run_status("s", "active", [row("a", "queued"), row("b", "queued")]),
        run_status("s", "active", [ROWS[0], row("b", "running", sent_at=T)]),
        run_status("s", "active", [ROWS[0], ROWS[1]]),
    ]
    feed = iter(steps)
    FakeBar.made.clear()
    final = track(lambda: next(feed), interval=0, bar_factory=FakeBar)
    bar = FakeBar.made[0]
    assert final is steps[-1]
    assert bar.seen == [(0, 2), (1, 2), (2, 2)]
    assert bar.closed
    assert bar.kw["desc"] == "s"
    assert bar.kw["unit"] == "video"
    assert "2 succeeded" in bar.postfix
    assert "tokens spent" in bar.postfix


def test_track_times_out_with_the_counts() -> None:
    def stuck() -> RunStatus:
        return run_status("s", "active", [row("a", "running", sent_at=T)])

    FakeBar.made.clear()
    with pytest.raises(TimeoutError, match="1 running"):
        track(stuck, interval=0.01, timeout=0.05, bar_factory=FakeBar)
    assert FakeBar.made[0].closed


def test_wait_with_a_progress_bar_on_the_sandbox(
    client: Orca, fast: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    from functools import partial

    import tqdm.auto
    from tqdm import tqdm as text_bar

    out = io.StringIO()  # tqdm.auto outside Jupyter is the text bar; catch what it draws
    monkeypatch.setattr(tqdm.auto, "tqdm", partial(text_bar, file=out))
    exp = Experiment.grid(BODY, name="bar", seed=[1, 2, 3])
    run = start(exp, client, concurrency=3, per_minute=600, **fast)
    done = run.wait(60, interval=0.1, progress=True)
    assert done.succeeded == 3
    status = run.status()
    assert (status.finished, status.planned, status.done) == (3, 3, True)
    assert status.estimated_total == sum(v.estimated_tokens or 0 for v in run.variants())
    assert status.spent > 0
    drawn = out.getvalue()
    assert "bar" in drawn
    assert "3/3" in drawn
    assert "3 succeeded" in drawn


def test_status_async_reads_off_the_loop(client: Orca, fast: dict[str, Any]) -> None:
    import asyncio

    exp = Experiment.grid(BODY, name="async status", seed=[1])
    run = start(exp, client, per_minute=600, **fast)
    run.wait(30)
    status = asyncio.run(run.status_async())
    assert status.done
    assert status.counts == {"succeeded": 1}


def test_phase_says_running_done_paused_or_cancelled() -> None:
    assert phase("active", {"succeeded": 2, "queued": 1}) == "running"
    assert phase("active", {"succeeded": 2, "sending": 1}) == "running"
    assert phase("active", {"succeeded": 2, "failed": 1, "invalid": 1}) == "done"
    assert phase("paused", {"queued": 3}) == "paused"
    assert phase("cancelled", {"cancelled": 3}) == "cancelled"
    assert run_status("s", "active", ROWS).phase == "running"
    assert run_status("s", "active", ROWS[:4]).phase == "done"
