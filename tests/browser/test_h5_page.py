"""The sandbox's H5 verification page driven in real headless Chromium (Playwright, system
browser). Browser tests live in tests/browser/."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import SandboxServer
from tests.sandbox.conftest import client_for
from tests.sandbox.helpers import static_server

pytestmark = [
    pytest.mark.browser,
]


@pytest.fixture
def api(sandbox_server: SandboxServer, sandbox_key: str) -> Iterator[httpx.Client]:
    """httpx on ``/v1`` as the test account (as in tests/sandbox)."""
    with client_for(sandbox_server, sandbox_key) as client:
        yield client


def start(api: httpx.Client, body: dict[str, str]) -> dict[str, str]:
    response = api.post(wire.SESSIONS_PATH, json=body)
    assert response.status_code == 200
    return dict(response.json())


def test_browser_completes_a_verification(
    browser: object, api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    started = start(api, {})
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(started["h5_link"])
        assert page.locator("img[alt='ada']").evaluate("i => i.naturalWidth") > 0
        page.locator("#choice-ada").check()
        page.locator("#scan").click()
        page.wait_for_load_state()
        assert (
            page.locator("[role=alert]").inner_text() == "Please tick the consent box to continue."
        )
        page.locator("#consent").check()
        page.locator("#choice-ada").check()
        page.locator("#scan").click()
        page.wait_for_url("**/done")
        assert page.locator("#headline").inner_text() == "Verification complete"
        group_id = page.locator("#result-group").inner_text()
    finally:
        page.close()
    polled = api.get(wire.SESSION_PATH.format(session_id=started["session_id"])).json()
    assert polled == {**polled, "status": "success", "group_id": group_id}
    group = api.get(wire.GROUP_PATH.format(group_id=group_id)).json()
    assert group["GroupType"] == "LivenessFace"


def test_browser_rejected_look_returns_to_the_app(
    browser: object, api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    pages = {"/back": b"<!doctype html><title>back in the app</title><p id='app'>app</p>"}
    with static_server(pages) as app_root:
        started = start(api, {"return_url": app_root + "/back"})
        page = browser.new_page()  # type: ignore[attr-defined]
        try:
            page.goto(started["h5_link"])
            page.locator("#consent").check()
            page.locator("#choice-two_faces").check()
            page.locator("#scan").click()
            page.wait_for_url(app_root + "/back?**")
            query = parse_qs(urlsplit(page.url).query, keep_blank_values=True)
            assert page.locator("#app").inner_text() == "app"
            # the link is single use: going back to it shows the outcome, not the form
            page.goto(started["h5_link"])
            assert page.locator("#headline").inner_text() == "Verification rejected"
            assert page.locator("#consent").count() == 0
        finally:
            page.close()
    assert query["status"] == ["failed"]
    assert query["session_id"] == [started["session_id"]]
    assert query["group_id"] == [""]
    polled = api.get(wire.SESSION_PATH.format(session_id=started["session_id"])).json()
    assert polled["error"]["code"] == wire.ASSET_ERROR_MULTIPLE_FACES
    assert api.get(wire.GROUPS_PATH).json()["TotalCount"] == 0
