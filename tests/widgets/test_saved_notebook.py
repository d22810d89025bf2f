"""A verification started and finished from the widget leaves no H5 link or session token in the
saved notebook, even when the executor stores widget state (nbclient ``store_widget_state``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO_ROOT = Path(__file__).resolve().parents[2]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

_START = """\
import os
from pathlib import Path

from orca_nb.widgets import settle, verify_person

view = verify_person()
view"""
_CLICK = """\
view.vue_start()  # what the "Start verification" button does
await settle()
# the test (not the notebook) learns the secrets, to look for them in the saved file
Path(os.environ["ORCA_TEST_SECRETS"]).write_text(view.state.session_id + "\\n" + view.state.link)
view.status, view.has_link"""
_PHONE = """\
import asyncio

import httpx

async with httpx.AsyncClient() as phone:  # the person's phone sends the H5 form
    answer = await phone.post(
        view.state.link, data={"consent": "yes", "choice": "ada"}, follow_redirects=True
    )
answer.raise_for_status()
for _ in range(300):
    if view.status != "pending" and view.group_name:
        break
    await asyncio.sleep(0.1)
view.status, view.has_link, view.group_name"""


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, complete: bool) -> tuple[str, str]:
    secrets = tmp_path / "secrets.txt"
    monkeypatch.setenv("ORCA_TEST_SECRETS", str(secrets))
    monkeypatch.setenv("ORCA_NB_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("ORCA_NB_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.delenv("ORCAROUTER_API_KEY", raising=False)
    monkeypatch.delenv("ORCAROUTER_BASE_URL", raising=False)
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    cells = [_START, _CLICK] + ([_PHONE] if complete else [])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(
        nb, timeout=300, store_widget_state=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    return path.read_text(), secrets.read_text()


def _outputs(saved: str) -> list[str]:
    nb = json.loads(saved)
    return [json.dumps(o) for c in nb["cells"] for o in c.get("outputs", [])]


@pytest.mark.parametrize("complete", [True, False], ids=["completed", "still-pending"])
def test_saved_notebook_with_widget_state_holds_no_link_or_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, complete: bool
) -> None:
    saved, secrets = _run(tmp_path, monkeypatch, complete=complete)
    session_id, link = secrets.split("\n")
    assert len(session_id) >= 32
    assert link.startswith("http://127.0.0.1:")
    assert session_id in link
    assert WIDGET_STATE in saved  # the executor did record widget state: the test has teeth
    state = json.loads(saved)["metadata"]["widgets"][WIDGET_STATE]["state"]
    verify = [m for m in state.values() if "has_link" in m.get("state", {})]
    assert len(verify) == 1
    assert verify[0]["state"]["consent"]  # the view's own traits were saved
    assert session_id not in saved
    assert link not in saved
    assert "/sandbox/h5/" not in saved
    outputs = _outputs(saved)
    assert any("'pending', True" in o for o in outputs)  # the link was live in the kernel
    if complete:
        assert any("'success', False, 'ada" in o for o in outputs), outputs
