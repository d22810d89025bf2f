"""Real media made by our own code: images, videos and audio for samples, tests and the sandbox.

Everything is deterministic: the same arguments give the same pixels and samples (encoders may
still differ across library versions). Pictures are a seeded landscape (sky gradient, sun,
clouds, hills) with optional sandbox people drawn on it, whose faces follow the rule documented
in :mod:`orca_nb.sandbox.faces`. Videos slowly pan across such a picture; audio is a soft chord.

* :func:`image_bytes` - jpeg, png, webp, bmp, tiff, gif or heic (pillow-heif).
* :func:`video_bytes` - mp4 or mov, H.264 yuv420p (PyAV), optional AAC stereo track.
* :func:`audio_bytes` - wav (stdlib ``wave``) or mp3 (PyAV's libmp3lame encoder).
"""

from __future__ import annotations

import contextlib
import io
import math
import random
import tempfile
import wave
from collections.abc import Sequence
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Final, Literal

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from orca_nb.sandbox.faces import MARKER_RGB, RING_FRACTION, face_colour

RGB = tuple[int, int, int]
Framing = Literal["full", "closeup"]

IMAGE_FORMATS: Final = ("jpeg", "png", "webp", "bmp", "tiff", "gif", "heic")
VIDEO_CONTAINERS: Final = ("mp4", "mov")
AUDIO_FORMATS: Final = ("wav", "mp3")
AUDIO_RATE: Final = 44_100
VIDEO_CODEC: Final = "libx264"
AUDIO_CODEC: Final = "aac"
MP3_CODEC: Final = "libmp3lame"

_PIL_FORMATS: Final = {
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "tif": "TIFF",
    "gif": "GIF",
    "heic": "HEIF",
    "heif": "HEIF",
}

# Moods: (sky top, sky bottom, sun, hills far, hills near). No colour here is marker-like:
# every one has green >= 100 or red < 150 or blue < 130 (see faces.is_marker).
_MOODS: Final[tuple[tuple[RGB, RGB, RGB, RGB, RGB], ...]] = (
    ((96, 160, 230), (200, 228, 250), (255, 236, 160), (110, 170, 140), (60, 130, 90)),
    ((250, 170, 120), (255, 224, 180), (255, 250, 220), (150, 120, 150), (90, 80, 120)),
    ((40, 60, 120), (120, 140, 200), (250, 240, 200), (50, 90, 110), (30, 60, 70)),
    ((140, 210, 220), (230, 245, 235), (255, 210, 120), (120, 180, 110), (200, 170, 100)),
    ((120, 110, 170), (250, 190, 170), (255, 220, 150), (100, 110, 150), (60, 70, 110)),
    ((170, 220, 250), (240, 250, 255), (255, 255, 230), (180, 200, 210), (100, 150, 170)),
)
_CLOTHES: Final[tuple[RGB, ...]] = (
    (50, 90, 160),
    (40, 130, 120),
    (180, 70, 60),
    (230, 180, 60),
    (90, 70, 140),
    (60, 60, 70),
)
_EYES: Final[RGB] = (45, 35, 35)
_SMILE: Final[RGB] = (150, 60, 60)


def register_heif() -> None:
    """Let Pillow read and write HEIC/HEIF (idempotent)."""
    _register_heif_once()


@cache
def _register_heif_once() -> None:
    from orca_nb.media.probe import register_heif_opener

    register_heif_opener()


# --------------------------------------------------------------------------- pictures
def draw_image(
    width: int,
    height: int,
    *,
    seed: int = 0,
    faces: Sequence[str] = (),
    framing: Framing = "full",
) -> Image.Image:
    """A deterministic RGB picture: a seeded landscape with the given sandbox people on it.

    ``faces`` are person names from ``faces.PEOPLE`` or ``face-rrggbb`` labels, drawn side by side.
    ``framing="full"`` draws full-body figures; ``"closeup"`` draws head and shoulders filling
    about two thirds of the frame height.
    """
    _check_size(width, height)
    image = _landscape(width, height, seed)
    _draw_people(image, faces, framing, seed)
    return image


