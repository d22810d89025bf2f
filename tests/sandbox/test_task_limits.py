"""Per-account task limits: a cap on running tasks (queue, or refuse with 429), submits per
rolling minute (429 + Retry-After, the documented body, nothing made or charged), settable
render time, and the record of the most tasks that ran at once."""

from __future__ import annotations

import argparse
from typing import Any

import httpx
import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, SandboxConfig
from orca_nb.sandbox.accounts import account_id
from orca_nb.sandbox.config import env_name, from_env
from tests.sandbox.conftest import OTHER_KEY

BODY: dict[str, Any] = {
    "model": wire.SEEDANCE_2,
    "prompt": "a lighthouse in a storm",
    "metadata": {"content": [], "resolution": "480p", "duration": 4, "ratio": "1:1"},
}
KEY = "sk-orca-sandbox-test"


def create(api: httpx.Client, seed: int = 1) -> httpx.Response:
    body = {**BODY, "metadata": {**BODY["metadata"], "seed": seed}}
    return api.post(wire.VIDEOS_PATH, json=body)


def created(api: httpx.Client, seed: int = 1) -> str:
    response = create(api, seed)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def statuses(backend: Backend, account: str) -> list[tuple[str, str]]:
    """(id, status) of the account's tasks, oldest first, as a read now sees them."""
    backend.running_stats()  # progresses the tasks
    with backend.db.tx() as db:
        rows = db.execute(
            "SELECT id, status FROM tasks WHERE account = ? ORDER BY created, seq", (account,)
        ).fetchall()
    return [(str(r["id"]), str(r["status"])) for r in rows]


