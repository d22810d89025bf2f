"""Poster frames: a video's still as a small JPEG, the one place the widgets and exports use."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from orca_nb import media, wire
from orca_nb.media import MediaUnreadableError, jpeg_data_uri, poster_data_uri, video_poster
from orca_nb.sandbox import synth
from orca_nb.widgets import thumbs
from tests.media.helpers import av_bytes


@pytest.fixture(scope="module")
def clip() -> bytes:
    return synth.video_bytes(640, 360, seconds=1.0, fps=12, seed=3)


def _open(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


def test_poster_is_a_jpeg_shrunk_to_max_side_keeping_the_aspect(clip: bytes) -> None:
    jpeg = video_poster(clip, max_side=160)
    image = _open(jpeg)
    assert image.format == "JPEG"
    assert image.size == (160, 90)


def test_poster_is_never_enlarged(clip: bytes) -> None:
    assert _open(video_poster(clip, max_side=4000)).size == (640, 360)


def test_default_poster_side_is_the_documented_constant(clip: bytes) -> None:
    assert max(_open(video_poster(clip)).size) == media.poster.POSTER_SIDE


def test_poster_shows_the_first_frame_by_default_and_a_later_one_on_request() -> None:
    # helpers.av_bytes paints frame i in grey level (7 * i) % 255: frame 0 black, frame 12 = 84.
    data = av_bytes("mp4", video="h264", seconds=2.0, fps=12, size=(64, 48))
    first = _open(video_poster(data, max_side=64)).convert("L")
    later = _open(video_poster(data, max_side=64, at_seconds=1.0)).convert("L")
    assert int(first.getpixel((32, 24))) < 12  # type: ignore[arg-type]
    assert abs(int(later.getpixel((32, 24))) - 84) < 12  # type: ignore[arg-type]


def test_a_time_past_the_end_gives_the_last_frame() -> None:
    data = av_bytes("mp4", video="h264", seconds=1.0, fps=12, size=(64, 48))
    last = _open(video_poster(data, max_side=64, at_seconds=60.0)).convert("L")
    assert abs(int(last.getpixel((32, 24))) - 77) < 12  # type: ignore[arg-type]  # frame 11


def test_data_uri_round_trips_the_jpeg(clip: bytes) -> None:
    jpeg = video_poster(clip, max_side=96)
    uri = jpeg_data_uri(jpeg)
    head, payload = uri.split(",", 1)
    assert head == "data:image/jpeg;base64"
    assert base64.b64decode(payload) == jpeg
    assert poster_data_uri(clip, max_side=96) == uri  # deterministic encoder, same settings
    assert all(c not in uri for c in "'\"<> ")  # safe inside an HTML attribute


@pytest.mark.parametrize(
    "data",
    [b"", b"not a video at all", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200],
    ids=["empty", "text", "truncated-mp4"],
)
def test_bytes_that_are_no_video_raise_a_typed_error(data: bytes) -> None:
    with pytest.raises(MediaUnreadableError):
        video_poster(data)


def test_an_audio_file_has_no_poster() -> None:
    with pytest.raises(MediaUnreadableError, match="no video stream") as caught:
        video_poster(synth.audio_bytes(0.5, fmt="mp3"))
    assert caught.value.code == wire.ASSET_ERROR_FORMAT


@pytest.mark.parametrize(
    "settings",
    [{"max_side": 0}, {"max_side": 5000}, {"quality": 0}, {"quality": 100},
     {"at_seconds": -1.0}, {"at_seconds": float("nan")}, {"quality": True}],
)  # fmt: skip
def test_settings_out_of_range_are_refused(clip: bytes, settings: dict[str, object]) -> None:
    name = next(iter(settings))
    with pytest.raises(ValueError, match=name):
        video_poster(clip, **settings)  # type: ignore[arg-type]


def test_max_side_must_be_an_int(clip: bytes) -> None:
    with pytest.raises(TypeError, match="max_side"):
        video_poster(clip, max_side=96.0)  # type: ignore[arg-type]


def test_widget_thumbnails_still_make_96px_posters(clip: bytes) -> None:
    uri = thumbs.video_poster(clip)
    assert uri.startswith("data:image/jpeg;base64,")
    image = _open(base64.b64decode(uri.split(",", 1)[1]))
    assert max(image.size) == thumbs.THUMB_SIDE
    assert thumbs.thumbnail(clip, "Video") == uri
