"""Every resource, sync and async, against the documented wire shapes (fake server)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from orca_nb import wire
from orca_nb.client import (
    AssetFailedError,
    AssetQuotaExceededError,
    AsyncOrca,
    BadRequestError,
    NotFoundError,
    Orca,
    VideoTask,
    WaitTimeoutError,
)
from tests.client.conftest import Sleeps, collect, make_client, run
from tests.client.fakeapi import SIGNED, FakeAPI

Client = Orca | AsyncOrca
IMG = "https://cdn.example.com/zhang/full_body.jpg"


async def test_group_lifecycle(client: Client, fake: FakeAPI) -> None:
    created = await run(client.groups.create(name="actor_zhang", description="Zhang"))
    assert created.id.startswith("group-")
    sent = next(c for c in fake.calls if c.method == "POST")
    assert sent.body == {"Name": "actor_zhang", "Description": "Zhang"}
    assert sent.headers["authorization"].startswith("Bearer sk-orca-")
    group = await run(client.groups.get(created.id))
    assert (group.name, group.group_type, group.project_name) == ("actor_zhang", "AIGC", "default")
    assert group.create_time is not None
    assert group.create_time.year == 2026
    updated = await run(client.groups.update(created.id, name="zhang2"))
    assert updated.name == "zhang2"
    assert updated.description == "Zhang"
    page = await run(client.groups.list(group_type="aigc"))
    assert [g.id for g in page.items] == [created.id]
    assert page.total_count == 1
    assert await run(client.groups.delete(created.id)) is None
    with pytest.raises(NotFoundError) as info:
        await run(client.groups.get(created.id))
    assert info.value.status == 404
    assert info.value.code == wire.CODE_NOT_FOUND


async def test_group_list_defaults_to_real_human_and_walks_pages(
    client: Client, fake: FakeAPI
) -> None:
    ids = [(await run(client.groups.create(name=f"g{i:02d}"))).id for i in range(23)]
    default = await run(client.groups.list())
    assert default.items == []  # DOC: group_type defaults to real_human on the server
    assert "group_type" not in fake.calls[-1].params
    first = await run(client.groups.list(group_type="aigc", page_size=10))
    assert len(first.items) == 10
    assert first.has_next_page
    assert first.total_count == 23
    walked = await collect(first)  # iterating a page walks every following page
    assert sorted(g.id for g in walked) == sorted(ids)
    every = await collect(client.groups.iter(group_type="aigc", page_size=7))
    assert len(every) == 23
    assert len({g.id for g in every}) == 23
    named = await collect(client.groups.iter(group_type="aigc", name="g1"))
    assert {g.name for g in named} == {f"g1{i}" for i in range(10)}
    assert fake.calls[-1].params["name"] == "g1"


async def test_asset_upload_list_get_wait_delete(client: Client, fake: FakeAPI) -> None:
    gid = (await run(client.groups.create(name="hero"))).id
    aid = (
        await run(
            client.assets.upload(
                group_id=gid, url=IMG, asset_type="Image", name="front", moderation="Skip"
            )
        )
    ).id
    post = next(c for c in fake.calls if c.method == "POST" and c.path.endswith("/files"))
    assert post.body == {
        "GroupId": gid,
        "URL": IMG,
        "AssetType": "Image",
        "Name": "front",
        "Moderation": {"Strategy": "Skip"},
    }
    asset = await run(client.assets.get(aid))
    assert asset.status == "Processing"
    assert not asset.settled
    assert asset.asset_url == f"asset://{aid}"
    active = await run(client.assets.wait(aid))
    assert active.status == "Active"
    assert active.url
    assert "X-Tos-Expires" in active.url
    page = await run(client.assets.list(group_id=gid, statuses=["Active", "Failed"]))
    assert [a.id for a in page.items] == [aid]
    assert fake.calls[-1].params["statuses"] == "Active,Failed"
    assert await collect(client.assets.iter(group_type="aigc", statuses="Processing")) == []
    await run(client.assets.delete(aid))
    with pytest.raises(NotFoundError):
        await run(client.assets.get(aid))


async def test_wait_raises_with_face_mismatch_advice(client: Client, fake: FakeAPI) -> None:
    gid = (await run(client.groups.create(name="real"))).id
    aid = (
        await run(
            client.assets.upload(
                group_id=gid, url="https://x.test/face_mismatch.jpg", asset_type="Image"
            )
        )
    ).id
    with pytest.raises(AssetFailedError) as info:
        await run(client.assets.wait(aid))
    assert info.value.code == wire.ASSET_ERROR_FACE_MISMATCH
    assert "verified person" in info.value.advice
    assert "verified person" in str(info.value)


async def test_wait_times_out_on_the_injected_clock(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    fake.asset_polls = 10_000
    gid = (await run(client.groups.create(name="slow"))).id
    aid = (await run(client.assets.upload(group_id=gid, url=IMG, asset_type="Image"))).id
    with pytest.raises(WaitTimeoutError) as info:
        await run(client.assets.wait(aid, timeout=10))
    assert info.value.pending == (aid,)
    assert info.value.last.status == "Processing"
    assert sum(sleeps) == pytest.approx(10, abs=0.2)
    assert sleeps[:3] == pytest.approx([0.5, 0.75, 1.125])  # geometric poll interval


async def test_wait_many_polls_together_and_keeps_input_order(
    client: Client, fake: FakeAPI, sleeps: Sleeps
) -> None:
    gid = (await run(client.groups.create(name="batch"))).id
    urls = [IMG, "https://x.test/unreachable.png", "https://x.test/b.png"]
    ids = [
        (await run(client.assets.upload(group_id=gid, url=u, asset_type="Image"))).id for u in urls
    ]
    before = fake.count("GET", "asset")
    results = await run(client.assets.wait_many(list(reversed(ids))))
    assert [a.id for a in results] == list(reversed(ids))
    assert [a.status for a in results] == ["Active", "Failed", "Active"]
    assert results[1].error is not None
    assert results[1].error.code == wire.ASSET_ERROR_DOWNLOAD_FAILED
    rounds = fake.count("GET", "asset") - before
    assert rounds == 3 * (fake.asset_polls + 1)  # one GET per asset per round
    assert len(sleeps) == fake.asset_polls
    with pytest.raises(AssetFailedError) as info:
        await run(client.assets.wait_many(ids, raise_on_failure=True))
    assert "make the URL public" in str(info.value)


async def test_upload_cap_is_its_own_error(client: Client, fake: FakeAPI) -> None:
    fake.asset_cap = 1
    gid = (await run(client.groups.create(name="cap"))).id
    await run(client.assets.upload(group_id=gid, url=IMG, asset_type="Image"))
    with pytest.raises(AssetQuotaExceededError) as info:
        await run(client.assets.upload(group_id=gid, url=IMG, asset_type="Image"))
    assert info.value.status == 403
    assert "delete assets" in str(info.value)


async def test_real_human_sessions(client: Client, fake: FakeAPI) -> None:
    session = await run(client.real_human.start_session("https://app.example.com/done", lng="en"))
    assert len(session.session_id) == wire.SESSION_ID_CHARS
    assert session.status == "pending"
    assert session.h5_link
    assert session.h5_link.startswith("https://")
    sent = next(c for c in fake.calls if c.method == "POST").body
    assert sent == {"return_url": "https://app.example.com/done", "lng": "en"}
    again = await run(client.real_human.get_session(session.session_id))
    assert again.status == "pending"
    assert again.group_id is None


@pytest.mark.parametrize("shape", wire.TASK_SHAPES)
async def test_video_create_wait_download(
    client: Client, fake: FakeAPI, sleeps: Sleeps, shape: str, tmp_path: Path
) -> None:
    fake.task_shape = shape
    content = [
        {
            "type": "image_url",
            "image_url": {"url": "asset://asset-20260318071009-xy98z"},
            "role": "reference_image",
        }
    ]
    task = await run(
        client.videos.create(
            prompt="[Image 1] waves", content=content, ratio="9:16", duration=8, seed=11
        )
    )
    assert task.id == "task_0001"
    assert task.status == "queued"
    assert task.progress == 0
    body = fake.calls[-1].body
    assert body["metadata"] == {"content": content, "ratio": "9:16", "duration": 8, "seed": 11}
    seen: list[tuple[str, int]] = []
    done = await run(
        client.videos.wait(task.id, on_progress=lambda t: seen.append((t.status, t.progress)))
    )
    assert done.status == "succeeded"
    assert done.progress == 100
    assert done.shape == shape
    assert [s for s, _ in seen] == ["queued", "queued", "running", "running", "succeeded"]
    assert all(0 <= p <= 100 for _, p in seen)
    assert done.video_url == f"https://cdn.fake.test/media/task_0001.mp4?{SIGNED}"
    if shape != "openai":
        assert done.usage is not None
        assert done.usage.completion_tokens == 108_900
    assert sleeps[0] == 2.0
    target = tmp_path / "out.mp4"
    written = await run(client.videos.download(done, target))
    assert written == target.stat().st_size > 100_000
    assert not (tmp_path / "out.mp4.part").exists()
    media = next(c for c in fake.calls if c.path.startswith("/media/"))
    assert "authorization" not in media.headers  # the key never goes to the CDN
    buffer = io.BytesIO()
    assert await run(client.videos.download(done.id, buffer)) == written


async def test_video_errors_map(client: Client, fake: FakeAPI) -> None:
    with pytest.raises(BadRequestError) as info:
        await run(client.videos.create(model="byteplus/seedance-1-0-pro", prompt="x"))
    assert info.value.param == "model"
    assert info.value.code == wire.CODE_MODEL_NOT_FOUND
    fake.task_shape = "newapi"
    with pytest.raises(NotFoundError):  # new-api answers 400 task_not_exist
        await run(client.videos.get("task_missing"))


async def test_video_create_from_a_prebuilt_request(client: Client, fake: FakeAPI) -> None:
    request = {
        "model": wire.SEEDANCE_2,
        "prompt": "[Image 1] walks toward the camera in the rain",
        "metadata": {
            "content": [
                {
                    "type": "image_url",
                    "image_url": {"url": "https://cdn.example.com/o.png"},
                    "role": "reference_image",
                }
            ],
            "ratio": "9:16",
            "duration": 8,
            "resolution": "720p",
            "generate_audio": True,
            "watermark": False,
            "draft": True,
        },
    }
    await run(client.videos.create(request=request))
    assert fake.calls[-1].body == request


class Ledger:
    def __init__(self, broken: bool = False) -> None:
        self.events: list[tuple[str, object]] = []
        self.broken = broken

    def before_submit(self, body: object, *, submitter: str, base_url: str) -> str:
        self.events.append(("before", (submitter, base_url)))
        if self.broken:
            raise RuntimeError("disk full")
        return "sub-1"

    def after_submit(self, submission_id: str, task: object) -> None:
        self.events.append(("after", (submission_id, task)))

    def submit_failed(self, submission_id: str, *, code: str | None, message: str) -> None:
        self.events.append(("failed", (submission_id, code, message)))

    def on_task(self, task: object) -> None:
        self.events.append(("task", task))
        if self.broken:
            raise RuntimeError("disk full")


async def test_ledger_hooks(flavour: str, fake: FakeAPI, sleeps: Sleeps) -> None:
    ledger = Ledger()
    client = make_client(flavour, fake, sleeps, ledger=ledger)
    task = await run(client.videos.create(prompt="a cat"))
    await run(client.videos.wait(task.id))
    kinds = [k for k, _ in ledger.events]
    assert kinds[:2] == ["before", "after"]
    assert kinds.count("task") == 5
    submitter, base = ledger.events[0][1]  # type: ignore[misc]
    assert submitter == client.key_label
    assert "sk-orca" not in submitter
    assert base == client.base_url
    after = ledger.events[1][1][1]  # type: ignore[index]
    assert after["id"] == task.id
    assert "raw" not in after
    with pytest.raises(BadRequestError):
        await run(client.videos.create(model="byteplus/seedance-1-0-pro", prompt="x"))
    failed = ledger.events[-1]
    assert failed[0] == "failed"
    assert failed[1][1] == wire.CODE_MODEL_NOT_FOUND


async def test_broken_ledger_never_breaks_a_request(
    flavour: str, fake: FakeAPI, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(flavour, fake, sleeps, ledger=Ledger(broken=True))
    task = await run(client.videos.create(prompt="a cat"))
    assert (await run(client.videos.get(task.id))).id == task.id
    assert "ledger before_submit failed" in caplog.text
    assert "disk full" in caplog.text


async def test_video_create_takes_compose_output(client: Client, fake: FakeAPI) -> None:
    from orca_nb.compose import Ref, Selection, build_request

    selection = Selection(
        [
            Ref("asset-20260318071009-xy98z", "image", status="Active"),
            Ref("https://cdn.example.com/theme.mp3", "audio", seconds=5.0),
        ]
    )
    await run(client.videos.create(prompt="[Image 1] dances to [Audio 1]", content=selection))
    sent = fake.calls[-1].body["metadata"]["content"]
    assert sent == selection.content()
    assert sent[0]["image_url"]["url"] == "asset://asset-20260318071009-xy98z"
    body = build_request(
        wire.SEEDANCE_2, "[Image 1] dances to [Audio 1]", selection, ratio="9:16", duration=5
    )
    await run(client.videos.create(request=body))
    assert fake.calls[-1].body == body


async def test_on_progress_may_be_a_coroutine_for_the_async_client(
    fake: FakeAPI, sleeps: Sleeps
) -> None:
    client = make_client("async", fake, sleeps)
    seen: list[str] = []

    async def report(task: VideoTask) -> None:
        seen.append(task.status)

    task = await run(client.videos.create(prompt="a cat"))
    await run(client.videos.wait(task.id, on_progress=report))
    assert seen[-1] == "succeeded"
    assert len(seen) == 5


@pytest.mark.parametrize("threads", [1, 4])
async def test_sync_wait_many_with_and_without_threads(
    fake: FakeAPI, sleeps: Sleeps, threads: int
) -> None:
    client = make_client("sync", fake, sleeps, gather_threads=threads)
    gid = client.groups.create(name="batch").id
    ids = [client.assets.upload(group_id=gid, url=IMG, asset_type="Image").id for _ in range(6)]
    settled = client.assets.wait_many(ids)
    assert [a.id for a in settled] == ids
    assert {a.status for a in settled} == {"Active"}
    assert len(sleeps) == fake.asset_polls


async def test_paging_stops_even_if_the_server_ignores_page_number(
    client: Client, fake: FakeAPI
) -> None:
    for i in range(5):
        await run(client.groups.create(name=f"g{i}"))
    original = fake.list_groups

    def stuck(params: httpx.QueryParams) -> httpx.Response:
        return original(httpx.QueryParams({**dict(params), "page_number": "1"}))

    fake.list_groups = stuck  # type: ignore[method-assign]
    items = await collect(client.groups.iter(group_type="aigc", page_size=2))
    assert len(items) == 6  # 3 requests of 2 (all page 1), then it stops
    assert fake.count("GET", "groups") == 3 + 5  # plus the 5 pre-create snapshots
