"""Rules of ``POST /video/generations``: turn a Seedance body into a checked request or a 400.

Checks (each failure is an :class:`ErrorReply` naming the offending ``param``): routable model,
``metadata.content[]`` item shapes and roles, ``asset://`` references that exist, belong to the
caller, are ``Active`` and of the item's media type, the mode rules (first/last frame vs
references, per-type counts, total reference seconds), ``[Image N]`` style prompt references in
range, and allowed ``ratio`` / ``duration`` / ``resolution`` and option types.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orca_nb import wire
from orca_nb.compose import KIND_WIRE, ROLE_KIND
from orca_nb.sandbox.errors import ErrorReply, bad_request
from orca_nb.sandbox.fields import http_url, int_text

#: Looks an asset id up for the caller: ``None`` when unknown or not theirs, else a mapping with
#: ``status``, ``asset_type``, ``seconds``, ``width``, ``height``.
AssetLookup = Callable[[str], Mapping[str, Any] | None]

# The wire spellings per media kind are compose's (one table); the sandbox only inverts them.
_KIND_OF_TYPE = {w.content_type: kind for kind, w in KIND_WIRE.items()}
_ASSET_TYPE_OF_KIND = {kind: w.asset_type for kind, w in KIND_WIRE.items()}
_ROLES_OF_KIND = {
    kind: tuple(role for role, of in ROLE_KIND.items() if of == kind) for kind in KIND_WIRE
}
_PROMPT_REF = re.compile(r"\[(Image|Video|Audio)\s+(\d+)\]")


@dataclass(frozen=True)
class MediaRef:
    """One media item of ``content[]`` after checking."""

    kind: str  # image | video | audio
    role: str
    url: str
    asset_id: str | None = None
    seconds: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class VideoRequest:
    """A checked Seedance generation request with every default filled in."""

    model: str
    prompt: str
    refs: tuple[MediaRef, ...]
    ratio: str
    duration: int
    resolution: str
    generate_audio: bool
    watermark: bool
    seed: int
    service_tier: str
    return_last_frame: bool
    callback_url: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (stored with the task)."""
        return {
            "model": self.model,
            "prompt": self.prompt,
            "refs": [ref.__dict__ for ref in self.refs],
            "ratio": self.ratio,
            "duration": self.duration,
            "resolution": self.resolution,
            "generate_audio": self.generate_audio,
            "watermark": self.watermark,
            "seed": self.seed,
            "service_tier": self.service_tier,
            "return_last_frame": self.return_last_frame,
            "callback_url": self.callback_url,
        }


