"""Start, reopen, watch and steer experiments (:func:`start`, :func:`open_experiment`).

>>> run = start(experiment, client, concurrency=4, per_minute=30)     # doctest: +SKIP
>>> run.progress()                                                    # doctest: +SKIP
Progress(total=6, queued=4, running=2, ...)
>>> run.pause(); run.resume(); run.cancel()                           # doctest: +SKIP

Starting twice (a re-run cell, two kernels, a restart) is harmless: the experiment and its
variants are stored once, and each variant's workflow id is fixed, so DBOS enqueues it once.
Progress is read from the experiments' db (one grouped query), so a widget can poll it from the
kernel's event loop (e.g. ``await asyncio.to_thread(run.progress)``) and never touch DBOS's
threads.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orca_nb import wire
from orca_nb.experiments import cost as costs
from orca_nb.experiments.db import (
    ACTIVE,
    CANCELLED,
    FAILED,
    FINAL_STATUSES,
    INVALID,
    PAUSED,
    QUEUED,
    REFUSED,
    UNKNOWN,
    VARIANT_STATUSES,
    VariantRow,
    now_ms,
)
from orca_nb.experiments.define import Experiment, InvalidVariantsError
from orca_nb.experiments.progress import RunStatus, run_status, track
from orca_nb.experiments.runtime import Runtime, launch, off_loop, queue_name

if TYPE_CHECKING:
    import pandas as pd

    from orca_nb.client import Orca
    from orca_nb.client.models import Balance
    from orca_nb.experiments.export import HtmlExport
    from orca_nb.ledger import Ledger


@dataclass(frozen=True)
class Progress:
    """Counts of an experiment's variants by status, and whether the run is over."""

    state: str
    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        """All variants, invalid ones included."""
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        """Variants whose run is over (succeeded, failed, refused, unknown, invalid)."""
        return sum(n for s, n in self.counts.items() if s in FINAL_STATUSES)

    @property
    def done(self) -> bool:
        """True when nothing is queued, being sent or running (paused/cancelled ones wait)."""
        return all(s in FINAL_STATUSES or s in (PAUSED, CANCELLED) for s in self.counts)

    def __getattr__(self, name: str) -> int:
        if name in VARIANT_STATUSES:
            return int(self.counts.get(name, 0))
        raise AttributeError(name)

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}={self.counts[s]}" for s in VARIANT_STATUSES if self.counts.get(s))
        return f"Progress({self.state}, total={self.total}, {parts})"


