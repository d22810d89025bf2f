"""An experiment in a real Jupyter kernel (nbclient): cells run inside the kernel's event loop,
where DBOS refuses its blocking calls, and a re-run cell must not send anything twice."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO_ROOT = Path(__file__).parents[2]

CELLS = [
    """
from orca_nb import Orca, wire
from orca_nb.compose import Selection, build_request
from orca_nb.experiments import Experiment
client = Orca()  # the embedded sandbox
body = build_request(wire.SEEDANCE_2, "a lighthouse", Selection(), ratio="1:1",
                     resolution="480p", duration=4)
exp = Experiment.grid(body, name="in a kernel", prompts=["a lighthouse", "a harbour"],
                      seed=[1, 2])
run = exp.start(client, concurrency=2, per_minute=600, polling_interval=0.1, poll_interval=0.1)
""",
    "run.wait(120)",
    "again = exp.start(client); again.wait(30)",  # the cell run again
    """
import asyncio
progress = await run.progress_async()
assert progress.succeeded == 4, progress
assert again.task_ids() == run.task_ids()
assert len(set(run.task_ids().values())) == 4
print("tasks", len(run.task_ids()), "frame", run.results().shape)
""",
]


@pytest.mark.slow
def test_an_experiment_runs_in_a_jupyter_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCA_NB_SANDBOX_DB", ":memory:")
    monkeypatch.setenv("ORCA_NB_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("ORCA_NB_EXPERIMENTS_DB", f"sqlite:///{tmp_path / 'experiments.sqlite3'}")
    monkeypatch.delenv("ORCAROUTER_API_KEY", raising=False)
    monkeypatch.delenv("ORCAROUTER_BASE_URL", raising=False)
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    last = nb.cells[-1].outputs
    assert any("tasks 4 frame (4," in o.get("text", "") for o in last), last
    errors = [o for c in nb.cells for o in c.outputs if o.get("output_type") == "error"]
    assert errors == []
