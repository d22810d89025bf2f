from __future__ import annotations

import contextlib
import struct
import zlib
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orca_nb import wire
from orca_nb.media import MediaInfo, MediaUnreadableError, probe_bytes, probe_file
from orca_nb.sandbox import synth
from tests.media.helpers import av_bytes, with_cover_art


@cache
def image(fmt: str, width: int = 640, height: int = 360) -> bytes:
    return synth.image_bytes(width, height, fmt=fmt, seed=1)


@cache
def video(container: str = "mp4", audio: bool = False, fps: int = 24) -> bytes:
    return synth.video_bytes(480, 320, seconds=2.0, fps=fps, container=container, audio=audio)


@cache
def sound(fmt: str = "wav", seconds: float = 3.0) -> bytes:
    return synth.audio_bytes(seconds, fmt=fmt)


@pytest.mark.parametrize("fmt", synth.IMAGE_FORMATS)
def test_every_image_format(fmt: str) -> None:
    data = image(fmt)
    assert probe_bytes(data) == MediaInfo("Image", fmt, len(data), 640, 360)


@pytest.mark.parametrize("container", synth.VIDEO_CONTAINERS)
@pytest.mark.parametrize("audio", [False, True])
def test_video(container: str, audio: bool) -> None:
    data = video(container, audio)
    info = probe_bytes(data)
    assert (info.kind, info.format, info.width, info.height) == ("Video", container, 480, 320)
    assert info.seconds == pytest.approx(2.0, abs=0.05)
    assert info.fps == 24.0
    assert info.has_audio is audio
    assert info.codec == "h264"
    assert info.bytes == len(data)


@pytest.mark.parametrize("fmt", synth.AUDIO_FORMATS)
def test_audio(fmt: str) -> None:
    info = probe_bytes(sound(fmt))
    assert (info.kind, info.format, info.width, info.fps) == ("Audio", fmt, None, None)
    assert info.seconds == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize(
    ("data", "kind", "fmt"),
    [
        (av_bytes("ipod", audio="aac", seconds=1), "Audio", "m4a"),
        (av_bytes("mp4", audio="aac", seconds=1), "Audio", "mp4"),
        (av_bytes("flac", audio="flac", seconds=1), "Audio", "flac"),
        (av_bytes("ogg", audio="libopus", seconds=1), "Audio", "ogg"),
        (av_bytes("webm", video="libvpx", seconds=0.5), "Video", "webm"),
        (av_bytes("avi", video="mpeg4", seconds=0.5), "Video", "avi"),
    ],
    ids=["m4a", "mp4-audio-only", "flac", "ogg", "webm", "avi"],
)
def test_formats_the_api_rejects_are_still_read(data: bytes, kind: str, fmt: str) -> None:
    info = probe_bytes(data)
    assert (info.kind, info.format) == (kind, fmt)


def test_cover_art_does_not_make_an_mp3_a_video() -> None:
    data = with_cover_art(sound("mp3"), image("jpeg", 320, 320), (320, 320))
    info = probe_bytes(data)
    assert (info.kind, info.format, info.width) == ("Audio", "mp3", None)
    assert info.seconds == pytest.approx(3.0, abs=0.05)


def test_fps_and_duration_of_a_low_fps_clip() -> None:
    info = probe_bytes(video(fps=12))
    assert info.fps == 12.0
    assert info.seconds == pytest.approx(2.0, abs=0.1)


def test_name_never_decides_the_format(tmp_path: Path) -> None:
    path = tmp_path / "actually_png.jpg"
    path.write_bytes(image("png"))
    assert probe_file(path).format == "png"


def test_probe_file_missing() -> None:
    with pytest.raises(FileNotFoundError):
        probe_file("/nonexistent/x.png")


