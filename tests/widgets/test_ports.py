"""The widgets' client seam: ``StudioClient`` names exactly what they call; the real client and
the test fake both offer it (mypy checks ``AsyncOrca`` statically; this checks both at run time,
so the fake cannot drift from the real shape)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from orca_nb.client import AsyncOrca
from orca_nb.widgets import ports
from tests.widgets.fakes import FakeOrca

RESOURCES = {
    "groups": ports.GroupCalls,
    "assets": ports.AssetCalls,
    "real_human": ports.RealHumanCalls,
    "videos": ports.VideoCalls,
    "models": ports.ModelCalls,
    "billing": ports.BillingCalls,
}
PROPERTIES = ("is_sandbox", "base_url", "key_label", "ledger_service", "ledger")


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in vars(protocol).items()
        if inspect.iscoroutinefunction(fn)
    }


def _accepts(fn: Any, wanted: inspect.Signature) -> bool:
    """``fn`` takes every argument the protocol's call passes (by name, as the widgets do)."""
    got = inspect.signature(fn).parameters
    return all(p.name in got for p in list(wanted.parameters.values())[1:])  # past self


def test_the_protocol_lists_every_resource_the_studio_client_names() -> None:
    members = {n for n, v in vars(ports.StudioClient).items() if isinstance(v, property)}
    assert members == set(RESOURCES) | set(PROPERTIES)


@pytest.mark.parametrize("make", [FakeOrca, lambda: AsyncOrca("sk-test", base_url="http://x/v1")])
async def test_real_client_and_fake_offer_every_call(make: Any) -> None:
    client = make()
    try:
        for attr, protocol in RESOURCES.items():
            resource = getattr(client, attr)
            for name, wanted in _methods(protocol).items():
                fn = getattr(resource, name)
                assert inspect.iscoroutinefunction(fn), f"{attr}.{name}"
                assert _accepts(fn, wanted), f"{attr}.{name}{wanted}"
        assert isinstance(client.is_sandbox, bool)
        assert isinstance(client.base_url, str)
        assert isinstance(client.key_label, str)
        assert client.ledger_service == client.base_url  # neither is a sandbox on loopback
        assert callable(client.blocking)  # the Sweep tab's twin (called only there)
    finally:
        if isinstance(client, AsyncOrca):
            await client.close()
