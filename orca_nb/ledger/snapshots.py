"""Refresh the ledger's asset and group snapshots from the API in one call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from orca_nb.ledger.ledger import Ledger


class _Lister(Protocol):
    def iter(self, *, group_type: Any = None) -> Iterator[Any]: ...


class _Client(Protocol):
    @property
    def groups(self) -> _Lister: ...

    @property
    def assets(self) -> _Lister: ...


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_snapshots` saw and did."""

    groups: int
    assets: int
    deleted: int
    skipped: tuple[str, ...]  # group types whose listing failed (e.g. not invited)


def sync_snapshots(client: _Client, ledger: Ledger) -> SyncResult:
    """Snapshot every group and asset the client's account can list (both group types).

    Assets the ledger knows in a listed group that the server no longer lists are marked
    deleted. Other accounts' assets in a shared ledger are never touched, and nothing is
    marked deleted when a listing failed.
    """
    groups: list[Any] = []
    assets: list[Any] = []
    skipped: list[str] = []
    for group_type in ("aigc", "real_human"):
        try:
            groups += list(client.groups.iter(group_type=group_type))
            assets += list(client.assets.iter(group_type=group_type))
        except Exception:  # e.g. the account is not invited to the real-human library
            skipped.append(group_type)
    ledger.snapshot_assets(assets, groups)
    deleted: list[str] = []
    if not skipped and groups:
        listed = {str(a.id) for a in assets}  # the client's Asset / Group models
        group_ids = sorted({str(g.id) for g in groups})
        marks = ", ".join("?" for _ in group_ids)
        _, rows = ledger.database.query(
            f"SELECT asset_id FROM assets WHERE deleted_at IS NULL AND group_id IN ({marks})",
            group_ids,
        )
        deleted = [str(r[0]) for r in rows if str(r[0]) not in listed]
        ledger.mark_deleted(asset_ids=deleted)
    return SyncResult(len(groups), len(assets), len(deleted), tuple(skipped))
