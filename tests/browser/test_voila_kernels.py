"""No leaked kernels: reloading the studio's Voilà page five times leaves one kernel, because the
page's shutdown beacon is accepted (its ``_xsrf`` cookie is set), and the server the launcher
starts culls kernels no page is connected to."""

from __future__ import annotations

import time

import psutil  # type: ignore[import-untyped]
import pytest

from tests.browser.conftest import Web
from tests.browser.pages import open_voila
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

STUDIO = "studio.ipynb"


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


def test_five_reloads_leave_one_kernel(web: Web, voila_server: ServerProcess) -> None:
    forbidden: list[str] = []
    web.page.on(
        "response",
        lambda r: (
            forbidden.append(r.url) if "/voila/api/shutdown/" in r.url and r.status >= 400 else None
        ),
    )
    open_voila(web.page, voila_server, STUDIO, "References and prompt")
    assert wait_for_kernels(voila_server, 1) == 1
    assert any(c["name"] == "_xsrf" for c in web.page.context.cookies())
    for _ in range(5):
        web.page.reload()
        web.page.get_by_text("References and prompt").first.wait_for(timeout=120_000)
    left = wait_for_kernels(voila_server, 1)
    assert left == 1, f"{left} kernels left running:\n{_shutdowns(voila_server)}"
    web.page.goto("about:blank")  # closing the page ends its kernel too
    assert wait_for_kernels(voila_server, 0) == 0, "closing the page left its kernel"
    assert forbidden == []
    assert "_xsrf" not in voila_server.log_tail(200_000)


def _shutdowns(server: ServerProcess) -> str:
    lines = server.log_tail(400_000).splitlines()
    return "\n".join(x[:160] for x in lines if "shutdown" in x.lower() or "kernel" in x.lower())
