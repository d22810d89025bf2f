"""SQLite persistence for the sandbox: one connection, one lock, every change in a transaction.

A file database runs in WAL mode, so a crash mid-request leaves the last committed state and
nothing half-written; ``:memory:`` is for tests.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account TEXT PRIMARY KEY, created REAL NOT NULL, seeded INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS groups (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
    group_type TEXT NOT NULL, person TEXT, verification TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL, updated REAL NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS groups_account ON groups (account, group_type);
CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, group_id TEXT NOT NULL, name TEXT NOT NULL,
    asset_type TEXT NOT NULL, source_url TEXT NOT NULL, status TEXT NOT NULL,
    error_code TEXT, error_message TEXT, verdict_code TEXT, verdict_message TEXT,
    moderation TEXT NOT NULL, blob_id TEXT, width INTEGER, height INTEGER, seconds REAL,
    created REAL NOT NULL, updated REAL NOT NULL, steps INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS assets_account ON assets (account, group_id);
-- list pages in every sort order straight from an index (no sort of the whole library), and
-- the lifecycle's look for Processing assets without a table scan
CREATE INDEX IF NOT EXISTS assets_by_created ON assets (account, created, seq, group_id, status);
CREATE INDEX IF NOT EXISTS assets_by_updated ON assets (account, updated, seq, group_id, status);
CREATE INDEX IF NOT EXISTS assets_by_group ON assets (account, group_id, seq, status);
CREATE INDEX IF NOT EXISTS assets_status ON assets (status);
CREATE TABLE IF NOT EXISTS blobs (
    id TEXT PRIMARY KEY, media_type TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, status TEXT NOT NULL, return_url TEXT,
    group_id TEXT, person TEXT, error_code TEXT, error_message TEXT, extra TEXT NOT NULL,
    created REAL NOT NULL, expires REAL NOT NULL, finished REAL);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
    progress INTEGER NOT NULL, params TEXT NOT NULL, body TEXT NOT NULL,
    error_code TEXT, error_message TEXT, render_state TEXT NOT NULL, render_error TEXT,
    blob_id TEXT, last_frame_blob_id TEXT, created REAL NOT NULL, started REAL,
    finished REAL, updated REAL NOT NULL, steps INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, usd REAL NOT NULL);
"""

_TABLES = ("accounts", "groups", "assets", "blobs", "sessions", "tasks", "balances")
#: Columns added since a table was first made: (table, column, declaration). A database made
#: before gets them on open (``ALTER TABLE ADD COLUMN``), so an older sandbox file still opens.
_ADDED_COLUMNS = (
    # an upload is answered before its media is fetched: 'pending' until the worker has read it
    ("assets", "fetch_state", "TEXT NOT NULL DEFAULT 'done'"),
    ("assets", "fetched", "REAL"),
)


class Store:
    """The sandbox database. Use ``with store.tx() as db:`` for every read-modify-write."""

    def __init__(self, path: str | None) -> None:
        self.path = path if path not in (None, "", ":memory:") else ":memory:"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        with self._lock:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            for table, column, declaration in _ADDED_COLUMNS:
                have = {r["name"] for r in self._conn.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    try:
                        self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
                    except sqlite3.OperationalError as exc:  # another process added it first
                        if "duplicate column" not in str(exc):
                            raise
            self._conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run one transaction (nested calls join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        with self.tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def setdefault_meta(self, key: str, value: str) -> str:
        """The ``meta`` value of ``key``, set to ``value`` first if absent (atomically, so
        processes opening one database at once agree on it)."""
        with self.tx() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row["value"])

    def next_seq(self, db: sqlite3.Connection) -> int:
        """A strictly increasing number, the tie-breaker for equal timestamps."""
        row = db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        value = int(row["value"]) + 1 if row else 1
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (str(value),))
        return value

    def clear(self) -> None:
        """Delete every account and everything it owns (the schema and secret stay)."""
        with self.tx() as db:
            for table in _TABLES:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key = 'seq'")

    def close(self) -> None:
        """Close the connection (checkpointing the WAL of a file database)."""
        with self._lock:
            self._conn.close()
