"""What one selected reference is: an asset id or a plain URL, with its media kind.

A :class:`Ref` is the unit a :class:`~orca_nb.compose.selection.Selection` orders. The kind
(``image``/``video``/``audio``) fixes the content item ``type``, the default ``role`` and the
prompt token word; the wire names for each kind live in :data:`KIND_WIRE`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol
from urllib.parse import urlsplit

from orca_nb import wire

Kind = Literal["image", "video", "audio"]
KINDS: Final[tuple[Kind, ...]] = ("image", "video", "audio")


@dataclass(frozen=True)
class KindWire:
    """The wire spellings that belong to one media kind."""

    asset_type: str  # AssetType value: "Image"
    content_type: str  # content item type: "image_url"
    reference_role: str  # role in reference mode: "reference_image"
    token_word: str  # prompt token word: "Image" in "[Image 1]"


KIND_WIRE: Final[dict[Kind, KindWire]] = {
    "image": KindWire("Image", "image_url", "reference_image", "Image"),
    "video": KindWire("Video", "video_url", "reference_video", "Video"),
    "audio": KindWire("Audio", "audio_url", "reference_audio", "Audio"),
}
ROLE_KIND: Final[dict[str, Kind]] = {
    "reference_image": "image",
    "first_frame": "image",
    "last_frame": "image",
    "reference_video": "video",
    "reference_audio": "audio",
}
FRAME_ROLES: Final = frozenset({"first_frame", "last_frame"})

# Upstream ids look like asset-20260318071009-xy98z; accept any asset-<word chars> id.
ASSET_ID_RE: Final = re.compile(r"asset-[A-Za-z0-9][A-Za-z0-9_-]*")


class AssetLike(Protocol):
    """Anything shaped like the client's ``Asset`` model (only these attributes are read)."""

    @property
    def id(self) -> str: ...
    @property
    def asset_type(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def group_id(self) -> str | None: ...


def parse_kind(value: str) -> Kind:
    """``"image"``, ``"Image"`` (an AssetType) or ``"image_url"`` -> ``"image"``."""
    text = str(value).strip().lower().removesuffix("_url")
    if text not in KINDS:
        raise ValueError(f"unknown media kind {value!r}; use one of {', '.join(KINDS)}")
    return text


def kind_from_url(url: str) -> Kind | None:
    """The kind an http(s) URL's file extension names (accepted formats only), else None."""
    path = urlsplit(url).path
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    fmt = wire.FORMAT_EXTENSIONS.get(ext)
    if fmt is None:
        return None
    for asset_type, req in wire.REQUIREMENTS.items():
        if fmt in req.formats:
            return parse_kind(asset_type)
    return None


def is_http_url(text: str) -> bool:
    """True for an absolute http:// or https:// URL with a host."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class Ref:
    """One selected reference.

    ``source`` is an asset id (``asset-...``; an ``asset://`` prefix is stripped) or an http(s)
    URL. ``role`` overrides the role the composition mode would give it. ``status`` (asset
    ``Status``) and ``seconds`` (media length) are optional facts validation uses when known.
    """

    source: str
    kind: Kind
    role: str | None = None
    name: str = ""
    status: str | None = None
    seconds: float | None = None
    group_id: str | None = None

    def __post_init__(self) -> None:
        source = str(self.source).strip()
        source = source.removeprefix(wire.ASSET_URL_SCHEME)
        if not (ASSET_ID_RE.fullmatch(source) or is_http_url(source)):
            raise ValueError(
                f"reference source {self.source!r} is neither an asset id (asset-...) nor an "
                "http(s) URL; pass the Id of an asset or a public http(s) link"
            )
        object.__setattr__(self, "source", source)
        kind = parse_kind(self.kind)
        object.__setattr__(self, "kind", kind)
        if self.role is not None:
            if self.role not in ROLE_KIND:
                raise ValueError(f"unknown role {self.role!r}; use one of {', '.join(wire.ROLES)}")
            if ROLE_KIND[self.role] != kind:
                raise ValueError(
                    f"role {self.role!r} is for {ROLE_KIND[self.role]}s, but this reference is "
                    f"a {kind}; drop the role or pick one for {kind}s"
                )
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {self.seconds!r}")
        object.__setattr__(self, "name", self.name or "")

    @classmethod
    def from_url(cls, url: str, kind: str | None = None, **fields: Any) -> Ref:
        """A URL reference; the kind is taken from the file extension when not given."""
        found = parse_kind(kind) if kind is not None else kind_from_url(url)
        if found is None:
            raise ValueError(
                f"cannot tell whether {url!r} is an image, video or audio from its name; "
                "pass kind='image', 'video' or 'audio'"
            )
        return cls(url, found, **fields)

    @classmethod
    def from_asset(
        cls, asset: AssetLike, *, role: str | None = None, seconds: float | None = None
    ) -> Ref:
        """A reference to an asset as the client returns it (``Id``, ``AssetType``, ...)."""
        if not asset.asset_type:
            raise ValueError(
                f"asset {asset.id!r} does not say its AssetType; fetch it again or build "
                "Ref(asset_id, kind) yourself"
            )
        return cls(
            asset.id,
            parse_kind(asset.asset_type),
            role=role,
            name=asset.name or "",
            status=asset.status,
            seconds=seconds,
            group_id=asset.group_id,
        )

    @property
    def is_asset(self) -> bool:
        """True when the source is an asset id rather than a URL."""
        return not is_http_url(self.source)

    @property
    def url(self) -> str:
        """The URL the content item carries: ``asset://<id>`` or the plain URL."""
        return wire.ASSET_URL_SCHEME + self.source if self.is_asset else self.source

    @property
    def key(self) -> tuple[Kind, str]:
        """Identity used to follow a reference across reorderings: (kind, source)."""
        return (self.kind, self.source)

    @property
    def label(self) -> str:
        """A short human label: the name, else the asset id or the URL's last path segment."""
        if self.name:
            return self.name
        if self.is_asset:
            return self.source
        tail = urlsplit(self.source).path.rstrip("/").rsplit("/", 1)[-1]
        return tail or self.source