def image_bytes(
    width: int,
    height: int,
    *,
    fmt: str = "png",
    seed: int = 0,
    faces: Sequence[str] = (),
    framing: Framing = "full",
) -> bytes:
    """An encoded picture from :func:`draw_image` in ``fmt`` (one of IMAGE_FORMATS)."""
    _pil_format(fmt)  # reject a bad format before drawing
    return encode_image(draw_image(width, height, seed=seed, faces=faces, framing=framing), fmt)


def encode_image(image: Image.Image, fmt: str) -> bytes:
    """Encode a Pillow image as ``fmt`` with sensible quality settings."""
    pil_format = _pil_format(fmt)
    buffer = io.BytesIO()
    rgb = image.convert("RGB")
    if pil_format == "JPEG":
        rgb.save(buffer, format="JPEG", quality=88)
    elif pil_format == "WEBP":
        rgb.save(buffer, format="WEBP", quality=85, method=2)
    elif pil_format == "GIF":
        rgb.quantize(colors=256, dither=Image.Dither.NONE).save(buffer, format="GIF")
    elif pil_format == "TIFF":
        rgb.save(buffer, format="TIFF", compression="tiff_deflate")
    elif pil_format == "HEIF":
        register_heif()
        rgb.save(buffer, format="HEIF", quality=80)
    elif pil_format == "PNG":
        rgb.save(buffer, format="PNG", compress_level=3)
    else:
        rgb.save(buffer, format=pil_format)
    return buffer.getvalue()


def _pil_format(fmt: str) -> str:
    pil_format = _PIL_FORMATS.get(fmt.lower())
    if pil_format is None:
        raise ValueError(f"unknown image format {fmt!r}: use one of {', '.join(IMAGE_FORMATS)}")
    return pil_format


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")


