"""DataFrames: fixed schema, counts, filters; from a sync client, an async one, or a store."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from orca_nb.client import AsyncOrca, Orca
from orca_nb.widgets import (
    ASSET_COLUMNS,
    GROUP_COLUMNS,
    aassets_df,
    agroups_df,
    assets_df,
    groups_df,
)
from orca_nb.widgets.live import LiveStore
from tests.widgets.fakes import FakeOrca


def _schema(df: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in df.dtypes.items()}


def _expected(columns: dict[str, Any]) -> dict[str, str]:
    return {name: str(pd.Series([], dtype=dtype).dtype) for name, dtype in columns.items()}


def _library() -> FakeOrca:
    client = FakeOrca()
    g1 = client.add_group("cast")
    g2 = client.add_group("ada", group_type="LivenessFace")
    client.add_asset(g1, "hero", asset_type="Image")
    client.add_asset(g1, "walk", asset_type="Video", status="Processing")
    client.add_asset(g2, "face", asset_type="Image", status="Failed")
    return client


async def test_frames_from_a_store_have_the_fixed_schema() -> None:
    store = LiveStore(_library())
    await store.refresh()
    g = groups_df(store)
    a = assets_df(store)
    assert list(g.columns) == list(GROUP_COLUMNS)
    assert list(a.columns) == list(ASSET_COLUMNS)
    assert _schema(g) == _expected(GROUP_COLUMNS)
    assert _schema(a) == _expected(ASSET_COLUMNS)
    cast = g.set_index("name").loc["cast"]
    assert (cast["assets"], cast["active"], cast["processing"], cast["failed"]) == (2, 1, 1, 0)
    assert set(a["group_type"].astype(str)) == {"AIGC", "LivenessFace"}
    assert g.set_index("name").loc["ada", "group_type"] == "LivenessFace"
    assert assets_df(store, status="Failed")["name"].tolist() == ["face"]
    assert assets_df(store, asset_type="Video", search="WAL")["name"].tolist() == ["walk"]


async def test_empty_frames_keep_the_schema() -> None:
    store = LiveStore(FakeOrca())
    await store.refresh()
    assert _schema(groups_df(store)) == _expected(GROUP_COLUMNS)
    assert _schema(assets_df(store)) == _expected(ASSET_COLUMNS)


def test_frames_from_a_sync_client(sandbox_server: Any, sandbox_key: str) -> None:
    with Orca(sandbox_key, base_url=sandbox_server.base_url) as client:
        gid = client.groups.create(name="props").id
        g = groups_df(client)
        assert g["id"].tolist() == [gid]
        assert g["created"].notna().all()
        assert assets_df(client).empty


async def test_async_client_inside_a_loop(sandbox_server: Any, sandbox_key: str) -> None:
    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url)
    await client.groups.create(name="props")
    with pytest.raises(RuntimeError, match="await agroups_df"):
        groups_df(client)
    assert (await agroups_df(client))["name"].tolist() == ["props"]
    assert list((await aassets_df(client)).columns) == list(ASSET_COLUMNS)
    await client.close()
