"""Usage reports over the ledger: pandas DataFrames with fixed schemas, charts and exports.

Every report is a function ``report(ledger=None, *, since=None, until=None, group=None,
model=None, experiment=None) -> DataFrame``; ``ledger`` is a :class:`~orca_nb.ledger.Ledger`,
a ledger URL or ``None`` for the default ledger; ``experiment`` keeps the submissions of those
experiments (``orca_nb.experiments``), and ``experiment_summary`` sums them up per variant.
Column schemas: :data:`SCHEMAS` / :func:`describe`.
"""

from __future__ import annotations

from orca_nb.reports.experiments import experiment_summary
from orca_nb.reports.filters import LedgerLike, Names, TimeLike, parse_time
from orca_nb.reports.outcomes import (
    failures_by_code,
    latency,
    quota_use,
    submissions,
    tokens_per_day,
)
from orca_nb.reports.registry import REPORTS, build_all
from orca_nb.reports.schemas import SCHEMAS, columns, describe
from orca_nb.reports.usage import asset_hygiene, asset_usage, group_summary, usage_breakdown

__all__ = [
    "REPORTS",
    "SCHEMAS",
    "LedgerLike",
    "Names",
    "TimeLike",
    "asset_hygiene",
    "asset_usage",
    "build_all",
    "columns",
    "describe",
    "experiment_summary",
    "failures_by_code",
    "group_summary",
    "latency",
    "parse_time",
    "quota_use",
    "submissions",
    "tokens_per_day",
    "usage_breakdown",
]
