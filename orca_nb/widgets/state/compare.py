"""State of the compare grid: an experiment's variants laid out by two varied dimensions.

Rows and columns are chosen from the dimensions whose values differ between variants (e.g.
``prompt`` x ``seed``); every other varied dimension is held at one value (a filter), so each
cell is one variant. A cell shows its values, its status (with advice when it ended badly), a
poster frame, and on demand its video; the person's marks (pinned winner, 1-5 rating, tags,
note) are read from and written to the usage ledger (:meth:`orca_nb.ledger.Ledger.mark_variant`).

Everything slow happens in coroutines awaited on the live store's home loop: the run's variants
and the ledger's marks are read in a worker thread (``asyncio.to_thread``), never on a DBOS
thread; a result video is fetched by the kernel with a fresh link (``client.videos.get``: links
expire) and its poster made there, so the browser receives data, never a kernel URL.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from orca_nb import wire
from orca_nb.compose.cost import tokens_text
from orca_nb.experiments.labels import value_text, variant_label
from orca_nb.ledger.marks import UNSET, Unset, VariantMark
from orca_nb.widgets.advice import describe_error, variant_advice
from orca_nb.widgets.state.base import Observable

if TYPE_CHECKING:
    from orca_nb.experiments.db import VariantRow
    from orca_nb.ledger import Ledger
    from orca_nb.widgets.live import LiveStore

#: Posters made at once (each downloads a video and decodes a frame).
POSTER_CONCURRENCY: Final = 4
#: Result videos kept in the kernel's memory for "load video" without a second download.
VIDEO_CACHE_BYTES: Final = 256 * wire.MB
#: Characters of a value shown in a header or a cell label (the whole text is in its title).
LABEL_CHARS: Final = 60
_NONE_KEY: Final = "null"
_STEPS: Final = {
    "ArrowLeft": (0, -1),
    "ArrowRight": (0, 1),
    "ArrowUp": (-1, 0),
    "ArrowDown": (1, 0),
}


class VariantSource(Protocol):
    """What the grid needs of an experiment (``orca_nb.experiments.ExperimentRun``, or
    :class:`StoredExperiment` when read by name)."""

    @property
    def experiment_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    def variants(self) -> Sequence[VariantRow]: ...


def value_key(value: Any) -> str:
    """A stable text key for a dimension's value (JSON, sorted keys)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def short(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Axis:
    """One header of the grid: a value of the row or column dimension."""

    key: str
    text: str


@dataclass
class Media:
    """What the kernel has made of one variant's result video."""

    poster: bytes = b""  # the poster frame (JPEG), made by the kernel
    loading: bool = False  # a download or a poster is in progress
    error: str = ""  # why the poster or the video could not be made


@dataclass(frozen=True)
class Cell:
    """One cell of the grid: a variant, or nothing (``variant_id`` "") for a combination the
    experiment does not hold."""

    row: str
    col: str
    variant_id: str = ""
    status: str = ""
    values: tuple[tuple[str, str], ...] = ()  # (dimension, value text) of every varied one
    message: str = ""  # the error or reasons of a variant that did not succeed
    advice: str = ""
    label: str = ""  # the variant's values in a few words (experiments.labels.variant_label)


@dataclass(frozen=True)
class Grid:
    """The laid-out grid: headers and cells (``cells[r][c]``)."""

    rows: tuple[Axis, ...]
    cols: tuple[Axis, ...]
    cells: tuple[tuple[Cell, ...], ...]


