"""Report selections: time range, groups, models and experiments, as portable SQL conditions."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from orca_nb.ledger import Ledger, open_ledger

#: A time bound: a datetime/date/Timestamp, an ISO-8601 string, or a span back from now
#: such as ``"7d"``, ``"12h"``, ``"30m"``, ``"2w"``.
TimeLike = datetime | date | pd.Timestamp | str | None
#: A ledger, a ledger URL/path, or ``None`` for the default ledger.
LedgerLike = Ledger | str | os.PathLike[str] | None
#: One name or several.
Names = str | Sequence[str] | None

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: TimeLike, *, now: datetime | None = None) -> datetime | None:
    """A UTC datetime from a bound (naive values are taken as UTC); ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, str):
        match = _SPAN.match(value)
        if match:
            amount, unit = float(match.group(1)), match.group(2)
            return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"cannot read the time {value!r}: use an ISO date like 2026-03-01, "
                "a datetime, or a span back from now like 7d, 12h, 30m, 2w"
            ) from None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _names(value: Names) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Selection:
    """Which submissions a report looks at: ``[since, until)``, groups, models, experiments
    (``submissions.experiment_id``: the submissions an experiment's variants made)."""

    since_ms: int | None = None
    until_ms: int | None = None
    groups: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    experiments: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        since: TimeLike = None,
        until: TimeLike = None,
        group: Names = None,
        model: Names = None,
        *,
        experiment: Names = None,
        now: datetime | None = None,
    ) -> Selection:
        """Build a selection from user-facing arguments."""
        start, end = parse_time(since, now=now), parse_time(until, now=now)
        if start and end and end <= start:
            raise ValueError(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
        return cls(
            since_ms=round(start.timestamp() * 1000) if start else None,
            until_ms=round(end.timestamp() * 1000) if end else None,
            groups=_names(group),
            models=_names(model),
            experiments=_names(experiment),
        )

    def items_where(self, alias: str = "i") -> tuple[str, list[Any]]:
        """Conditions on ``submission_items`` (group = the item's asset group)."""
        conditions, params = self._time_and_model(alias)
        if self.groups:
            conditions.append(f"{alias}.group_id IN ({_marks(self.groups)})")
            params += self.groups
        if self.experiments:
            conditions.append(
                f"EXISTS (SELECT 1 FROM submissions e WHERE e.id = {alias}.submission_id"
                f" AND e.experiment_id IN ({_marks(self.experiments)}))"
            )
            params += self.experiments
        return _join(conditions), params

    def submissions_where(self, alias: str = "s") -> tuple[str, list[Any]]:
        """Conditions on ``submissions`` (group = it referenced an asset of the group)."""
        conditions, params = self._time_and_model(alias)
        if self.groups:
            conditions.append(
                f"EXISTS (SELECT 1 FROM submission_items g WHERE g.submission_id = {alias}.id"
                f" AND g.group_id IN ({_marks(self.groups)}))"
            )
            params += self.groups
        if self.experiments:
            conditions.append(f"{alias}.experiment_id IN ({_marks(self.experiments)})")
            params += self.experiments
        return _join(conditions), params

    def _time_and_model(self, alias: str) -> tuple[list[str], list[Any]]:
        conditions: list[str] = []
        params: list[Any] = []
        if self.since_ms is not None:
            conditions.append(f"{alias}.submitted_at >= ?")
            params.append(self.since_ms)
        if self.until_ms is not None:
            conditions.append(f"{alias}.submitted_at < ?")
            params.append(self.until_ms)
        if self.models:
            conditions.append(f"{alias}.model IN ({_marks(self.models)})")
            params += self.models
        return conditions, params


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _join(conditions: list[str]) -> str:
    return " AND ".join(conditions) if conditions else "1 = 1"


@contextmanager
def using(ledger: LedgerLike) -> Iterator[Ledger]:
    """The ledger itself, or one opened from a URL/path (closed afterwards)."""
    if isinstance(ledger, Ledger):
        yield ledger
        return
    opened = open_ledger(ledger)
    try:
        yield opened
    finally:
        opened.close()


def frame(ledger: Ledger, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """Run a query and return its rows as a DataFrame (object columns; conform them after)."""
    names, rows = ledger.database.query(sql, params)
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=False)
