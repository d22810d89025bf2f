"""Studio state: parameters, submit (one task per click burst), the current task, run history.

The exact request JSON of every run is kept so it can be copied, and a run can be loaded back
into the picker and parameters to re-run it with edits. The history also reads the usage ledger
(:meth:`StudioState.load_history`): runs of earlier kernels and of experiments, newest first, a
page at a time, so it survives restarts; without a ledger it lists this session's runs only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from orca_nb import wire
from orca_nb.client.discovery import table_models
from orca_nb.client.errors import NotFoundError, OutcomeUnknownError, ValidationError
from orca_nb.client.models import VideoModel
from orca_nb.compose import Issue, Ref, Selection, build_request, errors, validate
from orca_nb.compose.cost import TokenEstimate, estimate_tokens
from orca_nb.experiments.labels import variant_label
from orca_nb.widgets.advice import (
    UNKNOWN_OUTCOME_TEXT,
    describe_error,
    task_advice,
)
from orca_nb.widgets.live import LiveStore, StoreChange
from orca_nb.widgets.loops import gather_all
from orca_nb.widgets.rows import TaskRow
from orca_nb.widgets.state.base import Observable
from orca_nb.widgets.state.picker import PickerState

if TYPE_CHECKING:
    from orca_nb.ledger import Ledger

_SPEC = wire.MODELS[wire.SEEDANCE_2]
REPEAT_SECONDS = 10.0  # the same body again within this many seconds asks before it is sent
HISTORY_PAGE = 20  # ledger runs read at once ("Show more" reads the next page)
#: The parameters in the order a run's words give them (after its prompt; the model aside).
PARAM_DIMS = ("ratio", "duration", "resolution", "generate_audio", "watermark", "seed")
NO_PROMPT = "(no prompt)"


@dataclass(frozen=True)
class Params:
    """The Seedance parameters the studio offers (defaults: the model's)."""

    model: str = wire.SEEDANCE_2
    ratio: str = _SPEC.default_ratio
    duration: int = _SPEC.default_seconds
    resolution: str = _SPEC.default_resolution
    generate_audio: bool = True
    watermark: bool = False
    seed: int = -1

    def metadata(self) -> dict[str, Any]:
        """The metadata fields (everything but the model)."""
        out = asdict(self)
        del out["model"]
        return out

    def text(self, prompt: str | None = None) -> str:
        """The metadata in a few words, as a sweep's variants read
        (:func:`~orca_nb.experiments.labels.variant_label`: ``9:16 · 5 s · 720p · audio ·
        seed 7``; the model aside, the watermark only when on); a ``prompt`` comes first."""
        values = {"prompt": prompt, **self.metadata()}
        dims = ("prompt", *PARAM_DIMS) if prompt else PARAM_DIMS
        return variant_label(values, dims, skip=() if self.watermark else ("watermark",))

    @classmethod
    def from_metadata(cls, model: str, metadata: Mapping[str, Any]) -> Params:
        """The parameters a request's ``metadata`` sets (the others: defaults; an empty model:
        the default model)."""
        defaults = cls()
        given = {k: metadata[k] for k in defaults.metadata() if k in metadata}
        return replace(defaults, model=model or defaults.model, **given)


@dataclass(frozen=True)
class Recorded:
    """What the usage ledger holds of a run this kernel did not submit (an earlier kernel's, or
    an experiment's): its status, tokens and end as last recorded."""

    status: str
    tokens: int | None = None  # the service's figure, or the ledger's estimate (tokens_source)
    tokens_source: str | None = None  # reported | estimated | estimated_min | None
    estimated_tokens: int | None = None  # the rule's figure at submission
    finished_at: float | None = None  # epoch s
    error_code: str = ""
    error_message: str = ""
    experiment_id: str | None = None
    variant_id: str | None = None


@dataclass(frozen=True)
class Run:
    """One submitted request: what was sent, and what to restore for a re-run. Runs of this
    session are numbered from 1; runs read from the ledger have ``number`` 0 and ``recorded``."""

    number: int
    task_id: str
    request: dict[str, Any]
    prompt: str
    selection: Selection
    params: Params
    mode: str
    submitted_at: float = field(default_factory=time.time)
    submission_id: str | None = None  # the ledger row, when the client keeps a ledger
    outcome: str = ""  # "unknown" (no reply: it may exist), "not_created", or "" (a task)
    recorded: Recorded | None = None  # set on runs read from the ledger

    @property
    def key(self) -> str:
        """The run's id in the history: ``run-<n>`` for this session's, else its submission id."""
        return f"run-{self.number}" if self.number else str(self.submission_id)

    @property
    def request_json(self) -> str:
        """The exact request body, as indented JSON (copyable)."""
        return json.dumps(self.request, indent=2, ensure_ascii=False)

    def params_text(self) -> str:
        """The parameters in a few words (``9:16 · 5 s · 720p · audio · seed 7``)."""
        return self.params.text()

    def label(self) -> str:
        """The run in one line, in the words of a sweep's variant: its prompt (cut), then its
        parameters (``a lighthouse at dawn · 9:16 · 5 s · 720p · audio · seed 7``)."""
        return self.params.text(self.prompt or NO_PROMPT)


@dataclass(frozen=True)
class Unsettled:
    """A video submission whose outcome is unknown: the service may have created it."""

    submission_id: str | None  # its ledger row; None when the client keeps no ledger
    prompt: str
    submitted_at: float
    run: int = 0  # this kernel's run number; 0 for a row an earlier kernel left unsettled
    state: str = "unknown"  # unknown | attached (task id found) | not_created
    task_id: str = ""
    note: str = ""  # the answer to the last action on it, in words
    detail: str = ""  # what the client saw (e.g. "no reply came back (ReadTimeout)")

    @property
    def settleable(self) -> bool:
        """True while a person can attach a task id or say it was not created."""
        return self.submission_id is not None and self.state == "unknown"


class StudioState(Observable):
    """Prompt + picker + parameters -> a Seedance task, followed live through the store."""

    def __init__(self, store: LiveStore, picker: PickerState | None = None) -> None:
        super().__init__()
        self.store = store
        self.picker = picker or PickerState()
        self.params = Params()
        self.submitting = False
        self.current: str | None = None
        self.runs: list[Run] = []
        self.confirming = False  # the same body was sent moments ago: Submit asks first
        self.repeat_reason = ""  # why it asks, in words (set with ``confirming``)
        self._uncertain: dict[str, Any] | None = None  # a body whose sending got no reply
        self.notice = ""  # what the last action did, in words (the view shows it for a while)
        self.ended: dict[str, float] = {}  # task id -> when this kernel saw it end (epoch s)
        self._result: tuple[str, bytes] | None = None
        self.models: list[VideoModel] = table_models()  # until the service's list is read
        self.unknowns: list[Unsettled] = []  # submissions whose outcome is unknown, oldest first
        self.asking_not_created = ""  # the submission id "It was not created" asks about
        self.settling: set[str] = set()  # submission ids whose settle is in flight
        self.earlier: list[Run] = []  # runs read from the ledger, newest first
        self.history_more = False  # the ledger holds older runs than those read
        self.history_experiments = True  # list the runs experiments sent too
        self.history_note = ""  # why the history is what it is (no ledger, a failed read)
        self._history_cursor: tuple[int, str] | None = None  # the last ledger row read
        self._history_reads = 0  # bumps on every (re)load: a stale page is dropped

    # ------------------------------------------------------------------ models
    @property
    def spec(self) -> wire.ModelSpec | None:
        """The chosen model's limits: the service's, else the built-in table's."""
        for m in self.models:
            if m.id == self.params.model:
                return m.spec
        return wire.MODELS.get(self.params.model)

    def offered(self) -> list[VideoModel]:
        """The models a person can choose now (routable), the chosen one always included."""
        return [m for m in self.models if m.routable or m.id == self.params.model]

    async def load_models(self) -> None:
        """Read the service's model list (``client.models.offer()``: never fails, falls back
        to the table); keep the chosen model if it is offered, else take the first routable."""
        self.models = await self.store.gateway.offer_models() or table_models()
        routable = [m for m in self.models if m.routable]
        if routable and self.params.model not in {m.id for m in routable}:
            self.set_model(routable[0].id)
        else:
            self.set_model(self.params.model)

    def set_model(self, model: str) -> None:
        """Choose a model; duration and resolution move into its limits when they were out."""
        self.params = replace(self.params, model=model)
        spec = self.spec
        if spec is not None:
            p = self.params
            duration = min(max(p.duration, spec.min_seconds), spec.max_seconds)
            resolution = (
                p.resolution if p.resolution in spec.resolutions else spec.default_resolution
            )
            if resolution not in spec.resolutions and spec.resolutions:
                resolution = spec.resolutions[0]
            self.params = replace(p, duration=duration, resolution=resolution)
        self.changed()

    def estimate(self) -> TokenEstimate | None:
        """The tokens the request as it stands would bill, by the documented rule (None when
        it cannot be estimated, e.g. an unknown model or ratio)."""
        try:
            return estimate_tokens(self.preview())
        except Exception:  # an incomplete form is no reason for an error here
            return None

    # ------------------------------------------------------------------ parameters and checks
    def set_params(self, **fields: Any) -> None:
        """Change parameters (``ratio``, ``duration``, ``resolution``, ``seed``, ...)."""
        self.params = replace(self.params, **fields)
        self.changed()

    def issues(self) -> list[Issue]:
        """Composition problems of the current prompt, selection and parameters."""
        p = self.params
        return validate(
            self.picker.prompt,
            self.picker.selection,
            spec=self.spec,
            model=p.model,
            ratio=p.ratio,
            duration=p.duration,
            resolution=p.resolution,
            mode=self.picker.mode,
            seed=p.seed,
            generate_audio=p.generate_audio,
        )

    def blocked(self) -> bool:
        """True while an issue blocks submitting."""
        return bool(errors(self.issues()))

    def preview(self) -> dict[str, Any]:
        """The request body as it would be sent now (built even when it has errors)."""
        return build_request(
            self.params.model,
            self.picker.prompt,
            self.picker.selection,
            mode=self.picker.mode,
            strict=False,
            **self.params.metadata(),
        )

    # ------------------------------------------------------------------ submit
    def repeats_last(self, body: dict[str, Any], now: float | None = None) -> Run | None:
        """The last run when ``body`` is the same request sent less than
        :data:`REPEAT_SECONDS` ago (a second click, not a decision), else None."""
        if not self.runs:
            return None
        last = self.runs[-1]
        if last.outcome == "not_created":  # settled: nothing was made, so no duplicate either
            return None
        moment = time.time() if now is None else now
        return (
            last if last.request == body and moment - last.submitted_at < REPEAT_SECONDS else None
        )

    def cancel_repeat(self) -> None:
        """The person chose not to send the same request again."""
        self.confirming = False
        self.changed()

    def _why_ask(self, body: dict[str, Any]) -> str:
        """Why sending ``body`` now should be confirmed first ("" when it need not be)."""
        if self._uncertain is not None and self._uncertain == body:
            return (
                "The last attempt to send this same request got no reply: the video may exist "
                "already, and sending again may bill a second one. Send it again anyway?"
            )
        last = self.repeats_last(body)
        if last is not None:
            return (
                f"Run #{last.number} sent this same request a moment ago. Send it again as a "
                "new task?"
            )
        return ""

    async def submit(self, *, confirmed: bool = False) -> Run | None:
        """Send the request once. A second call while one is in flight does nothing (None); the
        same body again within :data:`REPEAT_SECONDS`, or a body whose last sending got no reply
        (the task may exist), only sets ``confirming`` and ``repeat_reason`` (None) unless
        ``confirmed``."""
        if self.submitting:
            return None
        self.submitting = True  # set before the first await: a double-click sends one task
        self.picker.touch()  # a submit attempt shows the prompt's messages
        self.changed()
        try:
            if errors(self.issues()):  # said once, under the prompt; this only points there
                self.error = "Not submitted: fix the messages under the prompt."
                self.advice = ""
                return None
            body = self.preview()
            reason = "" if confirmed else self._why_ask(body)
            if reason:
                self.confirming, self.repeat_reason = True, reason
                return None
            self.confirming, self.repeat_reason = False, ""
            try:
                task = await self.store.gateway.create_video(body)
            except OutcomeUnknownError as exc:
                self._uncertain = body  # the same body again asks first, however late
                self._record_unknown(body, exc)
                return None
            self._uncertain = None
            run = Run(
                number=len(self.runs) + 1,
                task_id=task.id,
                request=body,
                prompt=self.picker.prompt,
                selection=self.picker.selection,
                params=self.params,
                mode=self.picker.mode,
            )
            self.runs.append(run)
            self.current = task.id
            self.error = self.advice = ""
            self.store.track_task(task)
            return run
        except Exception as exc:
            self.error, self.advice = describe_error(exc)
            return None
        finally:
            self.submitting = False
            self.changed()

    # ------------------------------------------------------------------ unknown outcomes
    def ledger(self) -> Ledger | None:
        """The ledger the client records into (opened now if not yet), or None when it keeps
        none (``ledger=None``, ``ORCA_NB_LEDGER=off``) or keeps one that cannot be settled."""
        found = self.store.gateway.client.ledger
        if found is None:
            return None
        from orca_nb.ledger import readable_ledger  # when needed: the studio starts faster

        return readable_ledger(found)

    def _record_unknown(self, body: dict[str, Any], exc: OutcomeUnknownError) -> None:
        """A submit got no reply: a run with no task yet, listed as unknown until settled."""
        sid = exc.submission_id if isinstance(exc.submission_id, str) else None
        if sid is not None and self.ledger() is None:
            sid = None  # a ledger without settle: nothing this page can record
        run = Run(
            number=len(self.runs) + 1,
            task_id="",
            request=body,
            prompt=self.picker.prompt,
            selection=self.picker.selection,
            params=self.params,
            mode=self.picker.mode,
            submission_id=sid,
            outcome="unknown",
        )
        self.runs.append(run)
        self.current = None
        detail = describe_error(exc)[0]
        self.unknowns.append(
            Unsettled(sid, run.prompt, run.submitted_at, run=run.number, detail=detail)
        )
        self.error = self.advice = ""  # not an error (nothing was refused): said in its entry

    def unknown_of(self, submission_id: str) -> Unsettled | None:
        """The unknown-outcome entry of a ledger submission id."""
        return next((u for u in self.unknowns if u.submission_id == submission_id), None)

    def _update_unknown(self, entry: Unsettled, **fields: Any) -> Unsettled:
        new = replace(entry, **fields)
        same = entry.submission_id

        def ours(u: Unsettled) -> bool:
            return u is entry or (same is not None and u.submission_id == same)

        self.unknowns = [new if ours(u) else u for u in self.unknowns]
        return new

    def _update_run(self, number: int, **fields: Any) -> None:
        self.runs = [replace(r, **fields) if r.number == number else r for r in self.runs]

    async def load_unsettled(self) -> None:
        """List the ledger's still-unsettled submissions of this key and service (an earlier
        kernel's too: a restart does not hide them). The SQLite read runs off the loop."""
        client = self.store.gateway.client
        submitter, base_url = client.key_label, client.ledger_service

        def read() -> list[dict[str, Any]]:
            ledger = self.ledger()
            if ledger is None:
                return []
            return ledger.unsettled(submitter=submitter, base_url=base_url)

        rows = await asyncio.to_thread(read)
        known = {u.submission_id for u in self.unknowns}
        earlier = [
            Unsettled(
                str(r["submission_id"]),
                str(r["prompt"] or ""),
                _epoch(r["submitted_at"]),
                detail=str(r["error_message"] or "")[:300],
            )
            for r in rows
            if r["submission_id"] not in known
        ]
        if earlier:
            self.unknowns = earlier + self.unknowns
            self.changed()

    async def attach_task(self, submission_id: str, task_id: str) -> bool:
        """The person found the task: check the id at the service, attach it to the ledger row,
        and follow the task in the store like any submitted one. An id the service does not
        know leaves the row unknown (``note`` says why). True when attached; a second press
        while the first is being settled does nothing (False)."""
        if submission_id in self.settling:
            return False
        self.settling.add(submission_id)
        try:
            return await self._attach_task(submission_id, task_id)
        finally:
            self.settling.discard(submission_id)
            self.changed()

    async def _attach_task(self, submission_id: str, task_id: str) -> bool:
        entry = self.unknown_of(submission_id)
        if entry is None or not entry.settleable:
            return False
        tid = (task_id or "").strip()
        ledger = self.ledger()
        problem = NO_LEDGER_NOTE if ledger is None else task_id_problem(tid)
        if ledger is None or problem:
            self._update_unknown(entry, note=problem)
            self.changed()
            return False
        try:
            await self.store.gateway.get_video(tid)  # does the service know it?
            await asyncio.to_thread(ledger.settle, submission_id, task_id=tid)
            row = await self.store.gateway.get_video(tid)  # now the ledger records its state
        except NotFoundError:
            note = f"The service has no task {tid}: check the id. The outcome stays unknown."
            self._update_unknown(entry, note=note)
            return False
        except ValidationError as exc:
            self._update_unknown(entry, note=f"That is not a task id: {exc}")
            return False
        except (KeyError, ValueError) as exc:  # the ledger refused (e.g. the id is taken)
            self._update_unknown(entry, note=f"Not attached: {str(exc).strip(chr(39))}")
            return False
        except Exception as exc:
            note = f"Could not check task {tid} now: {describe_error(exc)[0]} Try again."
            self._update_unknown(entry, note=note)
            return False
        finally:
            self.changed()
        self._update_unknown(
            entry,
            state="attached",
            task_id=tid,
            note=f"Task {tid} attached: followed until it ends.",
        )
        if entry.run:
            self._update_run(entry.run, task_id=tid, outcome="")
            if self.runs and self.runs[-1].number == entry.run:
                self.current = tid
                self.error = self.advice = ""
        self.store.track_task(row)
        self.changed()
        return True

    def ask_not_created(self, submission_id: str) -> None:
        """ "It was not created": ask once before settling."""
        entry = self.unknown_of(submission_id)
        if entry is not None and entry.settleable:
            self.asking_not_created = submission_id
            self.changed()

    def cancel_not_created(self) -> None:
        """The person did not confirm "It was not created"."""
        self.asking_not_created = ""
        self.changed()

    async def mark_not_created(self, submission_id: str, *, confirmed: bool = False) -> bool:
        """Settle a submission as not created (ledger: ``rejected``, ``not_created``); unless
        ``confirmed`` this only asks (``asking_not_created``). True when settled."""
        entry = self.unknown_of(submission_id)
        if entry is None or not entry.settleable:
            return False
        if not confirmed:
            self.ask_not_created(submission_id)
            return False
        if submission_id in self.settling:
            return False
        self.settling.add(submission_id)
        try:
            return await self._mark_not_created(entry)
        finally:
            self.settling.discard(submission_id)
            self.changed()

    async def _mark_not_created(self, entry: Unsettled) -> bool:
        submission_id = entry.submission_id or ""
        self.asking_not_created = ""
        ledger = self.ledger()
        try:
            if ledger is None:
                raise ValueError(NO_LEDGER_NOTE)
            await asyncio.to_thread(ledger.settle, submission_id, created=False)
        except (KeyError, ValueError) as exc:
            self._update_unknown(entry, note=f"Not settled: {str(exc).strip(chr(39))}")
            self.changed()
            return False
        self._update_unknown(
            entry,
            state="not_created",
            note="Recorded as not created: the usage ledger counts it as rejected (not_created).",
        )
        run = next((r for r in self.runs if r.number == entry.run), None) if entry.run else None
        if run is not None:
            self._update_run(run.number, outcome="not_created")
            if self._uncertain == run.request:
                self._uncertain = None  # sending it again is no longer a possible duplicate
            if self.runs[-1].number == run.number:
                self.error = self.advice = ""
        self.changed()
        return True

    # ------------------------------------------------------------------ the current task
    def task(self) -> TaskRow | None:
        """The current task as the store last saw it."""
        return self.store.tasks.get(self.current) if self.current else None

    def task_line(self) -> tuple[str, str]:
        """``(status text, advice)`` for the current task; a failed or expired task's text names
        its error code and message, and the advice says what to do ("" while none is due). A
        last submit whose outcome is unknown says so (what to do is said once, in its entry)."""
        task = self.task()
        if task is None and self.current is None and self.runs and self.runs[-1].outcome:
            last = self.runs[-1]
            if last.outcome == "not_created":
                return f"Run #{last.number}: not created (settled by you).", ""
            return f"{UNKNOWN_OUTCOME_TEXT}.", ""
        if task is None:
            return "", ""
        text = f"Task {task.id}: {task.status}"
        advice = task_advice(task.error_code, task.status)  # "" unless it failed or expired
        detail = " ".join(part for part in (task.error_code, task.error_message) if part)
        if advice and detail:
            text += f" — {detail}"
        return text, advice

    def on_store(self, change: StoreChange) -> None:
        """Store listener: note when runs end; notify views when a run's task moves."""
        if change.table != "tasks":
            return
        followed = (
            {r.task_id for r in self.runs}
            | {u.task_id for u in self.unknowns}
            | {r.task_id for r in self.earlier}
        )
        ours = (followed - {""}) & set(change.diff.touched)
        for tid in ours:
            task = self.store.tasks.get(tid)
            if task is not None and task.status in wire.TERMINAL_TASK_STATUSES:
                self.ended.setdefault(tid, time.time())
        if ours:
            self.changed()

    def elapsed(self, task_id: str | None = None, now: float | None = None) -> float | None:
        """Seconds from submitting to the end (or to ``now`` while it runs); None: no such run."""
        tid = task_id or self.current
        run = next((r for r in self.runs if r.task_id == tid), None)
        if run is None:
            run = next((r for r in self.earlier if tid and r.task_id == tid), None)
            if run is None or run.recorded is None:
                return None
            end = self.ended.get(run.task_id, run.recorded.finished_at)
            return None if end is None else max(0.0, end - run.submitted_at)
        end = self.ended.get(run.task_id, time.time() if now is None else now)
        return max(0.0, end - run.submitted_at)

    def load_run(self, number: int | str) -> None:
        """Put a run's prompt, selection and parameters back for editing (``number``: this
        session's run number, or a history key, see :attr:`Run.key`)."""
        run = self.run_of(number)
        if run is None:
            raise ValueError(f"no run {number}; runs are 1..{len(self.runs)} or history keys")
        self.params = run.params
        self.picker.mode = run.mode
        self.picker.replace_all(run.selection, run.prompt)
        self.confirming = False
        name = f"Run #{run.number}'s" if run.number else "That run's"
        self.notice = (
            f"{name} prompt, references and parameters are in the form: edit them, then Submit."
        )
        self.changed()

    def load_body(self, body: Mapping[str, Any], *, source: str = "") -> list[str]:
        """Put a request body into the form (prompt, references, parameters, mode), as
        :meth:`load_run` does for a run (e.g. an experiment variant's exact request); returns
        what the form cannot hold exactly (it then sends something else for those fields: the
        notice says which). :meth:`preview` equals ``body`` when it returns ``[]``."""
        from orca_nb.experiments.define import BaseRequest  # pure: no DBOS

        base = BaseRequest.from_body(body)
        self.params = Params.from_metadata(base.model, base.params)
        self.picker.mode = base.mode
        self.picker.replace_all(base.selection, base.prompt)
        self.confirming = False
        differences: list[str] = []
        with contextlib.suppress(Exception):  # the notice is a courtesy: the form is loaded
            sent = self.preview()
            if sent != dict(body):
                meta = dict(body.get("metadata") or {})
                now = dict(sent.get("metadata") or {})
                for key in sorted(set(meta) | set(now)):
                    if meta.get(key) != now.get(key):
                        differences.append(key)
                if sent.get("prompt") != body.get("prompt"):
                    differences.append("prompt")
        where = f"{source}'s" if source else "The"
        self.notice = f"{where} request is in the form: edit it, then Submit."
        if differences:
            self.notice += f" The form cannot hold it exactly ({', '.join(differences)} differ)."
        self.changed()
        return differences

    def run_of(self, number: int | str) -> Run | None:
        """This session's run ``number``, or the history's run with key ``number``."""
        if isinstance(number, int) or (isinstance(number, str) and number.isdigit()):
            return next((r for r in self.runs if r.number == int(number)), None)
        return next((r for r in self.history() if r.key == number), None)

    # ------------------------------------------------------------------ ledger-backed history
    def history(self) -> list[Run]:
        """Every run the history lists, newest first: this session's, and the ledger's that are
        not this session's (one entry per task or submission)."""
        ours = list(self.runs)
        tasks = {r.task_id for r in ours if r.task_id} | {u.task_id for u in self.unknowns}
        subs = {r.submission_id for r in ours if r.submission_id}
        shown = {r.key for r in ours}
        for r in self.earlier:
            if (r.task_id and r.task_id in tasks) or r.submission_id in subs or r.key in shown:
                continue
            shown.add(r.key)
            ours.append(r)
        ours.sort(key=lambda r: r.submitted_at, reverse=True)
        return ours

    async def load_history(self, *, more: bool = False) -> int:
        """Read the ledger's runs of this key and service, newest first (``more``: the next
        page after those read); returns how many rows were read. Without a ledger the history
        keeps this session's runs and :attr:`history_note` says so. The read runs off the loop;
        earlier runs still in flight are followed in the store like this session's."""
        if self.ledger() is None:
            self.earlier, self.history_more = [], False
            self.history_note = NO_HISTORY_NOTE
            self.changed()
            return 0
        client = self.store.gateway.client
        submitter, base_url = client.key_label, client.ledger_service
        cursor = self._history_cursor if more else None
        experiments = self.history_experiments
        self._history_reads += 1
        read_no = self._history_reads

        def read() -> list[dict[str, Any]]:
            ledger = self.ledger()
            if ledger is None:
                return []
            return ledger.history(
                submitter=submitter,
                base_url=base_url,
                limit=HISTORY_PAGE + 1,
                before=cursor,
                experiments=experiments,
            )

        try:
            rows = await asyncio.to_thread(read)
        except Exception as exc:  # a ledger that cannot be read now: say so, keep the runs
            self.history_note = f"Could not read earlier runs from the usage ledger: {exc}"
            self.changed()
            return 0
        if read_no != self._history_reads:
            return 0  # a newer read (a filter change) replaced this one
        page = rows[:HISTORY_PAGE]
        self.history_more = len(rows) > HISTORY_PAGE
        if page:
            last = page[-1]
            self._history_cursor = (int(last["submitted_at_ms"]), str(last["submission_id"]))
        loaded = [run_from_ledger(r) for r in page]
        self.earlier = (self.earlier if more else []) + loaded
        self.history_note = ""
        self.changed()
        await self._follow_unfinished(loaded)
        return len(page)

    async def _follow_unfinished(self, runs: list[Run]) -> None:
        """Follow, like this session's, the earlier runs the ledger last saw unfinished, once
        the service confirms it still has their task (a task it forgot would fail every poll)."""
        ids = {
            r.task_id
            for r in runs
            if r.task_id
            and r.recorded is not None
            and r.recorded.status in wire.TASK_STATUSES
            and r.recorded.status not in wire.TERMINAL_TASK_STATUSES
            and r.task_id not in self.store.tasks
        }

        async def known(task_id: str) -> TaskRow | None:
            try:
                return await self.store.gateway.get_video(task_id)
            except Exception:  # gone, or not checkable now: the ledger's word stays shown
                return None

        rows = await gather_all(*(known(t) for t in sorted(ids)))
        for row in rows:
            if row is not None:
                self.store.track_task(row)

    async def show_experiment_runs(self, show: bool) -> None:
        """List (or leave out) the runs experiments sent, then read the history again."""
        self.history_experiments = bool(show)
        self._history_cursor = None
        await self.load_history()

    async def history_video(self, key: str) -> bytes:
        """The MP4 bytes of a history run: this session's from the store's row; a ledger run's
        through a fresh read of its task (stored result links carry no signature and expire),
        then fetched by the kernel."""
        run = self.run_of(key)
        if run is None:
            raise ValueError(f"no run {key} in the history")
        if run.recorded is None:
            return await self.result_video(run.task_id)
        task_id = run.task_id
        if not task_id:
            raise ValueError("this run has no task: the service made no video for it")
        return await self._kept(task_id, lambda: self.store.gateway.result_video(task_id))

    # ------------------------------------------------------------------ result
    async def result_video(self, task_id: str | None = None) -> bytes:
        """The finished task's MP4 bytes, fetched by the kernel (the last one is cached)."""
        tid = task_id or self.current
        task = self.store.tasks.get(tid or "")
        url = task.video_url if task is not None and task.status == "succeeded" else None
        if task is None or not url:
            raise ValueError("the task has no finished video yet; wait until it succeeds")
        return await self._kept(task.id, lambda: self.store.gateway.fetch_bytes(url))

    async def _kept(self, task_id: str, fetch: Callable[[], Awaitable[bytes]]) -> bytes:
        """``task_id``'s video bytes: the last video played is kept, else ``fetch()``ed."""
        if self._result is not None and self._result[0] == task_id:
            return self._result[1]
        data = await fetch()
        self._result = (task_id, data)
        return data


NO_HISTORY_NOTE = (
    "This client keeps no usage ledger, so the history lists this session's runs only (they "
    "are gone after a restart)."
)
NO_LEDGER_NOTE = (
    "This studio's client keeps no usage ledger, so the outcome cannot be recorded here: check "
    "the service console (the OrcaRouter dashboard) for the task before you submit again."
)


def task_id_problem(task_id: str) -> str:
    """Why ``task_id`` (already stripped) cannot be a video task id, in words ("" if it can)."""
    if not task_id:
        return "Paste the task id first (copy it from the OrcaRouter dashboard)."
    if task_id.startswith(("asset-", "group-", wire.ASSET_URL_SCHEME)):
        return f"{task_id[:40]!r} is an asset or group id, not a video task id."
    if (
        len(task_id) > 256
        or not task_id.isascii()
        or not task_id.isprintable()
        or any(c.isspace() or c in "/\\?#%" for c in task_id)
    ):
        return (
            "That is not a task id: ids are letters, digits and dashes, with no spaces, "
            "slashes or ?#%. Copy it again from the OrcaRouter dashboard."
        )
    return ""


def _epoch(value: Any) -> float:
    """Epoch seconds of a ledger time (a UTC datetime, or epoch ms)."""
    stamp = getattr(value, "timestamp", None)
    if callable(stamp):
        return float(stamp())
    return float(value) / 1000.0


def run_from_ledger(row: dict[str, Any]) -> Run:
    """A history run from a :meth:`orca_nb.ledger.Ledger.history` row: the request rebuilt from
    the stored parameters and items (the prompt as sent), what the ledger recorded of it."""
    try:
        metadata = json.loads(row.get("params") or "{}")
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}
    model = str(row.get("model") or "")
    refs: list[Ref] = []
    content: list[dict[str, Any]] = []
    for kind, role, source in row.get("items") or ():
        item_type = f"{str(kind).lower()}_url"
        content.append(
            {"type": item_type, item_type: {"url": source}, **({"role": role} if role else {})}
        )
        try:  # frame roles stay explicit; reference roles are what the mode gives
            refs.append(
                Ref(source, kind, role=role if role in ("first_frame", "last_frame") else None)
            )
        except ValueError:
            continue  # a source the picker cannot hold (kept in the JSON all the same)
    request = {
        "model": model,
        "prompt": str(row.get("prompt") or ""),
        "metadata": {**metadata, "content": content},
    }
    params = Params.from_metadata(model, metadata)
    mode = str(row.get("mode") or "reference")
    status = str(row.get("status") or "")
    outcome = ""
    if status == "unknown" and not row.get("task_id"):
        outcome = "unknown"
    elif status == "rejected" and row.get("error_code") == "not_created":
        outcome = "not_created"
    finished = row.get("finished_at_ms")
    tokens = row.get("total_tokens")
    estimated = row.get("estimated_tokens")
    return Run(
        number=0,
        task_id=str(row.get("task_id") or ""),
        request=request,
        prompt=str(row.get("prompt") or ""),
        selection=Selection(refs),
        params=params,
        mode=mode if mode in ("reference", "first_frame", "first_last") else "reference",
        submitted_at=int(row["submitted_at_ms"]) / 1000.0,
        submission_id=str(row["submission_id"]),
        outcome=outcome,
        recorded=Recorded(
            status=status,
            tokens=int(tokens) if tokens is not None else None,
            tokens_source=row.get("tokens_source"),
            estimated_tokens=int(estimated) if estimated is not None else None,
            finished_at=int(finished) / 1000.0 if finished is not None else None,
            error_code=str(row.get("error_code") or ""),
            error_message=str(row.get("error_message") or ""),
            experiment_id=row.get("experiment_id"),
            variant_id=row.get("variant_id"),
        ),
    )