@dataclass
class CompareState(Observable):
    """An experiment's variants in a grid, with their media and marks."""

    run: VariantSource
    store: LiveStore
    ledger: Ledger | None = None
    variants: list[VariantRow] = field(default_factory=list)
    marks: dict[str, VariantMark] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    rows: str | None = None
    cols: str | None = None
    filters: dict[str, str] = field(default_factory=dict)  # other dimension -> value key
    focus: str = ""  # the variant id of the focused cell
    notice: str = ""
    loaded: bool = False
    _wanted: tuple[str | None, str | None] = (None, None)
    _videos: OrderedDict[str, bytes] = field(default_factory=OrderedDict)
    _poster_limit: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        Observable.__init__(self)

    # ------------------------------------------------------------------ reading
    @property
    def experiment_id(self) -> str:
        """The experiment's id (what the marks are stored under)."""
        return self.run.experiment_id

    async def load(self) -> None:
        """Read the variants and the marks again (worker threads), then notify; errors are
        shown, not raised."""
        try:
            variants = await asyncio.to_thread(self.run.variants)
            marks = await self._read_marks()
        except Exception as exc:
            self.fail(exc)
            return
        self._loaded(variants, marks)

    def load_now(self) -> None:
        """The first read, blocking (from a cell: quick queries); a wrong ``rows``/``cols``
        given before raises ``ValueError`` here."""
        ledger = self.ledger
        marks = ledger.variant_marks(self.experiment_id) if ledger is not None else {}
        self._loaded(self.run.variants(), marks)

    def _loaded(self, variants: Sequence[VariantRow], marks: dict[str, VariantMark]) -> None:
        self.variants = sorted(variants, key=lambda v: v.position)
        self.marks = dict(marks)
        if not self.loaded:
            self.loaded = True
            rows, cols = self._wanted
            if rows is None and cols is None:
                rows, cols = _default_axes(self.dimensions())
            self.set_axes(rows, cols)
            return
        self._fit_axes()
        self.changed()

    async def _read_marks(self) -> dict[str, VariantMark]:
        if self.ledger is None:
            return {}
        ledger = self.ledger
        return await asyncio.to_thread(ledger.variant_marks, self.experiment_id)

    @property
    def over(self) -> bool:
        """True when no variant will change any more (the run is done)."""
        from orca_nb.experiments.db import FINAL_STATUSES

        return bool(self.variants) and all(v.status in FINAL_STATUSES for v in self.variants)

    def variant(self, variant_id: str) -> VariantRow:
        """One variant by id (``KeyError`` naming the experiment when unknown)."""
        for v in self.variants:
            if v.variant_id == variant_id:
                return v
        raise KeyError(f"experiment {self.run.name!r} has no variant {variant_id!r}")

    def mark_of(self, variant_id: str) -> VariantMark:
        """The variant's mark (an empty one when never marked)."""
        return self.marks.get(variant_id) or VariantMark.empty(self.experiment_id, variant_id)

    # ------------------------------------------------------------------ axes
    def dimensions(self) -> list[str]:
        """The varied dimensions: those whose value differs between variants, in the order
        the experiment defines them."""
        order: list[str] = []
        seen: dict[str, set[str]] = {}
        for v in self.variants:
            for dim, value in v.values.items():
                if dim not in seen:
                    order.append(dim)
                    seen[dim] = set()
                seen[dim].add(value_key(value))
        present = {d: sum(d in v.values for v in self.variants) for d in order}
        return [d for d in order if len(seen[d]) > 1 or 0 < present[d] < len(self.variants)]

    def axis_values(self, dim: str) -> list[Axis]:
        """The values of ``dim`` in the order they first appear."""
        found: dict[str, Axis] = {}
        for v in self.variants:
            value = v.values.get(dim)
            key = value_key(value)
            if key not in found:
                found[key] = Axis(key, value_text(value))
        return list(found.values())

    def set_axes(self, rows: str | None, cols: str | None) -> None:
        """Choose the row and column dimensions (``None``: a single row / a single column).

        Before :meth:`load` the choice is kept for then. An unknown name raises ``ValueError``
        listing the varied dimensions; rows and columns must differ.
        """
        if not self.loaded:
            self._wanted = (rows, cols)
            return
        dims = self.dimensions()
        for name, chosen in (("rows", rows), ("cols", cols)):
            if chosen is not None and chosen not in dims:
                listed = ", ".join(dims) or "none (every variant has the same values)"
                raise ValueError(
                    f"{name}={chosen!r} is not a varied dimension of this experiment; "
                    f"choose from: {listed}"
                )
        if rows is not None and rows == cols:
            raise ValueError(f"rows and cols are both {rows!r}: choose two different dimensions")
        self.rows, self.cols = rows, cols
        self._fit_filters()
        self.changed()

    def _fit_axes(self) -> None:
        dims = self.dimensions()
        if self.rows not in dims:
            self.rows = None
        if self.cols not in dims:
            self.cols = None
        if self.rows is None and self.cols is None and self._wanted == (None, None):
            self.rows, self.cols = _default_axes(dims)
        self._fit_filters()

    def other_dimensions(self) -> list[str]:
        """Varied dimensions that are neither rows nor columns (each held at one value)."""
        return [d for d in self.dimensions() if d not in (self.rows, self.cols)]

    def _fit_filters(self) -> None:
        kept: dict[str, str] = {}
        for dim in self.other_dimensions():
            keys = [a.key for a in self.axis_values(dim)]
            current = self.filters.get(dim)
            kept[dim] = current if current in keys else keys[0]
        self.filters = kept

    def set_filter(self, dim: str, key: str) -> None:
        """Hold ``dim`` (not a row or column) at the value whose key is ``key``."""
        if dim not in self.other_dimensions():
            raise ValueError(f"{dim!r} is not a dimension held at one value here")
        keys = [a.key for a in self.axis_values(dim)]
        if key not in keys:
            raise ValueError(f"{dim!r} has no value {key!r}")
        self.filters[dim] = key
        self.changed()

    def grid(self) -> Grid:
        """The grid as chosen: one cell per (row value, column value)."""
        rows = self.axis_values(self.rows) if self.rows else [Axis(_NONE_KEY, "")]
        cols = self.axis_values(self.cols) if self.cols else [Axis(_NONE_KEY, "")]
        dims = self.dimensions()
        index: dict[tuple[str, str], VariantRow] = {}
        for v in self.variants:
            if any(value_key(v.values.get(d)) != k for d, k in self.filters.items()):
                continue
            r = value_key(v.values.get(self.rows)) if self.rows else _NONE_KEY
            c = value_key(v.values.get(self.cols)) if self.cols else _NONE_KEY
            index.setdefault((r, c), v)
        cells = tuple(
            tuple(self._cell(r.key, c.key, index.get((r.key, c.key)), dims) for c in cols)
            for r in rows
        )
        return Grid(tuple(rows), tuple(cols), cells)

    def _cell(self, row: str, col: str, v: VariantRow | None, dims: list[str]) -> Cell:
        if v is None:
            return Cell(row, col)
        message = ""
        advice = ""
        if v.status == "invalid":
            message = "; ".join(v.reasons) or "invalid: never sent"
        elif v.status in ("failed", "refused", "unknown"):
            message = " ".join(p for p in (v.error_code, v.error_message) if p)
            advice = variant_advice(v.status, v.error_code)
        return Cell(
            row,
            col,
            v.variant_id,
            v.status,
            tuple((d, value_text(v.values.get(d))) for d in dims),
            message,
            advice,
            variant_label(v.values, dims),
        )

    def cell_order(self) -> list[str]:
        """The variant ids of the grid, row by row (what the arrow keys walk)."""
        return [c.variant_id for row in self.grid().cells for c in row if c.variant_id]

    def move_focus(self, key: str) -> str:
        """Move the focus with an arrow key (``ArrowLeft`` ... ``ArrowDown``); returns it."""
        grid = self.grid()
        spots = [
            (r, c)
            for r, row in enumerate(grid.cells)
            for c, cell in enumerate(row)
            if cell.variant_id
        ]
        if not spots:
            return self.focus
        here = next(
            ((r, c) for r, c in spots if grid.cells[r][c].variant_id == self.focus), spots[0]
        )
        step = _STEPS.get(key)
        if step is None:
            raise ValueError(f"move the focus with {', '.join(_STEPS)}, not {key!r}")
        dr, dc = step
        r, c = here[0] + dr, here[1] + dc
        while 0 <= r < len(grid.cells) and 0 <= c < len(grid.cells[0]):
            if grid.cells[r][c].variant_id:
                here = (r, c)
                break
            r, c = r + dr, c + dc
        self.focus = grid.cells[here[0]][here[1]].variant_id
        self.changed()
        return self.focus

    # ------------------------------------------------------------------ marks
    async def mark(
        self,
        variant_id: str,
        *,
        pinned: bool | None = None,
        rating: int | Unset | None = UNSET,
        tags: Sequence[str] | None = None,
        note: str | None = None,
    ) -> VariantMark | None:
        """Store a mark in the ledger (only the fields given change, as
        :meth:`~orca_nb.ledger.Ledger.mark_variant`); bad input or a ledger error is shown, not
        raised. Pinning re-reads the experiment's marks (the previous winner is unpinned)."""
        self.variant(variant_id)  # an unknown id is a programming error: raise
        if self.ledger is None:
            self.error = "Marks are not stored: this client keeps no usage ledger."
            self.advice = "Open the grid with ledger=orca_nb.ledger.open_ledger(...)."
            self.changed()
            return None
        ledger = self.ledger
        try:
            mark = await asyncio.to_thread(
                lambda: ledger.mark_variant(
                    self.experiment_id,
                    variant_id,
                    pinned=pinned,
                    rating=rating,
                    tags=tags,
                    note=note,
                )
            )
            if pinned:
                self.marks = await self._read_marks()
            else:
                self.marks[variant_id] = mark
        except Exception as exc:
            self.fail(exc)
            return None
        self.error = self.advice = ""
        self.changed()
        return mark

    # ------------------------------------------------------------------ media
    def _media(self, variant_id: str) -> Media:
        return self.media.setdefault(variant_id, Media())

    async def posters(self, variant_ids: Sequence[str] | None = None) -> None:
        """Make the posters of the grid's succeeded variants that have none yet."""
        wanted = self.cell_order() if variant_ids is None else list(variant_ids)
        todo = [
            vid
            for vid in wanted
            if self.variant(vid).status == "succeeded"
            and not self._media(vid).poster
            and not self._media(vid).loading
            and not self._media(vid).error
        ]
        if todo:
            await asyncio.gather(*(self.poster(vid) for vid in todo))

    async def poster(self, variant_id: str) -> bytes:
        """The variant's poster frame (JPEG bytes), made by the kernel from its video."""
        media = self._media(variant_id)
        if media.poster:
            return media.poster
        if self._poster_limit is None:
            self._poster_limit = asyncio.Semaphore(POSTER_CONCURRENCY)
        media.loading, media.error = True, ""
        self.changed()
        try:
            async with self._poster_limit:
                data = await self.video(variant_id)
                from orca_nb.media.poster import video_poster

                media.poster = await asyncio.to_thread(video_poster, data)
        except Exception as exc:
            media.error = describe_error(exc)[0]
        finally:
            media.loading = False
            self.changed()
        return media.poster

    async def video(self, variant_id: str) -> bytes:
        """The variant's MP4 bytes: from the kernel's cache, else downloaded now through a fresh
        result link (``client.videos.get``; a stored link may have expired)."""
        cached = self._videos.get(variant_id)
        if cached is not None:
            self._videos.move_to_end(variant_id)
            return cached
        v = self.variant(variant_id)
        if v.status != "succeeded" or not v.task_id:
            raise ValueError(f"variant {variant_id} has no video: it is {v.status}")
        data = await self.store.gateway.result_video(v.task_id)
        self._videos[variant_id] = data
        while sum(map(len, self._videos.values())) > VIDEO_CACHE_BYTES and len(self._videos) > 1:
            self._videos.popitem(last=False)
        return data

    def media_failed(self, variant_id: str, exc: BaseException) -> None:
        """Say on the cell why its poster or video could not be had."""
        self._media(variant_id).error = describe_error(exc)[0]
        self.changed()

    def forget_error(self, variant_id: str) -> None:
        """Let a failed poster be tried again."""
        self._media(variant_id).error = ""

    # ------------------------------------------------------------------ open in studio
    def body_of(self, variant_id: str) -> dict[str, Any]:
        """The variant's exact request body (``ValueError`` for one that could not make one)."""
        v = self.variant(variant_id)
        if v.body is None:
            raise ValueError(
                f"variant {variant_id} has no request: {'; '.join(v.reasons) or 'invalid'}"
            )
        return v.body


