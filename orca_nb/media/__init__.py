"""Media: read files and check them against the API's requirements, before any quota is spent.

- :func:`probe_bytes` / :func:`probe_file` -> :class:`MediaInfo` (Pillow + pillow-heif, PyAV).
- :func:`check` -> :class:`Violation` list against ``wire.REQUIREMENTS``.
- :func:`preflight` a URL, path or bytes -> :class:`PreflightReport`, before any quota is spent.
- :func:`detect_asset_type` from content, extension or MIME type; :func:`mime_of` a format.
- :func:`fetch_media` / :func:`afetch_media` a URL with a size cap.
- :func:`video_poster` a video's poster frame as a small JPEG; :func:`poster_data_uri` /
  :func:`jpeg_data_uri` as a ``data:`` URI (the widgets' thumbnails, the experiments' export).

The sandbox's face rule and sample-media generator live in the sandbox
(``orca_nb.sandbox.faces``, ``orca_nb.sandbox.synth``).
"""

from orca_nb.media.errors import MediaError, MediaFetchError, MediaUnreadableError
from orca_nb.media.fetch import Fetched, afetch_media, fetch_media
from orca_nb.media.formats import (
    detect_asset_type,
    format_from_mime,
    format_from_name,
    mime_of,
    parse_asset_type,
    sniff,
    type_of_format,
)
from orca_nb.media.poster import jpeg_data_uri, poster_data_uri, video_poster
from orca_nb.media.preflight import PreflightReport, preflight
from orca_nb.media.probe import MediaInfo, probe_bytes, probe_file, register_heif_opener
from orca_nb.media.requirements import Violation, check, size_violation

__all__ = [
    "Fetched",
    "MediaError",
    "MediaFetchError",
    "MediaInfo",
    "MediaUnreadableError",
    "PreflightReport",
    "Violation",
    "afetch_media",
    "check",
    "detect_asset_type",
    "fetch_media",
    "format_from_mime",
    "format_from_name",
    "jpeg_data_uri",
    "mime_of",
    "parse_asset_type",
    "poster_data_uri",
    "preflight",
    "probe_bytes",
    "probe_file",
    "register_heif_opener",
    "size_violation",
    "sniff",
    "type_of_format",
    "video_poster",
]
