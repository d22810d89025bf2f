"""The demo library: every sample is real media whose properties match its promise."""

from __future__ import annotations

import io
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from PIL import Image, UnidentifiedImageError

from orca_nb import wire
from orca_nb.sandbox import faces, samples, synth
from orca_nb.sandbox.samples import SAMPLES, Sample, media_type, sample_bytes


@dataclass(frozen=True)
class Seen:
    kind: str
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None
    has_audio: bool = False


def look(data: bytes) -> Seen | None:
    """What Pillow/PyAV read from the bytes (None: unreadable), independent of orca_nb.media."""
    synth.register_heif()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return Seen("Image", image.width, image.height)
    except (UnidentifiedImageError, OSError):
        pass
    try:
        with av.open(io.BytesIO(data), mode="r") as media:
            seconds = (media.duration or 0) / 1e6
            if media.streams.video:
                video = media.streams.video[0]
                list(media.decode(video=0))  # every frame must decode
                return Seen(
                    "Video",
                    video.width,
                    video.height,
                    seconds,
                    float(video.average_rate or 0),
                    bool(media.streams.audio),
                )
            return Seen("Audio", seconds=seconds)
    except av.FFmpegError:
        return None


def violations(seen: Seen, asset_type: str) -> set[str]:
    """The requirement-table codes this media breaks (a test-side reading of wire.REQUIREMENTS)."""
    rule = wire.REQUIREMENTS[asset_type]
    broken: set[str] = set()
    if seen.width is not None and seen.height is not None:
        ratio = seen.width / seen.height
        if (rule.min_ratio and ratio < rule.min_ratio) or (
            rule.max_ratio and ratio > rule.max_ratio
        ):
            broken.add(wire.ASSET_ERROR_ASPECT_RATIO)
        sides = (seen.width, seen.height)
        if (rule.min_side and min(sides) < rule.min_side) or (
            rule.max_side and max(sides) > rule.max_side
        ):
            broken.add(wire.ASSET_ERROR_DIMENSIONS)
        pixels = seen.width * seen.height
        if (rule.min_pixels and pixels < rule.min_pixels) or (
            rule.max_pixels and pixels > rule.max_pixels
        ):
            broken.add(wire.ASSET_ERROR_PIXELS)
    if seen.seconds is not None and not (
        (rule.min_seconds or 0) <= seen.seconds <= (rule.max_seconds or float("inf"))
    ):
        broken.add(wire.ASSET_ERROR_DURATION)
    if seen.fps is not None and not (
        (rule.min_fps or 0) <= seen.fps <= (rule.max_fps or float("inf"))
    ):
        broken.add(wire.ASSET_ERROR_FPS)
    return broken


UNREADABLE = {wire.ASSET_ERROR_CORRUPT, wire.ASSET_ERROR_FORMAT}
VALID = [s for s in SAMPLES.values() if s.valid]
INVALID = [s for s in SAMPLES.values() if not s.valid]


def name(sample: Sample) -> str:
    return sample.filename


def test_catalogue_has_what_the_demos_need() -> None:
    valid = [s for s in SAMPLES.values() if s.valid]
    people = {s.person for s in valid if s.person and s.asset_type == "Image"}
    assert {"ada", "ben"} <= people
    for person in ("ada", "ben"):
        assert any(s.person == person and "close-up" in s.title for s in valid)
        assert any(s.person == person and "full body" in s.title for s in valid)
    assert any(len(s.faces) == 2 for s in valid)
    assert {Path(s.filename).suffix for s in valid} >= {".jpg", ".mp4", ".mov", ".wav", ".mp3"}
    expected = {s.expected_error for s in SAMPLES.values() if not s.valid}
    assert expected == {
        wire.ASSET_ERROR_DIMENSIONS,
        wire.ASSET_ERROR_ASPECT_RATIO,
        wire.ASSET_ERROR_DURATION,
        wire.ASSET_ERROR_FPS,
        wire.ASSET_ERROR_CORRUPT,
        wire.ASSET_ERROR_FORMAT,
    }
    assert all((s.expected_error is None) == s.valid for s in SAMPLES.values())
    assert all(s.asset_type in wire.ASSET_TYPES for s in SAMPLES.values())
    assert all(s.person is None or s.faces == (s.person,) for s in SAMPLES.values())


@pytest.mark.parametrize("sample", VALID, ids=name)
def test_valid_samples_pass_the_requirements_table(sample: Sample) -> None:
    data = sample_bytes(sample.filename)
    seen = look(data)
    assert seen is not None
    assert seen.kind == sample.asset_type
    assert violations(seen, sample.asset_type) == set()
    assert len(data) <= wire.REQUIREMENTS[sample.asset_type].max_bytes
    fmt = wire.FORMAT_EXTENSIONS[Path(sample.filename).suffix[1:]]
    assert fmt in wire.REQUIREMENTS[sample.asset_type].formats


@pytest.mark.parametrize(
    "sample", [s for s in INVALID if s.expected_error not in UNREADABLE], ids=name
)
def test_invalid_samples_break_exactly_their_one_rule(sample: Sample) -> None:
    seen = look(sample_bytes(sample.filename))
    assert seen is not None
    assert seen.kind == sample.asset_type
    assert violations(seen, sample.asset_type) == {sample.expected_error}


