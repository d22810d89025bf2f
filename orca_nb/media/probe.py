"""Read what a media file is: kind, format, size in bytes and pixels, length, frame rate.

Images are read with Pillow (pillow-heif registered for HEIC/HEIF), video and audio with PyAV.
The format comes from the file's magic bytes (:func:`orca_nb.media.formats.sniff`), never from
its name. Truncated or corrupt files are caught here: ISO (mp4/mov/heic) and RIFF (wav/webp)
files must hold every byte their boxes/chunks announce, and the data is decoded as far as is
cheap - the first video frame, the first audio frame, JPEGs at 1/8 scale, PNG chunk CRCs, other
images whole; HEIC/HEIF/AVIF get the structural check only (a full decode costs ~350 ms).

The contract the sandbox relies on: for any bytes, :func:`probe_bytes` either returns a
:class:`MediaInfo` or raises :class:`~orca_nb.media.errors.MediaUnreadableError`, and gives the
same answer for the same bytes.
"""

from __future__ import annotations

import io
import math
import re
import threading
import warnings
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from os import PathLike
from pathlib import Path
from typing import Any, Final

from PIL import Image, UnidentifiedImageError

from orca_nb import wire
from orca_nb.media.errors import MediaUnreadableError
from orca_nb.media.formats import sniff

_PIL_FORMATS: Final[dict[str, str]] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
    "webp": "WEBP",
    "heic": "HEIF",
    "heif": "HEIF",
    "avif": "AVIF",
}
# PyAV demuxer to use per sniffed format (naming it skips content guessing).
_AV_DEMUXERS: Final[dict[str, str]] = {
    "mp4": "mp4",
    "mov": "mov",
    "m4a": "mp4",
    "3gp": "mp4",
    "wav": "wav",
    "mp3": "mp3",
    "aac": "aac",
    "ogg": "ogg",
    "flac": "flac",
    "webm": "matroska",
    "matroska": "matroska",
    "avi": "avi",
    "flv": "flv",
}
# wav's stream facts are all in its header; the default probe would read ~5 MB of samples.
_AV_OPTIONS: Final[dict[str, dict[str, str]]] = {"wav": {"probesize": "32768"}}
_WARNINGS_LOCK: Final = threading.Lock()
_JPEG_DRAFT_SCALE: Final = 8
# Decoding a 12 MP HEIC takes ~350 ms; these are trusted once their boxes are all present.
_STRUCTURE_ONLY: Final = frozenset({"heic", "heif", "avif"})
_ADDRESS: Final = re.compile(r" (?:at|object at) 0x[0-9a-fA-F]+")  # keeps messages deterministic
_SUPPORTED: Final = ", ".join(f for req in wire.REQUIREMENTS.values() for f in req.formats)


@dataclass(frozen=True)
class MediaInfo:
    """What a media file is. ``bytes`` is its size; pixel fields are None for audio,
    ``seconds``/``fps`` None for images."""

    kind: str  # "Image" | "Video" | "Audio"
    format: str
    bytes: int
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None
    has_audio: bool = False
    codec: str | None = None


@cache
def register_heif_opener() -> None:
    """Teach Pillow HEIC/HEIF (once per process)."""
    import pillow_heif

    pillow_heif.register_heif_opener()


def probe_file(path: str | PathLike[str]) -> MediaInfo:
    """:func:`probe_bytes` of a local file (FileNotFoundError if it does not exist)."""
    file = Path(path)
    return probe_bytes(file.read_bytes(), name=file.name)


