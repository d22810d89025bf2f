"""The widgets follow the page's light or dark theme (issue 8 item 8): Voilà's theme flag and
JupyterLab's theme, checked on computed colours, with screenshots in ``test-output/browser/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Web
from tests.browser.pages import run_all_in_lab, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

# the computed background behind an element (first non-transparent ancestor) and its text colour
COLOURS_JS = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  let node = el, bg = 'rgba(0, 0, 0, 0)';
  while (node && node.nodeType === 1) {
    const c = getComputedStyle(node).backgroundColor;
    if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
    node = node.parentElement;
  }
  return {background: bg, color: getComputedStyle(el).color};
}"""


def _luminance(css: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def _colours(page: Page, selector: str) -> tuple[float, float]:
    found = page.evaluate(COLOURS_JS, selector)
    assert found is not None, f"{selector} not on the page"
    return _luminance(found["background"]), _luminance(found["color"])


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_voila_studio_follows_the_theme(web: Web, voila_server: ServerProcess, theme: str) -> None:
    page = web.page
    page.goto(f"{voila_server.base_url}/voila/render/studio.ipynb?theme={theme}", timeout=120_000)
    page.get_by_text("References and prompt").first.wait_for(timeout=120_000)
    page.locator(".orca-choice").first.wait_for(timeout=90_000)
    page.wait_for_timeout(1000)
    web.shot(f"studio-{theme}")
    for selector in (".orca-studio", ".orca-picker", ".orca-prompt textarea"):
        background, text = _colours(page, selector)
        if theme == "dark":
            assert background < 0.35, (selector, background)
            assert text > 0.6, (selector, text)
        else:
            assert background > 0.8, (selector, background)
            assert text < 0.4, (selector, text)
    page.get_by_role("tab", name="Assets").click()
    # the cards show the thumbnails the picker's chips already asked the kernel for
    page.locator(".orca-asset-card img[src^='data:image/jpeg']").nth(2).wait_for(timeout=30_000)
    background, text = _colours(page, ".orca-asset-card .text-body-2")
    assert (background < 0.35 < 0.6 < text) if theme == "dark" else (text < 0.4 < 0.8 < background)
    box = page.evaluate(
        "() => getComputedStyle(document.querySelector('.orca-asset-card > div')).backgroundColor"
    )
    assert box.startswith("rgba(")  # a tint of the theme's own text colour, not a fixed grey
    web.shot(f"assets-{theme}")
    assert voila_problems(page) == []


def _lab_theme(page: Page, name: str) -> None:
    page.get_by_role("menuitem", name="Settings", exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Theme", exact=True).click()
    page.locator(".lm-Menu-itemLabel").get_by_text(name, exact=True).click()
    light = "false" if "Dark" in name else "true"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")


def test_jupyterlab_dark_theme_reaches_the_studio(
    web: Web, lab_server: ServerProcess, notebook_root: Path
) -> None:
    page = web.page
    page.goto(f"{lab_server.base_url}/lab", timeout=120_000)
    page.locator(".jp-LabShell").first.wait_for(timeout=120_000)
    _lab_theme(page, "JupyterLab Dark")
    try:
        run_all_in_lab(page, lab_server, notebook_root, "studio.ipynb")
        page.locator(".orca-choice").first.wait_for(timeout=90_000)
        page.locator(".orca-studio").first.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        web.shot("lab-dark")
        for selector in (".orca-studio", ".orca-picker"):
            background, text = _colours(page, selector)
            assert background < 0.35, (selector, background)
            assert text > 0.6, (selector, text)
        # switching back to light is followed without re-running anything
        _lab_theme(page, "JupyterLab Light")
        page.wait_for_timeout(1000)
        background, text = _colours(page, ".orca-studio")
        assert background > 0.8
        assert text < 0.4
        web.shot("lab-light-again")
    finally:
        if page.evaluate("() => document.body.dataset.jpThemeLight") == "false":
            _lab_theme(page, "JupyterLab Light")  # the Lab server is shared with other tests
