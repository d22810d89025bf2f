"""Group types as a person sees them in the studio (Voilà): the groups' chips, the upload form's
group list and the quota line say the words of ``wire.group_type_label`` (issue 11), the same
values the DataFrames and reports carry."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from orca_nb import wire
from tests.browser.conftest import Web
from tests.browser.pages import open_voila, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

VIRTUAL, REAL = (wire.group_type_label(t) for t in ("AIGC", "LivenessFace"))


def _open_studio(web: Web, server: ServerProcess) -> Page:
    open_voila(web.page, server, "studio.ipynb", "References and prompt")
    web.page.locator(".orca-choice").first.wait_for(timeout=90_000)
    return web.page


def test_groups_upload_and_quota_say_the_same_group_type_words(
    web: Web, voila_server: ServerProcess
) -> None:
    page = _open_studio(web, voila_server)
    quota = page.locator(".orca-quota-types").first
    quota.wait_for(timeout=30_000)
    text = quota.inner_text()
    assert text.startswith(f"{VIRTUAL} "), text
    assert f" · {REAL} " in text, text
    page.get_by_role("tab", name="Groups").click()
    chips = page.locator(".orca-group-type")
    chips.first.wait_for(timeout=30_000)
    words = set(chips.all_inner_texts())
    assert words == {VIRTUAL, REAL}, words  # the demo library has both types
    create = page.locator(".v-label", has_text=f"New {VIRTUAL} group")
    assert create.count() >= 1  # the only type a group can be created as
    page.get_by_role("tab", name="Upload").click()
    group = page.locator(".orca-upload .v-select", has_text="Group").first
    group.locator(".v-field").first.click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10_000)
    titles = options.all_inner_texts()
    assert any(t.endswith(f" · {REAL}") for t in titles), titles
    assert any(t.endswith(f" · {VIRTUAL}") for t in titles), titles
    page.wait_for_timeout(600)  # the list's opening transition, for the screenshot
    web.shot("group-type-words")
    assert voila_problems(page) == []
