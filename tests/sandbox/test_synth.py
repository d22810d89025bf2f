"""synth makes real media: Pillow and PyAV read back exactly what was asked for."""

from __future__ import annotations

import io
import time
import wave

import av
import numpy as np
import pytest
from PIL import Image

from orca_nb.sandbox import synth

PIL_NAMES = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "gif": "GIF",
    "heic": "HEIF",
}


@pytest.mark.parametrize("fmt", synth.IMAGE_FORMATS)
def test_image_in_every_format_reads_back_with_its_size(fmt: str) -> None:
    data = synth.image_bytes(640, 360, fmt=fmt, seed=4)
    synth.register_heif()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == PIL_NAMES[fmt]
        assert image.size == (640, 360)
        image.load()


def test_every_requirements_image_format_is_covered() -> None:
    from orca_nb import wire

    names = set(wire.REQUIREMENTS["Image"].formats) - {"heif"}
    assert names <= set(synth.IMAGE_FORMATS)


def test_images_are_deterministic_and_seeded() -> None:
    first = synth.image_bytes(320, 480, seed=7, faces=["ada"])
    assert first == synth.image_bytes(320, 480, seed=7, faces=["ada"])
    assert first != synth.image_bytes(320, 480, seed=8, faces=["ada"])


def test_picture_has_content_not_a_flat_fill() -> None:
    pixels = np.asarray(synth.draw_image(400, 300, seed=1))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20
    assert pixels.std() > 20


def test_bad_image_arguments_are_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="use one of jpeg"):
        synth.image_bytes(10, 10, fmt="svg")
    with pytest.raises(ValueError, match="must be positive"):
        synth.image_bytes(0, 10)
    with pytest.raises(ValueError, match="unknown face 'zed'"):
        synth.image_bytes(300, 300, faces=["zed"])


@pytest.mark.parametrize(
    ("container", "width", "height", "seconds", "fps", "audio"),
    [
        ("mp4", 1280, 720, 3.0, 24, True),
        ("mov", 640, 640, 2.0, 30, False),
        ("mp4", 720, 1280, 1.0, 10, False),
    ],
)
def test_video_reads_back_with_exact_properties(
    container: str, width: int, height: int, seconds: float, fps: int, audio: bool
) -> None:
    data = synth.video_bytes(
        width, height, seconds=seconds, fps=fps, container=container, audio=audio, faces=["ben"]
    )
    with av.open(io.BytesIO(data), mode="r") as media:
        assert container in media.format.name.split(",")
        stream = media.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (width, height)
        assert stream.average_rate == fps
        assert stream.frames == round(seconds * fps)
        assert stream.duration is not None
        assert stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(seconds, abs=1 / fps)
        assert len(media.streams.audio) == (1 if audio else 0)
        if audio:
            track = media.streams.audio[0]
            assert track.codec_context.name == "aac"
            assert track.duration is not None
            assert track.time_base is not None
            assert float(track.duration * track.time_base) == pytest.approx(seconds, abs=0.05)
        decoded = len(list(media.decode(video=0)))
    assert decoded == round(seconds * fps)


def test_video_is_fast_for_a_3s_720p_clip() -> None:
    start = time.perf_counter()
    synth.video_bytes(1280, 720, seconds=3, fps=24)
    assert time.perf_counter() - start < 4.0  # about 0.6 s alone; generous for a shared machine


def test_video_rejects_odd_sizes_and_bad_containers() -> None:
    with pytest.raises(ValueError, match="even width and height"):
        synth.video_bytes(641, 480, seconds=1)
    with pytest.raises(ValueError, match="use one of mp4, mov"):
        synth.video_bytes(640, 480, seconds=1, container="avi")
    with pytest.raises(ValueError, match="fps must be"):
        synth.video_bytes(640, 480, seconds=1, fps=0)


def test_video_writer_rejects_a_frame_of_the_wrong_shape() -> None:
    with synth.VideoWriter(64, 48) as writer, pytest.raises(ValueError, match="does not match"):
        writer.write(np.zeros((48, 60, 3), np.uint8))


def test_wav_has_exact_length_and_layout() -> None:
    data = synth.audio_bytes(2.5, fmt="wav", freq=220.0, seed=3)
    with wave.open(io.BytesIO(data)) as clip:
        assert clip.getnchannels() == 2
        assert clip.getsampwidth() == 2
        assert clip.getframerate() == synth.AUDIO_RATE
        assert clip.getnframes() == round(2.5 * synth.AUDIO_RATE)
        samples = np.frombuffer(clip.readframes(clip.getnframes()), "<i2")
    assert 1000 < np.abs(samples).max() < 32767  # audible, not clipped


def test_mp3_is_real_mp3_of_the_requested_length() -> None:
    assert synth.MP3_CODEC in av.codecs_available
    data = synth.audio_bytes(3.0, fmt="mp3")
    with av.open(io.BytesIO(data), mode="r") as media:
        assert media.format.name == "mp3"
        stream = media.streams.audio[0]
        assert stream.codec_context.name in {"mp3", "mp3float"}
        assert (stream.rate, stream.channels) == (synth.AUDIO_RATE, 2)
        assert media.duration is not None
        assert media.duration / 1e6 == pytest.approx(3.0, abs=0.05)
        samples = sum(int(frame.samples) for frame in media.decode(audio=0))
    assert samples / synth.AUDIO_RATE == pytest.approx(3.0, abs=0.06)


def test_audio_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="use one of wav, mp3"):
        synth.audio_bytes(2, fmt="ogg")
    with pytest.raises(ValueError, match="must be positive"):
        synth.audio_bytes(0)
    with pytest.raises(ValueError, match="20-8000 Hz"):
        synth.audio_bytes(1, freq=5)


def test_videos_start_with_their_index_so_browsers_stream_them() -> None:
    data = synth.video_bytes(320, 240, seconds=1, audio=True)
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_an_empty_or_aborted_writer_has_no_bytes_and_leaves_no_files() -> None:
    writer = synth.VideoWriter(64, 48)
    folder = writer._path.parent
    with pytest.raises(ValueError, match="no bytes"):
        writer.getvalue()
    assert not folder.exists()
    failing = synth.VideoWriter(64, 48)
    failing.write(np.zeros((48, 64, 3), np.uint8))
    failing.__exit__(RuntimeError, RuntimeError("boom"), None)  # as a with block that raised
    assert not failing._path.parent.exists()
    with pytest.raises(ValueError, match="aborted"):
        failing.getvalue()
