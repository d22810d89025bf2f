"""The studio's Sweep tab (issue 12 item 7): variants from the studio's current request, invalid
ones with their reasons, the token estimate and the balance, the confirmation question, and a
real start on the sandbox through DBOS: exactly one task per variant, and pressing Start again
(or a name taken by another experiment) sends nothing more."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca
from orca_nb.client.models import Balance
from orca_nb.compose import Ref, Selection
from orca_nb.compose.cost import estimate_tokens
from orca_nb.ledger import open_ledger
from orca_nb.sandbox import Backend, SandboxServer
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.state import sweep as sweep_state
from orca_nb.widgets.state.studio import StudioState
from orca_nb.widgets.state.sweep import INSTALL_TEXT, SweepState, parse_seeds
from orca_nb.widgets.views.app import StudioApp
from orca_nb.widgets.views.sweep import SweepView
from tests.widgets.fakes import FakeOrca


def _studio(prompt: str = "a lighthouse in a storm") -> StudioState:
    studio = StudioState(LiveStore(FakeOrca()))
    studio.picker.set_prompt(prompt)
    studio.set_params(ratio="1:1", resolution="480p", duration=4)
    return studio


class Starter:
    """Stands for ``experiments.start``: records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, experiment: Any, client: Any, **kwargs: Any) -> Any:
        self.calls.append({"experiment": experiment, "client": client, **kwargs})
        return _FakeRun(experiment.experiment_id, experiment.name)


class _FakeRun:
    def __init__(self, experiment_id: str, name: str) -> None:
        self.experiment_id, self.name = experiment_id, name


class _Blocking:
    """A studio client whose blocking twin is a marker (no DBOS in the pure tests)."""

    def __init__(self, inner: FakeOrca) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def blocking(self) -> str:
        return "blocking-client"


# ---------------------------------------------------------------------- the plan (pure)
def test_variants_count_labels_and_tokens_per_variant_and_in_total() -> None:
    s = SweepState(_studio())
    assert s.plan.count == 1  # nothing varied yet: the studio's request as it is
    s.set_form(
        prompts_text="a lighthouse at dawn\n\n  a lighthouse at night  \n", seeds_text="1, 2"
    )
    plan = s.plan
    assert (plan.count, plan.valid) == (4, 4)
    labels = [line.label for line in plan.lines]
    assert labels == [
        "a lighthouse at dawn · seed 1", "a lighthouse at dawn · seed 2",
        "a lighthouse at night · seed 1", "a lighthouse at night · seed 2",
    ]  # fmt: skip
    one = estimate_tokens(s.studio.preview()).tokens
    assert plan.tokens == 4 * one
    assert all(line.tokens == f"~{one:,} tokens (estimate)" for line in plan.lines)
    assert plan.cost_text.startswith(f"~{4 * one:,} tokens (estimate) for 4 variant(s)")
    assert plan.refused == ""
    assert plan.confirm_text == ""
    # the studio's request moves: the plan follows (the view re-plans on studio changes)
    s.studio.set_params(duration=8)
    longer = estimate_tokens(s.studio.preview()).tokens
    assert longer > one
    assert s.replan().tokens == 4 * longer


def test_invalid_variants_are_listed_with_their_reasons_and_not_counted() -> None:
    s = SweepState(_studio())
    s.set_form(durations=[4, 30], ratios=["1:1", "16:9"])
    plan = s.plan
    assert (plan.count, plan.valid) == (4, 2)
    assert len(plan.invalid) == 2
    for line in plan.invalid:
        assert line.label.startswith("30 s")
        assert any("30" in reason for reason in line.reasons)
    assert [line.tokens for line in plan.lines if not line.valid] == ["not sent", "not sent"]
    assert "for 2 variant(s)" in plan.cost_text


