"""The experiments' own tables, kept in DBOS's system database (SQLite or PostgreSQL).

DBOS records which workflow steps finished; these tables record what users ask about: each
experiment's definition and state, each variant's status, task id, error and tokens, the worker
processes alive (so a dead one's workflows are recovered by another), and a per-account
"not before" time set by a 429 (so every worker slows down, not only the one refused).

Variant statuses (:data:`VARIANT_STATUSES`): ``invalid`` (never sent), ``queued``, ``sending``
(the request may be on the wire), ``running`` (the service made a task; ``task_status`` says
``queued``/``running``), then ``succeeded``, ``failed``, ``refused`` (the service refused the
submission: nothing was made), ``unknown`` (the outcome could not be known: check before
submitting again), ``paused`` and ``cancelled`` (never started).

Every write is one short transaction; reads are plain queries, safe from any thread.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

QUEUED: Final = "queued"
SENDING: Final = "sending"
RUNNING: Final = "running"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
REFUSED: Final = "refused"
UNKNOWN: Final = "unknown"
PAUSED: Final = "paused"
CANCELLED: Final = "cancelled"
INVALID: Final = "invalid"
VARIANT_STATUSES: Final = (
    INVALID, QUEUED, SENDING, RUNNING, SUCCEEDED, FAILED, REFUSED, UNKNOWN, PAUSED, CANCELLED,
)  # fmt: skip
#: Statuses after which a variant's run is over (nothing more will be sent or followed).
FINAL_STATUSES: Final = frozenset({INVALID, SUCCEEDED, FAILED, REFUSED, UNKNOWN})
#: Experiment states.
ACTIVE: Final = "active"
EXPERIMENT_STATES: Final = (ACTIVE, PAUSED, CANCELLED)

_meta = sa.MetaData()
experiments = sa.Table(
    "orca_experiments",
    _meta,
    sa.Column("experiment_id", sa.String(200), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("base_url", sa.Text, nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)
variants = sa.Table(
    "orca_experiment_variants",
    _meta,
    sa.Column("experiment_id", sa.String(200), primary_key=True),
    sa.Column("variant_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("vals", sa.Text, nullable=False),
    sa.Column("body", sa.Text),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("task_id", sa.Text),
    sa.Column("task_status", sa.String(20)),
    sa.Column("progress", sa.Integer),
    sa.Column("error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    sa.Column("estimated_tokens", sa.BigInteger),
    sa.Column("tokens", sa.BigInteger),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("run", sa.Integer, nullable=False, server_default="0"),
    sa.Column("queued_at", sa.BigInteger),
    sa.Column("sent_at", sa.BigInteger),
    sa.Column("finished_at", sa.BigInteger),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("executor_id", sa.Text),
)
sa.Index("orca_experiment_variants_task", variants.c.task_id)
executors = sa.Table(
    "orca_experiment_executors",
    _meta,
    sa.Column("executor_id", sa.String(128), primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("heartbeat_at", sa.BigInteger, nullable=False),
)
gates = sa.Table(
    "orca_experiment_gates",
    _meta,
    sa.Column("account", sa.String(64), primary_key=True),
    sa.Column("not_before", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text),
)


def workflow_id(experiment_id: str, variant_id: str, run: int = 0) -> str:
    """The DBOS workflow id of a variant's run: ``<experiment>.<variant>``, then ``.<run>`` for
    each resume after a pause or cancel (the same in every process, so enqueuing twice is one)."""
    base = f"{experiment_id}.{variant_id}"
    return base if run == 0 else f"{base}.{run}"


def now_ms() -> int:
    """Milliseconds since the unix epoch."""
    return int(time.time() * 1000)


def sqlalchemy_url(url: str) -> str:
    """A system-database URL as SQLAlchemy spells it (``postgresql+psycopg://`` for psycopg 3)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass(frozen=True)
class VariantRow:
    """One variant as stored."""

    experiment_id: str
    variant_id: str
    position: int
    values: dict[str, Any]
    body: dict[str, Any] | None
    reasons: list[str]
    status: str
    task_id: str | None
    task_status: str | None
    progress: int | None
    error_code: str | None
    error_message: str | None
    estimated_tokens: int | None
    tokens: int | None
    attempts: int
    run: int
    queued_at: int | None
    sent_at: int | None
    finished_at: int | None
    updated_at: int

    @property
    def workflow_id(self) -> str:
        """The DBOS workflow id of the variant's current run (see :func:`workflow_id`)."""
        return workflow_id(self.experiment_id, self.variant_id, self.run)


@dataclass(frozen=True)
class ExperimentRow:
    """One experiment as stored."""

    experiment_id: str
    name: str
    account: str
    base_url: str
    definition: dict[str, Any]
    state: str
    created_at: int
    updated_at: int


class ExperimentConflictError(ValueError):
    """An experiment of this name exists with a different definition or account."""


class ExperimentsDB:
    """The experiments' tables on one database (created if missing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        target = sqlalchemy_url(url)
        kwargs: dict[str, Any] = {}
        if target.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        self.engine = sa.create_engine(target, **kwargs)
        if target.startswith("sqlite"):

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(conn: Any, _record: Any) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

        _meta.create_all(self.engine, checkfirst=True)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    # ------------------------------------------------------------------ experiments
    def save_experiment(
        self,
        experiment_id: str,
        *,
        name: str,
        account: str,
        base_url: str,
        definition: Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
    ) -> tuple[ExperimentRow, bool]:
        """Insert an experiment and its variants, or check an existing one matches.

        Returns ``(row, created)``. Variants already stored keep their status; new ones are
        added (an experiment can grow). A different base request or account raises
        :class:`ExperimentConflictError`.
        """
        now = now_ms()
        text = json.dumps(definition, sort_keys=True)
        with self.engine.begin() as c:
            found = c.execute(
                sa.select(experiments).where(experiments.c.experiment_id == experiment_id)
            ).first()
            created = found is None
            if found is None:
                c.execute(
                    experiments.insert().values(
                        experiment_id=experiment_id, name=name, account=account,
                        base_url=base_url, definition=text, state=ACTIVE, created_at=now,
                        updated_at=now,
                    )
                )  # fmt: skip
            else:
                old = json.loads(found.definition)
                if found.account != account:
                    raise ExperimentConflictError(
                        f"experiment {name!r} belongs to account {found.account}, not {account}; "
                        "open it with a client for that key, or pick another name"
                    )
                for part, words in (("base", "base request"), ("template", "prompt template")):
                    if old.get(part) != definition.get(part):
                        raise ExperimentConflictError(
                            f"experiment {name!r} exists with a different {words}; pick another "
                            "name for a new experiment (variants already run keep their results)"
                        )
                merged = dict(definition)
                merged["variants"] = max(int(old.get("variants", 0)), len(rows))
                c.execute(
                    experiments.update()
                    .where(experiments.c.experiment_id == experiment_id)
                    .values(definition=json.dumps(merged, sort_keys=True), updated_at=now)
                )
            have = set(
                c.execute(
                    sa.select(variants.c.variant_id).where(
                        variants.c.experiment_id == experiment_id
                    )
                ).scalars()
            )
            fresh = [dict(r, updated_at=now) for r in rows if r["variant_id"] not in have]
            if fresh:
                c.execute(variants.insert(), fresh)
        row = self.experiment(experiment_id)
        assert row is not None
        return row, created

    def experiment(self, experiment_id: str) -> ExperimentRow | None:
        """The stored experiment, or None."""
        with self.engine.connect() as c:
            r = c.execute(
                sa.select(experiments).where(experiments.c.experiment_id == experiment_id)
            ).first()
        if r is None:
            return None
        return ExperimentRow(
            r.experiment_id, r.name, r.account, r.base_url, json.loads(r.definition), r.state,
            r.created_at, r.updated_at,
        )  # fmt: skip

    def list_experiments(self) -> list[ExperimentRow]:
        """Every stored experiment, newest first."""
        with self.engine.connect() as c:
            ids = list(
                c.execute(
                    sa.select(experiments.c.experiment_id).order_by(experiments.c.created_at.desc())
                ).scalars()
            )
        return [r for r in map(self.experiment, ids) if r is not None]

    def set_state(self, experiment_id: str, state: str) -> None:
        """Mark an experiment active, paused or cancelled."""
        if state not in EXPERIMENT_STATES:
            raise ValueError(f"state must be one of {EXPERIMENT_STATES}")
        with self.engine.begin() as c:
            c.execute(
                experiments.update()
                .where(experiments.c.experiment_id == experiment_id)
                .values(state=state, updated_at=now_ms())
            )

    # ------------------------------------------------------------------ variants
    def variants(self, experiment_id: str) -> list[VariantRow]:
        """An experiment's variants in definition order."""
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(variants)
                .where(variants.c.experiment_id == experiment_id)
                .order_by(variants.c.position)
            ).all()
        return [_variant(r) for r in rows]

    def variant(self, experiment_id: str, variant_id: str) -> VariantRow:
        """One variant (KeyError if unknown)."""
        with self.engine.connect() as c:
            r = c.execute(
                sa.select(variants).where(
                    variants.c.experiment_id == experiment_id,
                    variants.c.variant_id == variant_id,
                )
            ).first()
        if r is None:
            raise KeyError(f"no variant {variant_id!r} in experiment {experiment_id!r}")
        return _variant(r)

    def counts(self, experiment_id: str) -> dict[str, int]:
        """How many variants are in each status (one grouped query)."""
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(variants.c.status, sa.func.count())
                .where(variants.c.experiment_id == experiment_id)
                .group_by(variants.c.status)
            ).all()
        return {str(s): int(n) for s, n in rows}

    def update(
        self,
        experiment_id: str,
        variant_id: str,
        *,
        only_if: Iterable[str] | None = None,
        **values: Any,
    ) -> bool:
        """Set columns of one variant; with ``only_if``, only while its status is one of those.

        Returns whether a row changed (the conditional form is how one claimer wins).
        """
        where = [variants.c.experiment_id == experiment_id, variants.c.variant_id == variant_id]
        if only_if is not None:
            where.append(variants.c.status.in_(list(only_if)))
        with self.engine.begin() as c:
            done = c.execute(variants.update().where(*where).values(updated_at=now_ms(), **values))
        return bool(done.rowcount)

    def set_status_where(
        self, experiment_id: str, statuses: Iterable[str], status: str
    ) -> list[str]:
        """Move every variant in ``statuses`` to ``status``; returns the variant ids moved."""
        where = [variants.c.experiment_id == experiment_id, variants.c.status.in_(list(statuses))]
        with self.engine.begin() as c:
            ids = list(c.execute(sa.select(variants.c.variant_id).where(*where)).scalars())
            if ids:
                c.execute(
                    variants.update()
                    .where(*where, variants.c.variant_id.in_(ids))
                    .values(status=status, updated_at=now_ms())
                )
        return ids

    def requeue(
        self, experiment_id: str, statuses: Iterable[str], variant_ids: Iterable[str] | None = None
    ) -> list[str]:
        """Move variants in ``statuses`` (only ``variant_ids`` if given) back to ``queued`` as a
        new run (``run + 1``, so their next workflow has a new id), forgetting the last run's
        task and error (the ledger keeps them); returns the variant ids moved."""
        where = [variants.c.experiment_id == experiment_id, variants.c.status.in_(list(statuses))]
        if variant_ids is not None:
            where.append(variants.c.variant_id.in_(list(variant_ids)))
        with self.engine.begin() as c:
            ids = list(c.execute(sa.select(variants.c.variant_id).where(*where)).scalars())
            if ids:
                c.execute(
                    variants.update()
                    .where(*where, variants.c.variant_id.in_(ids))
                    .values(
                        status=QUEUED,
                        run=variants.c.run + 1,
                        task_id=None,
                        task_status=None,
                        progress=None,
                        error_code=None,
                        error_message=None,
                        tokens=None,
                        sent_at=None,
                        finished_at=None,
                        queued_at=now_ms(),
                        updated_at=now_ms(),
                    )
                )
        return ids

    # ------------------------------------------------------------------ 429 gate
    def gate(self, account: str) -> int:
        """The earliest time (ms) this account may submit again (0: now)."""
        with self.engine.connect() as c:
            value = c.execute(
                sa.select(gates.c.not_before).where(gates.c.account == account)
            ).scalar()
        return int(value or 0)

    def close_gate(self, account: str, until_ms: int, reason: str) -> None:
        """Hold every worker's submissions for ``account`` until ``until_ms`` (never shortens).

        Workers refused at once race here: a later time wins whoever writes first, and the
        row's first insert by two of them is settled by the primary key, not by an error.
        """
        later = gates.update().where(gates.c.account == account, gates.c.not_before < until_ms)
        for _ in range(5):
            with self.engine.begin() as c:
                if c.execute(later.values(not_before=until_ms, reason=reason)).rowcount:
                    return
                if c.execute(sa.select(gates.c.account).where(gates.c.account == account)).first():
                    return  # held until then or later already
            try:
                with self.engine.begin() as c:
                    c.execute(
                        gates.insert().values(account=account, not_before=until_ms, reason=reason)
                    )
                return
            except sa.exc.IntegrityError:  # another worker made the row first: compare again
                continue
        raise RuntimeError(f"could not hold account {account} (the gate row keeps changing)")

    # ------------------------------------------------------------------ executors
    def heartbeat(self, executor_id: str) -> None:
        """Say this process is alive."""
        now = now_ms()
        with self.engine.begin() as c:
            done = c.execute(
                executors.update()
                .where(executors.c.executor_id == executor_id)
                .values(heartbeat_at=now)
            )
            if not done.rowcount:
                c.execute(
                    executors.insert().values(
                        executor_id=executor_id, host=socket.gethostname(), pid=os.getpid(),
                        heartbeat_at=now,
                    )
                )  # fmt: skip

    def claim_dead(self, *, stale_ms: int, me: str) -> list[str]:
        """Executors that stopped beating (or whose process on this host is gone), each claimed
        by exactly one caller: the row is deleted by whoever deletes it first."""
        now = now_ms()
        host = socket.gethostname()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(executors)).all()
        dead = []
        for r in rows:
            if r.executor_id == me:
                continue
            gone = r.host == host and not _pid_alive(int(r.pid))
            if gone or now - int(r.heartbeat_at) > stale_ms:
                dead.append((r.executor_id, int(r.heartbeat_at)))
        claimed = []
        for executor_id, beat in dead:
            with self.engine.begin() as c:
                done = c.execute(
                    executors.delete().where(
                        executors.c.executor_id == executor_id, executors.c.heartbeat_at == beat
                    )
                )
            if done.rowcount:
                claimed.append(executor_id)
        return claimed

    def retire_executor(self, executor_id: str) -> None:
        """Mark this process gone (a clean shutdown): its heartbeat becomes stale at once, so any
        live worker recovers the workflows it left unfinished at its next check."""
        with self.engine.begin() as c:
            c.execute(
                executors.update()
                .where(executors.c.executor_id == executor_id)
                .values(heartbeat_at=0)
            )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _variant(r: Any) -> VariantRow:
    return VariantRow(
        experiment_id=r.experiment_id,
        variant_id=r.variant_id,
        position=r.position,
        values=json.loads(r.vals),
        body=json.loads(r.body) if r.body else None,
        reasons=json.loads(r.reasons),
        status=r.status,
        task_id=r.task_id,
        task_status=r.task_status,
        progress=r.progress,
        error_code=r.error_code,
        error_message=r.error_message,
        estimated_tokens=r.estimated_tokens,
        tokens=r.tokens,
        attempts=r.attempts,
        run=r.run,
        queued_at=r.queued_at,
        sent_at=r.sent_at,
        finished_at=r.finished_at,
        updated_at=r.updated_at,
    )
