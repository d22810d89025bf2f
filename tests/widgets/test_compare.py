"""The compare grid without a browser: axes from the varied dimensions, labels, cells of
variants that did not succeed, marks stored in the ledger and read back, "open in studio"
giving the exact body, and (on the sandbox) posters and videos fetched by the kernel."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.compose import Selection, build_request
from orca_nb.experiments.db import VariantRow
from orca_nb.ledger import Ledger, open_ledger
from orca_nb.widgets.state.compare import CompareState
from orca_nb.widgets.state.studio import StudioState
from orca_nb.widgets.views.compare import CompareView
from tests.widgets.fakes import FakeOrca

T = 1_000_000_000_000
XSS = "<img src=x onerror=alert(1)>"
BASE = build_request(
    wire.SEEDANCE_2, "a lighthouse", Selection(), ratio="16:9", resolution="480p", duration=4,
    generate_audio=True, watermark=False, seed=-1,
)  # fmt: skip


def body(prompt: str, seed: int) -> dict[str, Any]:
    made = copy.deepcopy(BASE)
    made["prompt"] = prompt
    made["metadata"]["seed"] = seed
    return made


def row(vid: str, position: int, values: dict[str, Any], status: str = "succeeded",
        **kw: Any) -> VariantRow:  # fmt: skip
    base: dict[str, Any] = {
        "experiment_id": "exp-1", "variant_id": vid, "position": position, "values": values,
        "body": body(str(values.get("prompt", "p")), int(values.get("seed", 1))),
        "reasons": [], "status": status, "task_id": f"task-{vid}", "task_status": None,
        "progress": None, "error_code": None, "error_message": None, "estimated_tokens": 1000,
        "tokens": None, "attempts": 1, "run": 0, "queued_at": T, "sent_at": T,
        "finished_at": T + 30_000, "updated_at": T,
    }  # fmt: skip
    base.update(kw)
    return VariantRow(**base)


class FakeRun:
    """An ExperimentRun's shape for the grid: stored variants, re-read on every call."""

    experiment_id = "exp-1"

    def __init__(self, rows: Sequence[VariantRow], name: str = "moods") -> None:
        self.rows = list(rows)
        self.name = name
        self.reads = 0

    def variants(self) -> list[VariantRow]:
        self.reads += 1
        return list(self.rows)


def two_by_two() -> FakeRun:
    return FakeRun(
        [
            row("v1", 0, {"prompt": "dawn", "seed": 7, "resolution": "480p"}),
            row("v2", 1, {"prompt": "dawn", "seed": 42, "resolution": "480p"}),
            row("v3", 2, {"prompt": XSS, "seed": 7, "resolution": "480p"}, status="failed",
                error_code="InternalServiceError", error_message="The render failed."),
            row("v4", 3, {"prompt": XSS, "seed": 42, "resolution": "480p"}, status="invalid",
                body=None, reasons=["duration 99 is above the model's 15 s"], task_id=None),
        ]
    )  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(f"sqlite://{tmp_path / 'ledger.sqlite3'}") as opened:
        yield opened


@pytest.fixture
def store() -> Any:
    from orca_nb.widgets.live import LiveStore

    return LiveStore(FakeOrca())


def loaded(run: FakeRun, store: Any, ledger: Ledger | None = None, **axes: Any) -> CompareState:
    state = CompareState(run, store, ledger)
    state.set_axes(axes.get("rows"), axes.get("cols"))
    state.load_now()
    return state


def test_axes_default_to_the_first_two_varied_dimensions(store: Any) -> None:
    state = loaded(two_by_two(), store)
    assert state.dimensions() == ["prompt", "seed"]  # resolution is the same everywhere
    assert (state.rows, state.cols) == ("prompt", "seed")
    grid = state.grid()
    assert [a.text for a in grid.rows] == ["dawn", XSS]
    assert [a.text for a in grid.cols] == ["7", "42"]
    assert [[c.variant_id for c in r] for r in grid.cells] == [["v1", "v2"], ["v3", "v4"]]
    assert grid.cells[0][1].values == (("prompt", "dawn"), ("seed", "42"))
    state.set_axes("seed", "prompt")  # transposed
    assert [[c.variant_id for c in r] for r in state.grid().cells] == [["v1", "v3"], ["v2", "v4"]]
    state.set_axes(None, "seed")  # one row: the prompt is held at one value
    assert state.filters == {"prompt": json.dumps("dawn")}
    assert [[c.variant_id for c in r] for r in state.grid().cells] == [["v1", "v2"]]
    state.set_filter("prompt", json.dumps(XSS))
    assert [[c.variant_id for c in r] for r in state.grid().cells] == [["v3", "v4"]]


