"""SQLite persistence for the sandbox: one connection, one lock, every change in a transaction.

This module alone knows the SQL schema: the backend's resource modules (groups, assets and
files, sessions, video tasks, accounts and billing), the lifecycle and the render worker read
and write through the typed methods of :class:`Tx`, opened on the backend's :class:`SandboxDB`
(``with backend.db.tx() as db: db.group(...)``).
``Tx.execute`` remains for tests and one-off inspection only.

A file database runs in WAL mode, so a crash mid-request leaves the last committed state and
nothing half-written; ``:memory:`` is for tests.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
-- the lifecycle's look for unfinished tasks, and an account's creates in the last minute
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
CREATE INDEX IF NOT EXISTS tasks_account_created ON tasks (account, created);
"""

_TABLES = ("accounts", "groups", "assets", "blobs", "sessions", "tasks", "balances")
#: Columns added since a table was first made: (table, column, declaration). A database made
#: before gets them on open (``ALTER TABLE ADD COLUMN``), so an older sandbox file still opens.
_ADDED_COLUMNS = (
    # an upload is answered before its media is fetched: 'pending' until the worker has read it
    ("assets", "fetch_state", "TEXT NOT NULL DEFAULT 'done'"),
    ("assets", "fetched", "REAL"),
)


#: How long a write waits for another process's write (sqlite's busy timeout, and the bound
#: on retrying the steps of opening a database that SQLite refuses at once while busy).
_BUSY_SECONDS = 30.0


