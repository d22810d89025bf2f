"""The documented shapes over raw HTTP: the wrapped task fetch (default), the OpenAI aliases,
model discovery, the billing dashboard and the play balance, short real-human link lifetimes,
and uploads that answer before their media is fetched (section 12 of the reference)."""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import fields
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxConfig, SandboxServer
from orca_nb.sandbox.backend import account_id
from orca_nb.sandbox.cli import add_parser, config_from_args
from orca_nb.sandbox.models import LIMIT_FIELDS
from orca_nb.sandbox.samples import sample_bytes
from tests.sandbox.conftest import client_for
from tests.sandbox.helpers import get_asset, loopback_server, make_group, sample_url, upload
from tests.sandbox.test_groups import assert_envelope

SHAPE_HEADER = "X-Orca-Sandbox-Task-Shape"
SUBMIT_KEYS = {"id", "task_id", "object", "model", "status", "progress", "created_at"}
WRAPPER_KEYS = {
    "task_id", "platform", "action", "status", "progress", "fail_reason", "result_url",
    "submit_time", "start_time", "finish_time", "data",
}  # fmt: skip
OPENAI_KEYS = {
    "id", "task_id", "object", "model", "status", "progress", "created_at", "completed_at",
    "expires_at", "seconds", "size", "error", "usage", "metadata",
}  # fmt: skip
TOKENS_480P_4S = 864 * 496 * (24 * 4 + 1) // 1024  # 40,594: the 12.4 rule at 480p 16:9


def body(**meta: Any) -> dict[str, Any]:
    metadata = {"resolution": "480p", "duration": 4, "ratio": "16:9", **meta}
    return {"model": wire.SEEDANCE_2, "prompt": "a calm sea", "metadata": metadata}


def submit(api: httpx.Client, path: str = wire.VIDEOS_PATH, **meta: Any) -> dict[str, Any]:
    response = api.post(path, json=body(**meta))
    assert response.status_code == 200, response.text
    return dict(response.json())


def task(api: httpx.Client, tid: str, shape: str | None = None) -> httpx.Response:
    headers = {SHAPE_HEADER: shape} if shape else {}
    return api.get(wire.VIDEO_PATH.format(task_id=tid), headers=headers)


def alias(api: httpx.Client, tid: str) -> httpx.Response:
    return api.get(wire.OPENAI_VIDEO_PATH.format(task_id=tid))


def task_count(backend: Backend) -> int:
    with backend.db.tx() as db:
        return int(db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])


# ---------------------------------------------------------------------- 1. the default shape
def test_submit_answers_the_documented_superset(api: httpx.Client) -> None:
    created = submit(api)
    assert set(created) == SUBMIT_KEYS
    assert created["id"] == created["task_id"]
    assert (created["object"], created["status"], created["progress"]) == ("video", "queued", 0)
    assert created["model"] == wire.SEEDANCE_2
    assert isinstance(created["created_at"], int)


