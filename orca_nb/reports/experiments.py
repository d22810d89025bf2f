"""``experiment_summary``: each experiment's outcome, latency and tokens, per varied value.

The ledger names the experiment and variant of each submission an experiment made
(``submissions.experiment_id`` / ``variant_id``). A variant may have several ledger rows (a
refused send that went back to the queue, then the send that worked): a variant counts once,
by its latest row. The varied values are read back from what was sent: the ledger's columns
(model, prompt, ratio, resolution, duration, generate_audio), the request's ``seed`` and
``watermark``, and the reference set (the sources of ``content[]`` in order); a dimension is
*varied* when it takes more than one value among the experiment's variants. The compare grid's
marks (``Ledger.variant_marks``) add how many variants were rated, their mean rating and the
pinned winner.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from orca_nb.ledger import TERMINAL_STATUSES, Ledger
from orca_nb.ledger.schema import STATUS_UNKNOWN
from orca_nb.reports.filters import LedgerLike, Names, Selection, TimeLike, frame, using
from orca_nb.reports.schemas import SCHEMAS, conform

#: The dimensions read back from each submission, in the report's order.
DIMENSIONS: tuple[str, ...] = (
    "prompt", "model", "ratio", "resolution", "duration", "seed", "generate_audio", "watermark",
    "references",
)  # fmt: skip
_FAILED = TERMINAL_STATUSES - {"succeeded"}


def experiment_summary(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Per experiment one row (``dimension`` and ``value`` NaN), then one row per value of
    each varied dimension: variants, how they ended, latency p50/p95, tokens reported against
    the estimate made before sending, ratings and the winner (on a dimension's row, the winner
    when it has that value: ``table[table.winner.notna()]`` shows the winning values).
    Submissions made outside experiments are left out.

    Schema: ``SCHEMAS["experiment_summary"]``.
    """
    selection = Selection.of(since, until, group, model, experiment=experiment, now=now)
    where, params = selection.submissions_where()
    sql = f"""
        SELECT s.id, s.experiment_id, s.variant_id, s.submitted_at, s.status, s.model,
               s.prompt, s.ratio, s.resolution, s.duration, s.generate_audio, s.params,
               s.latency_ms, s.total_tokens, s.tokens_source, s.estimated_tokens
        FROM submissions s WHERE s.experiment_id IS NOT NULL AND {where}
        ORDER BY s.experiment_id, s.variant_id, s.submitted_at, s.id
    """
    with using(ledger) as opened:
        rows = frame(opened, sql, params)
        items = frame(
            opened,
            "SELECT i.submission_id, i.position, i.asset_type, i.role, i.source"
            f" FROM submission_items i JOIN submissions s ON s.id = i.submission_id"
            f" WHERE s.experiment_id IS NOT NULL AND {where}"
            " ORDER BY i.submission_id, i.position",
            params,
        )
        experiments = sorted({str(e) for e in rows["experiment_id"]})
        ratings, pins = _marks(opened, experiments)
    if not len(rows):
        return conform({c: [] for c, _, _ in SCHEMAS["experiment_summary"]}, "experiment_summary")
    sends = rows.groupby(["experiment_id", "variant_id"], sort=False).size()
    latest = rows.groupby(["experiment_id", "variant_id"], sort=False).tail(1).copy()
    latest["submissions"] = [
        int(sends[(e, v)])
        for e, v in zip(latest["experiment_id"], latest["variant_id"], strict=True)
    ]
    refs = _reference_sets(items)
    latest["references"] = [refs.get(i, "") for i in latest["id"]]
    extra = [_params(p) for p in latest["params"]]
    latest["seed"] = [e.get("seed") for e in extra]
    latest["watermark"] = [e.get("watermark") for e in extra]
    latest["generate_audio"] = [
        None if v is None or v != v else bool(int(v)) for v in latest["generate_audio"]
    ]
    keys = list(zip(latest["experiment_id"], latest["variant_id"], strict=True))
    latest["rating"] = pd.array([ratings.get(k) for k in keys], dtype="Int64")
    latest["pinned"] = [pins.get(e) == v for e, v in keys]
    out: list[dict[str, Any]] = []
    for experiment_id, variants in latest.groupby("experiment_id", sort=True):
        out.append(_summary(str(experiment_id), None, None, variants))
        for dimension in DIMENSIONS:
            texts = variants[dimension].map(_text)
            if texts.nunique(dropna=False) < 2:
                continue
            for value in sorted(texts.unique(), key=_order):
                out.append(_summary(str(experiment_id), dimension, value, variants[texts == value]))
    return conform(pd.DataFrame(out), "experiment_summary")


