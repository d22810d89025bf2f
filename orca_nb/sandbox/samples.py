"""The sandbox's demo library: sample media made by our own code, valid and deliberately invalid.

The sandbox serves each sample at ``{root_url}/sandbox/samples/{filename}``. Valid samples pass
the requirements table (``wire.REQUIREMENTS``) for their asset type; each invalid one breaks
exactly one rule and names the asset ``Error.Code`` the sandbox gives it (``expected_error``).
People follow the sandbox face rule (:mod:`orca_nb.sandbox.faces`): ``faces`` lists the labels
``detect_faces`` returns for a sample, so a real-human group verified as ``ada`` accepts
``ada_portrait.jpg``, answers ``FaceMismatch`` to ``ben_portrait.webp``, ``MultipleFaces`` to
``ada_and_ben.jpg`` and ``NoFaceDetected`` to ``scene_16x9.jpg``.

Bytes are generated on first use and cached in-process (thread-safe); :func:`set_cache_dir` (or
the ``ORCA_NB_SAMPLE_CACHE`` environment variable) adds an on-disk cache that survives restarts.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from PIL import Image, ImageDraw

from orca_nb import wire
from orca_nb.media import mime_of
from orca_nb.sandbox import synth

log = logging.getLogger(__name__)

CACHE_ENV: Final = "ORCA_NB_SAMPLE_CACHE"
#: Bumped whenever a sample's content changes, so stale on-disk copies are never served.
SAMPLES_VERSION: Final = "1"
_IMAGE = wire.REQUIREMENTS["Image"]


@dataclass(frozen=True)
class Sample:
    """One file of the demo library and what the sandbox will make of it."""

    filename: str
    asset_type: str  # "Image" | "Video" | "Audio" (the type to upload it as)
    title: str
    description: str
    person: str | None  # the one sample person shown, if any
    valid: bool  # passes the requirements table for asset_type
    expected_error: str | None  # wire.ASSET_ERROR_* the sandbox gives it; None when valid
    faces: tuple[str, ...] = ()  # what faces.detect_faces returns for it


def _image(
    width: int, height: int, fmt: str, seed: int, faces: tuple[str, ...] = (), closeup: bool = False
) -> Callable[[], bytes]:
    framing: synth.Framing = "closeup" if closeup else "full"
    return lambda: synth.image_bytes(
        width, height, fmt=fmt, seed=seed, faces=faces, framing=framing
    )


def _video(
    width: int,
    height: int,
    seconds: float,
    fps: int,
    container: str,
    seed: int,
    faces: tuple[str, ...] = (),
    audio: bool = False,
) -> Callable[[], bytes]:
    return lambda: synth.video_bytes(
        width,
        height,
        seconds=seconds,
        fps=fps,
        container=container,
        audio=audio,
        seed=seed,
        faces=faces,
    )


def _audio(seconds: float, fmt: str, freq: float, seed: int) -> Callable[[], bytes]:
    return lambda: synth.audio_bytes(seconds, fmt=fmt, freq=freq, seed=seed)


def _prop() -> bytes:
    """A square product shot: a mug with steam on a soft two-tone backdrop."""
    size = 1024
    image = Image.new("RGB", (size, size), (236, 226, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, size * 0.68, size, size), fill=(196, 176, 150))
    draw.ellipse((290, 760, 700, 830), fill=(170, 150, 125))  # shadow
    draw.rounded_rectangle((300, 420, 640, 790), radius=40, fill=(40, 130, 120))
    draw.ellipse((600, 500, 760, 690), outline=(40, 130, 120), width=38)  # handle
    draw.ellipse((300, 395, 640, 450), fill=(60, 150, 140))
    draw.ellipse((325, 405, 615, 440), fill=(90, 60, 40))  # coffee
    rng = random.Random(11)
    for x in (400, 470, 540):
        points = [
            (x + 18 * (1 if i % 2 else -1) + rng.uniform(-4, 4), 370 - 40 * i) for i in range(6)
        ]
        draw.line(points, fill=(250, 250, 250), width=10, joint="curve")
    return synth.encode_image(image, "png")


def _corrupt_video() -> bytes:
    """The start of a real MP4 (its ``ftyp`` box) followed by noise: claims mp4, decodes as none."""
    header = synth.video_bytes(320, 320, seconds=0.25, fps=24)[:32]
    return header + random.Random(5).randbytes(48_000)


def _text_as_jpeg() -> bytes:
    return (
        b"Meeting notes, Tuesday\n\n"
        b"- This file is plain text that was renamed to .jpg.\n"
        b"- The sandbox reads the bytes, not the name, and rejects it.\n"
    )


_CATALOGUE: Final[tuple[tuple[Sample, Callable[[], bytes]], ...]] = (
    # ------------------------------------------------------------------ valid images
    (
        Sample(
            "ada_portrait.jpg",
            "Image",
            "Ada, full body",
            "Vertical full-body frontal shot of Ada (9:16).",
            "ada",
            True,
            None,
            ("ada",),
        ),
        _image(1080, 1920, "jpeg", 1, ("ada",)),
    ),
    (
        Sample(
            "ada_closeup.png",
            "Image",
            "Ada, close-up",
            "Vertical close-up of Ada, face filling about two thirds of the frame (4:5).",
            "ada",
            True,
            None,
            ("ada",),
        ),
        _image(1080, 1350, "png", 2, ("ada",), closeup=True),
    ),
    (
        Sample(
            "ben_portrait.webp",
            "Image",
            "Ben, full body",
            "Vertical full-body frontal shot of Ben (9:16, WebP).",
            "ben",
            True,
            None,
            ("ben",),
        ),
        _image(1080, 1920, "webp", 3, ("ben",)),
    ),
    (
        Sample(
            "ben_closeup.heic",
            "Image",
            "Ben, close-up",
            "Vertical close-up of Ben (4:5, HEIC as phones save it).",
            "ben",
            True,
            None,
            ("ben",),
        ),
        _image(1200, 1500, "heic", 4, ("ben",), closeup=True),
    ),
    (
        Sample(
            "chen_portrait.jpg",
            "Image",
            "Chen, full body",
            "Vertical full-body shot of Chen: a third person, for face-mismatch demos.",
            "chen",
            True,
            None,
            ("chen",),
        ),
        _image(1080, 1920, "jpeg", 5, ("chen",)),
    ),
    (
        Sample(
            "chen_closeup.png",
            "Image",
            "Chen, close-up",
            "Vertical close-up of Chen (4:5).",
            "chen",
            True,
            None,
            ("chen",),
        ),
        _image(1080, 1350, "png", 14, ("chen",), closeup=True),
    ),
    (
        Sample(
            "dara_portrait.jpg",
            "Image",
            "Dara, full body",
            "Vertical full-body frontal shot of Dara (9:16).",
            "dara",
            True,
            None,
            ("dara",),
        ),
        _image(1080, 1920, "jpeg", 15, ("dara",)),
    ),
    (
        Sample(
            "dara_closeup.png",
            "Image",
            "Dara, close-up",
            "Vertical close-up of Dara (4:5).",
            "dara",
            True,
            None,
            ("dara",),
        ),
        _image(1080, 1350, "png", 16, ("dara",), closeup=True),
    ),
    (
        Sample(
            "eli_portrait.webp",
            "Image",
            "Eli, full body",
            "Vertical full-body frontal shot of Eli (9:16, WebP).",
            "eli",
            True,
            None,
            ("eli",),
        ),
        _image(1080, 1920, "webp", 17, ("eli",)),
    ),
    (
        Sample(
            "eli_closeup.jpg",
            "Image",
            "Eli, close-up",
            "Vertical close-up of Eli (4:5).",
            "eli",
            True,
            None,
            ("eli",),
        ),
        _image(1080, 1350, "jpeg", 18, ("eli",), closeup=True),
    ),
    (
        Sample(
            "ada_and_ben.jpg",
            "Image",
            "Ada and Ben",
            "Two people in one 16:9 frame: fine "
            "for a virtual group, rejected by a real-human group (MultipleFaces).",
            None,
            True,
            None,
            ("ada", "ben"),
        ),
        _image(1920, 1080, "jpeg", 6, ("ada", "ben")),
    ),
    (
        Sample(
            "scene_16x9.jpg",
            "Image",
            "Hills at noon",
            "A 16:9 landscape scene without people.",
            None,
            True,
            None,
        ),
        _image(1920, 1080, "jpeg", 7),
    ),
    (
        Sample(
            "prop_1x1.png",
            "Image",
            "Mug",
            "A square (1:1) product shot of a mug.",
            None,
            True,
            None,
        ),
        _prop,
    ),
    (
        Sample(
            "sunset.gif", "Image", "Sunset card", "A small 4:3 GIF landscape.", None, True, None
        ),
        _image(800, 600, "gif", 1),
    ),
    # ------------------------------------------------------------------ valid video and audio
    (
        Sample(
            "ada_wave.mp4",
            "Video",
            "Ada on the hills",
            "3 s 720p 24 fps H.264 clip of Ada with an AAC soundtrack.",
            "ada",
            True,
            None,
            ("ada",),
        ),
        _video(1280, 720, 3.0, 24, "mp4", 8, ("ada",), audio=True),
    ),
    (
        Sample(
            "scene_pan.mov",
            "Video",
            "Panning landscape",
            "3 s 720p 30 fps QuickTime clip panning across hills, no people.",
            None,
            True,
            None,
        ),
        _video(1280, 720, 3.0, 30, "mov", 9),
    ),
    (
        Sample(
            "theme.wav", "Audio", "Theme", "4 s soft chord, 16-bit stereo WAV.", None, True, None
        ),
        _audio(4.0, "wav", 261.63, 1),
    ),
    (
        Sample("chime.mp3", "Audio", "Chime", "5 s chord, 192 kb/s MP3.", None, True, None),
        _audio(5.0, "mp3", 392.0, 2),
    ),
    # ------------------------------------------------------------------ invalid on purpose
    (
        Sample(
            "tiny_200.png",
            "Image",
            "Too small",
            "200 x 200 px: sides must be at least 300 px.",
            None,
            False,
            wire.ASSET_ERROR_DIMENSIONS,
        ),
        _image(200, 200, "png", 10),
    ),
    (
        Sample(
            "panorama_3x1.jpg",
            "Image",
            "Too wide",
            f"A 3:1 panorama: width/height must be {_IMAGE.min_ratio} to {_IMAGE.max_ratio}.",
            None,
            False,
            wire.ASSET_ERROR_ASPECT_RATIO,
        ),
        _image(1800, 600, "jpeg", 11),
    ),
    (
        Sample(
            "short_1s.mp4",
            "Video",
            "Too short",
            "A 1 s clip: videos must last 2 to 15 s.",
            None,
            False,
            wire.ASSET_ERROR_DURATION,
        ),
        _video(1280, 720, 1.0, 24, "mp4", 12),
    ),
    (
        Sample(
            "slow_10fps.mp4",
            "Video",
            "Too few frames per second",
            "A 3 s clip at 10 fps: videos need 24 to 60 fps.",
            None,
            False,
            wire.ASSET_ERROR_FPS,
        ),
        _video(1280, 720, 3.0, 10, "mp4", 13),
    ),
    (
        Sample(
            "long_20s.wav",
            "Audio",
            "Too long",
            "A 20 s WAV: audio must last 2 to 15 s.",
            None,
            False,
            wire.ASSET_ERROR_DURATION,
        ),
        _audio(20.0, "wav", 220.0, 3),
    ),
    (
        Sample(
            "corrupt.mp4",
            "Video",
            "Corrupt video",
            "Starts like an MP4, then noise: no decoder can read it.",
            None,
            False,
            wire.ASSET_ERROR_CORRUPT,
        ),
        _corrupt_video,
    ),
    (
        Sample(
            "notes_disguised.jpg",
            "Image",
            "Text named .jpg",
            "A plain-text file renamed to .jpg: not an image format at all.",
            None,
            False,
            wire.ASSET_ERROR_FORMAT,
        ),
        _text_as_jpeg,
    ),
)

SAMPLES: Final[Mapping[str, Sample]] = MappingProxyType(
    {sample.filename: sample for sample, _ in _CATALOGUE}
)
_MAKERS: Final[Mapping[str, Callable[[], bytes]]] = MappingProxyType(
    {sample.filename: make for sample, make in _CATALOGUE}
)


def sample_catalogue() -> Mapping[str, Sample]:
    """The sandbox's sample files by filename (valid ones and deliberately invalid ones, each
    with its type, description and the error code the sandbox gives it): what the upload form
    lists. Read-only."""
    return SAMPLES


_cache: dict[str, bytes] = {}
_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in SAMPLES}
_cache_dir: Path | None = None
_cache_dir_set = False


def set_cache_dir(path: str | Path | None) -> None:
    """Keep generated samples in ``path`` too (``None``: in-process only). Overrides the env."""
    global _cache_dir, _cache_dir_set
    _cache_dir = None if path is None else Path(path)
    _cache_dir_set = True


def cache_dir() -> Path | None:
    """The on-disk cache in use: :func:`set_cache_dir`'s, else ``$ORCA_NB_SAMPLE_CACHE``."""
    if _cache_dir_set:
        return _cache_dir
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else None