def test_default_fetch_is_the_wrapper_without_the_ark_object(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(processing="manual", task_steps=2)
    tid = submit(api)["id"]
    seen = []
    for _ in range(3):
        response = task(api, tid)
        assert response.status_code == 200
        reply = response.json()
        assert (reply["code"], reply["message"]) == ("success", "")
        data = reply["data"]
        assert set(data) == WRAPPER_KEYS
        assert data["data"] is None  # NEWAPI: no usage, ratio or upstream id
        assert data["task_id"] == tid
        seen.append((data["status"], data["progress"], bool(data["result_url"])))
        sandbox_backend.step()
    assert seen == [
        ("QUEUED", "0%", False),
        ("IN_PROGRESS", "50%", False),
        ("SUCCESS", "100%", True),
    ]
    done = task(api, tid).json()["data"]
    assert done["submit_time"] <= done["start_time"] <= done["finish_time"]
    assert httpx.get(done["result_url"]).headers["content-type"] == "video/mp4"


def test_failure_carries_fail_reason(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.fail_next_tasks(1, "OutputVideoSensitiveContentDetected", "blocked output")
    data = task(api, submit(api)["id"]).json()["data"]
    assert (data["status"], data["progress"], data["fail_reason"]) == (
        "FAILURE",
        "100%",
        "blocked output",
    )
    assert data["result_url"] == ""


def test_unknown_task_is_task_not_exist(api: httpx.Client) -> None:
    response = task(api, "task_nope")
    assert response.status_code == 400
    assert response.json() == {"code": "task_not_exist", "message": "task_not_exist", "data": None}


def test_inner_ark_object_is_a_setting(api: httpx.Client, sandbox_backend: Backend) -> None:
    tid = submit(api)["id"]
    by_header = task(api, tid, "newapi_ark").json()["data"]
    assert by_header["data"]["usage"]["total_tokens"] == TOKENS_480P_4S
    assert by_header["data"]["content"]["video_url"] == by_header["result_url"]
    sandbox_backend.configure(task_shape="newapi_ark")
    assert task(api, tid).json()["data"]["data"]["status"] == "succeeded"
    sandbox_backend.configure(task_shape="ark")
    assert task(api, tid).json()["usage"]["total_tokens"] == TOKENS_480P_4S
    sandbox_backend.configure(task_shape="openai")
    assert task(api, tid).json()["status"] == "completed"
    assert_envelope(task(api, tid, "xml"), 400, "shape")


def test_shape_setting_is_checked() -> None:
    with pytest.raises(ValueError, match="task_shape"):
        SandboxConfig(task_shape="newapi2")
    assert SandboxConfig().task_shape == "newapi"


# ---------------------------------------------------------------------- 2. the OpenAI aliases
def test_openai_alias_submit_and_fetch(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.configure(processing="manual", task_steps=2)
    created = submit(api, wire.OPENAI_VIDEOS_PATH)
    assert set(created) == SUBMIT_KEYS
    tid = created["id"]
    first = alias(api, tid).json()
    assert set(first) == OPENAI_KEYS
    assert (first["status"], first["progress"], first["usage"]) == ("queued", 0, None)
    assert first["metadata"] == {}
    assert first["completed_at"] is None
    sandbox_backend.step()
    running = alias(api, tid).json()
    assert (running["status"], running["progress"]) == ("in_progress", 50)
    sandbox_backend.step()
    done = alias(api, tid).json()
    assert (done["status"], done["progress"], done["seconds"], done["size"]) == (
        "completed",
        100,
        "4",
        "864x496",
    )
    assert done["usage"] == {"completion_tokens": TOKENS_480P_4S, "total_tokens": TOKENS_480P_4S}
    assert done["expires_at"] == done["completed_at"] + wire.VIDEO_URL_TTL_SECONDS
    assert httpx.get(done["metadata"]["url"]).status_code == 200
    # the same task on the documented route, whatever route created it
    assert task(api, tid).json()["data"]["status"] == "SUCCESS"


def test_openai_alias_ignores_the_shape_setting(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(task_shape="ark")
    tid = submit(api)["id"]
    assert alias(api, tid).json()["object"] == "video"


def test_openai_alias_failure_and_unknown(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.fail_next_tasks(1, "InternalServiceError", "render broke")
    failed = alias(api, submit(api, wire.OPENAI_VIDEOS_PATH)["id"]).json()
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "InternalServiceError", "message": "render broke"}
    assert failed["usage"] is None
    assert_envelope(alias(api, "task_nope"), 404, "task_id")
    bad = api.post(wire.OPENAI_VIDEOS_PATH, json={"model": wire.SEEDANCE_2, "prompt": 5})
    assert_envelope(bad, 400, "prompt")


def test_aliases_are_isolated_and_need_a_key(
    api: httpx.Client, other_api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    tid = submit(api, wire.OPENAI_VIDEOS_PATH)["id"]
    assert_envelope(alias(other_api, tid), 404)
    with client_for(sandbox_server, None) as anonymous:
        assert_envelope(alias(anonymous, tid), 401)
        assert_envelope(anonymous.get(wire.MODELS_PATH), 401)
        assert_envelope(anonymous.get(wire.BILLING_SUBSCRIPTION_PATH), 401)
        assert_envelope(anonymous.get(wire.BILLING_USAGE_PATH), 401)


def test_reported_usage_counts_reference_video_seconds(
    api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    video = upload(api, make_group(api), sample_url(sandbox_server, "ada_wave.mp4"), "Video")
    assert get_asset(api, video)["Status"] == "Active"
    item = {
        "type": "video_url",
        "video_url": {"url": f"asset://{video}"},
        "role": "reference_video",
    }
    payload = body(resolution="720p", content=[item])
    tid = api.post(wire.VIDEOS_PATH, json=payload).json()["id"]
    usage = alias(api, tid).json()["usage"]
    # 12.4: (4 s output + 3 s input) at 1280x720: 900 x (97 + 72) = 152,100
    assert usage["total_tokens"] == 1280 * 720 * (24 * 4 + 1 + 24 * 3) // 1024 == 152_100


# ---------------------------------------------------------------------- 5. models
def test_models_list(api: httpx.Client) -> None:
    reply = api.get(wire.MODELS_PATH).json()
    assert reply["object"] == "list"
    entries = {entry["id"]: entry for entry in reply["data"]}
    assert set(entries) == set(wire.MODELS) | set(wire.PEER_MODELS)
    assert reply["data"][0]["id"] == wire.SEEDANCE_2
    for name, entry in entries.items():
        assert entry["object"] == "model"
        assert isinstance(entry["created"], int)
        assert entry["owned_by"]
        assert entry["architecture"]["output_modalities"] == ["video"]
        spec = wire.MODELS.get(name) or wire.PEER_MODELS[name]
        assert entry["routable"] is spec.routable
        video = wire.VIDEO_ENDPOINT_TYPE in entry["supported_endpoint_types"]
        assert video is spec.routable  # the PEER filter keeps exactly the routable ones
        limits = {
            LIMIT_FIELDS[k]: tuple(v) if isinstance(v, list) else v
            for k, v in entry["limits"].items()
        }
        assert wire.ModelSpec(name=name, routable=entry["routable"], **limits) == spec
    seedance = entries[wire.SEEDANCE_2]
    assert seedance["architecture"]["input_modalities"] == ["text", "image", "video", "audio"]
    assert entries["byteplus/seedance-1-0-pro"]["architecture"]["input_modalities"] == [
        "text",
        "image",
    ]
    # every limit of the table is served (so a client can rebuild the spec)
    assert {f.name for f in fields(wire.ModelSpec)} - {"name", "routable"} == set(
        LIMIT_FIELDS.values()
    )
    assert set(seedance["limits"]) == set(LIMIT_FIELDS)


def test_models_list_can_hide_unroutable(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.configure(list_unroutable_models=False)
    data = api.get(wire.MODELS_PATH).json()["data"]
    assert [entry["id"] for entry in data] == [wire.SEEDANCE_2]


# ---------------------------------------------------------------------- 6. billing
def spend_cents(tokens: int, price: float = SandboxConfig.usd_per_million_tokens) -> float:
    return tokens * price / 1_000_000 * 100


def test_billing_routes_and_settlement(api: httpx.Client, sandbox_backend: Backend) -> None:
    subscription = api.get(wire.BILLING_SUBSCRIPTION_PATH).json()
    assert subscription == {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": SandboxConfig.play_balance_usd,
        "hard_limit_usd": SandboxConfig.play_balance_usd,
        "system_hard_limit_usd": SandboxConfig.play_balance_usd,
        "access_until": 0,
    }
    assert api.get(wire.BILLING_USAGE_PATH).json() == {"object": "list", "total_usage": 0}
    sandbox_backend.configure(processing="manual", task_steps=1)
    hold = 1280 * 720 * (24 * 5 + 1) // 1024  # 720p 16:9 5 s declared: 108,900
    tid = submit(api, resolution="720p", duration=5)["id"]
    usage = api.get(wire.BILLING_USAGE_PATH, params={"start_date": "2026-01-01"}).json()
    assert usage["total_usage"] == pytest.approx(spend_cents(hold))  # held while it runs
    sandbox_backend.step()
    assert alias(api, tid).json()["usage"]["total_tokens"] == hold
    settled = api.get(wire.BILLING_USAGE_PATH).json()["total_usage"]
    assert settled == pytest.approx(spend_cents(hold))
    sandbox_backend.fail_next_tasks(1)
    failed = submit(api)["id"]
    assert api.get(wire.BILLING_USAGE_PATH).json()["total_usage"] == pytest.approx(
        spend_cents(hold + TOKENS_480P_4S)
    )
    sandbox_backend.step()
    assert alias(api, failed).json()["status"] == "failed"
    refunded = api.get(wire.BILLING_USAGE_PATH).json()["total_usage"]
    assert refunded == pytest.approx(spend_cents(hold))  # failed tasks are refunded in full


def test_adaptive_hold_uses_the_reference_ratio(
    api: httpx.Client, sandbox_server: SandboxServer, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(processing="manual")
    image = upload(api, make_group(api), sample_url(sandbox_server, "prop_1x1.png"), "Image")
    sandbox_backend.step()
    item = {"type": "image_url", "image_url": {"url": f"asset://{image}"}, "role": "first_frame"}
    submit(api, ratio="adaptive", content=[item])
    with sandbox_backend.db.tx() as db:
        held = db.execute("SELECT json_extract(params, '$.hold_tokens') FROM tasks").fetchone()[0]
    size = get_asset(api, image)
    assert size["Status"] == "Active"
    width, height = wire.OUTPUT_SIZES[("480p", "1:1")]  # the square image's ratio, not 16:9
    assert held == width * height * 97 // 1024 != TOKENS_480P_4S


def test_insufficient_balance_refuses_and_creates_nothing(
    api: httpx.Client, sandbox_backend: Backend, sandbox_key: str
) -> None:
    sandbox_backend.set_balance(account_id(sandbox_key), 0.25)  # one 480p 4 s video: $0.28
    for path in (wire.VIDEOS_PATH, wire.OPENAI_VIDEOS_PATH):
        response = api.post(path, json=body())
        assert response.status_code == 403
        reply = response.json()
        assert set(reply) == {"code", "message", "data"}
        assert (reply["code"], reply["data"]) == ("insufficient_user_quota", None)
        assert "Top up" in reply["message"]
        assert "40,594 tokens" in reply["message"]
    assert task_count(sandbox_backend) == 0
    assert api.get(wire.BILLING_SUBSCRIPTION_PATH).json()["hard_limit_usd"] == 0.25
    sandbox_backend.set_balance(account_id(sandbox_key), None)  # back to the setting
    submit(api)
    assert task_count(sandbox_backend) == 1


def test_balance_runs_out_after_spending(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.configure(play_balance_usd=0.6)  # two 480p 4 s videos ($0.284 each)
    submit(api)
    submit(api)
    response = api.post(wire.VIDEOS_PATH, json=body())
    assert (response.status_code, response.json()["code"]) == (403, "insufficient_user_quota")
    assert task_count(sandbox_backend) == 2


def test_admin_balance_route(
    root: httpx.Client, api: httpx.Client, sandbox_key: str, sandbox_backend: Backend
) -> None:
    reply = root.post("/sandbox/admin/balance", json={"api_key": sandbox_key, "usd": 0})
    assert reply.status_code == 200, reply.text
    assert reply.json()["subscription"]["hard_limit_usd"] == 0
    assert api.post(wire.VIDEOS_PATH, json=body()).status_code == 403
    for bad in ({"api_key": sandbox_key, "usd": -1}, {"api_key": sandbox_key, "usd": "5"},
                {"api_key": sandbox_key}, {"api_key": sandbox_key, "usd": 1, "x": 1}):  # fmt: skip
        assert_envelope(root.post("/sandbox/admin/balance", json=bad), 400)
    assert_envelope(root.post("/sandbox/admin/balance", json={"api_key": "nope", "usd": 1}), 401)
    settings = root.post("/sandbox/admin/settings", json={"usd_per_million_tokens": 0}).json()
    assert settings["usd_per_million_tokens"] == 0
    submit(api)  # free at a zero price, whatever the balance
    assert_envelope(root.post("/sandbox/admin/settings", json={"play_balance_usd": -1}), 400)


# ---------------------------------------------------------------------- 7. session lifetime
def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["sandbox", *argv])


def test_cli_sets_link_lifetime_balance_and_shape() -> None:
    config = config_from_args(parse("--db", ":memory:", "--session-ttl", "10", "--balance", "2.5"))
    assert (config.session_ttl, config.play_balance_usd, config.task_shape) == (
        10.0,
        2.5,
        "newapi",
    )
    ark = config_from_args(parse("--db", ":memory:", "--task-shape", "newapi_ark"))
    assert ark.task_shape == "newapi_ark"


def test_short_session_lifetime_goes_stale(
    api: httpx.Client, root: httpx.Client, sandbox_backend: Backend
) -> None:
    assert root.post("/sandbox/admin/settings", json={"session_ttl": 10}).status_code == 200
    started = api.post(wire.SESSIONS_PATH, json={}).json()
    path = wire.SESSION_PATH.format(session_id=started["session_id"])
    fresh = api.get(path).json()
    assert (fresh["status"], fresh["expires_at"] - fresh["created_at"]) == ("pending", 10)
    sandbox_backend.clock.advance(9)  # type: ignore[attr-defined]
    assert api.get(path).json()["status"] == "pending"
    sandbox_backend.clock.advance(2)  # type: ignore[attr-defined]
    assert api.get(path).json()["status"] == "expired"
    assert "expired" in httpx.get(started["h5_link"]).text
    posted = httpx.post(started["h5_link"], data={"consent": "yes", "choice": "ada"})
    assert posted.status_code == 409


# ---------------------------------------------------------------------- 8. uploads at once
SLOW_SECONDS = 1.5


@pytest.fixture
def slow_media() -> Iterator[str]:
    """A loopback media host that waits ``SLOW_SECONDS`` before sending an image."""
    data = sample_bytes("prop_1x1.png")

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(SLOW_SECONDS)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    with loopback_server(Slow) as url:
        yield url + "/prop.png"


def test_upload_answers_before_a_slow_host_is_read(slow_media: str) -> None:
    key = "sk-orca-sandbox-slow"
    config = SandboxConfig(processing="timed", processing_seconds=0.0, seed_demo=False)
    with SandboxServer(config) as server, client_for(server, key) as api:
        gid = make_group(api)
        began = time.monotonic()
        aid = upload(api, gid, slow_media, "Image", "slow one")
        answered = time.monotonic() - began
        assert answered < SLOW_SECONDS / 3, answered
        assert get_asset(api, aid)["Status"] == "Processing"
        listed = api.get(wire.ASSETS_PATH, params={"group_id": gid}).json()["Items"]
        assert [(a["Id"], a["Status"]) for a in listed] == [(aid, "Processing")]
        deadline = time.monotonic() + 30
        while get_asset(api, aid)["Status"] == "Processing" and time.monotonic() < deadline:
            time.sleep(0.1)
        settled = get_asset(api, aid)
        assert settled["Status"] == "Active"
        assert time.monotonic() - began >= SLOW_SECONDS
        assert settled["URL"].startswith(server.root_url)


def test_upload_answers_at_once_in_every_mode(
    api: httpx.Client, sandbox_backend: Backend, slow_media: str
) -> None:
    gid = make_group(api)
    for mode in ("instant", "manual"):
        sandbox_backend.configure(processing=mode)
        began = time.monotonic()
        aid = upload(api, gid, slow_media, "Image")
        assert time.monotonic() - began < SLOW_SECONDS / 3
        if mode == "manual":
            assert get_asset(api, aid)["Status"] == "Processing"
            sandbox_backend.step()  # one step settles it, its fetch included
        assert get_asset(api, aid)["Status"] == "Active"  # instant: settled at the first look


def test_an_asset_deleted_while_fetching_leaves_nothing(
    api: httpx.Client, sandbox_backend: Backend, slow_media: str
) -> None:
    sandbox_backend.configure(processing="manual")
    aid = upload(api, make_group(api), slow_media, "Image")
    assert api.delete(wire.ASSET_PATH.format(asset_id=aid)).status_code == 200
    sandbox_backend.wait_for_fetches()
    with sandbox_backend.db.tx() as db:
        assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM assets").fetchone()[0] == 0


def test_the_cap_counts_assets_still_being_fetched(
    api: httpx.Client, sandbox_backend: Backend, slow_media: str
) -> None:
    sandbox_backend.configure(asset_cap=1, processing="manual")
    gid = make_group(api)
    upload(api, gid, slow_media, "Image")
    response = api.post(
        wire.ASSETS_PATH, json={"GroupId": gid, "URL": slow_media, "AssetType": "Image"}
    )
    assert_envelope(response, 403)


def test_a_pending_fetch_resumes_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    config = SandboxConfig(db_path=str(db), processing="manual", seed_demo=False)
    with SandboxServer(config) as server, client_for(server, "sk-orca-sandbox-r") as api:
        aid = upload(api, make_group(api), sample_url(server, "prop_1x1.png"), "Image")
        server.backend.wait_for_fetches()
    with sqlite3.connect(db) as raw:  # as if the process died before the worker read it
        raw.execute(
            "UPDATE assets SET fetch_state = 'pending', blob_id = NULL WHERE id = ?", (aid,)
        )
    with SandboxServer(config) as server, client_for(server, "sk-orca-sandbox-r") as api:
        server.backend.step()  # waits for the resumed fetch, then settles
        asset = get_asset(api, aid)
        assert asset["Status"] == "Active"
        assert httpx.get(asset["URL"]).status_code == 200


def test_an_older_database_gains_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as raw:
        raw.execute(
            "CREATE TABLE assets (id TEXT PRIMARY KEY, account TEXT NOT NULL, group_id TEXT NOT"
            " NULL, name TEXT NOT NULL, asset_type TEXT NOT NULL, source_url TEXT NOT NULL,"
            " status TEXT NOT NULL, error_code TEXT, error_message TEXT, verdict_code TEXT,"
            " verdict_message TEXT, moderation TEXT NOT NULL, blob_id TEXT, width INTEGER,"
            " height INTEGER, seconds REAL, created REAL NOT NULL, updated REAL NOT NULL,"
            " steps INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL)"
        )
        raw.execute(
            "INSERT INTO assets VALUES ('asset-1','a','g','n','Image','http://x','Active',NULL,"
            "NULL,NULL,NULL,'{}',NULL,1,1,NULL,0,0,0,1)"
        )
    backend = Backend(SandboxConfig(db_path=str(db)))
    try:
        with backend.db.tx() as conn:
            row = conn.execute("SELECT fetch_state, fetched FROM assets").fetchone()
        assert (row["fetch_state"], row["fetched"]) == ("done", None)  # old rows count as read
    finally:
        backend.close()


def test_embedded_task_shape_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from orca_nb.sandbox import embedded

    monkeypatch.setattr(embedded, "_embedded", None)
    monkeypatch.setenv(embedded.DB_ENV, ":memory:")
    monkeypatch.setenv(embedded.TASK_SHAPE_ENV, "openai")
    started = embedded.ensure_embedded()
    try:
        assert started.server.backend.config.task_shape == "openai"
    finally:
        embedded.shutdown_embedded()
    monkeypatch.setenv(embedded.TASK_SHAPE_ENV, "xml")
    with pytest.raises(ValueError, match="task_shape"):
        embedded.ensure_embedded()
