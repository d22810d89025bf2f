"""Reports that read right (issue 8 item 10): cut tables show the rows that matter and say how to
see all; one-day charts label hours; count axes use whole numbers; wide tables scroll in a box."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from orca_nb.reports import build_all
from orca_nb.reports.charts import (
    HOUR_MS,
    failures_chart,
    group_chart,
    quota_chart,
    tokens_chart,
)
from orca_nb.reports.html import render_html, write_html
from orca_nb.reports.tables import cut, rows_that_matter
from scripts.workload import seed_month
from tests.reports.seed import seed

DAY = pd.Timestamp("2026-03-02", tz="UTC")


def _tokens(days: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [DAY + pd.Timedelta(days=i) for i in range(days)],
            "submitter": ["key-1"] * days,
            "videos": [1] * days,
            "succeeded": [1] * days,
            "unknown": [0] * days,
            "tokens": [100 + i for i in range(days)],
            "estimated_tokens": [0] * days,
            "lower_bound": [False] * days,
        }
    )


# ---------------------------------------------------------------------- tables
def test_tables_over_time_show_the_most_recent_rows_first() -> None:
    frame = _tokens(40)
    shown, note = cut("tokens_per_day", frame, 25)
    assert len(shown) == 25
    assert shown["day"].iloc[0] == frame["day"].max()
    assert shown["day"].is_monotonic_decreasing
    assert "Showing 25 of 40 rows (most recent day first)" in note
    assert "orca_nb.reports.tokens_per_day(ledger)" in note
    assert "--csv DIR" in note
    assert len(frame) == 40  # the report itself is untouched
    assert frame["day"].is_monotonic_increasing


def test_per_group_tables_show_used_groups_before_empty_ones() -> None:
    frame = pd.DataFrame(
        {
            "group_id": [f"g{i}" for i in range(30)],
            "videos": [0] * 27 + [3, 9, 1],
            "references": [0] * 27 + [3, 12, 1],
            "assets": [1] * 30,
        }
    )
    ordered = rows_that_matter("group_summary", frame)
    assert list(ordered["group_id"][:3]) == ["g28", "g27", "g29"]
    shown, note = cut("group_summary", frame, 5)
    assert list(shown["videos"][:3]) == [9, 3, 1]
    assert "most used first" in note
    small, none = cut("group_summary", frame.head(3), 5)
    assert none == ""
    assert len(small) == 3


def test_html_report_shows_the_latest_days_and_says_how_to_see_all() -> None:
    page = render_html({"tokens_per_day": _tokens(40)}, table_rows=25)
    table = page[page.index("id='table-tokens_per_day'") :]
    first_day = re.search(r"<td>(2026-\d\d-\d\d)", table)
    assert first_day is not None
    assert first_day.group(1) == "2026-04-10"  # the 40th day, not the first
    assert "Showing 25 of 40 rows (most recent day first)" in page
    assert "class='table-box'" in page


# ---------------------------------------------------------------------- charts
def test_one_day_chart_labels_hours() -> None:
    fig = tokens_chart(_tokens(1))
    axis = fig.layout.xaxis
    assert axis.dtick == 3 * HOUR_MS
    assert axis.tickformat == "%H:%M"
    assert "2026-03-02" in axis.title.text
    start, end = (pd.Timestamp(x) for x in axis.range)
    assert end - start == pd.Timedelta(hours=26)  # the day, and an hour either side
    assert fig.data[0].width == pytest.approx(0.96 * 86_400_000)
    quota = quota_chart(
        pd.DataFrame(
            {
                "day": [DAY],
                "videos": [2],
                "succeeded": [2],
                "unknown": [0],
                "tokens": [100],
                "estimated_tokens": [0],
                "cumulative_tokens": [100],
                "assets_created": [3],
                "assets_live": [3],
                "asset_cap": [100],
                "cap_used": [0.03],
            }
        )
    )
    assert quota.layout.xaxis.tickformat == "%H:%M"


def test_many_day_chart_labels_whole_days() -> None:
    fig = tokens_chart(_tokens(30))
    assert fig.layout.xaxis.tickformat == "%b %d"
    assert fig.layout.xaxis.dtick % 86_400_000 == 0


def test_count_axes_use_whole_numbers() -> None:
    failures = pd.DataFrame(
        {
            "status": ["failed", "expired"],
            "error_code": ["A", "B"],
            "failures": [2, 1],
            "share": [0.67, 0.33],
        }
    )
    fig = failures_chart(failures)
    assert fig.layout.yaxis.tickformat == ",d"
    assert fig.layout.yaxis.dtick == 1  # 0, 1, 2: no 0.5 ticks for two failures
    groups = pd.DataFrame(
        {
            "group_id": ["g1"],
            "group_name": ["cast"],
            "videos": [250],
            "succeeded": [200],
            "failed": [50],
        }
    )
    big = group_chart(groups)
    assert big.layout.yaxis.tickformat == ",d"
    assert big.layout.yaxis.dtick is None  # plotly picks whole steps for large counts
    tokens = tokens_chart(_tokens(3))
    assert tokens.layout.yaxis.tickformat == ",d"


# ---------------------------------------------------------------------- in a browser
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--no-first-run"]  # fmt: skip
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def _chromium() -> None:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.mark.browser
def test_wide_tables_scroll_in_their_box_and_one_day_ticks_are_hours(tmp_path: Path) -> None:
    _chromium()
    from playwright.sync_api import sync_playwright

    with seed(f"sqlite://{tmp_path / 'ledger.sqlite3'}") as ledger:
        report = write_html(tmp_path / "report.html", ledger)
    # one day of a generated workload: the tokens chart must say hours
    end = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
    month = seed_month(f"sqlite://{tmp_path / 'day.sqlite3'}", days=1, per_day=20, end=end,
                       sandbox=False, live_videos=0)  # fmt: skip
    from orca_nb.ledger import open_ledger

    with open_ledger(month.ledger_url) as day_ledger:
        frames = build_all(day_ledger, since=end - timedelta(hours=20), now=end)
    frames["tokens_per_day"] = frames["tokens_per_day"].head(1)
    day_report = tmp_path / "day.html"
    day_report.write_text(render_html(frames), encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 900})
            page.goto(report.as_uri())
            box = page.evaluate(
                """() => { const b = document.querySelector('#table-submissions');
                   return {scroll: b.scrollWidth, client: b.clientWidth,
                           page: document.documentElement.scrollWidth, view: innerWidth}; }"""
            )
            assert box["scroll"] > box["client"]  # the wide table scrolls inside its box...
            assert box["page"] <= box["view"]  # ...and the page itself does not scroll sideways
            page.locator("#table-submissions").scroll_into_view_if_needed()
            OUTPUT.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT / "usage-report-narrow.png"))
            page.goto(day_report.as_uri())
            page.locator("#chart-tokens_per_day svg.main-svg").first.wait_for(state="attached")
            ticks = page.locator("#chart-tokens_per_day .xtick text").all_text_contents()
            assert ticks, "no x ticks drawn"
            assert all(re.match(r"^\d\d:\d\d", t) for t in ticks), ticks
            assert not any(re.search(r"\d\.\d", t) for t in ticks), ticks
            ys = page.locator("#chart-tokens_per_day .ytick text").all_text_contents()
            assert all(re.fullmatch(r"[\d,]+", t.replace("\u2212", "-")) for t in ys), ys
            page.locator("#chart-tokens_per_day").scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / "usage-report-one-day.png"))
        finally:
            browser.close()
