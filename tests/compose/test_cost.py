"""The token rule of reference 12.4 as a pure function: the measured figures, and what it does
with what it cannot know."""

from __future__ import annotations

from typing import Any

import pytest

from orca_nb import wire
from orca_nb.compose import Ref, Selection, build_request, estimate_tokens, media_seconds_of

VIDEO_REF = "asset://asset-20260318071009-vid01"


def body(**metadata: Any) -> dict[str, Any]:
    return {"model": wire.SEEDANCE_2, "prompt": "a harbour", "metadata": metadata}


def video_item(url: str = VIDEO_REF) -> dict[str, Any]:
    return {"type": "video_url", "video_url": {"url": url}, "role": "reference_video"}


def test_reference_example_720p_16x9_5s_is_108900() -> None:
    got = estimate_tokens(body(ratio="16:9", resolution="720p", duration=5))
    assert got.tokens == 108_900
    assert (got.width, got.height, got.output_frames) == (1280, 720, 121)
    assert got.input_tokens == 0
    assert not got.lower_bound
    assert got.source == "estimated"


def test_measured_720p_4s_without_and_with_a_4s_reference_video() -> None:
    plain = estimate_tokens(body(ratio="16:9", resolution="720p", duration=4))
    assert plain.tokens == 87_300
    with_video = estimate_tokens(
        body(ratio="16:9", resolution="720p", duration=4, content=[video_item()]),
        media_seconds={VIDEO_REF: 4.0},
    )
    assert with_video.tokens == 173_700
    assert with_video.input_tokens == 86_400 == 1280 * 720 * 96 // 1024
    assert with_video.input_video_seconds == 4.0
    assert not with_video.lower_bound


@pytest.mark.parametrize("key", [VIDEO_REF, VIDEO_REF.removeprefix("asset://")])
def test_media_seconds_may_be_keyed_by_asset_url_or_bare_id(key: str) -> None:
    got = estimate_tokens(
        body(ratio="16:9", resolution="720p", duration=4, content=[video_item()]),
        media_seconds={key: 4.0},
    )
    assert got.tokens == 173_700


def test_unknown_reference_video_length_gives_a_flagged_lower_bound() -> None:
    got = estimate_tokens(body(ratio="16:9", resolution="720p", duration=4, content=[video_item()]))
    two_seconds = 1280 * 720 * 24 * 2 // 1024
    assert got.tokens == 87_300 + two_seconds
    assert got.lower_bound
    assert got.source == wire.TOKENS_ESTIMATED_MIN
    assert got.unknown_videos == (VIDEO_REF,)
    assert any("lower bound" in n for n in got.notes)
    assert got.describe().startswith("at least ")


def test_images_and_audio_cost_nothing_extra() -> None:
    content = [
        {"type": "image_url", "image_url": {"url": "asset://asset-a"}, "role": "reference_image"},
        {"type": "audio_url", "audio_url": {"url": "asset://asset-b"}, "role": "reference_audio"},
    ]
    got = estimate_tokens(body(ratio="16:9", resolution="720p", duration=5, content=content))
    assert got.tokens == 108_900
    assert not got.lower_bound


def test_defaults_come_from_the_model_and_adaptive_counts_as_16x9() -> None:
    got = estimate_tokens({"model": wire.SEEDANCE_2, "prompt": "x"})
    assert got.tokens == 108_900  # 720p, 5 s, adaptive -> 16:9 size
    assert any("adaptive" in n for n in got.notes)
    assert not got.lower_bound


def test_model_chooses_duration_is_a_lower_bound_at_the_shortest() -> None:
    got = estimate_tokens(body(ratio="9:16", resolution="480p", duration=-1))
    assert got.output_seconds == wire.MODELS[wire.SEEDANCE_2].min_seconds
    assert got.tokens == 496 * 864 * (24 * 4 + 1) // 1024
    assert got.lower_bound


def test_explicit_frames_win_over_duration() -> None:
    got = estimate_tokens(body(ratio="16:9", resolution="720p", duration=5, frames=97))
    assert got.tokens == 87_300


def test_every_size_in_the_table_follows_the_rule() -> None:
    for (resolution, ratio), (w, h) in wire.OUTPUT_SIZES.items():
        got = estimate_tokens(body(ratio=ratio, resolution=resolution, duration=10))
        assert got.tokens == wire.usage_tokens(w, h, 10)


def test_an_odd_body_is_estimated_with_notes_not_an_error() -> None:
    got = estimate_tokens({"metadata": {"ratio": "5:4", "resolution": "8k", "duration": "six"}})
    assert got.tokens == 108_900
    assert len(got.notes) >= 2


def test_selection_seconds_feed_the_estimate() -> None:
    video = Ref("asset-20260318071009-vid01", "video", seconds=4.0)
    image = Ref("asset-20260318071009-img01", "image")
    sel = Selection([image, video])
    request = build_request(
        wire.SEEDANCE_2, "[Image 1] and [Video 1]", sel, ratio="16:9", resolution="720p", duration=4
    )
    assert media_seconds_of(sel) == {VIDEO_REF: 4.0}
    assert estimate_tokens(request, media_seconds=media_seconds_of(sel)).tokens == 173_700
