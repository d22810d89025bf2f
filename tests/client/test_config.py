"""Configuration, the embedded-sandbox default, per-call options, lifetime, sync/async parity."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca, Orca, ValidationError, _clients
from orca_nb.client import _resources_async as resources_async
from orca_nb.client import _resources_sync as resources_sync
from tests.client.fakeapi import BASE_URL, FAKE_KEY, FakeAPI


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(wire.API_KEY_ENV, raising=False)
    monkeypatch.delenv(wire.BASE_URL_ENV, raising=False)
    return monkeypatch


def test_generated_sync_resources_are_up_to_date() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "unasync.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"run: python scripts/unasync.py ({done.stdout}{done.stderr})"


PAIRS = [
    (resources_sync.Groups, resources_async.AsyncGroups),
    (resources_sync.Assets, resources_async.AsyncAssets),
    (resources_sync.RealHuman, resources_async.AsyncRealHuman),
    (resources_sync.Videos, resources_async.AsyncVideos),
    (Orca, AsyncOrca),
]


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS)
def test_sync_and_async_surfaces_match(sync_cls: type, async_cls: type) -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    sync, asyn = public(sync_cls), public(async_cls)
    if sync_cls is Orca:  # the one deliberate asymmetry: each client makes its other-kind twin
        assert sync.pop("asynchronous").return_annotation in ("AsyncOrca", async_cls)
        assert asyn.pop("blocking").return_annotation in ("Orca", sync_cls)
    assert sync.keys() == asyn.keys()
    for name, sig in sync.items():
        a_params = [(p.name, p.kind, p.default) for p in asyn[name].parameters.values()]
        s_params = [(p.name, p.kind, p.default) for p in sig.parameters.values()]
        if name == "__init__":  # http client/sleep types differ; threads are sync-only
            assert [p[0] for p in s_params if p[0] != "gather_threads"] == [p[0] for p in a_params]
        else:
            assert s_params == a_params, name


def test_key_and_base_url_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv(wire.API_KEY_ENV, FAKE_KEY)
    clean_env.setenv(wire.BASE_URL_ENV, BASE_URL + "/")
    with Orca() as client:
        assert client.base_url == BASE_URL
        assert not client.is_sandbox
    with Orca("sk-orca-test-other", base_url="https://other.test/v1") as client:
        assert client.base_url == "https://other.test/v1"


def test_a_key_alone_means_the_real_service(clean_env: pytest.MonkeyPatch) -> None:
    with Orca(FAKE_KEY) as client:
        assert client.base_url == wire.DEFAULT_BASE_URL
        assert not client.is_sandbox
        assert FAKE_KEY not in repr(client)


def test_no_key_with_a_remote_base_url_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match=wire.API_KEY_ENV):
        Orca(base_url="https://api.orcarouter.ai/v1")
    with pytest.raises(ValidationError) as info:
        Orca("  ")
    assert info.value.param == "api_key"
    with pytest.raises(ValidationError) as bad_url:
        Orca(FAKE_KEY, base_url="api.orcarouter.ai/v1")
    assert bad_url.value.param == "base_url"


def test_no_key_with_a_loopback_url_uses_the_sandbox_demo_account(
    clean_env: pytest.MonkeyPatch,
) -> None:
    with Orca(base_url="http://127.0.0.1:8765/v1") as client:
        assert client.is_sandbox
        assert client._config.api_key == wire.DEFAULT_SANDBOX_KEY


def test_no_key_at_all_starts_the_embedded_sandbox_and_says_so_once(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from orca_nb.sandbox import shutdown_embedded

    clean_env.setenv("ORCA_NB_SANDBOX_DB", ":memory:")
    clean_env.setattr(_clients, "_sandbox_note_shown", False)
    caplog.set_level(logging.WARNING, logger="orca_nb.client")
    try:
        with Orca() as first:
            assert first.is_sandbox
            assert httpx.URL(first.base_url).host == "127.0.0.1"
            page = first.groups.list(group_type="aigc")
            assert page.total_count >= 0
        with Orca() as second:
            assert second.base_url == first.base_url
    finally:
        shutdown_embedded()
    notes = [r for r in caplog.records if "embedded OrcaRouter sandbox" in r.getMessage()]
    assert len(notes) == 1
    assert wire.API_KEY_ENV in notes[0].getMessage()


def _recording(seen: list[httpx.Request]) -> httpx.MockTransport:
    fake = FakeAPI()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return fake.handle(request)

    return httpx.MockTransport(handler)


def test_per_call_and_with_options_timeouts(clean_env: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=_recording(seen))
    client = Orca(FAKE_KEY, base_url=BASE_URL, http_client=http, timeout=12.0)
    client.groups.list()
    client.groups.list(timeout=3.0)
    slow = client.with_options(timeout=httpx.Timeout(99.0, connect=2.0), max_retries=5)
    slow.groups.list()
    timeouts = [r.extensions["timeout"] for r in seen]
    assert timeouts[0]["read"] == 12.0
    assert timeouts[1]["read"] == 3.0
    assert timeouts[2] == {"connect": 2.0, "read": 99.0, "write": 99.0, "pool": 99.0}
    assert (slow.max_retries, client.max_retries) == (5, wire_default_retries())
    assert slow._http is client._http
    slow.close()
    assert not http.is_closed  # injected clients belong to the caller
    http.close()


def wire_default_retries() -> int:
    from orca_nb.client import defaults

    return defaults.DEFAULT_MAX_RETRIES


def test_context_manager_closes_its_own_connections() -> None:
    with Orca(FAKE_KEY, base_url=BASE_URL) as client:
        own = client._http
        assert not own.is_closed
    assert own.is_closed


async def test_async_context_manager_closes_its_own_connections() -> None:
    async with AsyncOrca(FAKE_KEY, base_url=BASE_URL) as client:
        own = client._http
    assert own.is_closed


def test_wrong_http_client_type_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        Orca(FAKE_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    assert info.value.param == "http_client"


def test_ledger_must_follow_the_protocol() -> None:
    ledger: Any = object()
    with pytest.raises(ValidationError) as info:
        Orca(FAKE_KEY, base_url=BASE_URL, ledger=ledger)
    assert info.value.param == "ledger"