def probe_bytes(data: bytes, *, name: str = "", decode: bool = True) -> MediaInfo:
    """Read ``data``; ``name`` only labels error messages (it never decides the format).

    ``decode=False`` reads headers only (used for a size-capped prefix of a large download).
    Raises :class:`MediaUnreadableError` for anything that is not readable media.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"probe_bytes needs bytes, got {type(data).__name__}")
    data = bytes(data)
    label = repr(name) if name else "the file"
    if not data:
        raise MediaUnreadableError(f"{label} is empty (0 bytes); upload the real file")
    fmt = sniff(data)
    if fmt is None:
        raise MediaUnreadableError(
            f"{label} is not an image, video or audio file we recognise (its first bytes match "
            f"no known format); upload one of: {_SUPPORTED}",
            code=wire.ASSET_ERROR_FORMAT,
        )
    if decode and not _whole(data, fmt):
        raise MediaUnreadableError(
            f"{label} looks like {fmt} but ends early (its structure promises more bytes); it is "
            "truncated - export or download it again"
        )
    if fmt in _PIL_FORMATS:
        return _probe_image(data, fmt, label, decode)
    return _probe_av(data, fmt, label, decode)


_ISO_FORMATS: Final = frozenset({"mp4", "mov", "m4a", "3gp", "heic", "heif", "avif"})
_UNSET_SIZES: Final = frozenset({0, 0xFFFFFFFF})  # streaming writers leave RIFF sizes open


def _whole(data: bytes, fmt: str) -> bool:
    """False when the container's own sizes say bytes are missing at the end.

    Decoding the first frame cannot see that: a "fast start" mp4 cut in half still has its
    index and first frames. ISO files must end exactly where their last top-level box does;
    RIFF (wav, webp, avi) files must hold the size their header announces.
    """
    if fmt in _ISO_FORMATS:
        offset = 0
        while offset + 8 <= len(data):
            size = int.from_bytes(data[offset : offset + 4], "big")
            if size == 1 and offset + 16 <= len(data):
                size = int.from_bytes(data[offset + 8 : offset + 16], "big")
            elif size == 0:  # the last box runs to the end of the file
                return True
            if size < 8:
                return False
            offset += size
        return offset == len(data)
    if data[:4] == b"RIFF":
        declared = int.from_bytes(data[4:8], "little")
        return declared in _UNSET_SIZES or declared + 8 <= len(data)
    return True


def _broken(label: str, fmt: str, exc: BaseException | None = None) -> MediaUnreadableError:
    text = _ADDRESS.sub("", str(exc)) if exc is not None else ""
    if isinstance(exc, UnidentifiedImageError):
        text = "the image header is not valid"
    detail = f" ({text})" if text else ""
    return MediaUnreadableError(
        f"{label} looks like {fmt} but cannot be read{detail}; it is truncated or corrupt - "
        "export or download it again"
    )


def _probe_image(data: bytes, fmt: str, label: str, decode: bool) -> MediaInfo:
    if _PIL_FORMATS[fmt] == "HEIF":
        register_heif_opener()
    try:
        # Same answer whatever the caller's warning filters (tests turn warnings into errors).
        # catch_warnings swaps process-wide state, so our own threads take turns.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt]]) as image:
                width, height = image.size
                if decode:
                    _decode_image(image, fmt)
    except Image.DecompressionBombError as exc:
        raise MediaUnreadableError(
            f"{label} claims more pixels than can be opened safely ({exc}); scale it down to at "
            f"most {wire.REQUIREMENTS['Image'].max_side} px per side",
            code=wire.ASSET_ERROR_DIMENSIONS,
        ) from exc
    except Exception as exc:  # any decoder failure on bad data is "unreadable"
        raise _broken(label, fmt, exc) from exc
    if width < 1 or height < 1:
        raise _broken(label, fmt)
    return MediaInfo("Image", fmt, len(data), width, height)


def _decode_image(image: Image.Image, fmt: str) -> None:
    """Prove the pixel data is whole, as cheaply as the format allows."""
    if fmt == "png":  # walks every chunk and checks its CRC, without inflating the pixels
        image.verify()
        return
    if fmt in _STRUCTURE_ONLY:  # HEVC/AV1 have no cheap reduced decode; _whole() checked boxes
        return
    if fmt == "jpeg":  # libjpeg decodes at 1/8 scale, still reading every entropy-coded block
        width, height = image.size
        scale = _JPEG_DRAFT_SCALE
        image.draft("RGB", (max(1, width // scale), max(1, height // scale)))
    image.load()


def _probe_av(data: bytes, fmt: str, label: str, decode: bool) -> MediaInfo:
    import av

    try:
        with av.open(
            io.BytesIO(data), mode="r", format=_AV_DEMUXERS[fmt], options=_AV_OPTIONS.get(fmt)
        ) as container:
            return _read_container(container, data, fmt, label, decode)
    except MediaUnreadableError:
        raise
    except Exception as exc:  # FFmpeg errors, EOF, odd headers: all "unreadable"
        raise _broken(label, fmt, exc) from exc


def _read_container(container: Any, data: bytes, fmt: str, label: str, decode: bool) -> MediaInfo:
    import av.stream

    attached = av.stream.Disposition.attached_pic
    videos = [s for s in container.streams.video if not s.disposition & attached]
    audios = list(container.streams.audio)
    if not videos and not audios:
        raise MediaUnreadableError(
            f"{label} is a {fmt} container without any video or audio stream; upload a file "
            "that has picture or sound",
            code=wire.ASSET_ERROR_FORMAT,
        )
    stream = videos[0] if videos else audios[0]
    seconds = _seconds(container, stream)
    if decode:
        _decode_first(container, stream, label, fmt)
    if not videos:
        codec = stream.codec_context.name
        return MediaInfo("Audio", fmt, len(data), seconds=seconds, codec=codec)
    ctx = stream.codec_context
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    if width < 1 or height < 1:
        raise _broken(label, fmt)
    fps = _fps(stream)
    if seconds is None and fps and stream.frames:
        seconds = round(stream.frames / fps, 6)
    return MediaInfo(
        "Video", fmt, len(data), width, height, seconds, fps, has_audio=bool(audios), codec=ctx.name
    )


def _seconds(container: Any, stream: Any) -> float | None:
    if container.duration is not None and container.duration > 0:
        return round(int(container.duration) / 1_000_000, 6)
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return round(float(stream.duration * stream.time_base), 6)
    return None


def _fps(stream: Any) -> float | None:
    rate: Fraction | None = stream.average_rate or stream.guessed_rate or stream.base_rate
    if rate is None or rate <= 0:
        return None
    value = float(rate)
    return round(value, 3) if math.isfinite(value) else None


def _decode_first(container: Any, stream: Any, label: str, fmt: str) -> None:
    for packet in container.demux(stream):
        for _frame in packet.decode():
            return
        if packet.size == 0:  # flush packet at the end: nothing decoded
            break
    raise _broken(label, fmt)
