"""The usage report's HTML in real headless Chromium: every chart draws offline, wide tables
scroll in their box, a one-day chart labels hours. (Browser tests live in tests/browser/.)"""

from __future__ import annotations

import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from orca_nb.reports import build_all
from orca_nb.reports.charts import CHARTS
from orca_nb.reports.html import render_html, write_html
from scripts.workload import seed_month
from tests.reports.seed import seed

OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.mark.browser
def test_report_charts_draw_in_chromium(tmp_path: Path, browser: Browser) -> None:
    with seed(f"sqlite://{tmp_path / 'ledger.sqlite3'}") as ledger:
        report = write_html(tmp_path / "report.html", ledger)
    errors: list[str] = []
    requests: list[str] = []
    with closing(browser.new_context(viewport={"width": 1200, "height": 900})) as context:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        for name in CHARTS:
            chart = page.locator(f"#chart-{name} svg.main-svg").first
            chart.wait_for(state="attached", timeout=20_000)
            traces = page.locator(f"#chart-{name} g.trace")
            assert traces.count() >= 1, f"{name}: no trace drawn"
            drawn = page.locator(f"#chart-{name} .point path, #chart-{name} .scatterlayer path")
            assert drawn.count() >= 1, f"{name}: no bar or line drawn"
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "usage-report.png"), full_page=True)
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []  # fully offline


@pytest.mark.browser
def test_wide_tables_scroll_in_their_box_and_one_day_ticks_are_hours(
    tmp_path: Path, browser: Browser
) -> None:
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
    with closing(browser.new_context(viewport={"width": 800, "height": 900})) as context:
        page = context.new_page()
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
