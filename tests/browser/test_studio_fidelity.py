"""What the studio says about the service, as a person sees it in JupyterLab: the model list the
service gives, the request's estimated tokens before Submit, and the balance beside the count."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.browser.conftest import Web
from tests.browser.pages import error_outputs, run_all_in_lab
from tests.browser.servers import ServerProcess

pytestmark = pytest.mark.browser


def test_studio_shows_discovered_models_the_estimate_and_the_balance(
    web: Web, lab_server: ServerProcess, notebook_root: Path
) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("from orca_nb.widgets import studio\n\nstudio()")]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, notebook_root / "studio_fidelity.ipynb")
    saved = run_all_in_lab(web.page, lab_server, notebook_root, "studio_fidelity.ipynb")
    assert error_outputs(saved) == []
    page = web.page
    balance = page.locator(".orca-balance").first
    balance.wait_for(timeout=60_000)
    assert re.search(r"[\d,]+\.\d\d USD left", balance.inner_text())
    estimate = page.locator(".orca-estimate").first
    estimate.wait_for(timeout=30_000)
    first = estimate.inner_text()
    assert re.search(r"about [\d,]+ tokens", first)
    assert page.locator(".orca-model-note").count() == 0  # the service's list, not the table
    page.locator(".orca-model").first.click()
    options = page.locator(".v-overlay .v-list-item")
    options.first.wait_for(timeout=10_000)
    names = options.all_inner_texts()
    assert any("seedance" in n.lower() for n in names), names
    assert not any("not available" in n for n in names)  # only routable ones are offered
    page.keyboard.press("Escape")
    web.shot("studio-models-estimate-balance")
    # a longer video is a bigger request: the estimate follows the form
    page.locator(".orca-studio .v-select", has_text="Seconds").first.click()
    page.locator(".v-overlay .v-list-item", has_text=re.compile(r"^\s*10\s*$")).first.click()
    page.wait_for_function(
        "before => document.querySelector('.orca-estimate').innerText !== before", arg=first
    )
    assert estimate.inner_text() != first
    assert web.page_errors == []
