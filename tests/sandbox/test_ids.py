"""Sandbox identifiers are unguessable and unique: drawn from ``secrets`` (not the seeded random
source), and never colliding when several processes create objects in one database at once."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.sandbox import Backend, ManualClock, SandboxConfig, ids

ROOT = "http://127.0.0.1:9"  # never contacted: sample URLs are read in-process
SAMPLE = f"{ROOT}/sandbox/samples/prop_1x1.png"
GROUP_ID = re.compile(r"group-\d{14}-[a-z0-9]{5}")
ASSET_ID = re.compile(r"asset-\d{14}-[a-z0-9]{5}")
SESSION_ID = re.compile(rf"[A-Za-z0-9]{{{wire.SESSION_ID_CHARS}}}")
TASK_ID = re.compile(r"task_[A-Za-z0-9]{32}")
VIDEO = {"model": wire.SEEDANCE_2, "prompt": "a lake", "metadata": {"duration": 4}}


def _backend(db_path: str | None = None) -> Backend:
    # the same seed and the same frozen clock everywhere: only the id source can tell them apart
    config = SandboxConfig(
        db_path=db_path, processing="manual", clock=ManualClock(), seed=0, seed_demo=False
    )
    return Backend(config)


def _create(backend: Backend, account: str, n: int, label: str) -> dict[str, list[str]]:
    """``n`` groups, assets, sessions and tasks (the tasks fail at once: nothing renders)."""
    made: dict[str, list[str]] = {"groups": [], "assets": [], "sessions": [], "tasks": []}
    for i in range(n):
        made["sessions"].append(backend.start_session(account, None, ROOT)["session_id"])
        backend.fail_next_tasks(1)
        made["tasks"].append(backend.create_task(account, VIDEO)["id"])
        group = backend.create_group(account, {"Name": f"{label}{i}"})["Id"]
        made["groups"].append(group)
        body = {"GroupId": group, "URL": SAMPLE, "AssetType": "Image"}
        made["assets"].append(backend.upload_asset(account, body)["Id"])
    return made


def test_fresh_backends_with_one_seed_draw_different_ids() -> None:
    first, second = _backend(), _backend()
    try:
        made = [
            _create(b, b.account_for_key("sk-orca-sandbox-ids"), 3, "x") for b in (first, second)
        ]
        for kind in ("groups", "assets", "sessions", "tasks"):
            assert not set(made[0][kind]) & set(made[1][kind]), kind
        for one in made:
            assert all(GROUP_ID.fullmatch(g) for g in one["groups"]), one["groups"]
            assert all(ASSET_ID.fullmatch(a) for a in one["assets"]), one["assets"]
            assert all(SESSION_ID.fullmatch(s) for s in one["sessions"]), one["sessions"]
            assert all(TASK_ID.fullmatch(t) for t in one["tasks"]), one["tasks"]
        blobs = []
        for backend in (first, second):
            backend.step()  # settles the uploads: their files are stored
            with backend.db.tx() as db:
                blobs.append({r["id"] for r in db.execute("SELECT id FROM blobs")})
        assert blobs[0]
        assert blobs[1]
        assert not blobs[0] & blobs[1]
    finally:
        first.close()
        second.close()


def test_ids_do_not_come_from_the_seeded_random_source(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an id was drawn from the seeded random source")

    monkeypatch.setattr(random.Random, "choice", refuse)
    monkeypatch.setattr(random.Random, "choices", refuse)
    monkeypatch.setattr(random.Random, "getrandbits", refuse)
    assert GROUP_ID.fullmatch(ids.resource_id("group", 1_773_804_812.0))
    assert re.fullmatch(r"[A-Za-z0-9]{40}", ids.token(40))


# ---------------------------------------------------------------------- two processes
def _worker(
    db_path: str,
    key: str,
    n: int,
    alphabet: str | None,
    start: Any,
    results: Any,
) -> None:
    """A child process: open the shared database, wait for the start, create ``n`` of each."""
    if alphabet is not None:  # a tiny suffix alphabet makes the processes' ids clash often
        ids._LOWER_ALNUM = alphabet
    backend = None
    try:
        start.wait(60)
        backend = _backend(db_path)
        made = _create(backend, backend.account_for_key(key), n, key[-1])
        backend.step()  # settle the uploads (their blobs are stored)
        results.put({"key": key, "made": made, "secret": backend.db.meta("secret")})
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put({"key": key, "error": f"{type(exc).__name__}: {exc}"})
    finally:
        if backend is not None:
            backend.close()


def _run_two(db_path: str, n: int, alphabet: str | None) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")  # no fork of a process running threads
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(target=_worker, args=(db_path, key, n, alphabet, start, results))
        for key in ("sk-orca-sandbox-proc-a", "sk-orca-sandbox-proc-b")
    ]
    for process in processes:
        process.start()
    start.set()
    outcomes = [results.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    for outcome in outcomes:
        assert "error" not in outcome, outcome
    return outcomes


def _all_ids(db_path: str) -> dict[str, list[str]]:
    with sqlite3.connect(db_path) as db:
        return {
            table: [r[0] for r in db.execute(f"SELECT id FROM {table}")]
            for table in ("groups", "assets", "sessions", "tasks", "blobs")
        }


def test_two_processes_on_one_fresh_database_never_collide(tmp_path: Path) -> None:
    db_path = str(tmp_path / "shared.sqlite3")  # created by whichever process comes first
    n = 25
    outcomes = _run_two(db_path, n, alphabet=None)
    assert outcomes[0]["secret"] == outcomes[1]["secret"]  # one signing secret for both
    stored = _all_ids(db_path)
    for kind in ("groups", "assets", "sessions", "tasks"):
        created = outcomes[0]["made"][kind] + outcomes[1]["made"][kind]
        assert len(created) == 2 * n
        assert len(set(created)) == 2 * n, f"{kind}: ids repeated across processes"
        assert sorted(stored[kind]) == sorted(created)
    assert len(set(stored["blobs"])) == len(stored["blobs"]) == 2 * n


def test_resource_ids_stay_unique_when_the_processes_draw_the_same_suffixes(
    tmp_path: Path,
) -> None:
    """With 3 letters for the 5-character suffix (243 ids per second of the frozen clock) the
    two processes draw taken ids all the time; the draw-and-insert in one write transaction
    still gives every group and asset its own id and no request fails."""
    db_path = str(tmp_path / "tiny.sqlite3")
    _backend(db_path).close()
    n = 30
    outcomes = _run_two(db_path, n, alphabet="abc")
    stored = _all_ids(db_path)
    for kind in ("groups", "assets"):
        created = outcomes[0]["made"][kind] + outcomes[1]["made"][kind]
        assert len(set(created)) == len(stored[kind]) == 2 * n, kind
        assert all(set(i.rsplit("-", 1)[1]) <= set("abc") for i in created)
