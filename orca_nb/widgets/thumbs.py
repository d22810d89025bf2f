"""Small thumbnails made by the kernel and sent to the browser as data, never as URLs.

The browser may not reach the URLs the kernel can (Binder, remote kernels, loopback sandbox), so
the kernel downloads the media, shrinks it (Pillow for images, the first frame via PyAV for
videos) and hands the view a small JPEG ``data:`` URI. Decoding runs in a worker thread; only the
finished string is set on widgets, on the kernel's loop.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections import OrderedDict

from PIL import Image

from orca_nb.media import mime_of

THUMB_SIDE = 96  # px, longest side
THUMB_QUALITY = 60
CACHE_SIZE = 512  # thumbnails kept in the kernel (one per asset id)


def _encode(image: Image.Image) -> str:
    image = image.convert("RGB")
    image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def image_thumbnail(data: bytes) -> str:
    """A small JPEG data URI of an image (any format Pillow + pillow-heif open)."""
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        pass
    with Image.open(io.BytesIO(data)) as im:
        im.seek(0)
        return _encode(im)


def video_poster(data: bytes) -> str:
    """A small JPEG data URI of a video's first frame (its poster)."""
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(video=0):
            return _encode(frame.to_image())  # type: ignore[no-untyped-call]
    raise ValueError("the video has no frame to make a poster from")


def thumbnail(data: bytes, asset_type: str) -> str:
    """Thumbnail for an asset's bytes: images and videos; empty for audio."""
    if asset_type == "Image":
        return image_thumbnail(data)
    if asset_type == "Video":
        return video_poster(data)
    return ""


def audio_data_uri(data: bytes, name: str = "") -> str:
    """Audio bytes as a playable data URI (wav or mp3, by signature or name)."""
    fmt = "wav" if data[:4] == b"RIFF" or name.lower().endswith(".wav") else "mp3"
    return f"data:{mime_of(fmt)};base64," + base64.b64encode(data).decode("ascii")


class ThumbCache:
    """Bounded ``asset id -> data URI`` cache; a failed thumbnail is remembered as empty."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._data: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        """The cached thumbnail or None when not made yet."""
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        return None

    def put(self, key: str, value: str) -> None:
        """Remember a thumbnail (evicting the oldest past ``size``)."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


async def make_thumbnail(data: bytes, asset_type: str) -> str:
    """:func:`thumbnail` in a worker thread (keeps the kernel responsive)."""
    return await asyncio.to_thread(thumbnail, data, asset_type)
