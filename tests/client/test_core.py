"""Pure helpers of the core: URL joining, origin checks, poll math, redaction."""

from __future__ import annotations

import httpx

from orca_nb import wire
from orca_nb.client import defaults as d
from orca_nb.client._core import join_url, same_origin
from orca_nb.client._redact import redact_headers, redact_text, register_key
from orca_nb.client.retries import next_interval, poll_delay


def test_join_url_encodes_path_ids() -> None:
    base = "https://api.orcarouter.ai/v1/"
    assert join_url(base, wire.GROUPS_PATH) == "https://api.orcarouter.ai/v1/asset/groups"
    url = join_url(base, wire.ASSET_PATH, asset_id="../../admin?x=1")
    assert url == "https://api.orcarouter.ai/v1/asset/files/..%2F..%2Fadmin%3Fx%3D1"
    assert httpx.URL(url).path.startswith("/v1/asset/files/")


def test_same_origin() -> None:
    assert same_origin("http://127.0.0.1:8765/sandbox/files/x?sig=1", "http://127.0.0.1:8765/v1")
    assert not same_origin("https://cdn.example.com/v.mp4", "https://api.orcarouter.ai/v1")
    assert not same_origin("http://127.0.0.1:9999/x", "http://127.0.0.1:8765/v1")


def test_poll_math() -> None:
    assert poll_delay(2.0, remaining=100.0, hint=None) == 2.0
    assert poll_delay(2.0, remaining=0.5, hint=None) == 0.5  # never past the deadline
    assert poll_delay(2.0, remaining=100.0, hint=7.0) == 7.0  # the server's hint wins
    assert poll_delay(2.0, remaining=1000.0, hint=999.0) == d.RETRY_AFTER_CAP_SECONDS
    interval = d.VIDEO_POLL_FIRST_SECONDS
    for _ in range(20):
        interval = next_interval(interval, d.VIDEO_POLL_MAX_SECONDS)
    assert interval == d.VIDEO_POLL_MAX_SECONDS


def test_redaction() -> None:
    register_key("opaque-secret-value")
    text = "key sk-orca-abc_DEF-123 and opaque-secret-value here"
    assert redact_text(text) == "key sk-orca-[redacted] and [redacted] here"
    headers = redact_headers(httpx.Headers({"Authorization": "Bearer sk-orca-live-1", "A": "b"}))
    assert headers["authorization"] == "Bearer [redacted]"
    assert headers["a"] == "b"
