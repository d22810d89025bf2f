"""Check a prompt and a selection against the video API's rules before anything is sent.

:func:`validate` returns every :class:`~orca_nb.compose.issues.Issue` it finds (never raises for
bad content): model and parameters first, then the selection, then the prompt in text order.
Numbers come from :mod:`orca_nb.wire`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Final

from orca_nb import wire
from orca_nb.compose import issues as codes
from orca_nb.compose.issues import Issue, Level
from orca_nb.compose.refs import FRAME_ROLES, KIND_WIRE, Kind
from orca_nb.compose.selection import Selection, format_token, parse_mode
from orca_nb.compose.tokens import REMOVED_RE, find_tokens

# Upstream-shaped ids (asset-YYYYMMDDhhmmss-xxxxx) anywhere in the prompt.
_ASSET_ID_TEXT: Final = re.compile(r"(?<![\w/-])asset-\d{14}-[a-z0-9]{5}(?![\w-])")
_ASSET_URL_TEXT: Final = re.compile(re.escape(wire.ASSET_URL_SCHEME) + r"[^\s\]\)\"',]*")
_MIN_NAME_CHARS: Final = 4  # shorter names (e.g. "Ada") are too likely to be ordinary words
_PLURAL: Final[dict[Kind, str]] = {"image": "images", "video": "videos", "audio": "audio files"}
_LIMITS: Final[dict[Kind, tuple[int, str]]] = {
    "image": (wire.MAX_REF_IMAGES, codes.TOO_MANY_IMAGES),
    "video": (wire.MAX_REF_VIDEOS, codes.TOO_MANY_VIDEOS),
    "audio": (wire.MAX_REF_AUDIO, codes.TOO_MANY_AUDIO),
}


def routable_models() -> list[str]:
    """Names of the models the API routes today."""
    return [name for name, spec in wire.MODELS.items() if spec.routable]


def validate(
    prompt: str,
    selection: Selection,
    *,
    model: str = wire.SEEDANCE_2,
    ratio: str | None = None,
    duration: int | None = None,
    resolution: str | None = None,
    mode: str = "reference",
    seed: int | None = None,
    generate_audio: bool | None = None,
    spec: wire.ModelSpec | None = None,
) -> list[Issue]:
    """Every problem with sending ``prompt`` + ``selection`` to ``model`` (empty list: fine).

    ``spec`` gives the model's limits (durations, resolutions, reference counts, routable) as the
    service reports them (``client.models.offer()``'s ``VideoModel.spec``); without it they come
    from ``wire.MODELS``.
    """
    found: list[Issue] = []
    chosen_mode = parse_mode(mode)
    limits = spec if spec is not None else wire.MODELS.get(model)
    found += _check_model(model, limits, selection, chosen_mode, generate_audio)
    found += _check_params(limits, ratio, duration, resolution, seed)
    found += _check_selection(selection, chosen_mode, limits)
    found += _check_prompt(prompt, selection, chosen_mode)
    return found


def _issue(level: Level, code: str, message: str, **where: Any) -> Issue:
    return Issue(level, code, message, **where)


def _check_model(
    model: str,
    spec: wire.ModelSpec | None,
    selection: Selection,
    mode: str,
    generate_audio: bool | None,
) -> list[Issue]:
    usable = " or ".join(repr(m) for m in routable_models())
    if spec is None:
        return [_issue("error", codes.UNKNOWN_MODEL, f"unknown model {model!r}; use {usable}")]
    out = []
    if not spec.routable:
        out.append(
            _issue(
                "error",
                codes.MODEL_NOT_ROUTABLE,
                f"{model!r} is listed but not routable yet; use {usable}",
            )
        )
    if spec.multimodal == "image" and (selection.count("video") or selection.count("audio")):
        out.append(
            _issue(
                "error",
                codes.MODEL_CAPABILITY,
                f"{model!r} takes image references only; remove the videos and audio or use "
                f"{usable}",
            )
        )
    if not spec.first_last_frame and "last_frame" in selection.roles(mode):
        out.append(
            _issue(
                "error",
                codes.MODEL_CAPABILITY,
                f"{model!r} cannot use a last frame; use a single first frame or {usable}",
            )
        )
    if generate_audio and not spec.native_audio:
        out.append(
            _issue(
                "warning",
                codes.MODEL_CAPABILITY,
                f"{model!r} makes no soundtrack, so generate_audio has no effect",
            )
        )
    return out


def _check_params(
    spec: wire.ModelSpec | None,
    ratio: str | None,
    duration: int | None,
    resolution: str | None,
    seed: int | None,
) -> list[Issue]:
    out = []
    if duration is not None:
        lo, hi = (spec.min_seconds, spec.max_seconds) if spec else (None, None)
        ok_type = isinstance(duration, int) and not isinstance(duration, bool)
        in_range = lo is None or hi is None or lo <= duration <= hi
        if not ok_type or not (duration == wire.DURATION_MODEL_CHOOSES or in_range):
            span = f"{lo} to {hi}" if lo is not None else "a whole number of"
            out.append(
                _issue(
                    "error",
                    codes.INVALID_DURATION,
                    f"duration {duration!r} is not allowed; use {span} seconds (whole numbers) "
                    f"or {wire.DURATION_MODEL_CHOOSES} to let the model choose",
                )
            )
    if ratio is not None and ratio not in wire.RATIOS:
        out.append(
            _issue(
                "error",
                codes.INVALID_RATIO,
                f"ratio {ratio!r} is not allowed; use one of {', '.join(wire.RATIOS)}",
            )
        )
    if resolution is not None:
        allowed = spec.resolutions if spec else wire.RESOLUTIONS
        if resolution not in allowed:
            out.append(
                _issue(
                    "error",
                    codes.INVALID_RESOLUTION,
                    f"resolution {resolution!r} is not available for this model; use one of "
                    f"{', '.join(allowed)}",
                )
            )
    if seed is not None and (
        isinstance(seed, bool)
        or not isinstance(seed, int)
        or not wire.SEED_MIN <= seed <= wire.SEED_MAX
    ):
        out.append(
            _issue(
                "error",
                codes.INVALID_SEED,
                f"seed {seed!r} is not allowed; use a whole number from {wire.SEED_MIN} "
                f"(random) to {wire.SEED_MAX}",
            )
        )
    return out


def _check_selection(
    selection: Selection, mode: str, spec: wire.ModelSpec | None = None
) -> list[Issue]:
    out: list[Issue] = []
    per_model = {
        "image": spec.max_ref_images if spec else wire.MAX_REF_IMAGES,
        "video": spec.max_ref_videos if spec else wire.MAX_REF_VIDEOS,
        "audio": spec.max_ref_audio if spec else wire.MAX_REF_AUDIO,
    }
    max_items = spec.max_media_items if spec else wire.MAX_MEDIA_ITEMS
    for kind, (_, code) in _LIMITS.items():
        limit = per_model[kind]
        n = selection.count(kind)
        if n > limit:
            out.append(
                _issue(
                    "error",
                    code,
                    f"{n} {_PLURAL[kind]} are selected but at most {limit} are allowed; "
                    f"remove {n - limit}",
                )
            )
    if len(selection) > max_items:
        out.append(
            _issue(
                "error",
                codes.TOO_MANY_MEDIA,
                f"{len(selection)} references are selected but at most {max_items} "
                f"are allowed in one request; remove {len(selection) - max_items}",
            )
        )
    if selection.count("audio") and not (selection.count("image") or selection.count("video")):
        out.append(
            _issue(
                "error",
                codes.AUDIO_WITHOUT_VISUAL,
                "audio cannot be the only reference; add at least one image or video",
            )
        )
    out += _check_roles(selection, mode)
    out += _check_reference_seconds(selection)
    out += _check_items(selection)
    return out


def _check_roles(selection: Selection, mode: str) -> list[Issue]:
    roles = selection.roles(mode)
    frames = [r for r in roles if r in FRAME_ROLES]
    out = []
    if frames and len(frames) < len(roles):
        out.append(
            _issue(
                "error",
                codes.MIXED_MODES,
                "first/last-frame images cannot be combined with reference images, videos or "
                "audio; keep only the frame images, or use reference mode for everything",
            )
        )
    images = selection.count("image")
    if mode == "first_frame" and images != 1:
        out.append(
            _issue(
                "error",
                codes.FRAME_COUNT,
                f"first-frame mode takes exactly one image; {images} are selected",
            )
        )
    elif mode == "first_last" and images != 2:
        out.append(
            _issue(
                "error",
                codes.FRAME_COUNT,
                f"first-and-last-frame mode takes exactly two images (first, then last); "
                f"{images} are selected",
            )
        )
    elif mode == "reference" and frames:
        tally = Counter(frames)
        if tally["first_frame"] != 1 or tally["last_frame"] > 1:
            out.append(
                _issue(
                    "error",
                    codes.FRAME_COUNT,
                    "frame roles need exactly one first_frame image and at most one last_frame "
                    "image; fix the roles of the selected images",
                )
            )
    return out


def _check_reference_seconds(selection: Selection) -> list[Issue]:
    out = []
    checks: tuple[tuple[Kind, float, str], ...] = (
        ("video", wire.MAX_REF_VIDEO_SECONDS, codes.REFERENCE_VIDEO_TOO_LONG),
        ("audio", wire.MAX_REF_AUDIO_SECONDS, codes.REFERENCE_AUDIO_TOO_LONG),
    )
    for kind, limit, code in checks:
        total = sum(r.seconds or 0.0 for r in selection.of_kind(kind))
        if total > limit:
            out.append(
                _issue(
                    "error",
                    code,
                    f"the {kind} references add up to {total:.1f} s but at most {limit:g} s are "
                    f"allowed; remove or trim some",
                )
            )
    return out


def _check_items(selection: Selection) -> list[Issue]:
    out = []
    seen: set[tuple[Kind, str]] = set()
    for pos, (ref, token) in enumerate(zip(selection, selection.tokens(), strict=True)):
        if ref.status is not None and ref.status != "Active":
            advice = (
                "wait until it is Active (poll the asset), then try again"
                if ref.status == "Processing"
                else "remove it and upload a fixed file"
            )
            out.append(
                _issue(
                    "error",
                    codes.ASSET_NOT_ACTIVE,
                    f"{token} ({ref.label}) is {ref.status}, and only Active assets can be "
                    f"used; {advice}",
                    item=pos,
                )
            )
        if ref.key in seen:
            out.append(
                _issue(
                    "warning",
                    codes.DUPLICATE_REFERENCE,
                    f"{token} ({ref.label}) is selected twice; remove the copy",
                    item=pos,
                )
            )
        seen.add(ref.key)
    return out


def _check_prompt(prompt: str, selection: Selection, mode: str) -> list[Issue]:
    if not prompt.strip():
        return [
            _issue(
                "error",
                codes.EMPTY_PROMPT,
                "the prompt is empty; describe the video you want, referring to the selected "
                "media as " + (", ".join(selection.tokens()[:3]) or "[Image 1]"),
            )
        ]
    located: list[Issue] = []
    mentioned: set[int] = set()
    for tok in find_tokens(prompt):
        where = {"position": tok.start, "end": tok.end}
        pos = selection.find(tok.kind, tok.number)
        if pos is None:
            located.append(_unknown_token(tok.text, tok.kind, tok.number, selection, where))
            continue
        mentioned.add(pos)
        if tok.text != tok.canonical:
            located.append(
                _issue(
                    "warning",
                    codes.NONCANONICAL_TOKEN,
                    f"write {tok.text} as {tok.canonical}, the form the model is documented "
                    "to understand",
                    item=pos,
                    **where,
                )
            )
    for m in REMOVED_RE.finditer(prompt):
        located.append(
            _issue(
                "error",
                codes.REMOVED_REFERENCE,
                f"{m.group(0)} marks a reference you removed from the selection; delete it or "
                "put the token of a selected item there",
                position=m.start(),
                end=m.end(),
            )
        )
    located += _check_leaks(prompt, selection)
    located.sort(key=lambda i: (i.position or 0, i.code))
    if mode == "reference":
        for pos, token in enumerate(selection.tokens()):
            if pos not in mentioned:
                located.append(
                    _issue(
                        "warning",
                        codes.UNUSED_REFERENCE,
                        f"{token} ({selection[pos].label}) is selected but the prompt never "
                        f"mentions it; write {token} where it matters, or remove it",
                        item=pos,
                    )
                )
    return located


def _unknown_token(
    text: str, kind: Kind, number: int, selection: Selection, where: dict[str, int]
) -> Issue:
    n = selection.count(kind)
    word = KIND_WIRE[kind].token_word
    if number == 0:
        why = "numbering starts at 1"
    elif n == 0:
        why = f"no {_PLURAL[kind]} are selected"
    else:
        last = format_token(kind, n)
        why = f"only {n} {_PLURAL[kind] if n > 1 else kind} selected ({word} tokens run to {last})"
    return _issue(
        "error",
        codes.UNKNOWN_REFERENCE,
        f"{text} points at nothing: {why}; select that {kind} or change the token",
        **where,
    )


def _check_leaks(prompt: str, selection: Selection) -> list[Issue]:
    out: list[Issue] = []
    tokens = selection.tokens()
    for m in _ASSET_URL_TEXT.finditer(prompt):
        out.append(
            _issue(
                "error",
                codes.ASSET_URL_IN_PROMPT,
                f"{m.group(0)} is written into the prompt; the model only understands tokens, "
                f"so write {_token_for(m.group(0), selection, tokens)} instead",
                position=m.start(),
                end=m.end(),
            )
        )
    inside_urls = [(m.start(), m.end()) for m in _ASSET_URL_TEXT.finditer(prompt)]
    ids = {r.source for r in selection if r.is_asset}
    spans: list[tuple[int, int]] = [(m.start(), m.end()) for m in _ASSET_ID_TEXT.finditer(prompt)]
    for source in ids:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(source), prompt)]
    for start, end in sorted(set(spans)):
        if any(a <= start < b for a, b in inside_urls):
            continue
        text = prompt[start:end]
        out.append(
            _issue(
                "error",
                codes.RAW_ASSET_ID,
                f"the asset id {text} is written into the prompt; the model never sees ids, "
                f"so write {_token_for(text, selection, tokens)} instead",
                position=start,
                end=end,
            )
        )
    for pos, ref in enumerate(selection):
        if ref.is_asset:
            continue
        for m in re.finditer(re.escape(ref.source), prompt):
            out.append(
                _issue(
                    "error",
                    codes.URL_IN_PROMPT,
                    f"the URL of {tokens[pos]} is written into the prompt; write {tokens[pos]} "
                    "instead",
                    position=m.start(),
                    end=m.end(),
                    item=pos,
                )
            )
    markers = [(m.start(), m.end()) for m in REMOVED_RE.finditer(prompt)]
    for pos, ref in enumerate(selection):
        if len(ref.name) < _MIN_NAME_CHARS:
            continue
        for m in re.finditer(r"(?<!\w)" + re.escape(ref.name) + r"(?!\w)", prompt):
            if any(a <= m.start() < b for a, b in markers):
                continue
            out.append(
                _issue(
                    "warning",
                    codes.ASSET_NAME_IN_PROMPT,
                    f"{ref.name!r} is the name of {tokens[pos]}, but the model never sees asset "
                    f"names; write {tokens[pos]} to point at it",
                    position=m.start(),
                    end=m.end(),
                    item=pos,
                )
            )
    return out


def _token_for(text: str, selection: Selection, tokens: list[str]) -> str:
    source = text.removeprefix(wire.ASSET_URL_SCHEME)
    for pos, ref in enumerate(selection):
        if ref.source == source:
            return tokens[pos]
    return "the token of the item ([Image 1], [Video 1], ...)"
