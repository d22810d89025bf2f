"""Download media from a URL without ever holding more than the size cap (plus one byte).

The body is streamed and reading stops as soon as it passes ``max_bytes``, so a 2 GB link costs
at most the cap. When the server announces a ``Content-Length`` over the cap, only a
:data:`HEADER_PREFIX_BYTES` prefix is read (enough for an image header) and the announced size
is kept for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx

from orca_nb.media.errors import MediaFetchError

HEADER_PREFIX_BYTES: Final = 1024 * 1024
DEFAULT_TIMEOUT_SECONDS: Final = 30.0


@dataclass(frozen=True)
class Fetched:
    """What a capped download got. ``complete`` is False when reading stopped at the cap;
    ``total_bytes`` is the full size when known (complete body or ``Content-Length``)."""

    url: str
    data: bytes
    complete: bool
    total_bytes: int | None
    content_type: str | None


def _declared_length(response: httpx.Response) -> int | None:
    try:
        length = int(response.headers.get("content-length", ""))
    except ValueError:
        return None
    return length if length >= 0 and "content-encoding" not in response.headers else None


def fetch_media(
    url: str,
    *,
    max_bytes: int,
    http: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    follow_redirects: bool = True,
) -> Fetched:
    """GET ``url`` (following redirects unless told not to), keeping at most ``max_bytes + 1``
    bytes: the one capped downloader (pre-flight and the sandbox's upload fetches use it).

    Raises :class:`MediaFetchError` for a reply that is not 2xx (an unfollowed redirect too),
    timeouts and connection failures, with a message that says what to check; ValueError for a
    URL that is not http(s).
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(
            f"{url!r} is not an http(s) URL; the API only fetches public http(s) links"
        )
    own = http is None
    client = httpx.Client(timeout=timeout) if http is None else http
    try:
        with client.stream(
            "GET", url, follow_redirects=follow_redirects, timeout=timeout
        ) as response:
            if not response.is_success:
                raise MediaFetchError(
                    f"GET {url} answered HTTP {response.status_code} "
                    f"{response.reason_phrase}; check that the link is public (no login, not "
                    "expired) and spelled right",
                    url=url,
                    status_code=response.status_code,
                )
            declared = _declared_length(response)
            limit = max_bytes + 1
            if declared is not None and declared > max_bytes:
                limit = min(limit, HEADER_PREFIX_BYTES)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
            data = b"".join(chunks)
            complete = size <= max_bytes and (declared is None or declared <= max_bytes)
            total = size if complete else declared
            return Fetched(url, data[:limit], complete, total, response.headers.get("content-type"))
    except httpx.TimeoutException as exc:
        raise MediaFetchError(
            f"GET {url} timed out after {timeout:g} s ({type(exc).__name__}); check the host is "
            "reachable and fast, or raise the timeout",
            url=url,
        ) from exc
    except (httpx.TransportError, httpx.TooManyRedirects) as exc:
        raise MediaFetchError(
            f"GET {url} failed: {type(exc).__name__}: {exc}; check the address and that the "
            "server is up",
            url=url,
        ) from exc
    finally:
        if own:
            client.close()
