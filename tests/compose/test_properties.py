"""Property tests: numbering, content order and renumbering stay consistent for any selection."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca_nb.compose import (
    KINDS,
    Ref,
    Selection,
    find_tokens,
    insert_token,
    normalize_tokens,
    renumber,
    validate,
)
from orca_nb.compose.refs import KIND_WIRE

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

refs = st.builds(
    lambda kind, n: Ref(f"asset-20260318{n:06d}-abc{n % 10}{n % 7}", kind),
    st.sampled_from(KINDS),
    st.integers(0, 6),  # small id space, so duplicates happen
)
selections = st.lists(refs, max_size=10).map(Selection)
words = st.sampled_from(["walks", "in", "the", "rain", ",", "and", "then"])


@st.composite
def prompts_for(draw: st.DrawFn, sel: Selection) -> str:
    """Text mixing words with tokens of ``sel`` (and a dangling one now and then)."""
    pieces = draw(st.lists(words, max_size=6))
    tokens = [*sel.tokens(), "[Image 42]"]
    for token in draw(st.lists(st.sampled_from(tokens), max_size=8)):
        pieces.insert(draw(st.integers(0, len(pieces))), token)
    return " ".join(pieces)


@st.composite
def moves(draw: st.DrawFn, sel: Selection) -> Selection:
    after = sel
    for _ in range(draw(st.integers(0, 4))):
        if len(after) < 2:
            break
        i = draw(st.integers(0, len(after) - 1))
        j = draw(st.integers(0, len(after) - 1))
        after = after.move(i, j)
    return after


@SETTINGS
@given(selections)
def test_tokens_follow_content_order(sel: Selection) -> None:
    counts: dict[str, int] = {}
    for token, item in zip(sel.tokens(), sel.content(), strict=True):
        counts[item["type"]] = counts.get(item["type"], 0) + 1
        word = next(w.token_word for w in KIND_WIRE.values() if w.content_type == item["type"])
        assert token == f"[{word} {counts[item['type']]}]"


@SETTINGS
@given(st.data())
def test_renumber_round_trips_over_reorderings(data: st.DataObject) -> None:
    before = data.draw(selections)
    prompt = data.draw(prompts_for(before))
    after = data.draw(moves(before))
    there = renumber(prompt, before, after)
    assert renumber(there, after, before) == prompt


@SETTINGS
@given(st.data())
def test_renumbered_tokens_point_at_the_same_references(data: st.DataObject) -> None:
    before = data.draw(selections)
    prompt = data.draw(prompts_for(before))
    after = data.draw(moves(before))
    if len(after) and data.draw(st.booleans()):
        after = after.remove(data.draw(st.integers(0, len(after) - 1)))
    old, new = find_tokens(prompt), find_tokens(renumber(prompt, before, after))
    resolved_old = [before.find(t.kind, t.number) for t in old]
    # every token that pointed at an item still existing points at an equal item; the others
    # (removed items) are no longer tokens, dangling tokens stay dangling
    survivors = [
        (t, p)
        for t, p in zip(old, resolved_old, strict=True)
        if p is None or _kept(before, p, after)
    ]
    assert len(new) == len(survivors)
    for (t_old, p_old), t_new in zip(survivors, new, strict=True):
        p_new = after.find(t_new.kind, t_new.number)
        if p_old is None:
            assert (t_new.text, p_new) == (t_old.text, None)
        else:
            assert p_new is not None
            assert after[p_new].key == before[p_old].key


def _kept(before: Selection, pos: int, after: Selection) -> bool:
    key = before[pos].key
    occurrence = sum(1 for r in before.items[:pos] if r.key == key)
    return occurrence < sum(1 for r in after if r.key == key)


@SETTINGS
@given(st.text(max_size=40), st.integers(-5, 50), st.sampled_from(KINDS), st.integers(1, 9))
def test_insert_token_adds_exactly_that_token(
    prompt: str, cursor: int, kind: str, number: int
) -> None:
    token = f"[{KIND_WIRE[kind].token_word} {number}]"  # type: ignore[index]
    out, at = insert_token(prompt, cursor, token)
    added = len(out) - len(prompt)
    piece = out[at - added : at]
    assert piece.strip() == token
    assert out[: at - added] + out[at:] == prompt


@SETTINGS
@given(st.text(max_size=80), selections)
def test_validate_never_raises_and_normalize_is_idempotent(prompt: str, sel: Selection) -> None:
    for issue in validate(prompt, sel):
        assert issue.level in ("error", "warning")
        assert issue.message
    once = normalize_tokens(prompt)
    assert normalize_tokens(once) == once
