"""The compare grid: an experiment's result videos side by side, played in sync, marked.

Rows and columns are chosen from the varied dimensions (dropdowns); each cell is labelled with
its values and shows its poster frame first; its video is loaded on demand (the kernel fetches
the bytes; the browser plays them from a blob, never from a kernel URL). Play, pause and seek
act on every loaded cell: the focused cell leads and the others follow its ``currentTime``.
Arrow keys move the focus, Enter loads its video, space plays or pauses, 1-5 rate, 0 clears
the rating, P pins.
Marks (pinned winner, rating, tags, note) are stored in the usage ledger. "Open in studio" loads
the variant's exact request into a studio below the grid.

Every handler that awaits starts its coroutine on the live store's home loop (as
``Panel.run`` does); variants and marks are read in worker threads, never on a DBOS thread.
The grid follows a run that is still going (every ``interval`` seconds) until it is over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import TYPE_CHECKING, Any

import ipywidgets
import traitlets
from ipyvuetify.VuetifyTemplate import VuetifyTemplate
from ipywidgets import widget_serialization

from orca_nb.experiments.labels import value_text
from orca_nb.widgets.loops import spawn
from orca_nb.widgets.state.compare import (
    Cell,
    CompareState,
    VariantSource,
    figures_text,
    short,
)
from orca_nb.widgets.state.experiment import STATUS_COLORS
from orca_nb.widgets.views.base import template
from orca_nb.widgets.views.video import video_player

if TYPE_CHECKING:
    from orca_nb.ledger import Ledger
    from orca_nb.widgets.live import LiveStore
    from orca_nb.widgets.views.studio import StudioView

#: Seconds between two reads of a run that is still going.
FOLLOW_SECONDS = 2.0
_NONE = ""  # the dropdowns' value for "no dimension" (a single row or column)


class CompareView(VuetifyTemplate):
    """The compare grid of one experiment; ``.state`` (:class:`CompareState`) holds the
    variants, axes, media and marks (tests read it directly)."""

    template_file = template("compare.vue")
    title = traitlets.Unicode("").tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    dims: traitlets.List[Any] = traitlets.List().tag(sync=True)
    rows_dim = traitlets.Unicode(_NONE).tag(sync=True)
    cols_dim = traitlets.Unicode(_NONE).tag(sync=True)
    filters: traitlets.List[Any] = traitlets.List().tag(sync=True)
    row_heads: traitlets.List[Any] = traitlets.List().tag(sync=True)
    col_heads: traitlets.List[Any] = traitlets.List().tag(sync=True)
    cells: traitlets.List[Any] = traitlets.List().tag(sync=True)  # rows of cells
    focus = traitlets.Unicode("").tag(sync=True)
    details: traitlets.Dict[str, Any] = traitlets.Dict().tag(sync=True)  # the focused variant
    posters: traitlets.Dict[str, Any] = traitlets.Dict().tag(sync=True, **widget_serialization)
    players: traitlets.Dict[str, Any] = traitlets.Dict().tag(sync=True, **widget_serialization)
    loading_videos: traitlets.List[Any] = traitlets.List().tag(sync=True)
    marks_stored = traitlets.Bool(True).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    studio = traitlets.Instance(VuetifyTemplate, allow_none=True).tag(
        sync=True, **widget_serialization
    )

    def __init__(
        self,
        run: VariantSource,
        store: LiveStore,
        *,
        ledger: Ledger | None = None,
        rows: str | None = None,
        cols: str | None = None,
        interval: float = FOLLOW_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._store = store  # not a trait: the client (and its key) never reaches the browser
        self.state = CompareState(run, store, ledger)
        self.state.set_axes(rows, cols)  # kept for the first load
        self.interval = interval
        self._closed = False
        self._following = False
        self._rendering = False
        self._loading: set[str] = set()  # variant ids whose video is being fetched
        self._off = self.state.on_change(self.render)
        self.title = run.name
        self.marks_stored = ledger is not None

    @property
    def store(self) -> LiveStore:
        """The live store whose client fetches the videos."""
        return self._store

    # ------------------------------------------------------------------ running things
    def run(self, coro: Any) -> None:
        """Run an action on the store's home loop (errors are shown), like ``Panel.run``."""
        spawn(coro, on_error=self.show_error, home=self._store.home)

    def show_error(self, exc: BaseException) -> None:
        """Show an unexpected action failure as text."""
        self.error = str(exc) or type(exc).__name__

    @property
    def following(self) -> bool:
        """True while the grid re-reads a run that is still going."""
        return self._following

    def follow(self) -> None:
        """Make the posters, then re-read a run that is still going until it is over."""
        if self._following or self._closed:
            return
        self._following = True
        try:
            self.run(self._follow())
        except RuntimeError:  # no running loop (a plain script): call refresh() yourself
            self._following = False

    async def _follow(self) -> None:
        try:
            while not self._closed:
                await self.state.posters()
                if self.state.over:
                    return
                await asyncio.sleep(self.interval)
                await self.state.load()
        finally:
            self._following = False

    async def refresh(self) -> None:
        """Read the variants and marks again and make missing posters (await on the home
        loop)."""
        await self.state.load()
        await self.state.posters()

    # ------------------------------------------------------------------ rendering
    def render(self) -> None:
        """Put the state in the traits."""
        from orca_nb.experiments.progress import counts_text  # experiments: an optional extra

        s = self.state
        grid = s.grid()
        dims = s.dimensions()
        self._rendering = True
        try:
            with self.hold_sync():
                self.summary = counts_text(Counter(v.status for v in s.variants))
                self.dims = [{"value": d, "title": d} for d in dims]
                self.rows_dim = s.rows or _NONE
                self.cols_dim = s.cols or _NONE
                self.filters = [
                    {
                        "dim": d,
                        "key": s.filters.get(d, ""),
                        "choices": [
                            {"value": a.key, "title": short(a.text), "full": a.text}
                            for a in s.axis_values(d)
                        ],
                    }
                    for d in s.other_dimensions()
                ]
                self.row_heads = [{"key": a.key, "text": short(a.text), "full": a.text}
                                  for a in grid.rows]  # fmt: skip
                self.col_heads = [{"key": a.key, "text": short(a.text), "full": a.text}
                                  for a in grid.cols]  # fmt: skip
                self.cells = [[self._cell(c) for c in row] for row in grid.cells]
                order = s.cell_order()
                if s.focus not in order:
                    s.focus = order[0] if order else ""
                self.focus = s.focus
                self.details = self._details(s.focus)
                self.loading_videos = sorted(self._loading)
                self.error, self.advice = s.error, s.advice
                if s.notice:
                    self.notice, s.notice = s.notice, ""
                self._show_posters()
        finally:
            self._rendering = False

    def _cell(self, cell: Cell) -> dict[str, Any]:
        if not cell.variant_id:
            return {"variant_id": "", "row": cell.row, "col": cell.col}
        mark = self.state.mark_of(cell.variant_id)
        media = self.state.media.get(cell.variant_id)
        return {
            "variant_id": cell.variant_id,
            "row": cell.row,
            "col": cell.col,
            "status": cell.status,
            "color": STATUS_COLORS.get(cell.status, "grey"),
            "label": short(cell.label, 90),
            "full": "\n".join(f"{d}: {t}" for d, t in cell.values),
            "message": cell.message,
            "advice": cell.advice,
            "poster_loading": bool(media and media.loading),
            "poster_error": media.error if media else "",
            "pinned": mark.pinned,
            "rating": mark.rating or 0,
            "tags": list(mark.tags),
            "note": mark.note,
        }

    def _details(self, variant_id: str) -> dict[str, Any]:
        if not variant_id:
            return {}
        s = self.state
        v = s.variant(variant_id)
        mark = s.mark_of(variant_id)
        dims = s.dimensions()
        return {
            "variant_id": variant_id,
            "status": v.status,
            "task_id": v.task_id or "",
            "figures": figures_text(v),
            "values": [{"dim": d, "text": value_text(v.values.get(d))} for d in dims],
            "pinned": mark.pinned,
            "rating": mark.rating or 0,
            "tags": ", ".join(mark.tags),
            "note": mark.note,
            "has_body": v.body is not None,
        }

    def _show_posters(self) -> None:
        made = dict(self.posters)
        changed = False
        for vid, media in self.state.media.items():
            if media.poster and vid not in made:
                made[vid] = ipywidgets.Image(
                    value=media.poster,
                    format="jpeg",
                    layout=ipywidgets.Layout(width="100%", height="auto"),
                )
                changed = True
        if changed:
            self.posters = made

    # ------------------------------------------------------------------ axes and focus
    @traitlets.observe("rows_dim", "cols_dim")
    def _on_axes(self, change: dict[str, Any]) -> None:
        if self._rendering or not self.state.loaded:
            return
        rows = self.rows_dim or None
        cols = self.cols_dim or None
        if rows is not None and rows == cols:  # the other one swaps, as a person means it
            if change["name"] == "rows_dim":
                cols = self.state.rows
            else:
                rows = self.state.cols
        try:
            self.state.set_axes(rows, cols)
        except ValueError as exc:
            self.state.fail(exc)
        self.follow()

    def vue_set_filter(self, data: dict[str, Any]) -> None:
        """Hold a dimension that is neither rows nor columns at one value."""
        try:
            self.state.set_filter(str(data["dim"]), str(data["key"]))
        except (KeyError, ValueError) as exc:
            self.state.fail(exc)
        self.follow()

    @traitlets.observe("focus")
    def _on_focus(self, change: dict[str, Any]) -> None:
        if self._rendering or change["new"] == self.state.focus:
            return
        if change["new"] in self.state.cell_order():
            self.state.focus = str(change["new"])
            self.details = self._details(self.state.focus)

    # ------------------------------------------------------------------ media
    def vue_load_video(self, variant_id: str) -> None:
        """Load one cell's video (the kernel downloads it; the bytes go to the browser)."""
        self._load([str(variant_id)])

    def vue_load_all(self, _data: Any = None) -> None:
        """Load the video of every succeeded cell of the grid."""
        ids = [
            vid for vid in self.state.cell_order() if self.state.variant(vid).status == "succeeded"
        ]
        self._load(ids)

    def vue_retry_poster(self, variant_id: str) -> None:
        """Try a failed poster again."""
        self.state.forget_error(str(variant_id))
        self.run(self.state.posters([str(variant_id)]))

    def _load(self, ids: list[str]) -> None:
        todo = [v for v in ids if v not in self.players and v not in self._loading]
        if not todo:
            return
        self._loading |= set(todo)
        self.loading_videos = sorted(self._loading)
        self.run(self._load_videos(todo))

    async def _load_videos(self, ids: list[str]) -> None:
        async def one(vid: str) -> None:
            try:
                data = await self.state.video(vid)
            except Exception as exc:
                self.state.media_failed(vid, exc)
                return
            finally:
                self._loading.discard(vid)
            self.players = {**self.players, vid: video_player(data, controls=False, fit=False)}

        try:
            await asyncio.gather(*(one(v) for v in ids))
        finally:
            self.loading_videos = sorted(self._loading)
            self.render()

    # ------------------------------------------------------------------ marks
    def vue_rate(self, data: dict[str, Any]) -> None:
        """Rate a cell 1-5 (0 or the same rating again clears it)."""
        vid = str(data["variant_id"])
        stars = int(data.get("rating") or 0)
        current = self.state.mark_of(vid).rating
        rating = None if stars == 0 or stars == current else stars
        self.run(self.state.mark(vid, rating=rating))

    def vue_pin(self, variant_id: str) -> None:
        """Pin a cell as the winner (pinning the winner again unpins it)."""
        vid = str(variant_id)
        self.run(self.state.mark(vid, pinned=not self.state.mark_of(vid).pinned))

    def vue_set_tags(self, data: dict[str, Any]) -> None:
        """Replace a cell's tags (comma-separated text)."""
        text = str(data.get("text") or "")
        self.run(self.state.mark(str(data["variant_id"]), tags=text.split(",")))

    def vue_set_note(self, data: dict[str, Any]) -> None:
        """Replace a cell's note."""
        self.run(self.state.mark(str(data["variant_id"]), note=str(data.get("text") or "")))

    # ------------------------------------------------------------------ open in studio
    def vue_open_studio(self, variant_id: str) -> None:
        """Load the variant's exact request into a studio shown under the grid."""
        try:
            body = self.state.body_of(str(variant_id))
        except (KeyError, ValueError) as exc:
            self.state.fail(exc)
            return
        studio = self.studio if self.studio is not None else self._new_studio()
        studio.state.load_body(body, source=f"Variant {variant_id}")
        self.studio = studio
        self.notice = f"Variant {variant_id}'s request is in the studio below."

    def _new_studio(self) -> StudioView:
        from orca_nb.widgets.views.studio import StudioView

        return StudioView(self._store)

    def vue_refresh(self, _data: Any = None) -> None:
        """Read the variants and marks again."""
        self.run(self.refresh())

    def close(self) -> None:
        """Close the grid, its players, posters and studio."""
        self._closed = True
        with contextlib.suppress(Exception):
            self._off()
        for widget in [*self.players.values(), *self.posters.values()]:
            with contextlib.suppress(Exception):
                widget.close()
        if self.studio is not None:
            self.studio.close()
        super().close()
