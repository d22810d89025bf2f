"""The ledger behind the real client and sandbox: submissions recorded, refusals kept, and tasks
of a process that ended followed to their end by a new client (re-attach)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orca_nb import wire
from orca_nb.client import Orca
from orca_nb.client.errors import PaymentRequiredError
from orca_nb.client.hooks import key_label
from orca_nb.ledger import Ledger, open_ledger, reattach, sync_snapshots
from orca_nb.sandbox import Backend, Fault, SandboxServer

REPO = Path(__file__).resolve().parents[2]

SUBMITTER = """
import sys
import pytest

from orca_nb.client import Orca
from orca_nb.client.errors import PaymentRequiredError
from orca_nb.ledger import open_ledger

base_url, key, url = sys.argv[1:4]
client = Orca(key, base_url=base_url, ledger=open_ledger(url), max_retries=0)
for n in range(3):
    task = client.videos.create(prompt=f"a lighthouse at dusk, take {n}", duration=4,
                                resolution="480p", ratio="16:9")
    print(task.id, task.status, flush=True)
"""


def test_client_records_submissions_refusals_and_snapshots(
    sandbox_server: SandboxServer, sandbox_backend: Backend, sandbox_key: str, tmp_path: Path
) -> None:
    ledger = open_ledger(tmp_path / "ledger.sqlite3")
    client = Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger, max_retries=0)
    with client, ledger:
        _record_through_client(client, ledger, sandbox_server, sandbox_backend, sandbox_key)


def _record_through_client(
    client: Orca,
    ledger: Ledger,
    sandbox_server: SandboxServer,
    sandbox_backend: Backend,
    sandbox_key: str,
) -> None:
    group = client.groups.create(name="Ada")
    sample = sandbox_server.root_url + "/sandbox/samples/ada_portrait.jpg"
    asset = client.assets.wait(
        client.assets.upload(group_id=group.id, url=sample, asset_type="Image").id
    )
    ledger.snapshot_assets([asset], [client.groups.get(group.id)])
    content = [{"type": "image_url", "image_url": {"url": f"asset://{asset.id}"},
                "role": "reference_image"}]  # fmt: skip
    task = client.videos.create(prompt="[Image 1] waves", content=content, duration=4,
                                resolution="480p")  # fmt: skip
    client.videos.wait(task.id, timeout=60)
    sandbox_backend.faults.add("POST " + wire.VIDEOS_PATH, Fault.error(402))
    with pytest.raises(PaymentRequiredError):
        client.videos.create(prompt="[Image 1] again", content=content, duration=4)
    _, rows = ledger.database.query(
        "SELECT task_id, status, submitter, total_tokens > 0, error_code FROM submissions"
        " ORDER BY submitted_at"
    )
    label = key_label(sandbox_key)
    assert [tuple(r[:4]) for r in rows] == [
        (task.id, "succeeded", label, True),
        (None, "rejected", label, None),
    ]
    assert rows[0][4] is None
    assert rows[1][4]  # the refusal's code is kept
    _, ids = ledger.database.query("SELECT id FROM submissions ORDER BY submitted_at")
    record = ledger.submission(str(ids[0][0]))
    assert record is not None
    assert record["items"][0]["group_id"] == group.id
    assert [s for s, _ in record["events"]] == ["submitting", "queued", "succeeded"]


def test_reattach_follows_tasks_of_an_ended_process(
    sandbox_server: SandboxServer, sandbox_backend: Backend, sandbox_key: str, tmp_path: Path
) -> None:
    sandbox_backend.configure(processing="manual")  # tasks wait for backend.step()
    url = f"sqlite://{tmp_path / 'ledger.sqlite3'}"
    open_ledger(url).close()
    child = subprocess.run(
        [sys.executable, "-c", SUBMITTER, sandbox_server.base_url, sandbox_key, url],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    submitted = [line.split()[0] for line in child.stdout.splitlines()]
    assert len(submitted) == 3

    # A new kernel: a new ledger object and a new client.
    with open_ledger(url) as ledger, contextlib.ExitStack() as stack:
        assert [u.task_id for u in ledger.unfinished()] == submitted
        client = Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger)
        steps: list[float] = []
        stack.enter_context(client)

        def sleep(seconds: float) -> None:
            steps.append(seconds)
            sandbox_backend.step()

        statuses = reattach(client, ledger, interval=0.5, timeout=60, sleep=sleep)
        assert statuses == dict.fromkeys(submitted, "succeeded")
        assert set(steps) == {0.5}
        assert 1 <= len(steps) <= 10  # manual processing: a few steps, not the timeout
        assert ledger.unfinished() == []
        _, rows = ledger.database.query(
            "SELECT status, finished_at IS NOT NULL, total_tokens FROM submissions"
        )
        tokens = wire.usage_tokens(*wire.OUTPUT_SIZES[("480p", "16:9")], 4)
        assert [tuple(r) for r in rows] == [("succeeded", True, tokens)] * 3


def test_reattach_without_waiting_and_with_a_forgotten_task(
    sandbox_server: SandboxServer, sandbox_backend: Backend, sandbox_key: str, tmp_path: Path
) -> None:
    sandbox_backend.configure(processing="manual")
    with (
        open_ledger(tmp_path / "ledger.sqlite3") as ledger,
        Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as client,
    ):
        task = client.videos.create(prompt="a quiet harbour", duration=4, resolution="480p")
        sid = ledger.before_submit(
            {"model": wire.SEEDANCE_2, "prompt": "elsewhere"}, submitter="key-x", base_url="u"
        )
        ledger.after_submit(sid, {"id": "task_unknown_to_server", "status": "queued"})
        mine = reattach(client, ledger, wait=False, submitter=key_label(sandbox_key))
        assert mine == {task.id: "queued"}
        assert reattach(client, ledger, wait=False, base_url="https://elsewhere/v1") == {}
        statuses = reattach(client, ledger, wait=False)
        assert statuses[task.id] == "queued"
        assert statuses["task_unknown_to_server"].startswith("error: ")
        assert {u.task_id for u in ledger.unfinished()} == {task.id, "task_unknown_to_server"}


def test_sync_snapshots_records_the_library_and_deletions(
    sandbox_server: SandboxServer, sandbox_key: str, tmp_path: Path
) -> None:
    with (
        open_ledger(tmp_path / "ledger.sqlite3") as ledger,
        Orca(sandbox_key, base_url=sandbox_server.base_url) as client,
    ):
        group = client.groups.create(name="Props")
        samples = sandbox_server.root_url + "/sandbox/samples/"
        kept = client.assets.upload(group_id=group.id, url=samples + "prop_1x1.png",
                                    asset_type="Image", name="prop").id  # fmt: skip
        gone = client.assets.upload(group_id=group.id, url=samples + "tiny_200.png",
                                    asset_type="Image", name="tiny").id  # fmt: skip
        first = sync_snapshots(client, ledger)
        assert (first.assets, first.deleted) == (2, 0)
        client.assets.delete(gone)
        second = sync_snapshots(client, ledger)
        assert (second.assets, second.deleted) == (1, 1)
        _, rows = ledger.database.query(
            "SELECT asset_id, name, status, deleted_at IS NOT NULL FROM assets ORDER BY name"
        )
        assert [tuple(r) for r in rows] == [(kept, "prop", "Active", False),
                                            (gone, "tiny", "Failed", True)]  # fmt: skip
        _, groups = ledger.database.query("SELECT name, group_type FROM asset_groups")
        assert [tuple(r) for r in groups] == [("Props", "AIGC")]
