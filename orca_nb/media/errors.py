"""Errors of media reading and fetching. Each carries the asset ``Error.Code`` it amounts to."""

from __future__ import annotations

from orca_nb import wire


class MediaError(Exception):
    """Base of media errors; ``code`` is a ``wire.ASSET_ERROR_*`` value."""

    code: str = wire.ASSET_ERROR_CORRUPT

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class MediaUnreadableError(MediaError, ValueError):
    """The bytes are not media we can read.

    ``code`` is ``ASSET_ERROR_FORMAT`` when the bytes are no known image/video/audio format at
    all (text, an archive, ...), ``ASSET_ERROR_DIMENSIONS`` for an image too large to open
    safely, and ``ASSET_ERROR_CORRUPT`` when the format is recognised but the data is broken.
    """


class MediaFetchError(MediaError):
    """A media URL could not be downloaded (HTTP error, timeout, connection failure)."""

    code = wire.ASSET_ERROR_DOWNLOAD_FAILED

    def __init__(self, message: str, *, url: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status_code = status_code