def parse_video_request(body: object, lookup: AssetLookup) -> VideoRequest:
    """Check a ``POST /video/generations`` body; raise :class:`ErrorReply` on the first problem."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None)
    model = _model(body)
    meta = body.get("metadata", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object", "metadata")
    refs = _content(meta.get("content"), lookup)
    _mode_rules(refs, model)
    prompt = body.get("prompt", "")
    if not isinstance(prompt, str):
        raise bad_request("prompt must be a string", "prompt")
    if not prompt.strip() and not refs:
        raise bad_request("prompt is required when content[] has no media", "prompt")
    _prompt_refs(prompt, refs)
    return VideoRequest(
        model=model.name,
        prompt=prompt,
        refs=tuple(refs),
        ratio=_choice(meta, "ratio", wire.RATIOS, model.default_ratio),
        duration=_duration(body, meta, model),
        resolution=_choice(meta, "resolution", model.resolutions, model.default_resolution),
        generate_audio=_bool(meta, "generate_audio", model.native_audio),
        watermark=_bool(meta, "watermark", False),
        seed=_seed(meta),
        service_tier=_choice(meta, "service_tier", wire.SERVICE_TIERS, "default"),
        return_last_frame=_bool(meta, "return_last_frame", False),
        callback_url=_callback(meta),
    )


def _model(body: Mapping[str, Any]) -> wire.ModelSpec:
    name = body.get("model")
    if name is None:
        raise bad_request(f"model is required, e.g. {wire.SEEDANCE_2!r}", "model")
    if not isinstance(name, str):
        raise bad_request("model must be a string", "model")
    spec = wire.MODELS.get(name)
    if spec is None or not spec.routable:
        why = "is not routable yet" if spec else "does not exist"
        raise ErrorReply(
            404,
            wire.CODE_MODEL_NOT_FOUND,
            f"model {name!r} {why}; the available Seedance model is {wire.SEEDANCE_2!r}",
            "model",
        )
    return spec


def _content(content: object, lookup: AssetLookup) -> list[MediaRef]:
    if content is None:
        return []
    if not isinstance(content, list):
        raise bad_request("metadata.content must be an array of items", "metadata.content")
    media_count = sum(
        1 for item in content if isinstance(item, dict) and item.get("type") != "text"
    )
    refs: list[MediaRef] = []
    for index, item in enumerate(content):
        where = f"metadata.content[{index}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object", where)
        kind_name = item.get("type")
        if kind_name not in wire.CONTENT_TYPES:
            raise bad_request(
                f"{where}.type must be one of {', '.join(wire.CONTENT_TYPES)}", f"{where}.type"
            )
        if kind_name == "text":
            if not isinstance(item.get("text"), str):
                raise bad_request(f"{where}.text must be a string", f"{where}.text")
            continue  # text items are replaced by the prompt (new-api behaviour)
        refs.append(_media_item(item, str(kind_name), where, media_count, lookup))
    return refs


def _media_item(
    item: Mapping[str, Any], type_name: str, where: str, media_count: int, lookup: AssetLookup
) -> MediaRef:
    kind = _KIND_OF_TYPE[type_name]
    inner = item.get(type_name)
    if not isinstance(inner, dict) or not isinstance(inner.get("url"), str) or not inner["url"]:
        raise bad_request(
            f'{where} needs "{type_name}": {{"url": "..."}} with a non-empty url',
            f"{where}.{type_name}.url",
        )
    url: str = inner["url"]
    role = item.get("role")
    if role is None:
        role = "first_frame" if kind == "image" and media_count == 1 else f"reference_{kind}"
    if not isinstance(role, str) or role not in _ROLES_OF_KIND[kind]:
        raise bad_request(
            f"{where}.role must be one of {', '.join(_ROLES_OF_KIND[kind])} for {type_name}",
            f"{where}.role",
        )
    param = f"{where}.{type_name}.url"
    if url.startswith(wire.ASSET_URL_SCHEME):
        asset_id = url[len(wire.ASSET_URL_SCHEME) :]
        found = lookup(asset_id)
        if found is None:
            raise bad_request(f"asset {asset_id!r} was not found in your asset library", param)
        expected = _ASSET_TYPE_OF_KIND[kind]
        if found["asset_type"] != expected:
            raise bad_request(
                f"asset {asset_id!r} is {found['asset_type']}, but {type_name} needs {expected}",
                param,
            )
        if found["status"] != "Active":
            raise bad_request(
                f"asset {asset_id!r} is {found['status']}; only Active assets can be referenced",
                param,
            )
        return MediaRef(
            kind, role, url, asset_id, found.get("seconds"), found.get("width"), found.get("height")
        )
    if url.startswith(("http://", "https://")):
        return MediaRef(kind, role, http_url(url, param))
    if kind == "image" and url.startswith("data:image/") and ";base64," in url:
        return MediaRef(kind, role, url)
    raise bad_request(
        f"{param} must be an http(s) URL, asset://<asset id>"
        + (" or a data:image/...;base64 URI" if kind == "image" else ""),
        param,
    )


def _mode_rules(refs: list[MediaRef], model: wire.ModelSpec) -> None:
    roles = [ref.role for ref in refs]
    frames = roles.count("first_frame") + roles.count("last_frame")
    where = "metadata.content"
    if frames and frames != len(refs):
        raise bad_request(
            "first_frame/last_frame items cannot be mixed with reference_* items", where
        )
    if roles.count("first_frame") > 1 or roles.count("last_frame") > 1:
        raise bad_request("at most one first_frame and one last_frame image", where)
    if "last_frame" in roles and "first_frame" not in roles:
        raise bad_request("a last_frame image needs a first_frame image", where)
    if "last_frame" in roles and not model.first_last_frame:
        raise bad_request(f"{model.name} does not support first+last frame", where)
    limits = (
        ("reference_image", wire.MAX_REF_IMAGES, "reference images"),
        ("reference_video", wire.MAX_REF_VIDEOS, "reference videos"),
        ("reference_audio", wire.MAX_REF_AUDIO, "reference audio clips"),
    )
    for role, limit, label in limits:
        if roles.count(role) > limit:
            raise bad_request(f"at most {limit} {label} ({roles.count(role)} given)", where)
    if len(refs) > wire.MAX_MEDIA_ITEMS:
        raise bad_request(f"at most {wire.MAX_MEDIA_ITEMS} media items ({len(refs)} given)", where)
    kinds = {ref.kind for ref in refs}
    if kinds == {"audio"}:
        raise bad_request("audio references need at least one image or video", where)
    if model.multimodal == "image" and kinds & {"video", "audio"}:
        raise bad_request(f"{model.name} only takes image references", where)
    for kind, cap in (("video", wire.MAX_REF_VIDEO_SECONDS), ("audio", wire.MAX_REF_AUDIO_SECONDS)):
        total = sum(ref.seconds or 0.0 for ref in refs if ref.kind == kind)
        if total > cap:
            raise bad_request(f"reference {kind} totals {total:.1f} s; at most {cap:g} s", where)


def _prompt_refs(prompt: str, refs: list[MediaRef]) -> None:
    counts = {
        "Image": sum(1 for r in refs if r.kind == "image"),
        "Video": sum(1 for r in refs if r.kind == "video"),
        "Audio": sum(1 for r in refs if r.kind == "audio"),
    }
    for match in _PROMPT_REF.finditer(prompt):
        digits = match.group(2)
        kind, number = match.group(1), int(digits) if len(digits) <= 9 else 10**9
        if not 1 <= number <= counts[kind]:
            have = counts[kind]
            raise bad_request(
                f"prompt refers to [{kind} {number}] but content[] has {have} "
                f"{kind.lower()} item{'s' if have != 1 else ''} (numbering is per type, from 1)",
                "prompt",
            )


def _choice(meta: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = meta.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise bad_request(f"metadata.{key} must be one of {', '.join(allowed)}", f"metadata.{key}")
    return value


def _bool(meta: Mapping[str, Any], key: str, default: bool) -> bool:
    value = meta.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"metadata.{key} must be true or false", f"metadata.{key}")
    return value


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int_text(value.strip(), "seconds", minimum=-(2**63), maximum=2**63 - 1)
        except ErrorReply:
            return None
    return None


def _duration(body: Mapping[str, Any], meta: Mapping[str, Any], model: wire.ModelSpec) -> int:
    # new-api: top-level duration / seconds override metadata.duration
    for key, param in (("duration", "duration"), ("seconds", "seconds")):
        if body.get(key) is not None:
            raw, where = body[key], param
            break
    else:
        raw, where = meta.get("duration", model.default_seconds), "metadata.duration"
    if raw is None:
        return model.default_seconds
    value = _int_or_none(raw) if where == "seconds" else (raw if type(raw) is int else None)
    allowed = f"{model.min_seconds}-{model.max_seconds} or {wire.DURATION_MODEL_CHOOSES}"
    if value is None:
        raise bad_request(f"{where} must be an integer ({allowed})", where)
    if value == wire.DURATION_MODEL_CHOOSES:
        return model.default_seconds
    if not model.min_seconds <= value <= model.max_seconds:
        raise bad_request(f"{where} must be {allowed} for {model.name}, not {value}", where)
    return value


def _seed(meta: Mapping[str, Any]) -> int:
    value = meta.get("seed", -1)
    if value is None:
        return -1
    if type(value) is not int or not wire.SEED_MIN <= value <= wire.SEED_MAX:
        raise bad_request(
            f"metadata.seed must be an integer from {wire.SEED_MIN} to {wire.SEED_MAX}",
            "metadata.seed",
        )
    return value


def _callback(meta: Mapping[str, Any]) -> str | None:
    value = meta.get("callback_url")
    if value is None:
        return None
    return http_url(value, "metadata.callback_url")
