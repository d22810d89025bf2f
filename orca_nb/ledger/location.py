"""Where the ledger lives: a URL (``sqlite:///path``, ``postgresql://...``) or a default file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from orca_nb import wire
from orca_nb.ledger.backends import Database, PostgresDatabase, SqliteDatabase

#: Environment variable naming the ledger (a URL or a plain file path); overrides the default.
LEDGER_ENV: Final = "ORCA_NB_LEDGER"
#: The ``$ORCA_NB_LEDGER`` value that turns the default ledger off (clients record nothing).
LEDGER_OFF: Final = "off"
_FILE_NAME: Final = "ledger.sqlite3"


def default_ledger_disabled() -> bool:
    """True when ``$ORCA_NB_LEDGER`` is ``off``: clients then keep no default ledger."""
    return os.environ.get(LEDGER_ENV, "").strip().lower() == LEDGER_OFF


def default_ledger_url() -> str:
    """``$ORCA_NB_LEDGER`` if set, else a SQLite file in the user's data directory."""
    configured = os.environ.get(LEDGER_ENV, "").strip()
    if configured.lower() == LEDGER_OFF:
        raise ValueError(
            f"{LEDGER_ENV}={configured} turns the default ledger off; pass a ledger URL "
            "(sqlite:///path/to/ledger.sqlite3 or postgresql://...) to open one anyway"
        )
    if configured:
        return configured
    return f"sqlite://{wire.data_file(_FILE_NAME)}"


def connect(url: str | os.PathLike[str] | None = None, *, durable: bool = True) -> Database:
    """Open the database a ledger URL names (see :func:`default_ledger_url` for ``None``).

    ``sqlite:///abs/path.sqlite3`` (everything after ``sqlite://`` is the path, so three slashes
    give an absolute path; four are accepted too), ``sqlite:///:memory:``, a plain file path, or
    ``postgresql://user:pass@host:port/dbname`` (also ``postgres://``). ``durable=False`` lets
    SQLite skip the fsync of each commit (still safe if the process is killed; not on power loss).
    """
    text = os.fspath(url) if url is not None else default_ledger_url()
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(text)
    if text.startswith("sqlite://"):
        path = text[len("sqlite://") :]
        if path in ("/:memory:", ":memory:"):
            path = ":memory:"
        elif path.startswith("//"):  # sqlite:////abs/path (SQLAlchemy's spelling)
            path = path[1:]
        if not path:
            raise ValueError("a sqlite ledger URL needs a path: sqlite:///path/to/ledger.sqlite3")
        return SqliteDatabase(path, synchronous="FULL" if durable else "NORMAL")
    if "://" in text:
        raise ValueError(
            f"unsupported ledger URL scheme in {text.split('://')[0]!r}: "
            "use sqlite:///path/to/ledger.sqlite3 or postgresql://user@host:port/dbname"
        )
    return SqliteDatabase(Path(text).expanduser(), synchronous="FULL" if durable else "NORMAL")
