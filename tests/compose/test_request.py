from __future__ import annotations

import pytest

from orca_nb import wire
from orca_nb.compose import CompositionError, Ref, Selection, build_request
from orca_nb.compose import issues as codes
from tests.compose.conftest import AUD1, IMG1, OUTFIT_URL


def test_documented_example_body_is_reproduced() -> None:
    sel = Selection(
        [
            Ref(IMG1, "image", status="Active"),
            Ref.from_url(OUTFIT_URL),
            Ref(AUD1, "audio", status="Active"),
        ]
    )
    prompt = (
        "[Image 1] walks toward the camera in the rain; keep the outfit from [Image 2]; "
        "music follows [Audio 1]."
    )
    body = build_request(
        wire.SEEDANCE_2,
        prompt,
        sel,
        ratio="9:16",
        duration=8,
        resolution="720p",
        generate_audio=True,
        watermark=False,
        seed=None,
    )
    assert body == {
        "model": wire.SEEDANCE_2,
        "prompt": prompt,
        "metadata": {
            "content": [
                {
                    "type": "image_url",
                    "image_url": {"url": "asset://" + IMG1},
                    "role": "reference_image",
                },
                {"type": "image_url", "image_url": {"url": OUTFIT_URL}, "role": "reference_image"},
                {
                    "type": "audio_url",
                    "audio_url": {"url": "asset://" + AUD1},
                    "role": "reference_audio",
                },
            ],
            "ratio": "9:16",
            "duration": 8,
            "resolution": "720p",
            "generate_audio": True,
            "watermark": False,
        },
    }


def test_text_only_body_omits_content_and_unset_params() -> None:
    body = build_request(wire.SEEDANCE_2, "  a fox in snow ", Selection())
    assert body == {"model": wire.SEEDANCE_2, "prompt": "a fox in snow", "metadata": {}}


def test_first_last_body() -> None:
    sel = Selection([Ref(IMG1, "image"), Ref.from_url(OUTFIT_URL)])
    body = build_request(wire.SEEDANCE_2, "slow morph", sel, mode="first_last")
    assert [c["role"] for c in body["metadata"]["content"]] == ["first_frame", "last_frame"]


def test_strict_raises_with_all_errors_but_not_for_warnings() -> None:
    sel = Selection([Ref(IMG1, "image", status="Failed")])
    with pytest.raises(CompositionError, match="fix these first") as info:
        build_request(wire.SEEDANCE_2, "[Image 2]", sel, duration=99)
    assert {i.code for i in info.value.issues} >= {
        codes.INVALID_DURATION,
        codes.ASSET_NOT_ACTIVE,
        codes.UNKNOWN_REFERENCE,
    }
    preview = build_request(wire.SEEDANCE_2, "[Image 2]", sel, duration=99, strict=False)
    assert preview["metadata"]["duration"] == 99
    # an unused reference is only a warning
    build_request(wire.SEEDANCE_2, "a walk", Selection([Ref(IMG1, "image")]))


def test_misspelt_and_mistyped_params_are_caught() -> None:
    with pytest.raises(TypeError, match="did you mean 'duration'"):
        build_request(wire.SEEDANCE_2, "x", Selection(), durration=5)
    with pytest.raises(TypeError, match="watermark must be True or False"):
        build_request(wire.SEEDANCE_2, "x", Selection(), watermark="no")
    with pytest.raises(ValueError, match="default, flex"):
        build_request(wire.SEEDANCE_2, "x", Selection(), service_tier="cheap")


def test_extra_fields_are_forwarded_but_not_twice() -> None:
    body = build_request(wire.SEEDANCE_2, "x", Selection(), seed=3, extra={"user_tag": "a"})
    assert body["metadata"] == {"seed": 3, "user_tag": "a"}
    with pytest.raises(ValueError, match="given twice"):
        build_request(wire.SEEDANCE_2, "x", Selection(), seed=3, extra={"seed": 4})
