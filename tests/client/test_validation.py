"""Bad input to every public call is a clear ``ValidationError`` before any request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client import AsyncOrca, Orca, ValidationError
from tests.client.conftest import collect, run
from tests.client.fakeapi import FakeAPI

Client = Orca | AsyncOrca
G = "group-20260318033332-ab12c"
A = "asset-20260318071009-xy98z"
URL = "https://cdn.example.com/a.png"
Call = Callable[[Client], Any]

CASES: list[tuple[str, str, Call]] = [
    # groups
    ("groups.create blank name", "name", lambda c: c.groups.create(name="  ")),
    ("groups.create long name", "name", lambda c: c.groups.create(name="x" * 65)),
    ("groups.create name type", "name", lambda c: c.groups.create(name=5)),
    (
        "groups.create long description",
        "description",
        lambda c: c.groups.create(name="ok", description="d" * 301),
    ),
    ("groups.get empty", "group_id", lambda c: c.groups.get("")),
    ("groups.get blank", "group_id", lambda c: c.groups.get("   ")),
    ("groups.get type", "group_id", lambda c: c.groups.get(None)),
    ("groups.get asset id", "group_id", lambda c: c.groups.get(A)),
    ("groups.update nothing", "name", lambda c: c.groups.update(G)),
    ("groups.update empty id", "group_id", lambda c: c.groups.update("", name="n")),
    ("groups.update long", "name", lambda c: c.groups.update(G, name="n" * 70)),
    ("groups.delete empty", "group_id", lambda c: c.groups.delete("")),
    ("groups.list group_type", "group_type", lambda c: c.groups.list(group_type="AIGC")),
    ("groups.list sort_by", "sort_by", lambda c: c.groups.list(sort_by="GroupId")),
    ("groups.list sort_order", "sort_order", lambda c: c.groups.list(sort_order="desc")),
    ("groups.list page_size", "page_size", lambda c: c.groups.list(page_size=0)),
    ("groups.list page_size big", "page_size", lambda c: c.groups.list(page_size=101)),
    ("groups.list page_number", "page_number", lambda c: c.groups.list(page_number="2")),
    ("groups.list bool", "page_size", lambda c: c.groups.list(page_size=True)),
    ("groups.iter group_type", "group_type", lambda c: c.groups.iter(group_type="virtual")),
    # assets
    (
        "assets.upload empty group",
        "group_id",
        lambda c: c.assets.upload(group_id="", url=URL, asset_type="Image"),
    ),
    (
        "assets.upload file url",
        "url",
        lambda c: c.assets.upload(group_id=G, url="file:///tmp/a.png", asset_type="Image"),
    ),
    (
        "assets.upload local path",
        "url",
        lambda c: c.assets.upload(group_id=G, url="/tmp/a.png", asset_type="Image"),
    ),
    (
        "assets.upload data url",
        "url",
        lambda c: c.assets.upload(group_id=G, url="data:image/png;base64,AA", asset_type="Image"),
    ),
    (
        "assets.upload enum",
        "asset_type",
        lambda c: c.assets.upload(group_id=G, url=URL, asset_type="image"),
    ),
    (
        "assets.upload long name",
        "name",
        lambda c: c.assets.upload(group_id=G, url=URL, asset_type="Image", name="n" * 65),
    ),
    (
        "assets.upload blank name",
        "name",
        lambda c: c.assets.upload(group_id=G, url=URL, asset_type="Image", name=" "),
    ),
    (
        "assets.upload moderation",
        "moderation",
        lambda c: c.assets.upload(group_id=G, url=URL, asset_type="Image", moderation="Off"),
    ),
    ("assets.get empty", "asset_id", lambda c: c.assets.get("")),
    ("assets.get group id", "asset_id", lambda c: c.assets.get(G)),
    ("assets.get asset url", "asset_id", lambda c: c.assets.get("asset://" + A)),
    ("assets.delete empty", "asset_id", lambda c: c.assets.delete(" ")),
    ("assets.wait empty", "asset_id", lambda c: c.assets.wait("")),
    ("assets.wait timeout", "timeout", lambda c: c.assets.wait(A, timeout=-1)),
    ("assets.wait_many str", "asset_ids", lambda c: c.assets.wait_many(A)),
    ("assets.wait_many blank", "asset_ids", lambda c: c.assets.wait_many([A, ""])),
    ("assets.list statuses", "statuses", lambda c: c.assets.list(statuses=["Done"])),
    ("assets.list statuses str", "statuses", lambda c: c.assets.list(statuses="Active,Gone")),
    ("assets.list sort_by", "sort_by", lambda c: c.assets.list(sort_by="Name")),
    ("assets.list group_id", "group_id", lambda c: c.assets.list(group_id="")),
    ("assets.iter statuses", "statuses", lambda c: c.assets.iter(statuses=[])),
    # real-human
    (
        "start_session return_url",
        "return_url",
        lambda c: c.real_human.start_session("javascript:alert(1)"),
    ),
    (
        "start_session CallbackURL",
        "CallbackURL",
        lambda c: c.real_human.start_session(CallbackURL="https://x.test"),
    ),
    ("get_session empty", "session_id", lambda c: c.real_human.get_session("")),
    # videos
    ("videos.create no prompt", "prompt", lambda c: c.videos.create()),
    ("videos.create model", "model", lambda c: c.videos.create(model="sora", prompt="x")),
    ("videos.create ratio", "ratio", lambda c: c.videos.create(prompt="x", ratio="2:1")),
    ("videos.create duration", "duration", lambda c: c.videos.create(prompt="x", duration=16)),
    (
        "videos.create duration type",
        "duration",
        lambda c: c.videos.create(prompt="x", duration=5.5),
    ),
    (
        "videos.create resolution",
        "resolution",
        lambda c: c.videos.create(prompt="x", resolution="4k"),
    ),
    ("videos.create seed", "seed", lambda c: c.videos.create(prompt="x", seed=2**32)),
    (
        "videos.create audio type",
        "generate_audio",
        lambda c: c.videos.create(prompt="x", generate_audio="yes"),
    ),
    ("videos.create content str", "content", lambda c: c.videos.create(prompt="x", content="a")),
    (
        "videos.create content type",
        "content[0].type",
        lambda c: c.videos.create(prompt="x", content=[{"type": "gif_url"}]),
    ),
    (
        "videos.create content url",
        "content[0].image_url.url",
        lambda c: c.videos.create(
            prompt="x", content=[{"type": "image_url", "image_url": {"url": "ftp://a/b"}}]
        ),
    ),
    (
        "videos.create content role",
        "content[0].role",
        lambda c: c.videos.create(
            prompt="x",
            content=[{"type": "image_url", "image_url": {"url": URL}, "role": "hero"}],
        ),
    ),
    (
        "videos.create callback",
        "callback_url",
        lambda c: c.videos.create(prompt="x", callback_url="localhost:80"),
    ),
    (
        "videos.create both",
        "request",
        lambda c: c.videos.create(request={"model": wire.SEEDANCE_2}, prompt="x"),
    ),
    ("videos.create request type", "request", lambda c: c.videos.create(request=["x"])),
    ("videos.get empty", "task_id", lambda c: c.videos.get("")),
    ("videos.wait empty", "task_id", lambda c: c.videos.wait(" ")),
    ("videos.wait on_progress", "on_progress", lambda c: c.videos.wait("t", on_progress=3)),
    ("videos.download task", "task", lambda c: c.videos.download(42, "out.mp4")),
    ("videos.download target", "path_or_file", lambda c: c.videos.download(URL, 42)),
    ("per-call max_retries", "max_retries", lambda c: c.groups.get(G, max_retries=-1)),
    # what cannot travel: lone surrogates, NUL, path characters, non-finite or huge numbers
    ("groups.get NUL", "group_id", lambda c: c.groups.get("group-\x00x")),
    ("groups.get slash", "group_id", lambda c: c.groups.get("group-a/../b")),
    ("groups.get query", "group_id", lambda c: c.groups.get("group-a?x=1")),
    ("groups.get surrogate", "group_id", lambda c: c.groups.get("group-\ud800")),
    ("groups.get non-ASCII", "group_id", lambda c: c.groups.get("group-é")),
    ("assets.get too long", "asset_id", lambda c: c.assets.get("asset-" + "x" * 300)),
    ("groups.create surrogate", "name", lambda c: c.groups.create(name="a\udfffb")),
    ("groups.list surrogate", "name", lambda c: c.groups.list(name="\ud800")),
    ("groups.list NUL", "name", lambda c: c.groups.list(name="a\x00")),
    ("groups.list float size", "page_size", lambda c: c.groups.list(page_size=5.0)),
    ("groups.list odd digits", "page_number", lambda c: c.groups.list(page_number="١٢")),
    ("assets.wait NaN", "timeout", lambda c: c.assets.wait(A, timeout=float("nan"))),
    ("assets.wait inf", "timeout", lambda c: c.assets.wait(A, timeout=float("inf"))),
    ("assets.wait huge", "timeout", lambda c: c.assets.wait(A, timeout=10**400)),
    ("assets.wait bool", "poll_interval", lambda c: c.assets.wait(A, poll_interval=True)),
    ("per-call timeout NaN", "timeout", lambda c: c.groups.get(G, timeout=float("nan"))),
    ("per-call timeout text", "timeout", lambda c: c.groups.get(G, timeout="5")),
    (
        "assets.upload bracket url",
        "url",
        lambda c: c.assets.upload(group_id=G, url="http://[::1/a.png", asset_type="Image"),
    ),
    (
        "assets.upload space url",
        "url",
        lambda c: c.assets.upload(group_id=G, url="http://a b/c.png", asset_type="Image"),
    ),
    (
        "assets.upload surrogate url",
        "url",
        lambda c: c.assets.upload(group_id=G, url="http://x/\ud800.png", asset_type="Image"),
    ),
    (
        "assets.upload moderation object",
        "moderation.Extra",
        lambda c: c.assets.upload(
            group_id=G, url=URL, asset_type="Image", moderation={"Strategy": "Skip", "Extra": {1}}
        ),
    ),
    (
        "real_human.start_session surrogate extra",
        "note",
        lambda c: c.real_human.start_session(note="\ud800"),
    ),
    (
        "videos.create NaN in extra metadata",
        "request.metadata.x",
        lambda c: c.videos.create(
            request={"model": wire.SEEDANCE_2, "prompt": "p", "metadata": {"x": float("nan")}}
        ),
    ),
    (
        "videos.create surrogate prompt",
        "request.prompt",
        lambda c: c.videos.create(prompt="a \ud800 b"),
    ),
    (
        "videos.create object in body",
        "request.metadata.x[0]",
        lambda c: c.videos.create(
            request={"model": wire.SEEDANCE_2, "prompt": "p", "metadata": {"x": [object()]}}
        ),
    ),
    (
        "videos.create nested too deep",
        "request.metadata.x" + ".k" * 31,  # depth 33: request, metadata, x, then 30 more
        lambda c: c.videos.create(
            request={"model": wire.SEEDANCE_2, "prompt": "p", "metadata": {"x": _deep(40)}}
        ),
    ),
    ("videos.download NUL path", "path_or_file", lambda c: c.videos.download(URL, "a\x00.mp4")),
    (
        "videos.download missing folder",
        "path_or_file",
        lambda c: c.videos.download(URL, "/no/such/folder/out.mp4"),
    ),
    ("videos.download slash id", "task", lambda c: c.videos.download("t/../x", "out.mp4")),
]


def _deep(n: int) -> Any:
    value: Any = "leaf"
    for _ in range(n):
        value = {"k": value}
    return value


async def drive(result: Any) -> Any:
    """Await a call's result, or drain it when it is an iterator (``iter`` methods)."""
    if hasattr(result, "__aiter__") or hasattr(result, "__next__"):
        return await collect(result)
    return await run(result)


@pytest.mark.parametrize(("label", "param", "call"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_raises_before_any_request(
    client: Client, fake: FakeAPI, label: str, param: str, call: Call
) -> None:
    with pytest.raises(ValidationError) as info:
        await drive(call(client))
    assert info.value.param == param
    assert str(info.value).startswith(f"{param}: ")
    assert isinstance(info.value, ValueError)
    assert fake.calls == []  # the transport saw nothing


async def test_enum_error_lists_the_allowed_values(client: Client) -> None:
    with pytest.raises(ValidationError) as info:
        await run(client.assets.upload(group_id=G, url=URL, asset_type="image"))
    assert "Image, Video, Audio" in str(info.value)
    assert "did you mean 'Image'" in str(info.value)
