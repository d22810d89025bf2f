"""An experiment names its service as the ledger does: the sandbox on this machine is
``sandbox:local`` (not the loopback port of the kernel that started it), in its db and in the
export's header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orca_nb.client import Orca
from orca_nb.experiments import Experiment, start
from orca_nb.ledger.service import SANDBOX_SERVICE
from tests.experiments.conftest import BODY


def test_an_experiment_on_the_sandbox_names_it_sandbox_local(
    client: Orca, fast: dict[str, Any], tmp_path: Path
) -> None:
    assert client.ledger_service == SANDBOX_SERVICE
    run = start(Experiment.grid(BODY, name="service name", seed=[1]), client, **fast)
    assert run.wait(60).finished == 1
    text = run.export_html(tmp_path / "exp.html", posters=False).path.read_text("utf-8")
    assert f"service {SANDBOX_SERVICE}" in text
    assert client.base_url not in text  # the port of this kernel's sandbox is not shown