def test_wrong_axes_name_the_varied_dimensions(store: Any) -> None:
    state = loaded(two_by_two(), store)
    with pytest.raises(ValueError, match="choose from: prompt, seed"):
        state.set_axes("resolution", "seed")
    with pytest.raises(ValueError, match="two different"):
        state.set_axes("seed", "seed")
    with pytest.raises(ValueError, match="not a dimension held"):
        state.set_filter("seed", "7")
    with pytest.raises(ValueError, match="choose from"):
        loaded(two_by_two(), store, rows="model")


def test_three_dimensions_hold_the_third_and_missing_combinations_are_empty(store: Any) -> None:
    run = FakeRun(
        [
            row("a", 0, {"prompt": "p1", "seed": 1, "ratio": "16:9"}),
            row("b", 1, {"prompt": "p1", "seed": 2, "ratio": "16:9"}),
            row("c", 2, {"prompt": "p2", "seed": 1, "ratio": "9:16"}),
        ]
    )
    state = loaded(run, store)
    assert state.other_dimensions() == ["ratio"]
    assert [[c.variant_id for c in r] for r in state.grid().cells] == [["a", "b"], ["", ""]]
    state.set_filter("ratio", json.dumps("9:16"))
    assert [[c.variant_id for c in r] for r in state.grid().cells] == [["", ""], ["c", ""]]
    assert state.cell_order() == ["c"]


def test_cells_of_variants_not_succeeded_say_why(store: Any) -> None:
    grid = loaded(two_by_two(), store).grid()
    failed, invalid = grid.cells[1]
    assert (failed.status, failed.message) == ("failed", "InternalServiceError The render failed.")
    assert failed.advice  # what to do about it
    assert (invalid.status, invalid.message) == ("invalid", "duration 99 is above the model's 15 s")


def test_arrow_keys_walk_the_cells(store: Any) -> None:
    state = loaded(two_by_two(), store)
    state.focus = "v1"
    assert state.move_focus("ArrowRight") == "v2"
    assert state.move_focus("ArrowRight") == "v2"  # the edge holds
    assert state.move_focus("ArrowDown") == "v4"
    assert state.move_focus("ArrowLeft") == "v3"
    assert state.move_focus("ArrowUp") == "v1"
    with pytest.raises(ValueError, match="ArrowLeft"):
        state.move_focus("Home")


async def test_marks_are_stored_and_shown_again_on_open(store: Any, ledger: Ledger) -> None:
    state = loaded(two_by_two(), store, ledger)
    await state.mark("v1", rating=4)
    await state.mark("v1", tags=["warm", " warm ", "sharp"], note=XSS)
    await state.mark("v2", pinned=True)
    await state.mark("v1", pinned=True)  # the winner moves: v2 is unpinned
    assert {v: m.pinned for v, m in state.marks.items()} == {"v1": True, "v2": False}
    reopened = loaded(two_by_two(), store, ledger)
    mark = reopened.mark_of("v1")
    assert (mark.pinned, mark.rating, mark.tags, mark.note) == (True, 4, ("warm", "sharp"), XSS)
    assert not reopened.mark_of("v3").marked
    assert await state.mark("v1", rating=9) is None  # refused: said, not raised
    assert "from 1 to 5" in state.error
    assert ledger.variant_marks("exp-1")["v1"].rating == 4


async def test_without_a_ledger_marks_say_so(store: Any) -> None:
    state = loaded(two_by_two(), store)
    assert await state.mark("v1", rating=3) is None
    assert "no usage ledger" in state.error


async def test_the_view_shows_marks_and_text_as_text(store: Any, ledger: Ledger) -> None:
    ledger.mark_variant("exp-1", "v2", rating=5, tags=["keep"], note="best")
    view = CompareView(two_by_two(), store, ledger=ledger)
    view.state.load_now()
    assert [h["text"] for h in view.row_heads] == ["dawn", XSS]  # sent as text; the template
    assert view.cells[0][1]["rating"] == 5  # shows it with {{ }}, never v-html
    assert view.cells[0][1]["tags"] == ["keep"]
    assert view.cells[1][0]["message"].startswith("InternalServiceError")
    assert (view.rows_dim, view.cols_dim) == ("prompt", "seed")
    assert view.focus == "v1"
    view.focus = "v2"  # a click in the page
    assert view.details["note"] == "best"
    assert view.details["figures"] == "~1,000 tokens (estimate) · 30 s from sending to the end"
    view.cols_dim = "prompt"  # the same as rows: rows swap to the old columns
    assert (view.state.rows, view.state.cols) == ("seed", "prompt")
    view.close()


