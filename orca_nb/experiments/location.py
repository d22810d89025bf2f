"""Where the experiments' system database lives (no heavy imports: the CLI reads this)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from orca_nb import wire

#: Environment variable naming the experiments' system database (a SQLAlchemy-style URL).
DATABASE_ENV: Final = "ORCA_NB_EXPERIMENTS_DB"
_FILE_NAME: Final = "experiments.sqlite3"


def default_database_url() -> str:
    """``$ORCA_NB_EXPERIMENTS_DB``; else the ledger's PostgreSQL server when the ledger is one
    (a team shares queues where it shares its ledger); else ``experiments.sqlite3`` beside the
    ledger's SQLite file (the user data dir when the ledger is off or in memory)."""
    configured = os.environ.get(DATABASE_ENV, "").strip()
    if configured:
        return configured
    from orca_nb.ledger import default_ledger_disabled, default_ledger_url

    ledger = "" if default_ledger_disabled() else default_ledger_url()
    if ledger.startswith(("postgresql://", "postgres://")):
        return ledger
    directory: Path | None = None
    if ledger.startswith("sqlite://"):
        path = ledger[len("sqlite://") :]
        if path not in ("/:memory:", ":memory:", ""):
            directory = Path(path[1:] if path.startswith("//") else path).expanduser().parent
    elif ledger and "://" not in ledger:
        directory = Path(ledger).expanduser().parent
    if directory is None:
        directory = wire.data_file(_FILE_NAME).parent
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / _FILE_NAME}"
