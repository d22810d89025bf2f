"""No duplicate after a slow create, on a real loopback server.

The server reads the create, then finishes it after the client's read timeout (or finishes it
at once and replies late). The client must end with exactly one object: its reconcile step
waits and looks again before it concludes nothing was created and sends the create again.
Afterwards the server's true state is listed from its database.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca, Orca, defaults
from orca_nb.client.errors import OutcomeUnknownError
from orca_nb.sandbox import Backend, SandboxServer
from tests.client.slow_server import Mode, slow_sandbox, wait_until

SERVER_DELAY = 1.5
SHORT, LONG = 0.5, 4.0  # client read timeouts: shorter and longer than the server's delay
KEY = "sk-orca-sandbox-slow"


def _server_rows(backend: Backend, sql: str, *params: object) -> list[tuple[object, ...]]:
    with backend.db.tx() as db:
        return [tuple(r) for r in db.execute(sql, params).fetchall()]


def _client(base_url: str, read_timeout: float) -> Orca:
    return Orca(KEY, base_url=base_url, ledger=None, max_retries=2,
                timeout=httpx.Timeout(read_timeout, connect=5.0))  # fmt: skip


@pytest.mark.parametrize("mode", ["finish_late", "reply_late"])
@pytest.mark.parametrize("read_timeout", [SHORT, LONG])
def test_group_create_ends_as_one_group(
    sandbox_backend: Backend, mode: Mode, read_timeout: float
) -> None:
    paths = {"/v1" + wire.GROUPS_PATH}
    with slow_sandbox(sandbox_backend, paths=paths, delay=SERVER_DELAY, mode=mode) as (url, app):
        with _client(url, read_timeout) as client:
            created = client.groups.create(name="slow-hero", description="d")
        wait_until(lambda: app.finished >= 1)
        wait_until(lambda: app.finished == app.started, timeout=15)
    account = sandbox_backend.account_for_key(KEY)
    rows = _server_rows(
        sandbox_backend,
        "SELECT id FROM groups WHERE account = ? AND name = ?",
        account,
        "slow-hero",
    )
    assert rows == [(created.id,)], f"{len(rows)} groups on the server, {app.started} POSTs"


@pytest.mark.parametrize("mode", ["finish_late", "reply_late"])
@pytest.mark.parametrize("read_timeout", [SHORT, LONG])
def test_named_upload_ends_as_one_asset(
    sandbox_backend: Backend, mode: Mode, read_timeout: float
) -> None:
    paths = {"/v1" + wire.ASSETS_PATH}
    with slow_sandbox(sandbox_backend, paths=paths, delay=SERVER_DELAY, mode=mode) as (url, app):
        with _client(url, read_timeout) as client:
            group = client.groups.create(name="uploads")
            sample = url.removesuffix("/v1") + "/sandbox/samples/ada_portrait.jpg"
            created = client.assets.upload(
                group_id=group.id, url=sample, asset_type="Image", name="ada-front"
            )
        wait_until(lambda: app.finished >= 1)
        wait_until(lambda: app.finished == app.started, timeout=15)
    rows = _server_rows(
        sandbox_backend, "SELECT id FROM assets WHERE group_id = ? AND name = ?", group.id,
        "ada-front",
    )  # fmt: skip
    assert rows == [(created.id,)], f"{len(rows)} assets on the server, {app.started} POSTs"


def test_without_looking_again_the_same_slow_create_duplicates(
    sandbox_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenario is real: a client that concludes "not created" at its first look (as
    before) sends the create again and the server ends with two groups."""
    monkeypatch.setattr(defaults, "RECONCILE_LOOKS", 0)
    paths = {"/v1" + wire.GROUPS_PATH}
    mode: Mode = "finish_late"
    with slow_sandbox(sandbox_backend, paths=paths, delay=SERVER_DELAY, mode=mode) as (url, app):
        with _client(url, SHORT) as client, contextlib.suppress(OutcomeUnknownError):
            client.groups.create(name="twice")  # returns one of them, or sees both and says so
        wait_until(lambda: app.finished == app.started, timeout=15)
    account = sandbox_backend.account_for_key(KEY)
    rows = _server_rows(
        sandbox_backend, "SELECT id FROM groups WHERE account = ? AND name = ?", account, "twice"
    )
    assert len(rows) >= 2


def test_the_sandbox_ignores_idempotency_keys(sandbox_server: SandboxServer) -> None:
    """GUESS, decided here: the real service's handling of ``Idempotency-Key`` is unknown, so the
    sandbox ignores it (the client never depends on it; the tests above would pass for the
    wrong reason otherwise). Two creates with one key make two groups."""
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "same-key"}
    with httpx.Client(base_url=sandbox_server.base_url, headers=headers) as api:
        ids = {api.post(wire.GROUPS_PATH, json={"Name": "idem"}).json()["Id"] for _ in range(2)}
    assert len(ids) == 2


def test_async_named_upload_after_a_slow_create_ends_as_one_asset(sandbox_backend: Backend) -> None:
    """The async client runs the same reconcile (one core): one asset, server listed."""
    paths = {"/v1" + wire.ASSETS_PATH}

    async def upload(url: str) -> tuple[str, str]:
        timeout = httpx.Timeout(SHORT, connect=5.0)
        async with AsyncOrca(KEY, base_url=url, ledger=None, timeout=timeout) as client:
            group = await client.groups.create(name="async-uploads")
            sample = url.removesuffix("/v1") + "/sandbox/samples/ada_portrait.jpg"
            created = await client.assets.upload(
                group_id=group.id, url=sample, asset_type="Image", name="ada-async"
            )
            return group.id, created.id

    mode: Mode = "finish_late"
    with slow_sandbox(sandbox_backend, paths=paths, delay=SERVER_DELAY, mode=mode) as (url, app):
        group_id, asset_id = asyncio.run(upload(url))
        wait_until(lambda: app.finished == app.started, timeout=15)
    rows = _server_rows(
        sandbox_backend, "SELECT id FROM assets WHERE group_id = ? AND name = ?", group_id,
        "ada-async",
    )  # fmt: skip
    assert rows == [(asset_id,)]
