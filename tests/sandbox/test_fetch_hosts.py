"""The sandbox fetches only loopback hosts: host tricks, redirects and size are refused without
reaching anything else."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox.processing import DownloadError, fetch, is_loopback_host
from tests.sandbox.helpers import get_asset, loopback_server, make_group, upload

REFUSED = [
    "http://127.0.0.1.evil.invalid/a.jpg",  # a DNS name that merely starts like loopback
    "http://127.0.0.1@evil.invalid/a.jpg",  # userinfo: the host is evil.invalid
    "http://127.0.0.1:80@evil.invalid/a.jpg",
    "http://127.0.0.1%2f@evil.invalid/a.jpg",
    "http://127.0.0.1\\@evil.invalid/a.jpg",
    "http://localhost.evil.invalid/a.jpg",
    "http://0.0.0.0/a.jpg",  # not loopback (on Linux it would reach every local interface)
    "http://[::ffff:10.0.0.1]/a.jpg",  # IPv4-mapped IPv6 of a private address
    "http://[::]/a.jpg",
    "http://10.0.0.1/a.jpg",
    "http://169.254.169.254/latest/meta-data",  # cloud metadata
    "http://2130706433/a.jpg",  # decimal form: refused rather than interpreted
    "http://0x7f.1/a.jpg",
    "ftp://127.0.0.1/a.jpg",
    "file:///etc/passwd",
    "http:///a.jpg",
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record (and refuse) every name lookup and connection attempt."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kw: Any) -> Any:
        attempts.append(args)
        raise OSError("network use in a test that must not touch the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize("url", REFUSED)
def test_non_loopback_urls_are_refused_before_any_lookup(url: str, no_network: list[Any]) -> None:
    asked: list[str] = []

    def internal(u: str) -> bytes | None:
        asked.append(u)
        return None

    with pytest.raises(DownloadError):
        fetch(url, internal=internal, timeout=1.0, max_bytes=1000)
    assert asked == []  # not even the sandbox's own files
    assert no_network == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.8.7", "localhost", "LOCALHOST", "[::1]"])
def test_loopback_hosts_are_recognised(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "127.0.0.1.evil.invalid", "", "localhost."])
def test_lookalike_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


class _Redirecting(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Redirecting.hits.append(self.path)
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b"x" * 5000)
            return
        self.send_response(302)
        self.send_header("Location", "http://evil.invalid/a.jpg")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def redirecting() -> Iterator[str]:
    _Redirecting.hits = []
    with loopback_server(_Redirecting) as url:
        yield url


def test_a_loopback_redirect_elsewhere_is_not_followed(redirecting: str) -> None:
    with pytest.raises(DownloadError, match="HTTP 302"):
        fetch(f"{redirecting}/a.jpg", internal=lambda u: None, timeout=5.0, max_bytes=1000)
    assert _Redirecting.hits == ["/a.jpg"]  # one request, the redirect not followed


def test_a_loopback_answer_over_the_size_cap_is_refused(redirecting: str) -> None:
    with pytest.raises(DownloadError, match="larger than 1000 bytes"):
        fetch(f"{redirecting}/big", internal=lambda u: None, timeout=5.0, max_bytes=1000)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1@evil.invalid/ada.jpg", "http://[::ffff:10.0.0.1]/ada.jpg"]
)
def test_upload_from_a_disguised_host_fails_as_download_failed(api: httpx.Client, url: str) -> None:
    aid = upload(api, make_group(api), url, "Image")
    asset = get_asset(api, aid)
    assert asset["Status"] == "Failed"
    assert asset["Error"]["Code"] == wire.ASSET_ERROR_DOWNLOAD_FAILED
    assert "does not fetch from" in asset["Error"]["Message"]  # refused, not a failed lookup


def test_a_video_reference_on_another_host_is_not_fetched(no_network: list[Any]) -> None:
    from orca_nb.sandbox import Backend, SandboxConfig
    from orca_nb.sandbox.render_worker import _url_bytes

    backend = Backend(SandboxConfig(processing="instant"))
    try:
        assert _url_bytes(backend, "http://127.0.0.1@evil.invalid/x.mp4") is None
        assert _url_bytes(backend, "http://0.0.0.0/x.mp4") is None
        assert _url_bytes(backend, "data:image/png;base64,aGk=") == b"hi"  # decoded locally
    finally:
        backend.close()
    assert no_network == []
