"""Check a probed file against the API's requirements table (``wire.REQUIREMENTS``).

:func:`check` lists every way a file breaks the row of its asset type, in a fixed order (type,
format, bytes, ratio, width, height, total pixels, duration, fps), each as a :class:`Violation`
with a ``wire.ASSET_ERROR_*`` code and a message that says what to do. When the file is not of
the declared type at all (an mp3 uploaded as ``Image``) only that mismatch, and the byte size
against the declared type's cap, are reported: the other rows would be noise.

Durations may exceed the range by :data:`DURATION_SLACK_SECONDS` (containers often report a
correct 15 s file a few milliseconds long); every other bound is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from orca_nb import wire
from orca_nb.media.formats import parse_asset_type
from orca_nb.media.probe import MediaInfo

DURATION_SLACK_SECONDS: Final = 0.05
_FPS_EPSILON: Final = 1e-6
_CONVERT_TO: Final[dict[str, str]] = {
    "Image": "convert it to JPEG or PNG",
    "Video": "re-encode it as MP4 (H.264)",
    "Audio": "convert it to MP3 or WAV",
}


@dataclass(frozen=True)
class Violation:
    """One broken requirement: ``code`` (wire.ASSET_ERROR_*), the ``field`` it is about
    (``asset_type``, ``format``, ``bytes``, ``ratio``, ``width``, ``height``, ``pixels``,
    ``seconds``, ``fps``) and a message saying how to fix it."""

    code: str
    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def _mb(n: int) -> str:
    return f"{n / wire.MB:.1f} MB"


def size_violation(nbytes: int, asset_type: str, *, at_least: bool = False) -> Violation | None:
    """The byte-size violation for ``nbytes`` as ``asset_type``, or None if it fits.

    ``at_least`` says ``nbytes`` is a lower bound (a download stopped at the cap).
    """
    req = wire.REQUIREMENTS[parse_asset_type(asset_type)]
    if nbytes <= req.max_bytes:
        return None
    exclusive = (req.max_bytes + 1) % wire.MB == 0
    limit = f"under {_mb(req.max_bytes + 1)}" if exclusive else f"at most {_mb(req.max_bytes)}"
    size = f"more than {_mb(req.max_bytes)}" if at_least else _mb(nbytes)
    return Violation(
        wire.ASSET_ERROR_SIZE,
        "bytes",
        f"the file is {size} but {req.asset_type} files must be {limit}; compress it "
        "(lower quality or bitrate) or make it shorter/smaller",
    )


def check(info: MediaInfo, asset_type: str) -> list[Violation]:
    """Every requirement of ``asset_type`` that ``info`` breaks (empty list: acceptable)."""
    declared = parse_asset_type(asset_type)
    req = wire.REQUIREMENTS[declared]
    out: list[Violation] = []
    if info.kind != declared:
        out.append(
            Violation(
                wire.ASSET_ERROR_FORMAT,
                "asset_type",
                f"this is {_article(info.kind)} {info.kind.lower()} file ({info.format}) but the "
                f"asset type is {declared}; upload it as AssetType {info.kind!r}, or pick "
                f"{_article(declared)} {declared.lower()} file",
            )
        )
        size = size_violation(info.bytes, declared)
        return out + ([size] if size else [])
    if info.format not in req.formats:
        out.append(
            Violation(
                wire.ASSET_ERROR_FORMAT,
                "format",
                f"{info.format} is not accepted for {declared} assets (accepted: "
                f"{', '.join(req.formats)}); {_CONVERT_TO[declared]}",
            )
        )
    size = size_violation(info.bytes, declared)
    if size:
        out.append(size)
    if info.width is not None and info.height is not None:
        out += _check_frame(info.width, info.height, req)
    out += _check_time(info, req)
    return out


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _check_frame(width: int, height: int, req: wire.MediaRequirements) -> list[Violation]:
    out = []
    ratio = width / height
    if req.min_ratio is not None and req.max_ratio is not None:
        if ratio < req.min_ratio:
            fix = f"e.g. {width}x{int(width / req.min_ratio)}"
            out.append(_ratio(width, height, req, f"crop its height ({fix})"))
        elif ratio > req.max_ratio:
            fix = f"e.g. {int(height * req.max_ratio)}x{height}"
            out.append(_ratio(width, height, req, f"crop its width ({fix})"))
    for field, side in (("width", width), ("height", height)):
        if req.min_side is not None and side < req.min_side:
            out.append(
                Violation(
                    wire.ASSET_ERROR_DIMENSIONS,
                    field,
                    f"the {field} is {side} px, below the {req.min_side} px minimum; use a larger "
                    f"original or upscale so each side is {req.min_side}-{req.max_side} px",
                )
            )
        if req.max_side is not None and side > req.max_side:
            out.append(
                Violation(
                    wire.ASSET_ERROR_DIMENSIONS,
                    field,
                    f"the {field} is {side} px, above the {req.max_side} px maximum; scale it "
                    f"down so each side is {req.min_side}-{req.max_side} px",
                )
            )
    pixels = width * height
    lo, hi = req.min_pixels, req.max_pixels
    if (lo is not None and pixels < lo) or (hi is not None and pixels > hi):
        out.append(
            Violation(
                wire.ASSET_ERROR_PIXELS,
                "pixels",
                f"{width}x{height} is {pixels:,} pixels but {req.asset_type} frames must have "
                f"{lo or 0:,}-{hi:,} (roughly 480p to 1080p); re-encode at a size such as "
                "1280x720 or 720x1280",
            )
        )
    return out


def _ratio(width: int, height: int, req: wire.MediaRequirements, fix: str) -> Violation:
    return Violation(
        wire.ASSET_ERROR_ASPECT_RATIO,
        "ratio",
        f"width/height is {width / height:.2f} ({width}x{height}) but must be between "
        f"{req.min_ratio} and {req.max_ratio}; crop to between {req.min_ratio} and "
        f"{req.max_ratio}: {fix}",
    )


def _check_time(info: MediaInfo, req: wire.MediaRequirements) -> list[Violation]:
    out = []
    if req.min_seconds is not None or req.max_seconds is not None:
        span = f"{req.min_seconds:g}-{req.max_seconds:g} s"
        seconds = info.seconds
        if seconds is None:
            out.append(
                Violation(
                    wire.ASSET_ERROR_DURATION,
                    "seconds",
                    f"the length could not be read; re-export the file so it declares its "
                    f"duration ({span})",
                )
            )
        elif req.min_seconds is not None and seconds < req.min_seconds - DURATION_SLACK_SECONDS:
            out.append(
                Violation(
                    wire.ASSET_ERROR_DURATION,
                    "seconds",
                    f"it is {seconds:.2f} s long, shorter than the {req.min_seconds:g} s minimum; "
                    f"use a clip of {span}",
                )
            )
        elif req.max_seconds is not None and seconds > req.max_seconds + DURATION_SLACK_SECONDS:
            out.append(
                Violation(
                    wire.ASSET_ERROR_DURATION,
                    "seconds",
                    f"it is {seconds:.2f} s long, longer than the {req.max_seconds:g} s maximum; "
                    f"trim it to {span}",
                )
            )
    if req.min_fps is not None or req.max_fps is not None:
        span = f"{req.min_fps:g}-{req.max_fps:g} fps"
        fps = info.fps
        if fps is None:
            out.append(
                Violation(
                    wire.ASSET_ERROR_FPS,
                    "fps",
                    f"the frame rate could not be read; re-encode at a constant {span}",
                )
            )
        elif req.min_fps is not None and fps < req.min_fps - _FPS_EPSILON:
            out.append(
                Violation(
                    wire.ASSET_ERROR_FPS,
                    "fps",
                    f"it runs at {fps:g} fps, below the {req.min_fps:g} fps minimum (23.976 counts "
                    f"as below); re-encode at {span}, e.g. 24 or 30 fps",
                )
            )
        elif req.max_fps is not None and fps > req.max_fps + _FPS_EPSILON:
            out.append(
                Violation(
                    wire.ASSET_ERROR_FPS,
                    "fps",
                    f"it runs at {fps:g} fps, above the {req.max_fps:g} fps maximum; re-encode at "
                    f"{span}, e.g. 30 or 60 fps",
                )
            )
    return out
