"""Quota state: assets used of the account's cap, across both group types, and which assets
to delete first when it is nearly or fully used."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from orca_nb import wire
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.ports import StudioClient
from orca_nb.widgets.rows import AssetRow

log = logging.getLogger(__name__)

NEAR_CAP = 0.9  # warn from this fraction of the cap
CANDIDATES = 5  # deletion candidates the meter names
#: Assets some video request referenced (the ledger's record of submissions).
USED_ASSETS_SQL = "SELECT DISTINCT asset_id FROM submission_items WHERE asset_id IS NOT NULL"


@dataclass(frozen=True)
class Candidate:
    """An asset worth deleting to make room, and why."""

    asset_id: str
    name: str
    group_name: str
    why: str  # "failed", "never used in a video" or "oldest"


@dataclass(frozen=True)
class Quota:
    """Assets used, the cap, and what to tell the user."""

    used: int
    cap: int
    by_group_type: dict[str, int]  # assets per GroupType (AIGC, LivenessFace)
    candidates: tuple[Candidate, ...] = field(default=())

    @property
    def fraction(self) -> float:
        """Used / cap (can exceed 1 if the cap was lowered)."""
        return self.used / self.cap if self.cap else 1.0

    @property
    def level(self) -> str:
        """``ok``, ``near`` (>= 90 %) or ``full``."""
        if self.used >= self.cap:
            return "full"
        return "near" if self.fraction >= NEAR_CAP else "ok"

    @property
    def message(self) -> str:
        """One line for the meter."""
        text = f"{self.used} of {self.cap} assets used"
        if self.level == "full":
            return text + ": the cap is reached; delete assets before uploading more."
        if self.level == "near":
            return text + f": only {self.cap - self.used} left."
        return text

    @property
    def upload_block(self) -> str:
        """Why an upload cannot be made now (``""`` when it can)."""
        return cap_block(self.used, self.cap)


def cap_block(used: int, cap: int) -> str:
    """Why no asset can be uploaded with ``used`` of ``cap`` assets (``""`` when one can)."""
    if used < cap:
        return ""
    return (
        f"The account holds {used} of its {cap} assets, the most it may have: delete some "
        "(the quota meter names candidates) before uploading another."
    )


def used_asset_ids(client: StudioClient) -> frozenset[str] | None:
    """Ids of the assets any recorded video request referenced, from ``client``'s ledger;
    None when the client keeps no ``orca_nb.ledger.Ledger`` (blocking: call it in a worker
    thread; ``client.ledger`` opens the default ledger on first use)."""
    from orca_nb.ledger import Ledger  # imported when needed: the studio starts faster

    ledger = client.ledger
    if not isinstance(ledger, Ledger):
        return None
    try:
        _, rows = ledger.database.query(USED_ASSETS_SQL)
    except Exception as exc:  # a ledger we cannot read only costs the "never used" hint
        log.info("could not read used assets from the ledger: %s", exc)
        return None
    return frozenset(str(r[0]) for r in rows)


def deletion_candidates(
    assets: Iterable[AssetRow],
    group_names: dict[str, str],
    used: frozenset[str] | None,
    limit: int = CANDIDATES,
) -> tuple[Candidate, ...]:
    """Failed assets first, then ones no video used (when the ledger knows), then the oldest;
    oldest first within each."""

    def age(a: AssetRow) -> tuple[bool, str, str]:
        return (not a.create_time, a.create_time, a.id)

    rows = sorted(assets, key=age)
    failed = [a for a in rows if a.status == "Failed"]
    unused = [] if used is None else [a for a in rows if a.status != "Failed" and a.id not in used]
    picked: list[Candidate] = []
    seen: set[str] = set()
    for why, group in (("failed", failed), ("never used in a video", unused), ("oldest", rows)):
        for a in group:
            if len(picked) >= limit:
                return tuple(picked)
            if a.id not in seen:
                seen.add(a.id)
                picked.append(Candidate(a.id, a.name, group_names.get(a.group_id, ""), why))
    return tuple(picked)


class QuotaState:
    """Computes the quota from the store (every asset of every group counts, both types)."""

    def __init__(self, store: LiveStore) -> None:
        self.store = store
        self.used_ids: frozenset[str] | None = None  # from the ledger, see load_usage

    async def load_usage(self) -> None:
        """Learn which assets videos used (from the client's ledger, in a worker thread)."""
        self.used_ids = await asyncio.to_thread(used_asset_ids, self.store.client)

    def quota(self) -> Quota:
        """The current figures (with deletion candidates when near or at the cap)."""
        types: dict[str, int] = dict.fromkeys(wire.GROUP_TYPES, 0)
        for a in self.store.assets.values():
            g = self.store.groups.get(a.group_id)
            group_type = g.group_type if g is not None else "AIGC"
            types[group_type] = types.get(group_type, 0) + 1
        q = Quota(used=len(self.store.assets), cap=self.store.asset_cap, by_group_type=types)
        if q.level == "ok":
            return q
        names = {g.id: g.name for g in self.store.groups.values()}
        found = deletion_candidates(self.store.assets.values(), names, self.used_ids)
        return Quota(q.used, q.cap, types, found)
