"""Asset picker and studio views."""

from __future__ import annotations

import contextlib
from typing import Any

import ipywidgets
import traitlets
from ipywidgets import widget_serialization

from orca_nb import wire
from orca_nb.client.models import VideoModel
from orca_nb.compose.cost import TokenEstimate, estimate_tokens, tokens_text
from orca_nb.widgets.advice import UNKNOWN_OUTCOME_TEXT, unknown_video_advice
from orca_nb.widgets.live import LiveStore, StoreChange
from orca_nb.widgets.rows import AssetRow, TaskRow
from orca_nb.widgets.state.picker import PickerState
from orca_nb.widgets.state.studio import Run, StudioState, Unsettled
from orca_nb.widgets.thumbs import loader_for
from orca_nb.widgets.views.base import Panel, template
from orca_nb.widgets.views.video import video_player

CHOICES = 12  # asset suggestions sent to the browser at once


class PickerView(Panel):
    """Pick Active assets (search) and URLs; reorder/remove; tokens insert at the cursor."""

    template_file = template("picker.vue")
    prompt = traitlets.Unicode("").tag(sync=True)
    items: traitlets.List[Any] = traitlets.List().tag(sync=True)
    messages: traitlets.List[Any] = traitlets.List().tag(sync=True)
    content_json = traitlets.Unicode("[]").tag(sync=True)
    choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    choices_note = traitlets.Unicode("").tag(sync=True)
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
        self._thumbs = loader_for(store)  # shared with the assets panel's cards
        super().__init__(store, **kw)
        self.listen(self._thumbs.on_thumb(self._thumb_made))
        self.listen(self.state.on_change(self.render))
        self.render()

    def render(self) -> None:
        """Re-read the picker state (the prompt's messages once it was edited or submitted)."""
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
                found = self._issues() if self._issues is not None and s.touched else []
                self.messages = [{"level": i.level, "message": i.message} for i in found]
                self.error, self.advice = s.error, s.advice
                self._render_choices()
        finally:
            self._rendering = False

    def _render_choices(self) -> None:
        rows = choices_for(
            self.store, self.asset_search or "", {i.source for i in self.state.items()}
        )
        shown = rows[:CHOICES]
        for row in shown:
            if self._thumbs.claim(row):
                self.run(self._thumb(row))
        self.choices = [
            {
                "id": a.id,
                "label": f"{a.asset_type}: {a.name or a.id}",
                "thumb": self._thumbs.cached(a.id) or "",
                "icon": _TYPE_ICON.get(a.asset_type, "mdi-file"),
            }
            for a in shown
        ]
        self.choices_note = choices_note(len(shown), len(rows), bool(self.asset_search))

    async def _thumb(self, row: AssetRow) -> None:
        await self._thumbs.load(row)  # listeners (this picker's _thumb_made among them) hear it

    def _thumb_made(self, asset_id: str, uri: str) -> None:
        if any(c["id"] == asset_id for c in self.choices):
            self.choices = [{**c, "thumb": uri} if c["id"] == asset_id else c for c in self.choices]

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


_TYPE_ICON = {"Image": "mdi-image", "Video": "mdi-filmstrip", "Audio": "mdi-music"}


def choices_for(store: LiveStore, search: str, picked: set[str]) -> list[AssetRow]:
    """Every Active asset not picked yet whose name, id or group name holds ``search`` (any
    case), newest first: the search reaches the whole library, not only the chips shown."""
    needle = search.strip().lower()
    groups = {g.id: g.name.lower() for g in store.groups.values()}
    rows = [
        a
        for a in store.assets.values()
        if a.status == "Active"
        and a.id not in picked
        and (
            not needle
            or needle in a.name.lower()
            or needle in a.id.lower()
            or needle in groups.get(a.group_id, "")
        )
    ]
    rows.sort(key=lambda a: (a.create_time, a.id), reverse=True)
    return rows