class ExperimentRun:
    """A stored experiment in this process's runtime: progress, pause, resume, cancel, results."""

    def __init__(self, runtime: Runtime, experiment_id: str) -> None:
        self.runtime = runtime
        self.experiment_id = experiment_id
        row = runtime.db.experiment(experiment_id)
        if row is None:
            raise KeyError(f"no experiment {experiment_id!r} in {runtime.settings.database_url}")
        self.name = row.name
        self.account = row.account

    # ------------------------------------------------------------------ reading
    @property
    def state(self) -> str:
        """``active``, ``paused`` or ``cancelled``."""
        row = self.runtime.db.experiment(self.experiment_id)
        assert row is not None
        return row.state

    def progress(self) -> Progress:
        """Counts by status (a cheap query; safe from any thread or loop)."""
        return Progress(self.state, self.runtime.db.counts(self.experiment_id))

    async def progress_async(self) -> Progress:
        """:meth:`progress` for an event loop (the query runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.progress)

    def status(self) -> RunStatus:
        """Counts, ETA, tokens spent against the estimate and errors (one query; any thread)."""
        return run_status(self.name, self.state, self.variants())

    async def status_async(self) -> RunStatus:
        """:meth:`status` for an event loop (the query runs in a worker thread): what the
        progress widget awaits on the kernel's loop."""
        import asyncio

        return await asyncio.to_thread(self.status)

    def track(self, *, interval: float = 1.0, timeout: float | None = None) -> RunStatus:
        """A tqdm progress bar (a notebook bar in Jupyter) until the run is done."""
        return track(self.status, interval=interval, timeout=timeout)

    def variants(self) -> list[VariantRow]:
        """Every variant as stored, in definition order."""
        return self.runtime.db.variants(self.experiment_id)

    def task_ids(self) -> dict[str, str]:
        """Variant id -> task id, for the variants the service made a task for."""
        return {v.variant_id: v.task_id for v in self.variants() if v.task_id}

    def wait(
        self, timeout: float | None = None, *, interval: float = 0.5, progress: bool = False
    ) -> Progress:
        """Block until :attr:`Progress.done` (or ``timeout`` seconds: TimeoutError);
        ``progress=True`` draws a tqdm bar meanwhile (see :meth:`track`)."""
        if progress:
            self.track(interval=interval, timeout=timeout)
            return self.progress()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            now = self.progress()
            if now.done:
                return now
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"experiment {self.name!r} is not done after {timeout} s: {now}")
            time.sleep(interval)

    def results(self, *, ledger: Ledger | None = None) -> pd.DataFrame:
        """One row per variant: ``variant_id``, the varied values, status, task id, submit and
        finish times, latency (the service's, from the ledger, where it stamped them), tokens
        (reported, else estimated: ``tokens_source`` says which, ``estimated_min`` for a lower
        bound), error, and the compare grid's marks (``pinned``, ``rating``, ``tags``, ``note``).

        ``ledger``: the usage ledger to join (default: the one this run's client records into).
        Columns: :func:`orca_nb.experiments.results.results_frame`.
        """
        from orca_nb.experiments import results

        found = ledger if ledger is not None else self.ledger()
        return results.results_frame(
            self.variants(),
            sends=results.ledger_sends(found, self.experiment_id),
            marks=results.ledger_marks(found, self.experiment_id),
        )

    def ledger(self) -> Ledger | None:
        """The usage ledger this run's client records into (None when off or not readable)."""
        from orca_nb.ledger import readable_ledger

        return readable_ledger(self.runtime.client(self.account).ledger)

    def export_html(
        self,
        path: str | os.PathLike[str],
        *,
        posters: bool = True,
        ledger: Ledger | None = None,
        poster_side: int | None = None,
        max_video_bytes: int | None = None,
        workers: int | None = None,
    ) -> HtmlExport:
        """Write this experiment as one offline HTML file (:mod:`orca_nb.experiments.export`):
        base request, every variant's values, status, prompt, parameters, tokens (estimates
        marked), latency and marks, and (``posters``) poster frames fetched fresh through this
        run's client and embedded. A poster that cannot be made is said in its cell."""
        from orca_nb.experiments import export

        row = self.runtime.db.experiment(self.experiment_id)
        assert row is not None
        return export.write_export(
            path,
            self.runtime.db,
            row,
            client=self.runtime.client(self.account),
            ledger=ledger if ledger is not None else self.ledger(),
            posters=posters,
            poster_side=poster_side,
            max_video_bytes=max_video_bytes or export.POSTER_MAX_BYTES,
            workers=workers or export.POSTER_WORKERS,
        )

    # ------------------------------------------------------------------ steering
    def enqueue(self) -> int:
        """Put every ``queued`` variant on the account's queue (idempotent); returns how many."""
        from dbos import SetWorkflowID

        from orca_nb.experiments.workflows import variant_workflow

        queue = self.runtime.queue(self.account)
        todo = [v for v in self.variants() if v.status == QUEUED]

        def go() -> None:
            for v in todo:
                with SetWorkflowID(v.workflow_id):
                    queue.enqueue(variant_workflow, v.experiment_id, v.variant_id, v.run)

        off_loop(go)
        return len(todo)

    def limits(self) -> dict[str, int | None]:
        """The account queue's ``concurrency`` (running variants) and ``per_minute`` (submits)."""
        queue = self.runtime.queue(self.account)
        limiter = off_loop(lambda: queue.limiter)
        return {
            "concurrency": off_loop(lambda: queue.global_concurrency),
            "per_minute": int(limiter["limit"]) if limiter else None,
        }

    def set_limits(self, *, concurrency: int | None = None, per_minute: int | None = None) -> None:
        """Change the account queue's limits; every worker follows them from its next poll."""
        self.runtime.queue(self.account, concurrency=concurrency, per_minute=per_minute)

    def pause(self) -> list[str]:
        """Stop starting variants (running ones finish); returns the variant ids held back."""
        return self._hold(PAUSED)

    def cancel(self) -> list[str]:
        """Never start the queued variants (running ones finish and are recorded); returns the
        variant ids cancelled. :meth:`resume` can still start them later."""
        return self._hold(CANCELLED)

    def _hold(self, state: str) -> list[str]:
        from dbos import DBOS

        db = self.runtime.db
        db.set_state(self.experiment_id, state)
        moved = db.set_status_where(self.experiment_id, [QUEUED, PAUSED, CANCELLED], state)
        by_id = {v.variant_id: v for v in self.variants()}
        ids = [by_id[m].workflow_id for m in moved]
        if ids:
            # Only ENQUEUED ones: a run already past its claim keeps going.
            def cancel() -> None:
                waiting = DBOS.list_workflows(
                    workflow_ids=ids, status="ENQUEUED", load_input=False, load_output=False
                )
                if waiting:
                    DBOS.cancel_workflows([w.workflow_id for w in waiting])

            off_loop(cancel)
        return moved

    def resume(self) -> int:
        """Start the paused or cancelled variants again; returns how many were enqueued."""
        db = self.runtime.db
        db.set_state(self.experiment_id, ACTIVE)
        db.requeue(self.experiment_id, [PAUSED, CANCELLED])
        return self.enqueue()

    def retry(
        self, variant_ids: Iterable[str] | None = None, *, unknown_checked: bool = False
    ) -> int:
        """Send ``failed`` and ``refused`` variants again (all, or ``variant_ids``); returns how
        many were enqueued.

        ``unknown`` ones are included only with ``unknown_checked=True``: their task may exist
        (and be billed), so pass it after checking the ledger or the dashboard found none.
        """
        statuses = [FAILED, REFUSED, *([UNKNOWN] if unknown_checked else [])]
        wanted = None if variant_ids is None else list(variant_ids)
        if wanted is not None:
            known = {v.variant_id: v.status for v in self.variants()}
            missing = [v for v in wanted if v not in known]
            if missing:
                raise KeyError(f"experiment {self.name!r} has no variant {missing[0]!r}")
            blocked = [v for v in wanted if known[v] == UNKNOWN and not unknown_checked]
            if blocked:
                raise ValueError(
                    f"variant {blocked[0]} has an unknown outcome: its task may exist and be "
                    "billed. Check the usage ledger or the dashboard, then pass "
                    "unknown_checked=True to send it again"
                )
        self.runtime.db.requeue(self.experiment_id, statuses, wanted)
        if self.state != ACTIVE:
            return 0
        return self.enqueue()

    def __repr__(self) -> str:
        return f"ExperimentRun({self.name!r}, id={self.experiment_id}, {self.progress()!r})"


