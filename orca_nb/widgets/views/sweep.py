"""The studio's Sweep tab: vary the studio's current request, see the plan, start it on DBOS and
follow it with the experiment progress widget (:mod:`orca_nb.widgets.views.experiment`)."""

from __future__ import annotations

import contextlib
from typing import Any

import traitlets
from ipywidgets import widget_serialization

from orca_nb import wire
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.state.experiment import ProgressFigures
from orca_nb.widgets.state.studio import StudioState
from orca_nb.widgets.state.sweep import (
    CONCURRENCY_RANGE,
    PER_MINUTE_RANGE,
    ReferenceSet,
    SweepState,
    VariantLine,
    set_name,
)
from orca_nb.widgets.views.base import Panel, options, template
from orca_nb.widgets.views.compare import CompareView
from orca_nb.widgets.views.experiment import ExperimentProgressView

#: The form's traits, synced to the state as they change in the page.
FORM = (
    "name", "prompt_mode", "prompts_text", "template_text", "seeds_text", "durations", "ratios",
    "resolutions", "models", "audio", "watermarks", "concurrency", "per_minute",
)  # fmt: skip
#: What the reference sets are, under their heading.
SETS_HELP = (
    "Alternative selections of references, one variant per set: pick references in the studio, "
    "add them here, change the selection, add again. The prompt's [Image N] tokens follow their "
    "asset into each set (numbered anew there); a set that lacks an asset the prompt names makes "
    "an invalid variant."
)


def _line(line: VariantLine) -> dict[str, Any]:
    return {
        "label": line.label,
        "valid": line.valid,
        "reasons": list(line.reasons),
        "tokens": line.tokens,
    }


def _set(chosen: ReferenceSet) -> dict[str, Any]:
    return {
        "name": chosen.name,
        "current": chosen.current,
        "items": [{"token": i.token, "kind": i.kind, "label": i.label} for i in chosen.items],
    }