def _landscape(width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    sky_top, sky_bottom, sun, far, near = _MOODS[rng.randrange(len(_MOODS))]
    # The sky: a vertical gradient built small and stretched (cheap at any size).
    ramp = np.linspace(0.0, 1.0, 64, dtype=np.float32)[:, None]
    sky = np.array(sky_top, np.float32) * (1 - ramp) + np.array(sky_bottom, np.float32) * ramp
    column = Image.fromarray(sky.round().astype(np.uint8)[:, None, :].repeat(2, axis=1), "RGB")
    image = column.resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    unit = min(width, height)
    sun_r = unit * rng.uniform(0.07, 0.12)
    sun_x, sun_y = width * rng.uniform(0.15, 0.85), height * rng.uniform(0.12, 0.3)
    draw.ellipse((sun_x - sun_r, sun_y - sun_r, sun_x + sun_r, sun_y + sun_r), fill=sun)
    for _ in range(rng.randint(2, 4)):
        cx, cy = width * rng.uniform(0, 1), height * rng.uniform(0.08, 0.35)
        cw, ch = unit * rng.uniform(0.12, 0.25), unit * rng.uniform(0.04, 0.07)
        for dx in (-0.5, 0.0, 0.5):
            draw.ellipse(
                (cx + dx * cw - cw / 2, cy - ch, cx + dx * cw + cw / 2, cy + ch * (1 - abs(dx))),
                fill=(250, 250, 252),
            )
    for colour, base, amplitude in ((far, 0.55, 0.08), (near, 0.72, 0.06)):
        phase, waves = rng.uniform(0, 2 * math.pi), rng.uniform(1.0, 2.5)
        steps = 48
        points = [
            (
                width * i / steps,
                height * (base + amplitude * math.sin(phase + waves * 2 * math.pi * i / steps)),
            )
            for i in range(steps + 1)
        ]
        draw.polygon([*points, (width, height), (0, height)], fill=colour)
    return image


def _draw_people(image: Image.Image, faces: Sequence[str], framing: Framing, seed: int) -> None:
    if not faces:
        return
    colours = [face_colour(label) for label in faces]  # validates every label first
    draw = ImageDraw.Draw(image)
    width, height = image.size
    column = width / len(colours)
    for index, colour in enumerate(colours):
        cx = column * (index + 0.5)
        clothes = _CLOTHES[(seed + index) % len(_CLOTHES)]
        if framing == "closeup":
            radius = min(height * 0.3, column * 0.4)
            cy = height * 0.42
            shoulder = radius * 1.7
            draw.ellipse(
                (cx - shoulder, cy + radius * 0.9, cx + shoulder, cy + radius * 0.9 + 2 * shoulder),
                fill=clothes,
            )
        else:
            figure = height * 0.8
            radius = min(figure * 0.1, column * 0.3)
            top = height * 0.12
            cy = top + radius
            _draw_body(draw, cx, cy + radius, radius, height * 0.96, clothes)
        _draw_face(draw, cx, cy, radius, colour)


def _draw_body(
    draw: ImageDraw.ImageDraw, cx: float, neck: float, radius: float, floor: float, clothes: RGB
) -> None:
    torso_w = radius * 1.5
    hips = neck + (floor - neck) * 0.5
    limb = radius * 0.45
    draw.rounded_rectangle(
        (cx - torso_w, neck + radius * 0.1, cx + torso_w, hips), radius=radius * 0.5, fill=clothes
    )
    for side in (-1, 1):
        arm_x = cx + side * (torso_w + limb * 0.6)
        draw.rounded_rectangle(
            (arm_x - limb / 2, neck + radius * 0.3, arm_x + limb / 2, hips - radius * 0.2),
            radius=limb / 2,
            fill=clothes,
        )
        leg_x = cx + side * torso_w * 0.45
        draw.rounded_rectangle(
            (leg_x - limb * 0.7, hips - radius * 0.2, leg_x + limb * 0.7, floor),
            radius=limb / 2,
            fill=(60, 60, 80),
        )


def _draw_face(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, colour: RGB) -> None:
    """A sandbox face: marker ring, identity-colour disk, eyes and a smile."""
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=MARKER_RGB)
    inner = radius * (1 - RING_FRACTION)
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=colour)
    eye = radius * 0.07
    for side in (-1, 1):
        ex, ey = cx + side * radius * 0.3, cy - radius * 0.15
        draw.ellipse((ex - eye, ey - eye, ex + eye, ey + eye), fill=_EYES)
    smile = radius * 0.35
    draw.arc(
        (cx - smile, cy - smile * 0.4, cx + smile, cy + smile * 0.9),
        start=20,
        end=160,
        fill=_SMILE,
        width=max(1, round(radius * 0.05)),
    )


# --------------------------------------------------------------------------- audio
def tone(
    seconds: float, *, freq: float = 440.0, seed: int = 0, rate: int = AUDIO_RATE
) -> NDArray[np.float32]:
    """A soft stereo chord as float32 samples shaped ``(2, round(seconds * rate))`` in [-1, 1].

    The root is ``freq``; the seed picks the chord (major, minor, sus) and a slow tremolo, with
    gentle fade in/out so loops and cuts do not click.
    """
    if seconds <= 0:
        raise ValueError(f"audio length must be positive, got {seconds} s")
    if not 20.0 <= freq <= 8000.0:
        raise ValueError(f"tone frequency must be 20-8000 Hz, got {freq}")
    rng = random.Random(seed)
    intervals = rng.choice(((0, 4, 7), (0, 3, 7), (0, 5, 7), (0, 4, 7, 12)))
    count = round(seconds * rate)
    t = np.arange(count, dtype=np.float64) / rate
    left = np.zeros(count, dtype=np.float64)
    right = np.zeros(count, dtype=np.float64)
    for position, semitones in enumerate(intervals):
        f = freq * 2 ** (semitones / 12)
        wave_ = np.sin(2 * np.pi * f * t) + 0.25 * np.sin(4 * np.pi * f * t)
        pan = position / max(1, len(intervals) - 1)
        left += wave_ * (1 - 0.5 * pan)
        right += wave_ * (0.5 + 0.5 * pan)
    tremolo = 0.85 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 1.2) * t)
    fade = min(0.05 * rate, count / 4)
    envelope = np.minimum(1.0, np.minimum(np.arange(count) + 1, count - np.arange(count)) / fade)
    scale = 0.6 / (1.25 * len(intervals))
    stereo = np.stack([left, right]) * (tremolo * envelope * scale)
    return stereo.astype(np.float32)


