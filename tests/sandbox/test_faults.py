"""Fault injection from Python and from the loopback-only admin routes."""

from __future__ import annotations

import time

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, Fault, SandboxServer, create_app
from tests.sandbox.test_groups import assert_envelope

CREATE = "POST " + wire.GROUPS_PATH


def aigc_count(api: httpx.Client) -> int:
    return int(api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()["TotalCount"])


def test_429_with_retry_after_then_ok(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.faults.add(CREATE, Fault.error(429, retry_after=2), "ok")
    first = api.post(wire.GROUPS_PATH, json={"Name": "a"})
    error = assert_envelope(first, 429)
    assert error["code"] == wire.CODE_RATE_LIMITED
    assert error["type"] == "rate_limit_error"
    assert first.headers["Retry-After"] == "2"
    assert api.post(wire.GROUPS_PATH, json={"Name": "a"}).status_code == 200
    assert api.post(wire.GROUPS_PATH, json={"Name": "a"}).status_code == 200  # script used up
    assert aigc_count(api) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(api: httpx.Client, sandbox_backend: Backend, status: int) -> None:
    sandbox_backend.faults.add(CREATE, status)
    assert_envelope(api.post(wire.GROUPS_PATH, json={"Name": "a"}), status)
    assert aigc_count(api) == 0


def test_drop_before_reading_has_no_effect(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.faults.add(CREATE, "drop_before")
    # Closing before the body is read may reach the client as a clean close or as a reset,
    # depending on whether the body was still in flight: both mean "no answer".
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post(wire.GROUPS_PATH, json={"Name": "lost"})
    assert aigc_count(api) == 0


def test_drop_after_reading_takes_effect_without_answer(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.faults.add(CREATE, "drop_after")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(wire.GROUPS_PATH, json={"Name": "created anyway"})
    listed = api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()
    assert [g["Name"] for g in listed["Items"]] == ["created anyway"]


def test_latency_and_slow_body(api: httpx.Client, sandbox_backend: Backend) -> None:
    route = "GET " + wire.GROUP_PATH
    gid = api.post(wire.GROUPS_PATH, json={"Name": "slow"}).json()["Id"]
    sandbox_backend.faults.add(route, "latency:0.3", "slow_body:0.3")
    for _ in range(2):
        began = time.monotonic()
        response = api.get(wire.GROUP_PATH.format(group_id=gid))
        assert time.monotonic() - began >= 0.28
        assert response.json()["Name"] == "slow"
    began = time.monotonic()
    api.get(wire.GROUP_PATH.format(group_id=gid))
    assert time.monotonic() - began < 0.28


def test_route_latency_repeat_and_clear(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.faults.add(wire.GROUPS_PATH, 503, "ok", repeat=True)  # any method
    statuses = [api.get(wire.GROUPS_PATH).status_code for _ in range(4)]
    assert statuses == [503, 200, 503, 200]
    assert api.get(wire.ASSETS_PATH).status_code == 200  # other routes untouched
    sandbox_backend.faults.clear()
    assert api.get(wire.GROUPS_PATH).status_code == 200


def test_wildcard_route(api: httpx.Client, sandbox_backend: Backend) -> None:
    sandbox_backend.faults.add("*", 500)
    assert api.get(wire.ASSETS_PATH).status_code == 500
    assert api.get(wire.ASSETS_PATH).status_code == 200


@pytest.mark.parametrize("bad", ["teapot", 200, "latency:x", "latency:-1"])
def test_bad_fault_specs_are_refused(sandbox_backend: Backend, bad: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        sandbox_backend.faults.add(CREATE, bad)  # type: ignore[arg-type]


def test_admin_routes(root: httpx.Client, api: httpx.Client, sandbox_backend: Backend) -> None:
    response = root.post(
        "/sandbox/admin/faults", json={"route": CREATE, "actions": ["429", "drop_after"]}
    )
    assert response.json()["faults"][0]["route"] == CREATE
    assert api.post(wire.GROUPS_PATH, json={"Name": "a"}).status_code == 429
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(wire.GROUPS_PATH, json={"Name": "a"})
    assert root.delete("/sandbox/admin/faults").json() == {"faults": []}
    assert_envelope(
        root.post("/sandbox/admin/faults", json={"route": CREATE, "actions": ["x"]}), 400
    )
    settings = root.post("/sandbox/admin/settings", json={"processing": "manual"}).json()
    assert settings["processing"] == "manual"
    assert_envelope(root.post("/sandbox/admin/settings", json={"db_path": "/tmp/x"}), 400)
    assert_envelope(root.post("/sandbox/admin/settings", json={"processing": "slow"}), 400)
    before = sandbox_backend.now()
    assert root.post("/sandbox/admin/clock", json={"advance": 10}).json()["now"] == before + 10
    assert root.post("/sandbox/admin/step", json={"n": 2}).status_code == 200
    assert root.post("/sandbox/admin/fail-next-tasks", json={"n": 1}).status_code == 200
    assert aigc_count(api) == 1
    assert root.post("/sandbox/admin/reset").json() == {"ok": True}
    assert aigc_count(api) == 0
    assert sandbox_backend.config.processing == "instant"


async def test_admin_refuses_non_loopback_clients(sandbox_backend: Backend) -> None:
    app = create_app(sandbox_backend)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await client.post("/sandbox/admin/reset")
        assert_envelope(response, 403)
        response = await client.post("/sandbox/admin/faults", json={"route": "*", "actions": [500]})
        assert response.status_code == 403
    assert sandbox_backend.faults.describe() == []


def test_server_lifecycle() -> None:
    with SandboxServer() as server:
        assert server.running
        assert httpx.get(server.root_url + "/healthz").json() == {"ok": True}
        port = server.port
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")


async def test_admin_fail_next_tasks_uses_the_backend_defaults(sandbox_backend: Backend) -> None:
    app = create_app(sandbox_backend)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        plain = await client.post("/sandbox/admin/fail-next-tasks", json={"n": 1})
        chosen = await client.post(
            "/sandbox/admin/fail-next-tasks",
            json={"n": 1, "code": "OutputVideoSensitiveContentDetected", "message": "blocked"},
        )
    assert plain.status_code == chosen.status_code == 200
    queued = sandbox_backend._fail_next  # what the next two created tasks will fail with
    assert queued[0][0] == wire.TASK_ERROR_INTERNAL
    assert queued[0][1]  # the backend's stock message
    assert queued[1] == ("OutputVideoSensitiveContentDetected", "blocked")
