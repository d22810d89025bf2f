"""Database connections behind the ledger: SQLite (default) and PostgreSQL (for teams).

Both expose the same small surface (:class:`Database`); SQL is written once with ``?``
placeholders and rewritten to ``%s`` for psycopg. Every write runs in one transaction that is
committed before the call returns, so what a caller saw succeed survives a killed process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from orca_nb.ledger.schema import COLUMNS_ADDED, INDEXES, SCHEMA_VERSION, TABLES

#: Column names and rows of a query.
Result = tuple[list[str], list[tuple[Any, ...]]]

#: How long a writer waits for another process's lock before giving up (SQLite).
BUSY_TIMEOUT_SECONDS = 30.0
#: How much of a SQLite file reads may memory-map (reports scan big indexes).
MMAP_BYTES = 1 << 30
#: Any fixed number: PostgreSQL advisory lock taken while creating the schema.
_SCHEMA_LOCK_KEY = 0x0C0A_7ED6


class Database(Protocol):
    """What the ledger and the reports need from a connection."""

    url: str

    def write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run the statements in one committed transaction."""
        ...

    def write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many rows in one committed transaction."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run a read query; return column names and rows."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class SqliteDatabase:
    """A SQLite file in WAL mode with a busy timeout; safe across threads and processes."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.url = f"sqlite://{self.path}" if self.path.is_absolute() else str(self.path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute(f"PRAGMA synchronous = {synchronous}")
        # Reports scan large covering indexes: map the file instead of copying pages.
        self._conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        with self._transaction():
            for statement in TABLES:
                self._conn.execute(statement)
            for table, column, kind in COLUMNS_ADDED:
                present = {r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            for statement in INDEXES:
                self._conn.execute(statement)
            _record_version(self._conn.execute)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            # IMMEDIATE takes the write lock up front, so two writers queue on the busy
            # timeout instead of failing on a lock upgrade.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run the statements in one committed transaction."""
        with self._transaction():
            for sql, params in statements:
                self._conn.execute(sql, tuple(params))

    def write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many rows in one committed transaction."""
        with self._transaction():
            self._conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run a read query; return column names and rows."""
        with self._lock:
            cursor = self._conn.execute(sql, tuple(params))
            rows = cursor.fetchall()
            names = [d[0] for d in cursor.description or ()]
        return names, rows

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteDatabase({str(self.path)!r})"


class PostgresDatabase:
    """A PostgreSQL connection (psycopg 3) shared by several kernels' ledgers."""

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "a postgresql:// ledger needs psycopg 3: pip install 'orca-nb[postgres]'"
            ) from exc
        self.url = _redact(url)  # for display; the password stays inside the connection
        self._lock = threading.RLock()
        self._conn = psycopg.connect(url, autocommit=True, connect_timeout=int(connect_timeout))

        def run(sql: str, params: Sequence[Any] = ()) -> Any:
            return self._conn.execute(_pg(sql), tuple(params))

        with self._transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            for statement in TABLES:
                self._conn.execute(statement)
            for table, column, kind in COLUMNS_ADDED:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
            for statement in INDEXES:
                self._conn.execute(statement)
            _record_version(run)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock, self._conn.transaction():
            yield

    def write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run the statements in one committed transaction."""
        with self._transaction():
            for sql, params in statements:
                self._conn.execute(_pg(sql), tuple(params))

    def write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many rows in one committed transaction."""
        with self._transaction(), self._conn.cursor() as cursor:
            cursor.executemany(_pg(sql), rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Result:
        """Run a read query; return column names and rows."""
        with self._lock, self._conn.cursor() as cursor:
            cursor.execute(_pg(sql), tuple(params))
            rows = cursor.fetchall()
            names = [d.name for d in cursor.description or ()]
        return names, rows

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"PostgresDatabase({self.url!r})"


def _pg(sql: str) -> str:
    """Rewrite ``?`` placeholders for psycopg (our SQL never holds a literal ``?`` or ``%``)."""
    return sql.replace("?", "%s")


def _record_version(run: Any) -> None:
    run(
        "INSERT INTO ledger_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        ("schema_version", str(SCHEMA_VERSION)),
    )


def _redact(url: str) -> str:
    """The URL without its password, for reprs and messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
