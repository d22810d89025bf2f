"""The studio as a Voilà page, driven the way a person uses it (issue 4, "How it is checked")."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from orca_nb.client import Orca
from tests.browser.conftest import Web
from tests.browser.pages import open_voila, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

STUDIO = "studio.ipynb"
HOSTILE = "<img src=x onerror=alert(1)>"
VIDEO_STATE_JS = """() => {
  const v = document.querySelector('.orca-result video');
  return v ? {ready: v.readyState, time: v.currentTime, paused: v.paused, width: v.videoWidth}
           : null;
}"""


def _open_studio(web: Web, server: ServerProcess) -> Page:
    open_voila(web.page, server, STUDIO, "References and prompt")
    # the live store has loaded once the picker offers Active assets
    web.page.locator(".orca-choice").first.wait_for(timeout=90_000)
    return web.page


def _wait_for(page: Page, js: str, ok: str, timeout_s: float) -> object:
    """Poll `js` in the page until the JS expression `ok` (over `r`) holds; return the value."""
    deadline = time.monotonic() + timeout_s
    value: object = None
    while time.monotonic() < deadline:
        value = page.evaluate(f"() => {{ const r = ({js})(); return [r, Boolean({ok})]; }}")
        assert isinstance(value, list)
        if value[1]:
            return value[0]
        page.wait_for_timeout(500)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {ok}; last value {value}")


def test_studio_renders_without_widget_errors(web: Web, voila_server: ServerProcess) -> None:
    page = _open_studio(web, voila_server)
    for tab in ("Studio", "Assets", "Groups", "Upload", "Verify a person"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(300)
    web.shot("tabs-visited")
    assert page.get_by_text("sandbox", exact=True).first.is_visible()
    assert voila_problems(page) == []
    assert web.page_errors == []
    assert web.serious_console_errors() == []
    assert web.requests_beside(voila_server.base_url) == []


def test_person_picks_two_images_inserts_tokens_submits_and_watches_the_video(
    web: Web, voila_server: ServerProcess
) -> None:
    page = _open_studio(web, voila_server)
    page.locator(".orca-choice", has_text="Image: Ada, full body").click()
    page.locator(".orca-choice", has_text="Image: Hills at noon").click()
    tokens = page.locator(".orca-picked .orca-token")
    tokens.nth(1).wait_for()
    assert tokens.all_inner_texts() == ["[Image 1]", "[Image 2]"]

    prompt = page.locator(".orca-prompt textarea").first
    prompt.click()
    prompt.type("A short film: ")
    page.locator(".orca-picked .orca-token", has_text="[Image 1]").click()
    page.wait_for_function(
        "() => document.querySelector('.orca-prompt textarea').value.includes('[Image 1]')"
    )
    prompt.click()
    prompt.press("End")
    prompt.type(" walks across ")
    page.locator(".orca-picked .orca-token", has_text="[Image 2]").click()
    page.wait_for_function(
        "() => document.querySelector('.orca-prompt textarea').value.endsWith('[Image 2]')"
    )
    assert prompt.input_value() == "A short film: [Image 1] walks across [Image 2]"
    content = page.locator(".orca-content-json").first.text_content() or ""
    assert content.count("asset://") == 2
    web.shot("composed")

    # a double-click is one submission, not two
    page.get_by_role("button", name="Submit").dblclick()
    state = _wait_for(page, VIDEO_STATE_JS, "r && r.ready >= 2", timeout_s=180)
    assert isinstance(state, dict)
    assert state["width"] > 0
    if state["paused"]:  # autoplay may be refused; press play as a person would
        page.evaluate("() => { const v = document.querySelector('.orca-result video');"
                      " v.muted = true; return v.play(); }")  # fmt: skip
    start = float(state["time"])
    _wait_for(page, VIDEO_STATE_JS, f"r && r.time > {start} + 0.3", timeout_s=20)
    web.shot("playing")
    assert page.locator(".orca-task-status").inner_text().endswith("succeeded")
    # one run of this prompt in the history (which also lists earlier runs from the ledger)
    assert page.locator(".v-expansion-panel-title", has_text="A short film").count() == 1
    assert voila_problems(page) == []
    assert web.page_errors == []
    # thumbnails and the video came through the kernel, not from the sandbox's own port
    assert web.requests_beside(voila_server.base_url) == []


def test_hostile_group_name_shows_as_text_and_no_dialog_opens(
    web: Web, voila_server: ServerProcess, sandbox_client: Orca
) -> None:
    group = sandbox_client.groups.create(name=HOSTILE, description="<b>not bold</b>")
    try:
        page = _open_studio(web, voila_server)
        page.get_by_role("tab", name="Groups").click()
        shown = page.get_by_text(HOSTILE, exact=True).first
        shown.wait_for(state="visible", timeout=60_000)
        page.get_by_text("<b>not bold</b>", exact=True).first.wait_for(state="visible")
        page.wait_for_timeout(1500)  # time for an injected onerror to fire, if there were one
        web.shot("hostile-name")
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("b", has_text="not bold").count() == 0
        assert web.dialogs == []
        assert web.page_errors == []
    finally:
        sandbox_client.groups.delete(group.id)
