from __future__ import annotations

import pytest

from orca_nb import wire
from orca_nb.media import (
    detect_asset_type,
    format_from_mime,
    format_from_name,
    mime_of,
    parse_asset_type,
    sniff,
    type_of_format,
)
from orca_nb.sandbox import synth
from tests.media.helpers import av_bytes


@pytest.mark.parametrize("fmt", synth.IMAGE_FORMATS)
def test_sniff_every_synth_image_format(fmt: str) -> None:
    assert sniff(synth.image_bytes(320, 320, fmt=fmt)) == fmt


def test_sniff_video_and_audio() -> None:
    assert sniff(synth.video_bytes(320, 320, seconds=0.5)) == "mp4"
    assert sniff(synth.video_bytes(320, 320, seconds=0.5, container="mov")) == "mov"
    assert sniff(synth.audio_bytes(0.5)) == "wav"
    assert sniff(synth.audio_bytes(0.5, fmt="mp3")) == "mp3"
    assert sniff(av_bytes("ipod", audio="aac", seconds=0.5)) == "m4a"
    assert sniff(av_bytes("flac", audio="flac", seconds=0.5)) == "flac"
    assert sniff(av_bytes("webm", video="libvpx", seconds=0.2)) == "webm"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1miaf", "avif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1", "heif"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00isom", "3gp"),
        (b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat", "mov"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"OggS\x00\x02", "ogg"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"FLV\x01", "flv"),
        (b"BM" + b"\x00" * 12 + b"\x28\x00\x00\x00", "bmp"),
        (b"BMW is a car brand, not a bitmap", None),
        (b"hello, I am text", None),
        (b"", None),
    ],
)
def test_sniff_signatures(head: bytes, fmt: str | None) -> None:
    assert sniff(head) == fmt


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("photo.JPG", "jpeg"),
        ("/tmp/a.b/clip.mov", "mov"),
        ("C:\\media\\song.mp3", "mp3"),
        ("https://cdn.test/x/clip.webm?sig=a.png", "webm"),
        ("https://cdn.test/x.png/", None),
        ("noext", None),
        ("archive.zip", None),
    ],
)
def test_format_from_name(name: str, fmt: str | None) -> None:
    assert format_from_name(name) == fmt


@pytest.mark.parametrize(
    ("mime", "fmt"),
    [
        ("image/jpeg", "jpeg"),
        ("image/JPG; charset=binary", "jpeg"),
        ("video/quicktime", "mov"),
        ("audio/x-wav", "wav"),
        ("audio/mpeg", "mp3"),
        ("video/webm", "webm"),
        ("application/octet-stream", None),
        ("", None),
        (None, None),
    ],
)
def test_format_from_mime(mime: str | None, fmt: str | None) -> None:
    assert format_from_mime(mime) == fmt


def test_every_accepted_format_has_a_type_and_mime() -> None:
    for asset_type, req in wire.REQUIREMENTS.items():
        for fmt in req.formats:
            assert type_of_format(fmt) == asset_type
            assert fmt in wire.FORMAT_MIME_TYPES
    assert type_of_format("flac") == "Audio"
    assert type_of_format("zip") is None


def test_detect_asset_type_prefers_content_then_name_then_mime() -> None:
    mp3 = synth.audio_bytes(0.5, fmt="mp3")
    assert detect_asset_type("cover.jpg", mp3) == "Audio"
    assert detect_asset_type("cover.jpg") == "Image"
    assert detect_asset_type("https://x.test/file", content_type="video/mp4") == "Video"
    assert detect_asset_type("https://x.test/file.txt", b"plain text") is None


@pytest.mark.parametrize(("value", "expected"), [("image", "Image"), (" VIDEO", "Video")])
def test_parse_asset_type(value: str, expected: str) -> None:
    assert parse_asset_type(value) == expected


def test_parse_asset_type_names_allowed_values() -> None:
    with pytest.raises(ValueError, match="Image, Video, Audio"):
        parse_asset_type("Text")


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("jpeg", "image/jpeg"),
        ("JPG", "image/jpeg"),
        ("m4v", "video/mp4"),
        ("mov", "video/quicktime"),
        ("mp3", "audio/mpeg"),
        ("txt", "application/octet-stream"),
        ("", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_mime_of(name: str | None, mime: str) -> None:
    assert mime_of(name) == mime
    if mime != "application/octet-stream":
        assert format_from_mime(mime_of(name)) == format_from_name(f"x.{name}")  # round trip
