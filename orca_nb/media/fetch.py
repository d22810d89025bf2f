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


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(
            f"{url!r} is not an http(s) URL; the API only fetches public http(s) links"
        )


class _Capped:
    """Collects a streamed body up to the cap (shared by the sync and async downloads)."""

    def __init__(self, url: str, response: httpx.Response, max_bytes: int) -> None:
        if not response.is_success:
            raise MediaFetchError(
                f"GET {url} answered HTTP {response.status_code} "
                f"{response.reason_phrase}; check that the link is public (no login, not "
                "expired) and spelled right",
                url=url,
                status_code=response.status_code,
            )
        self.url, self.response, self.max_bytes = url, response, max_bytes
        self.declared = _declared_length(response)
        self.limit = max_bytes + 1
        if self.declared is not None and self.declared > max_bytes:
            self.limit = min(self.limit, HEADER_PREFIX_BYTES)
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; True once the cap is reached (stop reading)."""
        self.chunks.append(chunk)
        self.size += len(chunk)
        return self.size >= self.limit

    def result(self) -> Fetched:
        data = b"".join(self.chunks)
        complete = self.size <= self.max_bytes and (
            self.declared is None or self.declared <= self.max_bytes
        )
        total = self.size if complete else self.declared
        content_type = self.response.headers.get("content-type")
        return Fetched(self.url, data[: self.limit], complete, total, content_type)


def _failure(url: str, exc: httpx.HTTPError, timeout: float) -> MediaFetchError:
    if isinstance(exc, httpx.TimeoutException):
        return MediaFetchError(
            f"GET {url} timed out after {timeout:g} s ({type(exc).__name__}); check the host is "
            "reachable and fast, or raise the timeout",
            url=url,
        )
    return MediaFetchError(
        f"GET {url} failed: {type(exc).__name__}: {exc}; check the address and that the "
        "server is up",
        url=url,
    )


def fetch_media(
    url: str,
    *,
    max_bytes: int,
    http: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    follow_redirects: bool = True,
) -> Fetched:
    """GET ``url`` (following redirects unless told not to), keeping at most ``max_bytes + 1``
    bytes: the one capped downloader (pre-flight, the sandbox's upload fetches and, as
    :func:`afetch_media`, the widgets' media bytes use it).

    Raises :class:`MediaFetchError` for a reply that is not 2xx (an unfollowed redirect too),
    timeouts and connection failures, with a message that says what to check; ValueError for a
    URL that is not http(s).
    """
    _check_url(url)
    client = httpx.Client(timeout=timeout) if http is None else http
    try:
        with client.stream(
            "GET", url, follow_redirects=follow_redirects, timeout=timeout
        ) as response:
            capped = _Capped(url, response, max_bytes)
            for chunk in response.iter_bytes():
                if capped.add(chunk):
                    break
            return capped.result()
    except (httpx.TransportError, httpx.TooManyRedirects) as exc:
        raise _failure(url, exc, timeout) from exc
    finally:
        if http is None:
            client.close()


async def afetch_media(
    url: str,
    *,
    max_bytes: int,
    http: httpx.AsyncClient | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,  # noqa: ASYNC109 (httpx's per-request timeout)
    follow_redirects: bool = True,
) -> Fetched:
    """:func:`fetch_media` on an ``httpx.AsyncClient`` (same cap, errors and messages)."""
    _check_url(url)
    client = httpx.AsyncClient(timeout=timeout) if http is None else http
    try:
        async with client.stream(
            "GET", url, follow_redirects=follow_redirects, timeout=timeout
        ) as response:
            capped = _Capped(url, response, max_bytes)
            async for chunk in response.aiter_bytes():
                if capped.add(chunk):
                    break
            return capped.result()
    except (httpx.TransportError, httpx.TooManyRedirects) as exc:
        raise _failure(url, exc, timeout) from exc
    finally:
        if http is None:
            await client.aclose()
