"""What every panel shares: its template file, the store attachment, closing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import traitlets
from ipyvuetify.VuetifyTemplate import VuetifyTemplate

from orca_nb.widgets.live import LiveStore, StoreChange, StoreStatus
from orca_nb.widgets.loops import spawn

TEMPLATES = Path(__file__).parent / "templates"


def template(name: str) -> tuple[str, str]:
    """``template_file`` value for a template in ``templates/``."""
    return (str(TEMPLATES / name), name)


def status_text(status: StoreStatus) -> str:
    """The store's state in a few words."""
    if status.error:
        return f"Error: {status.error}"
    if status.paused:
        return "Paused"
    if status.loading and not status.loaded:
        return "Loading…"
    if status.loading:
        return "Refreshing…"
    return "Live" if status.running else ("Loaded" if status.loaded else "Not loaded")


def options(values: Iterable[Any]) -> list[dict[str, Any]]:
    """``[{"title", "value"}]`` for a select, each value shown as its text."""
    return [{"title": str(v), "value": v} for v in values]


class Panel(VuetifyTemplate):
    """A template widget attached to a :class:`LiveStore` until it is closed."""

    store_status = traitlets.Unicode("").tag(sync=True)
    store_error = traitlets.Unicode("").tag(sync=True)
    store_advice = traitlets.Unicode("").tag(sync=True)
    paused = traitlets.Bool(False).tag(sync=True)

    def __init__(self, store: LiveStore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._store = store  # not a trait: the client (and its key) never reaches the browser
        self._offs: list[Callable[[], None]] = [store.subscribe(self._on_store_change)]
        store.attach(self)
        self._show_status()
        if not store.status.loaded and store.running:
            store.request_refresh()

    @property
    def store(self) -> LiveStore:
        """The live store this panel shows."""
        return self._store

    def listen(self, off: Callable[[], None]) -> None:
        """Remember an unsubscribe function to call on close."""
        self._offs.append(off)

    def _on_store_change(self, change: StoreChange) -> None:
        if change.table == "status":
            self._show_status()
        else:
            self.on_store(change)

    def on_store(self, change: StoreChange) -> None:
        """Panels override: rows changed in the store."""

    def _show_status(self) -> None:
        s = self.store.status
        with self.hold_sync():
            self.store_status = status_text(s)
            self.store_advice = s.advice  # before the error: observers of the error see both
            self.store_error = s.error
            self.paused = s.paused

    def run(self, coro: Any) -> None:
        """Run an action on the store's home loop (errors appear in the status line).

        Every ``vue_*`` handler that awaits anything must start it here, never with
        ``asyncio.create_task``/``ensure_future``: in JupyterLab the handler may run on a kernel
        subshell's thread and loop, and the store, its refresher and the client's connections
        belong to the home loop. Synchronous store methods are safe from any thread.
        """
        spawn(coro, on_error=self.show_error, home=self.store.home)

    def show_error(self, exc: BaseException) -> None:
        """Show an unexpected action failure as text."""
        self.store_error = str(exc) or type(exc).__name__

    # ------------------------------------------------------------------ shared events
    def vue_refresh(self, _data: Any = None) -> None:
        """Refresh button."""
        self.store.request_refresh()
        if not self.store.running:
            self.run(self.store.refresh())

    def vue_toggle_pause(self, _data: Any = None) -> None:
        """Pause / resume button."""
        if self.store.status.paused:
            self.store.resume()
        else:
            self.store.pause()

    def close(self) -> None:
        """Close the widget; the store stops when its last panel closes."""
        for off in getattr(self, "_offs", []):
            with contextlib.suppress(Exception):
                off()
        self._offs = []
        if hasattr(self, "_store"):
            self._store.detach(self)
        super().close()
