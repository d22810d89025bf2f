"""Video generation over raw HTTP: the documented example, validation, lifecycle, shapes, MP4."""

from __future__ import annotations

import io
from typing import Any

import av
import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxServer
from orca_nb.sandbox.config import TASK_SHAPES
from tests.sandbox.helpers import make_group, sample_url, upload
from tests.sandbox.test_groups import assert_envelope

SHAPE_HEADER = "X-Orca-Sandbox-Task-Shape"


def asset(api: httpx.Client, server: SandboxServer, filename: str, kind: str = "Image") -> str:
    return upload(api, make_group(api), sample_url(server, filename), kind)


def image_item(url: str, role: str = "reference_image") -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}, "role": role}


def small_body(content: list[dict[str, Any]], prompt: str = "a calm scene", **meta: Any) -> dict:  # type: ignore[type-arg]
    metadata = {"content": content, "resolution": "480p", "duration": 4, **meta}
    return {"model": wire.SEEDANCE_2, "prompt": prompt, "metadata": metadata}


def create(api: httpx.Client, body: dict) -> dict:  # type: ignore[type-arg]
    response = api.post(wire.VIDEOS_PATH, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def fetch_task(api: httpx.Client, task_id: str, shape: str | None = "ark") -> httpx.Response:
    """GET the task in ``shape`` (most tests here read the raw Ark object); ``None``: no header,
    the configured shape (by default the documented new-api wrapper)."""
    headers = {SHAPE_HEADER: shape} if shape else {}
    return api.get(wire.VIDEO_PATH.format(task_id=task_id), headers=headers)


def probe_mp4(data: bytes) -> tuple[int, int, float, bool]:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        seconds = float(container.duration or 0) / av.time_base
        has_audio = bool(container.streams.audio)
        return stream.width, stream.height, seconds, has_audio


@pytest.mark.slow  # renders the example's 8 s 720p video (several seconds on 2 cores)
def test_documented_reference_example(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    image = asset(api, sandbox_server, "ada_portrait.jpg")
    audio = asset(api, sandbox_server, "theme.wav", "Audio")
    body = {
        "model": "byteplus/dreamina-seedance-2-0-260128",
        "prompt": "[Image 1] walks toward the camera in the rain; keep the outfit from "
        "[Image 2]; music follows [Audio 1].",
        "metadata": {
            "content": [
                image_item(f"asset://{image}"),
                image_item("https://cdn.example.com/outfit.png"),
                {
                    "type": "audio_url",
                    "audio_url": {"url": f"asset://{audio}"},
                    "role": "reference_audio",
                },
            ],
            "ratio": "9:16",
            "duration": 8,
            "resolution": "720p",
            "generate_audio": True,
            "watermark": False,
        },
    }
    created = create(api, body)
    assert set(created) >= {"id", "task_id", "model", "progress", "created_at"}
    assert created["id"] == created["task_id"]
    assert created["model"] == wire.SEEDANCE_2
    assert created["status"] == "queued"
    assert created["progress"] == 0
    assert isinstance(created["created_at"], int)
    task = fetch_task(api, created["id"]).json()
    assert task["status"] == "succeeded"
    assert (task["ratio"], task["duration"], task["resolution"]) == ("9:16", 8, "720p")
    assert task["usage"]["completion_tokens"] == wire.usage_tokens(720, 1280, 8)
    video = httpx.get(task["content"]["video_url"])
    assert video.headers["content-type"] == "video/mp4"
    width, height, seconds, has_audio = probe_mp4(video.content)
    assert (width, height) == (720, 1280)
    assert seconds == pytest.approx(8, abs=0.1)
    assert has_audio


def test_text_to_video_and_ark_shape(api: httpx.Client) -> None:
    created = create(api, small_body([], ratio="16:9", generate_audio=False, seed=7))
    task = fetch_task(api, created["id"]).json()
    assert set(task) >= {"id", "model", "status", "error", "created_at", "updated_at", "content"}
    assert task["model"] == "dreamina-seedance-2-0-260128"
    assert task["error"] is None
    assert task["seed"] == 7
    assert task["framespersecond"] == wire.OUTPUT_FPS
    assert task["usage"] == {
        "completion_tokens": wire.usage_tokens(864, 496, 4),
        "total_tokens": wire.usage_tokens(864, 496, 4),
    }
    width, height, seconds, has_audio = probe_mp4(httpx.get(task["content"]["video_url"]).content)
    assert (width, height) == wire.OUTPUT_SIZES[("480p", "16:9")]
    assert seconds == pytest.approx(4, abs=0.1)
    assert not has_audio


def test_adaptive_ratio_follows_the_first_reference(
    api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    portrait = asset(api, sandbox_server, "ada_portrait.jpg")
    body = small_body([image_item(f"asset://{portrait}")], "[Image 1] smiles", ratio="adaptive")
    task = fetch_task(api, create(api, body)["id"]).json()
    assert task["ratio"] == "9:16"
    width, height, _, _ = probe_mp4(httpx.get(task["content"]["video_url"]).content)
    assert (width, height) == wire.OUTPUT_SIZES[("480p", "9:16")]


def test_first_and_last_frame_with_last_frame_url(
    api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    first = asset(api, sandbox_server, "scene_16x9.jpg")
    last = sample_url(sandbox_server, "prop_1x1.png")  # a loopback URL, fetched at render time
    body = small_body(
        [image_item(f"asset://{first}", "first_frame"), image_item(last, "last_frame")],
        ratio="1:1",
        return_last_frame=True,
    )
    task = fetch_task(api, create(api, body)["id"]).json()
    frame = httpx.get(task["content"]["last_frame_url"])
    assert frame.headers["content-type"] == "image/png"
    assert frame.content.startswith(b"\x89PNG")


def test_manual_progression(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.configure(processing="manual", task_steps=3)
    tid = create(api, small_body([]))["id"]
    seen = []
    for _ in range(4):
        newapi = fetch_task(api, tid, "newapi").json()["data"]
        seen.append((fetch_task(api, tid).json()["status"], newapi["status"], newapi["progress"]))
        sandbox_backend.step()
    assert seen == [
        ("queued", "QUEUED", "0%"),
        ("running", "IN_PROGRESS", "33%"),
        ("running", "IN_PROGRESS", "66%"),
        ("succeeded", "SUCCESS", "100%"),
    ]


def test_timed_progression(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.configure(processing="timed", task_queue_seconds=1, task_seconds=10)
    tid = create(api, small_body([]))["id"]
    sandbox_backend.wait_for_renders()
    clock = sandbox_backend.clock
    assert fetch_task(api, tid, "openai").json()["status"] == "queued"
    clock.advance(6)  # type: ignore[attr-defined]
    running = fetch_task(api, tid, "openai").json()
    assert (running["status"], running["progress"]) == ("in_progress", 50)
    clock.advance(50)  # type: ignore[attr-defined]
    done = fetch_task(api, tid, "openai").json()
    assert done["status"] == "completed"
    assert done["progress"] == 100
    assert done["completed_at"] == done["created_at"] + 11  # when it finished, not when read
    assert done["metadata"]["url"].startswith("http://127.0.0.1:")


def test_four_shapes_and_the_setting(api: httpx.Client, sandbox_backend: Backend) -> None:
    tid = create(api, small_body([]))["id"]
    default = fetch_task(api, tid, None).json()  # the documented wrapper, no inner object
    assert default["code"] == "success"
    assert default["data"]["task_id"] == tid
    assert default["data"]["data"] is None
    wrapped = fetch_task(api, tid, "newapi_ark").json()
    assert wrapped["data"]["result_url"] == wrapped["data"]["data"]["content"]["video_url"]
    assert wrapped["data"]["data"]["usage"]["total_tokens"] > 0
    openai = fetch_task(api, tid, "openai").json()
    assert (openai["object"], openai["status"], openai["size"]) == ("video", "completed", "864x496")
    sandbox_backend.configure(task_shape="ark")
    assert fetch_task(api, tid, None).json()["status"] == "succeeded"


@pytest.mark.parametrize("shape", TASK_SHAPES)
def test_unknown_task_per_shape(api: httpx.Client, shape: str) -> None:
    response = fetch_task(api, "task_unknown", shape)
    if shape.startswith("newapi"):
        assert response.status_code == 400
        assert response.json() == {
            "code": "task_not_exist",
            "message": "task_not_exist",
            "data": None,
        }
    else:
        assert_envelope(response, 404, "task_id")


def test_failed_task_in_every_shape(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.fail_next_tasks(1, "OutputVideoSensitiveContentDetected", "blocked")
    tid = create(api, small_body([]))["id"]
    ark = fetch_task(api, tid, "ark").json()
    assert ark["status"] == "failed"
    assert ark["error"] == {"code": "OutputVideoSensitiveContentDetected", "message": "blocked"}
    assert "content" not in ark
    newapi = fetch_task(api, tid, "newapi").json()["data"]
    assert (newapi["status"], newapi["fail_reason"]) == ("FAILURE", "blocked")
    openai = fetch_task(api, tid, "openai").json()
    assert openai["status"] == "failed"
    assert openai["error"]["code"] == "OutputVideoSensitiveContentDetected"


def test_download_failure_of_a_loopback_reference_fails_the_task(
    api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    missing = sandbox_server.root_url + "/sandbox/samples/missing.png"
    tid = create(api, small_body([image_item(missing, "first_frame")]))["id"]
    task = fetch_task(api, tid).json()
    assert task["status"] == "failed"
    assert task["error"]["code"] == wire.ASSET_ERROR_DOWNLOAD_FAILED


def test_video_url_expires(api: httpx.Client, sandbox_backend: Backend) -> None:
    tid = create(api, small_body([]))["id"]
    url = fetch_task(api, tid).json()["content"]["video_url"]
    assert f"X-Tos-Expires={wire.VIDEO_URL_TTL_SECONDS}" in url
    sandbox_backend.clock.advance(wire.VIDEO_URL_TTL_SECONDS + 1)  # type: ignore[attr-defined]
    assert_envelope(httpx.get(url), 403)
    assert httpx.get(fetch_task(api, tid).json()["content"]["video_url"]).status_code == 200


def test_tasks_and_references_are_isolated(
    api: httpx.Client, other_api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    mine = asset(api, sandbox_server, "prop_1x1.png")
    tid = create(api, small_body([]))["id"]
    assert_envelope(fetch_task(other_api, tid), 404)
    body = small_body([image_item(f"asset://{mine}")])
    error = assert_envelope(other_api.post(wire.VIDEOS_PATH, json=body), 400)
    assert error["param"] == "metadata.content[0].image_url.url"
    assert "not found" in error["message"]


def _content_error_cases(processing: str, failed: str, image: str, audio: str) -> list[Any]:
    ref = image_item
    audio_item = {"type": "audio_url", "audio_url": {"url": f"asset://{audio}"}}
    return [
        ({"prompt": "x"}, 400, "model"),
        ({"model": 3, "prompt": "x"}, 400, "model"),
        ({"model": "byteplus/seedance-1-0-pro", "prompt": "x"}, 404, "model"),
        ({"model": "kling/v2", "prompt": "x"}, 404, "model"),
        ({"model": wire.SEEDANCE_2}, 400, "prompt"),
        ({"model": wire.SEEDANCE_2, "prompt": 5}, 400, "prompt"),
        ({"model": wire.SEEDANCE_2, "prompt": "x", "metadata": []}, 400, "metadata"),
        (small_body("nope"), 400, "metadata.content"),  # type: ignore[arg-type]
        (small_body([5]), 400, "metadata.content[0]"),
        (small_body([{"type": "gif_url"}]), 400, "metadata.content[0].type"),
        (small_body([{"type": "image_url"}]), 400, "metadata.content[0].image_url.url"),
        (small_body([{"type": "text", "text": 1}]), 400, "metadata.content[0].text"),
        (small_body([ref("ftp://x/y.png")]), 400, "metadata.content[0].image_url.url"),
        (small_body([ref(f"asset://{image}", "reference_video")]), 400, "metadata.content[0].role"),
        (small_body([ref("asset://asset-nope")]), 400, "metadata.content[0].image_url.url"),
        (small_body([ref(f"asset://{processing}")]), 400, "metadata.content[0].image_url.url"),
        (small_body([ref(f"asset://{failed}")]), 400, "metadata.content[0].image_url.url"),
        (
            small_body([{"type": "video_url", "video_url": {"url": f"asset://{image}"}}]),
            400,
            "metadata.content[0].video_url.url",
        ),
        (small_body([audio_item]), 400, "metadata.content"),
        (
            small_body([ref(f"asset://{image}", "first_frame"), ref(f"asset://{image}")]),
            400,
            "metadata.content",
        ),
        (small_body([ref(f"asset://{image}", "last_frame")]), 400, "metadata.content"),
        (small_body([ref(f"asset://{image}")] * 10), 400, "metadata.content"),
        (small_body([ref(f"asset://{image}")] * 2, "[Image 3] and [Image 1]"), 400, "prompt"),
        (small_body([ref(f"asset://{image}")], "[Video 1]"), 400, "prompt"),
        (small_body([], "[Image 0]"), 400, "prompt"),
        (small_body([], ratio="2:1"), 400, "metadata.ratio"),
        (small_body([], duration=3), 400, "metadata.duration"),
        (small_body([], duration=16), 400, "metadata.duration"),
        (small_body([], duration="5"), 400, "metadata.duration"),
        (small_body([], duration=True), 400, "metadata.duration"),
        (small_body([], resolution="4k"), 400, "metadata.resolution"),
        (small_body([], generate_audio="yes"), 400, "metadata.generate_audio"),
        (small_body([], seed=2**32), 400, "metadata.seed"),
        (small_body([], service_tier="fast"), 400, "metadata.service_tier"),
        (small_body([], callback_url="nope"), 400, "metadata.callback_url"),
        ({**small_body([]), "duration": 20}, 400, "duration"),
    ]


def test_validation_errors_name_the_param(
    api: httpx.Client, sandbox_server: SandboxServer, sandbox_backend: Backend
) -> None:
    image = asset(api, sandbox_server, "prop_1x1.png")
    audio = asset(api, sandbox_server, "theme.wav", "Audio")
    failed = asset(api, sandbox_server, "tiny_200.png")
    sandbox_backend.configure(processing="manual")
    processing = asset(api, sandbox_server, "prop_1x1.png")
    for body, status, param in _content_error_cases(processing, failed, image, audio):
        response = api.post(wire.VIDEOS_PATH, json=body)
        error = assert_envelope(response, status)
        assert error["param"] == param, (body, error)
    assert fetch_task(api, "x").status_code == 404  # nothing was created
    sandbox_backend.step()
    with sandbox_backend.db.tx() as db:
        assert db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == 0


def test_defaults_and_tolerated_extras(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    image = asset(api, sandbox_server, "prop_1x1.png")
    body = {
        "model": wire.SEEDANCE_2,
        "prompt": "",
        "metadata": {
            "content": [{"type": "image_url", "image_url": {"url": f"asset://{image}"}}],
            "resolution": "480p",
            "camera_fixed": True,
            "duration": -1,
        },
        "unknown_top_level": {"kept": True},
    }
    task = fetch_task(api, create(api, body)["id"]).json()
    assert task["duration"] == 5
    assert task["ratio"] == "1:1"  # adaptive from the square prop
    assert task["generate_audio"] is True
    assert task["service_tier"] in wire.SERVICE_TIERS


def test_server_answers_while_a_render_runs(
    api: httpx.Client, sandbox_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from orca_nb.sandbox import render

    started, release = threading.Event(), threading.Event()
    real_render = render.render_video

    def held_render(spec: render.RenderSpec) -> bytes:
        started.set()
        assert release.wait(30)
        return real_render(spec)

    monkeypatch.setattr(render, "render_video", held_render)
    sandbox_backend.configure(processing="manual", task_steps=1)
    tid = create(api, small_body([]))["id"]
    try:
        assert started.wait(30)
        # the render is in progress on the worker thread: the API still answers
        assert fetch_task(api, tid).json()["status"] == "queued"
        assert api.post(wire.GROUPS_PATH, json={"Name": "meanwhile"}).status_code == 200
    finally:
        release.set()
    sandbox_backend.step()
    assert fetch_task(api, tid).json()["status"] == "succeeded"