class SweepView(Panel):
    """What varies, the variants and their cost, Start (with its question), and the progress of
    the sweep started here (``.state``: :class:`SweepState`; ``.progress``: the progress view)."""

    template_file = template("sweep.vue")
    name = traitlets.Unicode("").tag(sync=True)
    prompt_mode = traitlets.Unicode("list").tag(sync=True)
    prompts_text = traitlets.Unicode("").tag(sync=True)
    template_text = traitlets.Unicode("").tag(sync=True)
    table: traitlets.List[Any] = traitlets.List().tag(sync=True)
    fields: traitlets.List[Any] = traitlets.List().tag(sync=True)
    seeds_text = traitlets.Unicode("").tag(sync=True)
    durations: traitlets.List[Any] = traitlets.List().tag(sync=True)
    ratios: traitlets.List[Any] = traitlets.List().tag(sync=True)
    resolutions: traitlets.List[Any] = traitlets.List().tag(sync=True)
    models: traitlets.List[Any] = traitlets.List().tag(sync=True)
    audio: traitlets.List[Any] = traitlets.List().tag(sync=True)
    watermarks: traitlets.List[Any] = traitlets.List().tag(sync=True)
    # Any, not Int: a cleared number field sends "" (Start then says what to type)
    concurrency = traitlets.Any(4).tag(sync=True)
    per_minute = traitlets.Any(30).tag(sync=True)
    duration_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    ratio_choices: traitlets.List[Any] = traitlets.List(options(wire.RATIOS)).tag(sync=True)
    resolution_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    model_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    audio_choices: traitlets.List[Any] = traitlets.List(
        [{"title": "audio", "value": True}, {"title": "silent", "value": False}]
    ).tag(sync=True)
    watermark_choices: traitlets.List[Any] = traitlets.List(
        [{"title": "watermark", "value": True}, {"title": "no watermark", "value": False}]
    ).tag(sync=True)
    # the reference sets: [{name, current, items: [{token, kind, label}]}] (no ids)
    sets: traitlets.List[Any] = traitlets.List().tag(sync=True)
    sets_help = traitlets.Unicode(SETS_HELP).tag(sync=True)
    sets_note = traitlets.Unicode("").tag(sync=True)  # why "add" did nothing
    add_set_text = traitlets.Unicode("").tag(sync=True)
    current_is_set = traitlets.Bool(False).tag(sync=True)  # the studio's selection is a set
    sets_hint = traitlets.Unicode("").tag(sync=True)  # why "add" is disabled
    limits_text = traitlets.Unicode("").tag(sync=True)
    base_text = traitlets.Unicode("").tag(sync=True)  # the studio request every variant varies
    count = traitlets.Int(0).tag(sync=True)
    valid_count = traitlets.Int(0).tag(sync=True)
    lines: traitlets.List[Any] = traitlets.List().tag(sync=True)
    more_lines = traitlets.Int(0).tag(sync=True)
    invalid: traitlets.List[Any] = traitlets.List().tag(sync=True)
    cost_text = traitlets.Unicode("").tag(sync=True)
    refused = traitlets.Unicode("").tag(sync=True)
    confirm_text = traitlets.Unicode("").tag(sync=True)
    problem = traitlets.Unicode("").tag(sync=True)
    missing = traitlets.Unicode("").tag(sync=True)  # dbos is not installed: how to install it
    confirming = traitlets.Bool(False).tag(sync=True)
    starting = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    progress = traitlets.Instance(ExperimentProgressView, allow_none=True).tag(
        sync=True, **widget_serialization
    )
    # the compare grid of the sweep shown (after "Compare"), in the tab
    grid = traitlets.Instance(CompareView, allow_none=True).tag(sync=True, **widget_serialization)

    def __init__(
        self,
        store: LiveStore,
        studio: StudioState,
        *,
        state: SweepState | None = None,
        progress_interval: float = 1.0,
        **kw: Any,
    ) -> None:
        self.state = state or SweepState(studio)
        self._rendering = False
        self._progress_interval = progress_interval
        self._reloaded: set[str] = set()  # runs whose end re-read the studio's history
        super().__init__(store, **kw)
        self._base: Any = None
        self.listen(self.state.on_change(self.render))
        self.listen(studio.on_change(self._studio_moved))
        self.listen(studio.picker.on_change(self._studio_moved))
        self.render()
        with contextlib.suppress(RuntimeError):  # no loop: the plan shows no balance
            self.run(self.state.load_balance())

    def render(self) -> None:
        """Re-read the sweep state (and the studio's request it varies)."""
        s = self.state
        studio = s.studio
        plan = s.plan
        spec = studio.spec
        self._rendering = True
        try:
            with self.hold_sync():
                for name in FORM:
                    setattr(self, name, getattr(s, name))
                self.table = [dict(r) for r in s.table]
                self.fields = list(s.fields)
                self.sets = [_set(x) for x in s.sets()]
                self.sets_note = s.sets_note
                current = s.current_set()
                self.current_is_set = current is not None
                n = len(s.reference_sets)
                self.add_set_text = (
                    f"Add the studio's current selection as {set_name(n)}"
                    if n
                    else "Use the studio's current selection as set 1"
                )
                self.sets_hint = (
                    f"The studio's selection is {set_name(current)}: change it in the studio "
                    "(add, remove or reorder references) to add another set."
                    if current is not None
                    else ""
                )
                if spec is not None:
                    self.duration_choices = options(range(spec.min_seconds, spec.max_seconds + 1))
                    self.resolution_choices = options(spec.resolutions)
                self.model_choices = [
                    {"title": m.label, "value": m.id} for m in studio.models if m.routable
                ]
                p = studio.params
                prompt = studio.picker.prompt.strip() or "(no prompt yet)"
                self.base_text = (
                    f"Varies the studio's request: {prompt[:80]} · {p.model} · {p.text()}; "
                    "an empty choice below keeps the studio's value."
                )
                self.limits_text = (
                    f"Concurrency {CONCURRENCY_RANGE[0]}-{CONCURRENCY_RANGE[1]} running "
                    f"variants; {PER_MINUTE_RANGE[0]}-{PER_MINUTE_RANGE[1]} submits per minute "
                    "(the account's queue, shared by every kernel and worker)."
                )
                self.count, self.valid_count = plan.count, plan.valid
                self.lines = [_line(x) for x in plan.lines]
                self.more_lines = max(0, plan.count - len(plan.lines))
                self.invalid = [_line(x) for x in plan.invalid]
                self.cost_text = plan.cost_text
                self.refused = plan.refused
                self.confirm_text = plan.confirm_text
                self.problem = s.problem
                self.missing = s.missing
                self.confirming = s.confirming
                self.starting = s.starting
                self.error, self.advice = s.error, s.advice
                self.notice = s.notice
        finally:
            self._rendering = False
        self._show_run()

    def _studio_moved(self) -> None:
        """The studio changed: re-plan when the request the sweep varies changed (not on every
        task update the studio hears)."""
        studio = self.state.studio
        picker = studio.picker
        base = (studio.params, picker.prompt, picker.selection, picker.mode, len(studio.models))
        if base != self._base:
            self._base = base
            self.state.replan()

    def _show_run(self) -> None:
        """The progress widget of the run started here (a new one for a new run)."""
        run = self.state.run
        if run is None:
            return
        shown = self.progress
        if shown is not None and shown.state.run is run:
            return
        view = ExperimentProgressView(run, home=self.store.home, interval=self._progress_interval)
        view.state.subscribe(self._progress_moved)
        self.progress = view
        if shown is not None:
            shown.close()
        if self.grid is not None and self.grid.state.experiment_id != run.experiment_id:
            self._close_grid()  # another sweep's grid

    def vue_compare(self, _data: Any = None) -> None:
        """ "Compare": the shown sweep's result videos in the compare grid, under its progress
        (filled as its variants finish; pressing again reads it again)."""
        from orca_nb.ledger import readable_ledger

        run = self.state.run
        if run is None:
            return
        grid = self.grid
        if grid is not None and grid.state.experiment_id == run.experiment_id:
            self.run(grid.refresh())
            return
        self._close_grid()
        grid = CompareView(
            run, self.store, ledger=readable_ledger(self.store.client.ledger), interval=2.0
        )
        self.grid = grid
        self.run(self._first_read(grid))

    @staticmethod
    async def _first_read(grid: CompareView) -> None:
        await grid.state.load()
        grid.follow()

    def _close_grid(self) -> None:
        grid, self.grid = self.grid, None
        if grid is not None:
            grid.close()

    def _progress_moved(self, figures: ProgressFigures) -> None:
        """Progress refreshed (on the home loop): once the sweep is done, the studio's history
        reads the ledger again so its runs are listed there too."""
        run = self.state.run
        if figures.done and run is not None and run.experiment_id not in self._reloaded:
            self._reloaded.add(run.experiment_id)
            self.run(self.state.studio.load_history())

    @traitlets.observe(*FORM)
    def _on_form(self, change: dict[str, Any]) -> None:
        if self._rendering:
            return
        value = change["new"]
        if change["name"] in ("concurrency", "per_minute"):
            whole = isinstance(value, int | float) and not isinstance(value, bool)
            value = int(value) if whole and float(value).is_integer() else 0
        self.state.set_form(**{change["name"]: value})

    def vue_set_cell(self, data: dict[str, Any]) -> None:
        """A cell of the template table: ``{"row", "field", "value"}``."""
        self.state.set_cell(int(data["row"]), str(data["field"]), str(data.get("value") or ""))

    def vue_add_row(self, _data: Any = None) -> None:
        """ "Add row" under the template table."""
        self.state.add_row()

    def vue_remove_row(self, row: int) -> None:
        """The close icon of a table row."""
        self.state.remove_row(int(row))

    def vue_add_set(self, _data: Any = None) -> None:
        """ "Add the current selection as set N": the studio's selection becomes a set."""
        self.state.add_current_set()

    def vue_remove_set(self, index: int) -> None:
        """The close icon of a reference set."""
        self.state.remove_set(int(index))

    def vue_start(self, _data: Any = None) -> None:
        """Start: checks, then the engine stores and enqueues each variant once."""
        if not self.state.starting:
            self.run(self.state.start())

    def vue_open(self, _data: Any = None) -> None:
        """ "Open": show a stored sweep of this name (after a restart it continues)."""
        if not self.state.starting:
            self.run(self.state.open())

    def vue_confirm_start(self, _data: Any = None) -> None:
        """ "Start, spending ..." on the confirmation question."""
        if not self.state.starting:
            self.run(self.state.start(confirmed=True))

    def vue_cancel_start(self, _data: Any = None) -> None:
        """ "Cancel" on the confirmation question."""
        self.state.cancel_confirm()

    def vue_refresh_balance(self, _data: Any = None) -> None:
        """Read the balance again."""
        self.run(self.state.load_balance())

    def close(self) -> None:
        """Close the tab and its progress widget (a running sweep goes on: it is durable)."""
        if self.progress is not None:
            self.progress.close()
        self._close_grid()
        super().close()
