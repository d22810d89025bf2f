from __future__ import annotations

import pytest

from orca_nb import wire
from orca_nb.compose import Issue, Ref, Selection, errors, validate
from orca_nb.compose import issues as codes
from tests.compose.conftest import AUD1, IMG1, IMG2, OUTFIT_URL, VID1

GOOD = "[Image 1] wears the outfit of [Image 2], dancing like [Video 1] to [Audio 1]"


def _codes(found: list[Issue]) -> list[str]:
    return [i.code for i in found]


def _img(n: int) -> Ref:
    return Ref(f"asset-20260318{n:06d}-img{n:02d}", "image", status="Active")


def test_a_good_request_has_no_issues(mixed: Selection) -> None:
    assert validate(GOOD, mixed, ratio="9:16", duration=8, resolution="720p", seed=11) == []


def test_every_code_is_listed() -> None:
    assert len(set(codes.CODES)) == len(codes.CODES)


def test_empty_prompt_suggests_tokens(mixed: Selection) -> None:
    (issue, *_) = validate("   ", mixed)
    assert issue.code == codes.EMPTY_PROMPT
    assert "[Image 1]" in issue.message


def test_token_pointing_at_nothing_is_error_with_position(mixed: Selection) -> None:
    prompt = GOOD + " and [Image 3], [Video 0], [audio 2]"
    bad = [i for i in validate(prompt, mixed) if i.code == codes.UNKNOWN_REFERENCE]
    assert [prompt[i.position : i.end] for i in bad] == ["[Image 3]", "[Video 0]", "[audio 2]"]
    assert "only 2 images" in bad[0].message
    assert "starts at 1" in bad[1].message
    assert "only 1 audio selected" in bad[2].message
    assert all(i.level == "error" for i in bad)


def test_token_for_kind_with_none_selected() -> None:
    sel = Selection([_img(1)])
    (issue,) = [i for i in validate("[Image 1] [Video 1]", sel) if i.level == "error"]
    assert "no videos are selected" in issue.message


def test_noncanonical_token_is_a_warning_and_still_counts(mixed: Selection) -> None:
    prompt = GOOD.replace("[Image 2]", "[image2]")
    found = validate(prompt, mixed)
    assert _codes(found) == [codes.NONCANONICAL_TOKEN]
    assert found[0].level == "warning"
    assert found[0].item == 1
    assert "[Image 2]" in found[0].message


def test_raw_ids_asset_urls_and_selected_urls_are_errors(mixed: Selection) -> None:
    prompt = (
        f"{GOOD}; also {IMG1} and asset://{VID1} and {OUTFIT_URL} and asset-20990101000000-zzzzz"
    )
    found = validate(prompt, mixed)
    assert _codes(errors(found)) == [
        codes.RAW_ASSET_ID,
        codes.ASSET_URL_IN_PROMPT,
        codes.URL_IN_PROMPT,
        codes.RAW_ASSET_ID,
    ]
    assert "write [Image 1] instead" in found[0].message
    assert "write [Video 1] instead" in found[1].message
    assert "[Image 2]" in found[2].message
    assert "the token of the item" in found[3].message


def test_asset_name_in_prompt_is_a_warning(mixed: Selection) -> None:
    found = validate(GOOD + " ada_full_body smiles", mixed)
    assert _codes(found) == [codes.ASSET_NAME_IN_PROMPT]
    assert found[0].level == "warning"


def test_unused_selection_is_a_warning_in_reference_mode_only() -> None:
    sel = Selection([_img(1), _img(2)])
    found = validate("[Image 1] waves", sel)
    assert _codes(found) == [codes.UNUSED_REFERENCE]
    assert found[0].item == 1
    assert validate("a slow zoom", sel, mode="first_last") == []


def test_removed_marker_is_an_error() -> None:
    found = validate("[removed Image 2: outfit] and [Image 1]", Selection([_img(1)]))
    assert _codes(found) == [codes.REMOVED_REFERENCE]
    assert found[0].position == 0


@pytest.mark.parametrize(
    ("refs", "code"),
    [
        ([_img(n) for n in range(10)], codes.TOO_MANY_IMAGES),
        (
            [_img(1)] + [Ref(f"https://x.test/v{n}.mp4", "video") for n in range(4)],
            codes.TOO_MANY_VIDEOS,
        ),
        (
            [_img(1)] + [Ref(f"https://x.test/a{n}.mp3", "audio") for n in range(4)],
            codes.TOO_MANY_AUDIO,
        ),
        (
            [_img(n) for n in range(9)]
            + [Ref(f"https://x.test/v{n}.mp4", "video") for n in range(3)]
            + [Ref("https://x.test/a.mp3", "audio")],
            codes.TOO_MANY_MEDIA,
        ),
        ([Ref(AUD1, "audio")], codes.AUDIO_WITHOUT_VISUAL),
    ],
)
def test_limits(refs: list[Ref], code: str) -> None:
    sel = Selection(refs)
    prompt = " ".join(sel.tokens())
    assert _codes(errors(validate(prompt, sel))) == [code]


