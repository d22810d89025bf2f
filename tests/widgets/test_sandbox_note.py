"""The studio names the sandbox itself, so the client's stderr note is not shown twice."""

from __future__ import annotations

import os
import subprocess
import sys

NOTE = "no API key set, so using the embedded OrcaRouter sandbox"


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCAROUTER_")}
    env |= {"ORCA_NB_SANDBOX_DB": ":memory:", "ORCA_NB_LEDGER": "off"}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_default_widget_client_leaves_the_note_to_the_sandbox_chip() -> None:
    done = run("import orca_nb.widgets as w; print(w.live_store().client.is_sandbox)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert NOTE not in done.stderr


def test_a_plain_client_still_says_it_is_the_sandbox() -> None:
    done = run("from orca_nb import Orca; Orca().close()")
    assert done.returncode == 0, done.stderr
    assert NOTE in done.stderr
