"""An experiment's results: one row per variant, joined with the usage ledger and the marks.

The experiments' own tables say what each variant is (varied values, body), how its run went
(status, task id, error) and the estimate made before sending. The usage ledger adds what the
service said: its times (``submitted_at`` and ``finished_at`` are the service's stamps where the
task carried them, so ``latency_s`` is the service's submit-to-finish), the tokens it reported
or the ledger's estimate with its source (``estimated`` or ``estimated_min``, a lower bound), and
the marks people put on the variants in the compare grid (pinned winner, rating, tags, note).

Without a ledger (``ORCA_NB_LEDGER=off``, or another machine's experiment) the rows still come,
with latency from this process's own clock (``latency_source`` ``local``) and no marks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from orca_nb import wire
from orca_nb.experiments.db import SUCCEEDED, VariantRow

if TYPE_CHECKING:
    import pandas as pd

    from orca_nb.ledger import Ledger, VariantMark

#: ``latency_source``: the service's stamps (via the ledger), or this process's clock.
LATENCY_SERVICE: Final = "service"
LATENCY_LOCAL: Final = "local"

#: The columns after the varied dimensions, in order (see :func:`results_frame`).
COLUMNS: Final[tuple[str, ...]] = (
    "status", "task_id", "submitted_at", "finished_at", "latency_s", "latency_source", "tokens",
    "tokens_source", "estimated_tokens", "error_code", "error", "pinned", "rating", "tags", "note",
)  # fmt: skip


@dataclass(frozen=True)
class LedgerSend:
    """What the usage ledger holds about one variant's send (times in ms since the epoch)."""

    variant_id: str
    task_id: str | None
    status: str
    submitted_at: int
    finished_at: int | None
    latency_ms: int | None
    total_tokens: int | None
    tokens_source: str | None
    estimate_source: str | None


def ledger_sends(ledger: Ledger | None, experiment_id: str) -> dict[str, list[LedgerSend]]:
    """Every ledger row the experiment's variants sent, by variant id, oldest first (empty
    without a ledger)."""
    if ledger is None:
        return {}
    _, rows = ledger.database.query(
        "SELECT variant_id, task_id, status, submitted_at, finished_at, latency_ms,"
        " total_tokens, tokens_source, estimate_source FROM submissions"
        " WHERE experiment_id = ? ORDER BY variant_id, submitted_at, id",
        (experiment_id,),
    )
    found: dict[str, list[LedgerSend]] = {}
    for vid, task, status, sub, fin, lat, tokens, source, est_source in rows:
        send = LedgerSend(
            str(vid), None if task is None else str(task), str(status), int(sub),
            None if fin is None else int(fin), None if lat is None else int(lat),
            None if tokens is None else int(tokens), source, est_source,
        )  # fmt: skip
        found.setdefault(str(vid), []).append(send)
    return found


def ledger_marks(ledger: Ledger | None, experiment_id: str) -> dict[str, VariantMark]:
    """The experiment's marks by variant id (empty without a ledger)."""
    return {} if ledger is None else ledger.variant_marks(experiment_id)


def dimensions(rows: Sequence[VariantRow]) -> list[str]:
    """The varied dimensions in the order the variants name them."""
    dims: list[str] = []
    for v in rows:
        dims += [k for k in v.values if k not in dims]
    return dims


def _send_of(variant: VariantRow, sends: Sequence[LedgerSend]) -> LedgerSend | None:
    """The ledger row of the variant's task (None when the variant has no task or the ledger
    does not know it)."""
    if variant.task_id is None:
        return None
    matching = [s for s in sends if s.task_id == variant.task_id]
    return matching[-1] if matching else None


def _tokens(variant: VariantRow, send: LedgerSend | None) -> tuple[int | None, str | None]:
    """Tokens spent and where the figure comes from: the service's report, else (a succeeded
    variant only: nothing else made a video) the ledger's estimate with its source, else the
    estimate made before sending."""
    if variant.tokens is not None:
        return variant.tokens, wire.TOKENS_REPORTED
    if send is not None and send.total_tokens is not None and send.tokens_source:
        return send.total_tokens, send.tokens_source
    if variant.status != SUCCEEDED or variant.estimated_tokens is None:
        return None, None
    if send is not None and send.estimate_source in wire.TOKENS_SOURCES:
        return variant.estimated_tokens, send.estimate_source
    return variant.estimated_tokens, _estimate_source(variant)


