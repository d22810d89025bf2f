"""The harness itself: both servers serve widgets to real Chromium; clicks reach the kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import Web
from tests.browser.pages import error_outputs, open_voila, run_all_in_lab, voila_problems
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser


def test_voila_renders_widgets_and_clicks_reach_the_kernel(
    web: Web, voila_server: ServerProcess
) -> None:
    open_voila(web.page, voila_server, "harness_smoke.ipynb", "harness ready")
    web.page.get_by_role("button", name="Press me").click()
    clicks = web.page.get_by_label("clicks")
    clicks.wait_for()
    for _ in range(40):
        if clicks.input_value() == "1":
            break
        web.page.wait_for_timeout(250)
    assert clicks.input_value() == "1"
    assert voila_problems(web.page) == []
    assert web.page_errors == []


def test_lab_run_all_gives_every_cell_a_count(
    web: Web, lab_server: ServerProcess, notebook_root: Path
) -> None:
    saved = run_all_in_lab(web.page, lab_server, notebook_root, "harness_smoke.ipynb")
    counts = [c["execution_count"] for c in saved["cells"] if c["cell_type"] == "code"]
    assert counts == [1, 2]
    assert error_outputs(saved) == []
