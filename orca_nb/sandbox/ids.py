"""Identifiers in the wire's formats, drawn from a cryptographic source (:mod:`secrets`).

Ids, session tokens (their H5 links), task ids and blob ids must be unguessable and unique
across processes that share one sandbox database, so they never come from the backend's
seeded random source (that one only drives demo content and render seeds). The backend draws
each candidate inside the write transaction that inserts it and draws again while the id is
taken (see ``Backend._new_id``): SQLite's write lock makes that check-and-insert atomic across
processes, so even the 5-character suffix of resource ids cannot collide.
"""

from __future__ import annotations

import secrets
import string

from orca_nb.sandbox.clock import compact

_LOWER_ALNUM = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits
RESOURCE_SUFFIX_CHARS = 5


def resource_id(kind: str, now: float) -> str:
    """``<kind>-YYYYMMDDhhmmss-<5 lowercase alnum>``, e.g. ``group-20260318033332-ab12c``."""
    suffix = "".join(secrets.choice(_LOWER_ALNUM) for _ in range(RESOURCE_SUFFIX_CHARS))
    return f"{kind}-{compact(now)}-{suffix}"


def token(length: int) -> str:
    """An opaque alphanumeric token (session ids, task ids, blob ids): ``length`` characters
    of 62, e.g. 40 characters carry 238 bits."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))
