"""Submission-centred reports: failures, latency, tokens, quota, and the raw history."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from orca_nb import wire
from orca_nb.ledger.ledger import DAY_MS, TERMINAL_STATUSES
from orca_nb.ledger.schema import STATUS_UNKNOWN
from orca_nb.reports.filters import LedgerLike, Names, Selection, TimeLike, frame, using
from orca_nb.reports.schemas import SCHEMAS, conform

_UNSUCCESSFUL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES - {"succeeded"}))


def failures_by_code(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Unsuccessful submissions by how they ended and their error code, most frequent first.

    Only ended submissions: an ``unknown`` outcome (the task may exist) is not a failure; it is
    counted in ``tokens_per_day``/``quota_use`` (``unknown``) until settled.

    Schema: ``SCHEMAS["failures_by_code"]``.
    """
    where, params = Selection.of(
        since, until, group, model, experiment=experiment, now=now
    ).submissions_where()
    sql = f"""
        SELECT s.status, COALESCE(s.error_code, 'unknown') AS error_code, COUNT(*) AS failures,
               MIN(s.submitted_at) AS first_at, MAX(s.submitted_at) AS last_at,
               MAX(s.error_message) AS example_message
        FROM submissions s WHERE s.status IN ({_UNSUCCESSFUL}) AND {where}
        GROUP BY s.status, COALESCE(s.error_code, 'unknown')
    """
    with using(ledger) as opened:
        rows = frame(opened, sql, params)
    total = float(rows["failures"].sum()) if len(rows) else 0.0
    rows["share"] = rows["failures"].astype("float64") / total if total else np.nan
    rows = rows.sort_values(
        ["failures", "status", "error_code"], ascending=[False, True, True], kind="stable"
    )
    return conform(rows, "failures_by_code")