def test_the_template_never_renders_text_as_html() -> None:
    template = Path(CompareView.template_file[0]).read_text()
    assert "v-html" not in template
    assert "{{ c.label }}" in template  # labels, tags, notes: text interpolation


def test_open_in_studio_loads_the_exact_body(store: Any) -> None:
    state = loaded(two_by_two(), store)
    studio = StudioState(store)
    variant_body = state.body_of("v2")
    assert studio.load_body(variant_body, source="Variant v2") == []
    assert studio.preview() == variant_body
    assert "Variant v2" in studio.notice
    with pytest.raises(ValueError, match="above the model"):
        state.body_of("v4")  # an invalid variant has no request


def test_open_in_studio_with_references_and_a_frame_mode(store: Any) -> None:
    from orca_nb.compose import Ref

    selection = Selection([Ref("asset://asset-abc", "Image"), Ref("https://x.test/b.jpg", "Image")])
    sent = build_request(
        wire.SEEDANCE_2, "[Image 1] meets [Image 2]", selection, ratio="9:16",
        resolution="720p", duration=5, generate_audio=False, watermark=True, seed=3,
    )  # fmt: skip
    studio = StudioState(store)
    assert studio.load_body(sent) == []
    assert studio.preview() == sent
    first = Selection([Ref("asset://asset-f", "Image", role="first_frame")])
    framed = build_request(
        wire.SEEDANCE_2, "from here", first, mode="first_frame", ratio="16:9", resolution="480p",
        duration=4, generate_audio=True, watermark=False, seed=-1,
    )  # fmt: skip
    assert studio.load_body(framed) == []
    assert studio.preview() == framed
    assert studio.picker.mode == "first_frame"


def test_a_body_the_form_cannot_hold_exactly_is_said(store: Any) -> None:
    sparse = build_request(wire.SEEDANCE_2, "sparse", Selection(), duration=4)
    studio = StudioState(store)
    differences = studio.load_body(sparse)
    assert "ratio" in differences
    assert "cannot hold it exactly" in studio.notice


def test_studio_entry_point_takes_a_body() -> None:
    from orca_nb.widgets import studio

    sent = body("the exact one", 42)
    app = studio(FakeOrca(), body=sent)
    assert app.studio.state.preview() == sent
    assert app.studio.picker.state.prompt == "the exact one"
    app.close()


async def _until(check: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


class GrowingRun(FakeRun):
    """A run still going: the first reads show variants running, later ones their end."""

    def __init__(self, steps: list[list[VariantRow]]) -> None:
        super().__init__(steps[0])
        self.steps = steps

    def variants(self) -> list[VariantRow]:
        self.rows = self.steps[min(self.reads, len(self.steps) - 1)]
        return super().variants()


async def test_a_run_still_going_is_followed_until_it_is_over(store: Any) -> None:
    running = [
        row("v1", 0, {"seed": 1}, status="running"),
        row("v2", 1, {"seed": 2}, status="queued"),
    ]
    ended = [
        row("v1", 0, {"seed": 1}, status="failed", error_code="InternalServiceError",
            error_message="boom"),
        row("v2", 1, {"seed": 2}, status="refused", error_code="InvalidParameter",
            error_message="bad ratio"),
    ]  # fmt: skip
    run = GrowingRun([running, running, ended])
    view = CompareView(run, store, interval=0.02)
    view.state.load_now()
    assert [c["status"] for c in view.cells[0]] == ["running", "queued"]
    view.follow()
    await _until(lambda: [c["status"] for c in view.cells[0]] == ["failed", "refused"])
    await _until(lambda: not view.following)  # over: it stops reading
    reads = run.reads
    await asyncio.sleep(0.1)
    assert run.reads == reads
    assert view.summary == "1 failed · 1 refused"
    view.close()


async def test_a_video_without_a_result_link_says_so_in_its_cell(store: Any) -> None:
    from orca_nb.client.models import VideoTask

    client = store.client
    client.state.tasks["task-v1"] = VideoTask(id="task-v1", status="succeeded", progress=100)
    view = CompareView(FakeRun([row("v1", 0, {"seed": 1}), row("v2", 1, {"seed": 2})]), store)
    view.state.load_now()
    await view.state.posters(["v1"])
    assert "no result link" in view.cells[0][0]["poster_error"]
    assert view.posters == {}
    view.vue_load_video("v1")
    await _until(lambda: not view.loading_videos)
    assert "v1" not in view.players
    view.close()
