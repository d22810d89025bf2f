"""The sandbox's state and rules, independent of HTTP: accounts, groups, assets, real-human
sessions and video tasks, persisted in SQLite, progressing on an injectable clock.

Every public method takes the caller's account (see :meth:`Backend.account_for_key`) and plain
JSON-like values, and returns the wire JSON or raises :class:`ApiError`. ``root`` arguments are
the server's root URL (``http://127.0.0.1:PORT``), used to build links.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from orca_nb import wire
from orca_nb.sandbox import billing, ids, lifecycle, models, views
from orca_nb.sandbox.clock import Clock, ManualClock, SystemClock
from orca_nb.sandbox.config import TASK_SHAPES, SandboxConfig
from orca_nb.sandbox.errors import ApiError, bad_request, not_found
from orca_nb.sandbox.faults import Faults
from orca_nb.sandbox.fields import (
    description_field,
    group_type_param,
    http_url,
    json_object,
    moderation_field,
    name_field,
    paging_params,
    sort_clause,
    statuses_param,
)
from orca_nb.sandbox.processing import DownloadError, Verdict, evaluate, fetch, is_loopback_host
from orca_nb.sandbox.signing import Signer
from orca_nb.sandbox.store import Store
from orca_nb.sandbox.videos import VideoRequest, parse_video_request

log = logging.getLogger(__name__)

_KEY_PATTERN = re.compile(r"sk-orca-[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
SAMPLES_PREFIX = "/sandbox/samples/"
FILES_PREFIX = "/sandbox/files/"
H5_PREFIX = "/sandbox/h5/"
RETURN_URL_MAX_CHARS = 2048
FETCH_WORKERS = 4  # uploads fetched at once (a slow host does not hold up the others)
RENDER_WAIT_SECONDS = 300.0  # the longest step()/instant creation waits for one render
#: H5 choices that fail the face check (the others are sample people's names).
H5_FAILURES: dict[str, tuple[str, str]] = {
    "two_faces": (wire.ASSET_ERROR_MULTIPLE_FACES, "Two faces were in the frame; show one person."),
    "no_face": (wire.ASSET_ERROR_NO_FACE, "No face was detected; look into the camera."),
}


def account_id(api_key: str) -> str:
    """The stored account id of an API key (a SHA-256, so keys never reach the database)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class H5Result:
    """The outcome of an H5 page action: the session's status and where the browser goes."""

    status: str
    session_id: str
    group_id: str | None
    redirect: str | None
    message: str = ""


