"""Durability: what ``before_submit`` returned survives SIGKILL; concurrent writers lose nothing.

The writers are real child processes that open the same ledger URL (SQLite file or the loopback
PostgreSQL database) and print each submission id once ``before_submit`` has returned.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orca_nb.ledger import open_ledger

REPO = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from orca_nb import wire
from orca_nb.ledger import open_ledger

url, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ledger = open_ledger(url)
for i in range(count):
    body = {"model": wire.SEEDANCE_2, "prompt": f"{tag} {i}", "metadata": {"content": [
        {"type": "image_url", "image_url": {"url": f"asset://asset-{tag}-{i}"},
         "role": "reference_image"}]}}
    sid = ledger.before_submit(body, submitter="key-" + tag, base_url="http://127.0.0.1:9/v1")
    print(sid, flush=True)
    if i % 2:
        ledger.after_submit(sid, {"id": f"task-{tag}-{i}", "status": "queued"})
"""


def _writer(url: str, tag: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, tag, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigkill_mid_burst_loses_no_returned_submission(ledger_url: str) -> None:
    open_ledger(ledger_url).close()  # schema exists before the child races to it
    child = _writer(ledger_url, "burst", 100_000)
    assert child.stdout is not None
    returned: list[str] = []
    deadline = time.monotonic() + 60
    while len(returned) < 40 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        returned.append(line.strip())
    child.send_signal(signal.SIGKILL)
    rest, err = child.communicate(timeout=30)
    returned += [line for line in rest.split() if line]  # printed before the kill landed
    assert child.returncode == -signal.SIGKILL, err
    assert len(returned) >= 40, err
    with open_ledger(ledger_url) as ledger:
        _, rows = ledger.database.query("SELECT id FROM submissions")
        stored = {r[0] for r in rows}
        _, items = ledger.database.query("SELECT COUNT(*) FROM submission_items")
    assert set(returned) <= stored
    assert len(stored) - len(returned) <= 1  # at most the one in flight when killed
    assert int(items[0][0]) == len(stored)  # each submission's item went in with it


def test_two_processes_writing_at_once_lose_nothing(ledger_url: str) -> None:
    open_ledger(ledger_url).close()
    children = [_writer(ledger_url, tag, 150) for tag in ("left", "right")]
    printed: set[str] = set()
    for child in children:
        out, err = child.communicate(timeout=240)
        assert child.returncode == 0, err
        printed |= set(out.split())
    assert len(printed) == 300
    with open_ledger(ledger_url) as ledger:
        assert ledger.count() == 300
        _, rows = ledger.database.query(
            "SELECT submitter, COUNT(*), COUNT(task_id) FROM submissions"
            " GROUP BY submitter ORDER BY submitter"
        )
        assert [tuple(r) for r in rows] == [("key-left", 150, 75), ("key-right", 150, 75)]
        _, ids = ledger.database.query("SELECT id FROM submissions")
        assert {r[0] for r in ids} == printed
