"""The HTML report opens in headless Chromium, offline, with every chart drawn as SVG."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orca_nb.reports.charts import CHARTS
from orca_nb.reports.html import write_html
from tests.reports.seed import seed

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]  # fmt: skip
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.mark.browser
def test_report_charts_draw_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with seed(f"sqlite://{tmp_path / 'ledger.sqlite3'}") as ledger:
        report = write_html(tmp_path / "report.html", ledger)
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
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
        finally:
            browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []  # fully offline
