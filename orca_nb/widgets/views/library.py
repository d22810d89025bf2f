"""Groups panel and assets panel: one small widget per visible row, so a change to one row sends
only that row's changed fields to the browser."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
import traitlets
from ipyvuetify.VuetifyTemplate import VuetifyTemplate
from ipywidgets import widget_serialization

from orca_nb import wire
from orca_nb.widgets.advice import asset_advice
from orca_nb.widgets.frames import assets_frame, groups_frame
from orca_nb.widgets.live import LiveStore, StoreChange
from orca_nb.widgets.rows import AssetRow
from orca_nb.widgets.state.library import GroupSummary, LibraryState
from orca_nb.widgets.thumbs import audio_data_uri, loader_for
from orca_nb.widgets.views.base import Panel, template

log = logging.getLogger(__name__)

STATUS_COLORS = {"Active": "green", "Processing": "orange", "Failed": "red"}
GROUP_WINDOW = 50  # group rows sent to the browser until "show more"


class GroupRowView(VuetifyTemplate):
    """One group: type, name, description, counts by status, rename and delete buttons."""

    template_file = template("group_row.vue")
    group_id = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    group_type = traitlets.Unicode("").tag(sync=True)  # the GroupType (AIGC, LivenessFace)
    type_label = traitlets.Unicode("").tag(sync=True)  # wire.group_type_label: "virtual (AIGC)"
    counts_list: traitlets.List[Any] = traitlets.List().tag(sync=True)
    selected = traitlets.Bool(False).tag(sync=True)
    editing = traitlets.Bool(False).tag(sync=True)
    edit_name = traitlets.Unicode("").tag(sync=True)
    edit_description = traitlets.Unicode("").tag(sync=True)

    def __init__(self, panel: GroupsPanel, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._panel = panel

    def show(self, summary: GroupSummary, selected: bool) -> None:
        """Set the fields from a summary (only changed ones are sent)."""
        g = summary.group
        with self.hold_sync():
            self.group_id, self.name, self.description = g.id, g.name, g.description
            self.group_type, self.type_label = g.group_type, wire.group_type_label(g.group_type)
            self.counts_list = [
                {"status": s, "n": n, "color": STATUS_COLORS.get(s, "grey")}
                for s, n in summary.counts.items()
                if n
            ]
            self.selected = selected

    def vue_select(self, _data: Any = None) -> None:
        """Click: select this group (the assets panel follows, when linked)."""
        self._panel.select(self.group_id)

    def vue_start_edit(self, _data: Any = None) -> None:
        """Pencil: edit name and description in place."""
        self.edit_name, self.edit_description, self.editing = self.name, self.description, True

    def vue_save_edit(self, _data: Any = None) -> None:
        """Check mark: save the rename."""
        self.editing = False
        self._panel.run(
            self._panel.library.rename_group(self.group_id, self.edit_name, self.edit_description)
        )

    def vue_ask_delete(self, _data: Any = None) -> None:
        """Bin: ask for confirmation."""
        self._panel.library.ask_delete_group(self.group_id)


class LibraryPanel(Panel):
    """Shared parts of the two library panels: the library state, errors, confirmation."""

    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    confirm_open = traitlets.Bool(False).tag(sync=True)
    confirm_label = traitlets.Unicode("").tag(sync=True)

    def __init__(self, store: LiveStore, library: LibraryState | None = None, **kw: Any) -> None:
        self.library = library or LibraryState(store)
        super().__init__(store, **kw)
        self.listen(self.library.on_change(self.render))
        self.render()

    def render(self) -> None:
        """Re-read the state; subclasses add their rows."""
        lib = self.library
        with self.hold_sync():
            self.error, self.advice, self.busy = lib.error, lib.advice, lib.busy
            self.confirm_open = lib.confirm is not None
            self.confirm_label = lib.confirm.label if lib.confirm else ""

    def on_store(self, change: StoreChange) -> None:
        """Rows changed in the store: re-render (unchanged fields send nothing)."""
        self.library.on_store(change)
        self.render()

    def vue_confirm_delete(self, _data: Any = None) -> None:
        """Dialog: yes, delete."""
        self.run(self.library.confirm_pending())

    def vue_cancel_delete(self, _data: Any = None) -> None:
        """Dialog: keep."""
        self.library.cancel()

    @traitlets.observe("confirm_open")
    def _dialog_closed(self, change: dict[str, Any]) -> None:
        if not change["new"] and self.library.confirm is not None:
            self.library.cancel()


class GroupsPanel(LibraryPanel):
    """Every group with its counts; create, rename, delete (with confirmation)."""

    template_file = template("groups_panel.vue")
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True, **widget_serialization)
    hidden = traitlets.Int(0).tag(sync=True)  # groups not shown yet (see "show more")
    new_name = traitlets.Unicode("").tag(sync=True)
    new_description = traitlets.Unicode("").tag(sync=True)
    #: The create field's label: the only type a group can be created as (reference 5.1).
    new_label = traitlets.Unicode(f"New {wire.group_type_label('AIGC')} group").tag(sync=True)

    def __init__(self, store: LiveStore, library: LibraryState | None = None, **kw: Any) -> None:
        self._views: dict[str, GroupRowView] = {}
        self.limit = GROUP_WINDOW
        self.selected_group: str | None = None
        self._on_select: list[Callable[[str | None], None]] = []
        super().__init__(store, library, **kw)

    def render(self) -> None:
        """Rows for the newest ``limit`` groups (each row is its own small widget)."""
        super().render()
        every = self.library.group_summaries()
        summaries = every[: self.limit]
        self.hidden = len(every) - len(summaries)
        views = []
        for s in summaries:
            view = self._views.get(s.group.id)
            if view is None:
                view = self._views[s.group.id] = GroupRowView(self)
            view.show(s, s.group.id == self.selected_group)
            views.append(view)
        for gid in set(self._views) - {s.group.id for s in summaries}:
            self._views.pop(gid).close()
        if views != self.rows:
            self.rows = views

    def vue_show_more(self, _data: Any = None) -> None:
        """Show more button: another window of groups."""
        self.limit += GROUP_WINDOW
        self.render()

    def select(self, group_id: str | None) -> None:
        """Select a group (again: unselect) and tell the linked panels."""
        self.selected_group = None if group_id == self.selected_group else group_id
        self.render()
        for fn in self._on_select:
            fn(self.selected_group)

    def on_select(self, fn: Callable[[str | None], None]) -> None:
        """Call ``fn(group_id | None)`` when the selected group changes."""
        self._on_select.append(fn)

    def vue_create(self, _data: Any = None) -> None:
        """Create button."""

        async def create() -> None:
            if await self.library.create_group(self.new_name, self.new_description):
                self.new_name = self.new_description = ""

        self.run(create())

    def frame(self) -> pd.DataFrame:
        """The groups as a DataFrame (schema: :data:`orca_nb.widgets.frames.GROUP_COLUMNS`)."""
        return groups_frame(self.store.groups.values(), self.store.assets.values())

    def close(self) -> None:
        """Close the panel and its rows."""
        for view in self._views.values():
            view.close()
        super().close()


class AssetCard(VuetifyTemplate):
    """One asset: thumbnail (or audio player), name, group, status chip, error with advice."""

    template_file = template("asset_card.vue")
    asset_id = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    group_name = traitlets.Unicode("").tag(sync=True)
    asset_type = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    error_code = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    thumb = traitlets.Unicode("").tag(sync=True)
    audio_src = traitlets.Unicode("").tag(sync=True)
    pickable = traitlets.Bool(False).tag(sync=True)

    def __init__(self, panel: AssetsPanel, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._panel = panel

    def show(self, row: AssetRow, group_name: str, thumb: str | None) -> None:
        """Set fields from the row (only changed ones are sent)."""
        with self.hold_sync():
            self.asset_id, self.name, self.asset_type = row.id, row.name, row.asset_type
            self.group_name, self.status = group_name, row.status
            self.error_code = row.error_code if row.status == "Failed" else ""
            self.advice = asset_advice(row.error_code) if row.status == "Failed" else ""
            if thumb is not None:
                self.thumb = thumb
            self.pickable = self._panel.pick_callback is not None

    def vue_pick(self, _data: Any = None) -> None:
        """Plus: add this asset to the linked picker."""
        row = self._panel.store.assets.get(self.asset_id)
        if row is not None and self._panel.pick_callback is not None:
            self._panel.pick_callback(row)

    def vue_ask_delete(self, _data: Any = None) -> None:
        """Bin: ask for confirmation."""
        self._panel.library.ask_delete_asset(self.asset_id)

    def vue_play(self, _data: Any = None) -> None:
        """Load audio: the kernel fetches it and hands the bytes to the player."""
        self._panel.run(self._panel.load_audio(self))


class AssetsPanel(LibraryPanel):
    """Assets of one group or all groups; filters, search, pages; only one page is sent."""

    template_file = template("assets_panel.vue")
    cards: traitlets.List[Any] = traitlets.List().tag(sync=True, **widget_serialization)
    total = traitlets.Int(0).tag(sync=True)
    page = traitlets.Int(1).tag(sync=True)  # 1-based, as v-pagination counts
    pages = traitlets.Int(1).tag(sync=True)
    group_filter = traitlets.Unicode("").tag(sync=True)
    type_filter = traitlets.Unicode("").tag(sync=True)
    status_filter = traitlets.Unicode("").tag(sync=True)
    search = traitlets.Unicode("", allow_none=True).tag(sync=True)
    group_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    type_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    status_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)

    def __init__(
        self,
        store: LiveStore,
        library: LibraryState | None = None,
        *,
        group_id: str | None = None,
        page_size: int | None = None,
        pick: Callable[[AssetRow], Any] | None = None,
        thumbnails: bool = True,
        **kw: Any,
    ) -> None:
        self._cards: dict[str, AssetCard] = {}
        self._thumbs = loader_for(store)  # shared with the picker's chips
        self._thumbs_off = self._thumbs.on_thumb(self._thumb_made)
        self._rendering = False
        self.pick_callback = pick
        self.thumbnails = thumbnails
        lib = library or LibraryState(store, **({"page_size": page_size} if page_size else {}))
        if group_id:
            lib.set_query(group_id=group_id)
        super().__init__(store, lib, **kw)
        self.type_choices = [{"title": "All types", "value": ""}] + [
            {"title": t, "value": t} for t in wire.ASSET_TYPES
        ]
        self.status_choices = [{"title": "All statuses", "value": ""}] + [
            {"title": s, "value": s} for s in wire.ASSET_STATUSES
        ]

    def render(self) -> None:
        """Cards for the current page only (reusing the widgets of rows still visible)."""
        super().render()
        self._rendering = True
        try:
            lib, store = self.library, self.store
            window = lib.window()
            names = {g.id: g.name for g in store.groups.values()}
            cards = []
            for row in window:
                card = self._cards.get(row.id)
                if card is None:
                    card = self._cards[row.id] = AssetCard(self)
                card.show(row, names.get(row.group_id, row.group_id), self._thumbs.cached(row.id))
                cards.append(card)
            visible = {row.id for row in window}
            for aid in set(self._cards) - visible:
                self._cards.pop(aid).close()
            q = lib.query
            with self.hold_sync():
                if cards != self.cards:
                    self.cards = cards
                self.total = len(lib.filtered())
                self.pages = lib.page_count
                self.page = min(q.page, lib.page_count - 1) + 1
                self.group_filter = q.group_id or ""
                self.type_filter = q.asset_type or ""
                self.status_filter = q.status or ""
                self.search = q.search
                self.group_choices = [{"title": "All groups", "value": ""}] + [
                    {"title": g.name or g.id, "value": g.id}
                    for g in sorted(store.groups.values(), key=lambda g: g.name.lower())
                ]
        finally:
            self._rendering = False
        if self.thumbnails:
            self._load_thumbs(window)

    # ------------------------------------------------------------------ browser -> state
    @traitlets.observe("group_filter", "type_filter", "status_filter", "search")
    def _on_filters(self, change: dict[str, Any]) -> None:
        if self._rendering:
            return
        key = {
            "group_filter": "group_id",
            "type_filter": "asset_type",
            "status_filter": "status",
            "search": "search",
        }[change["name"]]
        self.library.set_query(**{key: change["new"] or ("" if key == "search" else None)})

    @traitlets.observe("page")
    def _on_page(self, change: dict[str, Any]) -> None:
        if not self._rendering:
            self.library.set_page(int(change["new"]) - 1)

    def show_group(self, group_id: str | None) -> None:
        """Show one group's assets (None: every group)."""
        self.library.set_query(group_id=group_id)

    # ------------------------------------------------------------------ media made by the kernel
    def _load_thumbs(self, rows: list[AssetRow]) -> None:
        for row in rows:
            if self._thumbs.claim(row):
                self.run(self._thumb(row))

    async def _thumb(self, row: AssetRow) -> None:
        await self._thumbs.load(row)  # listeners (this panel's _thumb_made among them) hear it

    def _thumb_made(self, asset_id: str, uri: str) -> None:
        card = self._cards.get(asset_id)
        if card is not None:
            card.thumb = uri

    async def load_audio(self, card: AssetCard) -> None:
        """Fetch an audio asset in the kernel and give its bytes to the card's player."""
        row = self.store.assets.get(card.asset_id)
        if row is None or not row.url:
            return
        data = await self.store.gateway.fetch_bytes(row.url)
        card.audio_src = audio_data_uri(data, row.name)

    def frame(self) -> pd.DataFrame:
        """The filtered assets as a DataFrame (:data:`~orca_nb.widgets.frames.ASSET_COLUMNS`)."""
        return assets_frame(self.library.filtered(), self.store.groups.values())

    def close(self) -> None:
        """Close the panel and its cards."""
        self._thumbs_off()
        for card in self._cards.values():
            card.close()
        super().close()
