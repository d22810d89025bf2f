"""Asset-centred reports: which assets and groups feed which videos, and which are dead weight.

All four read one aggregate of ``submission_items`` per (asset key, role), computed by SQL over
the ``items_usage`` covering index; pandas only folds those few thousand rows further.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from orca_nb.ledger import Ledger
from orca_nb.reports.filters import LedgerLike, Names, Selection, TimeLike, frame, using
from orca_nb.reports.schemas import conform

# Grouping by outcome and the first-of flags (instead of summing CASE expressions) lets SQLite
# stream the ``items_usage`` index in order with a handful of cheap aggregates per row.
_BASE = """
SELECT i.asset_key, i.role, i.outcome, i.first_of_source, i.first_of_group,
       MAX(i.asset_type) AS asset_type, MAX(i.group_id) AS group_id, COUNT(*) AS refs,
       CAST(SUM(COALESCE(i.tokens, 0)) AS BIGINT) AS tokens,
       MIN(i.submitted_at) AS first_used, MAX(i.submitted_at) AS last_used
FROM submission_items i WHERE {where}
GROUP BY i.asset_key, i.role, i.outcome, i.first_of_source, i.first_of_group
"""


def usage_by_key(ledger: Ledger, selection: Selection) -> pd.DataFrame:
    """The shared aggregate: one row per (asset key, role) with reference and video counts.

    ``refs``/``ref_succeeded``/``ref_failed`` count references; ``videos``/``succeeded``/
    ``failed``/``tokens`` count each video once per asset; ``group_*`` once per group.
    """
    where, params = selection.items_where()
    raw = frame(ledger, _BASE.format(where=where), params)
    refs = raw["refs"].astype("int64")
    tokens = raw["tokens"].astype("int64")
    ok = (raw["outcome"] == "succeeded").to_numpy()
    ko = (raw["outcome"].notna() & (raw["outcome"] != "succeeded")).to_numpy()
    src = (raw["first_of_source"].astype("int64") == 1).to_numpy()
    grp = (raw["first_of_group"].astype("int64") == 1).to_numpy()
    zero = 0
    parts = pd.DataFrame(
        {
            "asset_key": raw["asset_key"],
            "role": raw["role"].fillna(""),
            "asset_type": raw["asset_type"],
            "group_id": raw["group_id"],
            "refs": refs,
            "ref_succeeded": refs.where(ok, zero),
            "ref_failed": refs.where(ko, zero),
            "videos": refs.where(src, zero),
            "succeeded": refs.where(src & ok, zero),
            "failed": refs.where(src & ko, zero),
            "tokens": tokens.where(src, zero),
            "group_videos": refs.where(grp, zero),
            "group_succeeded": refs.where(grp & ok, zero),
            "group_failed": refs.where(grp & ko, zero),
            "group_tokens": tokens.where(grp, zero),
            "first_used": raw["first_used"].astype("int64"),
            "last_used": raw["last_used"].astype("int64"),
        }
    )
    sums = {name: "sum" for name in parts.columns[4:-2]}
    base = (
        parts.groupby(["asset_key", "role"], sort=False)
        .agg(
            asset_type=("asset_type", "max"),
            group_id=("group_id", "max"),
            first_used=("first_used", "min"),
            last_used=("last_used", "max"),
            **{name: (name, how) for name, how in sums.items()},
        )
        .reset_index()
    )
    base["role"] = base["role"].replace("", np.nan)
    base["asset_id"] = base["asset_key"].where(~base["asset_key"].astype(str).str.contains("://"))
    return base


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


def _group_names(groups: pd.DataFrame) -> pd.DataFrame:
    return groups[["group_id", "name"]].rename(columns={"name": "group_name"})


def asset_usage(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """How each asset (or URL) was used: references, videos fed, their success and tokens.

    One row per source, most referenced first. Schema: ``SCHEMAS["asset_usage"]``.
    """
    selection = Selection.of(since, until, group, model, experiment=experiment, now=now)
    with using(ledger) as opened:
        base = usage_by_key(opened, selection)
        assets, groups = _snapshots(opened)
    used = (
        base.groupby("asset_key", sort=False)
        .agg(
            asset_id=("asset_id", "first"),
            asset_type=("asset_type", "first"),
            group_id=("group_id", "max"),
            references=("refs", "sum"),
            videos=("videos", "sum"),
            succeeded=("succeeded", "sum"),
            failed=("failed", "sum"),
            tokens=("tokens", "sum"),
            first_used=("first_used", "min"),
            last_used=("last_used", "max"),
        )
        .reset_index()
        .rename(columns={"asset_key": "source"})
    )
    snap = assets.rename(columns={"asset_type": "snap_type", "group_id": "snap_group"})
    columns = ["asset_id", "name", "status", "snap_type", "snap_group", "deleted_at"]
    merged = used.merge(snap[columns], on="asset_id", how="left")
    merged["asset_type"] = merged["asset_type"].fillna(merged["snap_type"])
    merged["group_id"] = merged["group_id"].fillna(merged["snap_group"])
    merged = merged.merge(_group_names(groups), on="group_id", how="left")
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
    experiment: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """References by asset type, role and group. Schema: ``SCHEMAS["usage_breakdown"]``."""
    selection = Selection.of(since, until, group, model, experiment=experiment, now=now)
    with using(ledger) as opened:
        base = usage_by_key(opened, selection)
        _, groups = _snapshots(opened)
    rows = (
        base.assign(role=base["role"].fillna(""), group_id=base["group_id"].fillna(""))
        .groupby(["asset_type", "role", "group_id"], sort=False)
        .agg(
            references=("refs", "sum"),
            assets=("asset_key", "nunique"),
            succeeded=("ref_succeeded", "sum"),
            failed=("ref_failed", "sum"),
        )
        .reset_index()
    )
    rows["role"] = rows["role"].replace("", np.nan)
    rows["group_id"] = rows["group_id"].replace("", np.nan)
    rows = rows.merge(_group_names(groups), on="group_id", how="left")
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
    experiment: Names = None,
    include_deleted: bool = False,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Assets that spend upload quota for nothing: failed ones, and ones no video referenced.

    "Never used" means within the selection (time range, models). Deleted assets no longer
    count against the quota and are left out unless ``include_deleted``. Failed assets come
    first. Schema: ``SCHEMAS["asset_hygiene"]``.
    """
    selection = Selection.of(since, until, None, model, experiment=experiment, now=now)
    groups_wanted = Selection.of(group=group).groups
    with using(ledger) as opened:
        base = usage_by_key(opened, selection)
        assets, groups = _snapshots(opened)
    counts = base.groupby("asset_id").agg(references=("refs", "sum")).reset_index()
    table = assets.merge(counts, on="asset_id", how="left")
    table["references"] = table["references"].fillna(0).astype("int64")
    if not include_deleted:
        table = table[table["deleted_at"].isna()]
    if groups_wanted:
        table = table[table["group_id"].isin(groups_wanted)]
    failed = table["status"] == "Failed"
    unused = (table["references"] == 0) & ~failed
    table = table[failed | unused].copy()
    table["issue"] = np.where(table["status"] == "Failed", "failed", "never_used")
    table = table.merge(_group_names(groups), on="group_id", how="left")
    table = table.sort_values(["issue", "created_at", "asset_id"], kind="stable")
    return conform(table, "asset_hygiene")


