"""Marks a person puts on an experiment's variants: a pinned winner, a rating, tags, a note.

Stored in the ledger (tables ``variant_marks`` and ``experiment_pins``, see
:mod:`orca_nb.ledger.schema`), so they survive restarts and a team sharing a PostgreSQL ledger sees
each other's marks. :meth:`orca_nb.ledger.Ledger.mark_variant` writes them and
:meth:`~orca_nb.ledger.Ledger.variant_marks` reads an experiment's.

One winner per experiment: the pin is one row per experiment (``experiment_pins``), so pinning a
variant unpins the others in the same write, even with two writers at once.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

from orca_nb.ledger.backends import Database

#: Ratings are whole stars from 1 to 5 (``None``: not rated).
MIN_RATING: Final = 1
MAX_RATING: Final = 5
#: Limits on a mark's text.
MAX_TAG_CHARS: Final = 40
MAX_TAGS: Final = 20
MAX_NOTE_CHARS: Final = 2000
MAX_ID_CHARS: Final = 200


class _Unset(Enum):
    UNSET = "unset"


#: Default of :meth:`~orca_nb.ledger.Ledger.mark_variant`'s ``rating``: leave the rating as it is
#: (``None`` clears it).
UNSET: Final = _Unset.UNSET
#: The type of :data:`UNSET`, for annotations.
Unset = _Unset


@dataclass(frozen=True)
class VariantMark:
    """What a person said about one variant; ``updated_at`` is ``None`` when never marked."""

    experiment_id: str
    variant_id: str
    pinned: bool
    rating: int | None
    tags: tuple[str, ...]
    note: str
    updated_at: datetime | None

    @classmethod
    def empty(cls, experiment_id: str, variant_id: str) -> VariantMark:
        """The mark of a variant nobody marked yet."""
        return cls(experiment_id, variant_id, False, None, (), "", None)

    @property
    def marked(self) -> bool:
        """True when anything is set (pin, rating, tags or note)."""
        return self.pinned or self.rating is not None or bool(self.tags) or bool(self.note)


def check_id(value: object, name: str) -> str:
    """An experiment or variant id as given, or ``ValueError`` saying what is wrong."""
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise ValueError(f"{name} must be a non-empty id without surrounding spaces, got {value!r}")
    if len(value) > MAX_ID_CHARS or not value.isprintable():
        raise ValueError(
            f"{name} must be printable and at most {MAX_ID_CHARS} characters, got {value[:60]!r}"
        )
    return value


def check_rating(value: object) -> int | None:
    """A rating 1-5 or ``None``; anything else is a ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"rating must be a whole number from {MIN_RATING} to {MAX_RATING}, or None to "
            f"clear it; got {value!r}"
        )
    if not MIN_RATING <= value <= MAX_RATING:
        raise ValueError(
            f"rating must be from {MIN_RATING} to {MAX_RATING} stars (None clears it); got {value}"
        )
    return value


