"""Which format some bytes, a file name, a URL or a MIME type are; pure, no media libraries.

Format names are lower case (``jpeg``, ``mp4``, ``mov``, ``mp3``...). The accepted ones and their
extensions are :data:`orca_nb.wire.FORMAT_EXTENSIONS`; this module also knows common formats the
API does *not* accept (webm, avif, flac, m4a...) so a wrong file gets "convert it" rather than
"unknown". Content decides over names: :func:`sniff` reads magic bytes only, so a text file named
``.jpg`` is not taken for a JPEG.
"""

from __future__ import annotations

import mimetypes
from typing import Final
from urllib.parse import urlsplit

from orca_nb import wire

# Recognised but not accepted by the API: format -> asset type it would be.
OTHER_FORMAT_TYPES: Final[dict[str, str]] = {
    "avif": "Image",
    "svg": "Image",
    "ico": "Image",
    "webm": "Video",
    "matroska": "Video",
    "avi": "Video",
    "3gp": "Video",
    "flv": "Video",
    "m4a": "Audio",
    "aac": "Audio",
    "ogg": "Audio",
    "flac": "Audio",
}
OTHER_EXTENSIONS: Final[dict[str, str]] = {
    "avif": "avif",
    "svg": "svg",
    "ico": "ico",
    "webm": "webm",
    "mkv": "matroska",
    "avi": "avi",
    "3gp": "3gp",
    "flv": "flv",
    "m4a": "m4a",
    "aac": "aac",
    "ogg": "ogg",
    "oga": "ogg",
    "opus": "ogg",
    "flac": "flac",
}
_HEIC_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_BMP_HEADERS: Final = frozenset({12, 40, 52, 56, 64, 108, 124})  # DIB header sizes
_QT_ATOMS: Final = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def format_types() -> dict[str, str]:
    """Every known format -> the asset type it belongs to (accepted and not)."""
    types = {fmt: t for t, req in wire.REQUIREMENTS.items() for fmt in req.formats}
    return {**OTHER_FORMAT_TYPES, **types}


def type_of_format(fmt: str | None) -> str | None:
    """``"mp3"`` -> ``"Audio"``; None for unknown formats."""
    return format_types().get(fmt or "")


def sniff(data: bytes) -> str | None:
    """The format the leading bytes of ``data`` announce, or None if no known signature."""
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADERS:
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _iso_brand(data)
    if head[4:8] in _QT_ATOMS:
        return "mov"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x03
        return "mp3" if layer == 1 else "aac" if layer == 0 else None
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "matroska"
    if head.startswith(b"FLV"):
        return "flv"
    return None


def _iso_brand(data: bytes) -> str:
    """Format of an ISO base media file from its ``ftyp`` box (major + compatible brands)."""
    size = int.from_bytes(data[0:4], "big")
    major = bytes(data[8:12])
    compatible = {bytes(data[i : i + 4]) for i in range(16, min(size, 64), 4)}
    brands = {major} | compatible
    if major in _AVIF_BRANDS:
        return "avif"
    if brands & _HEIC_BRANDS:
        return "heic"
    if brands & _HEIF_BRANDS:
        return "avif" if brands & _AVIF_BRANDS else "heif"
    if major == b"qt  ":
        return "mov"
    if major in (b"M4A ", b"M4B "):
        return "m4a"
    if major.startswith(b"3g"):
        return "3gp"
    return "mp4"


def format_from_name(name_or_url: str) -> str | None:
    """The format a file name's or URL path's extension names (``clip.MOV`` -> ``mov``)."""
    path = urlsplit(name_or_url).path if "://" in name_or_url else name_or_url
    last = path.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in last:
        return None
    ext = last.rsplit(".", 1)[-1].lower()
    return wire.FORMAT_EXTENSIONS.get(ext) or OTHER_EXTENSIONS.get(ext)


def format_from_mime(content_type: str | None) -> str | None:
    """The format of a MIME type (``image/jpeg; q=1`` -> ``jpeg``), None if unknown/generic."""
    if not content_type:
        return None
    mime = content_type.split(";", 1)[0].strip().lower()
    for fmt, known in wire.FORMAT_MIME_TYPES.items():
        if known == mime:
            return fmt
    aliases = {"image/jpg": "jpeg", "audio/x-wav": "wav", "audio/wave": "wav", "audio/mp3": "mp3"}
    if mime in aliases:
        return aliases[mime]
    ext = mimetypes.guess_extension(mime, strict=False)
    return format_from_name("x" + ext) if ext else None


def mime_of(fmt: str | None) -> str:
    """The MIME type of a format or extension name (``jpeg``/``jpg`` -> ``image/jpeg``);
    ``application/octet-stream`` when unknown."""
    key = (fmt or "").lower()
    return wire.FORMAT_MIME_TYPES.get(
        wire.FORMAT_EXTENSIONS.get(key, key), "application/octet-stream"
    )


def detect_asset_type(
    name_or_url: str, data: bytes | None = None, *, content_type: str | None = None
) -> str | None:
    """``Image``/``Video``/``Audio`` from the content if given, else the extension, else MIME.

    Returns None when nothing tells. Content wins: ``detect_asset_type("a.jpg", mp3_bytes)``
    is ``"Audio"``.
    """
    candidates = (
        sniff(data) if data else None,
        format_from_name(name_or_url),
        format_from_mime(content_type),
    )
    for fmt in candidates:
        found = type_of_format(fmt)
        if found:
            return found
    return None


def parse_asset_type(value: str) -> str:
    """``"image"``/``"Image"`` -> ``"Image"``; ValueError naming the allowed values otherwise."""
    for allowed in wire.ASSET_TYPES:
        if str(value).strip().lower() == allowed.lower():
            return allowed
    raise ValueError(f"unknown asset type {value!r}; use one of {', '.join(wire.ASSET_TYPES)}")
