"""Where the experiments' system database lives, and a stored experiment found in it by name
or id (no heavy imports at import time: the CLI reads this)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

from orca_nb import wire

if TYPE_CHECKING:
    from orca_nb.experiments.db import ExperimentRow, ExperimentsDB

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


def open_experiments_db(database_url: str | None = None) -> ExperimentsDB:
    """The experiments database (default: :func:`default_database_url`), refusing a SQLite
    file that does not exist (nothing was ever stored there: a wrong path, say so)."""
    from orca_nb.experiments.db import ExperimentsDB

    url = database_url or default_database_url()
    if url.startswith("sqlite:///"):
        file = Path(url[len("sqlite:///") :])
        if str(file) not in ("", ":memory:") and not file.exists():
            raise FileNotFoundError(
                f"no experiments database at {file}; pass database_url= (or --db) where the "
                f"experiments ran, or set ${DATABASE_ENV}"
            )
    return ExperimentsDB(url)


def find_experiment(db: ExperimentsDB, name_or_id: str) -> ExperimentRow:
    """A stored experiment by id, else by name; ``KeyError`` naming the known ones."""
    from orca_nb.experiments.define import experiment_id_for

    found = db.experiment(name_or_id) or db.experiment(experiment_id_for(name_or_id))
    if found is None:
        known = ", ".join(f"{e.name!r} ({e.experiment_id})" for e in db.list_experiments()[:10])
        where = wire.strip_secret_params(db.url)
        raise KeyError(f"no experiment {name_or_id!r} in {where}; known: {known or 'none'}")
    return found
