"""State of the experiment progress widget: what it shows, read from a run on the kernel's loop.

The state takes an ``ExperimentRun`` (or anything of its shape, :class:`RunLike`) and reads its
status with ``await run.status_async()``, which queries the experiments' store in a worker
thread; ``orca_nb.experiments`` is imported for types only (``dbos`` is an optional extra). Nothing
here runs on, or is called from, a DBOS thread: the view refreshes the state from its home loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final, Protocol

from orca_nb.widgets.advice import variant_advice

if TYPE_CHECKING:
    from orca_nb.experiments.progress import RunStatus

#: Chip colour per variant status (Vuetify colour names).
STATUS_COLORS: Final[Mapping[str, str]] = {
    "queued": "grey", "sending": "blue-lighten-2", "running": "blue", "succeeded": "green",
    "failed": "red", "refused": "deep-orange", "unknown": "amber-darken-2", "paused": "grey",
    "cancelled": "blue-grey", "invalid": "brown",
}  # fmt: skip
#: Errors listed at most (the rest are counted).
MAX_ERRORS: Final = 20


class RunLike(Protocol):
    """What the widget needs of a run (``orca_nb.experiments.ExperimentRun`` has it)."""

    experiment_id: str
    name: str

    async def status_async(self) -> RunStatus: ...
    def pause(self) -> list[str]: ...
    def resume(self) -> int: ...
    def cancel(self) -> list[str]: ...


@dataclass(frozen=True)
class ErrorLine:
    """An error as the widget lists it: which variant, what happened, what to do."""

    variant_id: str
    label: str
    status: str
    code: str
    message: str
    advice: str


@dataclass(frozen=True)
class ProgressFigures:
    """Everything the widget shows, as plain values."""

    title: str = ""
    state: str = ""
    chips: tuple[tuple[str, int, str], ...] = ()  # (status, count, colour)
    percent: float = 0.0
    finished_text: str = ""
    eta: str = ""
    tokens: str = ""
    errors: tuple[ErrorLine, ...] = ()
    more_errors: int = 0
    done: bool = False
    failure: str = ""  # reading the status failed (the store is unreachable)


@dataclass
class ExperimentProgressState:
    """The progress of one run; :meth:`refresh` reads it (await it on the view's home loop)."""

    run: RunLike
    figures: ProgressFigures = field(default_factory=ProgressFigures)
    _listeners: list[Callable[[ProgressFigures], None]] = field(default_factory=list)

    def subscribe(self, listener: Callable[[ProgressFigures], None]) -> Callable[[], None]:
        """Call ``listener(figures)`` after every refresh; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def refresh(self) -> ProgressFigures:
        """Read the run's status and rebuild the figures (errors reading it are shown, not
        raised)."""
        try:
            status = await self.run.status_async()
        except Exception as exc:  # e.g. the system database went away: say so, keep figures
            self.figures = _replace_failure(self.figures, f"Could not read the progress: {exc}")
        else:
            self.figures = build_figures(status)
        for listener in list(self._listeners):
            listener(self.figures)
        return self.figures


def _replace_failure(figures: ProgressFigures, text: str) -> ProgressFigures:
    return replace(figures, failure=text)


def build_figures(status: RunStatus) -> ProgressFigures:
    """The widget's figures from a status."""
    chips = tuple((s, n, STATUS_COLORS.get(s, "grey")) for s, n in status.counts.items() if n)
    errors = tuple(
        ErrorLine(
            e.variant_id,
            e.label,
            e.status,
            e.code or "",
            e.message,
            variant_advice(e.status, e.code),
        )
        for e in status.errors[:MAX_ERRORS]
    )
    return ProgressFigures(
        title=status.name,
        state=status.phase,
        chips=chips,
        percent=round(min(1.0, status.fraction) * 100, 1),
        finished_text=f"{status.finished} of {status.planned} videos finished",
        eta=status.eta_text(),
        tokens=status.tokens_text(),
        errors=errors,
        more_errors=max(0, len(status.errors) - MAX_ERRORS),
        done=status.done,
    )
