"""Asset picker and studio views."""

from __future__ import annotations

from typing import Any

import ipywidgets
import traitlets
from ipywidgets import widget_serialization

from orca_nb import wire
from orca_nb.widgets.state.picker import PickerState
from orca_nb.widgets.state.studio import StudioState
from orca_nb.widgets.store import LiveStore, StoreChange
from orca_nb.widgets.views.base import Panel, template

CHOICES = 12  # asset suggestions sent to the browser at once


class PickerView(Panel):
    """Pick Active assets (search) and URLs; reorder/remove; tokens insert at the cursor."""

    template_file = template("picker.vue")
    prompt = traitlets.Unicode("").tag(sync=True)
    items: traitlets.List[Any] = traitlets.List().tag(sync=True)
    messages: traitlets.List[Any] = traitlets.List().tag(sync=True)
    content_json = traitlets.Unicode("[]").tag(sync=True)
    choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    asset_search = traitlets.Unicode("", allow_none=True).tag(sync=True)
    url_input = traitlets.Unicode("", allow_none=True).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        store: LiveStore,
        state: PickerState | None = None,
        *,
        issues: Any = None,
        **kw: Any,
    ) -> None:
        self.state = state or PickerState()
        self._issues = issues  # callable returning compose Issues (the studio passes its own)
        self._rendering = False
        super().__init__(store, **kw)
        self.listen(self.state.on_change(self.render))
        self.render()

    def render(self) -> None:
        """Re-read the picker state."""
        s = self.state
        self._rendering = True
        try:
            with self.hold_sync():
                self.prompt = s.prompt
                self.items = [
                    {"index": i.index, "token": i.token, "label": i.label, "kind": i.kind}
                    for i in s.items()
                ]
                self.content_json = s.content_json()
                found = self._issues() if self._issues is not None else []
                self.messages = [{"level": i.level, "message": i.message} for i in found]
                self.error, self.advice = s.error, s.advice
                self._render_choices()
        finally:
            self._rendering = False

    def _render_choices(self) -> None:
        needle = (self.asset_search or "").strip().lower()
        picked = {i.source for i in self.state.items()}
        rows = [
            a
            for a in self.store.assets.values()
            if a.status == "Active" and a.id not in picked and needle in a.name.lower()
        ]
        rows.sort(key=lambda a: (a.create_time, a.id), reverse=True)
        self.choices = [
            {"id": a.id, "label": f"{a.asset_type}: {a.name or a.id}"} for a in rows[:CHOICES]
        ]

    def on_store(self, change: StoreChange) -> None:
        """New or changed assets: refresh the suggestions."""
        if change.table == "assets":
            self._render_choices()

    @traitlets.observe("prompt")
    def _typed(self, change: dict[str, Any]) -> None:
        if not self._rendering and change["new"] != self.state.prompt:
            self.state.set_prompt(change["new"])

    @traitlets.observe("asset_search")
    def _searched(self, _change: dict[str, Any]) -> None:
        self._render_choices()

    def vue_add_asset(self, asset_id: str) -> None:
        """Chip of a suggestion: add that asset."""
        row = self.store.assets.get(asset_id)
        if row is not None:
            self.state.add_asset(row)

    def vue_add_url(self, _data: Any = None) -> None:
        """Add URL button."""
        if self.state.add_url(self.url_input or ""):
            self.url_input = ""

    def vue_remove(self, index: int) -> None:
        """Close icon of an item."""
        self.state.remove(int(index))

    def vue_move(self, data: dict[str, int]) -> None:
        """Arrow icons: ``{"from": i, "to": j}``."""
        self.state.move(int(data["from"]), int(data["to"]))

    def vue_insert_token(self, data: dict[str, Any]) -> None:
        """Token chip: ``{"token": "[Image 1]", "cursor": n}`` from the textarea's selection."""
        self.state.insert(str(data["token"]), int(data.get("cursor", len(self.state.prompt))))