def test_corrupt_and_disguised_samples_are_unreadable() -> None:
    corrupt = sample_bytes("corrupt.mp4")
    assert corrupt[4:8] == b"ftyp"  # claims to be an MP4
    assert look(corrupt) is None
    disguised = sample_bytes("notes_disguised.jpg")
    assert disguised.decode("ascii").startswith("Meeting notes")  # plain text, no image magic
    assert look(disguised) is None
    assert media_type("notes_disguised.jpg") == "image/jpeg"  # the name lies


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES.values() if s.asset_type != "Audio"], ids=name
)
def test_sample_faces_follow_the_face_rule(sample: Sample) -> None:
    data = sample_bytes(sample.filename)
    if look(data) is None:
        with pytest.raises(faces.FaceDetectionError):
            faces.detect_faces(data)
    else:
        assert tuple(faces.detect_faces(data)) == sample.faces


def test_videos_and_audio_have_the_promised_details() -> None:
    clip = look(sample_bytes("ada_wave.mp4"))
    assert clip == Seen("Video", 1280, 720, 3.0, 24.0, True)
    mov = look(sample_bytes("scene_pan.mov"))
    assert mov == Seen("Video", 1280, 720, 3.0, 30.0, False)
    with wave.open(io.BytesIO(sample_bytes("theme.wav"))) as theme:
        assert theme.getnframes() / theme.getframerate() == pytest.approx(4.0)
    chime = look(sample_bytes("chime.mp3"))
    assert chime is not None
    assert chime.seconds == pytest.approx(5.0, abs=0.06)


def test_media_types_follow_the_extension() -> None:
    assert media_type("ada_portrait.jpg") == "image/jpeg"
    assert media_type("ben_closeup.heic") == "image/heic"
    assert media_type("scene_pan.mov") == "video/quicktime"
    assert media_type("chime.mp3") == "audio/mpeg"
    assert media_type("theme.wav") == "audio/wav"
    assert media_type("README") == "application/octet-stream"
    assert all(media_type(name) != "application/octet-stream" for name in SAMPLES)


def test_unknown_sample_names_list_the_available_ones() -> None:
    with pytest.raises(KeyError, match=r"ada_portrait\.jpg"):
        sample_bytes("nope.jpg")


def test_bytes_are_generated_once_and_shared_across_threads() -> None:
    samples.clear_memory_cache()
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(sample_bytes("tiny_200.png")))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert all(r is results[0] for r in results)
    assert sample_bytes("tiny_200.png") is results[0]


def test_disk_cache_serves_after_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples.set_cache_dir(tmp_path)
    try:
        samples.clear_memory_cache()
        first = sample_bytes("prop_1x1.png")
        stored = tmp_path / f"v{samples.SAMPLES_VERSION}-prop_1x1.png"
        assert stored.read_bytes() == first
        stored.write_bytes(b"marker")  # prove the next read comes from disk, not a redraw
        samples.clear_memory_cache()
        assert sample_bytes("prop_1x1.png") == b"marker"
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    finally:
        samples.set_cache_dir(None)
        samples.clear_memory_cache()
    monkeypatch.setattr(samples, "_cache_dir_set", False)
    monkeypatch.setenv(samples.CACHE_ENV, str(tmp_path / "env"))
    assert samples.cache_dir() == tmp_path / "env"


def test_unwritable_cache_dir_only_costs_regeneration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    samples.set_cache_dir(blocker / "sub")  # a folder below a file cannot be made
    try:
        samples.clear_memory_cache()
        assert look(sample_bytes("tiny_200.png")) == Seen("Image", 200, 200)
        assert "could not cache sandbox sample v1-tiny_200.png" in caplog.text
    finally:
        samples.set_cache_dir(None)
        samples.clear_memory_cache()


def test_sandbox_processing_gives_each_sample_its_expected_code() -> None:
    """End to end with the sandbox's own rules (needs H2's probe in orca_nb.media)."""
    import orca_nb.media

    if not hasattr(orca_nb.media, "probe_bytes"):
        pytest.skip("orca_nb.media.probe_bytes is not written yet")
    from orca_nb.sandbox.processing import evaluate

    for sample in SAMPLES.values():
        verdict = evaluate(sample_bytes(sample.filename), sample.asset_type, name=sample.filename)
        assert verdict.code == sample.expected_error, sample.filename
    for filename, code in {
        "ada_portrait.jpg": None,
        "ada_closeup.png": None,
        "ada_wave.mp4": None,
        "ben_portrait.webp": wire.ASSET_ERROR_FACE_MISMATCH,
        "ada_and_ben.jpg": wire.ASSET_ERROR_MULTIPLE_FACES,
        "scene_16x9.jpg": wire.ASSET_ERROR_NO_FACE,
    }.items():
        sample = SAMPLES[filename]
        verdict = evaluate(sample_bytes(filename), sample.asset_type, name=filename, person="ada")
        assert verdict.code == code, filename
