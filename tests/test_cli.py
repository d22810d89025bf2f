"""The ``orca-nb`` dispatcher: every room's subcommand is listed, and building one command
imports that room only (typed local imports, no module-name strings)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orca_nb import cli


def test_every_subcommand_is_offered() -> None:
    parser = cli.build_parser()
    (sub,) = (a for a in parser._actions if a.dest == "command")
    assert list(sub.choices or ()) == ["sandbox", "studio", "report", "worker", "experiment"]
    assert list(sub.choices or ()) == list(cli._COMMANDS)


def test_an_unknown_command_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="sandbox, studio, report, worker, experiment"):
        cli._add_parser("nope")


def test_building_one_command_imports_only_its_room() -> None:
    code = (
        "import sys\n"
        "from orca_nb.cli import build_parser\n"
        "build_parser('report')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('orca_nb.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert "orca_nb.reports.cli" in out
    for other in ("orca_nb.widgets", "orca_nb.sandbox", "orca_nb.experiments", "orca_nb.client"):
        assert not any(m == other or m.startswith(other + ".") for m in out), (other, out)
