"""Composition rules: selected references -> ``content[]``, prompt tokens, validation, request.

Pure functions and immutable values; nothing here touches the network.

>>> sel = Selection([Ref("asset-20260318071009-xy98z", "image"), Ref.from_url("https://x.test/a.mp3")])
>>> sel.tokens()
['[Image 1]', '[Audio 1]']
"""

from orca_nb.compose.cost import TokenEstimate, estimate_tokens, media_seconds_of
from orca_nb.compose.issues import CODES, CompositionError, Issue, errors
from orca_nb.compose.refs import (
    KIND_WIRE,
    KINDS,
    ROLE_KIND,
    AssetLike,
    Kind,
    KindWire,
    Ref,
    kind_from_url,
    parse_kind,
)
from orca_nb.compose.request import build_request, check_request
from orca_nb.compose.selection import MODES, Mode, Selection, format_token
from orca_nb.compose.tokens import (
    TokenMatch,
    find_tokens,
    insert_token,
    normalize_tokens,
    parse_token,
    removed_marker,
    renumber,
)
from orca_nb.compose.validate import routable_models, validate

__all__ = [
    "CODES",
    "KINDS",
    "KIND_WIRE",
    "MODES",
    "ROLE_KIND",
    "AssetLike",
    "CompositionError",
    "Issue",
    "Kind",
    "KindWire",
    "Mode",
    "Ref",
    "Selection",
    "TokenEstimate",
    "TokenMatch",
    "build_request",
    "check_request",
    "errors",
    "estimate_tokens",
    "find_tokens",
    "format_token",
    "insert_token",
    "kind_from_url",
    "media_seconds_of",
    "normalize_tokens",
    "parse_kind",
    "parse_token",
    "removed_marker",
    "renumber",
    "routable_models",
    "validate",
]
