"""Sweep tab state: an experiment defined from the studio's current request, checked, then
started on DBOS (``orca_nb.experiments``).

What varies: prompt variants (one per line, or a template whose ``{placeholders}`` are filled
from a small table), seeds, durations, ratios, resolutions, models, audio on/off, watermark
on/off and reference sets (selections taken from the studio's picker, one after another); a
dimension left empty keeps the studio's value. Reference sets are the experiments definition's:
the prompt is written for the studio's current selection and each set renumbers its tokens (a
token naming an asset the set lacks makes that variant invalid, with the compose rules' reason).
Every change re-plans at once (pure: nothing is sent): the variants count, invalid variants
with their reasons, the token estimate per variant and in total and the balance where the
service reports one (``experiments.cost``). Start hands the experiment to the engine
(``experiments.start``, in a worker thread: it blocks), which refuses what the balance cannot
cover, asks for confirmation above a threshold (the tab asks with the total) and stores and
enqueues each variant once: pressing Start again, or a re-run cell, sends nothing twice.
The state never touches DBOS's threads; its progress is the progress widget's job.

``orca_nb.experiments`` is imported when needed (``dbos`` is an optional extra), so importing the
widgets stays light; without ``dbos`` the tab says how to install it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from orca_nb import wire
from orca_nb.compose import Ref, Selection
from orca_nb.compose.cost import media_seconds_of
from orca_nb.experiments.labels import variant_label
from orca_nb.widgets.advice import describe_error
from orca_nb.widgets.state.base import Observable
from orca_nb.widgets.state.studio import StudioState

if TYPE_CHECKING:
    from orca_nb.client import Orca
    from orca_nb.client.models import Balance
    from orca_nb.experiments import CostEstimate, Experiment, ExperimentRun

#: How to get the engine when ``dbos`` is missing.
INSTALL_TEXT: Final = (
    "Sweeps run on DBOS, which is not installed in this kernel. Install the experiments extra "
    "(pip install 'orca-nb[experiments]'), restart the kernel and open the studio again."
)
#: Variants listed at most in the tab (the rest are counted).
MAX_LINES: Final = 100
#: The plan's line for the one variant of a sweep that varies nothing.
UNVARIED: Final = "the studio's request as it is"
#: What to do when Open by name finds no sweep of that name (the error lists the known ones).
NOT_FOUND_ADVICE: Final = (
    "Type the name exactly as it was started (one of those listed), or fill in the form and "
    "press Start to start a new sweep."
)
#: The queue limits a person may set here (running variants; submits per minute).
CONCURRENCY_RANGE: Final = (1, 64)
PER_MINUTE_RANGE: Final = (1, 600)
_SEED_SPLIT: Final = re.compile(r"[\s,;]+")


def dbos_missing() -> bool:
    """True when the ``dbos`` package (the experiments extra) is not installed."""
    return importlib.util.find_spec("dbos") is None


@dataclass(frozen=True)
class VariantLine:
    """One variant as the tab lists it."""

    label: str
    valid: bool
    reasons: tuple[str, ...] = ()
    tokens: str = ""


@dataclass(frozen=True)
class SetItem:
    """One asset of a reference set as a chip shows it: its token in that set, kind and name."""

    token: str
    kind: str
    label: str


@dataclass(frozen=True)
class ReferenceSet:
    """A reference set as the tab lists it: its name (the variants' label), its items, and
    whether it is the studio's current selection."""

    name: str
    items: tuple[SetItem, ...]
    current: bool = False


def set_name(index: int) -> str:
    """The name of the ``index``-th (0-based) reference set, as variants' labels say it."""
    return f"set {index + 1}"


def item_label(ref: Ref) -> str:
    """A reference's name for people: its name, a URL's file name, else its kind (never an id)."""
    if ref.name:
        return ref.name
    return ref.label if not ref.is_asset else f"unnamed {ref.kind}"


@dataclass(frozen=True)
class Plan:
    """What Start would do now, in figures and words (nothing sent)."""

    count: int = 0
    valid: int = 0
    lines: tuple[VariantLine, ...] = ()
    invalid: tuple[VariantLine, ...] = ()
    tokens: int = 0
    cost_text: str = ""  # the total, marked as an estimate, and the balance when reported
    refused: str = ""  # the balance cannot cover it: Start is refused, with what to do
    confirm_text: str = ""  # above the threshold: Start asks first, naming the total


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"1, 2 3"`` (commas, spaces or semicolons); ValueError saying what to write.
    The range is the compose rules' (a seed out of it makes an invalid variant, with why)."""
    out: list[int] = []
    for word in _SEED_SPLIT.split(text.strip()):
        if not word:
            continue
        try:
            seed = int(word)
        except ValueError:
            raise ValueError(
                f"Seeds: {word[:20]!r} is not a whole number; write seeds like 1, 2, 3"
            ) from None
        if seed in out:
            raise ValueError(f"Seeds: {seed} is listed twice; list each seed once")
        out.append(seed)
    return out


class SweepState(Observable):
    """The Sweep tab: what varies, the plan (count, invalid reasons, cost), and Start.

    ``launch_settings`` are :func:`orca_nb.experiments.runtime.launch` settings (tests pass a
    database and fast polling); ``price_per_million_tokens`` lets a known balance refuse
    (default: the wire's price, unknown so far, so the balance is shown but cannot refuse);
    ``confirm_above`` is the token threshold above which Start asks first; ``starter``
    replaces ``orca_nb.experiments.start`` (tests).
    """

    def __init__(
        self,
        studio: StudioState,
        *,
        launch_settings: Mapping[str, Any] | None = None,
        price_per_million_tokens: float | None = wire.USD_PER_MILLION_TOKENS,
        confirm_above: int | None = None,
        starter: Callable[..., ExperimentRun] | None = None,
    ) -> None:
        super().__init__()
        self.studio = studio
        self.launch_settings = dict(launch_settings or {})
        self.price = price_per_million_tokens
        if confirm_above is None:
            from orca_nb.experiments.cost import DEFAULT_CONFIRM_ABOVE

            confirm_above = DEFAULT_CONFIRM_ABOVE
        self.confirm_above = confirm_above
        self._starter = starter
        # the form
        self.name = ""
        self.prompt_mode = "list"  # list | template
        self.prompts_text = ""  # one prompt per line; none: the studio's prompt
        self.template_text = ""
        self.table: list[dict[str, str]] = [{}]
        self.seeds_text = ""
        self.durations: list[int] = []
        self.ratios: list[str] = []
        self.resolutions: list[str] = []
        self.models: list[str] = []
        self.audio: list[bool] = []
        self.watermarks: list[bool] = []
        self.reference_sets: list[Selection] = []  # alternative selections (add_current_set)
        self.sets_note = ""  # why the last "add the current selection" did nothing
        self.concurrency = 4
        self.per_minute = 30
        # what it means
        self.fields: list[str] = []  # the template's placeholders (the table's columns)
        self.problem = ""  # why no plan can be made (a definition error), in words
        self.plan = Plan()
        self.experiment: Experiment | None = None
        self.balance: Balance | None = None
        self.balance_checked = False
        self.confirming = False
        self.starting = False
        self.notice = ""
        self.run: ExperimentRun | None = None
        self.missing = INSTALL_TEXT if dbos_missing() else ""
        self._blocking: Orca | None = None
        self.replan()

    # ------------------------------------------------------------------ the form
    def set_form(self, **fields: Any) -> None:
        """Change form fields (``name``, ``prompts_text``, ``seeds_text``, ``durations``, ...);
        re-plans."""
        for key, value in fields.items():
            if not hasattr(self, key) or key.startswith("_") or key in _NOT_FORM:
                raise AttributeError(f"the sweep form has no field {key!r}")
            setattr(self, key, value)
        self.confirming = False
        self.replan()

    def set_cell(self, row: int, field: str, value: str) -> None:
        """Type into the template table (rows grow on demand)."""
        while len(self.table) <= row:
            self.table.append({})
        self.table[row] = {**self.table[row], field: value}
        self.confirming = False
        self.replan()

    def add_row(self) -> None:
        """One more row in the template table."""
        self.table.append({})
        self.replan()

    def remove_row(self, row: int) -> None:
        """Drop a row of the template table (one empty row always stays)."""
        if 0 <= row < len(self.table):
            del self.table[row]
        if not self.table:
            self.table.append({})
        self.replan()

    # ------------------------------------------------------------------ reference sets
    def current_set(self) -> int | None:
        """The index of the set equal to the studio's current selection (None: not a set)."""
        selection = self.studio.picker.selection
        for i, chosen in enumerate(self.reference_sets):
            if chosen == selection:
                return i
        return None

    def add_current_set(self) -> bool:
        """Take the studio's current selection as the next reference set (the first press makes
        set 1); False, with ``sets_note`` saying why, when it already is one."""
        known = self.current_set()
        if known is not None:
            self.sets_note = (
                f"The studio's selection already is {set_name(known)}: change the selection in "
                "the studio (add, remove or reorder references), then add it as another set."
            )
            self.changed()
            return False
        self.reference_sets.append(self.studio.picker.selection)
        self.sets_note = ""
        self.confirming = False
        self.replan()
        return True

    def remove_set(self, index: int) -> None:
        """Drop reference set ``index`` (the later ones move up: set 3 becomes set 2)."""
        if 0 <= index < len(self.reference_sets):
            del self.reference_sets[index]
        self.sets_note = ""
        self.confirming = False
        self.replan()

    def sets(self) -> list[ReferenceSet]:
        """The reference sets as chips: each item's token in its set, kind and name."""
        current = self.current_set()
        return [
            ReferenceSet(
                set_name(i),
                tuple(
                    SetItem(token, ref.kind, item_label(ref))
                    for ref, token in zip(chosen, chosen.tokens(), strict=True)
                ),
                current=i == current,
            )
            for i, chosen in enumerate(self.reference_sets)
        ]

    def _media_seconds(self) -> dict[str, float]:
        """Known media lengths of the studio's selection and of every set (for the estimate)."""
        out = media_seconds_of(self.studio.picker.selection)
        for chosen in self.reference_sets:
            out.update(media_seconds_of(chosen))
        return out

    def prompts(self) -> list[str]:
        """The prompt variants of the list (blank lines dropped)."""
        return [line.strip() for line in self.prompts_text.splitlines() if line.strip()]

    # ------------------------------------------------------------------ the plan
    def grid(self) -> Experiment:
        """The experiment the form defines on the studio's current request (may raise
        ``ValueError``/``TypeError`` with what to fix)."""
        from orca_nb.experiments.define import BaseRequest, Experiment, template_fields

        studio = self.studio
        base = BaseRequest(
            model=studio.params.model,
            prompt=studio.picker.prompt,
            selection=studio.picker.selection,
            params=studio.params.metadata(),
            mode=studio.picker.mode,
        )
        kwargs: dict[str, Any] = {}
        if self.prompt_mode == "template":
            template = self.template_text.strip()
            if not template:
                raise ValueError("Write a prompt template with {placeholders}, e.g. a {animal}.")
            self.fields = template_fields(template)
            if not self.fields:
                raise ValueError(
                    "The template has no {placeholder}: add one (e.g. {animal}) and fill it in "
                    "the table, or vary a list of prompts instead."
                )
            rows = [
                {f: str(r.get(f, "")).strip() for f in self.fields}
                for r in self.table
                if any(str(r.get(f, "")).strip() for f in self.fields)
            ]
            if not rows:
                raise ValueError("Fill at least one row of the table (one prompt per row).")
            kwargs.update(template=template, table=rows)
        else:
            self.fields = []
            if self.prompts():
                kwargs["prompts"] = self.prompts()
        seeds = parse_seeds(self.seeds_text)
        if seeds:
            kwargs["seed"] = seeds
        for key, chosen in (
            ("duration", self.durations),
            ("ratio", self.ratios),
            ("resolution", self.resolutions),
            ("model", self.models),
            ("generate_audio", self.audio),
            ("watermark", self.watermarks),
        ):
            if chosen:
                kwargs[key] = list(chosen)
        if self.reference_sets:
            kwargs["references"] = {
                set_name(i): chosen for i, chosen in enumerate(self.reference_sets)
            }
        name = self.name.strip() or "unnamed sweep"  # the id needs a name; Start needs a real one
        return Experiment.grid(base, name=name, **kwargs)

    def replan(self) -> Plan:
        """Expand and price the form now (pure: nothing is sent); notifies the views."""
        try:
            experiment = self.grid()
            cost = self._estimate(experiment)
        except (ValueError, TypeError, KeyError) as exc:
            self.experiment, self.plan = None, Plan()
            self.problem = str(exc).strip("'\"")
        else:
            self.experiment, self.problem = experiment, ""
            self.plan = self._plan(experiment, cost)
        self.changed()
        return self.plan

    def _estimate(self, experiment: Experiment) -> CostEstimate:
        from orca_nb.experiments.cost import estimate

        return estimate(
            experiment.variants,
            media_seconds=self._media_seconds(),
            balance=self.balance,
            price_per_million_tokens=self.price,
        )

    def _plan(self, experiment: Experiment, cost: CostEstimate) -> Plan:
        from orca_nb.experiments.cost import BalanceTooLowError, ConfirmationRequired, check

        lines = []
        for v in experiment.variants[:MAX_LINES]:
            found = cost.per_variant.get(v.variant_id)
            lines.append(
                VariantLine(
                    variant_label(v.values) or UNVARIED,
                    v.valid,
                    tuple(v.reasons),
                    found.describe() if found is not None else "not sent",
                )
            )
        invalid = tuple(
            VariantLine(variant_label(v.values) or UNVARIED, False, tuple(v.reasons))
            for v in experiment.invalid
        )
        refused = confirm = ""
        try:  # the engine's own rule, asked here so the tab can say it before Start
            check(cost, confirm_above=self.confirm_above)
        except BalanceTooLowError as exc:
            refused = str(exc)
        except ConfirmationRequired:
            confirm = (
                f"This sweep would spend {cost.describe()}: above {self.confirm_above:,} tokens, "
                "so Start asks you to confirm the total first."
            )
        text = cost.describe()
        if self.balance is not None and cost.balance_remaining is None:
            text += f"; balance: {self.balance.describe()}"
        elif self.balance is None and self.balance_checked:
            text += "; the service reports no balance"
        if cost.balance_remaining is not None and cost.money is None:
            text += " (no price per token is known, so the balance cannot be checked against it)"
        return Plan(
            count=len(experiment.variants),
            valid=len(experiment.valid),
            lines=tuple(lines),
            invalid=invalid,
            tokens=cost.tokens,
            cost_text=text,
            refused=refused,
            confirm_text=confirm,
        )

    async def load_balance(self) -> None:
        """Ask the service for the balance (``None`` when it reports none); re-plans."""
        try:
            self.balance = await self.studio.store.gateway.balance()
        except Exception:  # a balance that cannot be read is no reason to block a sweep
            self.balance = None
        self.balance_checked = True
        self.replan()

    # ------------------------------------------------------------------ start
    def _blocking_client(self) -> Orca:
        """A blocking client with the studio's key, URL and ledger (the engine's workers need
        one), made once and kept: running variants use it after Start returns."""
        if self._blocking is None:
            self._blocking = self.studio.store.client.blocking()
        return self._blocking

    def release(self) -> None:
        """Close the blocking client made for Start. Only once no sweep started here runs in
        this process any more (after ``orca_nb.experiments.shutdown()``): its workers use it."""
        if self._blocking is not None:
            self._blocking.close()
            self._blocking = None

    def cancel_confirm(self) -> None:
        """ "Cancel" on the confirmation question."""
        self.confirming = False
        self.changed()

    async def start(self, *, confirmed: bool = False) -> ExperimentRun | None:
        """Start the sweep (``confirmed``: the person accepted the total above the threshold).

        Refused, with what to do, when it has no name, a definition problem, no valid variant,
        a balance that cannot cover it, or no ``dbos``. A second press while starting does
        nothing; pressing Start again later reopens the same experiment (nothing sent twice).
        Returns the run, or None when it did not start (``error``/``confirming`` say why)."""
        if self.starting:
            return None
        self.error = self.advice = self.notice = ""
        plan = self.replan()
        experiment = self.experiment
        why = self._why_not(plan)
        if why or experiment is None:
            self.error = why or self.problem
            self.changed()
            return None
        if plan.confirm_text and not confirmed:
            self.confirming = True
            self.changed()
            return None
        self.confirming = False
        from orca_nb.experiments.cost import ConfirmationRequired

        kwargs: dict[str, Any] = {
            "skip_invalid": True,  # the invalid ones are listed with their reasons
            "confirm": plan.tokens if confirmed else None,
            "confirm_above": self.confirm_above,
            "balance": self.balance,
            "check_balance": self.balance is None and not self.balance_checked,
            "price_per_million_tokens": self.price,
            "media_seconds": self._media_seconds(),
            "concurrency": self.concurrency,
            "per_minute": self.per_minute,
            **self.launch_settings,
        }
        try:
            run = await self._engine(
                lambda: (self._starter or _engine_start())(
                    experiment, self._blocking_client(), **kwargs
                )
            )
        except ConfirmationRequired as exc:  # the engine's figure is the one asked about
            self.confirming = True
            self.plan = replace(self.plan, confirm_text=str(exc))
            self.changed()
            return None
        if run is None:
            return None
        again = self._show(run)
        self.notice = (
            f"Sweep {experiment.name!r} is already started: its progress is below (nothing was "
            "sent twice)."
            if again
            else f"Started {plan.valid} variant(s) of {experiment.name!r}: progress below."
        )
        self.changed()
        return self.run

    async def open(self) -> ExperimentRun | None:
        """Open the stored sweep named like the form (e.g. after a kernel restart): its progress
        shows and its queued variants continue; nothing is sent twice. None when it cannot be
        opened (``error`` says why, e.g. no such sweep: the known names are listed)."""
        if self.starting:
            return None
        self.error = self.advice = self.notice = ""
        name = self.name.strip()
        why = self.missing or ("" if name else "Type the name of the sweep to open.")
        if why:
            self.error = why
            self.changed()
            return None
        settings = _open_settings(self.launch_settings)
        run = await self._engine(
            lambda: _engine_open()(name, self._blocking_client(), **settings),
            not_found=NOT_FOUND_ADVICE,
        )
        if run is None:
            return None
        self._show(run)
        self.notice = f"Opened sweep {run.name!r}: its progress is below."
        self.changed()
        return self.run

    async def _engine(
        self, call: Callable[[], ExperimentRun], *, not_found: str = ""
    ) -> ExperimentRun | None:
        """Run a blocking engine call (start, open) in a worker thread while ``starting``; an
        error is shown (``error``, ``advice``) and gives None. A ``ConfirmationRequired``
        propagates: Start asks the question. With ``not_found``, the engine's ``KeyError`` (no
        such experiment; it lists the known names) is said as its text, with that advice."""
        from orca_nb.experiments.cost import ConfirmationRequired

        self.starting = True
        self.changed()
        try:
            return await asyncio.to_thread(call)
        except ConfirmationRequired:
            raise
        except Exception as exc:
            if not_found and isinstance(exc, KeyError):
                self.error = str(exc.args[0]) if exc.args else str(exc)  # str() would quote it
                self.advice = not_found
            else:
                self.error, self.advice = describe_error(exc)
            return None
        finally:
            self.starting = False
            self.changed()

    def _show(self, run: ExperimentRun) -> bool:
        """Show ``run`` unless it is the experiment already shown (which keeps its run, and the
        progress widget on it); True when it was already shown."""
        again = self.run is not None and self.run.experiment_id == run.experiment_id
        if not again:
            self.run = run
        return again

    def _why_not(self, plan: Plan) -> str:
        """Why Start cannot start now, in words ("" when it can)."""
        if self.missing:
            return self.missing
        if not self.name.strip():
            return "Name the sweep first: the name identifies it (reopen it, compare it) later."
        if self.problem:
            return self.problem
        if not plan.valid:
            return "No variant can be sent: fix the reasons listed under Invalid variants."
        for what, value, (low, high) in (
            ("Concurrency", self.concurrency, CONCURRENCY_RANGE),
            ("Submits per minute", self.per_minute, PER_MINUTE_RANGE),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                return f"{what} must be a whole number from {low} to {high}."
        return plan.refused


def _open_settings(launch_settings: Mapping[str, Any]) -> dict[str, Any]:
    """The launch settings ``open_experiment`` takes (the queue limits belong to Start)."""
    return {k: v for k, v in launch_settings.items() if k not in ("concurrency", "per_minute")}


def _engine_start() -> Callable[..., ExperimentRun]:
    from orca_nb.experiments.run import start

    return start


def _engine_open() -> Callable[..., ExperimentRun]:
    from orca_nb.experiments.run import open_experiment

    return open_experiment


_NOT_FORM: Final = frozenset(
    {"studio", "launch_settings", "price", "confirm_above", "fields", "problem", "plan",
     "experiment", "balance", "balance_checked", "confirming", "starting", "notice", "run",
     "missing", "error", "advice", "reference_sets", "sets_note"}
)  # fmt: skip