def figures_text(v: VariantRow) -> str:
    """A variant's tokens (reported, else the estimate, said so) and its time from sending
    to the end, in words ("" when there is nothing to say)."""
    parts: list[str] = []
    if v.tokens is not None:
        parts.append(tokens_text(v.tokens, wire.TOKENS_REPORTED))
    elif v.estimated_tokens is not None:
        parts.append(tokens_text(v.estimated_tokens, wire.TOKENS_ESTIMATED))
    if v.sent_at and v.finished_at:
        parts.append(f"{(v.finished_at - v.sent_at) / 1000:.0f} s from sending to the end")
    return " · ".join(parts)


def _default_axes(dims: Sequence[str]) -> tuple[str | None, str | None]:
    """Rows and columns when none are chosen: the first two varied dimensions (a single one
    goes across)."""
    if not dims:
        return None, None
    if len(dims) == 1:
        return None, dims[0]
    return dims[0], dims[1]


@dataclass
class StoredExperiment:
    """An experiment read from the experiments' database without starting anything (what
    ``compare("name")`` shows): its variants as stored, re-read on every call."""

    experiment_id: str
    name: str
    database_url: str

    def variants(self) -> Sequence[VariantRow]:
        """Every variant as stored, in definition order."""
        from orca_nb.experiments.db import ExperimentsDB

        db = ExperimentsDB(self.database_url)
        try:
            return db.variants(self.experiment_id)
        finally:
            db.close()


def stored_experiment(name_or_id: str, *, database_url: str | None = None) -> StoredExperiment:
    """The experiment with this id or name in the experiments' database (default
    ``$ORCA_NB_EXPERIMENTS_DB``, else beside the ledger); ``KeyError`` listing the known ones."""
    from orca_nb.experiments.location import find_experiment, open_experiments_db

    db = open_experiments_db(database_url)
    try:
        found = find_experiment(db, name_or_id)
        return StoredExperiment(found.experiment_id, found.name, db.url)
    finally:
        db.close()
