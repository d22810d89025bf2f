"""Where the system database lives by default, and a light ``orca-nb`` / package import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orca_nb.experiments.location import DATABASE_ENV, default_database_url
from orca_nb.experiments.runtime import Settings


def test_default_is_beside_the_sqlite_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    monkeypatch.setenv("ORCA_NB_LEDGER", f"sqlite://{tmp_path / 'team' / 'ledger.sqlite3'}")
    assert default_database_url() == f"sqlite:///{tmp_path / 'team' / 'experiments.sqlite3'}"
    assert (tmp_path / "team").is_dir()


def test_a_postgresql_ledger_shares_its_server_and_the_variable_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    monkeypatch.setenv("ORCA_NB_LEDGER", "postgresql://team@db.example:5432/orca")
    assert default_database_url() == "postgresql://team@db.example:5432/orca"
    monkeypatch.setenv(DATABASE_ENV, "sqlite:///elsewhere.sqlite3")
    assert default_database_url() == "sqlite:///elsewhere.sqlite3"


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="polling_interval must be a number of seconds > 0"):
        Settings("sqlite:///x", polling_interval=0)


def test_the_cli_and_the_package_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from orca_nb import cli\n"
        "cli.build_parser()\n"
        "import orca_nb.experiments as e\n"
        "print(','.join(m for m in ('dbos', 'sqlalchemy') if m in sys.modules))\n"
        "e.Experiment\n"
        "print(','.join(m for m in ('dbos', 'sqlalchemy') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["", ""]  # defining experiments needs no DBOS either
