"""The shared wire vocabulary agrees with the reference's own numbers."""

from __future__ import annotations

import pytest

from orca_nb import wire


def test_usage_tokens_match_the_reference_example() -> None:
    # §9.3: a 720p 16:9 5 s task at 24 fps bills 108,900 completion tokens.
    width, height = wire.OUTPUT_SIZES[("720p", "16:9")]
    assert wire.usage_tokens(width, height, 5) == 108_900


@pytest.mark.parametrize(("key", "size"), sorted(wire.OUTPUT_SIZES.items()))
def test_output_sizes_have_their_nominal_ratio(key: tuple[str, str], size: tuple[int, int]) -> None:
    resolution, ratio = key
    w_part, h_part = (int(x) for x in ratio.split(":"))
    width, height = size
    assert width * h_part / (height * w_part) == pytest.approx(
        1.0, rel=0.03
    )  # upstream sizes are multiples of 8 or 16
    assert min(width, height) >= int(resolution.rstrip("p")) * 0.85


def test_only_seedance_2_is_routable() -> None:
    assert [m.name for m in wire.MODELS.values() if m.routable] == [wire.SEEDANCE_2]


def test_group_type_query_maps_to_wire_values() -> None:
    assert set(wire.GROUP_TYPE_QUERY_TO_WIRE.values()) == {"AIGC", "LivenessFace"}
    assert wire.DEFAULT_LIST_GROUP_TYPE in wire.GROUP_TYPE_QUERY_TO_WIRE


def test_requirements_cover_every_asset_type() -> None:
    assert set(wire.REQUIREMENTS) == set(wire.ASSET_TYPES)
    video = wire.REQUIREMENTS["Video"]
    assert (video.min_pixels, video.max_pixels) == (409_600, 2_086_876)
