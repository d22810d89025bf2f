"""The studio's result, history, repeat question, prompt messages and picker chips as a person sees
them in Voilà (issue 8 items 4, 5, 7), with screenshots in ``test-output/browser/``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Web
from tests.browser.pages import open_voila, run_all_in_lab, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

STUDIO = "studio.ipynb"

BOX_JS = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height,
          width: r.width, vh: window.innerHeight, vw: window.innerWidth,
          ready: el.readyState === undefined ? null : el.readyState,
          vwidth: el.videoWidth || 0, vheight: el.videoHeight || 0};
}"""


def _open_studio(web: Web, server: ServerProcess) -> Page:
    open_voila(web.page, server, STUDIO, "References and prompt")
    web.page.locator(".orca-choice").first.wait_for(timeout=90_000)
    return web.page


def _box(page: Page, selector: str) -> dict[str, Any] | None:
    box: dict[str, Any] | None = page.evaluate(BOX_JS, selector)
    return box


def _until(page: Page, check: Any, what: str, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        page.wait_for_timeout(300)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; last {value}")


def _fits_and_in_view(box: dict[str, Any]) -> bool:
    return bool(
        box["height"] > 50
        and box["top"] >= -1
        and box["bottom"] <= box["vh"] + 1
        and box["height"] <= box["vh"]
    )


def test_chips_have_thumbnails_and_the_prompt_is_not_red_before_typing(
    web: Web, voila_server: ServerProcess
) -> None:
    page = _open_studio(web, voila_server)
    # thumbnails are made by the kernel and arrive as data: URIs in the chips
    _until(
        page,
        lambda: page.locator(".orca-choice img[src^='data:image/jpeg;base64,']").count() >= 3,
        "thumbnail images in the picker chips",
        60,
    )
    assert page.locator(".orca-issue").count() == 0  # nothing marked wrong before typing
    # the note says how many are shown only when there are more (the demo library fits)
    chips = page.locator(".orca-choice").count()
    assert page.locator(".orca-choices-note").count() == (1 if chips >= 12 else 0)
    web.shot("chips-untouched")
    prompt = page.locator(".orca-prompt textarea").first
    prompt.click()
    prompt.type("[Image 9] waves")
    _until(page, lambda: page.locator(".orca-issue").count() > 0, "a prompt message", 20)
    web.shot("prompt-typed")
    assert web.requests_beside(voila_server.base_url) == []
    assert voila_problems(page) == []


def test_portrait_result_fits_the_viewport_history_plays_and_a_second_click_asks(
    web: Web, voila_server: ServerProcess
) -> None:
    page = _open_studio(web, voila_server)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.locator(".orca-choice", has_text="Image: Ada, full body").click()
    page.locator(".orca-picked .orca-token").first.wait_for()
    prompt = page.locator(".orca-prompt textarea").first
    prompt.click()
    prompt.type("A portrait of ")
    page.wait_for_timeout(500)  # a person's pause; the typed text reaches the kernel first
    page.locator(".orca-picked .orca-token", has_text="[Image 1]").click()
    page.wait_for_function(
        "() => document.querySelector('.orca-prompt textarea').value.endsWith('[Image 1]')"
    )
    # 9:16, 4 s, 480p: a tall video that renders fast
    _pick(page, "Ratio", "9:16")
    _pick(page, "Seconds", "4")
    _pick(page, "Resolution", "480p")
    submit = page.get_by_role("button", name="Submit")
    submit.click()
    page.wait_for_timeout(500)
    # a second click 0.5 s later on the same request asks instead of submitting
    submit.click()
    page.locator(".orca-repeat").wait_for(timeout=20_000)
    web.shot("repeat-question")
    page.locator(".orca-repeat-no").click()
    page.locator(".orca-repeat").wait_for(state="detached", timeout=10_000)
    # the history also lists earlier tests' runs from the shared ledger: count this prompt's
    mine = page.locator(".orca-run", has_text="A portrait of")
    assert mine.count() == 1
    # progress with a percentage and elapsed time while it renders
    _until(page, lambda: page.locator(".orca-task-time").count() > 0, "elapsed time", 30)
    web.shot("rendering")
    box = _until(
        page,
        lambda: (b := _box(page, ".orca-result video")) and b["ready"] and b["ready"] >= 1 and b,
        "the result video",
        180,
    )
    # the smooth scroll brings it wholly into view within a few seconds
    box = _until(
        page,
        lambda: (b := _box(page, ".orca-result video")) and _fits_and_in_view(b) and b,
        "the result video wholly in view",
        4,
    )
    assert box["vheight"] > box["vwidth"]  # a portrait video
    web.shot("result-in-view")
    assert "took" in page.locator(".orca-task-time").inner_text()

    assert mine.count() == 1  # one task for the two clicks

    # the history: details, then the video plays on demand
    run = page.locator(".orca-run").first
    title = run.locator(".v-expansion-panel-title").inner_text()
    assert "succeeded" in title
    assert "tokens" in title
    run.locator(".v-expansion-panel-title").click()
    details = run.locator(".orca-run-details").inner_text()
    assert "9:16 · 4 s · 480p" in details
    assert "A portrait of [Image 1]" in details
    run.locator(".orca-play-run").click()
    _until(
        page,
        lambda: (b := _box(page, ".orca-history-video video")) and b["ready"] and b,
        "the history video",
        60,
    )
    _until(
        page,
        lambda: (b := _box(page, ".orca-history-video video")) and _fits_and_in_view(b) and b,
        "the history video wholly in view",
        4,
    )
    web.shot("history-playing")

    # Copy JSON says what it did (copied, or where to copy from when the browser refuses)
    run.locator(".orca-copy-json").click()
    page.locator(".orca-notice").wait_for(timeout=10_000)
    assert "run #1" in page.locator(".orca-notice").inner_text()
    page.locator(".orca-notice").wait_for(state="detached", timeout=15_000)  # it goes away

    # Edit and re-run says what it did and shows the form
    run.locator(".orca-edit-run").click()
    page.locator(".orca-notice").wait_for(timeout=10_000)
    assert "Run #1" in page.locator(".orca-notice").inner_text()
    page.wait_for_timeout(1000)
    picker = _box(page, ".orca-picker")
    assert picker is not None
    assert picker["top"] >= -1
    assert picker["top"] < picker["vh"]
    web.shot("edit-notice")
    assert voila_problems(page) == []
    assert web.page_errors == []
    assert web.requests_beside(voila_server.base_url) == []


def _pick(page: Page, label: str, value: str) -> None:
    field = page.locator(".orca-studio .v-select", has_text=label).first
    field.locator(".v-field").first.click()
    page.get_by_role("option", name=value, exact=True).first.click()
    _until(page, lambda: value in field.inner_text(), f"{label} {value}", 10)


def test_upload_samples_say_what_each_is_for_and_the_name_follows_the_file(
    web: Web, voila_server: ServerProcess
) -> None:
    page = _open_studio(web, voila_server)
    page.get_by_role("tab", name="Upload").click()
    source = page.locator(".orca-upload .orca-source").first
    source.wait_for()
    source.locator(".v-field").first.click()
    options = page.locator(".orca-sample")
    options.first.wait_for(timeout=20_000)
    texts = options.all_inner_texts()
    assert any("Valid image" in t for t in texts), texts
    assert any("Breaks a rule on purpose (InvalidParameter.Dimensions" in t or
               "Breaks a rule on purpose (" in t for t in texts), texts  # fmt: skip
    web.shot("samples-listed")
    options.filter(has_text="tiny_200.png").first.click()
    name = page.locator(".orca-upload input").nth(1)
    _until(page, lambda: name.input_value() == "tiny_200", "the name from the file", 20)
    purpose = page.locator(".orca-sample-purpose").first
    purpose.wait_for(timeout=10_000)
    assert purpose.inner_text().startswith("Breaks a rule on purpose (")
    page.wait_for_timeout(600)  # the list's closing transition
    web.shot("sample-chosen")
    assert voila_problems(page) == []


def test_result_fits_and_comes_into_view_in_jupyterlab(
    web: Web, lab_server: ServerProcess, notebook_root: Path
) -> None:
    page = web.page
    page.set_viewport_size({"width": 1280, "height": 720})
    run_all_in_lab(page, lab_server, notebook_root, "studio.ipynb")
    page.locator(".orca-choice").first.wait_for(timeout=90_000)
    page.locator(".orca-choice", has_text="Image: Ada, close-up").click()
    page.locator(".orca-picked .orca-token").first.wait_for()
    prompt = page.locator(".orca-prompt textarea").first
    prompt.click()
    prompt.type("Close-up of ")
    page.wait_for_timeout(500)
    page.locator(".orca-picked .orca-token", has_text="[Image 1]").click()
    page.wait_for_function(
        "() => document.querySelector('.orca-prompt textarea').value.endsWith('[Image 1]')"
    )
    _pick(page, "Seconds", "4")
    _pick(page, "Resolution", "480p")
    page.locator(".orca-submit").click()
    _until(
        page,
        lambda: (b := _box(page, ".orca-result video")) and b["ready"] and b["ready"] >= 1,
        "the result video",
        180,
    )
    page.wait_for_timeout(1500)
    box = _box(page, ".orca-result video")
    assert box is not None
    assert _fits_and_in_view(box), box
    web.shot("lab-result-in-view")
    assert web.requests_beside(lab_server.base_url) == []