def check_tags(value: object) -> tuple[str, ...]:
    """Tags trimmed, empty ones dropped, de-duplicated (ignoring case, first spelling kept)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"tags must be a list of strings, e.g. ['sharp', 'keep']; got {value!r}")
    tags: list[str] = []
    seen: set[str] = set()
    for raw in value:
        if not isinstance(raw, str):
            raise ValueError(f"each tag must be a string; got {raw!r}")
        tag = " ".join(raw.split())  # trimmed, inner runs of whitespace made one space
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(
                f"a tag holds at most {MAX_TAG_CHARS} characters; shorten {tag[:50]!r}"
                f" ({len(tag)} characters)"
            )
        if not tag.isprintable():
            raise ValueError(f"a tag must be printable text; got {tag!r}")
        key = tag.casefold()
        if key not in seen:
            seen.add(key)
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags per variant; got {len(tags)}")
    return tuple(tags)


def check_note(value: object) -> str:
    """A note (surrounding whitespace trimmed), at most :data:`MAX_NOTE_CHARS` characters."""
    if not isinstance(value, str):
        raise ValueError(f"note must be a string ('' clears it); got {value!r}")
    note = value.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(
            f"a note holds at most {MAX_NOTE_CHARS} characters; this one has {len(note)}:"
            " shorten it"
        )
    if any(unicodedata.category(c) == "Cs" or (c < " " and c not in "\n\t") for c in note):
        raise ValueError("a note must be text: remove control characters")
    return note


def write_mark(
    database: Database,
    experiment_id: str,
    variant_id: str,
    *,
    now_ms: int,
    pinned: bool | None,
    rating: int | Unset | None,
    tags: Sequence[str] | None,
    note: str | None,
) -> None:
    """Validate, then write the given fields of one variant's mark in one transaction."""
    experiment_id = check_id(experiment_id, "experiment_id")
    variant_id = check_id(variant_id, "variant_id")
    if pinned is not None and not isinstance(pinned, bool):
        raise ValueError(f"pinned must be True, False or None (leave as is); got {pinned!r}")
    new_rating = None if rating is UNSET else check_rating(rating)
    new_tags = None if tags is None else json.dumps(check_tags(tags), ensure_ascii=False)
    new_note = None if note is None else check_note(note)
    statements: list[tuple[str, Sequence[Any]]] = []
    if rating is not UNSET or tags is not None or note is not None or pinned is not None:
        statements.append(
            (
                "INSERT INTO variant_marks (experiment_id, variant_id, rating, tags, note,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (experiment_id, variant_id) DO UPDATE SET"
                " rating = CASE WHEN CAST(? AS INTEGER) = 1 THEN excluded.rating"
                " ELSE variant_marks.rating END,"
                " tags = CASE WHEN CAST(? AS INTEGER) = 1 THEN excluded.tags"
                " ELSE variant_marks.tags END,"
                " note = CASE WHEN CAST(? AS INTEGER) = 1 THEN excluded.note"
                " ELSE variant_marks.note END,"
                " updated_at = excluded.updated_at",
                (
                    experiment_id,
                    variant_id,
                    new_rating,
                    new_tags if new_tags is not None else "[]",
                    new_note if new_note is not None else "",
                    now_ms,
                    int(rating is not UNSET),
                    int(tags is not None),
                    int(note is not None),
                ),
            )
        )
    if pinned is True:
        statements.append(
            (
                "INSERT INTO experiment_pins (experiment_id, variant_id, pinned_at)"
                " VALUES (?, ?, ?) ON CONFLICT (experiment_id) DO UPDATE SET"
                " variant_id = excluded.variant_id, pinned_at = excluded.pinned_at",
                (experiment_id, variant_id, now_ms),
            )
        )
    elif pinned is False:
        statements.append(
            (
                "DELETE FROM experiment_pins WHERE experiment_id = ? AND variant_id = ?",
                (experiment_id, variant_id),
            )
        )
    if statements:
        database.write(statements)


def read_marks(
    database: Database, experiment_id: str, variant_id: str | None = None
) -> dict[str, VariantMark]:
    """An experiment's marks by variant id (only variants marked at least once)."""
    experiment_id = check_id(experiment_id, "experiment_id")
    sql = (
        "SELECT variant_id, rating, tags, note, updated_at FROM variant_marks"
        " WHERE experiment_id = ?"
    )
    params: list[Any] = [experiment_id]
    if variant_id is not None:
        sql += " AND variant_id = ?"
        params.append(variant_id)
    _, rows = database.query(sql + " ORDER BY variant_id", params)
    _, pins = database.query(
        "SELECT variant_id, pinned_at FROM experiment_pins WHERE experiment_id = ?",
        (experiment_id,),
    )
    winner, pinned_at = (str(pins[0][0]), int(pins[0][1])) if pins else (None, None)
    marks: dict[str, VariantMark] = {}
    for vid, rating, tags, note, updated in rows:
        stamp = int(updated)
        if vid == winner and pinned_at is not None:
            stamp = max(stamp, pinned_at)
        marks[str(vid)] = VariantMark(
            experiment_id=experiment_id,
            variant_id=str(vid),
            pinned=vid == winner,
            rating=None if rating is None else int(rating),
            tags=tuple(json.loads(tags or "[]")),
            note=str(note or ""),
            updated_at=_datetime(stamp),
        )
    return marks


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
