"""The experiment progress widget in a real page: notebooks/experiments.ipynb as Voilà renders it
(the sweep runs in the page's kernel; the widget reaches 6 of 6 without widget errors)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Web
from tests.browser.pages import open_voila, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser


def test_the_walkthrough_shows_the_sweep_finishing(web: Web, voila_server: ServerProcess) -> None:
    page = web.page
    open_voila(page, voila_server, "experiments.ipynb", "6 of 6 videos finished", timeout_s=240)
    card = page.locator(".orca-experiment")
    assert card.locator(".orca-experiment-title").inner_text() == "lighthouse moods"
    assert card.locator(".orca-experiment-state").inner_text().strip() == "done"
    assert card.locator(".orca-experiment-chip").all_inner_texts() == ["6 succeeded"]
    tokens = card.locator(".orca-experiment-tokens").inner_text()
    assert "tokens spent" in tokens
    assert "243,564 estimated" in tokens
    assert card.locator(".orca-experiment-error").count() == 0
    web.shot("experiment-progress")
    assert voila_problems(page) == []
    assert web.page_errors == []
    assert web.serious_console_errors() == []
    assert web.requests_beside(voila_server.base_url) == []
