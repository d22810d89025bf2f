from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from orca_nb import wire
from orca_nb.media import (
    MediaFetchError,
    MediaUnreadableError,
    afetch_media,
    fetch_media,
    preflight,
)
from orca_nb.sandbox import synth

GB = 1024**3


@cache
def jpeg() -> bytes:
    return synth.image_bytes(1200, 800, fmt="jpeg")


@cache
def mp3() -> bytes:
    return synth.audio_bytes(3.0, fmt="mp3")


@cache
def short_mp4() -> bytes:
    return synth.video_bytes(640, 480, seconds=1.0, fps=24)


class MediaServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, tuple[bytes, str]] = {}
        self.sent = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-body is the point of some tests: stay quiet."""


class Handler(BaseHTTPRequestHandler):
    server: MediaServer

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def _body(self, data: bytes, ctype: str, *, length: bool = True) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _endless(self, head: bytes, declared: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        if declared is not None:
            self.send_header("Content-Length", str(declared))
        self.end_headers()
        block = head + b"\0" * (64 * 1024 - len(head) % (64 * 1024))
        try:
            for _ in range(2 * GB // len(block)):
                self.wfile.write(block)
                with self.server.lock:
                    self.server.sent += len(block)
                block = b"\0" * (64 * 1024)
        except OSError:
            return

    def do_GET(self) -> None:
        path = self.path
        if path.startswith("/files/"):
            data, ctype = self.server.files[path.removeprefix("/files/")]
            self._body(data, ctype)
        elif path.startswith("/nolength/"):
            data, ctype = self.server.files[path.removeprefix("/nolength/")]
            self._body(data, ctype, length=False)
        elif path == "/huge-declared.jpg":
            self._endless(jpeg()[:4096], 2 * GB)
        elif path == "/huge-stream.jpg":
            self._endless(jpeg()[:4096], None)
        elif path.startswith("/status/"):
            self.send_error(int(path.removeprefix("/status/")))
        elif path == "/slow.jpg":
            time.sleep(1.5)
            self._body(jpeg(), "image/jpeg")
        elif path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/files/photo.jpg")
            self.end_headers()
        else:
            self.send_error(404)


@pytest.fixture
def server() -> Iterator[MediaServer]:
    srv = MediaServer()
    srv.files = {
        "photo.jpg": (jpeg(), "image/jpeg"),
        "song.mp3": (mp3(), "audio/mpeg"),
        "clip.mp4": (short_mp4(), "video/mp4"),
        "noext": (mp3(), "audio/mpeg"),
        "fake.jpg": (b"just some text\n" * 10, "image/jpeg"),
    }
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- local sources
def test_ok_file_detects_type(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg())
    report = preflight(path)
    assert report.ok
    assert report.asset_type == "Image"
    assert report.info is not None
    assert (report.info.width, report.info.height) == (1200, 800)
    assert str(report).endswith("- OK")


def test_bytes_source_and_every_violation_listed() -> None:
    report = preflight(short_mp4(), "video")
    assert not report.ok
    assert report.asset_type == "Video"
    assert [v.field for v in report.violations] == ["pixels", "seconds"]
    assert "shorter than the 2 s minimum" in str(report)


def test_declared_type_mismatch_is_a_violation() -> None:
    report = preflight(mp3(), "Image")
    assert [(v.code, v.field) for v in report.violations] == [
        (wire.ASSET_ERROR_FORMAT, "asset_type")
    ]


def test_oversized_local_file_is_read_only_to_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    with path.open("wb") as fh:
        fh.write(jpeg()[:4096])
        fh.truncate(31 * wire.MB)  # sparse: 31 MB on paper
    report = preflight(path, "Image")
    assert report.info is not None
    assert report.info.width == 1200
    assert [v.field for v in report.violations] == ["bytes"]
    assert "31.0 MB" in report.violations[0].message


def test_corrupt_and_unknown_files_raise(tmp_path: Path) -> None:
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg()[:5000])
    with pytest.raises(MediaUnreadableError, match=r"cut\.jpg"):
        preflight(cut)
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    with pytest.raises(MediaUnreadableError) as info:
        preflight(text)
    assert info.value.code == wire.ASSET_ERROR_FORMAT


def test_bad_arguments() -> None:
    with pytest.raises(FileNotFoundError, match="check the path"):
        preflight("/nonexistent/photo.jpg")
    with pytest.raises(ValueError, match="only http"):
        preflight("ftp://example.test/photo.jpg")
    with pytest.raises(ValueError, match="Image, Video, Audio"):
        preflight(jpeg(), "Photo")


# --------------------------------------------------------------------------- URLs
def test_url_ok(server: MediaServer) -> None:
    report = preflight(f"{server.url}/files/song.mp3")
    assert report.ok
    assert report.asset_type == "Audio"
    assert report.source.endswith("/files/song.mp3")


def test_url_with_shared_client_and_redirect(server: MediaServer) -> None:
    with httpx.Client() as http:
        report = preflight(f"{server.url}/redirect", "Image", http=http)
        assert report.ok
        assert not http.is_closed  # a caller's client is not closed


def test_url_without_extension_uses_content(server: MediaServer) -> None:
    assert preflight(f"{server.url}/nolength/noext").asset_type == "Audio"


def test_url_disguised_text_raises(server: MediaServer) -> None:
    with pytest.raises(MediaUnreadableError):
        preflight(f"{server.url}/files/fake.jpg")


@pytest.mark.parametrize("status", [403, 404, 500])
def test_http_errors(server: MediaServer, status: int) -> None:
    with pytest.raises(MediaFetchError, match=f"HTTP {status}") as info:
        preflight(f"{server.url}/status/{status}")
    assert info.value.status_code == status
    assert info.value.code == wire.ASSET_ERROR_DOWNLOAD_FAILED
    assert "public" in str(info.value)


def test_timeout(server: MediaServer) -> None:
    started = time.monotonic()
    with pytest.raises(MediaFetchError, match=r"timed out after 0\.3 s"):
        preflight(f"{server.url}/slow.jpg", timeout=0.3)
    assert time.monotonic() - started < 1.4


def test_connection_refused() -> None:
    srv = MediaServer()  # bound, then closed: nothing listens on that port any more
    url = srv.url
    srv.server_close()
    with pytest.raises(MediaFetchError, match="check the address"):
        preflight(f"{url}/files/photo.jpg")


def test_announced_huge_download_reads_only_a_prefix(server: MediaServer) -> None:
    report = preflight(f"{server.url}/huge-declared.jpg", "Image")
    assert report.info is not None
    assert report.info.width == 1200
    assert report.info.bytes == 2 * GB
    assert [v.field for v in report.violations] == ["bytes"]
    assert "2048.0 MB" in report.violations[0].message
    assert server.sent < 24 * wire.MB  # prefix plus socket buffers, never 2 GB


def test_unannounced_huge_download_stops_at_the_cap(server: MediaServer) -> None:
    report = preflight(f"{server.url}/huge-stream.jpg", "Image")
    assert [v.field for v in report.violations] == ["bytes"]
    assert "more than 30.0 MB" in report.violations[0].message
    assert server.sent < 30 * wire.MB + 24 * wire.MB


def test_fetch_media_reports_completeness(server: MediaServer) -> None:
    got = fetch_media(f"{server.url}/files/song.mp3", max_bytes=len(mp3()))
    assert got.complete
    assert got.data == mp3()
    assert got.total_bytes == len(mp3())
    assert got.content_type == "audio/mpeg"
    short = fetch_media(f"{server.url}/nolength/song.mp3", max_bytes=1000)
    assert not short.complete
    assert len(short.data) == 1001
    assert short.total_bytes is None
    with pytest.raises(ValueError, match="not an http"):
        fetch_media("file:///etc/passwd", max_bytes=10)


async def test_afetch_media_is_the_same_capped_download(server: MediaServer) -> None:
    got = await afetch_media(f"{server.url}/files/song.mp3", max_bytes=len(mp3()))
    assert (got.complete, got.data, got.total_bytes) == (True, mp3(), len(mp3()))
    short = await afetch_media(f"{server.url}/nolength/song.mp3", max_bytes=1000)
    assert (short.complete, len(short.data), short.total_bytes) == (False, 1001, None)
    with pytest.raises(MediaFetchError) as info:
        await afetch_media(f"{server.url}/missing.mp3", max_bytes=1000)
    assert info.value.status_code == 404
    with pytest.raises(ValueError, match="not an http"):
        await afetch_media("file:///etc/passwd", max_bytes=10)
