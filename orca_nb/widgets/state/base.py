"""Shared bits of the state objects: change listeners and the last action's error."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from orca_nb.widgets.advice import describe_error

log = logging.getLogger(__name__)


class Observable:
    """Listeners called (with no argument) after every state change; errors shown as text."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self.error = ""
        self.advice = ""

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after each change; returns the unsubscribe function."""
        self._listeners.append(listener)

        def off() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return off

    def changed(self) -> None:
        """Notify listeners (views re-read the state)."""
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("state listener failed")

    def fail(self, exc: BaseException) -> None:
        """Record a failed action's message and advice, then notify."""
        self.error, self.advice = describe_error(exc)
        self.changed()

    def clear_error(self) -> None:
        """Forget the last error."""
        if self.error or self.advice:
            self.error = self.advice = ""
            self.changed()
