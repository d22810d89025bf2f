"""Raw-HTTP helpers for the sandbox tests (plain httpx, never the orca_nb client)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from orca_nb.sandbox import SandboxServer

OTHER_KEY = "sk-orca-sandbox-other"


def client_for(server: SandboxServer, key: str | None) -> httpx.Client:
    """A plain httpx client on the server's ``/v1`` with ``key`` as bearer (if any)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60, trust_env=False)


@pytest.fixture
def api(sandbox_server: SandboxServer, sandbox_key: str) -> Iterator[httpx.Client]:
    """httpx on ``/v1`` as the test account."""
    with client_for(sandbox_server, sandbox_key) as client:
        yield client


@pytest.fixture
def other_api(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    """httpx on ``/v1`` as a second, unrelated account."""
    with client_for(sandbox_server, OTHER_KEY) as client:
        yield client


@pytest.fixture
def root(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    """httpx on the server root (samples, files, H5, admin), no key."""
    with httpx.Client(base_url=sandbox_server.root_url, timeout=60, trust_env=False) as client:
        yield client
