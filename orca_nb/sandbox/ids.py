"""Identifiers in the wire's formats, drawn from the backend's seedable random source."""

from __future__ import annotations

import random
import string

from orca_nb.sandbox.clock import compact

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def resource_id(kind: str, now: float, rng: random.Random) -> str:
    """``<kind>-YYYYMMDDhhmmss-<5 lowercase alnum>``, e.g. ``group-20260318033332-ab12c``."""
    suffix = "".join(rng.choice(_LOWER_ALNUM) for _ in range(5))
    return f"{kind}-{compact(now)}-{suffix}"


def token(length: int, rng: random.Random) -> str:
    """An opaque alphanumeric token (session ids, blob ids)."""
    return "".join(rng.choice(_ALNUM) for _ in range(length))
