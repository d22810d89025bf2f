"""What a video request will cost in tokens, from the request alone (a pure rule).

Seedance 2.0 bills ``(input video seconds + output seconds) x W x H x fps / 1024`` tokens, with
``fps x s + 1`` output frames and ``fps x s`` frames per input video second (reference 12.4):

>>> estimate_tokens({"model": "byteplus/dreamina-seedance-2-0-260128", "prompt": "x",
...                  "metadata": {"ratio": "16:9", "resolution": "720p", "duration": 5}}).tokens
108900

The service usually does not report usage on the documented task fetch, so orca_nb uses this
estimate (marked as such) wherever it has no reported figure; a reported figure always wins.

Unknowns, and what the estimate does with them:

* a reference video's length: taken from ``media_seconds`` (keyed by the item's URL, its
  ``asset://`` URL or bare asset id), else counted at the shortest length an asset video may have
  (``wire.REQUIREMENTS["Video"].min_seconds``, 2 s) and the estimate is a **lower bound**
  (``lower_bound=True``, ``source == "estimated_min"``);
* ``duration = -1`` (the model chooses): counted at the model's shortest duration, a lower bound;
* ``ratio = "adaptive"`` (or not given, whose default is adaptive): the output takes the first
  reference's shape, unknown here; the 16:9 size of that resolution is used (frame areas of one
  resolution differ by under 5 %, so the figure is an estimate, not a bound).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from orca_nb import wire

__all__ = ["TokenEstimate", "estimate_tokens", "media_seconds_of", "tokens_text"]

_FALLBACK_RATIO: Final = "16:9"  # wire.OUTPUT_SIZES note: adaptive without a reference is 16:9
_MIN_VIDEO_SECONDS: Final = float(wire.REQUIREMENTS["Video"].min_seconds or 0.0)


@dataclass(frozen=True)
class TokenEstimate:
    """Tokens a request is expected to bill, and how the figure was reached.

    ``tokens = output_tokens + input_tokens``. ``lower_bound`` is True when some length was unknown
    and counted at its minimum (``unknown_videos`` lists those items' URLs). ``notes`` say in words
    what was assumed.
    """

    tokens: int
    output_tokens: int
    input_tokens: int
    width: int
    height: int
    fps: int
    output_seconds: int
    output_frames: int
    input_video_seconds: float
    unknown_videos: tuple[str, ...] = ()
    lower_bound: bool = False
    notes: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """``"estimated"``, or ``"estimated_min"`` for a lower bound (the ledger's words)."""
        return wire.TOKENS_ESTIMATED_MIN if self.lower_bound else wire.TOKENS_ESTIMATED

    def describe(self) -> str:
        """One line for people, e.g. ``~108,900 tokens (estimate)``."""
        return tokens_text(self.tokens, self.source)


def tokens_text(tokens: int, source: str = wire.TOKENS_ESTIMATED) -> str:
    """A token figure as people read it, an estimate marked as one (``source``: the ledger's
    words): ``108,900 tokens`` (reported by the service), ``~108,900 tokens (estimate)``, or
    ``at least 108,900 tokens (estimate, lower bound)``. The one wording of every surface."""
    if source == wire.TOKENS_REPORTED:
        return f"{tokens:,} tokens"
    if source == wire.TOKENS_ESTIMATED_MIN:
        return f"at least {tokens:,} tokens (estimate, lower bound)"
    return f"~{tokens:,} tokens (estimate)"


def media_seconds_of(refs: Iterable[Any]) -> dict[str, float]:
    """``{url: seconds}`` from compose ``Ref``s (or a ``Selection``) whose ``seconds`` is known."""
    out: dict[str, float] = {}
    for ref in refs:
        seconds = getattr(ref, "seconds", None)
        url = getattr(ref, "url", None)
        if seconds is not None and isinstance(url, str):
            out[url] = float(seconds)
    return out


def _lookup(seconds: Mapping[str, float], url: str) -> float | None:
    bare = url.removeprefix(wire.ASSET_URL_SCHEME)
    for key in (url, bare, wire.ASSET_URL_SCHEME + bare):
        value = seconds.get(key)
        if value is not None:
            return float(value)
    return None


def _item_url(item: Mapping[str, Any]) -> str:
    inner = item.get("video_url")
    if isinstance(inner, Mapping):
        return str(inner.get("url") or "")
    return str(inner or "")


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def estimate_tokens(
    body: Mapping[str, Any],
    *,
    media_seconds: Mapping[str, float] | None = None,
    fps: int = wire.OUTPUT_FPS,
) -> TokenEstimate:
    """The §12.4 token rule applied to a ``POST /video/generations`` body.

    ``media_seconds`` maps a reference video's URL (``asset://...``, the bare asset id, or an
    http(s) URL) to its length in seconds; :func:`media_seconds_of` builds it from a Selection.
    Missing fields take the model's defaults (``wire.MODELS``, else Seedance 2.0's). Never raises
    for an odd body: what it cannot read it assumes, and says so in ``notes``.
    """
    known = media_seconds or {}
    model = str(body.get("model") or wire.SEEDANCE_2)
    spec = wire.MODELS.get(model) or wire.PEER_MODELS.get(model) or wire.MODELS[wire.SEEDANCE_2]
    raw_meta = body.get("metadata")
    metadata: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
    notes: list[str] = []
    lower = False

    resolution = str(metadata.get("resolution") or spec.default_resolution)
    ratio = str(metadata.get("ratio") or spec.default_ratio)
    if (resolution, ratio) not in wire.OUTPUT_SIZES:
        if ratio != "adaptive":
            notes.append(f"ratio {ratio!r} unknown: counted as {_FALLBACK_RATIO}")
        else:
            notes.append(
                f"adaptive ratio: counted at the {_FALLBACK_RATIO} size of {resolution} "
                "(other shapes differ by under 5 %)"
            )
        ratio = _FALLBACK_RATIO
    if (resolution, ratio) not in wire.OUTPUT_SIZES:
        notes.append(f"resolution {resolution!r} unknown: counted as {spec.default_resolution}")
        resolution = spec.default_resolution
    width, height = wire.OUTPUT_SIZES[(resolution, ratio)]

    duration = _whole(metadata.get("duration", body.get("duration")))
    if duration is None:
        duration = spec.default_seconds
    if duration == wire.DURATION_MODEL_CHOOSES or duration <= 0:
        duration = spec.min_seconds
        lower = True
        notes.append(f"the model chooses the duration: counted at its shortest, {duration} s")
    frames = _whole(metadata.get("frames"))
    output_frames = frames if frames is not None and frames > 0 else fps * duration + 1

    input_seconds = 0.0
    unknown: list[str] = []
    content = metadata.get("content")
    for item in content if isinstance(content, list | tuple) else ():
        if not isinstance(item, Mapping) or item.get("type") != "video_url":
            continue
        url = _item_url(item)
        seconds = _lookup(known, url) if url else None
        if seconds is None:
            unknown.append(url)
            seconds = _MIN_VIDEO_SECONDS
            lower = True
        input_seconds += seconds
    if unknown:
        notes.append(
            f"{len(unknown)} reference video(s) of unknown length counted at "
            f"{_MIN_VIDEO_SECONDS:g} s each (the shortest allowed): a lower bound"
        )
    if not wire.INPUT_VIDEOS_BILLED:  # pragma: no cover - a one-line switch in wire
        input_seconds = 0.0

    area = width * height
    output_tokens = area * output_frames // 1024
    input_tokens = round(area * fps * input_seconds) // 1024
    total = output_tokens + input_tokens
    floor = wire.VIDEO_INPUT_MIN_TOKENS
    if input_seconds and floor is not None and total < floor:  # pragma: no cover - value unknown
        notes.append(f"raised to the minimum for inputs with video ({floor:,})")
        total = floor
    return TokenEstimate(
        tokens=total,
        output_tokens=output_tokens,
        input_tokens=input_tokens,
        width=width,
        height=height,
        fps=fps,
        output_seconds=duration,
        output_frames=output_frames,
        input_video_seconds=input_seconds,
        unknown_videos=tuple(unknown),
        lower_bound=lower,
        notes=tuple(notes),
    )
