"""Local checks run before any request; each failure is a ``ValidationError`` naming the
argument."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from orca_nb import wire
from orca_nb.client.errors import ValidationError

_ID_PREFIXES = {"group_id": "group-", "asset_id": "asset-"}


def require_id(param: str, value: Any) -> str:
    """A non-blank id without whitespace; a group id passed as an asset id (or back) is refused."""
    if not isinstance(value, str):
        raise ValidationError(param, f"must be a string id, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(param, "must not be empty; pass the id the create/list call returned")
    if value != value.strip() or any(c.isspace() for c in value):
        raise ValidationError(param, f"must not contain whitespace, got {value!r}")
    if value.startswith(wire.ASSET_URL_SCHEME):
        raise ValidationError(param, f"pass the bare id, not the {wire.ASSET_URL_SCHEME} URL")
    for other, prefix in _ID_PREFIXES.items():
        if other != param and param in _ID_PREFIXES and value.startswith(prefix):
            raise ValidationError(param, f"{value!r} looks like a {other}, not a {param}")
    return value


def text(param: str, value: Any, *, max_chars: int, required: bool) -> str | None:
    """A string of at most ``max_chars``; blank is refused when ``required``."""
    if value is None:
        if required:
            raise ValidationError(param, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(param, f"must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(param, "must not be blank")
    if len(value) > max_chars:
        raise ValidationError(param, f"is {len(value)} characters; at most {max_chars} are allowed")
    return value


def choice(param: str, value: Any, allowed: Sequence[str]) -> str:
    """One of ``allowed`` (exact spelling)."""
    if not isinstance(value, str) or value not in allowed:
        hint = ""
        if isinstance(value, str):
            close = [a for a in allowed if a.lower() == value.lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValidationError(param, f"must be one of {', '.join(allowed)}; got {value!r}{hint}")
    return value


def optional_choice(param: str, value: Any, allowed: Sequence[str]) -> str | None:
    """``None`` or one of ``allowed``."""
    return None if value is None else choice(param, value, allowed)


def http_url(param: str, value: Any) -> str:
    """An absolute ``http(s)://host/...`` URL."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(param, "must be a public http(s) URL")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(
            param,
            f"must be a public http(s) URL (no local paths, data: or asset:// URLs); got "
            f"{value[:80]!r}",
        )
    return value.strip()


def integer(param: str, value: Any, *, low: int, high: int) -> int:
    """An int (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(param, f"must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValidationError(param, f"must be between {low} and {high}; got {value}")
    return value


def boolean(param: str, value: Any) -> bool:
    """A real bool."""
    if not isinstance(value, bool):
        raise ValidationError(param, f"must be True or False, got {value!r}")
    return value


def number(param: str, value: Any, *, minimum: float = 0.0) -> float:
    """A real number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ValidationError(param, f"must be a number >= {minimum}; got {value!r}")
    return float(value)


def statuses(value: Any) -> str | None:
    """``statuses=`` as the wire's comma-separated string (accepts a string or an iterable)."""
    if value is None:
        return None
    items: list[Any] = value.split(",") if isinstance(value, str) else list(_iterable(value))
    if not items:
        raise ValidationError("statuses", "must name at least one status")
    out = [
        choice("statuses", s.strip() if isinstance(s, str) else s, wire.ASSET_STATUSES)
        for s in items
    ]
    return ",".join(out)


def _iterable(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise ValidationError(
            "statuses", f"must be a list like ['Active', 'Failed'], got {type(value).__name__}"
        )
    return value


def moderation(value: Any) -> dict[str, Any] | None:
    """``moderation=``: ``None``, a strategy name, or ``{"Strategy": ...}``."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"Strategy": choice("moderation", value, wire.MODERATION_STRATEGIES)}
    if isinstance(value, Mapping):
        strategy = value.get("Strategy")
        choice("moderation", strategy, wire.MODERATION_STRATEGIES)
        return dict(value)
    raise ValidationError("moderation", "must be 'Skip', 'Default' or {'Strategy': ...}")


_MEDIA_SCHEMES = ("http", "https", "asset", "data")


def content_items(value: Any) -> list[dict[str, Any]]:
    """``content=`` for a video request: dicts in the documented shapes, or a compose Selection."""
    if value is None:
        return []
    if callable(getattr(value, "content", None)):
        value = value.content()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError(
            "content", "must be a list of content items (dicts) or an orca_nb.compose Selection"
        )
    items: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        where = f"content[{i}]"
        if not isinstance(item, Mapping):
            raise ValidationError(where, f"must be a dict, got {type(item).__name__}")
        kind = choice(f"{where}.type", item.get("type"), wire.CONTENT_TYPES)
        if kind == "text":
            if not isinstance(item.get("text"), str):
                raise ValidationError(f"{where}.text", "must be a string")
        else:
            inner = item.get(kind)
            url = inner.get("url") if isinstance(inner, Mapping) else None
            if not isinstance(url, str) or urlsplit(url).scheme not in _MEDIA_SCHEMES:
                raise ValidationError(
                    f"{where}.{kind}.url", "must be an http(s), asset:// or data: URL"
                )
            if "role" in item and item["role"] is not None:
                choice(f"{where}.role", item["role"], wire.ROLES)
        items.append(dict(item))
    return items
