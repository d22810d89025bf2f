"""Asset processing: fetch an upload URL (loopback only), read the media, apply the rules.

What an upload may fetch: the sandbox's own sample and file URLs (resolved in-process), and any
other ``http(s)`` URL whose host is a loopback address (``127.0.0.0/8``, ``::1``,
``localhost``), fetched with a size cap and a timeout, no redirects and no proxies. Every other
host is refused without any request: the asset ends ``Failed`` with
``InvalidParameter.DownloadFailed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from orca_nb import wire
from orca_nb.wire import is_loopback_host as is_loopback_host


class DownloadError(Exception):
    """The URL could not be fetched (refused host, HTTP error, too large, timeout)."""


@dataclass(frozen=True)
class Verdict:
    """What processing decided for one asset."""

    code: str | None  # None: Active; else the Error.Code of a Failed asset
    message: str | None
    media_type: str = "application/octet-stream"
    width: int | None = None
    height: int | None = None
    seconds: float | None = None

    @property
    def status(self) -> str:
        """``Active`` or ``Failed``."""
        return "Active" if self.code is None else "Failed"


def fetch(
    url: str,
    *,
    internal: Callable[[str], bytes | None],
    timeout: float,
    max_bytes: int,
) -> bytes:
    """The bytes at ``url``: the sandbox's own URLs via ``internal``, other loopback URLs over
    HTTP. Raises :class:`DownloadError` for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "http://[::1"
        raise DownloadError(f"cannot download {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError(f"cannot download {url!r}: only http(s) URLs are supported")
    if not is_loopback_host(parts.hostname):
        raise DownloadError(
            f"the sandbox does not fetch from {parts.hostname!r}: it only downloads its own "
            "sample URLs and loopback (127.0.0.1 / localhost) servers"
        )
    data = internal(url)
    if data is not None:
        return data
    from orca_nb.media import MediaFetchError, fetch_media

    try:
        with httpx.Client(timeout=timeout, trust_env=False) as http:  # no proxies
            got = fetch_media(
                url, max_bytes=max_bytes, http=http, timeout=timeout, follow_redirects=False
            )
    except MediaFetchError as exc:
        if exc.status_code is not None:
            raise DownloadError(f"downloading {url!r} answered HTTP {exc.status_code}") from exc
        raise DownloadError(f"downloading {url!r} failed: {exc}") from exc
    except (ValueError, httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DownloadError(f"downloading {url!r} failed: {type(exc).__name__}") from exc
    if not got.complete:
        raise DownloadError(f"{url!r} is larger than {max_bytes} bytes")
    return got.data


def evaluate(data: bytes, asset_type: str, *, name: str = "", person: str | None = None) -> Verdict:
    """Decide Active or Failed for media ``data`` uploaded as ``asset_type``.

    ``person`` is the verified person of a real-human (LivenessFace) group: images and videos
    must then show exactly that one face (sandbox rule: ``orca_nb.sandbox.faces.detect_faces``
    on the image or first video frame; none -> NoFaceDetected, several -> MultipleFaces, another
    person -> FaceMismatch).
    """
    from orca_nb.media import MediaUnreadableError, check, mime_of, probe_bytes

    try:
        info = probe_bytes(data, name=name)
    except MediaUnreadableError as exc:
        return Verdict(exc.code, str(exc))
    found = Verdict(
        None,
        None,
        mime_of(info.format),
        info.width,
        info.height,
        info.seconds,
    )
    if info.kind != asset_type:
        return _failed(
            found,
            wire.ASSET_ERROR_FORMAT,
            f"the file is {info.kind.lower()} ({info.format}), but AssetType is {asset_type}",
        )
    violations = check(info, asset_type)
    if violations:
        first = violations[0]
        return _failed(found, first.code, first.message)
    if person is not None and asset_type in ("Image", "Video"):
        from orca_nb.sandbox.faces import detect_faces

        faces = detect_faces(data)
        if not faces:
            return _failed(found, wire.ASSET_ERROR_NO_FACE, "No face was detected in the media.")
        if len(faces) > 1:
            return _failed(
                found,
                wire.ASSET_ERROR_MULTIPLE_FACES,
                f"{len(faces)} faces were detected; a real-human asset must show one person.",
            )
        if faces[0] != person:
            return _failed(
                found, wire.ASSET_ERROR_FACE_MISMATCH, "Face consistency verification failed."
            )
    return found


def _failed(found: Verdict, code: str, message: str) -> Verdict:
    return Verdict(code, message, found.media_type, found.width, found.height, found.seconds)
