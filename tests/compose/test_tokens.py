from __future__ import annotations

import pytest

from orca_nb.compose import (
    Ref,
    Selection,
    find_tokens,
    insert_token,
    normalize_tokens,
    parse_token,
    renumber,
)
from tests.compose.conftest import AUD1, IMG1, IMG2, VID1


@pytest.mark.parametrize(
    "text", ["[Image 1]", "[image 1]", "[Image1]", "[ IMAGE 01 ]", "[iMaGe\t1]"]
)
def test_tolerant_spellings_all_mean_image_one(text: str) -> None:
    assert parse_token(text) == ("image", 1)
    (match,) = find_tokens(f"a {text} b")
    assert match.canonical == "[Image 1]"
    assert match.text == text


@pytest.mark.parametrize("text", ["[Img 1]", "[Image #1]", "Image 1", "[Image]", "[Image 1.5]"])
def test_other_spellings_are_not_tokens(text: str) -> None:
    assert find_tokens(text) == []
    with pytest.raises(ValueError, match="not a prompt token"):
        parse_token(text)


def test_find_tokens_reports_positions() -> None:
    prompt = "[Image 1] meets [video 2]."
    first, second = find_tokens(prompt)
    assert prompt[first.start : first.end] == "[Image 1]"
    assert (second.kind, second.number, second.start) == ("video", 2, 16)


def test_normalize_tokens() -> None:
    assert normalize_tokens("[image1] and [ audio 2 ]!") == "[Image 1] and [Audio 2]!"


def test_renumber_after_move_swaps_tokens_simultaneously() -> None:
    before = Selection([Ref(IMG1, "image"), Ref(IMG2, "image")])
    after = before.move(1, 0)
    assert renumber("[Image 1] hugs [Image 2]", before, after) == "[Image 2] hugs [Image 1]"


def test_renumber_marks_removed_items_instead_of_retargeting() -> None:
    before = Selection([Ref(IMG1, "image", name="ada"), Ref(IMG2, "image"), Ref(VID1, "video")])
    after = before.remove(0)
    prompt = "[Image 1] and [image 2] in [Video 1]"
    assert renumber(prompt, before, after) == "[removed Image 1: ada] and [Image 1] in [Video 1]"
    unnamed = before.remove(1)
    assert renumber(prompt, before, unnamed) == "[Image 1] and [removed Image 2] in [Video 1]"


def test_removed_marker_sanitises_brackets_in_names() -> None:
    before = Selection([Ref(IMG1, "image", name="a [b]\nc")])
    assert renumber("[Image 1]", before, Selection()) == "[removed Image 1: a b c]"


def test_renumber_leaves_dangling_tokens_alone() -> None:
    before = Selection([Ref(IMG1, "image")])
    after = before.add(Ref(IMG2, "image"), 0)
    assert renumber("[Image 1] [Image 7] [Audio 1]", before, after) == (
        "[Image 2] [Image 7] [Audio 1]"
    )


def test_renumber_follows_duplicates_by_occurrence() -> None:
    before = Selection([Ref(IMG1, "image"), Ref(AUD1, "audio"), Ref(IMG1, "image")])
    after = before.remove(0)
    # copies are interchangeable: the k-th copy maps to the k-th copy, the extra one is removed
    assert renumber("[Image 1]/[Image 2]", before, after) == "[Image 1]/[removed Image 2]"


def test_renumber_ignores_status_changes() -> None:
    before = Selection([Ref(IMG1, "image", status="Processing"), Ref(IMG2, "image")])
    after = before.replace(0, Ref(IMG1, "image", status="Active")).move(0, 1)
    assert renumber("[Image 1]", before, after) == "[Image 2]"


@pytest.mark.parametrize(
    ("prompt", "cursor", "expected", "new_cursor"),
    [
        ("", 0, "[Image 2]", 9),
        ("walks", 0, "[Image 2] walks", 10),
        ("hero walks", 4, "hero [Image 2] walks", 14),
        ("hero", 4, "hero [Image 2]", 14),
        ("hero.", 4, "hero [Image 2].", 14),
        ("(x)", 1, "([Image 2] x)", 11),
        ("a [Image 1] b", 5, "a [Image 1] [Image 2] b", 21),
        ("ab", 99, "ab [Image 2]", 12),
        ("ab", -5, "[Image 2] ab", 10),
    ],
)
def test_insert_token_spacing_and_cursor(
    prompt: str, cursor: int, expected: str, new_cursor: int
) -> None:
    assert insert_token(prompt, cursor, "[image2]") == (expected, new_cursor)


def test_insert_token_rejects_non_tokens() -> None:
    with pytest.raises(ValueError, match="not a prompt token"):
        insert_token("x", 0, "Image 1")
