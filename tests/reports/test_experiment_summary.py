"""``experiment_summary`` and the experiment filter, worked out by hand, on SQLite and PostgreSQL.

Experiment exp-a varies prompt (sun, rain) x seed (1, 2), 720p 16:9 5 s: each variant's estimate
is 1280 x 720 x (5 x 24 + 1) / 1024 = 108,900 tokens.

v1 sun/1: succeeded 60 s after its send, 100 tokens reported.
v2 sun/2: a first send refused (429), the second succeeded 120 s after it, no usage (estimated).
v3 rain/1: failed (no tokens).
v4 rain/2: sent, no usable reply: unknown.
exp-b has one variant (one image reference), still running. One submission outside experiments.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from orca_nb import wire
from orca_nb.ledger import Ledger, open_ledger
from orca_nb.ledger.context import current_submission_context, submission_context
from orca_nb.reports import (
    SCHEMAS,
    build_all,
    describe,
    experiment_summary,
    submissions,
    tokens_per_day,
    usage_breakdown,
)

T0 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
EST = 108_900
BASE = "http://127.0.0.1:1/v1"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def body(prompt: str, seed: int, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "model": wire.SEEDANCE_2,
        "prompt": prompt,
        "metadata": {
            "content": items or [],
            "resolution": "720p",
            "ratio": "16:9",
            "duration": 5,
            "seed": seed,
        },
    }


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    clock = Clock()
    opened = open_ledger(ledger_url, clock=clock)

    def send(at: float, b: dict[str, Any], exp: str | None, var: str | None) -> str:
        clock.now = T0 + at
        if exp is None or var is None:
            return opened.before_submit(b, submitter="key-1", base_url=BASE)
        with submission_context(exp, var):
            return opened.before_submit(b, submitter="key-1", base_url=BASE)

    def finish(at: float, task: str, status: str, usage: int | None = None) -> None:
        clock.now = T0 + at
        state: dict[str, Any] = {"id": task, "status": status}
        if usage is not None:
            state["usage"] = {"completion_tokens": usage, "total_tokens": usage}
        if status == "failed":
            state["error"] = {"code": "InternalServiceError", "message": "boom"}
        opened.on_task(state)

    s1 = send(0, body("sun", 1), "exp-a", "v1")
    opened.after_submit(s1, {"id": "t1", "status": "queued"})
    finish(60, "t1", "succeeded", 100)
    s2 = send(10, body("sun", 2), "exp-a", "v2")
    opened.submit_failed(s2, code="rate_limit_exceeded", message="slow down")
    s2b = send(20, body("sun", 2), "exp-a", "v2")
    opened.after_submit(s2b, {"id": "t2", "status": "queued"})
    finish(140, "t2", "succeeded")
    s3 = send(30, body("rain", 1), "exp-a", "v3")
    opened.after_submit(s3, {"id": "t3", "status": "queued"})
    finish(50, "t3", "failed")
    s4 = send(40, body("rain", 2), "exp-a", "v4")
    opened.submit_unknown(s4, code="outcome_unknown", message="no reply")
    image = {"type": "image_url", "image_url": {"url": "https://cdn.test/a.png"},
             "role": "reference_image"}  # fmt: skip
    s5 = send(50, body("snow", 1, [image]), "exp-b", "w1")
    opened.after_submit(s5, {"id": "t5", "status": "queued"})
    s6 = send(60, body("direct", 7, [image]), None, None)
    opened.after_submit(s6, {"id": "t6", "status": "queued"})
    finish(90, "t6", "succeeded", 40)
    yield opened
    opened.close()


def row(table: pd.DataFrame, exp: str, dimension: str | None, value: str | None) -> pd.Series:
    if dimension is None:
        hit = table[(table["experiment_id"] == exp) & table["dimension"].isna()]
    else:
        hit = table[
            (table["experiment_id"] == exp)
            & (table["dimension"] == dimension)
            & (table["value"] == value)
        ]
    assert len(hit) == 1, (exp, dimension, value, table)
    return hit.iloc[0]


def check(r: pd.Series, **expected: Any) -> None:
    for name, want in expected.items():
        got = r[name]
        if isinstance(want, float) and math.isnan(want):
            assert pd.isna(got), (name, got)
        elif isinstance(want, float):
            assert got == pytest.approx(want), (name, got, want)
        else:
            assert got == want, (name, got, want)


def test_the_ledger_names_each_submissions_experiment_and_variant(ledger: Ledger) -> None:
    _, rows = ledger.database.query(
        "SELECT task_id, experiment_id, variant_id FROM submissions ORDER BY submitted_at"
    )
    assert [tuple(r) for r in rows] == [
        ("t1", "exp-a", "v1"), (None, "exp-a", "v2"), ("t2", "exp-a", "v2"),
        ("t3", "exp-a", "v3"), (None, "exp-a", "v4"), ("t5", "exp-b", "w1"),
        ("t6", None, None),
    ]  # fmt: skip
    assert current_submission_context() is None  # the tag ends with its block


def test_experiment_summary_per_experiment_and_varied_value(ledger: Ledger) -> None:
    table = experiment_summary(ledger)
    assert list(table.columns) == [c for c, _, _ in SCHEMAS["experiment_summary"]]
    assert [str(t) for t in table.dtypes] == [d for _, d, _ in SCHEMAS["experiment_summary"]]
    # exp-a's own row, its prompt and seed rows (nothing else varied), exp-b's own row.
    keys = [(e, d if isinstance(d, str) else None, v if isinstance(v, str) else None)
            for e, d, v in zip(table["experiment_id"], table["dimension"], table["value"],
                               strict=True)]  # fmt: skip
    assert keys == [
        ("exp-a", None, None),
        ("exp-a", "prompt", "rain"), ("exp-a", "prompt", "sun"),
        ("exp-a", "seed", "1"), ("exp-a", "seed", "2"),
        ("exp-b", None, None),
    ]  # fmt: skip
    check(
        row(table, "exp-a", None, None),
        variants=4, submissions=5, succeeded=2, failed=1, unknown=1, pending=0,
        success_rate=2 / 3, p50=90.0, p95=60.0 + 0.95 * 60.0, tokens=100 + EST,
        reported_tokens=100, estimated_tokens=4 * EST, reported_vs_estimate=100 / EST,
    )  # fmt: skip
    check(
        row(table, "exp-a", "prompt", "sun"),
        variants=2, submissions=3, succeeded=2, failed=0, unknown=0, success_rate=1.0,
        p50=90.0, p95=117.0, tokens=100 + EST, reported_tokens=100, estimated_tokens=2 * EST,
        reported_vs_estimate=100 / EST,
    )  # fmt: skip
    check(
        row(table, "exp-a", "prompt", "rain"),
        variants=2, submissions=2, succeeded=0, failed=1, unknown=1, success_rate=0.0,
        p50=float("nan"), p95=float("nan"), tokens=0, reported_tokens=0,
        estimated_tokens=2 * EST, reported_vs_estimate=float("nan"),
    )  # fmt: skip
    check(
        row(table, "exp-a", "seed", "1"),
        variants=2, submissions=2, succeeded=1, failed=1, unknown=0, success_rate=0.5,
        p50=60.0, p95=60.0, tokens=100, reported_tokens=100,
    )  # fmt: skip
    check(
        row(table, "exp-a", "seed", "2"),
        variants=2, submissions=3, succeeded=1, failed=0, unknown=1, success_rate=1.0,
        p50=120.0, p95=120.0, tokens=EST, reported_tokens=0, reported_vs_estimate=float("nan"),
    )  # fmt: skip
    check(
        row(table, "exp-b", None, None),
        variants=1, submissions=1, succeeded=0, failed=0, unknown=0, pending=1,
        success_rate=float("nan"), tokens=0, estimated_tokens=EST,
    )  # fmt: skip
    a = row(table, "exp-a", None, None)
    assert a["first_at"] == pd.Timestamp(T0, unit="s", tz="UTC")
    assert a["last_at"] == pd.Timestamp(T0 + 40, unit="s", tz="UTC")


def test_varied_numbers_sort_as_numbers() -> None:
    from orca_nb.reports.experiments import _order

    assert sorted(["42", "7", "b", "a", "100"], key=_order) == ["7", "42", "100", "a", "b"]


def test_experiment_summary_filters_and_describes(ledger: Ledger) -> None:
    only_b = experiment_summary(ledger, experiment="exp-b")
    assert list(only_b["experiment_id"]) == ["exp-b"]
    assert experiment_summary(ledger, model="no-such-model").empty
    assert list(describe("experiment_summary")["column"])[:3] == [
        "experiment_id", "dimension", "value",
    ]  # fmt: skip


def test_the_existing_reports_filter_by_experiment(ledger: Ledger) -> None:
    subs = submissions(ledger, experiment="exp-a")
    assert sorted(subs["task_id"].dropna()) == ["t1", "t2", "t3"]
    assert len(subs) == 5
    assert len(submissions(ledger)) == 7
    assert len(submissions(ledger, experiment=["exp-a", "exp-b"])) == 6
    day = tokens_per_day(ledger, experiment="exp-a")
    check(day.iloc[0], videos=5, succeeded=2, unknown=1, tokens=100 + EST, estimated_tokens=EST)
    check(tokens_per_day(ledger).iloc[0], videos=7, tokens=100 + EST + 40)
    # Items: the image is referenced by exp-b's variant and by the direct submission.
    assert int(usage_breakdown(ledger)["references"].sum()) == 2
    assert int(usage_breakdown(ledger, experiment="exp-b")["references"].sum()) == 1
    assert usage_breakdown(ledger, experiment="exp-a").empty
    built = build_all(ledger, experiment="exp-b")
    assert list(built["experiment_summary"]["experiment_id"]) == ["exp-b"]
    assert len(built["submissions"]) == 1


def test_a_bad_tag_is_refused_before_anything_is_written() -> None:
    for experiment_id, variant_id, wrong in (("", "v1", "experiment_id"),
                                             ("exp-a", "v\n1", "variant_id")):  # fmt: skip
        tag = submission_context(experiment_id, variant_id)
        with pytest.raises(ValueError, match=f"{wrong} must be"):
            tag.__enter__()
    assert current_submission_context() is None


def test_report_command_and_html_take_an_experiment(ledger: Ledger, tmp_path: Path) -> None:
    import argparse

    from orca_nb.reports import cli
    from orca_nb.reports.html import write_html

    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args([
        "report", "--ledger", ledger.url, "--experiment", "exp-b", "--no-html",
        "--csv", str(tmp_path / "csv"),
    ])  # fmt: skip
    assert args.func(args) == 0
    subs = pd.read_csv(tmp_path / "csv" / "submissions.csv")
    assert list(subs["task_id"]) == ["t5"]
    summary = pd.read_csv(tmp_path / "csv" / "experiment_summary.csv")
    assert list(summary["experiment_id"]) == ["exp-b"]
    page = write_html(tmp_path / "r.html", ledger, experiment="exp-a").read_text()
    assert "experiments exp-a" in page
    assert "<section id='experiment_summary'><h2>Experiments</h2>" in page


def test_ratings_and_the_winner_from_the_compare_grids_marks(ledger: Ledger) -> None:
    before = experiment_summary(ledger)
    check(row(before, "exp-a", None, None), rated=0, mean_rating=float("nan"))
    assert pd.isna(row(before, "exp-a", None, None)["winner"])
    ledger.mark_variant("exp-a", "v1", pinned=True, rating=5)
    ledger.mark_variant("exp-a", "v2", rating=2, tags=["soft"])
    ledger.mark_variant("exp-a", "v3", note="no rating, only a note")
    ledger.mark_variant("exp-b", "w1", rating=4)
    table = experiment_summary(ledger)
    assert [str(t) for t in table.dtypes] == [d for _, d, _ in SCHEMAS["experiment_summary"]]
    check(row(table, "exp-a", None, None), rated=2, mean_rating=3.5, winner="v1")
    check(row(table, "exp-a", "prompt", "sun"), rated=2, mean_rating=3.5, winner="v1")
    check(row(table, "exp-a", "prompt", "rain"), rated=0, mean_rating=float("nan"))
    check(row(table, "exp-a", "seed", "1"), rated=1, mean_rating=5.0, winner="v1")
    check(row(table, "exp-a", "seed", "2"), rated=1, mean_rating=2.0)
    # The winning values: the dimension rows that name the winner.
    won = table[(table["experiment_id"] == "exp-a") & table["winner"].notna()]
    assert sorted(zip(won["dimension"].fillna(""), won["value"].fillna(""), strict=True)) == [
        ("", ""), ("prompt", "sun"), ("seed", "1"),
    ]  # fmt: skip
    check(row(table, "exp-b", None, None), rated=1, mean_rating=4.0)
    assert pd.isna(row(table, "exp-b", None, None)["winner"])
    # Pinning another variant moves the winner.
    ledger.mark_variant("exp-a", "v2", pinned=True)
    check(row(experiment_summary(ledger), "exp-a", None, None), winner="v2")
