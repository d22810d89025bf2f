"""Reports that read right (issue 8 item 10): cut tables show the rows that matter and say how to
see all; one-day charts label hours; count axes use whole numbers; wide tables scroll in a box."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from orca_nb.reports.charts import (
    HOUR_MS,
    failures_chart,
    group_chart,
    quota_chart,
    tokens_chart,
)
from orca_nb.reports.html import render_html
from orca_nb.reports.tables import cut, rows_that_matter

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
