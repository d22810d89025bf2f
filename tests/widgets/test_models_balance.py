"""The studio's model choice and limits come from model discovery (else the built-in table);
the token estimate before a submit; the balance beside the asset count."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client.models import Balance, VideoModel
from orca_nb.compose import issues as codes
from orca_nb.compose.cost import estimate_tokens
from orca_nb.widgets.live import LiveStore
from orca_nb.widgets.loops import settle
from orca_nb.widgets.views import forms
from orca_nb.widgets.views.forms import QuotaView
from orca_nb.widgets.views.studio import StudioView
from tests.widgets.fakes import FakeOrca

LONG = "byteplus/dreamina-seedance-2-5-260628"


class _Models:
    def __init__(self, models: list[VideoModel]) -> None:
        self.models = models
        self.calls = 0

    async def offer(self) -> list[VideoModel]:
        self.calls += 1
        return self.models


class _Billing:
    def __init__(self, *left: float | None) -> None:
        self.left = list(left)
        self.calls = 0

    async def balance(self) -> Balance | None:
        self.calls += 1
        value = self.left[min(self.calls, len(self.left)) - 1]
        return None if value is None else Balance(remaining=value, limit=100.0, used=None)


def _service_models() -> list[VideoModel]:
    base = wire.MODELS[wire.SEEDANCE_2]
    long = replace(base, name=LONG, min_seconds=4, max_seconds=30, resolutions=("480p", "720p"))
    return [
        VideoModel(id=LONG, routable=True, spec=long),
        VideoModel(id="byteplus/seedance-1-0-pro", routable=False, spec=base),
    ]


async def test_model_choice_and_limits_come_from_discovery() -> None:
    client: Any = FakeOrca()
    client.models = _Models(_service_models())
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    view = StudioView(store)
    await settle()
    assert client.models.calls == 1
    assert view.model == LONG  # the table's default is not routable here: the first that is
    assert [c["value"] for c in view.model_choices] == [LONG]  # routable ones only
    assert view.durations == list(range(4, 31))
    assert view.resolutions == ["480p", "720p"]
    assert view.model_note == ""
    view.duration = 25  # past Seedance 2.0's 15 s, inside this model's 30 s
    assert view.state.params.duration == 25
    assert codes.INVALID_DURATION not in {i.code for i in view.state.issues()}
    view.duration = 31
    assert codes.INVALID_DURATION in {i.code for i in view.state.issues()}
    view.duration = 25
    assert view.state.preview()["model"] == LONG
    view.close()


async def test_the_table_is_the_fallback_and_says_so() -> None:
    store = LiveStore(FakeOrca(), fast_interval=30, slow_interval=60)
    view = StudioView(store)
    await settle()
    assert view.model == wire.SEEDANCE_2
    assert [c["value"] for c in view.model_choices] == [wire.SEEDANCE_2]
    assert "built-in table" in view.model_note
    spec = wire.MODELS[wire.SEEDANCE_2]
    assert view.durations == list(range(spec.min_seconds, spec.max_seconds + 1))
    view.close()


async def test_estimate_before_submit_follows_the_request() -> None:
    client = FakeOrca()
    gid = client.add_group("cast")
    clip = client.add_asset(gid, "clip", asset_type="Video")
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    await store.refresh()
    view = StudioView(store)
    await settle()
    view.picker.prompt = "a calm sea"
    view.ratio, view.resolution, view.duration = "16:9", "720p", 5
    expected = estimate_tokens(view.state.preview()).tokens
    assert f"about {expected:,} tokens" in view.estimate
    assert expected == 108_900  # the rule's documented 720p, 5 s example
    view.duration = 10
    assert f"{estimate_tokens(view.state.preview()).tokens:,}" in view.estimate
    view.picker.vue_add_asset(clip)
    assert "at least" in view.estimate  # the clip's length is unknown: a lower bound
    view.close()


async def test_studio_on_the_sandbox_reads_its_model_list(
    sandbox_server: Any, sandbox_key: str
) -> None:
    from orca_nb.client import AsyncOrca

    client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url, ledger=None)
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    view = StudioView(store)
    await settle()
    assert view.model_note == ""  # the service's list, not the table
    assert view.model in {c["value"] for c in view.model_choices}
    assert all(m.source == "service" for m in view.state.models)
    assert "tokens" in view.estimate
    meter = QuotaView(store)
    await settle()
    assert meter.balance.endswith("USD left")
    view.close()
    meter.close()
    await store.aclose()
    await client.close()


async def test_balance_shows_beside_the_count_and_follows_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forms, "BALANCE_EVERY", 0.05)
    client: Any = FakeOrca()
    client.billing = _Billing(12.5, 9.25)
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    meter = QuotaView(store)
    await settle()
    assert meter.balance == "12.50 USD left"
    task = await store.gateway.create_video({"model": wire.SEEDANCE_2, "prompt": "x"})
    store.track_task(task)  # a submitted task: the balance is read again
    store.track_task(replace(task, status="running"))  # within the interval: one trailing read
    await asyncio.sleep(0.1)
    await settle()
    assert meter.balance == "9.25 USD left"
    assert client.billing.calls == 2
    meter.close()


async def test_no_balance_offered_shows_nothing() -> None:
    client: Any = FakeOrca()
    client.billing = _Billing(None)
    store = LiveStore(client, fast_interval=30, slow_interval=60)
    meter = QuotaView(store)
    await settle()
    assert meter.balance == ""
    assert client.billing.calls == 1
    meter.close()
