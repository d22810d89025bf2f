"""The experiment progress widget: counts by status, a bar, ETA, tokens against the estimate,
errors with advice; pause, resume and cancel.

The view follows its run from one home loop (the live store's, when given one, else the loop
the cell runs on): every refresh and every button's action is spawned there, and the run's
status is read with ``await run.status_async()`` (a worker thread queries the store), never
from a DBOS thread. It stops following when the run is done (a button that starts it again
resumes following) or the widget is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import traitlets
from ipyvuetify.VuetifyTemplate import VuetifyTemplate

from orca_nb.widgets.loops import Home
from orca_nb.widgets.state.experiment import ExperimentProgressState, ProgressFigures, RunLike
from orca_nb.widgets.views.base import template

#: Seconds between two reads of the run's status.
REFRESH_SECONDS = 1.0


class ExperimentProgressView(VuetifyTemplate):
    """One experiment's progress; ``.state`` (:class:`ExperimentProgressState`) holds the
    figures (tests read it directly)."""

    template_file = template("experiment.vue")
    title = traitlets.Unicode("").tag(sync=True)
    phase = traitlets.Unicode("").tag(sync=True)  # running, done, paused, cancelled
    chips: traitlets.List[Any] = traitlets.List().tag(sync=True)
    percent = traitlets.Float(0.0).tag(sync=True)
    finished_text = traitlets.Unicode("").tag(sync=True)
    eta = traitlets.Unicode("").tag(sync=True)
    tokens = traitlets.Unicode("").tag(sync=True)
    errors: traitlets.List[Any] = traitlets.List().tag(sync=True)
    more_errors = traitlets.Int(0).tag(sync=True)
    failure = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    action_error = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        run: RunLike,
        *,
        home: Home | None = None,
        interval: float = REFRESH_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._run = run  # not a trait: nothing of the run reaches the browser but its figures
        self.state = ExperimentProgressState(run)
        self.home = home or Home()
        self.interval = interval
        self._following = False
        self._closed = False
        self._off: Callable[[], None] = self.state.subscribe(self.show)
        self.title = run.name
        self.follow()

    # ------------------------------------------------------------------ following
    def follow(self) -> None:
        """Refresh every ``interval`` seconds until the run is done (no loop: do nothing; await
        :meth:`refresh` yourself)."""
        if self._following or self._closed:
            return
        self._following = True
        try:
            self.home.spawn(self._follow(), on_error=self._stopped)
        except RuntimeError:  # no running loop (a plain script)
            self._following = False

    async def _follow(self) -> None:
        try:
            while not self._closed:
                view = await self.state.refresh()
                if view.done and not view.failure:
                    return
                await asyncio.sleep(self.interval)
        finally:
            self._following = False

    def _stopped(self, exc: BaseException) -> None:
        self.failure = f"Stopped following the experiment: {exc}"

    async def refresh(self) -> ProgressFigures:
        """Read the status once (on the caller's loop) and show it."""
        return await self.state.refresh()

    def show(self, view: ProgressFigures) -> None:
        """Put the figures in the traits."""
        with self.hold_sync():
            self.title = view.title or self._run.name
            self.phase = view.state
            self.chips = [{"status": s, "count": n, "color": c} for s, n, c in view.chips]
            self.percent = view.percent
            self.finished_text = view.finished_text
            self.eta = view.eta
            self.tokens = view.tokens
            self.errors = [
                {"variant_id": e.variant_id, "label": e.label, "status": e.status,
                 "code": e.code, "message": e.message, "advice": e.advice}
                for e in view.errors
            ]  # fmt: skip
            self.more_errors = view.more_errors
            self.failure = view.failure

    # ------------------------------------------------------------------ buttons
    def vue_pause(self, _data: Any = None) -> None:
        """Pause: queued variants wait; running ones finish."""
        self._act(self._run.pause)

    def vue_resume(self, _data: Any = None) -> None:
        """Resume a paused or cancelled run."""
        self._act(self._run.resume)

    def vue_cancel(self, _data: Any = None) -> None:
        """Cancel: queued variants never start; running ones finish and are recorded."""
        self._act(self._run.cancel)

    def _act(self, action: Callable[[], Any]) -> None:
        self.busy = True
        self.action_error = ""
        self.home.spawn(self._do(action), on_error=self._failed)

    async def _do(self, action: Callable[[], Any]) -> None:
        try:
            await asyncio.to_thread(action)  # store writes and DBOS enqueues block: not here
            await self.state.refresh()
        finally:
            self.busy = False
        self.follow()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.action_error = str(exc) or type(exc).__name__

    def close(self) -> None:
        """Stop following and close the widget."""
        self._closed = True
        with contextlib.suppress(Exception):
            self._off()
        super().close()
