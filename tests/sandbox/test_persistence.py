"""State survives restarts (file database) and a killed server leaves no half-written state."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from orca_nb import wire
from orca_nb.sandbox import Backend, ManualClock, SandboxConfig, SandboxServer
from tests.sandbox.conftest import client_for
from tests.sandbox.helpers import get_asset, make_group, sample_url, upload

KEY = "sk-orca-sandbox-restart"
REPO = Path(__file__).resolve().parents[2]


def config(db: Path, **changes: object) -> SandboxConfig:
    base = SandboxConfig(
        db_path=str(db), processing="instant", clock=ManualClock(), task_shape="ark"
    )  # these tests read the raw Ark task object
    return base.updated(**changes)


def test_restart_keeps_everything(tmp_path: Path) -> None:
    db = tmp_path / "state" / "sandbox.sqlite3"
    with SandboxServer(config(db)) as server, client_for(server, KEY) as api:
        gid = make_group(api, "kept")
        aid = upload(api, gid, sample_url(server, "prop_1x1.png"), "Image", "mug")
        started = api.post(wire.SESSIONS_PATH, json={}).json()
        httpx.post(started["h5_link"], data={"consent": "yes", "choice": "ada"})
        body = {
            "model": wire.SEEDANCE_2,
            "prompt": "[Image 1] on a table",
            "metadata": {
                "content": [{"type": "image_url", "image_url": {"url": f"asset://{aid}"}}],
                "resolution": "480p",
                "duration": 4,
            },
        }
        tid = api.post(wire.VIDEOS_PATH, json=body).json()["id"]
        before = {
            "groups": api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json(),
            "real": api.get(wire.GROUPS_PATH).json(),
            "asset": get_asset(api, aid),
            "session": api.get(wire.SESSION_PATH.format(session_id=started["session_id"])).json(),
            "task": api.get(wire.VIDEO_PATH.format(task_id=tid)).json(),
        }
        old_url = before["asset"]["URL"]
    assert before["task"]["status"] == "succeeded"
    with SandboxServer(config(db)) as server, client_for(server, KEY) as api:
        assert api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json() == before["groups"]
        assert api.get(wire.GROUPS_PATH).json() == before["real"]
        after = get_asset(api, aid)
        assert {k: v for k, v in after.items() if k != "URL"} == {
            k: v for k, v in before["asset"].items() if k != "URL"
        }
        session = api.get(wire.SESSION_PATH.format(session_id=started["session_id"])).json()
        assert session["status"] == "success"
        assert session["group_id"] == before["session"]["group_id"]
        task = api.get(wire.VIDEO_PATH.format(task_id=tid)).json()
        assert task["status"] == "succeeded"
        assert httpx.get(task["content"]["video_url"]).status_code == 200
        # links signed before the restart still work on a new port's path (same secret)
        path_and_query = old_url.split("/sandbox/", 1)[1]
        assert httpx.get(f"{server.root_url}/sandbox/{path_and_query}").status_code == 200


def test_an_interrupted_render_resumes_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    backend = Backend(config(db, processing="manual"))
    try:
        with SandboxServer(backend) as server, client_for(server, KEY) as api:
            body = {
                "model": wire.SEEDANCE_2,
                "prompt": "waves",
                "metadata": {"resolution": "480p", "duration": 4},
            }
            tid = api.post(wire.VIDEOS_PATH, json=body).json()["id"]
            backend.wait_for_renders()
    finally:
        backend.close()
    with sqlite3.connect(db) as raw:  # as if the process died mid-render
        raw.execute("UPDATE tasks SET render_state='pending', blob_id=NULL WHERE id=?", (tid,))
    backend = Backend(config(db, processing="manual", task_steps=1))
    try:
        backend.step()
        with SandboxServer(backend) as server, client_for(server, KEY) as api:
            task = api.get(wire.VIDEO_PATH.format(task_id=tid)).json()
            assert task["status"] == "succeeded"
            assert httpx.get(task["content"]["video_url"]).status_code == 200
    finally:
        backend.close()


def test_killed_server_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "orca_nb.sandbox.cli", "--port", "0", "--db", str(db)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[str] = []
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "serving http://127.0.0.1:" in line, line + (
            process.stderr.read() if process.stderr else ""
        )
        base_url = line.split("serving ", 1)[1].split(" ", 1)[0]
        stop = threading.Event()

        def burst() -> None:
            with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}) as api:
                for i in range(400):
                    if stop.is_set():
                        return
                    try:
                        response = api.post(wire.GROUPS_PATH, json={"Name": f"g{i}"})
                    except httpx.HTTPError:
                        return
                    acknowledged.append(response.json()["Id"])

        worker = threading.Thread(target=burst)
        worker.start()
        while len(acknowledged) < 20 and worker.is_alive():
            threading.Event().wait(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        stop.set()
        worker.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert len(acknowledged) >= 20
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    backend = Backend(SandboxConfig(db_path=str(db)))
    try:
        with SandboxServer(backend) as server, client_for(server, KEY) as api:
            listed = api.get(
                wire.GROUPS_PATH, params={"group_type": "aigc", "page_size": 100}
            ).json()
            stored = {g["Id"] for g in listed["Items"]}
            total = listed["TotalCount"]
            pages = -(-total // 100)
            for page in range(2, pages + 1):
                more = api.get(
                    wire.GROUPS_PATH,
                    params={"group_type": "aigc", "page_size": 100, "page_number": page},
                ).json()
                stored |= {g["Id"] for g in more["Items"]}
        assert set(acknowledged) <= stored
        assert total in (len(acknowledged), len(acknowledged) + 1)  # one may be unacknowledged
    finally:
        backend.close()


def test_demo_seed_happens_once_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    counts = []
    for _ in range(2):
        with (
            SandboxServer(config(db)) as server,
            client_for(server, wire.DEFAULT_SANDBOX_KEY) as api,
        ):
            counts.append(
                (
                    api.get(wire.GROUPS_PATH).json()["TotalCount"],
                    api.get(wire.GROUPS_PATH, params={"group_type": "aigc"}).json()["TotalCount"],
                )
            )
    assert counts == [(1, 2), (1, 2)]
