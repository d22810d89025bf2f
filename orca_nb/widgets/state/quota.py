"""Quota state: assets used of the account's cap, across both kinds of group."""

from __future__ import annotations

from dataclasses import dataclass

from orca_nb.widgets.store import LiveStore

NEAR_CAP = 0.9  # warn from this fraction of the cap


@dataclass(frozen=True)
class Quota:
    """Assets used, the cap, and what to tell the user."""

    used: int
    cap: int
    by_kind: dict[str, int]

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


class QuotaState:
    """Computes the quota from the store (every asset of every group counts, both kinds)."""

    def __init__(self, store: LiveStore) -> None:
        self.store = store

    def quota(self) -> Quota:
        """The current figures."""
        kinds: dict[str, int] = {"AIGC": 0, "LivenessFace": 0}
        for a in self.store.assets.values():
            g = self.store.groups.get(a.group_id)
            kind = g.kind if g is not None else "AIGC"
            kinds[kind] = kinds.get(kind, 0) + 1
        return Quota(used=len(self.store.assets), cap=self.store.asset_cap, by_kind=kinds)
