"""Rules for request fields and list parameters of the asset endpoints (limits, enums, defaults).

Every failure is a 400 ``ApiError`` whose ``param`` names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def _positive_int(query: Mapping[str, str], key: str, default: int, maximum: int | None) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise bad_request(f"{key} must be a positive integer", key)
    value = int(raw)
    if maximum is not None and value > maximum:
        raise bad_request(f"{key} must be at most {maximum}", key)
    return value


def paging_params(query: Mapping[str, str]) -> tuple[int, int]:
    """``page_number`` (>= 1) and ``page_size`` (1 to ``wire.MAX_PAGE_SIZE``)."""
    page_number = _positive_int(query, "page_number", 1, 10**9)
    page_size = _positive_int(query, "page_size", wire.DEFAULT_PAGE_SIZE, wire.MAX_PAGE_SIZE)
    return page_number, page_size


_SORT_COLUMNS = {"CreateTime": "created", "UpdateTime": "updated", "GroupId": "group_id"}


def sort_clause(query: Mapping[str, str], allowed: tuple[str, ...]) -> str:
    """SQL ``ORDER BY`` for ``sort_by``/``sort_order`` (ties by insertion order)."""
    sort_by = query.get("sort_by") or wire.DEFAULT_SORT_BY
    if sort_by not in allowed:
        raise bad_request(f"sort_by must be one of {', '.join(allowed)}", "sort_by")
    sort_order = query.get("sort_order") or wire.DEFAULT_SORT_ORDER
    if sort_order not in wire.SORT_ORDERS:
        raise bad_request(f"sort_order must be one of {', '.join(wire.SORT_ORDERS)}", "sort_order")
    direction = "DESC" if sort_order == "Desc" else "ASC"
    return f"{_SORT_COLUMNS[sort_by]} {direction}, seq {direction}"


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
