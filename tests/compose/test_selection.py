from __future__ import annotations

import pytest

from orca_nb.compose import Ref, Selection
from tests.compose.conftest import AUD1, IMG1, IMG2, OUTFIT_URL, VID1


def test_tokens_are_per_kind_one_based_in_array_order(mixed: Selection) -> None:
    assert mixed.tokens() == ["[Image 1]", "[Image 2]", "[Video 1]", "[Audio 1]"]
    interleaved = Selection(
        [Ref(VID1, "video"), Ref(IMG1, "image"), Ref(AUD1, "audio"), Ref(IMG2, "image")]
    )
    assert interleaved.tokens() == ["[Video 1]", "[Image 1]", "[Audio 1]", "[Image 2]"]
    assert interleaved.find("image", 2) == 3
    assert interleaved.find("image", 3) is None
    assert interleaved.token(-1) == "[Image 2]"


def test_reference_content_matches_documented_example(mixed: Selection) -> None:
    assert mixed.content() == [
        {"type": "image_url", "image_url": {"url": "asset://" + IMG1}, "role": "reference_image"},
        {"type": "image_url", "image_url": {"url": OUTFIT_URL}, "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": "asset://" + VID1}, "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": "asset://" + AUD1}, "role": "reference_audio"},
    ]


def test_frame_modes_assign_frame_roles() -> None:
    two = Selection([Ref(IMG1, "image"), Ref(IMG2, "image")])
    assert two.roles("first_last") == ["first_frame", "last_frame"]
    assert Selection([Ref(IMG1, "image")]).roles("first_frame") == ["first_frame"]
    assert [c["role"] for c in two.content("first_last")] == ["first_frame", "last_frame"]


def test_explicit_role_wins_over_mode() -> None:
    sel = Selection([Ref(IMG1, "image", role="last_frame"), Ref(IMG2, "image")])
    assert sel.roles("reference") == ["last_frame", "reference_image"]


def test_unknown_mode_is_rejected(mixed: Selection) -> None:
    with pytest.raises(ValueError, match="reference, first_frame, first_last"):
        mixed.content("i2v")


def test_edits_return_new_selections(mixed: Selection) -> None:
    moved = mixed.move(3, 0)
    assert [r.kind for r in moved] == ["audio", "image", "image", "video"]
    assert [r.kind for r in mixed] == ["image", "image", "video", "audio"]
    assert mixed.remove(0)[0].source == OUTFIT_URL
    assert mixed.add(Ref(IMG2, "image"), 0).tokens()[:3] == ["[Image 1]", "[Image 2]", "[Image 3]"]
    assert mixed.add(Ref(IMG2, "image"))[-1].source == IMG2
    refreshed = mixed.replace(0, Ref(IMG1, "image", status="Failed"))
    assert refreshed[0].status == "Failed"
    assert mixed[1:] == Selection(mixed.items[1:])


def test_positions_outside_are_index_errors(mixed: Selection) -> None:
    with pytest.raises(IndexError, match="has 4 items"):
        mixed.remove(4)
    with pytest.raises(IndexError):
        mixed.move(0, 9)


def test_selection_holds_refs_only() -> None:
    with pytest.raises(TypeError, match="Ref"):
        Selection([IMG1])  # type: ignore[list-item]


def test_equality_and_repr(mixed: Selection) -> None:
    assert mixed == Selection(mixed.items)
    assert hash(mixed) == hash(Selection(mixed.items))
    assert "[Image 2]=outfit.png" in repr(mixed)
