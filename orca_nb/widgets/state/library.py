"""Library state: groups with counts, the assets view (filters, search, page window), and the
create / rename / delete actions with their confirmation step."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from orca_nb import wire
from orca_nb.widgets.live import LiveStore, StoreChange
from orca_nb.widgets.rows import AssetRow, GroupRow
from orca_nb.widgets.state.base import Observable

DEFAULT_WINDOW = 24  # asset cards per page: never more rows/thumbnails than this in the browser


@dataclass(frozen=True)
class AssetQuery:
    """What the assets view shows: a group (or all), type, status, name search, page."""

    group_id: str | None = None
    asset_type: str | None = None
    status: str | None = None
    search: str = ""
    page: int = 0
    page_size: int = DEFAULT_WINDOW


@dataclass(frozen=True)
class GroupSummary:
    """A group with its asset counts by status."""

    group: GroupRow
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Assets in the group."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class Confirm:
    """A destructive action waiting for the user's yes: what and which."""

    action: Literal["delete_group", "delete_asset"]
    target_id: str
    label: str


def check_name(name: str, what: str = "name") -> str:
    """A stripped name, or ``ValueError`` saying what is wrong."""
    clean = name.strip()
    if not clean:
        raise ValueError(f"The {what} is empty: type a {what}.")
    if len(clean) > wire.NAME_MAX_CHARS:
        raise ValueError(
            f"The {what} has {len(clean)} characters; shorten it to {wire.NAME_MAX_CHARS}."
        )
    return clean


def check_description(text: str) -> str:
    """A stripped description, or ``ValueError`` when too long."""
    clean = text.strip()
    if len(clean) > wire.DESCRIPTION_MAX_CHARS:
        raise ValueError(
            f"The description has {len(clean)} characters; shorten it to "
            f"{wire.DESCRIPTION_MAX_CHARS}."
        )
    return clean


