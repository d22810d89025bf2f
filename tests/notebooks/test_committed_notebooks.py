"""The committed notebooks are clean: outputs only where nbval checks them, no widget state,
no sandbox verification link or API key anywhere, and every documented notebook is present.

(Running them is ``pytest --nbval-lax notebooks/``; refreshing the checked outputs is
``python -m tests.notebooks.refresh notebooks/NAME.ipynb``.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.notebooks.refresh import CHECK_MARK, is_checked

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OURS = ("quickstart.ipynb", "library_tour.ipynb", "studio.ipynb", "real_human_verification.ipynb")
SECRET = re.compile(r"sk-orca-[A-Za-z0-9._-]+|/sandbox/h5/|h5_link|session_id=")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((NOTEBOOKS / name).read_text())
    return data


@pytest.mark.parametrize("name", OURS)
def test_notebook_is_committed_clean(name: str) -> None:
    nb = _load(name)
    assert "widgets" not in nb["metadata"], "widget state is saved; strip metadata.widgets"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    for cell in code:
        source = "".join(cell["source"])
        if is_checked(source):
            assert cell["outputs"], f"checked cell has no stored output:\n{source}"
        else:
            assert cell["outputs"] == [], f"unchecked cell keeps outputs:\n{source}"
            assert cell["execution_count"] is None
        assert "widgets" not in cell.get("metadata", {})


@pytest.mark.parametrize("name", OURS)
def test_no_key_or_verification_link_in_any_output(name: str) -> None:
    for cell in _load(name)["cells"]:
        text = json.dumps(cell.get("outputs", []))
        assert not SECRET.search(text), f"secret-looking text in an output: {SECRET.search(text)}"


@pytest.mark.parametrize("name", OURS)
def test_notebook_says_it_runs_on_the_sandbox(name: str) -> None:
    first = "".join(_load(name)["cells"][0]["source"]).lower()
    assert "sandbox" in first
    assert "real service" in first


def test_check_mark_is_what_nbval_looks_for() -> None:
    assert CHECK_MARK == "# NBVAL_CHECK_OUTPUT"
    assert is_checked("# NBVAL_CHECK_OUTPUT\n1 + 1")
    assert not is_checked("1 + 1  # NBVAL_CHECK_OUTPUT is mentioned later")
