from __future__ import annotations

import pytest

from orca_nb import wire
from orca_nb.media import MediaInfo, Violation, check, probe_bytes, size_violation
from orca_nb.sandbox import synth

MB = wire.MB


def img(w: int = 1000, h: int = 1000, fmt: str = "jpeg", nbytes: int = 1000) -> MediaInfo:
    return MediaInfo("Image", fmt, nbytes, w, h)


def vid(
    w: int = 1280,
    h: int = 720,
    seconds: float | None = 5.0,
    fps: float | None = 24.0,
    fmt: str = "mp4",
    nbytes: int = 1000,
) -> MediaInfo:
    return MediaInfo("Video", fmt, nbytes, w, h, seconds, fps)


def aud(seconds: float | None = 5.0, fmt: str = "mp3", nbytes: int = 1000) -> MediaInfo:
    return MediaInfo("Audio", fmt, nbytes, seconds=seconds)


def fields(found: list[Violation]) -> list[tuple[str, str]]:
    return [(v.code, v.field) for v in found]


@pytest.mark.parametrize(
    "info",
    [
        img(300, 300),
        img(6000, 6000),
        img(1000, 400),  # ratio exactly 2.5
        img(400, 1000),  # ratio exactly 0.4
        img(nbytes=30 * MB - 1, fmt="heif"),
        vid(640, 640),  # 409,600 px exactly
        vid(1920, 1080, seconds=2.0, fps=60.0, nbytes=50 * MB),
        vid(1442, 1447),  # 2,086,574 px, below the 2,086,876 cap
        vid(seconds=15.04, fmt="mov"),  # within the container slack
        aud(2.0, "wav", 15 * MB),
        aud(15.0),
    ],
)
def test_boundaries_are_accepted(info: MediaInfo) -> None:
    assert check(info, info.kind) == []


def test_image_violations_in_fixed_order_with_advice() -> None:
    found = check(img(200, 7000, fmt="avif", nbytes=31 * MB), "Image")
    assert fields(found) == [
        (wire.ASSET_ERROR_FORMAT, "format"),
        (wire.ASSET_ERROR_SIZE, "bytes"),
        (wire.ASSET_ERROR_ASPECT_RATIO, "ratio"),
        (wire.ASSET_ERROR_DIMENSIONS, "width"),
        (wire.ASSET_ERROR_DIMENSIONS, "height"),
    ]
    fmt, size, ratio, width, height = (v.message for v in found)
    assert "avif is not accepted" in fmt
    assert "convert it to JPEG or PNG" in fmt
    assert "31.0 MB" in size
    assert "under 30.0 MB" in size
    assert "0.03 (200x7000)" in ratio
    assert "crop to between 0.4 and 2.5" in ratio
    assert "e.g. 200x500" in ratio
    assert "200 px, below the 300 px minimum" in width
    assert "7000 px, above the 6000 px maximum" in height


def test_too_wide_suggests_a_crop_width() -> None:
    (ratio,) = check(img(3000, 1000), "Image")
    assert ratio.code == wire.ASSET_ERROR_ASPECT_RATIO
    assert "e.g. 2500x1000" in ratio.message


def test_video_violations() -> None:
    found = check(vid(640, 480, seconds=1.0, fps=12.0, fmt="webm", nbytes=60 * MB), "Video")
    assert fields(found) == [
        (wire.ASSET_ERROR_FORMAT, "format"),
        (wire.ASSET_ERROR_SIZE, "bytes"),
        (wire.ASSET_ERROR_PIXELS, "pixels"),
        (wire.ASSET_ERROR_DURATION, "seconds"),
        (wire.ASSET_ERROR_FPS, "fps"),
    ]
    assert "307,200 pixels" in found[2].message
    assert "409,600-2,086,876" in found[2].message
    assert "1.00 s long, shorter than the 2 s minimum" in found[3].message
    assert "12 fps, below the 24 fps minimum" in found[4].message
    assert "at most 50.0 MB" in found[1].message


def test_video_upper_bounds() -> None:
    found = check(vid(1920, 1088, seconds=16.0, fps=120.0), "Video")
    assert fields(found) == [
        (wire.ASSET_ERROR_PIXELS, "pixels"),
        (wire.ASSET_ERROR_DURATION, "seconds"),
        (wire.ASSET_ERROR_FPS, "fps"),
    ]
    assert "trim it" in found[1].message


def test_ntsc_rate_is_below_24() -> None:
    (fps,) = check(vid(fps=23.976), "Video")
    assert "23.976 counts as below" in fps.message


def test_unknown_length_and_rate_are_violations() -> None:
    found = check(vid(seconds=None, fps=None), "Video")
    assert fields(found) == [
        (wire.ASSET_ERROR_DURATION, "seconds"),
        (wire.ASSET_ERROR_FPS, "fps"),
    ]


def test_audio_violations() -> None:
    found = check(aud(20.0, "flac", 16 * MB), "Audio")
    assert fields(found) == [
        (wire.ASSET_ERROR_FORMAT, "format"),
        (wire.ASSET_ERROR_SIZE, "bytes"),
        (wire.ASSET_ERROR_DURATION, "seconds"),
    ]
    assert "convert it to MP3 or WAV" in found[0].message


def test_type_mismatch_reports_only_the_mismatch_and_size() -> None:
    (mismatch,) = check(aud(), "Image")
    assert (mismatch.code, mismatch.field) == (wire.ASSET_ERROR_FORMAT, "asset_type")
    assert "an audio file (mp3) but the asset type is Image" in mismatch.message
    assert "AssetType 'Audio'" in mismatch.message
    found = check(vid(nbytes=40 * MB), "Image")
    assert fields(found) == [
        (wire.ASSET_ERROR_FORMAT, "asset_type"),
        (wire.ASSET_ERROR_SIZE, "bytes"),
    ]


def test_asset_type_is_checked_and_case_tolerant() -> None:
    assert check(img(), "image") == []
    with pytest.raises(ValueError, match="Image, Video, Audio"):
        check(img(), "Picture")


def test_size_violation_helper() -> None:
    assert size_violation(15 * MB, "Audio") is None
    over = size_violation(15 * MB + 1, "Audio", at_least=True)
    assert over is not None
    assert "more than 15.0 MB" in over.message


def test_check_on_real_probed_media() -> None:
    small = probe_bytes(synth.image_bytes(200, 400, fmt="png"))
    assert fields(check(small, "Image")) == [(wire.ASSET_ERROR_DIMENSIONS, "width")]
    low = probe_bytes(synth.video_bytes(640, 480, seconds=1.0, fps=12))
    assert fields(check(low, "Video")) == [
        (wire.ASSET_ERROR_PIXELS, "pixels"),
        (wire.ASSET_ERROR_DURATION, "seconds"),
        (wire.ASSET_ERROR_FPS, "fps"),
    ]
    assert check(probe_bytes(synth.video_bytes(1280, 720, seconds=2.0)), "Video") == []