def group_summary(
    ledger: LedgerLike = None,
    *,
    since: TimeLike = None,
    until: TimeLike = None,
    group: Names = None,
    model: Names = None,
    experiment: Names = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Per group: its assets, how much they were used, with what success and tokens.

    Groups known from snapshots appear even when unused. Schema: ``SCHEMAS["group_summary"]``.
    """
    selection = Selection.of(since, until, group, model, experiment=experiment, now=now)
    with using(ledger) as opened:
        base = usage_by_key(opened, selection)
        assets, groups = _snapshots(opened)
    used = (
        base[base["group_id"].notna()]
        .groupby("group_id")
        .agg(
            assets_used=("asset_key", "nunique"),
            references=("refs", "sum"),
            videos=("group_videos", "sum"),
            succeeded=("group_succeeded", "sum"),
            failed=("group_failed", "sum"),
            tokens=("group_tokens", "sum"),
            first_used=("first_used", "min"),
            last_used=("last_used", "max"),
        )
        .reset_index()
    )
    live = assets[assets["deleted_at"].isna()]
    stock = (
        live.assign(active=live["status"] == "Active", failed_asset=live["status"] == "Failed")
        .groupby("group_id")
        .agg(
            assets=("asset_id", "count"),
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
    counts = ("assets", "active_assets", "failed_assets", "assets_used", "references", "videos",
              "succeeded", "failed", "tokens")  # fmt: skip
    for name in counts:
        table[name] = table[name].fillna(0).astype("int64")
    table["deleted"] = table["deleted_at"].notna()
    table["success_rate"] = _rate(table["succeeded"], table["failed"])
    table = table.sort_values(["videos", "group_id"], ascending=[False, True], kind="stable")
    return conform(table, "group_summary")
