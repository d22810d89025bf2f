"""``ExperimentRun.results()``: one row per variant, joined with the ledger's times and tokens and
the compare grid's marks. Hand-made rows check each rule; a sandbox run checks the join."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from orca_nb import wire
from orca_nb.client import Orca
from orca_nb.experiments import Experiment, start
from orca_nb.experiments.db import VariantRow
from orca_nb.experiments.results import (
    COLUMNS,
    LATENCY_LOCAL,
    LATENCY_SERVICE,
    LedgerSend,
    results_frame,
)
from orca_nb.ledger import VariantMark
from orca_nb.sandbox import Backend
from tests.experiments.conftest import BODY

T = 1_770_000_000_000  # ms


def variant(vid: str, status: str, **kw: Any) -> VariantRow:
    fields: dict[str, Any] = {
        "experiment_id": "exp", "variant_id": vid, "position": 0,
        "values": {"prompt": f"p-{vid}", "seed": 1}, "body": dict(BODY), "reasons": [],
        "status": status, "task_id": None, "task_status": None, "progress": None,
        "error_code": None, "error_message": None, "estimated_tokens": 1000, "tokens": None,
        "attempts": 1, "run": 0, "queued_at": T, "sent_at": None, "finished_at": None,
        "updated_at": T,
    }  # fmt: skip
    fields.update(kw)
    return VariantRow(**fields)


def send(vid: str, task: str | None, **kw: Any) -> LedgerSend:
    fields: dict[str, Any] = {
        "variant_id": vid, "task_id": task, "status": "succeeded", "submitted_at": T,
        "finished_at": None, "latency_ms": None, "total_tokens": None, "tokens_source": None,
        "estimate_source": "estimated",
    }  # fmt: skip
    fields.update(kw)
    return LedgerSend(**fields)


def mark(vid: str, **kw: Any) -> VariantMark:
    fields: dict[str, Any] = {
        "experiment_id": "exp", "variant_id": vid, "pinned": False, "rating": None, "tags": (),
        "note": "", "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
    }  # fmt: skip
    fields.update(kw)
    return VariantMark(**fields)


def test_columns_are_variant_id_then_dimensions_then_the_documented_ones() -> None:
    frame = results_frame([variant("a", "queued")])
    assert list(frame.columns) == ["variant_id", "prompt", "seed", *COLUMNS]
    assert str(frame["tokens"].dtype) == "Int64"
    assert str(frame["rating"].dtype) == "Int64"
    assert str(frame["latency_s"].dtype) == "float64"
    assert str(frame["submitted_at"].dtype) == "datetime64[ms, UTC]"
    assert frame["pinned"].dtype == bool


def test_empty_experiment_gives_an_empty_frame_with_the_columns() -> None:
    frame = results_frame([])
    assert frame.empty
    assert list(frame.columns) == ["variant_id", *COLUMNS]


def test_latency_is_the_services_from_the_ledger_when_it_has_the_task() -> None:
    v = variant("a", "succeeded", task_id="t1", sent_at=T + 5, finished_at=T + 99_000)
    sends = {"a": [send("a", "t1", submitted_at=T + 1000, finished_at=T + 61_000)]}
    row = results_frame([v], sends=sends).iloc[0]
    assert row["latency_s"] == 60.0
    assert row["latency_source"] == LATENCY_SERVICE
    assert row["submitted_at"] == pd.Timestamp(T + 1000, unit="ms", tz="UTC")


def test_latency_falls_back_to_the_local_clock_and_says_so() -> None:
    v = variant("a", "succeeded", task_id="t1", sent_at=T, finished_at=T + 42_500)
    row = results_frame([v], sends={}).iloc[0]
    assert row["latency_s"] == 42.5
    assert row["latency_source"] == LATENCY_LOCAL
    # A ledger row of another (earlier, refused) send does not lend its times.
    other = {"a": [send("a", None, status="rejected", finished_at=T + 1, latency_ms=1)]}
    assert results_frame([v], sends=other).iloc[0]["latency_source"] == LATENCY_LOCAL


@pytest.mark.parametrize("status", ["refused", "unknown", "invalid", "queued"])
def test_variants_without_a_task_have_no_latency(status: str) -> None:
    v = variant("a", status, sent_at=T, finished_at=T + 3000)
    row = results_frame([v]).iloc[0]
    assert pd.isna(row["latency_s"])
    assert row["latency_source"] is None


def test_tokens_reported_by_the_follow_step_win() -> None:
    v = variant("a", "succeeded", task_id="t1", tokens=777)
    sends = {"a": [send("a", "t1", total_tokens=1000, tokens_source="estimated")]}
    row = results_frame([v], sends=sends).iloc[0]
    assert (row["tokens"], row["tokens_source"]) == (777, wire.TOKENS_REPORTED)
    assert row["estimated_tokens"] == 1000


def test_tokens_from_the_ledger_keep_its_source_lower_bound_included() -> None:
    v = variant("a", "succeeded", task_id="t1")
    sends = {"a": [send("a", "t1", total_tokens=1500, tokens_source="estimated_min")]}
    row = results_frame([v], sends=sends).iloc[0]
    assert (row["tokens"], row["tokens_source"]) == (1500, wire.TOKENS_ESTIMATED_MIN)


def test_without_the_ledger_a_succeeded_variant_has_its_estimate_marked_estimated() -> None:
    row = results_frame([variant("a", "succeeded", task_id="t1")]).iloc[0]
    assert (row["tokens"], row["tokens_source"]) == (1000, wire.TOKENS_ESTIMATED)


@pytest.mark.parametrize("status", ["queued", "running", "failed", "refused", "unknown"])
def test_variants_that_made_no_video_spent_no_estimated_tokens(status: str) -> None:
    row = results_frame([variant("a", status, task_id="t1")]).iloc[0]
    assert pd.isna(row["tokens"])
    assert row["tokens_source"] is None
    assert row["estimated_tokens"] == 1000  # the pre-send estimate is still there


def test_a_failed_task_that_reported_usage_keeps_it() -> None:
    row = results_frame([variant("a", "failed", task_id="t1", tokens=12)]).iloc[0]
    assert (row["tokens"], row["tokens_source"]) == (12, wire.TOKENS_REPORTED)


def test_an_estimate_with_an_unknown_video_length_is_a_lower_bound() -> None:
    body = {
        "model": wire.SEEDANCE_2, "prompt": "remix [Video 1]",
        "metadata": {"content": [{"type": "video_url", "video_url": {"url": "asset://vid-1"},
                                  "role": "reference_video"}],
                     "resolution": "480p", "ratio": "16:9", "duration": 5},
    }  # fmt: skip
    row = results_frame([variant("a", "succeeded", task_id="t1", body=body)]).iloc[0]
    assert row["tokens_source"] == wire.TOKENS_ESTIMATED_MIN


def test_a_variant_without_any_figure_has_none() -> None:
    row = results_frame([variant("a", "invalid", estimated_tokens=None, body=None)]).iloc[0]
    assert pd.isna(row["tokens"])
    assert row["tokens_source"] is None


def test_marks_fill_pinned_rating_tags_note_and_unmarked_variants_are_blank() -> None:
    rows = [variant("a", "succeeded"), variant("b", "succeeded")]
    marks = {"a": mark("a", pinned=True, rating=5, tags=("sharp", "keep"), note="the one")}
    frame = results_frame(rows, marks=marks).set_index("variant_id")
    assert frame.loc["a", "pinned"]
    assert (frame.loc["a", "rating"], frame.loc["a", "tags"], frame.loc["a", "note"]) == (
        5, ("sharp", "keep"), "the one",
    )  # fmt: skip
    assert not frame.loc["b", "pinned"]
    assert pd.isna(frame.loc["b", "rating"])
    assert (frame.loc["b", "tags"], frame.loc["b", "note"]) == ((), "")


def test_error_and_status_come_from_the_variant() -> None:
    v = variant("a", "failed", task_id="t1", error_code="InternalError", error_message="boom")
    row = results_frame([v]).iloc[0]
    assert (row["status"], row["task_id"], row["error_code"], row["error"]) == (
        "failed", "t1", "InternalError", "boom",
    )  # fmt: skip


def test_a_sandbox_run_joins_the_ledger_and_the_marks(
    client: Orca, fast: dict[str, Any], sandbox_backend: Backend
) -> None:
    sandbox_backend.fail_next_tasks(1)
    exp = Experiment.grid(BODY, name="results-join", seed=[1, 2, 3])
    run = start(exp, client, concurrency=1, per_minute=600, **fast)
    assert run.wait(60).finished == 3
    ledger = run.ledger()
    assert ledger is not None
    ids = [v.variant_id for v in run.variants()]
    good = [v.variant_id for v in run.variants() if v.status == "succeeded"]
    ledger.mark_variant(run.experiment_id, good[0], pinned=True, rating=4, tags=["keep"],
                        note="crisp")  # fmt: skip
    frame = run.results()
    assert list(frame["variant_id"]) == ids
    assert list(frame.columns[:2]) == ["variant_id", "seed"]
    assert sorted(frame["status"]) == ["failed", "succeeded", "succeeded"]
    done = frame[frame["status"] == "succeeded"]
    assert (done["latency_source"] == LATENCY_SERVICE).all()
    assert (done["latency_s"] >= 0).all()
    assert done["tokens"].notna().all()
    assert set(done["tokens_source"]) <= set(wire.TOKENS_SOURCES)
    failed = frame[frame["status"] == "failed"].iloc[0]
    assert failed["task_id"]
    assert failed["error_code"]
    assert pd.isna(failed["tokens"])
    winner = frame.set_index("variant_id").loc[good[0]]
    assert (winner["pinned"], winner["rating"], winner["tags"], winner["note"]) == (
        True, 4, ("keep",), "crisp",
    )  # fmt: skip
    assert int(frame["pinned"].sum()) == 1