class SandboxDB:
    """The sandbox database. Use ``with backend.db.tx() as db:`` for every read-modify-write."""

    def __init__(self, path: str | None) -> None:
        self.path = path if path not in (None, "", ":memory:") else ":memory:"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=_BUSY_SECONDS
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        deadline = time.monotonic() + _BUSY_SECONDS
        while True:  # processes opening one fresh file at once: the loser waits its turn
            try:
                self._prepare()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _prepare(self) -> None:
        """WAL, the schema, added columns and the schema version (each step is idempotent)."""
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
    def tx(self) -> Iterator[Tx]:
        """Hold the lock and run one transaction (nested calls join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield Tx(self._conn)
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
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


Row = sqlite3.Row
#: Tables whose rows have an ``id`` the backend draws (see ``Backend._free_id``).
ID_TABLES = frozenset({"groups", "assets", "blobs", "sessions", "tasks"})
#: Wire sort fields -> columns (ties broken by insertion order, ``seq``).
_SORT_COLUMNS = {"CreateTime": "created", "UpdateTime": "updated", "GroupId": "group_id"}


def _order(sort_by: str, descending: bool, alias: str = "") -> str:
    """The ``ORDER BY`` clause for a wire sort field (see ``fields.sort_param``)."""
    direction = "DESC" if descending else "ASC"
    prefix = f"{alias}." if alias else ""
    return f"{prefix}{_SORT_COLUMNS[sort_by]} {direction}, {prefix}seq {direction}"


class Tx:
    """One transaction of the sandbox database, with a typed method per read or write."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Raw SQL, for tests and inspection; the package uses the typed methods."""
        return self.conn.execute(sql, params)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self.conn.execute(sql, params).fetchall())

    def next_seq(self) -> int:
        """A strictly increasing number, the tie-breaker for equal timestamps."""
        row = self._one("SELECT value FROM meta WHERE key = 'seq'")
        value = int(row["value"]) + 1 if row else 1
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (str(value),)
        )
        return value

    def id_taken(self, table: str, candidate: str) -> bool:
        """Whether ``candidate`` is already an id of ``table``."""
        if table not in ID_TABLES:
            raise ValueError(f"not a table with drawn ids: {table!r}")
        return self._one(f"SELECT 1 FROM {table} WHERE id = ?", (candidate,)) is not None

    # ------------------------------------------------------------------ accounts
    def ensure_account(self, account: str, now: float) -> bool:
        """Create ``account`` if new; whether it has been given the demo library."""
        self.conn.execute(
            "INSERT OR IGNORE INTO accounts (account, created) VALUES (?, ?)", (account, now)
        )
        row = self._one("SELECT seeded FROM accounts WHERE account = ?", (account,))
        return bool(row and row["seeded"])

    def mark_seeded(self, account: str) -> None:
        """Record that ``account`` has the demo library."""
        self.conn.execute("UPDATE accounts SET seeded = 1 WHERE account = ?", (account,))

    # ------------------------------------------------------------------ balances
    def balance_usd(self, account: str) -> float | None:
        """The account's own play balance (None: the configured default applies)."""
        row = self._one("SELECT usd FROM balances WHERE account = ?", (account,))
        return None if row is None else float(row["usd"])

    def set_balance_usd(self, account: str, usd: float | None) -> None:
        """Give ``account`` its own balance, or (None) back to the default."""
        if usd is None:
            self.conn.execute("DELETE FROM balances WHERE account = ?", (account,))
        else:
            self.conn.execute(
                "INSERT OR REPLACE INTO balances (account, usd) VALUES (?, ?)", (account, usd)
            )

    def spent_tokens(self, account: str) -> tuple[int, int]:
        """(settled tokens of succeeded tasks, tokens held by unfinished ones)."""
        row = self._one(
            "SELECT"
            " COALESCE(SUM(CASE WHEN status = 'succeeded'"
            "   THEN json_extract(params, '$.usage_tokens') END), 0) AS settled,"
            " COALESCE(SUM(CASE WHEN status IN ('queued', 'running')"
            "   THEN json_extract(params, '$.hold_tokens') END), 0) AS held"
            " FROM tasks WHERE account = ?",
            (account,),
        )
        assert row is not None
        return int(row["settled"]), int(row["held"])

    # ------------------------------------------------------------------ groups
    def insert_group(
        self,
        gid: str,
        account: str,
        name: str,
        description: str,
        group_type: str,
        person: str | None,
        verification: str,
        now: float,
    ) -> None:
        """Store a new group."""
        self.conn.execute(
            "INSERT INTO groups (id, account, name, description, group_type, person, verification,"
            " created, updated, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                gid, account, name, description, group_type, person, verification, now, now,
                self.next_seq(),
            ),
        )  # fmt: skip

    def group(self, account: str, group_id: str) -> Row | None:
        """The account's group ``group_id``, or None."""
        return self._one("SELECT * FROM groups WHERE id = ? AND account = ?", (group_id, account))

    def group_page(
        self,
        account: str,
        group_type: str,
        name: str | None,
        sort: tuple[str, bool],
        limit: int,
        offset: int,
    ) -> tuple[int, list[Row]]:
        """(total, one page) of the account's groups of ``group_type`` whose name contains
        ``name`` (case-insensitive), in ``sort`` order (wire field, descending?)."""
        where, args = "account = ? AND group_type = ?", [account, group_type]
        if name:
            where += " AND instr(lower(name), lower(?)) > 0"
            args.append(name)
        total = self.conn.execute(f"SELECT COUNT(*) FROM groups WHERE {where}", args).fetchone()
        rows = self._all(
            f"SELECT * FROM groups WHERE {where} ORDER BY {_order(*sort)} LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return int(total[0]), rows

    def update_group(
        self, group_id: str, *, name: str | None, description: str | None, now: float
    ) -> None:
        """Set the name and/or description (None: unchanged) and the update time."""
        if name is not None:
            self.conn.execute("UPDATE groups SET name = ? WHERE id = ?", (name, group_id))
        if description is not None:
            self.conn.execute(
                "UPDATE groups SET description = ? WHERE id = ?", (description, group_id)
            )
        self.conn.execute("UPDATE groups SET updated = ? WHERE id = ?", (now, group_id))

    def set_verification(self, group_id: str, state: str) -> None:
        """A real-human group's verification state (``active`` / ``expired``)."""
        self.conn.execute("UPDATE groups SET verification = ? WHERE id = ?", (state, group_id))

    def delete_group(self, group_id: str) -> None:
        """Delete a group with its assets and their files."""
        for asset in self._all("SELECT blob_id FROM assets WHERE group_id = ?", (group_id,)):
            self.conn.execute("DELETE FROM blobs WHERE id = ?", (asset["blob_id"],))
        self.conn.execute("DELETE FROM assets WHERE group_id = ?", (group_id,))
        self.conn.execute("DELETE FROM groups WHERE id = ?", (group_id,))

    # ------------------------------------------------------------------ assets
    def count_assets(self, account: str) -> int:
        """How many assets the account holds (Failed ones too)."""
        row = self.conn.execute("SELECT COUNT(*) FROM assets WHERE account = ?", (account,))
        return int(row.fetchone()[0])

    def insert_asset(self, values: dict[str, Any]) -> None:
        """Store a new asset row (``values`` names every column but ``seq``)."""
        values = {**values, "moderation": json.dumps(values["moderation"]), "seq": self.next_seq()}
        columns = ", ".join(values)
        self.conn.execute(
            f"INSERT INTO assets ({columns}) VALUES ({','.join('?' * len(values))})",
            tuple(values.values()),
        )

    def asset(self, account: str, asset_id: str) -> Row | None:
        """The account's asset ``asset_id``, or None."""
        return self._one("SELECT * FROM assets WHERE id = ? AND account = ?", (asset_id, account))

    def asset_by_id(self, asset_id: str) -> Row | None:
        """Any account's asset ``asset_id`` (the workers' view), or None."""
        return self._one("SELECT * FROM assets WHERE id = ?", (asset_id,))

    def asset_page(
        self,
        account: str,
        *,
        group_id: str | None,
        group_type: str,
        statuses: Sequence[str],
        name: str | None,
        sort: tuple[str, bool],
        limit: int,
        offset: int,
    ) -> tuple[int, list[Row]]:
        """(total, one page) of the account's assets: in ``group_id``, else in its groups of
        ``group_type``. The page is chosen on an index (row ids only), then only its rows read."""
        where, args = "a.account = ?", [account]
        if group_id:
            where += " AND a.group_id = ?"
            args.append(group_id)
        else:
            where += " AND a.group_id IN (SELECT id FROM groups WHERE account = ?"
            where += " AND group_type = ?)"
            args += [account, group_type]
        if statuses:
            where += f" AND a.status IN ({','.join('?' * len(statuses))})"
            args.extend(statuses)
        if name:
            where += " AND instr(lower(a.name), lower(?)) > 0"
            args.append(name)
        order = _order(*sort, alias="a")
        total = self.conn.execute(f"SELECT COUNT(*) FROM assets a WHERE {where}", args).fetchone()
        page = f"SELECT a.rowid FROM assets a WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self._all(
            f"SELECT a.* FROM assets a WHERE a.rowid IN ({page}) ORDER BY {order}",
            [*args, limit, offset],
        )
        return int(total[0]), rows

    def delete_asset(self, asset_id: str, blob_id: str | None) -> None:
        """Delete an asset and its file."""
        self.conn.execute("DELETE FROM blobs WHERE id = ?", (blob_id,))
        self.conn.execute("DELETE FROM assets WHERE id = ?", (asset_id,))

    def fetch_job(self, asset_id: str) -> Row | None:
        """``source_url``, ``asset_type`` and the group's ``person`` of an upload whose fetch is
        pending; None once fetched, deleted or reset."""
        return self._one(
            "SELECT a.source_url, a.asset_type, g.person FROM assets a"
            " JOIN groups g ON g.id = a.group_id"
            " WHERE a.id = ? AND a.fetch_state = 'pending'",
            (asset_id,),
        )

    def fetch_pending(self, asset_id: str) -> bool:
        """Whether the upload still waits for its fetch."""
        return (
            self._one("SELECT 1 FROM assets WHERE id = ? AND fetch_state = 'pending'", (asset_id,))
            is not None
        )

    def pending_fetches(self) -> list[str]:
        """Ids of uploads whose fetch has not been done (to resume after a restart)."""
        return [r["id"] for r in self._all("SELECT id FROM assets WHERE fetch_state = 'pending'")]

    def record_fetch(
        self,
        asset_id: str,
        *,
        code: str | None,
        message: str | None,
        blob_id: str | None,
        width: int | None,
        height: int | None,
        seconds: float | None,
        now: float,
    ) -> None:
        """Store what the fetch worker decided (the verdict, not yet shown)."""
        self.conn.execute(
            "UPDATE assets SET verdict_code=?, verdict_message=?, blob_id=?, width=?,"
            " height=?, seconds=?, fetch_state='done', fetched=? WHERE id=?",
            (code, message, blob_id, width, height, seconds, now, asset_id),
        )

    def assets_to_settle(self) -> list[Row]:
        """Processing assets whose media has been read."""
        return self._all(
            "SELECT * FROM assets WHERE status = 'Processing' AND fetch_state = 'done'"
        )

    def settle_asset(
        self, asset_id: str, status: str, code: str | None, message: str | None, at: float
    ) -> None:
        """Show an asset's verdict: ``Active`` or ``Failed`` with its error, updated ``at``."""
        self.conn.execute(
            "UPDATE assets SET status = ?, error_code = ?, error_message = ?, updated = ?"
            " WHERE id = ?",
            (status, code, message, at, asset_id),
        )

    def asset_media(self, asset_id: str) -> bytes | None:
        """The stored file of an asset (None when it has none)."""
        row = self._one(
            "SELECT b.data FROM assets a JOIN blobs b ON b.id = a.blob_id WHERE a.id = ?",
            (asset_id,),
        )
        return None if row is None else bytes(row["data"])

    # ------------------------------------------------------------------ files
    def insert_blob(self, blob_id: str, media_type: str, data: bytes) -> None:
        """Store (or replace) a file."""
        self.conn.execute(
            "INSERT OR REPLACE INTO blobs (id, media_type, data) VALUES (?, ?, ?)",
            (blob_id, media_type, data),
        )

    def blob(self, blob_id: str) -> Row | None:
        """A stored file (``data``, ``media_type``), or None."""
        return self._one("SELECT * FROM blobs WHERE id = ?", (blob_id,))

    # ------------------------------------------------------------------ real-human sessions
    def insert_session(
        self, sid: str, account: str, return_url: str | None, extra: dict[str, Any],
        created: float, expires: float,
    ) -> None:  # fmt: skip
        """Store a new pending verification session."""
        self.conn.execute(
            "INSERT INTO sessions (id, account, status, return_url, extra, created, expires)"
            " VALUES (?,?,?,?,?,?,?)",
            (sid, account, "pending", return_url, json.dumps(extra), created, expires),
        )

    def session(self, session_id: str) -> Row | None:
        """A session by id, or None."""
        return self._one("SELECT * FROM sessions WHERE id = ?", (session_id,))

    def expire_session(self, session_id: str) -> None:
        """A pending session whose link has lapsed."""
        self.conn.execute("UPDATE sessions SET status = 'expired' WHERE id = ?", (session_id,))

    def fail_session(self, session_id: str, code: str, message: str, at: float) -> None:
        """The face check failed."""
        self.conn.execute(
            "UPDATE sessions SET status='failed', error_code=?, error_message=?, finished=?"
            " WHERE id=?",
            (code, message, at, session_id),
        )

    def succeed_session(self, session_id: str, group_id: str, person: str, at: float) -> None:
        """The person was verified into ``group_id``."""
        self.conn.execute(
            "UPDATE sessions SET status='success', group_id=?, person=?, finished=? WHERE id=?",
            (group_id, person, at, session_id),
        )

    # ------------------------------------------------------------------ video tasks
    def insert_task(self, values: dict[str, Any]) -> Row:
        """Store a new queued task (``values`` names every column but ``seq``); its row."""
        values = {**values, "seq": self.next_seq()}
        self.conn.execute(
            f"INSERT INTO tasks ({', '.join(values)}) VALUES ({','.join('?' * len(values))})",
            tuple(values.values()),
        )
        row = self.task(str(values["id"]))
        assert row is not None
        return row

    def task(self, task_id: str, account: str | None = None) -> Row | None:
        """A task by id (only the account's, when given), or None."""
        if account is None:
            return self._one("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return self._one("SELECT * FROM tasks WHERE id = ? AND account = ?", (task_id, account))

    def unfinished_tasks(self) -> list[Row]:
        """Queued and running tasks, oldest first."""
        return self._all(
            "SELECT * FROM tasks WHERE status IN ('queued','running') ORDER BY created, seq"
        )

    def step_tasks(self, task_ids: Sequence[str] | None = None) -> None:
        """Count one manual step for every unfinished task (only ``task_ids``, when given)."""
        if task_ids is None:
            self.conn.execute(
                "UPDATE tasks SET steps = steps + 1 WHERE status IN ('queued','running')"
            )
            return
        self.conn.executemany(
            "UPDATE tasks SET steps = steps + 1 WHERE id = ?", [(t,) for t in task_ids]
        )

    def creates_since(self, account: str, since: float) -> tuple[int, float | None]:
        """(tasks the account created after ``since``, the oldest one's creation time)."""
        row = self._one(
            "SELECT COUNT(*) AS n, MIN(created) AS first FROM tasks"
            " WHERE account = ? AND created > ?",
            (account, since),
        )
        assert row is not None
        return int(row["n"]), row["first"]

    def running_spans(self, since: float) -> list[Row]:
        """(account, started, finished) of every task that ran at or after ``since``
        (``finished`` None: still running)."""
        return self._all(
            "SELECT account, started, finished FROM tasks WHERE started IS NOT NULL"
            " AND (finished IS NULL OR finished > ?)",
            (since,),
        )

    def pending_renders(self) -> list[str]:
        """Ids of tasks whose render has not been done (to resume after a restart)."""
        return [r["id"] for r in self._all("SELECT id FROM tasks WHERE render_state = 'pending'")]

    def run_task(self, task_id: str, progress: int, started: float, now: float) -> None:
        """A task is running at ``progress`` percent."""
        self.conn.execute(
            "UPDATE tasks SET status='running', progress=?, started=?, updated=? WHERE id=?",
            (progress, started, now, task_id),
        )

    def succeed_task(self, task_id: str, started: float, at: float) -> None:
        """A task ends ``succeeded`` at ``at``."""
        self.conn.execute(
            "UPDATE tasks SET status='succeeded', progress=100, started=?, finished=?, updated=?"
            " WHERE id=?",
            (started, at, at, task_id),
        )

    def fail_task(self, task_id: str, started: float, at: float, code: str, message: str) -> None:
        """A task ends ``failed`` (its own error code, if it has one, wins over ``code``)."""
        self.conn.execute(
            "UPDATE tasks SET status='failed', progress=100, started=?, finished=?, updated=?,"
            " error_code=COALESCE(error_code, ?), error_message=? WHERE id=?",
            (started, at, at, code, message, task_id),
        )

    def render_done(
        self, task_id: str, blob_id: str, frame_id: str | None, params: dict[str, Any]
    ) -> None:
        """The render worker stored the task's video (and last frame)."""
        self.conn.execute(
            "UPDATE tasks SET render_state='done', blob_id=?, last_frame_blob_id=?, params=?"
            " WHERE id=?",
            (blob_id, frame_id, json.dumps(params), task_id),
        )

    def render_failed(self, task_id: str, code: str, message: str) -> None:
        """The render worker could not make the task's video."""
        self.conn.execute(
            "UPDATE tasks SET render_state='failed', error_code=?, render_error=? WHERE id=?",
            (code, message, task_id),
        )