class LibraryState(Observable):
    """Groups and assets as the panels show them, over a :class:`LiveStore`."""

    def __init__(self, store: LiveStore, *, page_size: int = DEFAULT_WINDOW) -> None:
        super().__init__()
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.store = store
        self.query = AssetQuery(page_size=page_size)
        self.confirm: Confirm | None = None
        self.busy = False
        self._filtered: tuple[tuple[int, AssetQuery], list[AssetRow]] | None = None

    # ------------------------------------------------------------------ groups
    def group_summaries(self) -> list[GroupSummary]:
        """Every group (newest first) with asset counts by status."""
        counts: dict[str, dict[str, int]] = {
            gid: dict.fromkeys(wire.ASSET_STATUSES, 0) for gid in self.store.groups
        }
        for a in self.store.assets.values():
            if a.group_id in counts:
                counts[a.group_id][a.status] = counts[a.group_id].get(a.status, 0) + 1
        groups = sorted(
            self.store.groups.values(), key=lambda g: (g.create_time, g.id), reverse=True
        )
        return [GroupSummary(g, counts[g.id]) for g in groups]

    # ------------------------------------------------------------------ assets view
    def set_query(self, **fields: object) -> None:
        """Change filters (``group_id``, ``asset_type``, ``status``, ``search``); back to page 0.

        Unknown types/statuses raise ``ValueError`` naming the accepted values.
        """
        t = fields.get("asset_type")
        if t and t not in wire.ASSET_TYPES:
            raise ValueError(f"asset_type must be one of {wire.ASSET_TYPES}, got {t!r}")
        s = fields.get("status")
        if s and s not in wire.ASSET_STATUSES:
            raise ValueError(f"status must be one of {wire.ASSET_STATUSES}, got {s!r}")
        cleaned = {k: (v or None) if k != "search" else str(v or "") for k, v in fields.items()}
        self.query = replace(self.query, page=0, **cleaned)  # type: ignore[arg-type]
        self.changed()

    def filtered(self) -> list[AssetRow]:
        """Assets matching the query, newest first (the whole filtered list, kernel side)."""
        key = (id(self.store.assets), self.query)  # the store swaps its dict on every change
        if self._filtered is not None and self._filtered[0] == key:
            return self._filtered[1]
        rows = self._filter()
        self._filtered = (key, rows)
        return rows

    def _filter(self) -> list[AssetRow]:
        q = self.query
        needle = q.search.strip().lower()
        rows = [
            a
            for a in self.store.assets.values()
            if (q.group_id is None or a.group_id == q.group_id)
            and (q.asset_type is None or a.asset_type == q.asset_type)
            and (q.status is None or a.status == q.status)
            and (not needle or needle in a.name.lower() or needle in a.id.lower())
        ]
        rows.sort(key=lambda a: (a.create_time, a.id), reverse=True)
        return rows

    @property
    def page_count(self) -> int:
        """Pages of the filtered list (at least 1)."""
        return max(1, math.ceil(len(self.filtered()) / self.query.page_size))

    def window(self) -> list[AssetRow]:
        """The current page: the only rows (and thumbnails) sent to the browser."""
        rows = self.filtered()
        pages = max(1, math.ceil(len(rows) / self.query.page_size))
        page = min(self.query.page, pages - 1)
        start = page * self.query.page_size
        return rows[start : start + self.query.page_size]

    def set_page(self, page: int) -> None:
        """Go to page ``page`` (clamped to the pages there are)."""
        page = max(0, min(page, self.page_count - 1))
        if page != self.query.page:
            self.query = replace(self.query, page=page)
            self.changed()

    def on_store(self, change: StoreChange) -> None:
        """Store listener: keep the page in range when rows disappear."""
        if change.table == "assets" and self.query.page >= self.page_count:
            self.query = replace(self.query, page=self.page_count - 1)

    # ------------------------------------------------------------------ actions
    async def create_group(self, name: str, description: str = "") -> str | None:
        """Create a virtual group; returns its id (None and ``error`` set on failure)."""
        try:
            clean, desc = check_name(name), check_description(description)
            self.busy = True
            self.changed()
            gid = await self.store.gateway.create_group(clean, desc)
            self.store.upsert_group(await self.store.gateway.get_group(gid))
        except Exception as exc:
            self.busy = False  # before fail() notifies: the Create button must not stay busy
            self.fail(exc)
            return None
        finally:
            self.busy = False
        self.clear_error()
        self.changed()
        return gid

    async def rename_group(self, group_id: str, name: str, description: str | None = None) -> bool:
        """Rename a group (and optionally change its description)."""
        try:
            old = self.store.groups[group_id]
            clean = check_name(name)
            desc = check_description(old.description if description is None else description)
            await self.store.gateway.update_group(group_id, name=clean, description=desc)
            self.store.upsert_group(replace(old, name=clean, description=desc))
        except KeyError:
            self.fail(ValueError(f"No group {group_id!r} in the library; refresh the panel."))
            return False
        except Exception as exc:
            self.fail(exc)
            return False
        self.clear_error()
        return True

    def ask_delete_group(self, group_id: str) -> None:
        """First step of deleting a group: the view shows a confirmation."""
        g = self.store.groups.get(group_id)
        if g is not None:
            n = sum(1 for a in self.store.assets.values() if a.group_id == group_id)
            self.confirm = Confirm("delete_group", group_id, f"{g.name} and its {n} asset(s)")
            self.changed()

    def ask_delete_asset(self, asset_id: str) -> None:
        """First step of deleting an asset: the view shows a confirmation."""
        a = self.store.assets.get(asset_id)
        if a is not None:
            self.confirm = Confirm("delete_asset", asset_id, a.name or a.id)
            self.changed()

    def cancel(self) -> None:
        """Drop the pending confirmation."""
        self.confirm = None
        self.changed()

    async def confirm_pending(self) -> bool:
        """Carry out the confirmed delete; False (with ``error``) when it failed."""
        pending, self.confirm = self.confirm, None
        if pending is None:
            return False
        try:
            if pending.action == "delete_group":
                await self.store.gateway.delete_group(pending.target_id)
                self.store.remove_group(pending.target_id)
            else:
                await self.store.gateway.delete_asset(pending.target_id)
                self.store.remove_asset(pending.target_id)
        except Exception as exc:
            self.fail(exc)
            return False
        self.clear_error()
        self.changed()
        return True