def choices_note(shown: int, total: int, searching: bool) -> str:
    """What the chips are out of: "" when all are shown."""
    if total == 0:
        return "No Active asset matches this search." if searching else "No Active assets yet."
    if shown >= total:
        return ""
    more = "refine the search" if searching else "type a name to find the others"
    return f"Showing the newest {shown} of {total} Active assets: {more}."


class StudioView(Panel):
    """Prompt + picker + parameters + Submit; status, progress, errors, the video, run history."""

    template_file = template("studio.vue")
    picker = traitlets.Instance(PickerView).tag(sync=True, **widget_serialization)
    player = traitlets.Instance(ipywidgets.Video, allow_none=True).tag(
        sync=True, **widget_serialization
    )
    model = traitlets.Unicode("").tag(sync=True)
    model_choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    model_note = traitlets.Unicode("").tag(sync=True)  # where the models and limits come from
    estimate = traitlets.Unicode("").tag(sync=True)  # the request's tokens, by the rule
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
    prompt_touched = traitlets.Bool(False).tag(sync=True)  # Submit greys out only after an edit
    task_status = traitlets.Unicode("").tag(sync=True)
    task_advice = traitlets.Unicode("").tag(sync=True)
    task_running = traitlets.Bool(False).tag(sync=True)
    progress = traitlets.Int(0).tag(sync=True)
    task_started_ms = traitlets.Float(0.0).tag(sync=True)  # epoch ms the current run was sent
    task_ended_ms = traitlets.Float(0.0).tag(sync=True)  # epoch ms it was seen ending (0: not)
    error = traitlets.Unicode("").tag(sync=True)
    advice = traitlets.Unicode("").tag(sync=True)
    runs: traitlets.List[Any] = traitlets.List().tag(sync=True)
    confirming = traitlets.Bool(False).tag(sync=True)
    repeat_text = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)  # a transient "what just happened" line
    history_player = traitlets.Instance(ipywidgets.Video, allow_none=True).tag(
        sync=True, **widget_serialization
    )
    history_run = traitlets.Int(0).tag(sync=True)  # the run whose video history_player holds
    history_loading = traitlets.Int(0).tag(sync=True)
    history_key = traitlets.Unicode("").tag(sync=True)  # Run.key of history_player's video
    history_loading_key = traitlets.Unicode("").tag(sync=True)  # Run.key being fetched
    history_error = traitlets.Unicode("").tag(sync=True)  # why the last play failed, in words
    history_more = traitlets.Bool(False).tag(sync=True)  # the ledger holds older runs
    history_experiments = traitlets.Bool(True).tag(sync=True)  # list experiments' runs too
    history_note = traitlets.Unicode("").tag(sync=True)  # e.g. no ledger: this session only
    #: submissions whose outcome is unknown (this kernel's and earlier ones'), with their actions
    unknowns: traitlets.List[Any] = traitlets.List().tag(sync=True)
    asking_not_created = traitlets.Unicode("").tag(sync=True)  # the submission it asks about

    def __init__(self, store: LiveStore, state: StudioState | None = None, **kw: Any) -> None:
        self.state = state or StudioState(store)
        self._rendering = False
        self._shown_video: str | None = None
        picker = PickerView(store, self.state.picker, issues=self.state.issues)
        super().__init__(store, picker=picker, **kw)
        self.listen(self.state.on_change(self.render))
        self.listen(self.state.picker.on_change(self._picker_state_moved))
        self.render()
        with contextlib.suppress(RuntimeError):  # no loop: the built-in table stays
            self.run(self.state.load_models())
        with contextlib.suppress(RuntimeError):  # no loop: only this kernel's are listed
            self.run(self.state.load_unsettled())
        with contextlib.suppress(RuntimeError):  # no loop: this session's runs only
            self.run(self.state.load_history())

    def _picker_state_moved(self) -> None:
        self.blocked = self.state.blocked()
        self.prompt_touched = self.state.picker.touched
        self.estimate = estimate_text(self.state.estimate())

    def _render_model(self) -> None:
        """The model choice and the limits of the chosen model (the service's, else the table's)."""
        s = self.state
        self.model = s.params.model
        self.model_choices = [
            {"title": m.label if m.routable else f"{m.label} (not available)", "value": m.id}
            for m in s.offered()
        ]
        self.model_note = model_note(s.models)
        spec = s.spec
        if spec is not None:
            self.durations = list(range(spec.min_seconds, spec.max_seconds + 1))
            self.resolutions = list(spec.resolutions)
        self.estimate = estimate_text(s.estimate())

    def render(self) -> None:
        """Re-read the studio state."""
        s = self.state
        p = s.params
        task = s.task()
        self._rendering = True
        try:
            with self.hold_sync():
                self._render_model()
                self.ratio, self.duration, self.resolution = p.ratio, p.duration, p.resolution
                self.seed, self.generate_audio, self.watermark = (
                    p.seed,
                    p.generate_audio,
                    p.watermark,
                )
                self.submitting = s.submitting
                self.blocked = s.blocked()
                self.prompt_touched = s.picker.touched
                self.error, self.advice = s.error, s.advice
                self.task_status, self.task_advice = s.task_line()
                if task is None:
                    self.task_running, self.progress = False, 0
                    self.task_started_ms = self.task_ended_ms = 0.0
                else:
                    self.task_running = task.status not in wire.TERMINAL_TASK_STATUSES
                    self.progress = task.progress
                    run = s.runs[-1] if s.runs and s.runs[-1].task_id == task.id else None
                    self.task_started_ms = run.submitted_at * 1000 if run else 0.0
                    self.task_ended_ms = s.ended.get(task.id, 0.0) * 1000
                self.confirming = s.confirming
                self.notice = s.notice
                self.repeat_text = s.repeat_reason if s.confirming else ""
                self.runs = [
                    run_entry(r, self.store.tasks.get(r.task_id) if r.task_id else None, s)
                    for r in s.history()
                ]
                self.history_more = s.history_more
                self.history_experiments = s.history_experiments
                self.history_note = s.history_note
                self.unknowns = [
                    {**unknown_entry(u, self.store), "busy": u.submission_id in s.settling}
                    for u in s.unknowns
                ]
                self.asking_not_created = s.asking_not_created
        finally:
            self._rendering = False
        self.picker.render()
        if task is not None and task.status == "succeeded" and self._shown_video != task.id:
            self._shown_video = task.id
            self.run(self._show_video(task.id))

    async def _show_video(self, task_id: str) -> None:
        data = await self.state.result_video(task_id)
        old, self.player = self.player, video_player(data, controls=True, autoplay=True)
        if old is not None:
            old.close()

    async def _show_history(self, key: str) -> None:
        run = self.state.run_of(key)
        try:
            if run is None:
                raise ValueError(f"no run {key} in the history")
            data = await self.state.history_video(run.key)
        except Exception as exc:  # e.g. the task expired at the service: said under the run
            self.history_error = f"Could not play it: {exc}"
            return
        finally:
            self.history_loading = 0
            self.history_loading_key = ""
        player = video_player(data, controls=True, autoplay=True)
        old, self.history_player = self.history_player, player
        self.history_run, self.history_key = run.number, run.key
        if old is not None:
            old.close()

    def on_store(self, change: StoreChange) -> None:
        """Task moved: the state notes it (and re-renders when it is one of our runs)."""
        if change.table == "tasks":
            self.state.on_store(change)
        elif change.table == "assets":
            self.picker.on_store(change)

    @traitlets.observe("ratio", "duration", "resolution", "seed", "generate_audio", "watermark")
    def _on_param(self, change: dict[str, Any]) -> None:
        if not self._rendering:
            self.state.set_params(**{change["name"]: change["new"]})

    @traitlets.observe("model")
    def _on_model(self, change: dict[str, Any]) -> None:
        if not self._rendering and change["new"]:
            self.state.set_model(str(change["new"]))

    @traitlets.observe("notice")
    def _on_notice(self, change: dict[str, Any]) -> None:
        self.state.notice = change["new"]

    @traitlets.observe("history_experiments")
    def _on_history_filter(self, change: dict[str, Any]) -> None:
        if not self._rendering and bool(change["new"]) != self.state.history_experiments:
            self.run(self.state.show_experiment_runs(bool(change["new"])))

    def vue_more_history(self, _data: Any = None) -> None:
        """ "Show more": the next page of earlier runs from the ledger."""
        self.run(self.state.load_history(more=True))

    def vue_reload_history(self, _data: Any = None) -> None:
        """Refresh icon of the history: read the ledger's newest runs again."""
        self.run(self.state.load_history())

    def vue_submit(self, _data: Any = None) -> None:
        """Submit button (a double-click sends one task: the state ignores the second; the same
        request again within seconds asks first)."""
        if not self.state.submitting:
            self.run(self.state.submit())

    def vue_submit_again(self, _data: Any = None) -> None:
        """ "Send again" on the repeat question: the person means it."""
        if not self.state.submitting:
            self.run(self.state.submit(confirmed=True))

    def vue_cancel_repeat(self, _data: Any = None) -> None:
        """ "Cancel" on the repeat question."""
        self.state.cancel_repeat()

    def vue_edit_run(self, number: int | str) -> None:
        """Edit and re-run: load that run's prompt, references and parameters (``number``:
        this session's run number, or a history key)."""
        self.state.load_run(_run_ref(number))

    def vue_attach_task(self, data: dict[str, Any]) -> None:
        """ "Attach task id" under an unknown outcome: ``{"submission_id", "task_id"}``."""
        self.run(self.state.attach_task(str(data["submission_id"]), str(data.get("task_id") or "")))

    def vue_not_created(self, submission_id: str) -> None:
        """ "It was not created": asks once (the state's question) before it settles."""
        self.state.ask_not_created(str(submission_id))

    def vue_confirm_not_created(self, submission_id: str) -> None:
        """ "Yes, not created" on the question: settle the ledger row as not created."""
        self.run(self.state.mark_not_created(str(submission_id), confirmed=True))

    def vue_cancel_not_created(self, _data: Any = None) -> None:
        """ "Cancel" on the question."""
        self.state.cancel_not_created()

    def vue_play_run(self, number: int | str) -> None:
        """Play a run of the history: its video is fetched by the kernel now (on demand); a run
        from the ledger gets a fresh result link from the service first. ``number``: this
        session's run number, or a history key."""
        if self.history_loading_key:
            return
        run = self.state.run_of(_run_ref(number))
        if run is None:
            return
        self.history_loading, self.history_loading_key = run.number, run.key
        self.history_error = ""
        self.run(self._show_history(run.key))

    def close(self) -> None:
        """Close the studio, its picker and its players."""
        self.picker.close()
        for player in (self.player, self.history_player):
            if player is not None:
                player.close()
        super().close()