def times(backend: Backend, task_id: str) -> tuple[float, float | None, float | None]:
    with backend.db.tx() as db:
        row = db.execute(
            "SELECT created, started, finished FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
    return row["created"], row["started"], row["finished"]


def advance(backend: Backend, seconds: float) -> None:
    backend.clock.advance(seconds)  # type: ignore[attr-defined]


def timed(backend: Backend, **more: Any) -> None:
    settings: dict[str, Any] = {"task_queue_seconds": 0.0, "task_seconds": 10.0, **more}
    backend.configure(processing="timed", render_once=True, **settings)


def test_tasks_over_the_running_cap_stay_queued_and_start_as_slots_free(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    timed(sandbox_backend, max_running_tasks=2)
    ids = [created(api, seed) for seed in range(5)]  # all accepted
    sandbox_backend.wait_for_renders()
    account = account_id(KEY)
    advance(sandbox_backend, 1)
    assert [s for _, s in statuses(sandbox_backend, account)] == ["running"] * 2 + ["queued"] * 3
    queued = api.get(wire.VIDEO_PATH.format(task_id=ids[2])).json()
    assert queued["data"]["status"] == "QUEUED"  # what a poller sees: still queued
    advance(sandbox_backend, 10)  # the first two end at 10 s; the next two start then
    assert [s for _, s in statuses(sandbox_backend, account)] == [
        "succeeded", "succeeded", "running", "running", "queued",
    ]  # fmt: skip
    advance(sandbox_backend, 30)  # read late: the timeline is still the true one
    assert [s for _, s in statuses(sandbox_backend, account)] == ["succeeded"] * 5
    start0 = times(sandbox_backend, ids[0])[0]
    spans = [times(sandbox_backend, t)[1:] for t in ids]
    assert [(b - start0, e - start0) for b, e in spans] == [  # type: ignore[operator]
        (0, 10), (0, 10), (10, 20), (10, 20), (20, 30),
    ]  # fmt: skip
    stats = sandbox_backend.running_stats(account)[account]
    assert (stats["max_running"], stats["running"], stats["queued"]) == (2, 0, 0)


def test_the_cap_is_per_account_and_first_come_first_served(
    api: httpx.Client, other_api: httpx.Client, sandbox_backend: Backend
) -> None:
    timed(sandbox_backend, max_running_tasks=1, task_queue_seconds=2.0)
    first = created(api, 1)
    advance(sandbox_backend, 1)
    second = created(api, 2)  # eligible at 3 s, waits for the first's slot (until 12 s)
    theirs = created(other_api, 3)  # another account: its own slot
    sandbox_backend.wait_for_renders()
    advance(sandbox_backend, 3)
    mine, other = account_id(KEY), account_id(OTHER_KEY)
    assert statuses(sandbox_backend, mine) == [(first, "running"), (second, "queued")]
    assert statuses(sandbox_backend, other) == [(theirs, "running")]
    advance(sandbox_backend, 20)
    assert times(sandbox_backend, second)[1] == times(sandbox_backend, first)[2]  # its slot
    stats = sandbox_backend.running_stats()
    assert stats[mine]["max_running"] == 1
    assert stats[other]["max_running"] == 1


def test_lowering_the_cap_keeps_running_tasks_and_holds_new_ones(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    timed(sandbox_backend)
    ids = [created(api, seed) for seed in range(3)]
    sandbox_backend.wait_for_renders()
    advance(sandbox_backend, 1)
    assert len(sandbox_backend.running_stats()) == 1  # a read: the three run
    sandbox_backend.configure(max_running_tasks=1)
    fourth = created(api, 4)
    sandbox_backend.wait_for_renders()
    advance(sandbox_backend, 1)
    account = account_id(KEY)
    assert statuses(sandbox_backend, account) == [
        *[(t, "running") for t in ids], (fourth, "queued"),
    ]  # fmt: skip
    assert sandbox_backend.running_stats(account)[account]["max_running"] == 3  # true, not cap
    advance(sandbox_backend, 9)
    assert statuses(sandbox_backend, account)[-1] == (fourth, "running")


def test_manual_steps_only_advance_tasks_within_the_cap(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(processing="manual", task_steps=2, max_running_tasks=2)
    ids = [created(api, seed) for seed in range(3)]
    account = account_id(KEY)
    sandbox_backend.step()
    assert [s for _, s in statuses(sandbox_backend, account)] == ["running", "running", "queued"]
    sandbox_backend.step()  # the first two end
    assert [s for _, s in statuses(sandbox_backend, account)] == [
        "succeeded", "succeeded", "queued",
    ]  # fmt: skip
    sandbox_backend.step(2)
    assert statuses(sandbox_backend, account)[-1] == (ids[2], "succeeded")


def test_instant_processing_under_a_cap_still_settles_at_the_first_look(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(max_running_tasks=1, render_once=True)
    for seed in range(3):
        created(api, seed)
    account = account_id(KEY)
    assert [s for _, s in statuses(sandbox_backend, account)] == ["succeeded"] * 3


def balance_cents(api: httpx.Client) -> Any:
    return api.get(wire.BILLING_USAGE_PATH).json()


def test_submits_per_minute_answer_429_with_retry_after_and_make_nothing(
    api: httpx.Client, other_api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(submits_per_minute=2, render_once=True)
    account = account_id(KEY)
    created(api, 1)
    advance(sandbox_backend, 20.5)
    created(api, 2)
    spent = balance_cents(api)
    with sandbox_backend.db.tx() as db:
        held_before = db.spent_tokens(account)
    refused = create(api, 3)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"  # the first create leaves the window at 60 s
    assert refused.json() == {
        "error": {
            "message": "Rate limit exceeded. Try again in 40 seconds.",
            "type": "rate_limit_error",
            "code": "rate_limit_exceeded",
        }
    }
    bad = api.post(wire.VIDEOS_PATH, json={"model": wire.SEEDANCE_2})  # refused before reading
    assert bad.status_code == 429
    assert len(statuses(sandbox_backend, account)) == 2  # nothing made
    assert balance_cents(api) == spent  # nothing charged or held
    with sandbox_backend.db.tx() as db:
        assert db.spent_tokens(account) == held_before
    assert create(other_api, 4).status_code == 200  # per account
    advance(sandbox_backend, 39)
    assert create(api, 5).status_code == 429
    assert create(api, 5).headers["Retry-After"] == "1"
    advance(sandbox_backend, 1)  # the window rolled past the first create
    assert create(api, 5).status_code == 200
    again = create(api, 6)  # the second create (at 20.5 s) is still in the window
    assert (again.status_code, again.headers["Retry-After"]) == (429, "20")
    advance(sandbox_backend, 20)
    assert create(api, 6).status_code == 200
    assert len(statuses(sandbox_backend, account)) == 4


def test_the_openai_alias_counts_against_the_same_limit(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(submits_per_minute=1, render_once=True)
    created(api, 1)
    refused = api.post(wire.OPENAI_VIDEOS_PATH, json=BODY)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 60


def test_refusing_over_the_running_cap_instead_of_queueing(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    timed(sandbox_backend, max_running_tasks=2, refuse_over_running_cap=True)
    created(api, 1)
    advance(sandbox_backend, 3)
    created(api, 2)
    sandbox_backend.wait_for_renders()
    refused = create(api, 3)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "7"  # the first running task ends in 7 s
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    account = account_id(KEY)
    assert len(statuses(sandbox_backend, account)) == 2
    advance(sandbox_backend, 7)
    assert create(api, 3).status_code == 200
    assert sandbox_backend.running_stats(account)[account]["max_running"] == 2


def test_limits_and_render_time_through_the_admin_settings(
    root: httpx.Client, api: httpx.Client, sandbox_backend: Backend
) -> None:
    changes = {
        "max_running_tasks": 3, "submits_per_minute": 100, "refuse_over_running_cap": True,
        "task_seconds": 5.0, "task_queue_seconds": 0.5, "render_once": True,
    }  # fmt: skip
    response = root.post("/sandbox/admin/settings", json=changes)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in changes} == changes
    assert sandbox_backend.config.max_running_tasks == 3
    cleared = root.post(
        "/sandbox/admin/settings", json={"max_running_tasks": None, "submits_per_minute": None}
    ).json()
    assert (cleared["max_running_tasks"], cleared["submits_per_minute"]) == (None, None)
    for name, value in [("max_running_tasks", 0), ("submits_per_minute", -1), ("task_seconds", -1)]:
        bad = root.post("/sandbox/admin/settings", json={name: value})
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == name
    assert sandbox_backend.config.task_seconds == 5.0  # the refused change changed nothing
    sandbox_backend.reset()
    assert sandbox_backend.config.max_running_tasks is None  # defaults: no limits
    assert sandbox_backend.config.submits_per_minute is None


def test_the_running_record_through_the_admin_route(
    root: httpx.Client, api: httpx.Client, sandbox_backend: Backend
) -> None:
    timed(sandbox_backend, max_running_tasks=3)
    for seed in range(4):
        created(api, seed)
    sandbox_backend.wait_for_renders()
    advance(sandbox_backend, 1)
    mine = root.get("/sandbox/admin/running", params={"api_key": KEY}).json()
    assert {k: mine[k] for k in ("running", "queued", "max_running")} == {
        "running": 3, "queued": 1, "max_running": 3,
    }  # fmt: skip
    every = root.get("/sandbox/admin/running").json()["accounts"]
    assert every[account_id(KEY)]["max_running"] == 3
    nobody = root.get("/sandbox/admin/running", params={"api_key": OTHER_KEY}).json()
    assert (nobody["running"], nobody["max_running"]) == (0, 0)
    advance(sandbox_backend, 8)
    since = root.delete("/sandbox/admin/running").json()["since"]
    assert since == sandbox_backend.now()
    advance(sandbox_backend, 2)  # three end at 10 s, the fourth runs alone
    after = root.get("/sandbox/admin/running", params={"api_key": KEY}).json()
    assert (after["running"], after["max_running"]) == (1, 3)  # the three ran after the mark
    advance(sandbox_backend, 20)
    root.delete("/sandbox/admin/running")
    assert root.get("/sandbox/admin/running", params={"api_key": KEY}).json()["max_running"] == 0


def test_render_once_shares_one_mp4_per_text_only_shape(
    api: httpx.Client, sandbox_backend: Backend
) -> None:
    sandbox_backend.configure(render_once=True)
    a, b = created(api, 1), created(api, 2)
    other = api.post(
        wire.VIDEOS_PATH, json={**BODY, "metadata": {**BODY["metadata"], "duration": 5}}
    ).json()["id"]
    sandbox_backend.wait_for_renders()
    with sandbox_backend.db.tx() as db:
        blobs = {t: db.task(t)["blob_id"] for t in (a, b, other)}  # type: ignore[index]
    assert blobs[a] == blobs[b] != blobs[other]
    video = api.get(wire.VIDEO_PATH.format(task_id=b)).json()["data"]["result_url"]
    assert httpx.get(video, timeout=30).content[4:8] == b"ftyp"


def test_settings_from_the_environment_and_the_command_line() -> None:
    from orca_nb.sandbox.cli import add_parser, config_from_args

    env = {
        env_name("max_running_tasks"): "4", env_name("submits_per_minute"): "120",
        env_name("task_seconds"): "2.5", env_name("render_once"): "yes",
        env_name("refuse_over_running_cap"): "0",
    }  # fmt: skip
    config = from_env(SandboxConfig(), env)
    assert (config.max_running_tasks, config.submits_per_minute) == (4, 120)
    assert (config.task_seconds, config.render_once, config.refuse_over_running_cap) == (
        2.5, True, False,
    )  # fmt: skip
    assert from_env(config, {env_name("max_running_tasks"): "none"}).max_running_tasks is None
    with pytest.raises(ValueError, match="ORCA_NB_SANDBOX_MAX_RUNNING_TASKS='0'"):
        from_env(SandboxConfig(), {env_name("max_running_tasks"): "0"})
    with pytest.raises(ValueError, match="ORCA_NB_SANDBOX_RENDER_ONCE"):
        from_env(SandboxConfig(), {env_name("render_once"): "maybe"})
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["sandbox", "--db", ":memory:", "--max-running-tasks", "5", "--submits-per-minute", "60",
         "--task-queue-seconds", "0", "--task-seconds", "3", "--render-once"]
    )  # fmt: skip
    config = config_from_args(args)
    assert (config.max_running_tasks, config.submits_per_minute) == (5, 60)
    assert (config.task_queue_seconds, config.task_seconds, config.render_once) == (0, 3, True)
    assert config_from_args(parser.parse_args(["sandbox"])).max_running_tasks is None


def test_a_caller_killed_mid_request_makes_nothing_and_logs_no_error(
    sandbox_server: Any, sandbox_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    # bench_sweep kills workers mid-send: the sandbox logged a ClientDisconnect traceback.
    import logging
    import socket
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(sandbox_server.base_url)
    head = (
        f"POST {parts.path}{wire.VIDEOS_PATH} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
        "Content-Length: 5000\r\n\r\n"
    )
    with caplog.at_level(logging.ERROR):
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(head.encode() + b'{"model": "')  # then the caller dies
        time.sleep(0.5)
    assert statuses(sandbox_backend, account_id(KEY)) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_embedded_sandbox_reads_the_limits_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orca_nb.sandbox import embedded

    monkeypatch.setattr(embedded, "_embedded", None)
    monkeypatch.setenv(embedded.DB_ENV, ":memory:")
    monkeypatch.setenv(env_name("max_running_tasks"), "3")
    monkeypatch.setenv(env_name("submits_per_minute"), "30")
    monkeypatch.setenv(env_name("task_seconds"), "20")
    started = embedded.ensure_embedded()
    try:
        config = started.server.backend.config
        assert (config.max_running_tasks, config.submits_per_minute) == (3, 30)
        assert config.task_seconds == 20.0
    finally:
        embedded.shutdown_embedded()
    monkeypatch.setenv(env_name("submits_per_minute"), "lots")
    with pytest.raises(ValueError, match="ORCA_NB_SANDBOX_SUBMITS_PER_MINUTE='lots'"):
        embedded.ensure_embedded()
