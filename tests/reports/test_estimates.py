"""Token reports when replies carry no usage (the documented wrapped task fetch): the figures
follow the reference's rule (12.4) and every report says they are estimates; with usage in the
replies, the reported numbers are shown and nothing is marked."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from orca_nb import wire
from orca_nb.ledger import open_ledger
from orca_nb.reports import quota_use, submissions, tokens_per_day
from orca_nb.reports.charts import tokens_chart
from orca_nb.reports.html import write_html
from scripts.workload import seed_month

END = datetime(2026, 3, 31, 18, tzinfo=UTC)
DAY_MS = 86_400_000


def expected_by_rule(url: str) -> tuple[Counter[tuple[int, str]], bool]:
    """Tokens per (day, submitter) worked out here from each succeeded request: output
    W x H x (24 s + 1) / 1024, plus 2 s (the shortest allowed) per reference video, whose length
    the ledger cannot know."""
    with open_ledger(url) as ledger:
        _, rows = ledger.database.query(
            "SELECT s.id, s.day, s.submitter, s.params FROM submissions s"
            " WHERE s.status = 'succeeded'"
        )
        _, videos = ledger.database.query(
            "SELECT submission_id, COUNT(*) FROM submission_items WHERE asset_type = 'Video'"
            " GROUP BY submission_id"
        )
    n_videos = dict(videos)
    out: Counter[tuple[int, str]] = Counter()
    any_video = False
    for sid, day, submitter, params in rows:
        p = json.loads(params)
        w, h = wire.OUTPUT_SIZES[(p["resolution"], p["ratio"])]
        n = int(n_videos.get(sid, 0))
        any_video = any_video or n > 0
        out[(int(day) * DAY_MS, submitter)] += wire.usage_tokens(w, h, p["duration"]) + n * (
            w * h * 24 * 2 // 1024
        )
    return out, any_video


@pytest.fixture(scope="module")
def no_usage_month(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite://{tmp_path_factory.mktemp('est') / 'month.sqlite3'}"
    seed_month(url, sandbox=False, seed=5, end=END, usage_reported=0.0)
    return url


@pytest.fixture(scope="module")
def reported_month(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite://{tmp_path_factory.mktemp('rep') / 'month.sqlite3'}"
    seed_month(url, sandbox=False, seed=5, end=END)
    return url


def test_a_month_without_usage_is_estimated_by_the_rule(no_usage_month: str) -> None:
    expected, any_video = expected_by_rule(no_usage_month)
    assert any_video  # the month has reference videos, so some estimates are lower bounds
    frame = tokens_per_day(no_usage_month)
    got = {
        (int(d.timestamp() * 1000), s): int(t)
        for d, s, t in zip(frame["day"], frame["submitter"], frame["tokens"], strict=True)
        if t
    }
    assert got == dict(expected)
    assert (frame["estimated_tokens"] == frame["tokens"]).all()  # every figure is an estimate
    assert frame["lower_bound"].any()
    assert sum(got.values()) > 10_000_000


def test_every_report_marks_the_estimates(no_usage_month: str) -> None:
    history = submissions(no_usage_month, limit=None)
    done = history[history["status"] == "succeeded"]
    assert set(done["tokens_source"]) == {wire.TOKENS_ESTIMATED, wire.TOKENS_ESTIMATED_MIN}
    assert done["tokens"].notna().all()
    others = history[history["status"] != "succeeded"]
    assert others["tokens_source"].isna().all()
    assert others["tokens"].isna().all()  # failed, rejected, running: nothing billed
    quota = quota_use(no_usage_month)
    assert (quota["estimated_tokens"] == quota["tokens"]).all()
    assert quota["tokens"].sum() == done["tokens"].sum()


def test_html_report_and_chart_label_the_estimates(no_usage_month: str, tmp_path: Path) -> None:
    figure = tokens_chart(tokens_per_day(no_usage_month))
    assert "estimated" in figure.layout.title.text
    names = {trace.name for trace in figure.data}
    assert any(n.endswith("(estimated)") for n in names)
    page = write_html(tmp_path / "r.html", no_usage_month, now=END).read_text(encoding="utf-8")
    assert "id='estimate-note'" in page
    assert "(100%) are estimates" in page
    assert "lower bounds" in page
    assert "tokens_source" in page  # the submissions table says which row is which


def test_reported_usage_is_shown_as_reported(reported_month: str, tmp_path: Path) -> None:
    frame = tokens_per_day(reported_month)
    assert (frame["estimated_tokens"] == 0).all()
    assert not frame["lower_bound"].any()
    history = submissions(reported_month, limit=None)
    done = history[history["status"] == "succeeded"]
    assert set(done["tokens_source"]) == {wire.TOKENS_REPORTED}
    # the workload's replies report output tokens only: the reported figure, not the rule's
    with open_ledger(reported_month) as ledger:
        _, rows = ledger.database.query(
            "SELECT params, total_tokens FROM submissions WHERE status = 'succeeded'"
        )
    for params, tokens in rows:
        p = json.loads(params)
        w, h = wire.OUTPUT_SIZES[(p["resolution"], p["ratio"])]
        assert tokens == wire.usage_tokens(w, h, p["duration"])
    figure = tokens_chart(frame)
    assert "estimated" not in figure.layout.title.text
    page = write_html(tmp_path / "r.html", reported_month, now=END).read_text(encoding="utf-8")
    assert "id='estimate-note'" not in page


def test_the_same_seed_gives_the_same_month_whatever_the_usage(
    no_usage_month: str, reported_month: str
) -> None:
    a = submissions(no_usage_month, limit=None)[["status", "model", "duration"]]
    b = submissions(reported_month, limit=None)[["status", "model", "duration"]]
    pd.testing.assert_frame_equal(a, b)
