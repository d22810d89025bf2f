"""The usage ledger: every video submission, written before it is sent and followed to its end.

:class:`Ledger` implements :class:`orca_nb.client.hooks.VideoLedger`, so ``Orca(ledger=...)``
records each submission; it also keeps asset/group snapshots for the reports.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from orca_nb import wire
from orca_nb.compose.cost import estimate_tokens
from orca_nb.ledger.backends import Database
from orca_nb.ledger.context import current_submission_context
from orca_nb.ledger.location import connect
from orca_nb.ledger.marks import UNSET, Unset, VariantMark, read_marks, write_mark
from orca_nb.ledger.records import (
    AssetSnapshot,
    GroupSnapshot,
    TaskState,
    agrees,
    narrow,
    parse_asset,
    parse_group,
    parse_request,
    parse_task,
    stored_body,
)
from orca_nb.ledger.schema import (
    CODE_NOT_CREATED,
    CODE_OUTCOME_UNKNOWN,
    STATUS_REJECTED,
    STATUS_SUBMITTING,
    STATUS_UNKNOWN,
)
from orca_nb.ledger.service import service_condition

#: Statuses after which a submission never changes again.
TERMINAL_STATUSES: frozenset[str] = wire.TERMINAL_TASK_STATUSES | {STATUS_REJECTED}
#: Milliseconds in a day: ``submitted_at // DAY_MS`` is the UTC day number.
DAY_MS = 86_400_000
SEEN_REFRESH_MS = 600_000  # an unchanged snapshot is rewritten at most every 10 minutes
_ESTIMATES_META = "token_estimates_backfilled"  # ledger_meta row: older rows were estimated
_STATUS_ORDER = {
    s: i
    for i, s in enumerate((STATUS_SUBMITTING, STATUS_UNKNOWN, *wire.TASK_STATUSES, STATUS_REJECTED))
}
#: Statuses :meth:`Ledger.settle` accepts: an unknown outcome, or a row a dead kernel left.
SETTLEABLE_STATUSES: frozenset[str] = frozenset({STATUS_UNKNOWN, STATUS_SUBMITTING})
_TERMINAL_SQL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))


@dataclass(frozen=True)
class Unfinished:
    """A submission the server accepted whose task has not reached a terminal status."""

    submission_id: str
    task_id: str
    status: str
    model: str
    submitter: str
    base_url: str  # the service name as recorded (a base URL, or ``sandbox:local``)
    submitted_at: datetime


class Ledger:
    """A durable record of video submissions (SQLite or PostgreSQL, see :func:`open_ledger`).

    ``clock`` returns unix seconds; tests and the workload generator pass their own.
    """

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self._clock = clock
        self._backfill_estimates()
        # What this ledger last wrote per asset/group: (content, written at ms). Live panels list
        # the same rows every refresh; unchanged rows are not written again until
        # SEEN_REFRESH_MS has passed, so a refresh costs no disk write at all.
        self._written: dict[tuple[str, str], tuple[AssetSnapshot | GroupSnapshot, int]] = {}

    @property
    def url(self) -> str:
        """The URL this ledger was opened from (a PostgreSQL password is never shown)."""
        return self.database.url

    # ------------------------------------------------------------------ VideoLedger hooks
    def before_submit(self, body: Mapping[str, Any], *, submitter: str, base_url: str) -> str:
        """Record an intended submission durably; return its new submission id. ``base_url``
        is the client's service name (``client.ledger_service``: its base URL, or
        ``sandbox:local`` for a sandbox on this machine; :mod:`orca_nb.ledger.service`)."""
        if submitter.startswith(wire.KEY_PREFIX):
            raise ValueError("submitter must be a key label (hooks.key_label), never the key")
        request = parse_request(body)
        now = self._now_ms()
        submission_id = "sub-" + uuid.uuid4().hex
        tag = current_submission_context()
        groups = self._groups_of([i.asset_id for i in request.items if i.asset_id])
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "INSERT INTO submissions (id, task_id, submitter, base_url, model, prompt, params,"
                " mode, ratio, resolution, duration, generate_audio, n_items, status, progress,"
                " submitted_at, updated_at, day, estimated_tokens, estimate_source,"
                " experiment_id, variant_id)"
                " VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
                (
                    submission_id,
                    submitter,
                    base_url,
                    request.model,
                    request.prompt,
                    request.params,
                    request.mode,
                    request.ratio,
                    request.resolution,
                    request.duration,
                    None if request.generate_audio is None else int(request.generate_audio),
                    len(request.items),
                    STATUS_SUBMITTING,
                    now,
                    now,
                    now // DAY_MS,
                    request.estimated_tokens,
                    request.estimate_source,
                    tag.experiment_id if tag else None,
                    tag.variant_id if tag else None,
                ),
            ),
            _event(submission_id, STATUS_SUBMITTING, 0, now),
        ]
        seen_sources: set[str] = set()
        seen_groups: set[str] = set()
        for item in request.items:
            key = item.asset_id or item.source
            group = groups.get(item.asset_id or "")
            first_source = key not in seen_sources
            first_group = group is not None and group not in seen_groups
            seen_sources.add(key)
            if group is not None:
                seen_groups.add(group)
            statements.append(
                (
                    "INSERT INTO submission_items (submission_id, position, ordinal, asset_type,"
                    " role, source, asset_id, asset_key, group_id, first_of_source,"
                    " first_of_group, submitted_at, model)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        submission_id,
                        item.position,
                        item.ordinal,
                        item.asset_type,
                        item.role,
                        item.source,
                        item.asset_id,
                        key,
                        group,
                        int(first_source),
                        int(first_group),
                        now,
                        request.model,
                    ),
                )
            )
        self.database.write(statements)
        return submission_id

    def after_submit(self, submission_id: str, task: Mapping[str, Any]) -> None:
        """Record the task the server created for a submission."""
        state = parse_task(task)
        now = self._now_ms()
        current = self._status_of(submission_id)
        if current is None:
            raise KeyError(f"no submission {submission_id!r} in ledger {self.url}")
        accepted = (
            "UPDATE submissions SET accepted_at = COALESCE(accepted_at, ?) WHERE id = ?",
            (now, submission_id),
        )
        status = state.status or "queued"
        self._apply(submission_id, current, _with_status(state, status), now, extra=[accepted])

    def submit_failed(self, submission_id: str, *, code: str | None, message: str) -> None:
        """Record that the server refused the submission: it proved nothing was created."""
        self._fail(submission_id, STATUS_REJECTED, code, message)

    def submit_unknown(self, submission_id: str, *, code: str | None, message: str) -> None:
        """Record that the submission's outcome cannot be known: the task may exist.

        The row's status becomes ``unknown`` (not terminal) until :meth:`settle` says what
        happened; ``code`` defaults to ``outcome_unknown``.
        """
        self._fail(submission_id, STATUS_UNKNOWN, code or CODE_OUTCOME_UNKNOWN, message)

    def _fail(self, submission_id: str, status: str, code: str | None, message: str) -> None:
        now = self._now_ms()
        current = self._status_of(submission_id)
        if current is None:
            raise KeyError(f"no submission {submission_id!r} in ledger {self.url}")
        state = parse_task({"status": status, "error": {"code": code, "message": message}})
        self._apply(submission_id, current, state, now)

    def settle(
        self,
        submission_id: str,
        *,
        task_id: str | None = None,
        created: bool | None = None,
    ) -> dict[str, Any]:
        """Say what became of a submission whose outcome was unknown (or left ``submitting``).

        ``task_id="..."``: the task was found (dashboard, billing, a colleague); it is attached
        and :func:`~orca_nb.ledger.reattach` (or any ``client.videos.get`` of it) follows it from
        there. ``created=False``: no task was created; the row becomes ``rejected`` with
        ``error_code`` ``not_created``. Returns the updated submission (:meth:`submission`).
        Raises ``KeyError`` for an unknown id, ``ValueError`` for a row that is not
        ``unknown``/``submitting`` or a task id another submission already has.
        """
        current = self._status_of(submission_id)
        if current is None:
            raise KeyError(f"no submission {submission_id!r} in ledger {self.url}")
        if created is not None and not isinstance(created, bool):
            raise ValueError(f"created must be True or False, got {created!r}")
        if created is False and task_id is not None:
            raise ValueError("pass task_id= (it was created) or created=False, not both")
        if created is not False and task_id is None:
            raise ValueError("pass task_id='<the task id you found>', or created=False")
        if current not in SETTLEABLE_STATUSES:
            raise ValueError(
                f"submission {submission_id} is {current!r}, not unknown: nothing to settle"
            )
        now = self._now_ms()
        if task_id is None:
            self._fail(
                submission_id,
                STATUS_REJECTED,
                CODE_NOT_CREATED,
                "settled by hand: no task was created for this submission",
            )
        else:
            if not isinstance(task_id, str) or not task_id.strip() or task_id != task_id.strip():
                raise ValueError(f"task_id must be the task's id, got {task_id!r}")
            _, rows = self.database.query(
                "SELECT id FROM submissions WHERE task_id = ? AND id <> ?",
                (task_id, submission_id),
            )
            if rows:
                raise ValueError(f"task {task_id} already belongs to submission {rows[0][0]}")
            self.database.write(
                [
                    (
                        "UPDATE submissions SET task_id = ?, status = ?, error_code = NULL,"
                        " error_message = NULL, accepted_at = COALESCE(accepted_at, ?),"
                        " updated_at = ? WHERE id = ?",
                        (task_id, STATUS_UNKNOWN, now, now, submission_id),
                    ),
                    _event(submission_id, STATUS_UNKNOWN, None, now),
                ]
            )
        record = self.submission(submission_id)
        assert record is not None
        return record

    def on_task(self, task: Mapping[str, Any]) -> None:
        """Record a fetched task state; tasks this ledger never saw submitted are ignored."""
        state = parse_task(task)
        if not state.task_id:
            return
        _, rows = self.database.query(
            "SELECT id, status FROM submissions WHERE task_id = ? ORDER BY submitted_at DESC",
            (state.task_id,),
        )
        if rows:
            self._apply(str(rows[0][0]), str(rows[0][1]), state, self._now_ms())

    # ------------------------------------------------------------------ snapshots
    def snapshot_assets(self, assets: Iterable[Any] = (), groups: Iterable[Any] = ()) -> int:
        """Remember assets' and groups' name, kind, status (and an asset's group).

        Items are dicts with the wire's PascalCase keys (``Id``, ``Name``, ``AssetType``,
        ``Status``, ``GroupId``, ``Error``, ``GroupType``, ``CreateTime``) or client models.
        Returns how many snapshots were written: a row whose content this ledger already wrote
        less than ``SEEN_REFRESH_MS`` ago is skipped (``last_seen_at`` has that resolution).
        """
        now = self._now_ms()
        asset_rows = [a for a in map(parse_asset, assets) if self._changed("a", a, now)]
        group_rows = [g for g in map(parse_group, groups) if self._changed("g", g, now)]
        statements: list[tuple[str, Sequence[Any]]] = []
        for a in asset_rows:
            statements.append(
                (
                    "INSERT INTO assets (asset_id, name, asset_type, status, group_id, error_code,"
                    " error_message, created_at, first_seen_at, last_seen_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id) DO UPDATE SET"
                    " name = COALESCE(excluded.name, assets.name),"
                    " asset_type = COALESCE(excluded.asset_type, assets.asset_type),"
                    " status = COALESCE(excluded.status, assets.status),"
                    " group_id = COALESCE(excluded.group_id, assets.group_id),"
                    " error_code = excluded.error_code, error_message = excluded.error_message,"
                    " created_at = COALESCE(excluded.created_at, assets.created_at),"
                    " last_seen_at = excluded.last_seen_at",
                    (
                        a.asset_id,
                        a.name,
                        a.asset_type,
                        a.status,
                        a.group_id,
                        a.error_code,
                        a.error_message,
                        a.created_at,
                        now,
                        now,
                    ),
                )
            )
            if a.group_id:
                statements += _backfill_group(a.asset_id, a.group_id)
        for g in group_rows:
            statements.append(
                (
                    "INSERT INTO asset_groups (group_id, name, group_type, created_at,"
                    " first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (group_id) DO UPDATE SET"
                    " name = COALESCE(excluded.name, asset_groups.name),"
                    " group_type = COALESCE(excluded.group_type, asset_groups.group_type),"
                    " created_at = COALESCE(excluded.created_at, asset_groups.created_at),"
                    " last_seen_at = excluded.last_seen_at",
                    (g.group_id, g.name, g.group_type, g.created_at, now, now),
                )
            )
        if statements:
            self.database.write(statements)
        return len(asset_rows) + len(group_rows)

    def _changed(self, kind: str, row: AssetSnapshot | GroupSnapshot, now: int) -> bool:
        """Whether ``row`` needs writing (new, changed, or last written long ago); remember it."""
        key = (kind, row.asset_id if isinstance(row, AssetSnapshot) else row.group_id)
        seen = self._written.get(key)
        if seen is not None and seen[0] == row and now - seen[1] < SEEN_REFRESH_MS:
            return False
        self._written[key] = (row, now)
        return True

    def mark_deleted(self, *, asset_ids: Iterable[str] = (), group_ids: Iterable[str] = ()) -> None:
        """Record that assets or groups were deleted (their snapshots stay for the reports).

        Deleting a group deletes its assets too (the API cascades).
        """
        now = self._now_ms()
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "UPDATE assets SET deleted_at = COALESCE(deleted_at, ?) WHERE asset_id = ?",
                (now, asset_id),
            )
            for asset_id in asset_ids
        ]
        for group_id in group_ids:
            statements.append(
                (
                    "UPDATE asset_groups SET deleted_at = COALESCE(deleted_at, ?)"
                    " WHERE group_id = ?",
                    (now, group_id),
                )
            )
            statements.append(
                (
                    "UPDATE assets SET deleted_at = COALESCE(deleted_at, ?) WHERE group_id = ?",
                    (now, group_id),
                )
            )
        if statements:
            self.database.write(statements)

    # ------------------------------------------------------------------ reading
    def unfinished(
        self, *, submitter: str | None = None, base_url: str | None = None
    ) -> list[Unfinished]:
        """Accepted submissions whose task is not terminal yet, oldest first.

        In a shared ledger, ``submitter`` (a key label) and ``base_url`` (a service name:
        ``client.ledger_service``) keep the tasks one client can actually fetch; ``sandbox:local``
        also finds rows earlier versions recorded with the sandbox's loopback URL.
        """
        conditions, params = _key_filter(submitter, base_url)
        conditions += ["task_id IS NOT NULL", f"status NOT IN ({_TERMINAL_SQL})"]
        _, rows = self.database.query(
            "SELECT id, task_id, status, model, submitter, base_url, submitted_at"
            f" FROM submissions WHERE {' AND '.join(conditions)} ORDER BY submitted_at, id",
            params,
        )
        return [Unfinished(r[0], r[1], r[2], r[3], r[4], r[5], _datetime(int(r[6]))) for r in rows]

    def unsettled(
        self, *, submitter: str | None = None, base_url: str | None = None
    ) -> list[dict[str, Any]]:
        """Submissions whose outcome is unknown and not settled yet (no task id), oldest first:
        ``submission_id``, ``submitted_at``, ``model``, ``prompt``, ``error_message``. Settle
        each with :meth:`settle`. ``submitter``/``base_url`` narrow as in :meth:`unfinished`."""
        conditions, params = _key_filter(submitter, base_url)
        conditions += ["status = ?", "task_id IS NULL"]
        params.append(STATUS_UNKNOWN)
        names, rows = self.database.query(
            "SELECT id AS submission_id, submitted_at, model, prompt, error_message"
            f" FROM submissions WHERE {' AND '.join(conditions)} ORDER BY submitted_at, id",
            params,
        )
        records = [dict(zip(names, r, strict=True)) for r in rows]
        for record in records:
            record["submitted_at"] = _datetime(int(record["submitted_at"]))
        return records

    def history(
        self,
        *,
        submitter: str | None = None,
        base_url: str | None = None,
        limit: int = 50,
        before: tuple[int, str] | None = None,
        experiments: bool = True,
    ) -> list[dict[str, Any]]:
        """Submissions newest first (a run history that survives restarts): ``submission_id``,
        ``task_id``, ``status``, ``model``, ``prompt``, ``params`` (the metadata JSON without
        ``content``), ``mode``, ``error_code``, ``error_message``, ``total_tokens``,
        ``estimated_tokens``, ``tokens_source``, ``submitted_at_ms``, ``finished_at_ms``,
        ``experiment_id``, ``variant_id`` and ``items`` (``(asset_type, role, source)`` per
        media item, in request order).

        ``submitter``/``base_url`` keep one key's runs on one service (``base_url``: a service
        name, as in :meth:`unfinished`); ``limit`` (1..1000) rows
        from after the cursor ``before`` (the last row's ``(submitted_at_ms, submission_id)``:
        "show more"); ``experiments=False`` leaves out what experiments sent.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise ValueError(f"limit must be a whole number from 1 to 1000, got {limit!r}")
        conditions, params = _key_filter(submitter, base_url)
        if not experiments:
            conditions.append("experiment_id IS NULL")
        if before is not None:
            at, sid = before
            conditions.append("(submitted_at < ? OR (submitted_at = ? AND id < ?))")
            params += [int(at), int(at), str(sid)]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        names, rows = self.database.query(
            "SELECT id AS submission_id, task_id, status, model, prompt, params, mode, error_code,"
            " error_message, total_tokens, estimated_tokens, tokens_source,"
            " submitted_at AS submitted_at_ms, finished_at AS finished_at_ms, experiment_id,"
            f" variant_id FROM submissions{where} ORDER BY submitted_at DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        records = [dict(zip(names, r, strict=True)) for r in rows]
        if records:
            ids = [str(r["submission_id"]) for r in records]
            marks = ", ".join("?" for _ in ids)
            _, items = self.database.query(
                "SELECT submission_id, asset_type, role, source FROM submission_items"
                f" WHERE submission_id IN ({marks}) ORDER BY submission_id, position",
                ids,
            )
            by_id: dict[str, list[tuple[str, str | None, str]]] = {}
            for sid, kind, role, source in items:
                by_id.setdefault(str(sid), []).append((str(kind), role, str(source)))
            for record in records:
                record["items"] = by_id.get(str(record["submission_id"]), [])
        return records

    def submission(self, submission_id: str) -> dict[str, Any] | None:
        """One submission as a dict (times as UTC datetimes) with its ``items`` and ``events``."""
        names, rows = self.database.query(
            "SELECT * FROM submissions WHERE id = ?", (submission_id,)
        )
        if not rows:
            return None
        record = {
            n: (_datetime(v) if n.endswith("_at") and v is not None else v)
            for n, v in zip(names, rows[0], strict=True)
        }
        item_names, items = self.database.query(
            "SELECT * FROM submission_items WHERE submission_id = ? ORDER BY position",
            (submission_id,),
        )
        record["items"] = [dict(zip(item_names, i, strict=True)) for i in items]
        _, events = self.database.query(
            "SELECT status, at FROM status_events WHERE submission_id = ? ORDER BY at, status",
            (submission_id,),
        )
        ordered = sorted(events, key=lambda e: (int(e[1]), _STATUS_ORDER.get(str(e[0]), 99)))
        record["events"] = [(str(s), _datetime(int(at))) for s, at in ordered]
        return record

    # ------------------------------------------------------------------ variant marks
    def mark_variant(
        self,
        experiment_id: str,
        variant_id: str,
        *,
        pinned: bool | None = None,
        rating: int | Unset | None = UNSET,
        tags: Sequence[str] | None = None,
        note: str | None = None,
    ) -> VariantMark:
        """Mark an experiment's variant; only the fields given change. Returns its mark.

        ``pinned=True`` makes it the experiment's one winner (unpinning any other);
        ``rating`` 1-5 (``None`` clears it); ``tags`` replace the tags (trimmed, de-duplicated,
        each at most 40 characters); ``note`` replaces the note (at most 2000 characters, ``''``
        clears it). Bad input raises ``ValueError`` and writes nothing.
        """
        write_mark(
            self.database,
            experiment_id,
            variant_id,
            now_ms=self._now_ms(),
            pinned=pinned,
            rating=rating,
            tags=tags,
            note=note,
        )
        found = read_marks(self.database, experiment_id, variant_id)
        return found.get(variant_id) or VariantMark.empty(experiment_id, variant_id)

    def variant_marks(self, experiment_id: str) -> dict[str, VariantMark]:
        """The marks of an experiment's variants, by variant id (variants never marked are
        absent: :meth:`VariantMark.empty` stands for them)."""
        return read_marks(self.database, experiment_id)

    def count(self) -> int:
        """How many submissions the ledger holds."""
        _, rows = self.database.query("SELECT COUNT(*) FROM submissions")
        return int(rows[0][0])

    def close(self) -> None:
        """Close the database connection."""
        self.database.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.database!r})"

    # ------------------------------------------------------------------ internals
    def _backfill_estimates(self) -> None:
        """Give rows written before token estimates existed their estimate, once per ledger.

        Succeeded rows without tokens then carry the estimate, marked by ``tokens_source``.
        The ledger knows no media lengths, so a row's estimate depends on its model, parameters
        and number of reference videos only: each distinct combination is worked out once."""
        _, done = self.database.query(
            "SELECT value FROM ledger_meta WHERE name = ?", (_ESTIMATES_META,)
        )
        if done:
            return
        _, rows = self.database.query(
            "SELECT id, model, params FROM submissions WHERE estimated_tokens IS NULL"
        )
        if rows:
            _, videos = self.database.query(
                "SELECT submission_id, source FROM submission_items WHERE asset_type = 'Video'"
            )
            by_id: dict[str, list[tuple[str, str | None, str]]] = {}
            for sid, source in videos:
                by_id.setdefault(str(sid), []).append(("Video", None, str(source)))
            worked: dict[tuple[str, str, int], tuple[int, str]] = {}
            updates: list[tuple[Any, ...]] = []
            for sid, model, params in rows:
                items = by_id.get(str(sid), [])
                key = (str(model), str(params or ""), len(items))
                if key not in worked:
                    estimate = estimate_tokens(stored_body(key[0], key[1], items))
                    worked[key] = (estimate.tokens, estimate.source)
                tokens, source = worked[key]
                updates.append((tokens, source, wire.TOKENS_REPORTED, source, tokens, sid))
            self.database.write_many(
                "UPDATE submissions SET estimated_tokens = ?, estimate_source = ?,"
                " tokens_source = CASE WHEN total_tokens IS NOT NULL THEN CAST(? AS TEXT)"
                " WHEN status = 'succeeded' THEN CAST(? AS TEXT) ELSE tokens_source END,"
                " total_tokens = CASE WHEN total_tokens IS NULL AND status = 'succeeded'"
                " THEN CAST(? AS BIGINT) ELSE total_tokens END WHERE id = ?",
                updates,
            )
            self.database.write(
                [
                    (
                        "UPDATE submission_items SET tokens = (SELECT s.total_tokens"
                        " FROM submissions s WHERE s.id = submission_items.submission_id)"
                        " WHERE outcome IS NOT NULL AND tokens IS NULL",
                        (),
                    )
                ]
            )
        self.database.write(
            [
                (
                    "INSERT INTO ledger_meta (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (_ESTIMATES_META, "1"),
                )
            ]
        )

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    def _last_seen_at(self, submission_id: str) -> int:
        """When the latest status of a submission was recorded (ms)."""
        _, rows = self.database.query(
            "SELECT MAX(at) FROM status_events WHERE submission_id = ?", (submission_id,)
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def _submitted_at(self, submission_id: str) -> int | None:
        """When we recorded the submission (ms), before sending it: the service's creation
        time cannot precede it (see :func:`~orca_nb.ledger.records.narrow`)."""
        _, rows = self.database.query(
            "SELECT submitted_at FROM submissions WHERE id = ?", (submission_id,)
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def _status_of(self, submission_id: str) -> str | None:
        _, rows = self.database.query(
            "SELECT status FROM submissions WHERE id = ?", (submission_id,)
        )
        return str(rows[0][0]) if rows else None

    def _groups_of(self, asset_ids: Sequence[str]) -> dict[str, str]:
        if not asset_ids:
            return {}
        marks = ", ".join("?" for _ in asset_ids)
        _, rows = self.database.query(
            f"SELECT asset_id, group_id FROM assets WHERE asset_id IN ({marks})"
            " AND group_id IS NOT NULL",
            tuple(asset_ids),
        )
        return {str(a): str(g) for a, g in rows}

    def _apply(
        self,
        submission_id: str,
        current: str,
        state: TaskState,
        now: int,
        *,
        extra: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> None:
        """Write one observed state; a terminal submission never changes status again."""
        status = state.status
        if current in TERMINAL_STATUSES or status == current:
            status = None  # nothing new to record about the status
        terminal = status in TERMINAL_STATUSES
        # Tokens: a reported figure always wins; a task that succeeds without one gets the
        # request's estimate (marked by tokens_source) unless it already has a figure.
        reported = state.total_tokens
        estimate_now = int(status == "succeeded")
        progress = 100 if status == "succeeded" and state.progress is None else state.progress
        # The service's own times (whole seconds) narrowed by ours: they precede this reply
        # (now). Not by the last poll that saw the task unfinished: a service may stamp the end
        # before it shows it. Without them, the time of the first observation that saw it.
        submitted = self._submitted_at(submission_id)
        started = narrow(state.started_at, None, now) or (now if status == "running" else None)
        finished = narrow(state.finished_at, None, now) or (now if terminal else None)
        statements: list[tuple[str, Sequence[Any]]] = list(extra)
        created = narrow(state.created_at, submitted, now)
        if (
            created is not None
            and submitted is not None
            and not agrees(submitted, state.created_at)
            and submitted <= created <= now
        ):
            # submitted = the service's creation time when our clocks agree on it (ours was
            # taken before sending; a service clock far from ours is not mixed with ours)
            statements += [
                (
                    "UPDATE submissions SET submitted_at = ?, day = ? WHERE id = ?",
                    (created, created // DAY_MS, submission_id),
                ),
                (
                    "UPDATE submission_items SET submitted_at = ? WHERE submission_id = ?",
                    (created, submission_id),
                ),
            ]
        if state.started_at is not None or state.finished_at is not None:
            # The server's clock may differ from ours: its times never precede what we saw.
            floor = self._last_seen_at(submission_id)
            started = None if started is None else max(started, floor)
            finished = None if finished is None else max(finished, started or floor)
        # a result link lasts the documented TTL from the task's end
        expires = (finished or now) + wire.VIDEO_URL_TTL_SECONDS * 1000 if state.video_url else None
        statements.append(
            (
                "UPDATE submissions SET"
                " task_id = COALESCE(?, task_id),"
                f" status = CASE WHEN status IN ({_TERMINAL_SQL}) THEN status"
                " ELSE COALESCE(?, status) END,"
                " progress = COALESCE(?, progress),"
                " error_code = COALESCE(?, error_code),"
                " error_message = COALESCE(?, error_message),"
                " completion_tokens = COALESCE(?, completion_tokens),"
                " total_tokens = CASE WHEN CAST(? AS BIGINT) IS NOT NULL THEN CAST(? AS BIGINT)"
                " WHEN CAST(? AS INTEGER) = 1 THEN COALESCE(total_tokens, estimated_tokens)"
                " ELSE total_tokens END,"
                " tokens_source = CASE WHEN CAST(? AS BIGINT) IS NOT NULL THEN CAST(? AS TEXT)"
                " WHEN CAST(? AS INTEGER) = 1 AND total_tokens IS NULL"
                " AND estimated_tokens IS NOT NULL THEN estimate_source ELSE tokens_source END,"
                " video_url = COALESCE(?, video_url),"
                " video_url_expires_at = COALESCE(?, video_url_expires_at),"
                " resolution = COALESCE(?, resolution),"
                " duration = COALESCE(?, duration),"
                " started_at = COALESCE(started_at, ?),"
                " finished_at = COALESCE(finished_at, ?),"
                " updated_at = ?"
                " WHERE id = ?",
                (
                    state.task_id,
                    status,
                    progress,
                    state.error_code,
                    state.error_message,
                    state.completion_tokens,
                    reported,
                    reported,
                    estimate_now,
                    reported,
                    wire.TOKENS_REPORTED,
                    estimate_now,
                    state.video_url,
                    expires,
                    state.resolution,
                    state.duration,
                    started,
                    finished if terminal else None,
                    now,
                    submission_id,
                ),
            )
        )
        if status is not None:
            at = (finished if terminal else started if status == "running" else None) or now
            if status == "running" or (terminal and status != STATUS_REJECTED):
                # A task first seen already running/finished also passed through queued.
                statements.append(_event(submission_id, "queued", None, min(at, now)))
            statements.append(_event(submission_id, status, progress, at))
        if terminal:
            statements.append(
                (
                    "UPDATE submissions SET latency_ms = finished_at - submitted_at,"
                    " queue_ms = started_at - submitted_at WHERE id = ?",
                    (submission_id,),
                )
            )
            statements.append(
                (
                    "UPDATE submission_items SET outcome = ?,"
                    " tokens = (SELECT total_tokens FROM submissions WHERE id = ?)"
                    " WHERE submission_id = ?",
                    (status, submission_id, submission_id),
                )
            )
        elif reported is not None and current in TERMINAL_STATUSES:
            # usage read after the end (e.g. from the OpenAI-style alias): the items follow
            statements.append(
                (
                    "UPDATE submission_items SET"
                    " tokens = (SELECT total_tokens FROM submissions WHERE id = ?)"
                    " WHERE submission_id = ?",
                    (submission_id, submission_id),
                )
            )
        self.database.write(statements)


def open_ledger(
    url: str | os.PathLike[str] | None = None,
    *,
    clock: Callable[[], float] = time.time,
    durable: bool = True,
) -> Ledger:
    """Open (creating if needed) the ledger a URL names; ``None`` means the default ledger.

    See :func:`orca_nb.ledger.location.connect` for the accepted URLs.
    """
    return Ledger(connect(url, durable=durable), clock=clock)


def readable_ledger(recorder: object) -> Ledger | None:
    """``recorder`` when it is a :class:`Ledger` that can be read, else None (a client's
    ``.ledger`` may be any ``VideoLedger`` recorder, or None)."""
    return recorder if isinstance(recorder, Ledger) else None


def _key_filter(submitter: str | None, base_url: str | None) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) keeping one key's submissions on one service
    (``base_url``: a service name, :mod:`orca_nb.ledger.service`); a ``None`` leaves that
    side open."""
    conditions: list[str] = []
    params: list[Any] = []
    if submitter is not None:
        conditions.append("submitter = ?")
        params.append(submitter)
    if base_url is not None:
        condition, values = service_condition("base_url", base_url)
        conditions.append(condition)
        params += values
    return conditions, params


def _with_status(state: TaskState, status: str) -> TaskState:
    return replace(state, status=status)


def _backfill_group(asset_id: str, group_id: str) -> list[tuple[str, Sequence[Any]]]:
    """Give earlier items of an asset its group, then redo their submissions' group marks.

    Rows touched get ``first_of_group = -1`` first so only those submissions are recomputed.
    """
    return [
        (
            "UPDATE submission_items SET group_id = ?, first_of_group = -1"
            " WHERE asset_key = ? AND group_id IS NULL",
            (group_id, asset_id),
        ),
        (
            "UPDATE submission_items SET first_of_group = CASE WHEN position = ("
            " SELECT MIN(j.position) FROM submission_items j"
            " WHERE j.submission_id = submission_items.submission_id"
            " AND j.group_id = submission_items.group_id) THEN 1 ELSE 0 END"
            " WHERE submission_id IN (SELECT k.submission_id FROM submission_items k"
            " WHERE k.asset_key = ? AND k.first_of_group = -1)",
            (asset_id,),
        ),
    ]


def _event(submission_id: str, status: str, progress: int | None, at: int) -> tuple[str, Any]:
    return (
        "INSERT INTO status_events (submission_id, status, progress, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (submission_id, status) DO NOTHING",
        (submission_id, status, progress, at),
    )


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