def audio_bytes(seconds: float, *, fmt: str = "wav", freq: float = 440.0, seed: int = 0) -> bytes:
    """An encoded chord of exactly ``seconds``: 16-bit stereo 44.1 kHz wav, or a 192 kb/s mp3."""
    samples = tone(seconds, freq=freq, seed=seed)
    kind = fmt.lower()
    if kind == "wav":
        pcm = (samples.T * 32767).round().astype("<i2")
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(AUDIO_RATE)
            out.writeframes(pcm.tobytes())
        return buffer.getvalue()
    if kind == "mp3":
        return _encode_mp3(samples)
    raise ValueError(f"unknown audio format {fmt!r}: use one of {', '.join(AUDIO_FORMATS)}")


def _encode_mp3(samples: NDArray[np.float32]) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        stream = container.add_stream(MP3_CODEC, rate=AUDIO_RATE, layout="stereo")
        stream.bit_rate = 192_000
        _encode_audio(container, stream, samples)
    return buffer.getvalue()


def _encode_audio(container: object, stream: object, samples: NDArray[np.float32]) -> None:
    """Feed ``(2, n)`` float samples to an open audio stream in 1024-sample frames and flush."""
    chunk = 1024
    for start in range(0, samples.shape[1], chunk):
        block = np.ascontiguousarray(samples[:, start : start + chunk])
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        for packet in stream.encode(frame):  # type: ignore[attr-defined]
            container.mux(packet)  # type: ignore[attr-defined]
    for packet in stream.encode(None):  # type: ignore[attr-defined]
        container.mux(packet)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- video
