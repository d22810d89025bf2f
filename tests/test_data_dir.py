"""One data directory name across the package: the sandbox, the ledger and the experiments'
database default to files in ``<user data dir>/orca-nb``; a file an older version wrote under
``orca_nb`` is used where it is until the new directory has its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from orca_nb import wire


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("ORCA_NB_SANDBOX_DB", "ORCA_NB_LEDGER", "ORCA_NB_EXPERIMENTS_DB"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "data"


def test_every_default_file_is_in_the_one_directory(data_home: Path) -> None:
    from orca_nb.experiments.location import default_database_url
    from orca_nb.ledger import default_ledger_url
    from orca_nb.sandbox.embedded import default_db_path

    home = data_home / wire.DATA_DIR_NAME
    assert default_db_path() == str(home / "sandbox.sqlite3")
    assert default_ledger_url() == f"sqlite://{home / 'ledger.sqlite3'}"
    assert default_database_url() == f"sqlite:///{home / 'experiments.sqlite3'}"


def test_a_file_written_under_the_old_name_is_kept(data_home: Path) -> None:
    legacy = data_home / "orca_nb" / "ledger.sqlite3"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"")
    assert wire.data_file("ledger.sqlite3") == legacy
    assert wire.data_file("sandbox.sqlite3") == data_home / "orca-nb" / "sandbox.sqlite3"
    new = data_home / "orca-nb" / "ledger.sqlite3"
    new.parent.mkdir(parents=True)
    new.write_bytes(b"")
    assert wire.data_file("ledger.sqlite3") == new  # the new directory's own file wins
