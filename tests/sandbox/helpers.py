"""Small helpers shared by the sandbox tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from orca_nb import wire
from orca_nb.sandbox import SandboxServer


def sample_url(server: SandboxServer, filename: str) -> str:
    """The public URL of a demo sample on ``server``."""
    return f"{server.root_url}/sandbox/samples/{filename}"


def make_group(api: httpx.Client, name: str = "g") -> str:
    """Create an AIGC group and return its id."""
    response = api.post(wire.GROUPS_PATH, json={"Name": name})
    assert response.status_code == 200, response.text
    return str(response.json()["Id"])


def upload(api: httpx.Client, group_id: str, url: str, asset_type: str, name: str = "") -> str:
    """Upload and return the new asset id."""
    body = {"GroupId": group_id, "URL": url, "AssetType": asset_type}
    if name:
        body["Name"] = name
    response = api.post(wire.ASSETS_PATH, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["Id"])


def get_asset(api: httpx.Client, asset_id: str) -> dict:  # type: ignore[type-arg]
    response = api.get(wire.ASSET_PATH.format(asset_id=asset_id))
    assert response.status_code == 200, response.text
    return dict(response.json())


@contextmanager
def static_server(files: Mapping[str, bytes]) -> Iterator[str]:
    """A loopback HTTP server (not the sandbox) serving ``files`` by path; yields its root URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = files.get(self.path.split("?", 1)[0])
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    with loopback_server(Handler) as url:
        yield url


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A loopback HTTP server (not the sandbox) answering with ``handler``; yields its root URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
