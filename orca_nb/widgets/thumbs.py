"""Small thumbnails made by the kernel and sent to the browser as data, never as URLs.

The browser may not reach the URLs the kernel can (Binder, remote kernels, loopback sandbox), so
the kernel downloads the media, shrinks it (Pillow for images, the first frame via
:mod:`orca_nb.media.poster` for videos) and hands the view a small JPEG ``data:`` URI. Decoding
runs in a worker thread; only the finished string is set on widgets, on the kernel's loop.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from PIL import Image

from orca_nb.media import mime_of, poster

if TYPE_CHECKING:
    from orca_nb.widgets.live import LiveStore

THUMB_SIDE = 96  # px, longest side
THUMB_QUALITY = 60
CACHE_SIZE = 512  # thumbnails kept in the kernel (one per asset id)
CONCURRENCY = 4  # downloads + decodes at once per store
log = logging.getLogger(__name__)


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
    """A small JPEG data URI of a video's first frame (its poster; made by
    :func:`orca_nb.media.video_poster`)."""
    jpeg = poster.video_poster(data, max_side=THUMB_SIDE, quality=THUMB_QUALITY)
    return poster.jpeg_data_uri(jpeg)


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


class ThumbLoader:
    """Thumbnails of one store's assets, made once and shared by every panel that shows them
    (asset cards, picker chips). ``fetch`` downloads bytes in the kernel; every panel that
    listens (:meth:`on_thumb`) hears of each finished thumbnail, whichever panel asked for it."""

    def __init__(
        self, fetch: Callable[[str], Awaitable[bytes]], *, concurrency: int = CONCURRENCY
    ) -> None:
        self._fetch = fetch
        self._concurrency = concurrency
        self._limit: asyncio.Semaphore | None = None
        self.cache = ThumbCache()
        self._jobs: set[str] = set()
        self._listeners: list[Callable[[str, str], None]] = []

    def on_thumb(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Call ``listener(asset_id, data_uri)`` when a thumbnail is made; returns the
        unsubscribe function."""
        self._listeners.append(listener)

        def off() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return off

    def cached(self, asset_id: str) -> str | None:
        """The thumbnail already made ("" when none could be), or None when not made yet."""
        return self.cache.get(asset_id)

    def wanted(self, row: Any) -> bool:
        """Whether ``row`` (an ``AssetRow``) should get a thumbnail that is not made or coming."""
        return (
            row.asset_type in ("Image", "Video")
            and row.status == "Active"
            and bool(row.url)
            and self.cache.get(row.id) is None
            and row.id not in self._jobs
        )

    def claim(self, row: Any) -> bool:
        """True (and the job is now taken) when the caller should run :meth:`load` for ``row``."""
        if not self.wanted(row):
            return False
        self._jobs.add(row.id)
        return True

    async def load(self, row: Any) -> str:
        """Download and shrink ``row``'s media; "" (remembered) when it cannot be done."""
        if self._limit is None:
            self._limit = asyncio.Semaphore(self._concurrency)
        try:
            async with self._limit:
                data = await self._fetch(row.url)
                uri = await make_thumbnail(data, row.asset_type)
        except Exception as exc:  # a missing thumbnail is not worth an error banner
            log.info("no thumbnail for %s: %s", row.id, exc)
            uri = ""
        finally:
            self._jobs.discard(row.id)
        self.cache.put(row.id, uri)
        if uri:
            for listener in list(self._listeners):
                try:
                    listener(row.id, uri)
                except Exception:
                    log.exception("thumbnail listener failed")
        return uri


_LOADERS: weakref.WeakKeyDictionary[LiveStore, ThumbLoader] = weakref.WeakKeyDictionary()


def loader_for(store: LiveStore) -> ThumbLoader:
    """The one :class:`ThumbLoader` of a ``LiveStore`` (made on first use)."""
    loader = _LOADERS.get(store)
    if loader is None:
        loader = _LOADERS[store] = ThumbLoader(store.gateway.fetch_bytes)
    return loader
