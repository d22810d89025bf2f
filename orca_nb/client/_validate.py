"""Local checks run before any request; each failure is a ``ValidationError`` naming the
argument."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from orca_nb import wire
from orca_nb.client.errors import ValidationError

_ID_PREFIXES = {"group_id": "group-", "asset_id": "asset-"}
#: Longest id, URL and JSON nesting the client sends (ids and URLs are far shorter in practice).
MAX_ID_CHARS = 256
MAX_URL_CHARS = 8192
MAX_JSON_DEPTH = 32
_ID_FORBIDDEN = frozenset("/\\?#%")


def _unsendable(value: str) -> str | None:
    """Why ``value`` cannot travel as UTF-8 text (a lone surrogate, a NUL), or ``None``."""
    if "\x00" in value:
        return "must not contain a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds invalid Unicode at character {exc.start} (a lone surrogate)"
    return None


def require_id(param: str, value: Any) -> str:
    """A non-blank id without whitespace; a group id passed as an asset id (or back) is refused."""
    if not isinstance(value, str):
        raise ValidationError(param, f"must be a string id, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(param, "must not be empty; pass the id the create/list call returned")
    if value != value.strip() or any(c.isspace() for c in value):
        raise ValidationError(param, f"must not contain whitespace, got {value[:80]!r}")
    if len(value) > MAX_ID_CHARS:
        raise ValidationError(param, f"is {len(value)} characters; ids are at most {MAX_ID_CHARS}")
    if not value.isascii() or not value.isprintable() or _ID_FORBIDDEN & set(value):
        raise ValidationError(
            param,
            f"is not an id (ids are printable ASCII without / \\ ? # %); got {value[:80]!r}",
        )
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
    problem = _unsendable(value)
    if problem:
        raise ValidationError(param, problem)
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
    """An absolute ``http(s)://host/...`` URL that httpx can send."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(param, "must be a public http(s) URL")
    url = value.strip()
    problem = _unsendable(url)
    if problem:
        raise ValidationError(param, problem)
    if len(url) > MAX_URL_CHARS:
        raise ValidationError(param, f"is {len(url)} characters; at most {MAX_URL_CHARS}")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise ValidationError(param, f"must not contain spaces or control characters: {url[:80]!r}")
    try:
        parts = urlsplit(url)
        host = httpx.URL(url).host
    except (ValueError, httpx.InvalidURL) as exc:
        raise ValidationError(param, f"is not a valid URL ({exc}); got {url[:80]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or not host:
        raise ValidationError(
            param,
            f"must be a public http(s) URL (no local paths, data: or asset:// URLs); got "
            f"{url[:80]!r}",
        )
    return url


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


def number(param: str, value: Any, *, minimum: float = 0.0, maximum: float = 1e9) -> float:
    """A finite real number in ``[minimum, maximum]`` (not a bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(param, f"must be a number of seconds, got {type(value).__name__}")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result) or not minimum <= result <= maximum:
        shown = repr(value) if len(repr(value)) < 40 else f"{repr(value)[:40]}..."
        raise ValidationError(
            param, f"must be a number from {minimum:g} to {maximum:g}; got {shown}"
        )
    return result


def timeout(param: str, value: Any) -> httpx.Timeout:
    """``timeout=``: seconds, an ``httpx.Timeout``, or ``None`` (no limit)."""
    if isinstance(value, httpx.Timeout):
        for name, part in value.as_dict().items():
            if part is not None:
                number(f"{param}.{name}", part, maximum=1e6)
        return value
    if value is None:
        return httpx.Timeout(None)
    return httpx.Timeout(number(param, value, maximum=1e6))


def json_body(param: str, value: Any) -> None:
    """Refuse what cannot travel as JSON before anything is sent or recorded: lone surrogates
    and NULs in strings, NaN/infinity, non-string keys, other types, nesting past
    ``MAX_JSON_DEPTH``. The error names the place (``request.metadata.content[0]...``)."""
    stack: list[tuple[str, Any, int]] = [(param, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(where, f"nests deeper than {MAX_JSON_DEPTH} levels")
        if item is None or isinstance(item, bool | int):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise ValidationError(where, f"must be a finite number, got {item!r}")
        elif isinstance(item, str):
            problem = _unsendable(item)
            if problem:
                raise ValidationError(where, problem)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise ValidationError(where, f"has a non-string key {key!r}")
                problem = _unsendable(key)
                if problem:
                    raise ValidationError(f"{where} key", problem)
                stack.append((f"{where}.{key}", inner, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{i}]", inner, depth + 1) for i, inner in enumerate(item))
        else:
            raise ValidationError(where, f"cannot be sent as JSON ({type(item).__name__})")


def file_target(param: str, value: str | os.PathLike[str]) -> Path:
    """A file path to write: representable, not a directory, in an existing directory."""
    try:
        text = os.fspath(value)
    except TypeError:
        raise ValidationError(param, "must be a path or a binary file object") from None
    if not isinstance(text, str):
        raise ValidationError(param, "must be a str path (not bytes) or a binary file object")
    problem = _unsendable(text)
    if problem or not text.strip():
        raise ValidationError(param, problem or "must not be empty")
    path = Path(text)
    try:
        is_dir, parent_ok = path.is_dir(), path.parent.is_dir()
    except (OSError, ValueError) as exc:
        raise ValidationError(param, f"cannot be used ({exc})") from None
    if is_dir:
        raise ValidationError(param, f"{path} is a directory; give a file name")
    if not parent_ok:
        raise ValidationError(param, f"the folder {path.parent} does not exist; create it first")
    return path


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