def _run_ref(value: int | str) -> int | str:
    """A run number (int, or digits from the page) or a history key."""
    if isinstance(value, bool):
        raise TypeError("a run is named by its number or history key")
    if isinstance(value, int | float):
        return int(value)
    text = str(value)
    return int(text) if text.isdigit() else text


def model_note(models: list[VideoModel]) -> str:
    """Where the model list and its limits come from, when that is not the service."""
    if models and all(m.source == "table" for m in models):
        return "Models and limits from orca_nb's built-in table: the service lists none."
    return ""


def estimate_text(found: TokenEstimate | None) -> str:
    """The request's tokens in words, marked as an estimate (a lower bound when it is one)."""
    if found is None:
        return ""
    if found.lower_bound:
        return (
            f"Estimate: at least {found.tokens:,} tokens (a reference video's length is not "
            "known here, counted at its shortest)."
        )
    return f"Estimate: about {found.tokens:,} tokens for this request (the documented rule)."


def _estimated(body: dict[str, Any]) -> str:
    """``"~108,900 tokens (estimate), "`` for a request, or "tokens " when it cannot be."""
    try:
        return estimate_tokens(body).describe() + ", "
    except Exception:  # an odd body is no reason for an error in the history
        return "tokens "


def unknown_entry(entry: Unsettled, store: LiveStore) -> dict[str, Any]:
    """What the page shows of a submission whose outcome is unknown, and which actions it has."""
    task = store.tasks.get(entry.task_id) if entry.task_id else None
    if entry.state == "attached":
        text = f"Task {entry.task_id} attached" + (f": {task.status}" if task else "")
    elif entry.state == "not_created":
        text = "Not created (settled)"
    else:
        text = f"{UNKNOWN_OUTCOME_TEXT}."
    return {
        "submission_id": entry.submission_id or "",
        "run": entry.run,
        "prompt": entry.prompt,
        "at_ms": entry.submitted_at * 1000,
        "state": entry.state,
        "text": text,
        "advice": unknown_video_advice(entry.submission_id) if entry.state == "unknown" else "",
        "note": entry.note,
        "detail": entry.detail,
        "settleable": entry.settleable,
    }


