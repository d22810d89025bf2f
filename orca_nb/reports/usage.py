"""Asset-centred reports: which assets and groups feed which videos, and which are dead weight."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from orca_nb.ledger import Ledger
from orca_nb.reports.filters import LedgerLike, Names, Selection, TimeLike, frame, using
from orca_nb.reports.schemas import conform

# One row per (source, submission): a video counts once per asset however often it repeats it.
_PER_VIDEO = """
SELECT {key} AS key, i.submission_id, COUNT(*) AS refs, MAX(i.outcome) AS outcome,
       MAX(i.tokens) AS tokens, MAX(i.submitted_at) AS submitted_at{extra}
FROM submission_items i WHERE {where} GROUP BY {key}, i.submission_id
"""
_ROLLUP = """
SELECT u.key, CAST(SUM(u.refs) AS BIGINT) AS refs, COUNT(*) AS videos,
       SUM(CASE WHEN u.outcome = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
       SUM(CASE WHEN u.outcome <> 'succeeded' THEN 1 ELSE 0 END) AS failed,
       CAST(SUM(COALESCE(u.tokens, 0)) AS BIGINT) AS tokens,
       MIN(u.submitted_at) AS first_used, MAX(u.submitted_at) AS last_used{extra_out}
FROM ({inner}) u GROUP BY u.key
"""


def _rate(succeeded: pd.Series, failed: pd.Series) -> pd.Series:
    done = (succeeded.astype("float64") + failed.astype("float64")).replace(0, np.nan)
    return succeeded.astype("float64") / done


def _snapshots(ledger: Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    assets = frame(
        ledger,
        "SELECT asset_id, name, asset_type, status, group_id, error_code, error_message,"
        " created_at, last_seen_at, deleted_at FROM assets",
    )
    groups = frame(
        ledger, "SELECT group_id, name, group_type, created_at, deleted_at FROM asset_groups"
    )
    return assets, groups


def asset_usage(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """How each asset (or URL) was used: references, videos fed, their success and tokens.

    One row per source, most referenced first. Schema: ``SCHEMAS["asset_usage"]``.
    """
    selection = Selection.of(since, until, group, model, now=now)
    where, params = selection.items_where()
    inner = _PER_VIDEO.format(
        key="COALESCE(i.asset_id, i.source)",
        where=where,
        extra=", MAX(i.asset_id) AS asset_id, MAX(i.asset_type) AS asset_type,"
        " MAX(i.group_id) AS group_id",
    )
    sql = _ROLLUP.format(
        inner=inner,
        extra_out=", MAX(u.asset_id) AS asset_id, MAX(u.asset_type) AS asset_type,"
        " MAX(u.group_id) AS group_id",
    )
    with using(ledger) as opened:
        used = frame(opened, sql, params)
        assets, groups = _snapshots(opened)
    used = used.rename(columns={"key": "source", "refs": "references"})
    snap = assets.rename(columns={"asset_type": "snap_type", "group_id": "snap_group"})
    merged = used.merge(
        snap[["asset_id", "name", "status", "snap_type", "snap_group", "deleted_at"]],
        on="asset_id",
        how="left",
    )
    merged["asset_type"] = merged["asset_type"].fillna(merged["snap_type"])
    merged["group_id"] = merged["group_id"].fillna(merged["snap_group"])
    merged = merged.merge(
        groups[["group_id", "name"]].rename(columns={"name": "group_name"}),
        on="group_id",
        how="left",
    )
    merged["deleted"] = merged["deleted_at"].notna()
    merged["success_rate"] = _rate(merged["succeeded"], merged["failed"])
    merged = merged.sort_values(["references", "source"], ascending=[False, True], kind="stable")
    return conform(merged, "asset_usage")


def usage_breakdown(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """References by asset type, role and group. Schema: ``SCHEMAS["usage_breakdown"]``."""
    selection = Selection.of(since, until, group, model, now=now)
    where, params = selection.items_where()
    sql = f"""
        SELECT i.asset_type, i.role, i.group_id, COUNT(*) AS refs,
               COUNT(DISTINCT i.submission_id) AS videos,
               COUNT(DISTINCT COALESCE(i.asset_id, i.source)) AS assets,
               COUNT(DISTINCT CASE WHEN i.outcome = 'succeeded' THEN i.submission_id END)
                   AS succeeded,
               COUNT(DISTINCT CASE WHEN i.outcome <> 'succeeded' THEN i.submission_id END)
                   AS failed
        FROM submission_items i WHERE {where}
        GROUP BY i.asset_type, i.role, i.group_id
    """
    with using(ledger) as opened:
        rows = frame(opened, sql, params)
        _, groups = _snapshots(opened)
    rows = rows.rename(columns={"refs": "references"}).merge(
        groups[["group_id", "name"]].rename(columns={"name": "group_name"}),
        on="group_id",
        how="left",
    )
    rows["success_rate"] = _rate(rows["succeeded"], rows["failed"])
    rows = rows.sort_values(
        ["asset_type", "references", "role"], ascending=[True, False, True], kind="stable"
    )
    return conform(rows, "usage_breakdown")


def asset_hygiene(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    include_deleted: bool = False,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Assets that spend upload quota for nothing: failed ones, and ones no video referenced.

    "Never used" means within the selection (time range, models). Deleted assets no longer
    count against the quota and are left out unless ``include_deleted``. Failed assets come
    first. Schema: ``SCHEMAS["asset_hygiene"]``.
    """
    selection = Selection.of(since, until, None, model, now=now)
    where, params = selection.items_where()
    groups_wanted = Selection.of(group=group).groups
    with using(ledger) as opened:
        counts = frame(
            opened,
            "SELECT i.asset_id, COUNT(*) AS refs FROM submission_items i"
            f" WHERE i.asset_id IS NOT NULL AND {where} GROUP BY i.asset_id",
            params,
        )
        assets, groups = _snapshots(opened)
    table = assets.merge(counts, on="asset_id", how="left")
    table["references"] = table["refs"].fillna(0).astype("int64")
    if not include_deleted:
        table = table[table["deleted_at"].isna()]
    if groups_wanted:
        table = table[table["group_id"].isin(groups_wanted)]
    failed = table["status"] == "Failed"
    unused = (table["references"] == 0) & ~failed
    table = table[failed | unused].copy()
    table["issue"] = np.where(table["status"] == "Failed", "failed", "never_used")
    table = table.merge(
        groups[["group_id", "name"]].rename(columns={"name": "group_name"}),
        on="group_id",
        how="left",
    )
    table = table.sort_values(["issue", "created_at", "asset_id"], kind="stable")
    return conform(table, "asset_hygiene")


def group_summary(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Per group: its assets, how much they were used, with what success and tokens.

    Groups known from snapshots appear even when unused. Schema: ``SCHEMAS["group_summary"]``.
    """
    selection = Selection.of(since, until, group, model, now=now)
    where, params = selection.items_where()
    inner = _PER_VIDEO.format(
        key="i.group_id", where=f"i.group_id IS NOT NULL AND {where}", extra=""
    )
    with using(ledger) as opened:
        used = frame(opened, _ROLLUP.format(inner=inner, extra_out=""), params)
        distinct = frame(
            opened,
            "SELECT i.group_id AS key, COUNT(DISTINCT i.asset_id) AS assets_used"
            f" FROM submission_items i WHERE i.group_id IS NOT NULL AND {where}"
            " GROUP BY i.group_id",
            params,
        )
        assets, groups = _snapshots(opened)
    used = used.merge(distinct, on="key", how="left").rename(
        columns={"key": "group_id", "refs": "references"}
    )
    stock = (
        assets.assign(live=assets["deleted_at"].isna())
        .assign(
            active=lambda a: a["live"] & (a["status"] == "Active"),
            failed_asset=lambda a: a["live"] & (a["status"] == "Failed"),
        )
        .groupby("group_id", dropna=True)
        .agg(
            assets=("live", "sum"),
            active_assets=("active", "sum"),
            failed_assets=("failed_asset", "sum"),
        )
        .reset_index()
    )
    known = groups.rename(columns={"name": "group_name"})[
        ["group_id", "group_name", "group_type", "deleted_at"]
    ]
    ids = pd.concat([known["group_id"], used["group_id"], stock["group_id"]]).dropna().unique()
    table = pd.DataFrame({"group_id": ids})
    if selection.groups:
        table = table[table["group_id"].isin(selection.groups)]
    table = table.merge(known, on="group_id", how="left")
    table = table.merge(stock, on="group_id", how="left").merge(used, on="group_id", how="left")
    for name in (
        "assets",
        "active_assets",
        "failed_assets",
        "assets_used",
        "references",
        "videos",
        "succeeded",
        "failed",
        "tokens",
    ):
        table[name] = table[name].fillna(0).astype("int64")
    table["deleted"] = table["deleted_at"].notna()
    table["success_rate"] = _rate(table["succeeded"], table["failed"])
    table = table.sort_values(["videos", "group_id"], ascending=[False, True], kind="stable")
    return conform(table, "group_summary")
