"""The ``orca-nb`` dispatcher: every room's subcommand is listed, and building one command
imports that room only (typed local imports, no module-name strings)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orca_nb import cli, wire

#: Builds the ``report`` command alone and prints the orca_nb modules that loaded.
REPORT_ONLY = "; ".join(
    (
        "import sys",
        "from orca_nb.cli import build_parser",
        "build_parser('report')",
        "print(*sorted(m for m in sys.modules if m.startswith('orca_nb.')))",
    )
)


def test_every_subcommand_is_offered() -> None:
    parser = cli.build_parser()
    (sub,) = (a for a in parser._actions if a.dest == "command")
    assert list(sub.choices or ()) == ["sandbox", "studio", "report", "worker", "experiment"]
    assert list(sub.choices or ()) == list(cli._COMMANDS)


def test_an_unknown_command_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="sandbox, studio, report, worker, experiment"):
        cli._add_parser("nope")


def test_building_one_command_imports_only_its_room() -> None:
    out = subprocess.check_output([sys.executable, "-c", REPORT_ONLY], text=True, timeout=120)
    loaded = out.split()
    assert "orca_nb.reports.cli" in loaded
    for other in ("orca_nb.widgets", "orca_nb.sandbox", "orca_nb.experiments", "orca_nb.client"):
        assert not any(m == other or m.startswith(other + ".") for m in loaded), (other, loaded)


def test_a_failing_subcommand_says_why_in_one_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert wire.command_failed("experiment export", KeyError("no experiment 'x'")) == 2
    assert capsys.readouterr().err == "orca-nb experiment export: no experiment 'x'\n"
    assert wire.command_failed("worker", "cannot start: no key", status=3) == 3
    captured = capsys.readouterr()
    assert captured.err == "orca-nb worker: cannot start: no key\n"
    assert captured.out == ""