def _summary(
    experiment_id: str, dimension: str | None, value: str | None, variants: pd.DataFrame
) -> dict[str, Any]:
    status = variants["status"]
    succeeded = int((status == "succeeded").sum())
    failed = int(status.isin(_FAILED).sum())
    unknown = int((status == STATUS_UNKNOWN).sum())
    done = variants[(status == "succeeded") & variants["latency_ms"].notna()]
    latencies = done["latency_ms"].astype("float64").to_numpy() / 1000.0
    tokens = variants["total_tokens"].astype("Int64")
    reported = variants["tokens_source"] == "reported"
    estimate = variants["estimated_tokens"].astype("Int64")
    both = reported & estimate.notna()
    estimate_of_reported = int(estimate[both].sum())
    rated = variants["rating"].dropna()
    winners = variants.loc[variants["pinned"], "variant_id"]
    return {
        "experiment_id": experiment_id,
        "dimension": dimension,
        "value": value,
        "variants": len(variants),
        "submissions": int(variants["submissions"].sum()),
        "succeeded": succeeded,
        "failed": failed,
        "unknown": unknown,
        "pending": len(variants) - succeeded - failed - unknown,
        "success_rate": succeeded / (succeeded + failed) if succeeded + failed else np.nan,
        "p50": float(np.percentile(latencies, 50)) if len(latencies) else np.nan,
        "p95": float(np.percentile(latencies, 95)) if len(latencies) else np.nan,
        "tokens": int(tokens.sum()),
        "reported_tokens": int(tokens[reported].sum()),
        "estimated_tokens": int(estimate.sum()),
        "reported_vs_estimate": (
            int(tokens[both].sum()) / estimate_of_reported if estimate_of_reported else np.nan
        ),
        "rated": len(rated),
        "mean_rating": float(rated.astype("float64").mean()) if len(rated) else np.nan,
        "winner": str(winners.iloc[0]) if len(winners) else None,
        "first_at": int(variants["submitted_at"].astype("int64").min()),
        "last_at": int(variants["submitted_at"].astype("int64").max()),
    }


def _marks(
    ledger: Ledger, experiments: list[str]
) -> tuple[dict[tuple[str, str], int], dict[str, str]]:
    """The experiments' ratings by (experiment, variant) and pinned winner by experiment, as
    the compare grid stored them (:meth:`Ledger.variant_marks`)."""
    ratings: dict[tuple[str, str], int] = {}
    pins: dict[str, str] = {}
    for experiment_id in experiments:
        for variant_id, mark in ledger.variant_marks(experiment_id).items():
            if mark.rating is not None:
                ratings[(experiment_id, variant_id)] = mark.rating
            if mark.pinned:
                pins[experiment_id] = variant_id
    return ratings, pins


def _params(text: object) -> dict[str, Any]:
    try:
        value = json.loads(str(text)) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reference_sets(items: pd.DataFrame) -> dict[str, str]:
    """Submission id -> its media items as ``Image:<source>, Video:<source>`` in order."""
    found: dict[str, list[str]] = {}
    columns = (items["submission_id"], items["asset_type"], items["source"])
    for sid, kind, source in zip(*columns, strict=True):
        found.setdefault(str(sid), []).append(f"{kind}:{source}")
    return {sid: ", ".join(parts) for sid, parts in found.items()}


def _text(value: object) -> str:
    """A varied value as the report shows it (``true``/``false``, numbers plain, none as '')."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _order(text: str) -> tuple[int, float, str]:
    """Numbers in numeric order (seed 7 before 42), then text in alphabetical order."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)