def test_a_template_filled_from_the_table() -> None:
    s = SweepState(_studio())
    s.set_form(prompt_mode="template", template_text="a {animal} in the {weather}")
    assert s.fields == ["animal", "weather"]
    assert "Fill at least one row" in s.problem
    s.set_cell(0, "animal", "cat")
    assert "leaves weather empty" in s.problem  # the engine's words
    s.set_cell(0, "weather", "rain")
    s.add_row()
    s.set_cell(1, "animal", "dog")
    s.set_cell(1, "weather", "snow")
    s.add_row()  # an empty row is ignored
    assert s.problem == ""
    assert s.experiment is not None
    prompts = [v.body["prompt"] for v in s.experiment.variants if v.body]
    assert prompts == ["a cat in the rain", "a dog in the snow"]
    s.remove_row(0)
    assert s.plan.count == 1


def test_bad_input_says_what_to_write() -> None:
    s = SweepState(_studio())
    s.set_form(seeds_text="1, x")
    assert s.problem == "Seeds: 'x' is not a whole number; write seeds like 1, 2, 3"
    assert s.plan.count == 0
    assert parse_seeds("3 4;5") == [3, 4, 5]
    with pytest.raises(ValueError, match="listed twice"):
        parse_seeds("3, 3")
    s.set_form(seeds_text="", prompt_mode="template", template_text="no placeholder")
    assert "no {placeholder}" in s.problem
    s.set_form(template_text="a {bad-name}")
    assert "not a plain name" in s.problem
    with pytest.raises(AttributeError, match="no field 'plan'"):
        s.set_form(plan=None)


async def test_start_needs_a_name_and_a_valid_variant_and_sane_limits() -> None:
    starter = Starter()
    s = SweepState(_studio(), starter=starter)
    assert await s.start() is None
    assert s.error.startswith("Name the sweep first")
    s.set_form(name="rain", durations=[30])
    assert await s.start() is None
    assert "No variant can be sent" in s.error
    s.set_form(durations=[], concurrency=0)
    assert await s.start() is None
    assert s.error == "Concurrency must be a whole number from 1 to 64."
    assert starter.calls == []


async def test_a_balance_that_cannot_cover_it_refuses_start() -> None:
    starter = Starter()
    s = SweepState(_studio(), starter=starter, price_per_million_tokens=1.0)
    s.balance = Balance(remaining=0.01, limit=1.0, used=0.99)
    s.set_form(name="too dear", seeds_text="1 2 3")
    assert "the balance cannot cover this experiment" in s.plan.refused
    assert "0.01 USD left" in s.plan.cost_text
    assert await s.start() is None
    assert "cannot cover" in s.error
    assert starter.calls == []
    s.balance = Balance(remaining=100.0, limit=100.0, used=0.0)
    s.replan()
    assert s.plan.refused == ""


async def test_above_the_threshold_start_asks_with_the_total_then_starts() -> None:
    starter = Starter()
    studio = StudioState(LiveStore(_Blocking(FakeOrca())))  # type: ignore[arg-type]
    studio.picker.set_prompt("a lighthouse")
    s = SweepState(studio, starter=starter, confirm_above=1_000)
    s.set_form(name="big", seeds_text="1, 2", concurrency=2, per_minute=12)
    total = s.plan.tokens
    assert f"{total:,} tokens" in s.plan.confirm_text
    assert await s.start() is None
    assert s.confirming
    assert starter.calls == []
    s.cancel_confirm()
    assert not s.confirming
    run = await s.start(confirmed=True)
    assert run is not None
    (call,) = starter.calls
    assert call["confirm"] == total
    assert call["confirm_above"] == 1_000
    assert call["client"] == "blocking-client"
    assert (call["concurrency"], call["per_minute"]) == (2, 12)
    assert call["skip_invalid"] is True
    assert "Started 2 variant(s) of 'big'" in s.notice


async def test_open_needs_a_name() -> None:
    s = SweepState(_studio(), starter=Starter())
    assert await s.open() is None
    assert s.error == "Type the name of the sweep to open."