def latency(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Generation latency of succeeded videos by model, resolution and duration.

    Latency is submission to finish; queue is submission to start, run is start to finish.
    Percentiles interpolate linearly between the two nearest values (numpy's default); the
    database hands over just those two values per percentile, read from the
    ``submissions_latency`` index. Schema: ``SCHEMAS["latency"]``.
    """
    where, params = Selection.of(
        since, until, group, model, experiment=experiment, now=now
    ).submissions_where()
    done = f"s.status = 'succeeded' AND s.latency_ms IS NOT NULL AND {where}"
    rows: list[dict[str, object]] = []
    with using(ledger) as opened:
        _, keys = opened.database.query(
            "SELECT s.model, s.resolution, s.duration, COUNT(*), AVG(s.latency_ms),"
            " MAX(s.latency_ms), AVG(s.queue_ms), AVG(s.latency_ms - s.queue_ms)"
            f" FROM submissions s WHERE {done} GROUP BY s.model, s.resolution, s.duration",
            params,
        )
        for model_name, resolution, duration, count, mean, slowest, queue, run in keys:
            conditions = [
                "s.model = ?",
                _is("s.resolution", resolution),
                _is("s.duration", duration),
            ]
            key_params = [model_name] + [v for v in (resolution, duration) if v is not None]
            sql = (
                f"SELECT s.latency_ms FROM submissions s WHERE {done} AND "
                + " AND ".join(conditions)
                + " ORDER BY s.latency_ms LIMIT 2 OFFSET ?"
            )
            row: dict[str, object] = {
                "model": model_name, "resolution": resolution, "duration": duration,
                "videos": int(count), "mean": _seconds(mean), "max": _seconds(slowest),
                "queue_mean": _seconds(queue), "run_mean": _seconds(run),
            }  # fmt: skip
            for name, share in _PERCENTILES:
                position = share * (int(count) - 1)
                low = int(position)
                _, pair = opened.database.query(sql, [*params, *key_params, low])
                values = [float(v[0]) for v in pair]
                upper = values[1] if len(values) > 1 else values[0]
                row[name] = (values[0] + (position - low) * (upper - values[0])) / 1000.0
            rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c, _, _ in SCHEMAS["latency"]])
    table = table.sort_values(["model", "resolution", "duration"], kind="stable")
    return conform(table, "latency")


_PERCENTILES = (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99))


def _is(column: str, value: object) -> str:
    return f"{column} IS NULL" if value is None else f"{column} = ?"


def _seconds(ms: object) -> float:
    return float(ms) / 1000.0 if ms is not None else float("nan")  # type: ignore[arg-type]


def tokens_per_day(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Videos and usage tokens per UTC day of submission and submitter label.

    Schema: ``SCHEMAS["tokens_per_day"]``.
    """
    where, params = Selection.of(
        since, until, group, model, experiment=experiment, now=now
    ).submissions_where()
    sql = f"""
        SELECT s.day AS day_number, s.submitter, COUNT(*) AS videos,
               SUM(CASE WHEN s.status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
               SUM(CASE WHEN s.status = '{STATUS_UNKNOWN}' THEN 1 ELSE 0 END) AS unknown,
               CAST(SUM(COALESCE(s.total_tokens, 0)) AS BIGINT) AS tokens,
               CAST(SUM(CASE WHEN s.tokens_source IN ('estimated', 'estimated_min')
                        THEN s.total_tokens ELSE 0 END) AS BIGINT) AS estimated_tokens,
               MAX(CASE WHEN s.tokens_source = 'estimated_min' THEN 1 ELSE 0 END) AS lower_bound
        FROM submissions s WHERE {where}
        GROUP BY s.day, s.submitter
    """
    with using(ledger) as opened:
        rows = frame(opened, sql, params)
    rows["day"] = rows["day_number"].astype("int64") * DAY_MS
    rows["lower_bound"] = rows["lower_bound"].fillna(0).astype("int64") > 0
    rows = rows.sort_values(["day", "submitter"], kind="stable")
    return conform(rows, "tokens_per_day")


def quota_use(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    asset_cap: int = wire.DEFAULT_ASSET_CAP,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Quota over time, one row per UTC day: tokens spent (and running total), assets held.

    Days run from ``since`` (or the first activity) to ``until`` (or the last activity), with
    empty days as zeros. Asset counts come from snapshots (``CreateTime``, deletion) and follow
    the ``group`` filter. Schema: ``SCHEMAS["quota_use"]``.
    """
    selection = Selection.of(since, until, group, model, experiment=experiment, now=now)
    where, params = selection.submissions_where()
    sql = f"""
        SELECT s.day AS day_number, COUNT(*) AS videos,
               SUM(CASE WHEN s.status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
               SUM(CASE WHEN s.status = '{STATUS_UNKNOWN}' THEN 1 ELSE 0 END) AS unknown,
               CAST(SUM(COALESCE(s.total_tokens, 0)) AS BIGINT) AS tokens,
               CAST(SUM(CASE WHEN s.tokens_source IN ('estimated', 'estimated_min')
                        THEN s.total_tokens ELSE 0 END) AS BIGINT) AS estimated_tokens
        FROM submissions s WHERE {where} GROUP BY s.day
    """
    with using(ledger) as opened:
        daily = frame(opened, sql, params)
        assets = frame(
            opened,
            "SELECT group_id, COALESCE(created_at, first_seen_at) AS created, deleted_at"
            " FROM assets",
        )
    if selection.groups:
        assets = assets[assets["group_id"].isin(selection.groups)]
    created = assets["created"].dropna().astype("int64") // DAY_MS
    deleted = assets["deleted_at"].dropna().astype("int64") // DAY_MS
    active_days = [*daily["day_number"].astype("int64"), *created]
    first = selection.since_ms // DAY_MS if selection.since_ms is not None else None
    last = (selection.until_ms - 1) // DAY_MS if selection.until_ms is not None else None
    if first is None:
        first = min(active_days) if active_days else None
    if last is None:
        last = max(active_days) if active_days else None
    if first is None or last is None or last < first:
        return conform({c: [] for c, _, _ in SCHEMAS["quota_use"]}, "quota_use")
    days = pd.DataFrame({"day_number": np.arange(first, last + 1, dtype="int64")})
    daily["day_number"] = daily["day_number"].astype("int64")
    table = days.merge(daily, on="day_number", how="left")
    for name in ("videos", "succeeded", "unknown", "tokens", "estimated_tokens"):
        table[name] = table[name].fillna(0).astype("int64")
    table["cumulative_tokens"] = table["tokens"].cumsum()
    day = table["day_number"].to_numpy()
    created_sorted = np.sort(created.to_numpy())
    deleted_sorted = np.sort(deleted.to_numpy())
    table["assets_created"] = np.bincount(
        np.searchsorted(day, created_sorted[(created_sorted >= first) & (created_sorted <= last)]),
        minlength=len(day),
    )
    table["assets_live"] = np.searchsorted(created_sorted, day, side="right") - np.searchsorted(
        deleted_sorted, day, side="right"
    )
    table["asset_cap"] = asset_cap
    table["cap_used"] = table["assets_live"] / float(asset_cap)
    table["day"] = table["day_number"] * DAY_MS
    return conform(table, "quota_use")


def submissions(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    limit: int | None = 1000,
    now: datetime | None = None,
) -> pd.DataFrame:
    """The submissions themselves, newest first (at most ``limit``; ``None`` for all).

    Schema: ``SCHEMAS["submissions"]``.
    """
    where, params = Selection.of(
        since, until, group, model, experiment=experiment, now=now
    ).submissions_where()
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 or None, got {limit}")
    sql = f"""
        SELECT s.id AS submission_id, s.task_id, s.submitted_at, s.finished_at, s.status,
               s.model, s.mode, s.resolution, s.duration, s.n_items AS items, s.submitter,
               s.total_tokens AS tokens, s.tokens_source, s.error_code, s.prompt
        FROM submissions s WHERE {where} ORDER BY s.submitted_at DESC, s.id
    """
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with using(ledger) as opened:
        rows = frame(opened, sql, params)
    return conform(rows, "submissions")