def test_reference_seconds_are_summed_when_known() -> None:
    sel = Selection(
        [
            Ref(VID1, "video", seconds=10.0),
            Ref("https://x.test/v.mp4", "video", seconds=6.0),
            Ref("https://x.test/w.mp4", "video"),
            Ref(AUD1, "audio", seconds=15.0),
        ]
    )
    found = errors(validate(" ".join(sel.tokens()), sel))
    assert _codes(found) == [codes.REFERENCE_VIDEO_TOO_LONG]
    assert "16.0 s" in found[0].message


def test_frame_modes() -> None:
    one, two = Selection([_img(1)]), Selection([_img(1), _img(2)])
    assert validate("zoom", one, mode="first_frame") == []
    assert validate("zoom", two, mode="first_last") == []
    assert _codes(validate("zoom", two, mode="first_frame")) == [codes.FRAME_COUNT]
    assert _codes(validate("zoom", one, mode="first_last")) == [codes.FRAME_COUNT]
    with_video = two.add(Ref(VID1, "video"))
    assert _codes(errors(validate("zoom", with_video, mode="first_last"))) == [codes.MIXED_MODES]


def test_explicit_frame_roles_in_reference_mode() -> None:
    mixed_roles = Selection([Ref(IMG1, "image", role="first_frame"), Ref(IMG2, "image")])
    found = errors(validate("[Image 1] [Image 2]", mixed_roles))
    assert _codes(found) == [codes.MIXED_MODES]
    last_only = Selection([Ref(IMG1, "image", role="last_frame")])
    assert _codes(errors(validate("x", last_only))) == [codes.FRAME_COUNT]


def test_non_active_assets_are_errors_with_advice() -> None:
    sel = Selection(
        [
            Ref(IMG1, "image", status="Processing"),
            Ref(IMG2, "image", status="Failed"),
            Ref(OUTFIT_URL, "image"),
        ]
    )
    found = validate("[Image 1] [Image 2] [Image 3]", sel)
    assert _codes(found) == [codes.ASSET_NOT_ACTIVE, codes.ASSET_NOT_ACTIVE]
    assert "wait until it is Active" in found[0].message
    assert "upload a fixed file" in found[1].message
    assert [i.item for i in found] == [0, 1]


def test_duplicates_are_warned() -> None:
    sel = Selection([_img(1), _img(1)])
    assert _codes(validate("[Image 1] [Image 2]", sel)) == [codes.DUPLICATE_REFERENCE]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"duration": 3}, codes.INVALID_DURATION),
        ({"duration": 16}, codes.INVALID_DURATION),
        ({"duration": 5.5}, codes.INVALID_DURATION),
        ({"duration": True}, codes.INVALID_DURATION),
        ({"ratio": "2:1"}, codes.INVALID_RATIO),
        ({"resolution": "4k"}, codes.INVALID_RESOLUTION),
        ({"seed": -2}, codes.INVALID_SEED),
        ({"seed": 2**32}, codes.INVALID_SEED),
    ],
)
def test_bad_params(mixed: Selection, params: dict[str, object], code: str) -> None:
    assert _codes(validate(GOOD, mixed, **params)) == [code]  # type: ignore[arg-type]


@pytest.mark.parametrize(("duration"), [4, 15, wire.DURATION_MODEL_CHOOSES])
def test_duration_bounds_and_model_choice(mixed: Selection, duration: int) -> None:
    assert validate(GOOD, mixed, duration=duration) == []


def test_unknown_and_unroutable_models_name_the_routable_one(mixed: Selection) -> None:
    (unknown,) = validate(GOOD, mixed, model="kling/v2")
    assert unknown.code == codes.UNKNOWN_MODEL
    assert wire.SEEDANCE_2 in unknown.message
    found = validate(GOOD, mixed, model="byteplus/seedance-2.0-fast", resolution="1080p")
    assert _codes(found) == [codes.MODEL_NOT_ROUTABLE, codes.INVALID_RESOLUTION]
    assert wire.SEEDANCE_2 in found[0].message
    assert "480p, 720p" in found[1].message


def test_model_capabilities(mixed: Selection) -> None:
    found = validate(GOOD, mixed, model="byteplus/seedance-1-0-pro-fast", generate_audio=True)
    assert _codes(found) == [
        codes.MODEL_NOT_ROUTABLE,
        codes.MODEL_CAPABILITY,
        codes.MODEL_CAPABILITY,
    ]
    two = Selection([_img(1), _img(2)])
    found = validate("x", two, model="byteplus/seedance-1-0-pro-fast", mode="first_last")
    assert "last frame" in found[1].message
    found = validate("[Image 1] [Image 2]", two, model="byteplus/seedance-1-0-pro-fast", duration=2)
    assert _codes(found) == [codes.MODEL_NOT_ROUTABLE]


def test_text_only_request_is_fine() -> None:
    assert validate("a fox in snow", Selection()) == []
