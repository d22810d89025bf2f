"""Every resource, sync and async, against the real sandbox over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import av
import httpx
import pytest

from orca_nb import wire
from orca_nb.client import (
    AssetFailedError,
    AssetQuotaExceededError,
    AsyncOrca,
    AuthenticationError,
    NotFoundError,
    Orca,
    OutcomeUnknownError,
)
from orca_nb.sandbox import Backend, SandboxServer
from tests.client.conftest import Sleeps, collect, run

Client = Orca | AsyncOrca


@pytest.fixture
async def sb(
    flavour: str, sandbox_server: SandboxServer, sandbox_key: str, sleeps: Sleeps
) -> AsyncIterator[Client]:
    client: Client
    if flavour == "sync":
        client = Orca(sandbox_key, base_url=sandbox_server.base_url, sleep=sleeps.sync)
        with client:
            yield client
    else:
        client = AsyncOrca(sandbox_key, base_url=sandbox_server.base_url, sleep=sleeps.async_)
        async with client:
            yield client


def sample(server: SandboxServer, filename: str) -> str:
    return f"{server.root_url}/sandbox/samples/{filename}"


async def test_groups_on_the_sandbox(sb: Client) -> None:
    assert sb.is_sandbox
    gid = (await run(sb.groups.create(name="hero", description="the hero"))).id
    group = await run(sb.groups.get(gid))
    assert group.group_type == "AIGC"
    assert group.description == "the hero"
    renamed = await run(sb.groups.update(gid, name="hero2"))
    assert renamed.name == "hero2"
    for i in range(12):
        await run(sb.groups.create(name=f"extra{i}"))
    first = await run(sb.groups.list(group_type="aigc", page_size=5))
    assert first.total_count == 13
    every = await collect(first)
    assert len({g.id for g in every}) == 13
    await run(sb.groups.delete(gid))
    with pytest.raises(NotFoundError):
        await run(sb.groups.get(gid))


async def test_assets_on_the_sandbox(sb: Client, sandbox_server: SandboxServer) -> None:
    gid = (await run(sb.groups.create(name="lib"))).id
    good = await run(
        sb.assets.upload(
            group_id=gid,
            url=sample(sandbox_server, "ada_portrait.jpg"),
            asset_type="Image",
            name="ada",
        )
    )
    active = await run(sb.assets.wait(good.id))
    assert active.status == "Active"
    assert active.group_id == gid
    assert active.url
    bad = await run(
        sb.assets.upload(
            group_id=gid, url=sample(sandbox_server, "tiny_200.png"), asset_type="Image"
        )
    )
    with pytest.raises(AssetFailedError) as info:
        await run(sb.assets.wait(bad.id))
    assert info.value.code == wire.ASSET_ERROR_DIMENSIONS
    assert "300-6000" in info.value.advice
    audio = await run(
        sb.assets.upload(group_id=gid, url=sample(sandbox_server, "theme.wav"), asset_type="Audio")
    )
    settled = await run(sb.assets.wait_many([audio.id, bad.id, good.id]))
    assert [a.status for a in settled] == ["Active", "Failed", "Active"]
    listed = await collect(sb.assets.iter(group_id=gid, statuses=["Active"]))
    assert {a.id for a in listed} == {good.id, audio.id}
    await run(sb.assets.delete(bad.id))
    with pytest.raises(NotFoundError):
        await run(sb.assets.get(bad.id))


async def test_real_human_flow_on_the_sandbox(
    sb: Client, sandbox_server: SandboxServer, sandbox_backend: Backend
) -> None:
    session = await run(sb.real_human.start_session("https://app.example.com/back"))
    assert session.status == "pending"
    assert session.h5_link
    sandbox_backend.h5_complete(
        session.session_id, sandbox_server.root_url, consent=True, choice="ada"
    )
    done = await run(sb.real_human.get_session(session.session_id))
    assert done.status == "success"
    assert done.group_id
    group = await run(sb.groups.get(done.group_id))
    assert group.group_type == "LivenessFace"
    other = await run(
        sb.assets.upload(
            group_id=done.group_id,
            url=sample(sandbox_server, "ben_portrait.webp"),
            asset_type="Image",
        )
    )
    with pytest.raises(AssetFailedError) as info:
        await run(sb.assets.wait(other.id))
    assert info.value.code == wire.ASSET_ERROR_FACE_MISMATCH
    assert "verified person" in str(info.value)


@pytest.mark.parametrize("shape", wire.TASK_SHAPES)
async def test_videos_on_the_sandbox(
    sb: Client,
    sandbox_server: SandboxServer,
    sandbox_backend: Backend,
    shape: str,
    tmp_path: Path,
) -> None:
    sandbox_backend.configure(task_shape=shape)
    gid = (await run(sb.groups.create(name="cast"))).id
    aid = (
        await run(
            sb.assets.upload(
                group_id=gid, url=sample(sandbox_server, "ada_portrait.jpg"), asset_type="Image"
            )
        )
    ).id
    await run(sb.assets.wait(aid))
    content = [
        {
            "type": "image_url",
            "image_url": {"url": f"asset://{aid}"},
            "role": "reference_image",
        }
    ]
    task = await run(
        sb.videos.create(
            prompt="[Image 1] waves", content=content, ratio="16:9", duration=4, resolution="480p"
        )
    )
    seen: list[int] = []
    sandbox_backend.wait_for_renders()
    done = await run(sb.videos.wait(task.id, on_progress=lambda t: seen.append(t.progress)))
    assert done.status == "succeeded"
    assert done.shape == shape
    assert done.progress == 100
    assert done.video_url
    assert seen
    assert all(0 <= p <= 100 for p in seen)
    out = tmp_path / "clip.mp4"
    size = await run(sb.videos.download(done, out))
    assert size == out.stat().st_size > 1000
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == wire.OUTPUT_SIZES[("480p", "16:9")]


async def test_faults_on_the_sandbox(sb: Client, sandbox_backend: Backend, sleeps: Sleeps) -> None:
    sandbox_backend.faults.add("POST /asset/groups", "drop_after")
    gid = (await run(sb.groups.create(name="once"))).id
    names = [g.name for g in await collect(sb.groups.iter(group_type="aigc"))]
    assert names.count("once") == 1
    assert (await run(sb.groups.get(gid))).name == "once"
    # The sandbox drops before reading the request: to the client that is indistinguishable
    # from a lost reply, so it reconciles, finds nothing, and sends again.
    sandbox_backend.faults.add("POST /asset/groups", "drop_before")
    await run(sb.groups.create(name="twice-tried"))
    names = [g.name for g in await collect(sb.groups.iter(group_type="aigc"))]
    assert names.count("twice-tried") == 1
    sandbox_backend.faults.add("GET /asset/groups", httpx.codes.TOO_MANY_REQUESTS, 503)
    sleeps.clear()
    await run(sb.groups.list())
    assert sleeps[0] == 1.0  # the sandbox's default Retry-After
    sandbox_backend.configure(processing="manual")  # no render needed for this check
    sandbox_backend.faults.add("POST /video/generations", "drop_after")
    with pytest.raises(OutcomeUnknownError):
        await run(sb.videos.create(prompt="a lighthouse at dusk"))


async def test_upload_cap_and_bad_key_on_the_sandbox(
    sb: Client, sandbox_server: SandboxServer, sandbox_backend: Backend, flavour: str
) -> None:
    sandbox_backend.configure(asset_cap=1)
    gid = (await run(sb.groups.create(name="cap"))).id
    url = sample(sandbox_server, "prop_1x1.png")
    await run(sb.assets.upload(group_id=gid, url=url, asset_type="Image"))
    with pytest.raises(AssetQuotaExceededError):
        await run(sb.assets.upload(group_id=gid, url=url, asset_type="Image"))
    wrong = "not-an-orca-key-123"  # the sandbox opens an account for any sk-orca- key
    bad: Client = (
        Orca(wrong, base_url=sandbox_server.base_url)
        if flavour == "sync"
        else AsyncOrca(wrong, base_url=sandbox_server.base_url)
    )
    try:
        with pytest.raises(AuthenticationError) as info:
            await run(bad.groups.list())
        assert wrong not in str(info.value)
    finally:
        await run(bad.close())


@pytest.mark.parametrize("via", ["generations", "openai"])
async def test_documented_default_shape_reports_usage_through_the_alias(
    sb: Client, sandbox_backend: Backend, via: str
) -> None:
    # the sandbox's default fetch is the documented wrapper: no usage in it, so the client
    # reads the alias once (via="generations"), or reads the alias throughout (via="openai")
    task = await run(sb.videos.create(prompt="a harbour", ratio="16:9", duration=4))
    sandbox_backend.wait_for_renders()
    done = await run(sb.videos.wait(task.id, via=via))  # type: ignore[arg-type]
    assert done.status == "succeeded"
    assert done.shape == ("newapi" if via == "generations" else "openai")
    assert done.usage is not None
    assert done.usage.total_tokens == 87_300  # 720p 16:9 4 s, as the reference measured


async def test_models_and_balance_on_the_sandbox(sb: Client) -> None:
    offered = await run(sb.models.offer())
    assert offered[0].id == wire.SEEDANCE_2
    assert offered[0].routable
    assert offered[0].source == "service"
    assert [m.id for m in offered if m.routable] == [wire.SEEDANCE_2]
    assert {m.id for m in offered} >= set(wire.MODELS) | set(wire.PEER_MODELS)
    peer = next(m for m in offered if m.id == "dreamina-seedance-2-5-260628")
    assert peer.spec.max_seconds == 30
    before = await run(sb.billing.balance())
    assert before is not None
    assert before.remaining is not None
    assert before.remaining > 0


async def test_an_empty_balance_is_refused_as_such(sb: Client, sandbox_backend: Backend) -> None:
    from orca_nb.client import InsufficientBalanceError

    sandbox_backend.configure(play_balance_usd=0.0)
    with pytest.raises(InsufficientBalanceError) as info:
        await run(sb.videos.create(prompt="a harbour", duration=4))
    assert info.value.status == 403
    assert "top up" in str(info.value).lower()