def _estimate_source(variant: VariantRow) -> str:
    """``estimated_min`` when the rule could not know every length in the body (a lower
    bound), else ``estimated``; a stored figure above the rule's (lengths given at start with
    ``media_seconds``) is a full estimate."""
    from orca_nb.compose.cost import estimate_tokens

    if variant.body is None:
        return wire.TOKENS_ESTIMATED
    try:
        again = estimate_tokens(variant.body)
    except (ValueError, TypeError):
        return wire.TOKENS_ESTIMATED
    if again.lower_bound and (variant.estimated_tokens or 0) <= again.tokens:
        return wire.TOKENS_ESTIMATED_MIN
    return wire.TOKENS_ESTIMATED


def _times(
    variant: VariantRow, send: LedgerSend | None
) -> tuple[int | None, int | None, str | None]:
    """(submitted ms, finished ms, latency source): the service's stamps from the ledger where
    it has both, else this process's own send and finish times for a variant with a task."""
    if send is not None and send.finished_at is not None:
        return send.submitted_at, send.finished_at, LATENCY_SERVICE
    if variant.task_id is not None and variant.sent_at is not None:
        source = LATENCY_LOCAL if variant.finished_at is not None else None
        return variant.sent_at, variant.finished_at, source
    return variant.sent_at, None, None


def results_frame(
    rows: Sequence[VariantRow],
    *,
    sends: Mapping[str, Sequence[LedgerSend]] | None = None,
    marks: Mapping[str, VariantMark] | None = None,
) -> pd.DataFrame:
    """One row per variant: ``variant_id``, the varied dimensions, then :data:`COLUMNS`.

    ``submitted_at``/``finished_at`` are UTC timestamps; ``latency_s`` is finished minus
    submitted in seconds, for variants that got a task (``latency_source`` says whose clock);
    ``tokens`` is what the service reported, else for a succeeded variant an estimate
    (``tokens_source``: ``reported``, ``estimated`` or ``estimated_min``), else none (nothing
    spent yet, or a task that failed without usage); ``estimated_tokens`` is the estimate made
    before sending, for every valid variant; ``pinned`` (the experiment's winner), ``rating``
    (1-5), ``tags`` (a tuple) and ``note`` are the marks.
    """
    import pandas as pd

    sends = sends or {}
    marks = marks or {}
    dims = dimensions(rows)
    records = []
    for v in rows:
        send = _send_of(v, sends.get(v.variant_id, ()))
        submitted, finished, latency_source = _times(v, send)
        latency = (
            (finished - submitted) / 1000
            if latency_source is not None and finished is not None and submitted is not None
            else None
        )
        tokens, source = _tokens(v, send)
        mark = marks.get(v.variant_id)
        records.append(
            {
                "variant_id": v.variant_id,
                **{d: v.values.get(d) for d in dims},
                "status": v.status,
                "task_id": v.task_id,
                "submitted_at": submitted,
                "finished_at": finished if latency_source is not None else None,
                "latency_s": latency,
                "latency_source": latency_source,
                "tokens": tokens,
                "tokens_source": source,
                "estimated_tokens": v.estimated_tokens,
                "error_code": v.error_code,
                "error": v.error_message,
                "pinned": bool(mark.pinned) if mark else False,
                "rating": mark.rating if mark else None,
                "tags": tuple(mark.tags) if mark else (),
                "note": mark.note if mark else "",
            }
        )
    frame = pd.DataFrame.from_records(records, columns=["variant_id", *dims, *COLUMNS])
    for column in ("submitted_at", "finished_at"):  # as the reports' times: ms, UTC
        stamps = pd.to_datetime(frame[column].astype("Int64"), unit="ms", utc=True)
        frame[column] = stamps.astype("datetime64[ms, UTC]")
    return frame.astype(
        {"latency_s": "float64", "tokens": "Int64", "estimated_tokens": "Int64", "rating": "Int64",
         "pinned": "bool"}
    )  # fmt: skip


__all__ = [
    "COLUMNS",
    "LATENCY_LOCAL",
    "LATENCY_SERVICE",
    "LedgerSend",
    "dimensions",
    "ledger_marks",
    "ledger_sends",
    "results_frame",
]
