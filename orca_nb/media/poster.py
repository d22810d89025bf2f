"""Poster frames: one still JPEG of a video, small enough to embed as a ``data:`` URI.

>>> jpeg = video_poster(mp4_bytes, max_side=320)                    # doctest: +SKIP
>>> html = f"<img src='{jpeg_data_uri(jpeg)}'>"                     # doctest: +SKIP

The frame is decoded with PyAV (the first frame, or the first at or after ``at_seconds``) and
shrunk with Pillow, never enlarged. The widgets' thumbnails and the experiments' offline HTML
export both use it, so a video's poster is made in one place.
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING, Any, Final

from orca_nb import wire
from orca_nb.media.errors import MediaUnreadableError

if TYPE_CHECKING:
    from PIL.Image import Image

#: Longest side of a poster, in pixels (the export's default; thumbnails pass their own).
POSTER_SIDE: Final = 320
#: JPEG quality of a poster (1-95, Pillow's scale).
POSTER_QUALITY: Final = 75
#: The largest ``max_side`` accepted (pixels).
POSTER_SIDE_MAX: Final = 4096


def video_poster(
    data: bytes,
    *,
    max_side: int = POSTER_SIDE,
    quality: int = POSTER_QUALITY,
    at_seconds: float = 0.0,
) -> bytes:
    """A JPEG of one frame of the video in ``data``: the first frame at or after
    ``at_seconds`` (the last frame when the video is shorter), its longest side at most
    ``max_side`` pixels (aspect kept, never enlarged).

    Raises :class:`~orca_nb.media.MediaUnreadableError` when the bytes are not a video with a
    frame to decode, ValueError for an out-of-range setting.
    """
    _check_settings(max_side, quality, at_seconds)
    image = _frame_image(data, at_seconds)
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def jpeg_data_uri(jpeg: bytes) -> str:
    """JPEG bytes as a ``data:image/jpeg;base64,...`` URI (safe inside an HTML attribute)."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def poster_data_uri(
    data: bytes,
    *,
    max_side: int = POSTER_SIDE,
    quality: int = POSTER_QUALITY,
    at_seconds: float = 0.0,
) -> str:
    """:func:`video_poster` as a ``data:`` URI, ready for an ``<img src>``."""
    poster = video_poster(data, max_side=max_side, quality=quality, at_seconds=at_seconds)
    return jpeg_data_uri(poster)


def _check_settings(max_side: int, quality: int, at_seconds: float) -> None:
    if isinstance(max_side, bool) or not isinstance(max_side, int):
        raise TypeError(f"max_side must be an int (pixels), not {type(max_side).__name__}")
    if not 1 <= max_side <= POSTER_SIDE_MAX:
        raise ValueError(f"max_side must be 1..{POSTER_SIDE_MAX} pixels, got {max_side}")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 95:
        raise ValueError(f"quality must be an int 1..95 (JPEG quality), got {quality!r}")
    if (
        isinstance(at_seconds, bool)
        or not isinstance(at_seconds, int | float)
        or not math.isfinite(at_seconds)
        or at_seconds < 0
    ):
        raise ValueError(f"at_seconds must be a finite number >= 0, got {at_seconds!r}")


def _frame_image(data: bytes, at_seconds: float) -> Image:
    """The PIL image of the wanted frame (see :func:`video_poster`)."""
    import av
    import av.stream

    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"video_poster() takes the video's bytes, not {type(data).__name__}")
    if not data:
        raise MediaUnreadableError(
            "the video is empty (0 bytes); download it again", code=wire.ASSET_ERROR_FORMAT
        )
    chosen: Any = None
    try:
        with av.open(io.BytesIO(bytes(data)), mode="r") as container:
            attached = av.stream.Disposition.attached_pic
            streams = [s for s in container.streams.video if not s.disposition & attached]
            if not streams:
                raise MediaUnreadableError(
                    "the file has no video stream to take a poster frame from",
                    code=wire.ASSET_ERROR_FORMAT,
                )
            for frame in container.decode(streams[0]):
                chosen = frame
                when = frame.time
                if when is None or when >= at_seconds - 1e-6:
                    break
            image: Image | None = None if chosen is None else chosen.to_image()
    except MediaUnreadableError:
        raise
    except Exception as exc:  # FFmpeg errors, odd headers, truncated files: all unreadable
        raise MediaUnreadableError(
            f"the video could not be decoded for a poster frame ({type(exc).__name__}: {exc}); "
            "the file may be truncated or not a video"
        ) from exc
    if image is None:
        raise MediaUnreadableError("the video has no frame to make a poster from")
    return image


__all__ = [
    "POSTER_QUALITY",
    "POSTER_SIDE",
    "POSTER_SIDE_MAX",
    "jpeg_data_uri",
    "poster_data_uri",
    "video_poster",
]
