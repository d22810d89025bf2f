"""No leaked kernels: reloading the studio's Voilà page five times leaves one kernel, because the
page's shutdown beacon is accepted (its ``_xsrf`` cookie is set), and the server the launcher
starts culls kernels no page is connected to."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest
from playwright.sync_api import Page

from orca_nb.widgets.servers import VOILA_CULL_IDLE_SECONDS, cull_flags
from tests.browser.conftest import Web, _serve
from tests.browser.pages import open_voila
from tests.browser.servers import ServerProcess, start_voila

pytestmark = pytest.mark.browser

STUDIO = "studio.ipynb"


@pytest.fixture
def own_voila(
    chromium: Path, notebook_root: Path, server_env: dict[str, str], browser_home: Path
) -> Iterator[ServerProcess]:
    """A Voilà server of this test's own: pages other tests closed without a beacon (a closed
    browser context sends none) leave kernels on the shared server until it culls them."""
    yield from _serve(start_voila(notebook_root, server_env, browser_home))


#: The never-connected test's server culls after this long (the launcher's 60 s, shortened so
#: the suite does not wait a minute; the rule under test is the same).
QUICK_CULL_SECONDS = 20


@pytest.fixture
def quick_cull_voila(
    chromium: Path, notebook_root: Path, server_env: dict[str, str], browser_home: Path
) -> Iterator[ServerProcess]:
    """Like :func:`own_voila`, culling unwatched kernels after :data:`QUICK_CULL_SECONDS`."""
    flags = cull_flags(QUICK_CULL_SECONDS, 3)
    yield from _serve(start_voila(notebook_root, server_env, browser_home, flags))


def kernels(server: ServerProcess) -> list[psutil.Process]:
    """The kernel processes the server has running now."""
    found = []
    for proc in server.descendants():
        try:
            if "ipykernel_launcher" in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_for_kernels(server: ServerProcess, n: int, timeout: float = 45.0) -> int:
    """Wait until the server runs ``n`` kernels; return how many it runs at the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = len(kernels(server))
        if count == n:
            return count
        time.sleep(0.25)
    return len(kernels(server))


def studio_shown(page: Page, timeout_s: float = 120.0) -> None:
    """Wait until the studio widget itself is rendered. Not the text alone: the notebook's
    markdown says "In *References and prompt*, click ..." and Voilà shows it once the cells ran,
    before the widget manager has connected to the kernel (and set up the shutdown beacon)."""
    title = page.locator(".orca-picker").get_by_text("References and prompt")
    title.first.wait_for(state="visible", timeout=timeout_s * 1000)


def test_five_reloads_leave_one_kernel(web: Web, own_voila: ServerProcess) -> None:
    voila_server = own_voila
    forbidden: list[str] = []
    beacons: list[str] = []

    def on_response(r: Any) -> None:
        if "/voila/api/shutdown/" in r.url:
            beacons.append(f"{r.status} {r.url.rsplit('/', 1)[-1]}")
            if r.status >= 400:
                forbidden.append(r.url)

    web.page.on("response", on_response)
    open_voila(web.page, voila_server, STUDIO, "References and prompt")
    studio_shown(web.page)
    assert wait_for_kernels(voila_server, 1) == 1
    assert any(c["name"] == "_xsrf" for c in web.page.context.cookies())
    for _ in range(5):
        # as a person reloads: once the studio is on screen, i.e. the page's widget manager is
        # connected to its kernel and has set up the beacon that ends that kernel on unload
        web.page.reload()
        studio_shown(web.page)
    # a page reloaded before its widget manager set up the beacon would leave its kernel: the
    # server culls it once idle for VOILA_CULL_IDLE_SECONDS
    left = wait_for_kernels(voila_server, 1, VOILA_CULL_IDLE_SECONDS + 30)
    assert left == 1, f"{left} kernels left; beacons {beacons}:\n{_shutdowns(voila_server)}"
    web.page.goto("about:blank")  # closing the page ends its kernel too
    assert wait_for_kernels(voila_server, 0) == 0, "closing the page left its kernel"
    assert forbidden == []
    assert "_xsrf" not in voila_server.log_tail(200_000)


def _shutdowns(server: ServerProcess) -> str:
    lines = server.log_tail(400_000).splitlines()
    return "\n".join(x[:160] for x in lines if "shutdown" in x.lower() or "kernel" in x.lower())


def test_kernel_of_a_page_that_never_connected_is_culled(
    web: Web, quick_cull_voila: ServerProcess
) -> None:
    """A page gone before its widget manager connected (no websocket, no beacon) leaves its
    kernel; the server's page kernel manager ends it once no page has watched it for the cull
    time (the launcher's VOILA_CULL_IDLE_SECONDS; here QUICK_CULL_SECONDS), whatever widget
    updates the studio still sends."""
    own_voila = quick_cull_voila
    web.page.route("**/api/kernels/*", lambda route: route.abort())  # the widget manager's
    open_voila(web.page, own_voila, STUDIO, "References and prompt")  # first call: it gives up
    assert wait_for_kernels(own_voila, 1) == 1
    web.page.unroute("**/api/kernels/*")
    web.page.reload()
    studio_shown(web.page)
    started = time.monotonic()
    assert wait_for_kernels(own_voila, 1, QUICK_CULL_SECONDS + 40) == 1, _shutdowns(own_voila)
    assert time.monotonic() - started >= QUICK_CULL_SECONDS - 8  # culled, not beaconed
    assert "no page connected" in own_voila.log_tail(400_000)
    web.page.goto("about:blank")
    assert wait_for_kernels(own_voila, 0) == 0
