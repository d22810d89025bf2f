"""The verify widget in a real JupyterLab: the H5 link never reaches a saved notebook (Lab saving
widget state), a stale link is offered again in one click, a failed check says why; at the asset
cap Upload is disabled with the reason."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Web
from tests.browser.pages import error_outputs, run_all_in_lab
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_SETTINGS = Path("lab/user-settings/@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings")


@pytest.fixture
def lab_saves_widget_state(server_env: dict[str, str]) -> Iterator[None]:
    """Turn on Lab's "Save Jupyter widget state in notebooks" for one test (off by default)."""
    path = Path(server_env["JUPYTER_CONFIG_DIR"]) / _SETTINGS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"saveState": true}\n')
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _notebook(root: Path, name: str, *cells: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, root / name)
    return name


def _link(page: Page, previous: str = "") -> str:
    """The link the widget shows (waits for one other than ``previous``)."""
    anchor = page.locator(".orca-verify-link").first
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if anchor.count() and anchor.is_visible():
            href = anchor.get_attribute("href") or ""
            if href and href != previous:
                return href
        time.sleep(0.2)
    raise TimeoutError("the verify widget showed no (new) link")


def _save(page: Page, path: Path) -> str:
    """Ctrl+S in Lab; the file's text once it has been written again."""
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            text = path.read_text()
            try:  # Lab writes the file in place: a read can catch it half-written
                json.loads(text)
            except json.JSONDecodeError:
                pass
            else:
                return text
        time.sleep(0.2)
    raise TimeoutError(f"{path.name} was not saved")


def _phone(link: str, choice: str) -> None:
    """The person's phone: consent and the (pretend) face scan on the sandbox's H5 page."""
    answer = httpx.post(link, data={"consent": "yes", "choice": choice}, follow_redirects=True)
    answer.raise_for_status()


def test_lab_saved_notebook_never_holds_the_verification_link(
    web: Web, lab_server: ServerProcess, notebook_root: Path, lab_saves_widget_state: None
) -> None:
    name = _notebook(
        notebook_root,
        "verify_secrets.ipynb",
        "from orca_nb.widgets import verify_person\n\nview = verify_person()\nview",
    )
    saved = run_all_in_lab(web.page, lab_server, notebook_root, name)
    assert error_outputs(saved) == []
    page = web.page
    page.get_by_role("button", name="Start verification").click()
    link = _link(page)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert len(token) >= 32
    web.shot("pending")
    pending = _save(page, notebook_root / name)
    assert WIDGET_STATE in pending  # Lab did save widget state: the check below has teeth
    assert token not in pending
    assert "/sandbox/h5/" not in pending
    # a reload mounts new views: they ask the kernel for the link (it is in no saved state)
    page.reload()
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    assert _link(page) == link
    web.shot("pending-after-reload")

    _phone(link, "ada")
    page.locator(".orca-verify-result", has_text="success").first.wait_for(timeout=60_000)
    page.locator(".orca-verify-result", has_text="New group: ada").first.wait_for(timeout=30_000)
    assert page.locator(".orca-verify-link").count() == 0
    web.shot("verified")
    done = _save(page, notebook_root / name)
    state = json.loads(done)["metadata"]["widgets"][WIDGET_STATE]["state"]
    assert any(m["state"].get("status") == "success" for m in state.values())
    assert token not in done
    assert "/sandbox/h5/" not in done
    assert web.page_errors == []


def test_stale_link_is_offered_again_in_one_click_and_a_failure_says_why(
    web: Web, lab_server: ServerProcess, notebook_root: Path
) -> None:
    name = _notebook(
        notebook_root,
        "verify_stale.ipynb",
        "import httpx\n\nfrom orca_nb.sandbox import ensure_embedded\n"
        "from orca_nb.widgets import verify_person\n\n"
        "admin = ensure_embedded().server.root_url + '/sandbox/admin/settings'\n"
        "httpx.post(admin, json={'session_ttl': 8}).raise_for_status()  # links last 8 s\n"
        "view = verify_person()\nview",
    )
    saved = run_all_in_lab(web.page, lab_server, notebook_root, name)
    assert error_outputs(saved) == []
    page = web.page
    page.get_by_role("button", name="Start verification").click()
    first = _link(page)
    page.locator(".orca-verify-expiry").first.wait_for(timeout=10_000)  # the countdown
    result = page.locator(".orca-verify-result", has_text="link expired").first
    result.wait_for(timeout=30_000)
    assert "expired" in page.locator(".orca-verify-reason").first.inner_text()
    assert page.locator(".orca-verify-link").count() == 0
    web.shot("stale")
    page.get_by_role("button", name="New link").click()  # one click
    second = _link(page, previous=first)
    assert second != first
    _phone(second, "two_faces")
    reason = page.locator(".orca-verify-reason", has_text="Two faces").first
    reason.wait_for(timeout=60_000)
    web.shot("failed-two-faces")
    assert page.locator(".orca-verify-result", has_text="failed").count() == 1
    assert web.page_errors == []


def test_upload_is_disabled_at_the_asset_cap_and_the_meter_names_candidates(
    web: Web, lab_server: ServerProcess, notebook_root: Path
) -> None:
    name = _notebook(
        notebook_root,
        "quota_cap.ipynb",
        "from IPython.display import display\n\n"
        "from orca_nb.widgets import live_store, quota_meter, upload_form\n\n"
        "store = live_store(asset_cap=3)  # the demo library alone is over this cap\n"
        "display(quota_meter(store))\nupload_form(store)",
    )
    saved = run_all_in_lab(web.page, lab_server, notebook_root, name)
    assert error_outputs(saved) == []
    page = web.page
    blocked = page.locator(".orca-upload-blocked").first
    blocked.wait_for(timeout=60_000)
    assert "the most it may have" in blocked.inner_text()
    assert page.locator(".orca-upload-button").first.is_disabled()
    page.locator(".orca-quota-candidate").first.wait_for(timeout=30_000)
    assert 1 <= page.locator(".orca-quota-candidate").count() <= 5
    assert "cap is reached" in page.locator(".orca-quota-message").first.inner_text()
    web.shot("at-cap")
    assert web.page_errors == []
