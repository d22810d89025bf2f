"""Assets (``/asset/files``) and the files behind their signed links, as part of the
:class:`~orca_nb.sandbox.backend.Backend`: uploads are answered at once and fetched and read on
the fetch worker (DOC 12.7), then settle per :mod:`orca_nb.sandbox.lifecycle`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from orca_nb import wire
from orca_nb.sandbox import lifecycle, shapes
from orca_nb.sandbox.clock import ManualClock
from orca_nb.sandbox.config import SandboxConfig
from orca_nb.sandbox.db import Row, Tx
from orca_nb.sandbox.errors import ErrorReply, bad_request, not_found
from orca_nb.sandbox.fields import (
    group_type_param,
    http_url,
    json_object,
    moderation_field,
    name_field,
    paging_params,
    sort_param,
    statuses_param,
)
from orca_nb.sandbox.groups import Groups
from orca_nb.sandbox.processing import DownloadError, Verdict, evaluate, fetch, is_loopback_host

log = logging.getLogger("orca_nb.sandbox.backend")

SAMPLES_PREFIX = "/sandbox/samples/"
FILES_PREFIX = "/sandbox/files/"
FETCH_WORKERS = 4  # uploads fetched at once (a slow host does not hold up the others)


class Assets(Groups):
    """Backend methods for assets, the fetch worker and files (mixed into ``Backend``)."""

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
        with self.db.tx() as db:
            self._group(db, account, group_id, "GroupId")
            self._check_cap(db, account)
            aid = self.insert_asset(
                db, account, group_id, name, str(asset_type), url, moderation, None, None
            )
        self._submit_fetch(aid, self.config)  # DOC 12.7: answered now; fetched after the reply
        return {"Id": aid}

    def _check_cap(self, db: Tx, account: str) -> None:
        if db.count_assets(account) >= self.config.asset_cap:
            raise ErrorReply(
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
        db: Tx,
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
        db.insert_asset(
            {
                "id": aid, "account": account, "group_id": group_id, "name": name,
                "asset_type": asset_type, "source_url": source_url, "status": status,
                "error_code": verdict.code if settled else None,
                "error_message": verdict.message if settled else None,
                "verdict_code": verdict.code, "verdict_message": verdict.message,
                "moderation": moderation, "blob_id": blob_id, "width": verdict.width,
                "height": verdict.height, "seconds": verdict.seconds, "created": now,
                "updated": now, "fetch_state": "pending" if pending else "done",
                "fetched": None if pending else now,
            }
        )  # fmt: skip
        return aid

    def _store_blob(self, db: Tx, verdict: Verdict | None, data: bytes | None) -> str | None:
        if verdict is None or data is None or verdict.code is not None:
            return None
        blob_id = self._new_token(db, "blobs", "", 24)
        db.insert_blob(blob_id, str(verdict.media_type), data)
        return blob_id

    # ------------------------------------------------------------------ the fetch worker
    def _submit_fetch(self, asset_id: str, config: SandboxConfig) -> None:
        """Queue the fetch of ``asset_id`` under ``config`` (the settings of its upload)."""
        self._start_job(self._fetcher, self._fetches, asset_id, self._fetch_asset, asset_id, config)

    def _fetch_asset(self, asset_id: str, config: SandboxConfig) -> None:
        """Fetch and read one pending upload, then store its verdict (on the fetch worker)."""
        try:
            with self.db.tx() as db:
                row = db.fetch_job(asset_id)
            if row is None:
                return  # deleted (or reset) before its turn
            verdict, data = self._process(
                row["source_url"], row["asset_type"], row["person"], config
            )
        except Exception as exc:  # a processing bug must fail the asset, not leave it pending
            log.exception("sandbox processing of %s failed", asset_id)
            verdict, data = Verdict(wire.ASSET_ERROR_CORRUPT, f"processing failed: {exc}"), None
        with self.db.tx() as db:
            if not db.fetch_pending(asset_id):
                return
            blob_id = self._store_blob(db, verdict, data)
            db.record_fetch(
                asset_id,
                code=verdict.code,
                message=verdict.message,
                blob_id=blob_id,
                width=verdict.width,
                height=verdict.height,
                seconds=verdict.seconds,
                now=self.now(),
            )
            settled = db.asset_by_id(asset_id)
            if config.processing == "instant" and settled is not None:  # settled when read
                lifecycle.settle_asset(db, settled, self.now())

    def wait_for_fetches(self, timeout: float | None = None) -> None:
        """Block until every upload fetched so far has been read (each at most ``timeout`` s,
        default the fetch timeout plus a margin for reading the media)."""
        limit = self.config.fetch_timeout + 60.0 if timeout is None else timeout
        self._wait_jobs(self._fetches, None, limit, "upload fetch")

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
        with self.db.tx() as db:
            pending = db.pending_fetches()
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
        sort = sort_param(query, wire.ASSET_SORT_BY)
        group_id = query.get("group_id")
        statuses = statuses_param(query)
        group_type = "" if group_id else group_type_param(query)
        with self.db.tx() as db:
            self._progress(db)
            if group_id:
                self._group(db, account, group_id)
            total, rows = db.asset_page(
                account,
                group_id=group_id,
                group_type=group_type,
                statuses=statuses,
                name=query.get("name"),
                sort=sort,
                limit=page_size,
                offset=(page_number - 1) * page_size,
            )
        return {
            "TotalCount": total,
            "Items": [shapes.asset_view(r, self._asset_url(r, root)) for r in rows],
            "PageNumber": page_number,
            "PageSize": page_size,
        }

    def get_asset(self, account: str, asset_id: str, root: str) -> dict[str, Any]:
        """``GET /asset/files/{id}`` with a fresh signed ``URL`` when Active."""
        self._settle_fetches_first()
        with self.db.tx() as db:
            self._progress(db)
            row = self._asset(db, account, asset_id)
        return shapes.asset_view(row, self._asset_url(row, root))

    def delete_asset(self, account: str, asset_id: str) -> dict[str, Any]:
        """``DELETE /asset/files/{id}`` (frees a slot of the upload cap) -> ``{}``."""
        with self.db.tx() as db:
            row = self._asset(db, account, asset_id)
            db.delete_asset(asset_id, row["blob_id"])
        return {}

    def _asset(self, db: Tx, account: str, asset_id: str) -> Row:
        row = db.asset(account, asset_id)
        if row is None:
            raise not_found("asset", asset_id, "asset_id")
        return row

    def _asset_url(self, row: Row, root: str) -> str:
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
            raise ErrorReply(
                403,
                wire.CODE_ACCESS_DENIED,
                "This download link has expired; fetch the asset or task again for a fresh URL.",
                "X-Tos-Expires",
            )
        if problem is not None:
            raise ErrorReply(
                403,
                wire.CODE_ACCESS_DENIED,
                "The download link's signature is invalid.",
                "X-Tos-Signature",
            )
        blob_id = path[len(FILES_PREFIX) :]
        with self.db.tx() as db:
            row = db.blob(blob_id)
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
            except ErrorReply:
                return None
        return None

    def internal_bytes(self, url: str) -> bytes | None:
        """Bytes of the sandbox's own sample/file URLs, ``None`` for other URLs."""
        return self._internal_bytes(url)