def start(
    experiment: Experiment,
    client: Orca,
    *,
    skip_invalid: bool = False,
    confirm: int | None = None,
    confirm_above: int = costs.DEFAULT_CONFIRM_ABOVE,
    balance: Balance | None = None,
    check_balance: bool = True,
    price_per_million_tokens: float | None = wire.USD_PER_MILLION_TOKENS,
    media_seconds: Mapping[str, float] | None = None,
    concurrency: int | None = None,
    per_minute: int | None = None,
    database_url: str | None = None,
    **runtime_settings: Any,
) -> ExperimentRun:
    """Check, store and enqueue ``experiment`` on ``client``'s account; returns its run.

    Refuses (nothing stored, nothing sent) when variants are invalid (unless ``skip_invalid``),
    when the known balance cannot cover the estimate (needs a price: ``price_per_million_tokens``,
    default :data:`orca_nb.wire.USD_PER_MILLION_TOKENS`; the balance is asked of
    ``client.billing`` unless given or ``check_balance=False``), or when the
    estimate is above ``confirm_above`` tokens without ``confirm=<tokens>``. ``concurrency``
    (running variants, all workers) and ``per_minute`` (submits) set the account's queue.
    Other keyword arguments are :func:`orca_nb.experiments.runtime.launch` settings.
    """
    if not isinstance(experiment, Experiment):
        raise TypeError(f"start() takes an Experiment, got {type(experiment).__name__}")
    if experiment.invalid and not skip_invalid:
        raise InvalidVariantsError(experiment.invalid)
    if not experiment.valid:
        raise InvalidVariantsError(experiment.invalid)
    if balance is None and check_balance and price_per_million_tokens is not None:
        balance = client.billing.balance()
    cost = costs.estimate(
        experiment.variants,
        media_seconds=media_seconds,
        balance=balance,
        price_per_million_tokens=price_per_million_tokens,
    )
    costs.check(cost, confirm=confirm, confirm_above=confirm_above)
    rt = launch(
        client,
        database_url=database_url,
        concurrency=concurrency,
        per_minute=per_minute,
        **runtime_settings,
    )
    now = now_ms()
    rows = [
        {
            "experiment_id": experiment.experiment_id,
            "variant_id": v.variant_id,
            "position": v.index,
            "vals": json.dumps(dict(v.values), sort_keys=True),
            "body": json.dumps(v.body) if v.body is not None else None,
            "reasons": json.dumps(v.reasons),
            "status": QUEUED if v.valid else INVALID,
            "estimated_tokens": cost.per_variant[v.variant_id].tokens if v.valid else None,
            "queued_at": now if v.valid else None,
        }
        for v in experiment.variants
    ]
    rt.db.save_experiment(
        experiment.experiment_id,
        name=experiment.name,
        account=client.key_label,
        base_url=client.ledger_service,  # the ledger's name: sandbox:local in every kernel
        definition=experiment.definition(),
        rows=rows,
    )
    run = ExperimentRun(rt, experiment.experiment_id)
    if run.state == ACTIVE:
        run.enqueue()
    return run


def open_experiment(
    name_or_id: str, client: Orca, *, database_url: str | None = None, **runtime_settings: Any
) -> ExperimentRun:
    """Reopen a stored experiment (after a restart, or in another process): launches the
    runtime (which recovers dead workers' variants) and re-enqueues its queued variants."""
    from orca_nb.experiments.location import find_experiment

    rt = launch(client, database_url=database_url, **runtime_settings)
    run = ExperimentRun(rt, find_experiment(rt.db, name_or_id).experiment_id)
    if run.account != client.key_label:
        raise ValueError(
            f"experiment {run.name!r} belongs to account {run.account}; open it with that key"
        )
    if run.state == ACTIVE:
        run.enqueue()
    return run


__all__ = ["ExperimentRun", "Progress", "open_experiment", "queue_name", "start"]
