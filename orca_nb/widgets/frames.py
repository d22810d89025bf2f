"""DataFrames of the library with a fixed, documented column schema (pandas 3 dtypes).

``groups_df`` columns (:data:`GROUP_COLUMNS`):

============  ============================  =============================================
column        dtype                         meaning
============  ============================  =============================================
id            str                           group id (``group-...``)
name          str                           group name
group_type    category (AIGC, LivenessFace) virtual (AIGC) or real-human (LivenessFace)
description   str                           description ("" when none)
assets        Int64                         assets in the group
active        Int64                         of which Active
processing    Int64                         of which Processing
failed        Int64                         of which Failed
created       datetime64[ns, UTC]           CreateTime (NaT when unknown)
updated       datetime64[ns, UTC]           UpdateTime (NaT when unknown)
============  ============================  =============================================

``assets_df`` columns (:data:`ASSET_COLUMNS`): ``id`` str, ``name`` str, ``group_id`` str,
``group_name`` str, ``group_type`` category (AIGC, LivenessFace), ``asset_type`` category (Image,
Video, Audio), ``status`` category (Processing, Active, Failed), ``error_code`` str ("" unless
Failed), ``error_message`` str, ``created`` / ``updated`` datetime64[ns, UTC]. Signed URLs are
left out on purpose: they expire and must not be stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from orca_nb import wire
from orca_nb.widgets.rows import AssetRow, GroupRow

if TYPE_CHECKING:
    from orca_nb.client import Orca
    from orca_nb.widgets.live import LiveStore
    from orca_nb.widgets.ports import StudioClient

    Library = Orca | StudioClient | LiveStore

GROUP_COLUMNS: dict[str, Any] = {
    "id": "str",
    "name": "str",
    "group_type": pd.CategoricalDtype(list(wire.GROUP_TYPES)),
    "description": "str",
    "assets": "Int64",
    "active": "Int64",
    "processing": "Int64",
    "failed": "Int64",
    "created": "datetime64[ns, UTC]",
    "updated": "datetime64[ns, UTC]",
}
ASSET_COLUMNS: dict[str, Any] = {
    "id": "str",
    "name": "str",
    "group_id": "str",
    "group_name": "str",
    "group_type": pd.CategoricalDtype(list(wire.GROUP_TYPES)),
    "asset_type": pd.CategoricalDtype(list(wire.ASSET_TYPES)),
    "status": pd.CategoricalDtype(list(wire.ASSET_STATUSES)),
    "error_code": "str",
    "error_message": "str",
    "created": "datetime64[ns, UTC]",
    "updated": "datetime64[ns, UTC]",
}


def _frame(records: list[dict[str, Any]], columns: dict[str, Any]) -> pd.DataFrame:
    data = {name: [r[name] for r in records] for name in columns}
    out = pd.DataFrame(data, columns=list(columns))
    for name, dtype in columns.items():
        if str(dtype).startswith("datetime64"):
            out[name] = pd.to_datetime(out[name].replace("", None), utc=True, errors="coerce")
            out[name] = out[name].astype(dtype)
        else:
            out[name] = out[name].astype(dtype)
    return out


def groups_frame(groups: Iterable[GroupRow], assets: Iterable[AssetRow] = ()) -> pd.DataFrame:
    """Rows -> the groups frame (counts from ``assets``)."""
    counts: dict[str, dict[str, int]] = {}
    for a in assets:
        c = counts.setdefault(a.group_id, {})
        c[a.status] = c.get(a.status, 0) + 1
    records = []
    for g in sorted(groups, key=lambda g: (g.create_time, g.id), reverse=True):
        c = counts.get(g.id, {})
        records.append(
            {
                "id": g.id,
                "name": g.name,
                "group_type": g.group_type if g.group_type in wire.GROUP_TYPES else None,
                "description": g.description,
                "assets": sum(c.values()),
                "active": c.get("Active", 0),
                "processing": c.get("Processing", 0),
                "failed": c.get("Failed", 0),
                "created": g.create_time,
                "updated": g.update_time,
            }
        )
    return _frame(records, GROUP_COLUMNS)


def assets_frame(assets: Iterable[AssetRow], groups: Iterable[GroupRow] = ()) -> pd.DataFrame:
    """Rows -> the assets frame (group name and type joined from ``groups``)."""
    by_id = {g.id: g for g in groups}
    records = []
    for a in assets:
        g = by_id.get(a.group_id)
        records.append(
            {
                "id": a.id,
                "name": a.name,
                "group_id": a.group_id,
                "group_name": g.name if g else "",
                "group_type": g.group_type if g and g.group_type in wire.GROUP_TYPES else None,
                "asset_type": a.asset_type if a.asset_type in wire.ASSET_TYPES else None,
                "status": a.status if a.status in wire.ASSET_STATUSES else None,
                "error_code": a.error_code,
                "error_message": a.error_message,
                "created": a.create_time,
                "updated": a.update_time,
            }
        )
    return _frame(records, ASSET_COLUMNS)


def _library(client: Library) -> tuple[list[GroupRow], list[AssetRow]]:
    """Every group and asset from a LiveStore, an ``AsyncOrca`` (no running loop) or an ``Orca``."""
    from orca_nb.client import Orca
    from orca_nb.widgets.gateway import Gateway
    from orca_nb.widgets.live import LiveStore
    from orca_nb.widgets.rows import asset_from, group_from

    if isinstance(client, LiveStore):
        return list(client.groups.values()), list(client.assets.values())
    if not isinstance(client, Orca):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            gw = Gateway(client)

            async def both() -> tuple[list[GroupRow], list[AssetRow]]:
                return await gw.all_groups(), await gw.all_assets()

            return asyncio.run(both())
        raise RuntimeError(
            "groups_df/assets_df cannot block the running loop with an AsyncOrca client: "
            "pass a panel's store (panel.store), or use `await agroups_df(client)` / "
            "`await aassets_df(client)`."
        )
    groups = [
        group_from(g)
        for k in wire.GROUP_TYPE_QUERIES
        for g in client.groups.iter(group_type=k, page_size=100)
    ]
    assets = [
        asset_from(a)
        for k in wire.GROUP_TYPE_QUERIES
        for a in client.assets.iter(group_type=k, page_size=100)
    ]
    return groups, assets


def _filter(
    assets: Sequence[AssetRow],
    group_id: str | None,
    asset_type: str | None,
    status: str | None,
    search: str,
) -> list[AssetRow]:
    needle = search.strip().lower()
    return [
        a
        for a in assets
        if (group_id is None or a.group_id == group_id)
        and (asset_type is None or a.asset_type == asset_type)
        and (status is None or a.status == status)
        and (not needle or needle in a.name.lower())
    ]


def groups_df(client: Library | None = None) -> pd.DataFrame:
    """Every group with asset counts (:data:`GROUP_COLUMNS`).

    ``client``: an ``Orca``, an ``AsyncOrca`` (outside a running loop), or a panel's
    ``LiveStore``; None uses the default client (the embedded sandbox without a key).
    """
    groups, assets = _library(client if client is not None else _default_sync_client())
    return groups_frame(groups, assets)


def assets_df(
    client: Library | None = None,
    *,
    group_id: str | None = None,
    asset_type: str | None = None,
    status: str | None = None,
    search: str = "",
) -> pd.DataFrame:
    """Assets across groups, optionally filtered (:data:`ASSET_COLUMNS`)."""
    groups, assets = _library(client if client is not None else _default_sync_client())
    return assets_frame(_filter(assets, group_id, asset_type, status, search), groups)


async def agroups_df(client: StudioClient) -> pd.DataFrame:
    """:func:`groups_df` for an ``AsyncOrca`` inside a running loop (``await`` it)."""
    from orca_nb.widgets.gateway import Gateway

    gw = Gateway(client)
    return groups_frame(await gw.all_groups(), await gw.all_assets())


async def aassets_df(
    client: StudioClient,
    *,
    group_id: str | None = None,
    asset_type: str | None = None,
    status: str | None = None,
    search: str = "",
) -> pd.DataFrame:
    """:func:`assets_df` for an ``AsyncOrca`` inside a running loop (``await`` it)."""
    from orca_nb.widgets.gateway import Gateway

    gw = Gateway(client)
    groups, assets = await gw.all_groups(), await gw.all_assets()
    return assets_frame(_filter(assets, group_id, asset_type, status, search), groups)


def _default_sync_client() -> Orca:
    from orca_nb.client import Orca

    return Orca()