def clear_memory_cache() -> None:
    """Forget in-process copies (the disk cache, if any, is kept)."""
    _cache.clear()


def sample_bytes(filename: str) -> bytes:
    """The bytes of sample ``filename`` (generated once, then served from the cache)."""
    if filename not in SAMPLES:
        raise KeyError(
            f"no sandbox sample named {filename!r}; available: {', '.join(sorted(SAMPLES))}"
        )
    cached = _cache.get(filename)
    if cached is not None:
        return cached
    with _locks[filename]:
        cached = _cache.get(filename)
        if cached is None:
            cached = _load_or_make(filename)
            _cache[filename] = cached
    return cached


def media_type(filename: str) -> str:
    """The MIME type a server sends for ``filename``, judged by its extension as servers do."""
    return mime_of(filename.rsplit(".", 1)[-1] if "." in filename else "")


def _load_or_make(filename: str) -> bytes:
    folder = cache_dir()
    path = folder / f"v{SAMPLES_VERSION}-{filename}" if folder is not None else None
    if path is not None and path.is_file():
        return path.read_bytes()
    data = _MAKERS[filename]()
    if path is not None:
        _write_atomically(path, data)
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and rename: never a half-written sample."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as exc:  # a read-only or full disk only costs regeneration next time
        log.warning("could not cache sandbox sample %s: %s", path.name, exc)
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
