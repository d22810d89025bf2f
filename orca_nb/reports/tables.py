"""Which rows of a report a short table shows, and the note that says how to see them all.

A report cut to its first N rows must show the rows that matter: the most recent first for
reports over time, rows with something in them before empty ones for per-asset and per-group
reports. The full frame is never changed; only what a table displays.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

#: report -> (sort columns, descending?, words for the order); reports absent keep their order.
ORDER: Final[dict[str, tuple[tuple[str, ...], bool, str]]] = {
    "tokens_per_day": (("day", "tokens"), True, "most recent day first"),
    "quota_use": (("day",), True, "most recent day first"),
    "submissions": (("submitted_at",), True, "most recent first"),
    "asset_usage": (("references", "videos"), True, "most referenced first"),
    "usage_breakdown": (("references",), True, "most references first"),
    "group_summary": (("videos", "references", "assets"), True, "most used first"),
    "failures_by_code": (("failures", "last_at"), True, "most frequent first"),
    "latency": (("videos",), True, "most videos first"),
}


def rows_that_matter(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` in the order a short table of report ``name`` should show it (stable: ties
    keep the report's own order; missing values last)."""
    order = ORDER.get(name)
    if order is None or frame.empty:
        return frame
    columns = [c for c in order[0] if c in frame.columns]
    if not columns:
        return frame
    return frame.sort_values(columns, ascending=not order[1], kind="stable", na_position="last")


def order_words(name: str) -> str:
    """How :func:`rows_that_matter` orders report ``name`` ("" when it keeps the report's)."""
    order = ORDER.get(name)
    return order[2] if order else ""


def cut(name: str, frame: pd.DataFrame, rows: int) -> tuple[pd.DataFrame, str]:
    """The first ``rows`` rows that matter, and a note saying what was left out and how to see
    every row ("" when nothing was)."""
    shown = rows_that_matter(name, frame).head(rows)
    if len(frame) <= rows:
        return shown, ""
    how = order_words(name)
    return shown, (
        f"Showing {rows} of {len(frame):,} rows{f' ({how})' if how else ''}. Every row: "
        f"orca_nb.reports.{name}(ledger) in a notebook, or export with "
        "`orca-nb report --csv DIR` (or --parquet DIR)."
    )
