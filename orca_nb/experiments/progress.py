"""How far an experiment has got: counts, ETA, tokens against the estimate, errors; a tqdm bar.

:class:`RunStatus` is computed from the stored variants (one query, any thread), so a widget
reads it on the kernel's loop (``await run.status_async()``) and never touches DBOS's threads.
:func:`track` draws it as a ``tqdm.auto`` bar (a notebook bar in Jupyter, text elsewhere).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from orca_nb.experiments.db import (
    ACTIVE,
    CANCELLED,
    FAILED,
    FINAL_STATUSES,
    INVALID,
    PAUSED,
    QUEUED,
    REFUSED,
    RUNNING,
    SENDING,
    SUCCEEDED,
    UNKNOWN,
    VARIANT_STATUSES,
    VariantRow,
    now_ms,
)
from orca_nb.experiments.labels import variant_label

#: Statuses of variants still on their way (they count toward the ETA).
MOVING: Final = frozenset({QUEUED, SENDING, RUNNING})
#: Statuses shown as errors, with advice.
ERRORS: Final = (FAILED, REFUSED, UNKNOWN)


def phase(state: str, counts: Mapping[str, int]) -> str:
    """An experiment's state in a person's words: an ``active`` one is ``running`` while a
    variant is queued, being sent or running, else ``done``; ``paused``/``cancelled`` as is."""
    if state != ACTIVE:
        return state
    return "running" if any(counts.get(s, 0) for s in MOVING) else "done"


@dataclass(frozen=True)
class VariantError:
    """A variant that ended badly: which one, how, and what the service said."""

    variant_id: str
    label: str  # its varied values, short ("prompt=a storm, seed=2")
    status: str  # failed, refused or unknown
    code: str | None
    message: str


@dataclass(frozen=True)
class RunStatus:
    """An experiment's progress at one moment (``at``: unix ms).

    ``planned`` counts variants that will run or ran (not invalid, not cancelled);
    ``finished`` those whose run is over. Tokens: ``spent`` over succeeded variants (reported
    by the service, else their estimate: ``spent_estimated`` of it), ``estimated_total`` the
    pre-send estimate of every planned variant. ``eta_seconds`` is ``None`` until a variant
    finished (nothing to measure a pace on) or while nothing moves.
    """

    name: str
    state: str
    counts: Mapping[str, int]
    planned: int
    finished: int
    spent: int
    spent_estimated: int
    estimated_total: int
    eta_seconds: float | None
    errors: tuple[VariantError, ...]
    at: int

    @property
    def total(self) -> int:
        """Every variant, invalid and cancelled ones included."""
        return sum(self.counts.values())

    @property
    def done(self) -> bool:
        """Nothing is queued, being sent or running (paused/cancelled ones wait)."""
        return not any(self.counts.get(s, 0) for s in MOVING)

    @property
    def phase(self) -> str:
        """``running``, ``done``, ``paused`` or ``cancelled`` (see :func:`phase`)."""
        return phase(self.state, self.counts)

    @property
    def fraction(self) -> float:
        """Finished / planned (1.0 when nothing is planned)."""
        return self.finished / self.planned if self.planned else 1.0

    def counts_text(self) -> str:
        """``2 succeeded · 1 running · 3 queued`` in the statuses' order."""
        return counts_text(self.counts)

    def tokens_text(self) -> str:
        """Tokens spent against the estimate, estimates marked."""
        part = f" (~{self.spent_estimated:,} of it estimated)" if self.spent_estimated else ""
        return f"{self.spent:,} tokens spent{part} of ~{self.estimated_total:,} estimated"

    def eta_text(self) -> str:
        """``about 3 min left``, ``done``, or what stops an estimate."""
        if self.done:
            return "done" if self.state != PAUSED else "paused"
        if self.state == PAUSED:
            return "paused"
        if self.eta_seconds is None:
            return "ETA after the first video finishes"
        return f"about {duration_text(self.eta_seconds)} left"


def counts_text(counts: Mapping[str, int]) -> str:
    """Variants by status in words, in the statuses' order: ``2 succeeded · 1 running``."""
    return " · ".join(f"{counts[s]} {s}" for s in VARIANT_STATUSES if counts.get(s))


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min``, ``1 h 20 min``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def run_status(
    name: str, state: str, variants: Iterable[VariantRow], *, now: int | None = None
) -> RunStatus:
    """The status of an experiment from its stored variants (``now``: unix ms)."""
    at = now_ms() if now is None else now
    rows = list(variants)
    counts = {s: 0 for s in VARIANT_STATUSES}
    for v in rows:
        counts[v.status] = counts.get(v.status, 0) + 1
    planned = [v for v in rows if v.status not in (INVALID, CANCELLED)]
    finished = [v for v in planned if v.status in FINAL_STATUSES]
    succeeded = [v for v in rows if v.status == SUCCEEDED]
    spent = sum((v.tokens if v.tokens is not None else v.estimated_tokens or 0) for v in succeeded)
    spent_estimated = sum(v.estimated_tokens or 0 for v in succeeded if v.tokens is None)
    moving = sum(1 for v in rows if v.status in MOVING)
    sent = [v.sent_at for v in rows if v.sent_at]
    timed = [v for v in finished if v.finished_at and v.sent_at]
    eta: float | None = None
    if moving and timed and sent:
        elapsed = max(1, at - min(sent)) / 1000
        eta = moving * elapsed / len(timed)
    errors = tuple(
        VariantError(
            v.variant_id, variant_label(v.values), v.status, v.error_code, v.error_message or ""
        )
        for v in rows
        if v.status in ERRORS
    )
    return RunStatus(
        name=name,
        state=state,
        counts={s: n for s, n in counts.items() if n},
        planned=len(planned),
        finished=len(finished),
        spent=spent,
        spent_estimated=spent_estimated,
        estimated_total=sum(v.estimated_tokens or 0 for v in planned),
        eta_seconds=eta,
        errors=errors,
        at=at,
    )


def track(
    status: Callable[[], RunStatus],
    *,
    interval: float = 1.0,
    timeout: float | None = None,
    bar_factory: Callable[..., Any] | None = None,
) -> RunStatus:
    """Draw ``status()`` as a tqdm bar until the run is done (or ``timeout`` seconds:
    ``TimeoutError``, the bar left as it was). ``bar_factory`` defaults to ``tqdm.auto.tqdm``."""
    if bar_factory is None:
        from tqdm.auto import tqdm

        bar_factory = tqdm
    now = status()
    bar = bar_factory(total=now.planned, desc=now.name, unit="video", dynamic_ncols=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            bar.total = now.planned
            bar.n = now.finished
            bar.set_postfix_str(f"{now.counts_text()} | {now.tokens_text()}", refresh=False)
            bar.refresh()
            if now.done:
                return now
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"experiment {now.name!r} is not done after {timeout} s: {now.counts_text()}"
                )
            time.sleep(interval)
            now = status()
    finally:
        bar.close()
