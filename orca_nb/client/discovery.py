"""Operations for what the account may use: video models (``GET /v1/models``) and its balance
(``GET /v1/dashboard/billing/subscription`` and ``/usage``). I/O-free generators, like
:mod:`orca_nb.client.operations`.

Models: the service's OpenAI-style list is filtered to video models (``supported_endpoint_types``
containing ``"openai-video"``, reference 12.5, or an id the built-in table knows). Limits the
entry does not state come from ``wire.MODELS``, then ``wire.PEER_MODELS``, then Seedance 2.0's.
:func:`offer_models` never fails: when the service does not list models it offers the table.

Balance: new-api's shapes (``hard_limit_usd``, ``total_usage`` in cents, ``access_until``).
A service that does not offer the routes (404, 405) or does not let this key read them (401, 403)
gives ``None``: "not offered".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

from orca_nb import wire
from orca_nb.client._core import Ctx, Op, join_url, send_json
from orca_nb.client.errors import APIError, APIStatusError
from orca_nb.client.models import Balance, VideoModel

log = logging.getLogger("orca_nb.client")

#: Statuses that mean "this service does not offer that route to this key".
NOT_OFFERED: Final = frozenset({401, 403, 404, 405, 501})
#: Above this the account is unlimited (new-api reports 100,000,000 for an unlimited token).
UNLIMITED_USD: Final = 1e8 - 1
# Where a /v1/models entry may state limits. GUESS: no OrcaRouter source names these fields.
_LIMIT_HOMES: Final = ("limits", "capabilities", "video", "metadata")
_NOT_ROUTABLE_WORDS: Final = frozenset(
    {"planned", "unavailable", "disabled", "coming_soon", "not_routable", "offline"}
)  # GUESS


# --------------------------------------------------------------------------- models
def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return tuple(str(v) for v in value if v is not None)
    return ()


def _known_spec(model_id: str) -> wire.ModelSpec | None:
    for table in (wire.MODELS, wire.PEER_MODELS):
        if model_id in table:
            return table[model_id]
    tail = model_id.rsplit("/", 1)[-1]
    for table in (wire.MODELS, wire.PEER_MODELS):
        for name, spec in table.items():
            if name.rsplit("/", 1)[-1] == tail:
                return spec
    return None


def _limit(entry: Mapping[str, Any], *names: str) -> Any:
    homes = [entry, *(entry[h] for h in _LIMIT_HOMES if isinstance(entry.get(h), Mapping))]
    for home in homes:
        for name in names:
            if home.get(name) is not None:
                return home[name]
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _routable(entry: Mapping[str, Any]) -> bool:
    """Listed means routable unless the entry says otherwise."""
    for key in ("routable", "available", "enabled"):
        value = entry.get(key)
        if isinstance(value, bool):
            return value
    status = entry.get("status")
    return not (isinstance(status, str) and status.strip().lower() in _NOT_ROUTABLE_WORDS)


def _spec_for(model_id: str, entry: Mapping[str, Any], routable: bool) -> wire.ModelSpec:
    base = _known_spec(model_id) or replace(wire.MODELS[wire.SEEDANCE_2], name=model_id)
    changes: dict[str, Any] = {"name": model_id, "routable": routable}
    durations = _limit(entry, "durations", "supported_durations", "duration_options")
    seconds = [d for d in (_int(v) for v in _strings_or_items(durations)) if d is not None]
    if seconds:
        changes["min_seconds"], changes["max_seconds"] = min(seconds), max(seconds)
    for field_name, keys in (
        ("min_seconds", ("min_duration", "min_seconds")),
        ("max_seconds", ("max_duration", "max_seconds")),
        ("max_ref_images", ("max_reference_images", "max_images")),
        ("max_ref_videos", ("max_reference_videos", "max_videos")),
        ("max_ref_audio", ("max_reference_audios", "max_reference_audio", "max_audios")),
        ("max_media_items", ("max_media_items", "max_references")),
    ):
        number = _int(_limit(entry, *keys))
        if number is not None and number >= 0:
            changes[field_name] = number
    resolutions = _strings(_limit(entry, "resolutions", "supported_resolutions"))
    if resolutions:
        changes["resolutions"] = resolutions
    for field_name, key, allowed in (
        ("default_resolution", "default_resolution", wire.RESOLUTIONS),
        ("default_ratio", "default_ratio", wire.RATIOS),
        ("multimodal", "reference_media", ("full", "image")),
    ):
        word = _limit(entry, key)
        if isinstance(word, str) and word in allowed:
            changes[field_name] = word
    default_seconds = _int(_limit(entry, "default_seconds", "default_duration"))
    if default_seconds is not None and default_seconds > 0:
        changes["default_seconds"] = default_seconds
    for field_name, key in (
        ("first_last_frame", "first_last_frame"),
        ("native_audio", "native_audio"),
    ):
        flag = _limit(entry, key)
        if isinstance(flag, bool):
            changes[field_name] = flag
    return replace(base, **changes)


def _strings_or_items(value: Any) -> tuple[Any, ...]:
    if isinstance(value, Iterable) and not isinstance(value, str | Mapping):
        return tuple(value)
    return (value,) if value is not None else ()


def video_model(entry: Mapping[str, Any]) -> VideoModel | None:
    """One ``/v1/models`` entry as a :class:`VideoModel`, or ``None`` when it is no video model."""
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    endpoints = _strings(entry.get("supported_endpoint_types"))
    if wire.VIDEO_ENDPOINT_TYPE not in endpoints and _known_spec(model_id) is None:
        return None
    architecture = entry.get("architecture")
    modalities = (
        _strings(architecture.get("input_modalities")) if isinstance(architecture, Mapping) else ()
    )
    routable = _routable(entry)
    return VideoModel(
        id=model_id,
        routable=routable,
        spec=_spec_for(model_id, entry, routable),
        source="service",
        input_modalities=modalities,
        endpoint_types=endpoints,
        raw=dict(entry),
    )


def _ordered(models: Iterable[VideoModel]) -> list[VideoModel]:
    return sorted(models, key=lambda m: not m.routable)  # stable: the service's order within


def table_models() -> list[VideoModel]:
    """The built-in table (``wire.MODELS``) as models, for a service that lists none."""
    return _ordered(
        VideoModel(id=name, routable=spec.routable, spec=spec, source="table")
        for name, spec in wire.MODELS.items()
    )


def list_models(ctx: Ctx) -> Op[list[VideoModel]]:
    """``GET /v1/models``, video models only, routable first (errors raise)."""
    body = yield from send_json(ctx, "GET", join_url(ctx.config.base_url, wire.MODELS_PATH))
    entries = body.get("data") if isinstance(body, Mapping) else body
    if not isinstance(entries, list):
        raise APIError("unexpected reply to list models: no data list", body=body)
    found = [video_model(e) for e in entries if isinstance(e, Mapping)]
    return _ordered(m for m in found if m is not None)


def offer_models(ctx: Ctx) -> Op[list[VideoModel]]:
    """The models to offer and their limits: the service's list, or the table when the service
    does not list (any error, or no video model in the list). Never raises an API error."""
    try:
        found = yield from list_models(ctx)
    except APIError as exc:
        log.info("model list not available (%s); offering the built-in table", type(exc).__name__)
        return table_models()
    return found or table_models()


# --------------------------------------------------------------------------- balance
def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _expiry(value: Any) -> datetime | None:
    seconds = _float(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def balance_from(
    subscription: Mapping[str, Any] | None, usage: Mapping[str, Any] | None
) -> Balance:
    """A :class:`Balance` from the two replies (either may be missing)."""
    sub = subscription or {}
    use = usage or {}
    limit = _float(sub.get("hard_limit_usd"))
    if limit is None:
        limit = _float(sub.get("system_hard_limit_usd"))
    cents = _float(use.get("total_usage"))
    used = cents / wire.USAGE_CENTS_PER_UNIT if cents is not None else None
    unlimited = limit is not None and limit >= UNLIMITED_USD
    remaining = None
    if limit is not None and used is not None and not unlimited:
        remaining = round(max(0.0, limit - used), 6)
    raw: dict[str, Any] = {}
    if subscription is not None:
        raw["subscription"] = dict(subscription)
    if usage is not None:
        raw["usage"] = dict(usage)
    return Balance(
        remaining=remaining,
        limit=limit,
        used=used,
        expires_at=_expiry(sub.get("access_until")),
        unlimited=unlimited,
        raw=raw,
    )


def _read_optional(ctx: Ctx, path: str) -> Op[Mapping[str, Any] | None]:
    try:
        body = yield from send_json(ctx, "GET", join_url(ctx.config.base_url, path))
    except APIStatusError as exc:
        if exc.status in NOT_OFFERED:
            return None
        raise
    return body if isinstance(body, Mapping) else None


def get_balance(ctx: Ctx) -> Op[Balance | None]:
    """Both billing routes; ``None`` when the service offers neither to this key."""
    subscription = yield from _read_optional(ctx, wire.BILLING_SUBSCRIPTION_PATH)
    if subscription is None:
        return None
    usage = yield from _read_optional(ctx, wire.BILLING_USAGE_PATH)
    return balance_from(subscription, usage)
