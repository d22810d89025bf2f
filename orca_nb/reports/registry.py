"""Every report by name, and building them all at once for exports and the HTML report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

import pandas as pd

from orca_nb.reports.experiments import experiment_summary
from orca_nb.reports.filters import LedgerLike, Names, TimeLike, using
from orca_nb.reports.outcomes import (
    failures_by_code,
    latency,
    quota_use,
    submissions,
    tokens_per_day,
)
from orca_nb.reports.usage import asset_hygiene, asset_usage, group_summary, usage_breakdown

#: Report name -> function; the names are also the keys of ``SCHEMAS`` and the export files.
REPORTS: Final[dict[str, Callable[..., pd.DataFrame]]] = {
    "asset_usage": asset_usage,
    "usage_breakdown": usage_breakdown,
    "asset_hygiene": asset_hygiene,
    "group_summary": group_summary,
    "failures_by_code": failures_by_code,
    "latency": latency,
    "tokens_per_day": tokens_per_day,
    "quota_use": quota_use,
    "submissions": submissions,
    "experiment_summary": experiment_summary,
}


def build_all(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    reports: Sequence[str] | None = None,
    now: datetime | None = None,
) -> dict[str, pd.DataFrame]:
    """Run several reports (all by default) on one ledger with one selection."""
    names = list(reports) if reports is not None else list(REPORTS)
    unknown = [n for n in names if n not in REPORTS]
    if unknown:
        raise ValueError(f"unknown reports {unknown}; choose from {sorted(REPORTS)}")
    options: dict[str, Any] = {
        "since": since, "until": until, "group": group, "model": model,
        "experiment": experiment, "now": now,
    }  # fmt: skip
    with using(ledger) as opened:
        return {name: REPORTS[name](opened, **options) for name in names}