@pytest.mark.parametrize(
    "data",
    [
        image("jpeg")[: len(image("jpeg")) // 2],
        image("png")[:-200],
        image("webp")[:-100],
        image("gif")[:200],
        image("heic")[: len(image("heic")) // 2],
        video()[: len(video()) // 2],
        video("mov")[:1000],
        sound("wav")[:40],
        sound("mp3")[:3],
    ],
    ids=["jpeg", "png", "webp", "gif", "heic", "mp4", "mov", "wav", "mp3"],
)
def test_truncated_files_are_unreadable_and_corrupt(data: bytes) -> None:
    with pytest.raises(MediaUnreadableError, match="truncated") as info:
        probe_bytes(data, name="upload.bin")
    assert info.value.code == wire.ASSET_ERROR_CORRUPT
    assert "'upload.bin'" in str(info.value)


@pytest.mark.parametrize(
    "data", [b"this is plain text, saved as photo.jpg\n" * 20, b"PK\x03\x04zip", b"\x00" * 64]
)
def test_unknown_bytes_are_unreadable_with_format_code(data: bytes) -> None:
    with pytest.raises(MediaUnreadableError, match="not an image, video or audio") as info:
        probe_bytes(data, name="photo.jpg")
    assert info.value.code == wire.ASSET_ERROR_FORMAT
    assert "jpeg" in str(info.value)  # lists what would work


def test_empty_bytes() -> None:
    with pytest.raises(MediaUnreadableError, match="empty"):
        probe_bytes(b"")


def test_wrong_argument_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="needs bytes"):
        probe_bytes("not bytes")  # type: ignore[arg-type]


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = b"".join(_chunk(kind, body) for kind, body in ((b"IHDR", ihdr), (b"IDAT", b"")))
    return b"\x89PNG\r\n\x1a\n" + chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + body))
    return struct.pack(">I", len(body)) + kind + body + crc


def test_decompression_bomb_is_a_dimensions_error() -> None:
    with pytest.raises(MediaUnreadableError, match="6000 px") as info:
        probe_bytes(_png_header(30_000, 30_000))
    assert info.value.code == wire.ASSET_ERROR_DIMENSIONS


def test_large_header_without_decode_reads_size() -> None:
    # 12000x9000 passes Pillow's bomb guard; decode=False trusts the header alone
    info = probe_bytes(_png_header(12_000, 9_000), decode=False)
    assert (info.width, info.height) == (12_000, 9_000)


def test_container_without_streams_is_unreadable() -> None:
    empty_wav = sound("wav")[:44]  # a header that promises data, but no samples
    with pytest.raises(MediaUnreadableError):
        probe_bytes(empty_wav)


def test_video_without_audio_stream_flags() -> None:
    assert probe_bytes(video(audio=True)).has_audio
    assert not probe_bytes(video()).has_audio


def test_same_bytes_same_answer() -> None:
    for data in (image("heic"), video("mov", True), sound("mp3")):
        assert probe_bytes(data) == probe_bytes(bytes(data))


@cache
def _seeds() -> list[bytes]:
    return [image("jpeg"), image("png"), image("heic"), video(), sound("wav"), sound("mp3")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 5),
    cut=st.integers(0, 10_000),
    flips=st.lists(st.tuples(st.integers(0, 2_000), st.integers(0, 255)), max_size=8),
)
def test_damaged_media_only_ever_raises_unreadable(
    which: int, cut: int, flips: list[tuple[int, int]]
) -> None:
    """The sandbox relies on it: bad data gives MediaUnreadableError, never anything else."""
    data = bytearray(_seeds()[which])
    data = data[: max(1, len(data) - cut)]
    for pos, value in flips:
        data[pos % len(data)] = value
    outcomes: list[object] = []
    for _ in range(2):
        try:
            outcomes.append(probe_bytes(bytes(data)))
        except MediaUnreadableError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]  # deterministic, messages included
    assert outcomes[0]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_unreadable(data: bytes) -> None:
    with contextlib.suppress(MediaUnreadableError):
        probe_bytes(data)


def test_concurrent_probes_agree_and_leave_warning_filters_alone() -> None:
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    before = list(warnings.filters)
    inputs = [image("jpeg"), image("png"), image("webp"), video(), sound("wav")] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(probe_bytes, inputs))
    assert results == [probe_bytes(data) for data in inputs]
    assert warnings.filters == before