class Backend:
    """One sandbox: state, rules, clock, random source and fault table."""

    def __init__(self, config: SandboxConfig | None = None, **settings: Any) -> None:
        base = config or SandboxConfig()
        self._initial = base.updated(**settings) if settings else base
        self.config = self._initial
        self.clock: Clock = self._initial.clock or SystemClock()
        self.rng = random.Random(self._initial.seed)
        self.store = Store(self._initial.db_path)
        self.faults = Faults()
        secret = self.store.setdefault_meta("secret", secrets.token_hex(32))
        self.signer = Signer(bytes.fromhex(secret))
        self._ready_accounts: set[str] = set()  # exist (and, for the demo key, are seeded)
        self._fail_next: list[tuple[str, str]] = []
        self._renders: dict[str, Future[None]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orca-sandbox-render")
        self._fetches: dict[str, Future[None]] = {}
        self._fetcher = ThreadPoolExecutor(
            max_workers=FETCH_WORKERS, thread_name_prefix="orca-sandbox-fetch"
        )
        self._closed = False
        self._lock = threading.Lock()
        self._resume_renders()
        self._resume_fetches()

    # ------------------------------------------------------------------ lifecycle
    def configure(self, **changes: Any) -> SandboxConfig:
        """Change settings at run time (e.g. ``processing="manual"``, ``task_shape="newapi"``)."""
        if "clock" in changes or "db_path" in changes:
            raise ValueError("clock and db_path are fixed when the backend is created")
        self.config = self.config.updated(**changes)
        return self.config

    def reset(self) -> None:
        """Forget every account, restore the initial settings, clock, random seed and faults."""
        self.store.clear()
        self._ready_accounts.clear()
        self.config = self._initial
        self.rng.seed(self._initial.seed)
        self.faults.clear()
        self._fail_next.clear()
        if isinstance(self.clock, ManualClock):
            self.clock.reset()

    def close(self) -> None:
        """Stop the render worker and close the database."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._fetcher.shutdown(wait=True, cancel_futures=True)
        self.store.close()

    def now(self) -> float:
        """The backend's current time (unix seconds)."""
        return self.clock.now()

    def step(self, n: int = 1) -> None:
        """Advance every processing asset and unfinished task by ``n`` transitions.

        An asset settles (Active/Failed) in one step; a task needs ``config.task_steps`` steps
        from queued to succeeded, and its last step waits for its render to finish.
        """
        if n < 0:
            raise ValueError("step(n) needs n >= 0")
        for _ in range(n):
            with self.store.tx() as db:
                unfinished = [
                    r["id"]
                    for r in db.execute("SELECT id FROM tasks WHERE status IN ('queued','running')")
                ]
            self.wait_for_renders(unfinished)
            self.wait_for_fetches()  # an asset settles in one step, its fetch included
            with self.store.tx() as db:
                now = self.now()
                for row in db.execute(
                    "SELECT * FROM assets WHERE status = 'Processing' AND fetch_state = 'done'"
                ):
                    lifecycle.settle_asset(db, row, now)
                db.execute(
                    "UPDATE tasks SET steps = steps + 1 WHERE status IN ('queued','running')"
                )
                self._progress(db, force_manual=True)

    def wait_for_renders(
        self, task_ids: list[str] | None = None, timeout: float = RENDER_WAIT_SECONDS
    ) -> None:
        """Block until the renders of ``task_ids`` (default: all) are done."""
        with self._lock:
            futures = [f for t, f in self._renders.items() if task_ids is None or t in task_ids]
        for future in futures:
            try:
                future.result(timeout=timeout)
            except FutureTimeout:
                log.warning("a sandbox render took longer than %s s", timeout)

    # ------------------------------------------------------------------ accounts
    def account_for_key(self, api_key: str | None) -> str:
        """The account of a bearer key; 401 when missing or not ``sk-orca-...``.

        Any syntactically valid ``sk-orca-`` key is its own sandbox account (created on first
        use); the demo key gets the demo library on first use.
        """
        if not api_key:
            raise ApiError(
                401,
                wire.CODE_INVALID_API_KEY,
                "Missing API key: send 'Authorization: Bearer sk-orca-...' "
                f"(any key starting with {wire.SANDBOX_KEY_PREFIX!r} is a sandbox account)",
            )
        if not _KEY_PATTERN.fullmatch(api_key):
            raise ApiError(
                401,
                wire.CODE_INVALID_API_KEY,
                "Invalid API key: keys look like 'sk-orca-...' "
                f"(e.g. {wire.DEFAULT_SANDBOX_KEY!r} in the sandbox)",
            )
        account = account_id(api_key)
        if account in self._ready_accounts:
            return account
        with self.store.tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO accounts (account, created) VALUES (?, ?)",
                (account, self.now()),
            )
            seeded = db.execute(
                "SELECT seeded FROM accounts WHERE account = ?", (account,)
            ).fetchone()["seeded"]
        if api_key == wire.DEFAULT_SANDBOX_KEY and self.config.seed_demo and not seeded:
            self.seed_demo(api_key)
        self._ready_accounts.add(account)
        return account

    def seed_demo(self, api_key: str) -> None:
        """Give the account of ``api_key`` the demo groups and assets (once; idempotent)."""
        from orca_nb.sandbox.demo import seed_account

        account = account_id(api_key)
        with self.store.tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO accounts (account, created) VALUES (?, ?)",
                (account, self.now()),
            )
            row = db.execute("SELECT seeded FROM accounts WHERE account = ?", (account,)).fetchone()
            if row["seeded"]:
                return
            seed_account(self, db, account)
            db.execute("UPDATE accounts SET seeded = 1 WHERE account = ?", (account,))

    # ------------------------------------------------------------------ groups
    def create_group(self, account: str, body: object) -> dict[str, Any]:
        """``POST /asset/groups``: a new AIGC group -> ``{"Id"}``."""
        body = json_object(body)
        name = name_field(body, required=True) or ""
        description = description_field(body)
        with self.store.tx() as db:
            gid = self.insert_group(db, account, name, description, "AIGC")
        return {"Id": gid}

    def insert_group(
        self,
        db: sqlite3.Connection,
        account: str,
        name: str,
        description: str,
        group_type: str,
        person: str | None = None,
    ) -> str:
        """Store a group (inside a transaction) and return its id."""
        now = self.now()
        gid = self._new_id(db, "group", "groups", now)
        db.execute(
            "INSERT INTO groups (id, account, name, description, group_type, person, verification,"
            " created, updated, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                gid,
                account,
                name,
                description,
                group_type,
                person,
                "active" if group_type == "LivenessFace" else "",
                now,
                now,
                self.store.next_seq(db),
            ),
        )
        return gid

    def list_groups(self, account: str, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /asset/groups`` with group_type (default real_human), name, paging, sorting."""
        group_type = group_type_param(query)
        page_number, page_size = paging_params(query)
        order = sort_clause(query, wire.GROUP_SORT_BY)
        where, args = "account = ? AND group_type = ?", [account, group_type]
        name = query.get("name")
        if name:
            where += " AND instr(lower(name), lower(?)) > 0"
            args.append(name)
        with self.store.tx() as db:
            total = db.execute(f"SELECT COUNT(*) FROM groups WHERE {where}", args).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM groups WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, page_size, (page_number - 1) * page_size],
            ).fetchall()
        return {
            "TotalCount": total,
            "Items": [views.group_view(r) for r in rows],
            "PageNumber": page_number,
            "PageSize": page_size,
        }

    def get_group(self, account: str, group_id: str) -> dict[str, Any]:
        """``GET /asset/groups/{id}``."""
        with self.store.tx() as db:
            return views.group_view(self._group(db, account, group_id))

    def update_group(self, account: str, group_id: str, body: object) -> dict[str, Any]:
        """``PATCH /asset/groups/{id}`` with ``Name`` and/or ``Description`` -> ``{"Id"}``."""
        body = json_object(body)
        name = name_field(body, required=False)
        description = description_field(body) if "Description" in body else None
        with self.store.tx() as db:
            self._group(db, account, group_id)
            if name is not None:
                db.execute("UPDATE groups SET name = ? WHERE id = ?", (name, group_id))
            if description is not None:
                db.execute(
                    "UPDATE groups SET description = ? WHERE id = ?", (description, group_id)
                )
            db.execute("UPDATE groups SET updated = ? WHERE id = ?", (self.now(), group_id))
        return {"Id": group_id}

    def delete_group(self, account: str, group_id: str) -> dict[str, Any]:
        """``DELETE /asset/groups/{id}``: cascades to its assets; active real-human groups: 403."""
        with self.store.tx() as db:
            row = self._group(db, account, group_id)
            if row["group_type"] == "LivenessFace" and row["verification"] == "active":
                raise ApiError(
                    403,
                    wire.CODE_LIVENESS_GROUP_ACTIVE,
                    "An active real-human (LivenessFace) group cannot be deleted while its "
                    "verification is valid.",
                    "group_id",
                )
            for asset in db.execute("SELECT blob_id FROM assets WHERE group_id = ?", (group_id,)):
                db.execute("DELETE FROM blobs WHERE id = ?", (asset["blob_id"],))
            db.execute("DELETE FROM assets WHERE group_id = ?", (group_id,))
            db.execute("DELETE FROM groups WHERE id = ?", (group_id,))
        return {}

    def revoke_verification(self, account: str, group_id: str) -> None:
        """Mark a real-human group's verification expired (then it can be deleted)."""
        with self.store.tx() as db:
            self._group(db, account, group_id)
            db.execute("UPDATE groups SET verification = 'expired' WHERE id = ?", (group_id,))

    def _group(self, db: sqlite3.Connection, account: str, group_id: str) -> sqlite3.Row:
        row = db.execute(
            "SELECT * FROM groups WHERE id = ? AND account = ?", (group_id, account)
        ).fetchone()
        if row is None:
            raise not_found("group", group_id, "group_id")
        return cast(sqlite3.Row, row)

    # ------------------------------------------------------------------ assets
    def upload_asset(self, account: str, body: object) -> dict[str, Any]:
        """``POST /asset/files`` -> ``{"Id"}`` at once (DOC 12.7): the asset exists as
        ``Processing`` from the reply on; its URL is fetched and read on the fetch worker, however
        slow the media host, and it settles per ``config.processing`` once that is done."""
        body = json_object(body)
        group_id = body.get("GroupId")
        if not isinstance(group_id, str) or not group_id:
            raise bad_request("GroupId is required (the id of a group you own)", "GroupId")
        url = body.get("URL")
        if not isinstance(url, str) or not url:
            raise bad_request("URL is required: a public http(s) URL of the file", "URL")
        if not url.startswith(("http://", "https://")):
            raise bad_request(
                "URL must be an http(s) URL (no base64, data: URIs or file uploads)", "URL"
            )
        http_url(url, "URL")
        asset_type = body.get("AssetType")
        if asset_type not in wire.ASSET_TYPES:
            raise bad_request(
                f"AssetType must be one of {', '.join(wire.ASSET_TYPES)}", "AssetType"
            )
        name = name_field(body, required=False) or ""
        moderation = moderation_field(body)
        with self.store.tx() as db:
            self._group_for_upload(db, account, group_id)
            self._check_cap(db, account)
            aid = self.insert_asset(
                db, account, group_id, name, str(asset_type), url, moderation, None, None
            )
        self._submit_fetch(aid, self.config)  # DOC 12.7: answered now; fetched after the reply
        return {"Id": aid}

    def _group_for_upload(self, db: sqlite3.Connection, account: str, group_id: str) -> sqlite3.Row:
        row = db.execute(
            "SELECT * FROM groups WHERE id = ? AND account = ?", (group_id, account)
        ).fetchone()
        if row is None:
            raise not_found("group", group_id, "GroupId")
        return cast(sqlite3.Row, row)

    def _check_cap(self, db: sqlite3.Connection, account: str) -> None:
        count = db.execute("SELECT COUNT(*) FROM assets WHERE account = ?", (account,)).fetchone()[
            0
        ]
        if count >= self.config.asset_cap:
            raise ApiError(
                403,
                wire.CODE_ASSET_CAP_EXCEEDED,
                f"Asset upload cap reached ({self.config.asset_cap} assets); delete assets you "
                "no longer need to free slots.",
                None,
            )

    def _process(
        self, url: str, asset_type: str, person: str | None, config: SandboxConfig
    ) -> tuple[Verdict, bytes | None]:
        try:
            data = fetch(
                url,
                internal=self._internal_bytes,
                timeout=config.fetch_timeout,
                max_bytes=config.fetch_max_bytes,
            )
        except DownloadError as exc:
            return Verdict(wire.ASSET_ERROR_DOWNLOAD_FAILED, str(exc)), None
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        return evaluate(data, asset_type, name=name, person=person), data

    def insert_asset(
        self,
        db: sqlite3.Connection,
        account: str,
        group_id: str,
        name: str,
        asset_type: str,
        source_url: str,
        moderation: dict[str, Any],
        verdict: Verdict | None,
        data: bytes | None,
        *,
        created: float | None = None,
        settled: bool = False,
    ) -> str:
        """Store an asset in ``Processing`` (or settled) with its decided verdict; with no
        verdict yet it waits for the fetch worker (``fetch_state`` pending)."""
        now = self.now() if created is None else created
        aid = self._new_id(db, "asset", "assets", now)
        blob_id = self._store_blob(db, verdict, data)
        pending = verdict is None
        verdict = verdict or Verdict(None, None)
        status = verdict.status if settled and not pending else "Processing"
        db.execute(
            "INSERT INTO assets (id, account, group_id, name, asset_type, source_url, status,"
            " error_code, error_message, verdict_code, verdict_message, moderation, blob_id,"
            " width, height, seconds, created, updated, seq, fetch_state, fetched) VALUES"
            " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                aid, account, group_id, name, asset_type, source_url, status,
                verdict.code if settled else None, verdict.message if settled else None,
                verdict.code, verdict.message, json.dumps(moderation), blob_id,
                verdict.width, verdict.height, verdict.seconds, now, now, self.store.next_seq(db),
                "pending" if pending else "done", None if pending else now,
            ),
        )  # fmt: skip
        return aid

    def _store_blob(
        self, db: sqlite3.Connection, verdict: Verdict | None, data: bytes | None
    ) -> str | None:
        if verdict is None or data is None or verdict.code is not None:
            return None
        blob_id = self._new_token(db, "blobs", "", 24)
        db.execute(
            "INSERT INTO blobs (id, media_type, data) VALUES (?,?,?)",
            (blob_id, verdict.media_type, data),
        )
        return blob_id

    # ------------------------------------------------------------------ the fetch worker
    def _submit_fetch(self, asset_id: str, config: SandboxConfig) -> None:
        """Queue the fetch of ``asset_id`` under ``config`` (the settings of its upload)."""
        if self._closed:
            return
        future = self._fetcher.submit(self._fetch_asset, asset_id, config)
        with self._lock:
            self._fetches[asset_id] = future
        future.add_done_callback(lambda _f: self._forget_fetch(asset_id))

    def _forget_fetch(self, asset_id: str) -> None:
        with self._lock:
            self._fetches.pop(asset_id, None)

    def _fetch_asset(self, asset_id: str, config: SandboxConfig) -> None:
        """Fetch and read one pending upload, then store its verdict (on the fetch worker)."""
        try:
            with self.store.tx() as db:
                row = db.execute(
                    "SELECT a.source_url, a.asset_type, g.person FROM assets a"
                    " JOIN groups g ON g.id = a.group_id"
                    " WHERE a.id = ? AND a.fetch_state = 'pending'",
                    (asset_id,),
                ).fetchone()
            if row is None:
                return  # deleted (or reset) before its turn
            verdict, data = self._process(
                row["source_url"], row["asset_type"], row["person"], config
            )
        except Exception as exc:  # a processing bug must fail the asset, not leave it pending
            log.exception("sandbox processing of %s failed", asset_id)
            verdict, data = Verdict(wire.ASSET_ERROR_CORRUPT, f"processing failed: {exc}"), None
        with self.store.tx() as db:
            if (
                db.execute(
                    "SELECT 1 FROM assets WHERE id = ? AND fetch_state = 'pending'", (asset_id,)
                ).fetchone()
                is None
            ):
                return
            blob_id = self._store_blob(db, verdict, data)
            db.execute(
                "UPDATE assets SET verdict_code=?, verdict_message=?, blob_id=?, width=?,"
                " height=?, seconds=?, fetch_state='done', fetched=? WHERE id=?",
                (
                    verdict.code, verdict.message, blob_id, verdict.width, verdict.height,
                    verdict.seconds, self.now(), asset_id,
                ),
            )  # fmt: skip
            if config.processing == "instant":  # uploaded under instant: settled when read
                row = db.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)).fetchone()
                lifecycle.settle_asset(db, row, self.now())

    def wait_for_fetches(self, timeout: float | None = None) -> None:
        """Block until every upload fetched so far has been read (each at most ``timeout`` s,
        default the fetch timeout plus a margin for reading the media)."""
        limit = self.config.fetch_timeout + 60.0 if timeout is None else timeout
        with self._lock:
            futures = list(self._fetches.values())
        for future in futures:
            try:
                future.result(timeout=limit)
            except FutureTimeout:
                log.warning("a sandbox upload fetch took longer than %s s", limit)

    def _settle_fetches_first(self) -> None:
        """Before a look at assets: wait for pending fetches when the mode settles assets at
        the first look (``instant``), or when time only moves when told (``ManualClock``: the
        fetch takes no time on it), so such looks are deterministic. On the wall clock in
        ``timed`` mode a look never waits: a slow host leaves the asset ``Processing``."""
        if self._fetches and (
            self.config.processing == "instant" or isinstance(self.clock, ManualClock)
        ):
            self.wait_for_fetches()

    def _resume_fetches(self) -> None:
        with self.store.tx() as db:
            pending = [
                r["id"] for r in db.execute("SELECT id FROM assets WHERE fetch_state = 'pending'")
            ]
        for asset_id in pending:
            self._submit_fetch(asset_id, self.config)

    def list_assets(self, account: str, query: Mapping[str, str], root: str) -> dict[str, Any]:
        """``GET /asset/files``: group_type (default real_human) unless group_id is given.

        The page is chosen on an index (ids only), then only its rows are read and rendered,
        so a page costs about the same whatever the library's size; links are signed for the
        returned page only.
        """
        self._settle_fetches_first()
        page_number, page_size = paging_params(query)
        order = _qualified(sort_clause(query, wire.ASSET_SORT_BY), "a")
        where, args = "a.account = ?", [account]
        group_id = query.get("group_id")
        statuses = statuses_param(query)
        with self.store.tx() as db:
            self._progress(db)
            if group_id:
                self._group(db, account, group_id)
                where += " AND a.group_id = ?"
                args.append(group_id)
            else:
                where += " AND a.group_id IN (SELECT id FROM groups WHERE account = ?"
                where += " AND group_type = ?)"
                args += [account, group_type_param(query)]
            if statuses:
                where += f" AND a.status IN ({','.join('?' * len(statuses))})"
                args.extend(statuses)
            if query.get("name"):
                where += " AND instr(lower(a.name), lower(?)) > 0"
                args.append(query["name"])
            total = db.execute(f"SELECT COUNT(*) FROM assets a WHERE {where}", args).fetchone()[0]
            page = f"SELECT a.rowid FROM assets a WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
            rows = db.execute(
                f"SELECT a.* FROM assets a WHERE a.rowid IN ({page}) ORDER BY {order}",
                [*args, page_size, (page_number - 1) * page_size],
            ).fetchall()
        return {
            "TotalCount": total,
            "Items": [views.asset_view(r, self._asset_url(r, root)) for r in rows],
            "PageNumber": page_number,
            "PageSize": page_size,
        }

    def get_asset(self, account: str, asset_id: str, root: str) -> dict[str, Any]:
        """``GET /asset/files/{id}`` with a fresh signed ``URL`` when Active."""
        self._settle_fetches_first()
        with self.store.tx() as db:
            self._progress(db)
            row = self._asset(db, account, asset_id)
        return views.asset_view(row, self._asset_url(row, root))

    def delete_asset(self, account: str, asset_id: str) -> dict[str, Any]:
        """``DELETE /asset/files/{id}`` (frees a slot of the upload cap) -> ``{}``."""
        with self.store.tx() as db:
            row = self._asset(db, account, asset_id)
            db.execute("DELETE FROM blobs WHERE id = ?", (row["blob_id"],))
            db.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
        return {}

    def _asset(self, db: sqlite3.Connection, account: str, asset_id: str) -> sqlite3.Row:
        row = db.execute(
            "SELECT * FROM assets WHERE id = ? AND account = ?", (asset_id, account)
        ).fetchone()
        if row is None:
            raise not_found("asset", asset_id, "asset_id")
        return cast(sqlite3.Row, row)

    def _asset_url(self, row: sqlite3.Row, root: str) -> str:
        if row["status"] != "Active" or not row["blob_id"]:
            return ""
        return self.signed_url(root, row["blob_id"], self.config.url_ttl)

    # ------------------------------------------------------------------ files
    def signed_url(self, root: str, blob_id: str, ttl: float) -> str:
        """A download link for a stored file, valid ``ttl`` seconds from now."""
        path = FILES_PREFIX + blob_id
        return f"{root}{path}?{self.signer.query(path, self.now(), ttl)}"

    def open_file(self, path: str, params: Mapping[str, str]) -> tuple[bytes, str]:
        """The bytes and MIME type behind a signed link; 403 when expired or tampered."""
        problem = self.signer.check(path, dict(params), self.now())
        if problem == "expired":
            raise ApiError(
                403,
                wire.CODE_ACCESS_DENIED,
                "This download link has expired; fetch the asset or task again for a fresh URL.",
                "X-Tos-Expires",
            )
        if problem is not None:
            raise ApiError(
                403,
                wire.CODE_ACCESS_DENIED,
                "The download link's signature is invalid.",
                "X-Tos-Signature",
            )
        blob_id = path[len(FILES_PREFIX) :]
        with self.store.tx() as db:
            row = db.execute("SELECT * FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        if row is None:
            raise not_found("file", blob_id, None)
        return bytes(row["data"]), str(row["media_type"])

    def _internal_bytes(self, url: str) -> bytes | None:
        parts = urlsplit(url)
        if not parts.hostname or not is_loopback_host(parts.hostname):
            return None
        if parts.path.startswith(SAMPLES_PREFIX):
            from orca_nb.sandbox.samples import SAMPLES, sample_bytes

            filename = parts.path[len(SAMPLES_PREFIX) :]
            return sample_bytes(filename) if filename in SAMPLES else None
        if parts.path.startswith(FILES_PREFIX):
            params = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            try:
                return self.open_file(parts.path, params)[0]
            except ApiError:
                return None
        return None

    # ------------------------------------------------------------------ real-human sessions
    def start_session(self, account: str, body: object, root: str) -> dict[str, Any]:
        """``POST /asset/real-human/sessions`` -> ``{session_id, h5_link, status}``."""
        body = {} if body is None else json_object(body)
        return_url = body.get("return_url")
        if return_url is not None:
            http_url(return_url, "return_url", max_chars=RETURN_URL_MAX_CHARS)
        extra = {k: v for k, v in body.items() if k != "return_url"}
        now = self.now()
        with self.store.tx() as db:
            sid = self._new_token(db, "sessions", "", wire.SESSION_ID_CHARS)
            db.execute(
                "INSERT INTO sessions (id, account, status, return_url, extra, created, expires)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    sid,
                    account,
                    "pending",
                    return_url,
                    json.dumps(extra),
                    now,
                    now + self.config.session_ttl,
                ),
            )
        return {"session_id": sid, "h5_link": self.h5_link(root, sid), "status": "pending"}

    def h5_link(self, root: str, session_id: str) -> str:
        """The page a person opens to verify."""
        return f"{root}{H5_PREFIX}{session_id}"

    def get_session(self, account: str, session_id: str, root: str) -> dict[str, Any]:
        """``GET /asset/real-human/sessions/{id}``: status pending|success|failed|expired."""
        with self.store.tx() as db:
            row = self._session(db, session_id, account)
        return views.session_view(row, self.h5_link(root, session_id))

    def _session(self, db: sqlite3.Connection, session_id: str, account: str | None) -> sqlite3.Row:
        row = db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None or (account is not None and row["account"] != account):
            raise not_found("session", session_id, "session_id")
        if row["status"] == "pending" and self.now() > row["expires"]:
            db.execute("UPDATE sessions SET status = 'expired' WHERE id = ?", (session_id,))
            row = db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return cast(sqlite3.Row, row)

    def h5_session(self, session_id: str) -> dict[str, Any]:
        """What the H5 page shows: status, group, error (404 for unknown sessions)."""
        with self.store.tx() as db:
            row = self._session(db, session_id, None)
        return dict(row)

    def h5_complete(self, session_id: str, root: str, *, consent: bool, choice: str) -> H5Result:
        """The person's action on the H5 page: ``choice`` is a sample person (the face shown to
        the camera), ``"two_faces"`` or ``"no_face"``. Sessions are single use."""
        from orca_nb.sandbox.faces import PEOPLE

        with self.store.tx() as db:
            row = self._session(db, session_id, None)
            if row["status"] != "pending":
                raise ApiError(
                    409,
                    "SessionNotPending",
                    f"This verification session is already {row['status']}; start a new one.",
                    "session_id",
                )
            if not consent:
                raise bad_request("Please tick the consent box to continue.", "consent")
            now = self.now()
            if choice in H5_FAILURES:
                code, message = H5_FAILURES[choice]
                db.execute(
                    "UPDATE sessions SET status='failed', error_code=?, error_message=?,"
                    " finished=? WHERE id=?",
                    (code, message, now, session_id),
                )
                status, group_id = "failed", None
            elif choice in PEOPLE:
                group_id = self.insert_group(
                    db,
                    row["account"],
                    f"{choice} (verified)",
                    "Real-human group verified on the sandbox H5 page.",
                    "LivenessFace",
                    person=choice,
                )
                db.execute(
                    "UPDATE sessions SET status='success', group_id=?, person=?, finished=?"
                    " WHERE id=?",
                    (group_id, choice, now, session_id),
                )
                status, message = "success", ""
            else:
                raise bad_request(f"Unknown choice {choice!r}.", "choice")
        params = {"status": status, "session_id": session_id, "group_id": group_id or ""}
        target = row["return_url"] or f"{root}{H5_PREFIX}{session_id}/done"
        if row["return_url"]:
            target += ("&" if "?" in target else "?") + urlencode(params)
        return H5Result(status, session_id, group_id, target, message)

    # ------------------------------------------------------------------ video tasks
    def fail_next_tasks(
        self,
        n: int = 1,
        code: str = wire.TASK_ERROR_INTERNAL,
        message: str = "The sandbox was told to fail this task.",
    ) -> None:
        """Make the next ``n`` created tasks end ``failed`` with this error (for demos/tests)."""
        self._fail_next.extend([(code, message)] * n)

    def create_task(self, account: str, body: object) -> dict[str, Any]:
        """``POST /video/generations`` (and its alias ``POST /videos``): check the body, hold
        the tokens of the declared duration on the play balance (403 when it does not cover
        them), queue a task and start its render."""
        self._settle_fetches_first()
        with self.store.tx() as db:
            request = parse_video_request(body, lambda aid: self._asset_lookup(db, account, aid))
            now = self.now()
            self._progress(db)  # tasks finished by now settle before the balance is read
            params = request.to_json()
            hold = billing.task_tokens(params, ratio=_known_ratio(request))
            billing.check_hold(db, account, hold, self.config)  # 403 before anything exists
            tid = self._new_token(db, "tasks", "task_", 32)
            params["seed_used"] = request.seed if request.seed >= 0 else self.rng.randrange(2**31)
            params["hold_tokens"] = hold
            render_state, render_error, error_code = "pending", None, None
            if self._fail_next:
                error_code, render_error = self._fail_next.pop(0)
                render_state = "failed"
            db.execute(
                "INSERT INTO tasks (id, account, model, status, progress, params, body,"
                " error_code, render_state, render_error, created, updated, seq)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    tid, account, request.model, "queued", 0, json.dumps(params),
                    json.dumps(body), error_code, render_state, render_error, now, now,
                    self.store.next_seq(db),
                ),
            )  # fmt: skip
            row = db.execute("SELECT * FROM tasks WHERE id = ?", (tid,)).fetchone()
        if render_state == "pending":
            self._submit_render(tid)
            if self.config.processing == "instant":
                self.wait_for_renders([tid])
        return views.task_created_view(row)

    def get_task(
        self, account: str, task_id: str, root: str, shape: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """``GET /video/generations/{id}`` in ``shape`` (default: the configured one) ->
        (HTTP status, body). Unknown tasks: new-api's 400 ``task_not_exist`` in the wrapper
        shapes (NEWAPI), the 404 envelope in the others."""
        shape = shape or self.config.task_shape
        if shape not in TASK_SHAPES:
            raise bad_request(f"task shape must be one of {', '.join(TASK_SHAPES)}", "shape")
        with self.store.tx() as db:
            self._progress(db)
            row = db.execute(
                "SELECT * FROM tasks WHERE id = ? AND account = ?", (task_id, account)
            ).fetchone()
        if row is None:
            if shape.startswith("newapi"):
                code = wire.CODE_TASK_NOT_EXIST
                return 400, {"code": code, "message": code, "data": None}
            raise not_found("task", task_id, "task_id")
        ttl = self.config.video_url_ttl
        return 200, views.TASK_VIEWS[shape](row, lambda blob: self.signed_url(root, blob, ttl))

    # ------------------------------------------------------------------ balance and models
    def set_balance(self, account: str, usd: float | None) -> None:
        """Give ``account`` its own play balance (USD before spending); ``None``: the default."""
        if usd is not None and (
            isinstance(usd, bool) or not isinstance(usd, int | float) or not 0 <= usd < 1e15
        ):
            raise ValueError("the balance must be a number of USD from 0")
        with self.store.tx() as db:
            if usd is None:
                db.execute("DELETE FROM balances WHERE account = ?", (account,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO balances (account, usd) VALUES (?, ?)",
                    (account, float(usd)),
                )

    def billing_subscription(self, account: str) -> dict[str, Any]:
        """``GET /dashboard/billing/subscription`` (see :mod:`orca_nb.sandbox.billing`)."""
        with self.store.tx() as db:
            self._progress(db)
            return billing.subscription_view(db, account, self.config)

    def billing_usage(self, account: str) -> dict[str, Any]:
        """``GET /dashboard/billing/usage``: spend so far in US cents."""
        with self.store.tx() as db:
            self._progress(db)
            return billing.usage_view(db, account, self.config)

    def list_models(self, account: str) -> dict[str, Any]:
        """``GET /models`` (see :mod:`orca_nb.sandbox.models`)."""
        return models.model_list(include_unroutable=self.config.list_unroutable_models)

    def _asset_lookup(
        self, db: sqlite3.Connection, account: str, asset_id: str
    ) -> dict[str, Any] | None:
        self._progress(db)
        row = db.execute(
            "SELECT * FROM assets WHERE id = ? AND account = ?", (asset_id, account)
        ).fetchone()
        return None if row is None else dict(row)

    def _submit_render(self, task_id: str) -> None:
        from orca_nb.sandbox.rendering import render_task

        if self._closed:
            return
        future = self._executor.submit(render_task, self, task_id)
        with self._lock:
            self._renders[task_id] = future
        future.add_done_callback(lambda _f: self._forget_render(task_id))

    def _forget_render(self, task_id: str) -> None:
        with self._lock:
            self._renders.pop(task_id, None)

    def _resume_renders(self) -> None:
        with self.store.tx() as db:
            pending = [
                r["id"] for r in db.execute("SELECT id FROM tasks WHERE render_state = 'pending'")
            ]
        for task_id in pending:
            self._submit_render(task_id)

    def internal_bytes(self, url: str) -> bytes | None:
        """Bytes of the sandbox's own sample/file URLs, ``None`` for other URLs."""
        return self._internal_bytes(url)

    # ------------------------------------------------------------------ progression
    def _progress(self, db: sqlite3.Connection, *, force_manual: bool = False) -> None:
        """Apply every transition that is due now (timed) or by step count (manual)."""
        mode = "manual" if force_manual else self.config.processing
        lifecycle.advance(db, self.config, self.now(), mode)

    def _new_id(self, db: sqlite3.Connection, kind: str, table: str, now: float) -> str:
        """A free ``<kind>-<time>-<5 alnum>`` id of ``table`` (inside the inserting write
        transaction, whose lock makes check-then-insert atomic across processes)."""
        return self._free_id(db, table, lambda: ids.resource_id(kind, now))

    def _new_token(self, db: sqlite3.Connection, table: str, prefix: str, length: int) -> str:
        """A free ``prefix`` + random token id of ``table`` (see :meth:`_new_id`)."""
        return self._free_id(db, table, lambda: prefix + ids.token(length))

    def _free_id(self, db: sqlite3.Connection, table: str, draw: Callable[[], str]) -> str:
        for _ in range(100):  # 36**5 suffixes per second: a retry is already rare
            candidate = draw()
            if db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (candidate,)).fetchone() is None:
                return candidate
        raise RuntimeError(f"could not find a free id in {table}")  # pragma: no cover


def _known_ratio(request: VideoRequest) -> str | None:
    """The output ratio an ``adaptive`` request will get when its first image/video reference
    has known dimensions (as the render picks it); ``None`` when not known yet."""
    if request.ratio != "adaptive":
        return request.ratio
    from orca_nb.sandbox.rendering import nearest_ratio

    for ref in request.refs:
        if ref.kind in ("image", "video") and ref.width and ref.height:
            return nearest_ratio(ref.width, ref.height)
    return None


def _qualified(order: str, alias: str) -> str:
    """An ``ORDER BY`` clause of :func:`sort_clause` with its columns prefixed by ``alias``."""
    return ", ".join(f"{alias}.{term.strip()}" for term in order.split(","))


__all__ = ["Backend", "H5Result", "VideoRequest", "account_id"]