async def test_open_an_unknown_name_says_the_known_ones_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's KeyError is said as its text (str() of a KeyError quotes it), with advice
    that helps: not "Retry", which cannot find a sweep that is not there."""
    monkeypatch.setattr(sweep_state, "dbos_missing", lambda: False)

    def engine_open(name: str, client: Any, **settings: Any) -> Any:
        raise KeyError(f"no experiment {name!r} in sqlite:///x.db; known: 'owls' (exp-owls-1)")

    monkeypatch.setattr(sweep_state, "_engine_open", lambda: engine_open)
    studio = _studio()
    studio.store.gateway.client = _Blocking(studio.store.gateway.client)  # type: ignore[assignment]
    s = SweepState(studio, starter=Starter())
    s.set_form(name="cats")
    assert await s.open() is None
    assert s.error == "no experiment 'cats' in sqlite:///x.db; known: 'owls' (exp-owls-1)"
    assert s.advice == sweep_state.NOT_FOUND_ADVICE
    assert "Retry" not in s.advice
    assert not s.starting


async def test_without_dbos_the_tab_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sweep_state, "dbos_missing", lambda: True)
    starter = Starter()
    s = SweepState(_studio(), starter=starter)
    assert s.missing == INSTALL_TEXT
    assert "pip install 'orca-nb[experiments]'" in s.missing
    s.set_form(name="no engine")
    assert s.plan.count == 1  # the plan still works: it needs no engine
    assert await s.start() is None
    assert s.error == INSTALL_TEXT
    assert await s.open() is None
    assert s.error == INSTALL_TEXT
    assert starter.calls == []


async def test_compare_opens_the_shown_sweeps_grid_in_the_tab() -> None:
    """In the studio app (Voila: no cells) a sweep's videos can be compared: "Compare" puts the
    shown sweep's grid under its progress; pressing again reads it again (same grid); another
    sweep shown closes it; closing the tab closes it."""
    from orca_nb.widgets.views.compare import CompareView
    from tests.widgets.test_compare import FakeRun, row

    store = LiveStore(FakeOrca())
    app = StudioApp(store)
    sweep = app.sweep
    sweep.vue_compare()  # nothing shown yet: nothing to compare
    assert sweep.grid is None
    run = FakeRun(
        [
            row("v1", 0, {"seed": 1}, status="failed", error_code="InternalServiceError",
                error_message="boom"),
            row("v2", 1, {"seed": 2}, status="refused", error_code="InvalidParameter",
                error_message="bad ratio"),
        ]
    )  # fmt: skip
    sweep.state.run = run  # type: ignore[assignment]  # as after Start or Open by name
    sweep.vue_compare()
    grid = sweep.grid
    assert isinstance(grid, CompareView)
    await _until(lambda: bool(grid.cells) and not grid.following)
    assert grid.title == "moods"
    assert [c["variant_id"] for cells in grid.cells for c in cells] == ["v1", "v2"]
    assert grid.summary == "1 failed · 1 refused"
    reads = run.reads
    sweep.vue_compare()  # again: the same grid reads the run again
    await _until(lambda: run.reads > reads)
    assert sweep.grid is grid
    sweep._show_run()  # the same sweep shown again (a re-render): its grid stays
    assert sweep.grid is grid
    other = FakeRun(run.rows, name="other")
    other.experiment_id = "exp-2"  # type: ignore[misc]
    sweep.state.run = other  # type: ignore[assignment]  # Open by name: another sweep
    sweep._show_run()
    assert sweep.grid is None
    sweep.vue_compare()
    again = sweep.grid
    assert again is not None
    assert again.title == "other"
    app.close()
    assert sweep.grid is None
    await settle()


async def test_the_studio_app_has_a_sweep_tab_on_the_studio_request() -> None:
    client = FakeOrca()
    store = LiveStore(client)
    app = StudioApp(store)
    sweep = app.sweep
    assert isinstance(sweep, SweepView)
    assert sweep.state.studio is app.studio.state
    app.studio.picker.prompt = "a cat on a roof"
    assert "a cat on a roof" in sweep.base_text
    sweep.seeds_text = "5, 6"  # typed in the page
    assert sweep.count == 2
    assert [line["label"] for line in sweep.lines] == ["seed 5", "seed 6"]
    sweep.durations = [4, 30]
    assert sweep.count == 4
    assert sweep.valid_count == 2
    assert sweep.invalid[0]["reasons"]
    sweep.per_minute = ""  # a cleared number field in the page
    sweep.vue_start()
    await settle()
    assert (
        sweep.error == "Name the sweep first: the name identifies it (reopen it, compare it) later."
    )
    sweep.name = "cleared"
    sweep.vue_start()
    await settle()
    assert sweep.error == "Submits per minute must be a whole number from 1 to 600."
    app.close()


# ---------------------------------------------------------------------- a real start
@pytest.fixture
def exp_settings(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """This test's experiments database and fast polling; DBOS shut down afterwards."""
    yield {
        "database_url": f"sqlite:///{tmp_path / 'experiments.sqlite3'}",
        "polling_interval": 0.1,
        "poll_interval": 0.1,
        "heartbeat_seconds": 0.5,
    }
    from orca_nb.experiments import runtime, shutdown

    if runtime.current() is not None:
        shutdown()


