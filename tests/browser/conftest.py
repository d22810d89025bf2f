"""Fixtures for browser tests: real Voilà and JupyterLab servers on loopback, system Chromium.

Servers and the browser are started once per test session and always stopped. Each test gets a
fresh browser context (`web`) that records console errors, page errors and dialogs, and saves a
screenshot to ``test-output/browser/`` when the test fails (and wherever the test calls `shot`).
Without ``/usr/bin/chromium`` the tests skip, unless ``CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from orca_nb import wire
from orca_nb.client import Orca
from orca_nb.sandbox import SandboxConfig, SandboxServer
from tests.browser.servers import REPO_ROOT, ServerProcess, isolated_env, start_lab, start_voila

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT_DIR = REPO_ROOT / "test-output" / "browser"
SERVER_START_SECONDS = 90.0
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()

# Console noise expected offline (see shared stack-notes): CDN fonts, version-range warnings.
_HARMLESS_CONSOLE = re.compile(
    r"font-?awesome|cdn\.jsdelivr|unpkg\.com|Failed to load resource|ERR_NAME_NOT_RESOLVED"
    r"|ERR_INTERNET_DISCONNECTED|favicon"
    # Voilà 0.5 bundles older JupyterLab modules; one Lab extension fails to federate there.
    r"|RUNTIME-012|shared module|@jupyter-notebook/lab-extension",
    re.IGNORECASE,
)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def require_chromium(path: Path, environ: Mapping[str, str]) -> Path:
    """`path` if it exists; otherwise skip the test, or fail it when ``CI`` is set."""
    if not path.exists():
        reason = f"{path} is missing: install Debian's chromium (apt-get install chromium)"
        if environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="package")
def chromium() -> Path:
    """The system Chromium; skip without it locally, fail without it in CI."""
    return require_chromium(CHROMIUM, os.environ)


@pytest.fixture(scope="package")
def browser_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private home for the servers: Jupyter dirs, sandbox DB, logs, notebook copies."""
    return tmp_path_factory.mktemp("browser-home")


@pytest.fixture(scope="package")
def sandbox_db(browser_home: Path) -> Path:
    """The SQLite file the kernels' embedded sandboxes share (and `sandbox_client` writes to)."""
    return browser_home / "sandbox.sqlite3"


@pytest.fixture(scope="package")
def server_env(browser_home: Path, sandbox_db: Path) -> dict[str, str]:
    """The environment every server and kernel gets (see `isolated_env`)."""
    return isolated_env(browser_home / "jupyter", sandbox_db)


@pytest.fixture(scope="package")
def sandbox_client(sandbox_db: Path) -> Iterator[Orca]:
    """A client on the demo account of the same sandbox database the kernels use, so what a test
    creates here shows up in the next page it opens."""
    with (
        SandboxServer(SandboxConfig(db_path=str(sandbox_db))) as server,
        Orca(api_key=wire.DEFAULT_SANDBOX_KEY, base_url=server.base_url) as client,
    ):
        yield client


@pytest.fixture(scope="package")
def notebook_root(browser_home: Path) -> Path:
    """A throw-away copy of ``notebooks/`` that the servers serve (Lab may save into it)."""
    root = browser_home / "notebooks"
    root.mkdir()
    for nb in (REPO_ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy2(nb, root / nb.name)
    for nb in (Path(__file__).parent / "notebooks").glob("*.ipynb"):
        shutil.copy2(nb, root / nb.name)
    return root


def _serve(server: ServerProcess) -> Iterator[ServerProcess]:
    try:
        server.wait_for_port(SERVER_START_SECONDS)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def voila_server(
    chromium: Path, notebook_root: Path, server_env: dict[str, str], browser_home: Path
) -> Iterator[ServerProcess]:
    """A real Voilà serving `notebook_root` on a free loopback port."""
    yield from _serve(start_voila(notebook_root, server_env, browser_home))


@pytest.fixture(scope="package")
def lab_server(
    chromium: Path, notebook_root: Path, server_env: dict[str, str], browser_home: Path
) -> Iterator[ServerProcess]:
    """A real JupyterLab on `notebook_root` on a free loopback port."""
    yield from _serve(start_lab(notebook_root, server_env, browser_home))


@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[Browser]:
    """System Chromium driven by Playwright (its own browser download does not work offline)."""
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class Web:
    """A page plus what it reported: console errors, uncaught page errors, dialogs opened."""

    page: Page
    test_name: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def shot(self, step: str) -> Path:
        """Save a full-page screenshot of this step under ``test-output/browser/``."""
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUTPUT_DIR / f"{self.test_name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def requests_beside(self, server_url: str) -> list[str]:
        """Requests the page sent to loopback addresses other than `server_url`: media URLs only
        the kernel's machine can reach (they would break with a remote kernel, e.g. Binder)."""
        loopback = ("http://127.0.0.1", "http://localhost", "http://[::1]")
        return [u for u in self.requests if u.startswith(loopback) and not u.startswith(server_url)]

    def serious_console_errors(self) -> list[str]:
        """Console errors minus the known offline noise."""
        return [e for e in self.console_errors if not _HARMLESS_CONSOLE.search(e)]


@pytest.fixture
def web(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Web]:
    """A fresh browser context and page for one test; screenshot on failure."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    watched = Web(page=page, test_name=name)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            watched.console_errors.append(msg.text)

    def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watched.page_errors.append(str(exc)))
    page.on("dialog", on_dialog)
    page.on("request", lambda req: watched.requests.append(req.url))
    try:
        yield watched
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(r.failed for r in reports.values()):
            try:
                watched.shot("failure")
            except Exception as exc:  # the page may be gone; the failure itself matters more
                print(f"could not save failure screenshot: {exc}")
        context.close()