def video_bytes(
    width: int,
    height: int,
    *,
    seconds: float,
    fps: int = 24,
    container: str = "mp4",
    audio: bool = False,
    seed: int = 0,
    faces: Sequence[str] = (),
    framing: Framing = "full",
) -> bytes:
    """An H.264 (yuv420p) video panning slowly across a :func:`draw_image` scene.

    Exactly ``round(seconds * fps)`` frames at constant ``fps``; ``container`` is mp4 or mov;
    ``audio=True`` adds an AAC stereo chord of the same length. Width and height must be even.
    """
    if container.lower() not in VIDEO_CONTAINERS:
        raise ValueError(
            f"unknown video container {container!r}: use one of {', '.join(VIDEO_CONTAINERS)}"
        )
    frames = frame_count(seconds, fps)
    _check_even(width, height)
    pan = max(2, width // 10)
    scene = draw_image(width + pan, height, seed=seed)
    pixels = np.asarray(scene, dtype=np.uint8)
    people = _people_layer(width, height, faces, framing, seed)
    writer = VideoWriter(width, height, fps=fps, container=container, audio=audio)
    with writer:
        for index in range(frames):
            offset = round(pan * index / max(1, frames - 1))
            if people is None:
                writer.write(np.ascontiguousarray(pixels[:, offset : offset + width]))
            else:  # Pillow's masked paste is the fastest way to lay the people over the scene
                frame = scene.crop((offset, 0, offset + width, height))
                frame.paste(people[0], (0, 0), people[1])
                writer.write_image(frame)
        if audio:
            writer.write_audio(tone(frames / fps, freq=330.0, seed=seed))
    return writer.getvalue()


def frame_count(seconds: float, fps: int) -> int:
    """Frames in a clip of ``seconds`` at ``fps`` (at least one); rejects nonsense values."""
    if fps < 1 or fps > 240:
        raise ValueError(f"fps must be 1-240, got {fps}")
    if not 0 < seconds <= 600:
        raise ValueError(f"video length must be more than 0 and at most 600 s, got {seconds}")
    return max(1, round(seconds * fps))


def _check_even(width: int, height: int) -> None:
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(
            f"H.264 yuv420p needs an even width and height of at least 2, got {width}x{height}"
        )


def _people_layer(
    width: int, height: int, faces: Sequence[str], framing: Framing, seed: int
) -> tuple[Image.Image, Image.Image] | None:
    """The people drawn alone, plus an ``L`` mask of their pixels, for compositing."""
    if not faces:
        return None
    key = (255, 255, 254)  # a colour people never use, marking "no person here"
    layer = Image.new("RGB", (width, height), key)
    _draw_people(layer, faces, framing, seed)
    drawn = np.any(np.asarray(layer) != np.array(key, np.uint8), axis=2)
    return layer, Image.fromarray((drawn * 255).astype(np.uint8), "L")


class VideoWriter:
    """Stream RGB frames (and optionally one block of audio) into an H.264 video.

    Frames go to the encoder as they come, so memory stays at about one frame; the file is built
    in a private temporary folder with its index (``moov``) first ("fast start"), so browsers can
    play it while it downloads. Use as a context manager; :meth:`getvalue` returns the finished
    bytes after the ``with`` block.
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        fps: int = 24,
        container: str = "mp4",
        audio: bool = False,
        crf: int = 23,
        preset: str = "superfast",
    ) -> None:
        _check_even(width, height)
        frame_count(1, fps)  # validates fps
        self.width, self.height, self.fps = width, height, fps
        self._folder = tempfile.TemporaryDirectory(prefix="orca-nb-video-")
        self._path = Path(self._folder.name) / f"out.{container.lower()}"
        self._data: bytes | None = None
        self._container = av.open(
            str(self._path), mode="w", format=container.lower(), options={"movflags": "+faststart"}
        )
        self._video = self._container.add_stream(VIDEO_CODEC, rate=fps)
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        self._video.time_base = Fraction(1, fps)
        self._video.options = {"crf": str(crf), "preset": preset}
        self._video.thread_count = 2
        self._audio = (
            self._container.add_stream(AUDIO_CODEC, rate=AUDIO_RATE, layout="stereo")
            if audio
            else None
        )
        if self._audio is not None:
            self._audio.bit_rate = 128_000
        self._frames = 0
        self._closed = False

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.abort()

    def abort(self) -> None:
        """Drop the unfinished video and its temporary folder."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(av.FFmpegError):
                self._container.close()
        self._folder.cleanup()

    def write(self, rgb: NDArray[np.uint8]) -> None:
        """Encode one ``(height, width, 3)`` uint8 RGB frame as the next frame."""
        if rgb.shape != (self.height, self.width, 3):
            raise ValueError(
                f"frame shape {rgb.shape} does not match the video {self.height}x{self.width}x3"
            )
        self._encode(av.VideoFrame.from_ndarray(rgb, format="rgb24"))

    def _encode(self, frame: av.VideoFrame) -> None:
        frame.pts = self._frames
        frame.time_base = Fraction(1, self.fps)
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self._frames += 1

    def write_image(self, image: Image.Image) -> None:
        """Encode one RGB Pillow image of the video's size as the next frame."""
        if image.size != (self.width, self.height):
            raise ValueError(
                f"image size {image.size} does not match the video {self.width}x{self.height}"
            )
        pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
        self._encode(av.VideoFrame.from_ndarray(pixels, format="rgb24"))

    def write_audio(self, samples: NDArray[np.float32]) -> None:
        """Encode ``(2, n)`` float32 samples at AUDIO_RATE as the whole audio track."""
        if self._audio is None:
            raise ValueError("this VideoWriter was opened without audio=True")
        _encode_audio(self._container, self._audio, samples)

    def close(self) -> None:
        """Flush the encoders, finish the container and keep its bytes (idempotent)."""
        if self._closed:
            return
        try:
            for packet in self._video.encode(None):
                self._container.mux(packet)
            self._container.close()
            self._closed = True
            if self._frames:  # with no frame written, no file was ever started
                self._data = self._path.read_bytes()
        finally:
            self.abort()

    def getvalue(self) -> bytes:
        """The finished video bytes (closes the writer if still open)."""
        self.close()
        if self._data is None:
            raise ValueError("the video has no bytes: it was aborted or got no frames")
        return self._data
