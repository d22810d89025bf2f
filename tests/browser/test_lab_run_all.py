"""JupyterLab: Run All of a notebook whose live panels refresh while later cells run."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from tests.browser.conftest import Web
from tests.browser.pages import error_outputs, lab_prompts, run_all_in_lab
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser

# Notebook 7.6 page errors that are not ours: the first on opening any notebook here (a bare one
# too), the second from its file browser restoring the workspace the Lab test left on the server.
_NOTEBOOK7_NOISE = (
    "Cannot read properties of undefined (reading 'schema')",
    "Command 'filebrowser:open-path' not registered.",
)


def test_run_all_of_the_library_tour_completes_every_cell(
    web: Web, lab_server: ServerProcess, notebook_root: Path
) -> None:
    saved = run_all_in_lab(web.page, lab_server, notebook_root, "library_tour.ipynb")
    web.shot("run-all-done")
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), counts
    assert error_outputs(saved) == []
    assert all("*" not in p for p in lab_prompts(web.page))
    # the panels above kept refreshing: the group a later cell created shows up in them
    web.page.locator(".orca-group-row", has_text="Props").first.wait_for(timeout=60_000)
    assert web.page_errors == []


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_studio_notebook_runs_and_renders_in_lab_and_notebook_7(
    web: Web, lab_server: ServerProcess, notebook_root: Path, app: Literal["lab", "notebook"]
) -> None:
    saved = run_all_in_lab(web.page, lab_server, notebook_root, "studio.ipynb", app=app)
    assert error_outputs(saved) == []
    web.page.locator(".orca-picker").first.wait_for(timeout=60_000)
    web.page.locator(".orca-choice").first.wait_for(timeout=90_000)  # the live store loaded
    web.shot(f"studio-in-{app}")
    assert "Error displaying widget" not in web.page.inner_text("body")
    noise = _NOTEBOOK7_NOISE if app == "notebook" else ()
    assert [e for e in web.page_errors if e not in noise] == []