#: How the history names a ledger status that is not a task's.
LEDGER_STATUS_TEXT = {
    "submitting": "sending (no reply recorded)",
    "rejected": "refused by the service",
}


def run_entry(run: Run, task: TaskRow | None, state: StudioState) -> dict[str, Any]:
    """What the history shows of one run: prompt, time, parameters, status, tokens, JSON. A run
    read from the ledger shows what the ledger recorded unless the store follows its task."""
    rec = run.recorded
    status = task.status if task else (rec.status if rec else "submitted")
    status = LEDGER_STATUS_TEXT.get(status, status)
    if run.outcome == "unknown":
        status = UNKNOWN_OUTCOME_TEXT
    elif run.outcome == "not_created":
        status = "not created (settled)"
    if run.outcome or (rec and not run.task_id):
        tokens = "no task known: no tokens reported"
    elif task is not None and task.tokens is not None:
        tokens = tokens_text(task.tokens, wire.TOKENS_REPORTED)
    elif rec is not None and rec.tokens is not None and rec.tokens_source == wire.TOKENS_REPORTED:
        tokens = tokens_text(rec.tokens, wire.TOKENS_REPORTED)
    elif rec is not None and rec.tokens is not None and status == "succeeded":
        source = rec.tokens_source or wire.TOKENS_ESTIMATED
        tokens = f"{tokens_text(rec.tokens, source)}, not reported by the service"
    elif status == "succeeded":
        tokens = f"{_estimated(run.request)}not reported by the service"
    elif status in wire.TERMINAL_TASK_STATUSES or (rec is not None and rec.status == "rejected"):
        tokens = "tokens not reported by the service"
    else:
        tokens = "tokens when it finishes"
    took = state.elapsed(run.task_id) if run.task_id else None
    ended = run.task_id in state.ended or (rec is not None and rec.finished_at is not None)
    if task is not None:
        error = " ".join(p for p in (task.error_code, task.error_message) if p)
    elif rec is not None and not run.outcome:
        error = " ".join(p for p in (rec.error_code, rec.error_message) if p)
    else:
        error = ""
    playable_status = task.status if task is not None else (rec.status if rec else "")
    return {
        "key": run.key,
        "number": run.number,
        "earlier": rec is not None,
        "experiment": (rec.experiment_id or "") if rec else "",
        "task_id": run.task_id,
        "status": status,
        "prompt": run.prompt,
        "at_ms": run.submitted_at * 1000,
        "params": run.params_text(),
        "label": run.label(),  # prompt, then parameters: as a sweep's variants read
        "tokens": tokens,
        "took": f"{took:.0f} s" if took is not None and ended else "",
        # a ledger run plays through a fresh read of its task (stored links expire)
        "playable": bool(
            playable_status == "succeeded"
            and ((task is not None and task.video_url) or (rec is not None and run.task_id))
        ),
        "error": error[:500],
        "request_json": run.request_json,
    }