class StudioView(Panel):
    """Prompt + picker + parameters + Submit; status, progress, errors, the video, run history."""

    template_file = template("studio.vue")
    picker = traitlets.Instance(PickerView).tag(sync=True, **widget_serialization)
    player = traitlets.Instance(ipywidgets.Video, allow_none=True).tag(
        sync=True, **widget_serialization
    )
    ratio = traitlets.Unicode("").tag(sync=True)
    duration = traitlets.Int(5).tag(sync=True)
    resolution = traitlets.Unicode("").tag(sync=True)
    seed = traitlets.Int(-1).tag(sync=True)
    generate_audio = traitlets.Bool(True).tag(sync=True)
    watermark = traitlets.Bool(False).tag(sync=True)
    ratios: traitlets.List[Any] = traitlets.List(list(wire.RATIOS)).tag(sync=True)
    durations: traitlets.List[Any] = traitlets.List().tag(sync=True)
    resolutions: traitlets.List[Any] = traitlets.List().tag(sync=True)
    submitting = traitlets.Bool(False).tag(sync=True)
    blocked = traitlets.Bool(False).tag(sync=True)
    task_status = traitlets.Unicode("").tag(sync=True)
    task_advice = traitlets.Unicode("").tag(sync=True)
    task_running = traitlets.Bool(False).tag(sync=True)
    progress = traitlets.Int(0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    runs: traitlets.List[Any] = traitlets.List().tag(sync=True)

    def __init__(self, store: LiveStore, state: StudioState | None = None, **kw: Any) -> None:
        self.state = state or StudioState(store)
        self._rendering = False
        self._shown_video: str | None = None
        picker = PickerView(store, self.state.picker, issues=self.state.issues)
        spec = wire.MODELS[self.state.params.model]
        super().__init__(
            store,
            picker=picker,
            durations=list(range(spec.min_seconds, spec.max_seconds + 1)),
            resolutions=list(spec.resolutions),
            **kw,
        )
        self.listen(self.state.on_change(self.render))
        self.listen(self.state.picker.on_change(self._picker_state_moved))
        self.render()

    def _picker_state_moved(self) -> None:
        self.blocked = self.state.blocked()

    def render(self) -> None:
        """Re-read the studio state."""
        s = self.state
        p = s.params
        task = s.task()
        self._rendering = True
        try:
            with self.hold_sync():
                self.ratio, self.duration, self.resolution = p.ratio, p.duration, p.resolution
                self.seed, self.generate_audio, self.watermark = (
                    p.seed,
                    p.generate_audio,
                    p.watermark,
                )
                self.submitting = s.submitting
                self.blocked = s.blocked()
                self.error, self.advice = s.error, s.advice
                self.task_status, self.task_advice = s.task_line()
                if task is None:
                    self.task_running, self.progress = False, 0
                else:
                    self.task_running = task.status not in wire.TERMINAL_TASK_STATUSES
                    self.progress = task.progress
                statuses = {r.task_id: self.store.tasks.get(r.task_id) for r in s.runs}
                self.runs = [
                    {
                        "number": r.number,
                        "task_id": r.task_id,
                        "status": (t.status if (t := statuses[r.task_id]) else "submitted"),
                        "request_json": r.request_json,
                    }
                    for r in reversed(s.runs)
                ]
        finally:
            self._rendering = False
        self.picker.render()
        if task is not None and task.status == "succeeded" and self._shown_video != task.id:
            self._shown_video = task.id
            self.run(self._show_video(task.id))

    async def _show_video(self, task_id: str) -> None:
        data = await self.state.result_video(task_id)
        # the bytes travel over the widget comm; the browser plays them from a blob URL
        self.player = ipywidgets.Video(
            value=data,
            format="mp4",
            autoplay=True,
            loop=False,
            layout=ipywidgets.Layout(width="100%", max_width="640px"),
        )

    def on_store(self, change: StoreChange) -> None:
        """Task moved: re-render status and progress."""
        if change.table == "tasks":
            self.render()
        elif change.table == "assets":
            self.picker.on_store(change)

    @traitlets.observe("ratio", "duration", "resolution", "seed", "generate_audio", "watermark")
    def _on_param(self, change: dict[str, Any]) -> None:
        if not self._rendering:
            self.state.set_params(**{change["name"]: change["new"]})

    def vue_submit(self, _data: Any = None) -> None:
        """Submit button (a double-click sends one task: the state ignores the second)."""
        if not self.state.submitting:
            self.run(self.state.submit())

    def vue_edit_run(self, number: int) -> None:
        """Edit and re-run: load that run's prompt, references and parameters."""
        self.state.load_run(int(number))

    def close(self) -> None:
        """Close the studio, its picker and its player."""
        self.picker.close()
        if self.player is not None:
            self.player.close()
        super().close()
