"""The studio's Sweep tab in a real Voilà page (issue 12 item 7): a person fills a sweep of
2 prompts x 2 seeds, sees 4 variants and their estimate, starts it, and the progress widget in
the tab follows it on DBOS in the page's kernel until 4 of 4 succeeded."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import Web
from tests.browser.pages import open_voila, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

NOTEBOOK = "studio_sweep.ipynb"


def test_a_two_by_two_sweep_starts_from_the_tab_and_finishes(
    web: Web, voila_server: ServerProcess
) -> None:
    page = web.page
    open_voila(page, voila_server, NOTEBOOK, "Varies the studio's request", timeout_s=180)
    sweep = page.locator(".orca-sweep")
    # the kernel's store has read the library: the page is live (slow on a loaded machine)
    sweep.locator(".v-card-title").get_by_text("Live", exact=True).wait_for(timeout=120_000)
    start = sweep.locator(".orca-sweep-start")
    assert start.is_disabled()  # nothing to send before a valid variant... and a name
    # in a notebook-wide page (Lab with its side bar) every field's label reads in full
    page.set_viewport_size({"width": 1000, "height": 1000})
    cut = page.evaluate(
        "() => Array.from(document.querySelectorAll('.orca-sweep .v-field-label'))"
        ".filter((l) => l.offsetParent && l.scrollWidth > l.clientWidth + 1)"
        ".map((l) => l.textContent.trim())"
    )
    assert cut == [], cut
    page.set_viewport_size({"width": 1400, "height": 1000})

    name = f"two by two {time.time_ns()}"
    sweep.locator(".orca-sweep-name input").fill(name)
    sweep.locator(".orca-sweep-prompts textarea").first.fill(
        "a lighthouse at dawn\na lighthouse at night"
    )
    sweep.locator(".orca-sweep-seeds input").fill("1, 2")
    count = sweep.locator(".orca-sweep-count")
    count.get_by_text("4 variants").wait_for(timeout=30_000)
    assert "(estimate) for 4 variant(s)" in sweep.locator(".orca-sweep-cost").inner_text()
    lines = sweep.locator(".orca-sweep-line").all_inner_texts()
    assert len(lines) == 4
    assert lines[0].startswith("a lighthouse at dawn · seed 1 · ~")
    web.shot("sweep-planned")

    start.click()
    card = sweep.locator(".orca-experiment")
    card.wait_for(timeout=60_000)
    assert card.locator(".orca-experiment-title").inner_text() == name
    card.get_by_text("4 of 4 videos finished").wait_for(timeout=240_000)
    assert card.locator(".orca-experiment-state").inner_text().strip() == "done"
    assert card.locator(".orca-experiment-chip").all_inner_texts() == ["4 succeeded"]
    assert card.locator(".orca-experiment-error").count() == 0
    assert sweep.locator(".orca-sweep-error").count() == 0
    web.shot("sweep-done")

    # the studio tab's history lists the sweep's runs, read back from the ledger
    page.locator(".orca-studio-app .v-tab").get_by_text("Studio").click()
    history = page.locator(".orca-history")
    history.locator(".orca-run-sweep").nth(3).wait_for(timeout=30_000)
    # each run's line says its parameters too: two seeds of one prompt do not read alike
    swept = history.locator(".orca-run").filter(has=page.locator(".orca-run-sweep"))
    titles = swept.locator(".orca-run-prompt").all_inner_texts()[:4]
    assert len(set(titles)) == 4, titles
    # in the words of the plan above and the grid (experiments.labels): prompt, then values
    dawn = [t for t in titles if t.startswith("a lighthouse at dawn · ")]
    assert any(t.endswith(" · seed 1") for t in dawn), titles
    # play one: the kernel reads the task again for a fresh link and sends the bytes
    run = history.locator(".orca-run").filter(has=page.locator(".orca-run-sweep")).first
    run.locator(".v-expansion-panel-title").click()
    run.locator(".orca-play-run").click()
    video = run.locator(".orca-history-video video")
    video.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('.orca-history-video video');"
        " return v && v.readyState >= 1 && v.videoWidth > 0; }",
        timeout=60_000,
    )
    assert run.locator(".orca-history-error").count() == 0
    web.shot("sweep-run-played")

    # reference sets: the studio's selection becomes set 1, its chips name the assets (no ids)
    page.locator(".orca-choice", has_text="Ada, full body").first.click()
    page.locator(".orca-picked .orca-token").first.wait_for(timeout=30_000)
    page.locator(".orca-studio-app .v-tab").get_by_text("Sweep").click()
    add_set = sweep.locator(".orca-sweep-add-set")
    assert (add_set.text_content() or "").strip() == "Use the studio's current selection as set 1"
    add_set.click()
    chips = sweep.locator(".orca-sweep-set-chip")
    chips.first.wait_for(timeout=30_000)
    assert [t.strip() for t in chips.all_text_contents()] == ["[Image 1] Ada, full body"]
    assert sweep.locator(".orca-sweep-set-name").all_text_contents() == ["set 1"]
    assert "asset-" not in sweep.locator(".orca-sweep-sets").inner_text()
    assert add_set.is_disabled()  # the same selection twice would be the same set
    assert "is set 1" in sweep.locator(".orca-sweep-sets-hint").inner_text()
    web.shot("sweep-reference-set")
    assert voila_problems(page) == []
    assert web.page_errors == []
    assert web.serious_console_errors() == []
    assert web.requests_beside(voila_server.base_url) == []