@pytest.fixture
async def store(
    sandbox_server: SandboxServer, sandbox_key: str, tmp_path: Path
) -> AsyncIterator[LiveStore]:
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger)
    live = LiveStore(client, fast_interval=0.05, slow_interval=30)
    yield live
    await settle()
    await live.aclose()
    await client.close()
    ledger.close()


def _tasks(backend: Backend) -> list[str]:
    with backend.db.tx() as db:
        return [str(r[0]) for r in db.execute("SELECT id FROM tasks ORDER BY created")]


async def _until(check: Any, seconds: float = 90.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.mark.slow
async def test_start_makes_one_task_per_variant_and_pressing_again_makes_none(
    store: LiveStore, sandbox_backend: Backend, exp_settings: dict[str, Any]
) -> None:
    studio = StudioState(store)
    studio.picker.set_prompt("a lighthouse")
    studio.set_params(ratio="1:1", resolution="480p", duration=4)
    state = SweepState(studio, launch_settings={**exp_settings, "follow_timeout": 30.0})
    view = SweepView(store, studio, state=state, progress_interval=0.1)
    before = _tasks(sandbox_backend)
    view.name = "two by two"
    view.prompts_text = "a lighthouse at dawn\na lighthouse at night"
    view.seeds_text = "1, 2"
    view.concurrency, view.per_minute = 2, 600
    assert (view.count, view.valid_count) == (4, 4)
    view.vue_start()
    view.vue_start()  # a double click: the second press does nothing while starting
    await _until(lambda: state.run is not None or bool(state.error))
    assert state.error == ""
    run = state.run
    assert run is not None
    await _until(lambda: view.progress is not None)
    progress = view.progress
    assert progress is not None
    await _until(lambda: progress.finished_text == "4 of 4 videos finished")
    assert progress.chips == [{"status": "succeeded", "count": 4, "color": "green"}]
    new = [t for t in _tasks(sandbox_backend) if t not in before]
    assert len(new) == 4
    assert sorted(run.task_ids().values()) == sorted(new)
    assert run.limits() == {"concurrency": 2, "per_minute": 600}

    # Start again with the same sweep: the same experiment, nothing sent twice
    view.vue_start()
    await _until(lambda: not state.starting and "already started" in state.notice)
    assert view.progress is progress  # the same run: the same widget
    # the same name on another request: the engine's clear error, nothing sent
    studio.set_params(ratio="16:9")
    view.vue_start()
    await _until(lambda: not state.starting and bool(state.error))
    assert "two by two" in state.error
    assert "pick another name" in state.error or "different" in state.error
    await asyncio.sleep(0.5)
    assert [t for t in _tasks(sandbox_backend) if t not in before] == new

    # once done, the studio's history lists the sweep's runs from the ledger
    await _until(
        lambda: sum(1 for r in studio.earlier if r.recorded and r.recorded.experiment_id) == 4
    )
    assert {r.task_id for r in studio.earlier} >= set(new)
    view.close()

    # a new studio (as after a restart) opens the sweep by its name: its progress, no new task
    other = SweepState(StudioState(store), launch_settings=exp_settings)
    reopened = SweepView(store, other.studio, state=other, progress_interval=0.1)
    reopened.name = "no such sweep"
    reopened.vue_open()
    await _until(lambda: not other.starting and bool(other.error))
    assert "no experiment 'no such sweep'" in other.error
    assert "'two by two'" in other.error  # the known names are listed
    reopened.name = "two by two"
    reopened.vue_open()
    await _until(lambda: reopened.progress is not None)
    assert other.notice == "Opened sweep 'two by two': its progress is below."
    await _until(lambda: reopened.progress.finished_text == "4 of 4 videos finished")  # type: ignore[union-attr]
    assert [t for t in _tasks(sandbox_backend) if t not in before] == new
    reopened.close()
    from orca_nb.experiments import shutdown

    shutdown()  # DBOS stops: the blocking client made for Start can go
    state.release()
    other.release()


def test_a_seed_out_of_range_is_an_invalid_variant_with_the_rules_reason() -> None:
    s = SweepState(_studio())
    s.set_form(seeds_text=f"-1 {wire.SEED_MAX} {wire.SEED_MAX + 1}")
    assert (s.plan.count, s.plan.valid) == (3, 2)
    (bad,) = s.plan.invalid
    assert bad.label == f"seed {wire.SEED_MAX + 1}"
    assert "is not allowed" in bad.reasons[0]


# ---------------------------------------------------------------------- watermark, reference sets
ADA = Ref("asset-20260318071009-aaaaa", "image", name="ada")
BEN = Ref("asset-20260318071009-bbbbb", "image", name="ben")
CAT = Ref("asset-20260318071009-ccccc", "image")  # no name: a chip says its kind, not its id


def test_watermark_on_and_off_doubles_the_variants() -> None:
    s = SweepState(_studio())
    s.set_form(seeds_text="1, 2")
    assert s.plan.count == 2
    s.set_form(watermarks=[True, False])
    assert (s.plan.count, s.plan.valid) == (4, 4)
    assert [line.label for line in s.plan.lines] == [
        "seed 1 · watermark=on", "seed 1 · watermark=off",
        "seed 2 · watermark=on", "seed 2 · watermark=off",
    ]  # fmt: skip
    assert s.experiment is not None
    marks = [v.body["metadata"]["watermark"] for v in s.experiment.variants if v.body]
    assert marks == [True, False, True, False]
    one = estimate_tokens(s.studio.preview()).tokens
    assert s.plan.tokens == 4 * one
    s.set_form(watermarks=[False])  # one value: every variant without, still one per seed
    assert s.plan.count == 2
    assert s.experiment is not None
    assert all(v.body and v.body["metadata"]["watermark"] is False for v in s.experiment.variants)


def test_two_reference_sets_double_the_variants_each_with_its_own_content() -> None:
    studio = _studio()
    studio.picker.replace_all(Selection([ADA, BEN]), "[Image 1] meets [Image 2] by the sea")
    s = SweepState(studio)
    s.set_form(seeds_text="1, 2")
    assert s.plan.count == 2
    assert s.add_current_set()  # "use the current selection as set 1"
    assert s.plan.count == 2  # one set: the same variants, on that set
    assert [x.name for x in s.sets()] == ["set 1"]
    assert s.sets()[0].current
    # the same selection again is refused, saying what to do
    assert not s.add_current_set()
    assert "already is set 1" in s.sets_note
    assert len(s.reference_sets) == 1
    # change the studio's selection (the picker renumbers its prompt), add it as set 2
    studio.picker.move(0, 1)
    assert studio.picker.prompt == "[Image 2] meets [Image 1] by the sea"
    assert s.current_set() is None
    assert s.add_current_set()
    assert s.sets_note == ""
    plan = s.plan
    assert (plan.count, plan.valid) == (4, 4)
    assert [line.label for line in plan.lines] == [
        "references=set 1 · seed 1", "references=set 1 · seed 2",
        "references=set 2 · seed 1", "references=set 2 · seed 2",
    ]  # fmt: skip
    one = estimate_tokens(studio.preview()).tokens
    assert plan.tokens == 4 * one
    sets = s.sets()
    assert [x.current for x in sets] == [False, True]
    assert [(i.token, i.kind, i.label) for i in sets[0].items] == [
        ("[Image 1]", "image", "ada"), ("[Image 2]", "image", "ben")
    ]  # fmt: skip
    assert [(i.token, i.label) for i in sets[1].items] == [
        ("[Image 1]", "ben"),
        ("[Image 2]", "ada"),
    ]
    assert s.experiment is not None
    by_set = {
        v.values["references"]: v.body
        for v in s.experiment.variants
        if v.values["seed"] == 1 and v.body is not None
    }
    assert sorted(by_set) == ["set 1", "set 2"]
    # each set's tokens name the same people: ada meets ben in both
    assert by_set["set 1"]["prompt"] == "[Image 1] meets [Image 2] by the sea"
    assert by_set["set 2"]["prompt"] == "[Image 2] meets [Image 1] by the sea"
    urls = {
        name: [item["image_url"]["url"] for item in body["metadata"]["content"]]
        for name, body in by_set.items()
    }
    assert urls == {"set 1": [ADA.url, BEN.url], "set 2": [BEN.url, ADA.url]}
    # remove set 1: set 2 moves up, half the variants
    s.remove_set(0)
    assert s.plan.count == 2
    assert [x.name for x in s.sets()] == ["set 1"]
    assert s.reference_sets == [Selection([BEN, ADA])]
    s.remove_set(0)
    assert s.reference_sets == []
    assert s.plan.count == 2
    assert all(line.label.startswith("seed") for line in s.plan.lines)


def test_a_set_that_lacks_an_asset_the_prompt_names_is_invalid_with_the_reason() -> None:
    studio = _studio()
    studio.picker.replace_all(Selection([ADA]), "[Image 1] walks")
    s = SweepState(studio)
    assert s.add_current_set()  # set 1: ada alone
    studio.picker.replace_all(Selection([ADA, BEN, CAT]), "[Image 1] meets [Image 2]")
    assert s.add_current_set()  # set 2: ada, ben and an unnamed image
    s.replan()  # the view re-plans when the studio's request moves
    plan = s.plan
    assert (plan.count, plan.valid) == (2, 1)
    (bad,) = plan.invalid
    assert bad.label == "references=set 1"
    assert len(bad.reasons) == 1
    assert bad.reasons[0].startswith("[removed Image 2: ben] marks a reference you removed")
    assert [line.tokens for line in plan.lines] == [
        "not sent", f"~{estimate_tokens(studio.preview()).tokens:,} tokens (estimate)"
    ]  # fmt: skip
    assert s.experiment is not None
    assert [v.variant_id for v in s.experiment.invalid] == [s.experiment.variants[0].variant_id]
    chips = [(i.token, i.label) for i in s.sets()[1].items]
    assert chips == [("[Image 1]", "ada"), ("[Image 2]", "ben"), ("[Image 3]", "unnamed image")]
    # a prompt naming only what every set has: both valid again
    studio.picker.set_prompt("[Image 1] walks alone")
    assert s.replan().valid == 2


def test_the_tab_shows_the_sets_as_chips_of_names_never_ids() -> None:
    store = LiveStore(FakeOrca())
    app = StudioApp(store)
    sweep = app.sweep
    picker = app.studio.state.picker
    picker.replace_all(Selection([ADA, CAT]), "[Image 1] and [Image 2] <b>bold</b>")
    assert sweep.sets == []
    assert sweep.add_set_text == "Use the studio's current selection as set 1"
    sweep.vue_add_set()
    assert sweep.current_is_set
    assert sweep.add_set_text == "Add the studio's current selection as set 2"
    assert sweep.sets_hint.startswith("The studio's selection is set 1: change it")
    picker.move(0, 1)
    assert not sweep.current_is_set
    assert sweep.sets_hint == ""
    assert sweep.add_set_text == "Add the studio's current selection as set 2"
    sweep.vue_add_set()
    sweep.watermarks = [True, False]  # chosen in the page
    assert (sweep.count, sweep.valid_count) == (4, 4)
    assert sweep.sets == [
        {"name": "set 1", "current": False, "items": [
            {"token": "[Image 1]", "kind": "image", "label": "ada"},
            {"token": "[Image 2]", "kind": "image", "label": "unnamed image"}]},
        {"name": "set 2", "current": True, "items": [
            {"token": "[Image 1]", "kind": "image", "label": "unnamed image"},
            {"token": "[Image 2]", "kind": "image", "label": "ada"}]},
    ]  # fmt: skip
    assert "asset-" not in json.dumps(sweep.sets)
    assert sweep.lines[0]["label"] == "references=set 1 · watermark=on"
    sweep.vue_remove_set(0)
    assert sweep.count == 2
    assert [x["name"] for x in sweep.sets] == ["set 1"]
    app.close()


@pytest.mark.slow
async def test_start_sends_each_sets_own_content(
    store: LiveStore,
    sandbox_backend: Backend,
    sandbox_key: str,
    exp_settings: dict[str, Any],
) -> None:
    """Two reference sets of the sandbox's demo images: one task per set, each body carrying
    its set's metadata.content[] and the prompt's tokens renumbered for it."""
    sandbox_backend.seed_demo(sandbox_key)
    with sandbox_backend.db.tx() as db:
        rows = db.execute(
            "SELECT a.id, a.name FROM assets a JOIN groups g ON g.id = a.group_id "
            "WHERE a.asset_type = 'Image' AND a.status = 'Active' AND g.group_type = 'AIGC' "
            "ORDER BY a.seq"
        ).fetchall()
    a, b, c = (Ref(str(r[0]), "image", name=str(r[1]), status="Active") for r in rows[:3])
    studio = StudioState(store)
    studio.set_params(ratio="1:1", resolution="480p", duration=4)
    studio.picker.replace_all(Selection([a, b]), "[Image 1] beside [Image 2]")
    state = SweepState(studio, launch_settings={**exp_settings, "follow_timeout": 30.0})
    assert state.add_current_set()
    studio.picker.move(0, 1)  # [b, a]: the picker renumbers the prompt
    studio.picker.replace_all(Selection([b, a, c]), studio.picker.prompt)
    assert state.add_current_set()
    state.set_form(name="two sets", concurrency=2, per_minute=600)
    assert (state.plan.count, state.plan.valid) == (2, 2), state.plan.invalid
    before = _tasks(sandbox_backend)
    run = await state.start()
    assert state.error == "", state.error
    assert run is not None
    await _until(lambda: len([t for t in _tasks(sandbox_backend) if t not in before]) == 2)
    with sandbox_backend.db.tx() as db:
        bodies = [
            json.loads(str(r[1]))
            for r in db.execute("SELECT id, body FROM tasks ORDER BY created").fetchall()
            if str(r[0]) not in before
        ]
    sent = sorted(
        (body["prompt"], [item["image_url"]["url"] for item in body["metadata"]["content"]])
        for body in bodies
    )
    assert sent == sorted(
        [
            ("[Image 1] beside [Image 2]", [a.url, b.url]),
            ("[Image 2] beside [Image 1]", [b.url, a.url, c.url]),
        ]
    )
    await _until(lambda: run.progress().done, seconds=120)
    from orca_nb.experiments import shutdown

    shutdown()
    state.release()
