"""Rules for request fields and list parameters of the asset endpoints (limits, enums, defaults).

Every failure is a 400 ``ErrorReply`` whose ``param`` names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from orca_nb import wire
from orca_nb.sandbox.errors import bad_request


def json_object(body: object) -> dict[str, Any]:
    """``body`` if it is a JSON object, else a 400."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None)
    return body


def name_field(body: Mapping[str, Any], *, required: bool) -> str | None:
    """``Name``: a non-empty string of at most ``wire.NAME_MAX_CHARS`` (``None`` if absent)."""
    if "Name" not in body or body["Name"] is None:
        if required:
            raise bad_request("Name is required", "Name")
        return None
    name = body["Name"]
    if not isinstance(name, str) or not name.strip():
        raise bad_request("Name must be a non-empty string", "Name")
    if len(name) > wire.NAME_MAX_CHARS:
        raise bad_request(f"Name is {len(name)} characters; at most {wire.NAME_MAX_CHARS}", "Name")
    return name


def description_field(body: Mapping[str, Any]) -> str:
    """``Description``: a string of at most ``wire.DESCRIPTION_MAX_CHARS`` (default empty)."""
    value = body.get("Description")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request("Description must be a string", "Description")
    if len(value) > wire.DESCRIPTION_MAX_CHARS:
        raise bad_request(
            f"Description is {len(value)} characters; at most {wire.DESCRIPTION_MAX_CHARS}",
            "Description",
        )
    return value


def moderation_field(body: Mapping[str, Any]) -> dict[str, Any]:
    """``Moderation``: an object whose ``Strategy`` is Default (the default) or Skip."""
    value = body.get("Moderation")
    if value is None:
        return {"Strategy": "Default"}
    if not isinstance(value, dict):
        raise bad_request('Moderation must be an object like {"Strategy": "Skip"}', "Moderation")
    strategy = value.get("Strategy", "Default")
    if strategy not in wire.MODERATION_STRATEGIES:
        raise bad_request(
            f"Moderation.Strategy must be one of {', '.join(wire.MODERATION_STRATEGIES)}",
            "Moderation.Strategy",
        )
    return {**value, "Strategy": strategy}


def group_type_param(query: Mapping[str, str]) -> str:
    """``group_type`` (default ``real_human``!) as the wire's GroupType."""
    value = query.get("group_type") or wire.DEFAULT_LIST_GROUP_TYPE
    if value not in wire.GROUP_TYPE_QUERY_TO_WIRE:
        raise bad_request(
            f"group_type must be one of {', '.join(wire.GROUP_TYPE_QUERY_TO_WIRE)}", "group_type"
        )
    return wire.GROUP_TYPE_QUERY_TO_WIRE[value]


URL_MAX_CHARS = 4096  # longer http(s) URLs in a request are refused


def int_text(raw: str, param: str, *, minimum: int, maximum: int) -> int:
    """The integer written in ``raw`` (ASCII digits, an optional leading ``-``), checked to be
    from ``minimum`` to ``maximum``; anything else (``"١٢"``, ``"²"``, ``"1e3"``, 5,000 digits)
    is a 400 naming ``param``."""
    text = raw
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise bad_request(
            f"{param} must be an integer from {minimum} to {maximum} in ASCII digits", param
        )
    if len(digits) > 19 or not minimum <= int(text) <= maximum:
        raise bad_request(f"{param} must be an integer from {minimum} to {maximum}", param)
    return int(text)


def http_url(value: object, param: str, *, max_chars: int = URL_MAX_CHARS) -> str:
    """``value`` if it is a well-formed ``http(s)`` URL with a host, at most ``max_chars`` long
    (no whitespace or control characters, brackets only around an IPv6 host, a valid port);
    else a 400 naming ``param``."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise bad_request(f"{param} must be an http(s) URL", param)
    if len(value) > max_chars:
        raise bad_request(f"{param} is {len(value):,} characters; at most {max_chars:,}", param)
    if any(ch <= " " or ch == "\x7f" for ch in value):
        raise bad_request(
            f"{param} must not contain spaces or control characters (percent-encode them)", param
        )
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise bad_request(f"{param} is not a well-formed URL ({exc})", param) from None
    if not host:
        raise bad_request(f"{param} must name a host, e.g. https://example.com/a.png", param)
    return value


def _positive_int(query: Mapping[str, str], key: str, default: int, maximum: int) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    return int_text(raw, key, minimum=1, maximum=maximum)


def paging_params(query: Mapping[str, str]) -> tuple[int, int]:
    """``page_number`` (>= 1) and ``page_size`` (1 to ``wire.MAX_PAGE_SIZE``)."""
    page_number = _positive_int(query, "page_number", 1, 10**9)
    page_size = _positive_int(query, "page_size", wire.DEFAULT_PAGE_SIZE, wire.MAX_PAGE_SIZE)
    return page_number, page_size


def sort_param(query: Mapping[str, str], allowed: tuple[str, ...]) -> tuple[str, bool]:
    """``sort_by``/``sort_order`` checked: (the wire's sort field, descending?)."""
    sort_by = query.get("sort_by") or wire.DEFAULT_SORT_BY
    if sort_by not in allowed:
        raise bad_request(f"sort_by must be one of {', '.join(allowed)}", "sort_by")
    sort_order = query.get("sort_order") or wire.DEFAULT_SORT_ORDER
    if sort_order not in wire.SORT_ORDERS:
        raise bad_request(f"sort_order must be one of {', '.join(wire.SORT_ORDERS)}", "sort_order")
    return sort_by, sort_order == "Desc"


def statuses_param(query: Mapping[str, str]) -> list[str]:
    """``statuses``: a comma-separated subset of the asset statuses."""
    raw = query.get("statuses") or ""
    values = [s.strip() for s in raw.split(",") if s.strip()]
    for value in values:
        if value not in wire.ASSET_STATUSES:
            raise bad_request(
                f"statuses must be a comma-separated subset of {','.join(wire.ASSET_STATUSES)}"
                f" ({value!r} is not one)",
                "statuses",
            )
    return values
