"""The sandbox's stand-in for Seedance: a real, playable MP4 made from a task's referenced media.

:func:`render_video` turns a :class:`RenderSpec` into an H.264 (yuv420p) MP4 of exactly
``width`` x ``height`` and ``round(seconds * fps)`` frames, plus an AAC stereo track when audio
is referenced or ``generate_audio`` is on. The picture is a sequence of *shots* of equal length
with short crossfades between them:

``first_frame`` (if any), each reference image, each reference video, ``last_frame`` (if any);
with no visual reference at all, one landscape drawn from the seed (text-to-video).

Images fill the frame ("cover": scaled to fill, overflow cropped; centred across, and near the
top for tall pictures, where portraits have the face) and move with a slow
seeded pan and zoom; the first frame of the output is exactly the cover-fit ``first_frame`` and
the last is exactly the cover-fit ``last_frame``. Videos play from their start (looping when
shorter than their shot), also cover-fitted. A caption strip shows the prompt, sized and
wrapped to fit the frame (:mod:`orca_nb.sandbox.render_caption`). Audio: the referenced tracks
mixed together, each looped or cut to the video's length; else, with ``generate_audio``, a soft
chord progression chosen by the seed. Frames are streamed to the encoder one at a time, so
memory stays at a few frames whatever the duration.
"""

from __future__ import annotations

import contextlib
import io
import random
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from queue import Empty, Full, Queue

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from orca_nb import wire
from orca_nb.sandbox import synth
from orca_nb.sandbox.render_caption import caption_image

MAX_ZOOM = 1.08  # the slow push-in/pull-out of still images
CROSSFADE_SECONDS = 0.5  # at most; never more than a third of a shot
PREFETCH_FRAMES = 4  # frames drawn ahead of the encoder
COVER_TOP_ANCHOR = 0.15  # where a too-tall picture is cut: 0 keeps its top, 0.5 its middle
_CHORDS = (1.0, 2 ** (7 / 12), 2 ** (9 / 12) / 2, 2 ** (5 / 12))  # I - V - vi - IV
_ROOTS = (196.0, 220.0, 246.94, 261.63, 293.66)


class RenderError(ValueError):
    """A referenced media item cannot be used for rendering (the message says which and why)."""


@dataclass(frozen=True)
class RenderSpec:
    """What to render: output size and length, the referenced media (as bytes), and options."""

    width: int
    height: int
    seconds: float
    fps: int = wire.OUTPUT_FPS
    images: Sequence[bytes] = field(default_factory=tuple)
    videos: Sequence[bytes] = field(default_factory=tuple)
    audios: Sequence[bytes] = field(default_factory=tuple)
    first_frame: bytes | None = None
    last_frame: bytes | None = None
    generate_audio: bool = False
    seed: int = 0
    prompt: str = ""

    @property
    def frames(self) -> int:
        """Frames in the output: ``round(seconds * fps)``."""
        return synth.frame_count(self.seconds, self.fps)

    @property
    def has_audio(self) -> bool:
        """Whether the output carries an audio track."""
        return bool(self.audios) or self.generate_audio


def render_video(spec: RenderSpec) -> bytes:
    """Render ``spec`` into MP4 bytes (see the module docstring for what the picture shows)."""
    shots = _shots(spec)
    try:
        with synth.VideoWriter(spec.width, spec.height, fps=spec.fps, audio=spec.has_audio) as out:
            # Frames are drawn on a helper thread while this one encodes: Pillow and x264 both
            # release the GIL, so the two overlap; the queue keeps only a few frames in memory.
            frames = _prefetch(_pictures(spec, shots), depth=PREFETCH_FRAMES)
            with contextlib.closing(frames):  # stops the helper thread even on errors
                for frame in frames:
                    out.write_image(frame)
            if spec.has_audio:
                out.write_audio(_soundtrack(spec, spec.frames / spec.fps))
    finally:
        for shot in shots:
            shot.close()
    return out.getvalue()


