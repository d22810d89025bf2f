"""An asset or group deleted through the client is marked deleted in the ledger at once."""

from __future__ import annotations

from pathlib import Path

from orca_nb.client import AsyncOrca, Orca
from orca_nb.ledger import open_ledger
from orca_nb.reports import asset_hygiene, group_summary
from orca_nb.sandbox import SandboxServer


def _deleted(ledger: object, table: str, column: str, ident: str) -> bool:
    _, rows = ledger.database.query(  # type: ignore[attr-defined]
        f"SELECT deleted_at IS NOT NULL FROM {table} WHERE {column} = ?", (ident,)
    )
    return bool(rows and rows[0][0])


def test_deleting_an_asset_marks_it_at_once_and_reports_stop_counting_it(
    sandbox_server: SandboxServer, sandbox_key: str, tmp_path: Path
) -> None:
    with (
        open_ledger(tmp_path / "ledger.sqlite3") as ledger,
        Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as client,
    ):
        group = client.groups.create(name="Props")
        samples = sandbox_server.root_url + "/sandbox/samples/"
        kept = client.assets.upload(group_id=group.id, url=samples + "prop_1x1.png",
                                    asset_type="Image", name="prop").id  # fmt: skip
        gone = client.assets.upload(group_id=group.id, url=samples + "tiny_200.png",
                                    asset_type="Image", name="tiny").id  # fmt: skip
        client.assets.wait_many([kept, gone])  # snapshots both (one Failed: a hygiene candidate)
        assert set(asset_hygiene(ledger)["asset_id"]) >= {gone}
        before = int(group_summary(ledger).set_index("group_id").loc[group.id, "assets"])

        client.assets.delete(gone)  # no sync_snapshots: the client's hook alone

        assert _deleted(ledger, "assets", "asset_id", gone)
        assert not _deleted(ledger, "assets", "asset_id", kept)
        assert gone not in set(asset_hygiene(ledger)["asset_id"])
        after = int(group_summary(ledger).set_index("group_id").loc[group.id, "assets"])
        assert after == before - 1


async def test_deleting_a_group_marks_it_and_its_assets(
    sandbox_server: SandboxServer, sandbox_key: str, tmp_path: Path
) -> None:
    with open_ledger(tmp_path / "ledger.sqlite3") as ledger:
        async with AsyncOrca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as c:
            group = await c.groups.create(name="Doomed")
            url = sandbox_server.root_url + "/sandbox/samples/prop_1x1.png"
            aid = (await c.assets.upload(group_id=group.id, url=url, asset_type="Image")).id
            await c.assets.wait(aid)
            await c.groups.get(group.id)
            await c.groups.delete(group.id)
        assert _deleted(ledger, "asset_groups", "group_id", group.id)
        assert _deleted(ledger, "assets", "asset_id", aid)
