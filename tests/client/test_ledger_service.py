"""The service name a client records its video submissions under in the usage ledger
(``ledger_service``): its base URL, except a sandbox on a loopback host, which is
``sandbox:local`` whatever its port (the embedded sandbox's port changes with every kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca, Orca
from orca_nb.ledger import open_ledger
from orca_nb.ledger.service import SANDBOX_SERVICE, service_name
from tests.client.conftest import Sleeps, make_client, run
from tests.client.fakeapi import BASE_URL, FakeAPI


async def test_a_real_base_url_records_itself(
    flavour: str, fake: FakeAPI, sleeps: Sleeps, tmp_path: Path
) -> None:
    with open_ledger(tmp_path / "ledger.sqlite3") as ledger:
        client = make_client(flavour, fake, sleeps, ledger=ledger)
        assert not client.is_sandbox
        assert client.ledger_service == BASE_URL
        task = await run(client.videos.create(prompt="a cat on a windowsill"))
        _, rows = ledger.database.query("SELECT task_id, base_url FROM submissions")
        assert [tuple(r) for r in rows] == [(task.id, BASE_URL)]
        assert [u.task_id for u in ledger.unfinished(base_url=client.ledger_service)] == [task.id]
        assert ledger.unfinished(base_url=SANDBOX_SERVICE) == []  # not a sandbox's run
        await run(client.close())


@pytest.mark.parametrize(
    ("key", "base_url", "service"),
    [
        # a sandbox on this machine, whatever its port or loopback spelling
        (wire.DEFAULT_SANDBOX_KEY, "http://127.0.0.1:40123/v1", SANDBOX_SERVICE),
        ("sk-orca-sandbox-test", "http://127.0.0.1:40999/v1", SANDBOX_SERVICE),
        (None, "http://localhost:8765/v1", SANDBOX_SERVICE),  # keyless loopback: a sandbox
        (None, "http://[::1]:8765/v1", SANDBOX_SERVICE),
        (None, "http://127.1.2.3:8765/v1", SANDBOX_SERVICE),
        # everything else keeps its base URL
        ("sk-orca-live-key", "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),  # a proxy
        (
            "sk-orca-sandbox-test",
            "https://sandbox.example.test/v1",
            "https://sandbox.example.test/v1",
        ),  # a sandbox on another machine
        ("sk-orca-live-key", "https://api.orcarouter.ai/v1", "https://api.orcarouter.ai/v1"),
    ],
)
async def test_ledger_service_of_each_kind_of_client(
    key: str | None, base_url: str, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(wire.API_KEY_ENV, raising=False)
    sync = Orca(key, base_url=base_url, ledger=None)
    async_ = AsyncOrca(key, base_url=base_url, ledger=None)
    copy, async_twin, sync_twin = (
        sync.with_options(timeout=5.0),
        sync.asynchronous(),
        async_.blocking(),
    )
    try:
        assert sync.ledger_service == async_.ledger_service == service
        assert [c.ledger_service for c in (copy, async_twin, sync_twin)] == [service] * 3
        assert service_name(sync.base_url, is_sandbox=sync.is_sandbox) == service
    finally:
        for client in (sync, copy, sync_twin):
            client.close()
        await async_.close()
        await async_twin.close()
