"""Pre-flight: will this file be accepted as an asset? Answered locally, before any quota.

:func:`preflight` takes a URL, a local path or bytes, reads at most the size cap of the asset
type (plus one byte), probes the media and checks it against the requirements table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from orca_nb import wire
from orca_nb.media.errors import MediaUnreadableError
from orca_nb.media.fetch import DEFAULT_TIMEOUT_SECONDS, fetch_media
from orca_nb.media.formats import detect_asset_type, parse_asset_type
from orca_nb.media.probe import MediaInfo, probe_bytes
from orca_nb.media.requirements import Violation, check, size_violation


@dataclass(frozen=True)
class PreflightReport:
    """The verdict for one file.

    ``asset_type`` is the declared type, else the detected one. ``info`` is None only when a
    file over the size cap could not be read from its first bytes; ``violations`` then holds
    the size violation alone.
    """

    source: str
    asset_type: str | None
    info: MediaInfo | None
    violations: tuple[Violation, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the file meets every requirement of its asset type."""
        return self.info is not None and not self.violations

    def __str__(self) -> str:
        head = f"{self.source}: "
        if self.info is not None:
            i = self.info
            dims = f" {i.width}x{i.height}" if i.width else ""
            secs = f" {i.seconds:g}s" if i.seconds is not None else ""
            fps = f" {i.fps:g}fps" if i.fps is not None else ""
            head += f"{i.kind} {i.format}{dims}{secs}{fps} {i.bytes:,} bytes"
        verdict = " - OK" if self.ok else "".join(f"\n  - {v.message}" for v in self.violations)
        return head + verdict


@dataclass(frozen=True)
class _Loaded:
    label: str
    name: str
    data: bytes  # the whole file, or its first cap + 1 bytes
    total: int  # size in bytes; a lower bound (cap + 1) when not ``known``
    complete: bool
    known: bool = True
    content_type: str | None = None


def _load(
    source: str | os.PathLike[str] | bytes,
    cap: int,
    http: httpx.Client | None,
    timeout: float,
) -> _Loaded:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _Loaded("<bytes>", "", data, len(data), complete=True)
    name = os.fspath(source)
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        got = fetch_media(source, max_bytes=cap, http=http, timeout=timeout)
        known = got.total_bytes is not None
        total = got.total_bytes if got.total_bytes is not None else cap + 1
        return _Loaded(name, name, got.data, total, got.complete, known, got.content_type)
    if "://" in name:
        raise ValueError(f"{name!r}: only http(s) URLs and local paths can be checked")
    path = Path(name)
    try:
        total = path.stat().st_size
        with path.open("rb") as fh:
            data = fh.read(cap + 1)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {name!r}; check the path") from None
    return _Loaded(name, path.name, data, total, complete=total <= cap)


def preflight(
    source: str | os.PathLike[str] | bytes,
    asset_type: str | None = None,
    *,
    http: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> PreflightReport:
    """Check a URL, local file or bytes against the requirements of ``asset_type``.

    Without ``asset_type`` the type is detected (content, else extension, else MIME) and the
    largest cap of any type bounds the download. Raises
    :class:`~orca_nb.media.errors.MediaUnreadableError` for corrupt or unknown data,
    :class:`~orca_nb.media.errors.MediaFetchError` when a URL cannot be downloaded,
    FileNotFoundError for a missing path and ValueError for an unknown ``asset_type``.
    """
    declared = parse_asset_type(asset_type) if asset_type is not None else None
    cap = wire.REQUIREMENTS[declared or _largest_type()].max_bytes
    got = _load(source, cap, http, timeout)
    info = probe_bytes(got.data, name=got.name) if got.complete else _probe_prefix(got)
    kind = (
        declared
        or (info.kind if info is not None else None)
        or detect_asset_type(got.name, got.data, content_type=got.content_type)
        or _largest_type()
    )
    if info is None:
        size = size_violation(got.total, kind, at_least=not got.known)
        return PreflightReport(got.label, kind, None, (size,) if size else ())
    info = replace(info, bytes=got.total)
    violations = check(info, kind)
    if not got.known:
        more = size_violation(got.total, kind, at_least=True)
        violations = [more if v.field == "bytes" and more else v for v in violations]
    return PreflightReport(got.label, kind, info, tuple(violations))


def _largest_type() -> str:
    return max(wire.REQUIREMENTS, key=lambda t: wire.REQUIREMENTS[t].max_bytes)


def _probe_prefix(got: _Loaded) -> MediaInfo | None:
    """Header facts of an over-cap file's first bytes, if they can be read."""
    try:
        return probe_bytes(got.data, name=got.name, decode=False)
    except MediaUnreadableError:
        return None
