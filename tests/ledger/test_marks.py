"""Marks on an experiment's variants (pin, rating, tags, note), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from orca_nb.ledger import Ledger, VariantMark, open_ledger
from tests.ledger.conftest import Clock


def test_an_unmarked_experiment_has_no_marks(ledger: Ledger) -> None:
    assert ledger.variant_marks("exp-1") == {}
    assert VariantMark.empty("exp-1", "v1") == VariantMark("exp-1", "v1", False, None, (), "", None)
    assert not VariantMark.empty("exp-1", "v1").marked


def test_only_the_fields_given_change(ledger: Ledger, clock: Clock) -> None:
    first = ledger.mark_variant("exp-1", "v1", rating=4)
    assert (first.rating, first.tags, first.note, first.pinned) == (4, (), "", False)
    assert first.updated_at == datetime.fromtimestamp(clock.now, tz=UTC)
    clock.now += 5
    second = ledger.mark_variant("exp-1", "v1", tags=["sharp", "keep"], note="best motion")
    assert (second.rating, second.tags, second.note) == (4, ("sharp", "keep"), "best motion")
    assert second.updated_at == datetime.fromtimestamp(clock.now, tz=UTC)
    third = ledger.mark_variant("exp-1", "v1", rating=None)  # None clears; the rest stays
    assert (third.rating, third.tags, third.note) == (None, ("sharp", "keep"), "best motion")
    cleared = ledger.mark_variant("exp-1", "v1", tags=[], note="")
    assert (cleared.tags, cleared.note, cleared.marked) == ((), "", False)
    assert ledger.variant_marks("exp-1") == {"v1": cleared}


def test_pinning_a_variant_unpins_the_others_of_its_experiment(ledger: Ledger) -> None:
    ledger.mark_variant("exp-1", "v1", pinned=True, rating=5)
    ledger.mark_variant("exp-2", "v9", pinned=True)  # another experiment keeps its own winner
    ledger.mark_variant("exp-1", "v2", pinned=True)
    marks = ledger.variant_marks("exp-1")
    assert {v: m.pinned for v, m in marks.items()} == {"v1": False, "v2": True}
    assert marks["v1"].rating == 5  # unpinning touches nothing else
    assert ledger.variant_marks("exp-2")["v9"].pinned
    unpinned = ledger.mark_variant("exp-1", "v1", pinned=False)  # not the winner: no change
    assert not unpinned.pinned
    assert ledger.variant_marks("exp-1")["v2"].pinned
    ledger.mark_variant("exp-1", "v2", pinned=False)
    assert not any(m.pinned for m in ledger.variant_marks("exp-1").values())


def test_tags_are_trimmed_and_de_duplicated(ledger: Ledger) -> None:
    mark = ledger.mark_variant("exp-1", "v1", tags=["  warm  light ", "Warm Light", "", "x", "x"])
    assert mark.tags == ("warm light", "x")
    assert ledger.mark_variant("exp-1", "v1", tags=("é ✓",)).tags == ("é ✓",)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"rating": 0}, "from 1 to 5"),
        ({"rating": 6}, "from 1 to 5"),
        ({"rating": True}, "whole number"),
        ({"rating": 3.5}, "whole number"),
        ({"tags": "sharp"}, "list of strings"),
        ({"tags": [3]}, "string"),
        ({"tags": ["x" * 41]}, "at most 40"),
        ({"tags": ["a\x00b"]}, "printable"),
        ({"tags": [f"t{i}" for i in range(21)]}, "at most 20"),
        ({"note": "n" * 2001}, "at most 2000"),
        ({"note": 5}, "string"),
        ({"note": "bad \x07 bell"}, "control characters"),
        ({"pinned": "yes"}, "True, False or None"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    ledger: Ledger, fields: dict[str, object], words: str
) -> None:
    ledger.mark_variant("exp-1", "v1", rating=3, tags=["keep"], note="ok")
    before = ledger.variant_marks("exp-1")
    with pytest.raises(ValueError, match=words):
        ledger.mark_variant("exp-1", "v1", **fields)  # type: ignore[arg-type]
    assert ledger.variant_marks("exp-1") == before


@pytest.mark.parametrize("bad", ["", " v1", "v\n1", "x" * 201, None])
def test_ids_must_be_ids(ledger: Ledger, bad: object) -> None:
    with pytest.raises(ValueError, match="variant_id"):
        ledger.mark_variant("exp-1", bad, rating=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="experiment_id"):
        ledger.variant_marks(bad)  # type: ignore[arg-type]


def test_limits_are_inclusive_and_text_kept_as_text(ledger: Ledger) -> None:
    note = "<b>bold</b>\nline two\t" + "n" * 1970
    mark = ledger.mark_variant("exp-1", "v1", tags=["t" * 40], note=note, rating=1)
    assert (mark.tags, mark.note, mark.rating) == (("t" * 40,), note.strip(), 1)


def test_no_field_given_writes_nothing(ledger: Ledger) -> None:
    assert ledger.mark_variant("exp-1", "v1") == VariantMark.empty("exp-1", "v1")
    assert ledger.variant_marks("exp-1") == {}


def test_marks_survive_reopening_and_are_shared(ledger_url: str, clock: Clock) -> None:
    with open_ledger(ledger_url, clock=clock) as one:
        one.mark_variant("exp-1", "v1", pinned=True, rating=5, tags=["winner"], note="the one")
    with open_ledger(ledger_url, clock=clock) as two:
        [(vid, mark)] = two.variant_marks("exp-1").items()
    assert vid == "v1"
    assert (mark.pinned, mark.rating, mark.tags, mark.note) == (True, 5, ("winner",), "the one")


def test_concurrent_pins_leave_one_winner(ledger_url: str, clock: Clock) -> None:
    """Two writers (two connections) pinning different variants at once: one winner."""
    ledgers = [open_ledger(ledger_url, clock=clock) for _ in range(4)]
    try:
        errors: list[BaseException] = []

        def pin(i: int) -> None:
            try:
                for round_ in range(10):
                    ledgers[i].mark_variant("exp-1", f"v{(i + round_) % 6}", pinned=True)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=pin, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sum(m.pinned for m in ledgers[0].variant_marks("exp-1").values()) == 1
    finally:
        for opened in ledgers:
            opened.close()
