"""JupyterLab: Run All of a notebook whose live panels refresh while later cells run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Web
from tests.browser.pages import error_outputs, lab_prompts, run_all_in_lab
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser


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