def _pictures(spec: RenderSpec, shots: list[_Shot]) -> Iterator[Image.Image]:
    """Every output frame in order, as RGB images of the output size."""
    total = spec.frames
    caption = caption_image(spec.prompt, spec.width, spec.height)
    span = total / len(shots)  # frames per shot
    fade = min(CROSSFADE_SECONDS * spec.fps, span / 3) if len(shots) > 1 else 0.0
    for index in range(total):
        position = index + 0.5  # the middle of the frame's time slot
        current = min(len(shots) - 1, int(position // span))
        frame = shots[current].frame(_local(position, current, span, total, spec.fps))
        blend = _blend_with(position, current, span, fade, len(shots))
        if blend is not None:
            other, weight = blend
            other_frame = shots[other].frame(_local(position, other, span, total, spec.fps))
            frame = Image.blend(frame, other_frame, weight)
        if caption is not None:
            frame.paste(caption, (0, spec.height - caption.height), caption)
        yield frame


_DONE = object()


def _prefetch(items: Iterator[Image.Image], *, depth: int) -> Generator[Image.Image]:
    """Run ``items`` on a worker thread, ``depth`` ahead; its exceptions surface here."""
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(item, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put(exc)

    worker = threading.Thread(target=produce, name="orca-render-frames", daemon=True)
    worker.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Image.Image)
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(Empty):
                queue.get_nowait()
            worker.join(timeout=0.05)


# --------------------------------------------------------------------------- timeline
def _local(position: float, shot: int, span: float, total: int, fps: int) -> tuple[float, float]:
    """(progress 0..1 through the shot, seconds since the shot started) for a frame position.

    The first frame of the video is progress 0 of the first shot, the last frame progress 1 of
    the last shot, so first/last frames show their images exactly.
    """
    start = shot * span
    frame = position - 0.5
    first, last = start, min(total, start + span) - 1
    progress = 0.0 if last <= first else (frame - first) / (last - first)
    return min(1.0, max(0.0, progress)), max(0.0, frame - first) / fps


def _blend_with(
    position: float, current: int, span: float, fade: float, count: int
) -> tuple[int, float] | None:
    """The neighbouring shot to mix in near a cut, and its weight (None away from cuts)."""
    if fade <= 0:
        return None
    offset = position - current * span  # frames into the current shot
    if current + 1 < count and span - offset < fade / 2:
        return current + 1, 0.5 - (span - offset) / fade
    if current > 0 and offset < fade / 2:
        return current - 1, 0.5 - offset / fade
    return None


class _Shot:
    def frame(self, when: tuple[float, float]) -> Image.Image:
        raise NotImplementedError

    def close(self) -> None:
        """Release decoders (nothing for stills)."""


@dataclass
class _Motion:
    zoom_from: float
    zoom_to: float
    pan_from: tuple[float, float]  # centre offset as a fraction of the spare room, -1..1
    pan_to: tuple[float, float]


class _StillShot(_Shot):
    """A picture filling the frame with a slow pan and zoom."""

    def __init__(self, picture: Image.Image, size: tuple[int, int], motion: _Motion) -> None:
        self.size = size
        self.motion = motion
        base = (round(size[0] * MAX_ZOOM), round(size[1] * MAX_ZOOM))
        self.base = _cover(picture, base)

    def frame(self, when: tuple[float, float]) -> Image.Image:
        progress = when[0]
        eased = progress * progress * (3 - 2 * progress)  # smoothstep: starts and ends softly
        m = self.motion
        zoom = m.zoom_from + (m.zoom_to - m.zoom_from) * eased
        px = m.pan_from[0] + (m.pan_to[0] - m.pan_from[0]) * eased
        py = m.pan_from[1] + (m.pan_to[1] - m.pan_from[1]) * eased
        width, height = self.base.size
        # The cover-fit at zoom 1 is the whole base (MAX_ZOOM x the output): show 1/zoom of it.
        view_w, view_h = width / zoom, height / zoom
        cx = width / 2 + px * (width - view_w) / 2
        cy = height / 2 + py * (height - view_h) / 2
        left, top = max(0.0, cx - view_w / 2), max(0.0, cy - view_h / 2)
        box = (left, top, min(width, left + view_w), min(height, top + view_h))
        return self.base.resize(self.size, Image.Resampling.BOX, box=box)  # BOX: half the cost


class _ClipShot(_Shot):
    """A reference video playing from its start, looping if shorter than the shot.

    Decodes on demand, holding only the frame on screen and the one after it.
    """

    def __init__(self, data: bytes, size: tuple[int, int], label: str) -> None:
        self.data, self.size, self.label = data, size, label
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[tuple[float, Image.Image]] | None = None
        self._loop_start = 0.0  # output seconds at which the current pass of the clip began
        self._last_raw = 0.0  # the latest frame time seen in this pass
        self._step = 1 / 24  # the clip's frame duration, read from its stream
        self._ahead: tuple[float, Image.Image] | None = None
        first = self._next()  # fail early, with a clear message, on a video without frames
        if first is None:
            raise RenderError(f"{label} has no decodable video frames")
        self._current = first

    def frame(self, when: tuple[float, float]) -> Image.Image:
        seconds = when[1]
        while True:
            if self._ahead is None:
                self._ahead = self._next()
                if self._ahead is None:
                    break
            if self._ahead[0] > seconds + 1e-6:
                break
            self._current, self._ahead = self._ahead, None
        return self._current[1].copy()

    def _next(self) -> tuple[float, Image.Image] | None:
        """The next frame as (output seconds, picture), starting the clip over at its end."""
        for _attempt in range(2):
            if self._frames is None:
                self._open()
            assert self._frames is not None
            try:
                raw, picture = next(self._frames)
            except StopIteration:
                self._loop_start += self._last_raw + self._step
                self._last_raw = 0.0
                self._frames = None
                continue
            except av.FFmpegError as exc:
                raise RenderError(f"{self.label} stopped decoding ({exc})") from exc
            self._last_raw = max(self._last_raw, raw)
            return self._loop_start + raw, picture
        return None

    def _open(self) -> None:
        self.close()
        try:
            container = av.open(io.BytesIO(self.data), mode="r")
        except av.FFmpegError as exc:
            raise RenderError(f"{self.label} is not a readable video ({exc})") from exc
        if not container.streams.video:
            container.close()
            raise RenderError(f"{self.label} has no video stream")
        self._container = container
        stream = container.streams.video[0]
        if stream.average_rate:
            self._step = 1 / float(stream.average_rate)
        self._frames = (
            (float(frame.time or 0.0), self._fit(frame)) for frame in container.decode(stream)
        )

    def _fit(self, frame: av.VideoFrame) -> Image.Image:
        pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        return _cover(Image.fromarray(pixels, "RGB"), self.size)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        self._frames = None


def _shots(spec: RenderSpec) -> list[_Shot]:
    size = (spec.width, spec.height)
    rng = random.Random(spec.seed)
    pictures: list[tuple[Image.Image, str]] = []
    if spec.first_frame is not None:
        pictures.append((_picture(spec.first_frame, "first_frame"), "first"))
    pictures += [(_picture(d, f"images[{i}]"), "middle") for i, d in enumerate(spec.images)]
    shots: list[_Shot] = [_StillShot(p, size, _motion(rng, role)) for p, role in pictures]
    shots += [_ClipShot(d, size, f"videos[{i}]") for i, d in enumerate(spec.videos)]
    if spec.last_frame is not None:
        last = _picture(spec.last_frame, "last_frame")
        shots.append(_StillShot(last, size, _motion(rng, "last")))
    if not shots:
        scene = synth.draw_image(spec.width, spec.height, seed=spec.seed)
        shots.append(_StillShot(scene, size, _motion(rng, "middle")))
    return shots[: spec.frames]  # never more shots than frames


def _motion(rng: random.Random, role: str) -> _Motion:
    wander = (rng.uniform(-1, 1), rng.uniform(-1, 1))
    if role == "first":
        return _Motion(1.0, MAX_ZOOM, (0.0, 0.0), wander)
    if role == "last":
        return _Motion(MAX_ZOOM, 1.0, wander, (0.0, 0.0))
    start = (rng.uniform(-1, 1), rng.uniform(-1, 1))
    if rng.random() < 0.5:
        return _Motion(1.02, MAX_ZOOM, start, wander)
    return _Motion(MAX_ZOOM, 1.02, start, wander)


def _picture(data: bytes, label: str) -> Image.Image:
    """Decode an image, or the first frame of a video given as an image reference."""
    synth.register_heif()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError):
        pass
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            for frame in container.decode(video=0):
                pixels = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                return Image.fromarray(pixels, "RGB")
    except (av.FFmpegError, IndexError):
        pass
    raise RenderError(f"{label} is not a readable image (jpeg, png, webp, bmp, tiff, gif, heic)")


def _cover(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale ``picture`` to fill ``size``, cropping what overflows (see COVER_TOP_ANCHOR)."""
    width, height = picture.size
    scale = max(size[0] / width, size[1] / height)
    view_w, view_h = size[0] / scale, size[1] / scale
    # Centred across; a tall picture keeps its upper part, where portraits have the face.
    left, top = max(0.0, (width - view_w) / 2), max(0.0, (height - view_h) * COVER_TOP_ANCHOR)
    box = (left, top, min(width, left + view_w), min(height, top + view_h))
    return picture.resize(size, Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)


# --------------------------------------------------------------------------- audio
def _soundtrack(spec: RenderSpec, seconds: float) -> NDArray[np.float32]:
    """The audio track: referenced audio mixed (looped/cut to length), else a seeded chord bed."""
    count = round(seconds * synth.AUDIO_RATE)
    if spec.audios:
        mix = np.zeros((2, count), dtype=np.float32)
        for index, data in enumerate(spec.audios):
            mix += _fit_length(_decode_audio(data, f"audios[{index}]", count), count)
        peak = float(np.abs(mix).max()) if count else 0.0
        if peak > 0.95:
            mix *= 0.95 / peak
    else:
        mix = _chord_bed(spec.seed, seconds, count)
    fade = min(count // 4, round(0.3 * synth.AUDIO_RATE))
    if fade:
        mix[:, count - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return mix


def _chord_bed(seed: int, seconds: float, count: int) -> NDArray[np.float32]:
    rng = random.Random(seed)
    root = rng.choice(_ROOTS)
    chords = max(1, min(len(_CHORDS), round(seconds / 1.5)))
    bounds = [round(count * k / chords) for k in range(chords + 1)]
    parts = [
        synth.tone(
            (bounds[k + 1] - bounds[k]) / synth.AUDIO_RATE, freq=root * _CHORDS[k], seed=seed + k
        )
        for k in range(chords)
        if bounds[k + 1] > bounds[k]
    ]
    bed = np.concatenate(parts, axis=1) if parts else np.zeros((2, 0), np.float32)
    return _fit_length(bed, count)


def _decode_audio(data: bytes, label: str, limit: int) -> NDArray[np.float32]:
    """Decode up to ``limit`` samples of any audio (or a video's sound) as stereo float32."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=synth.AUDIO_RATE)
    chunks: list[NDArray[np.float32]] = []
    have = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise RenderError(f"{label} has no audio stream")
            for frame in container.decode(audio=0):
                for converted in resampler.resample(frame):
                    block = np.asarray(converted.to_ndarray(), dtype=np.float32)
                    chunks.append(block.reshape(2, -1))
                    have += chunks[-1].shape[1]
                if have >= limit:
                    break
    except av.FFmpegError as exc:
        raise RenderError(f"{label} is not readable audio (wav or mp3): {exc}") from exc
    if not chunks:
        raise RenderError(f"{label} has no audio samples")
    return np.concatenate(chunks, axis=1)


def _fit_length(samples: NDArray[np.float32], count: int) -> NDArray[np.float32]:
    """Loop or cut ``(2, n)`` samples to exactly ``count``."""
    if samples.shape[1] == 0:
        return np.zeros((2, count), dtype=np.float32)
    repeats = -(-count // samples.shape[1])
    return np.tile(samples, (1, repeats))[:, :count]
