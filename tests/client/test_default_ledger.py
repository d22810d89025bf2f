"""The default usage ledger: every video submission recorded before it is sent unless turned off,
and assets/groups the client reads snapshotted; both clients, against the real sandbox."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from orca_nb.client import AsyncOrca, Orca
from orca_nb.client.default_ledger import DefaultLedger
from orca_nb.ledger import LEDGER_ENV, Ledger, open_ledger
from orca_nb.sandbox import Fault, SandboxServer
from tests.client.conftest import Sleeps, collect, run

Client = Orca | AsyncOrca
CREATE = "POST /video/generations"
LATENCY_S = 0.6
REPO = Path(__file__).resolve().parents[2]


def make(flavour: str, server: SandboxServer, key: str, sleeps: Sleeps, **kw: Any) -> Client:
    if flavour == "sync":
        return Orca(key, base_url=server.base_url, sleep=sleeps.sync, max_retries=0, **kw)
    return AsyncOrca(key, base_url=server.base_url, sleep=sleeps.async_, max_retries=0, **kw)


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's own default ledger (a fresh temp SQLite file)."""
    url = f"sqlite://{tmp_path / 'default-ledger.sqlite3'}"
    monkeypatch.setenv(LEDGER_ENV, url)
    return url


@pytest.fixture
async def client(
    flavour: str, sandbox_server: SandboxServer, sandbox_key: str, sleeps: Sleeps, ledger_url: str
) -> AsyncIterator[Client]:
    """A client given no ``ledger=`` (so the default one, at ``ledger_url``)."""
    c = make(flavour, sandbox_server, sandbox_key, sleeps)
    yield c
    await run(c.close())


def opened(url: str) -> bool:
    """Whether the ledger file exists (the default ledger creates it when first opened)."""
    return Path(url.removeprefix("sqlite://")).exists()


def statuses(url: str) -> list[str]:
    """Submission statuses, read through a connection of our own (as another process would)."""
    with open_ledger(url) as reader:
        _, rows = reader.database.query("SELECT status FROM submissions ORDER BY submitted_at")
    return [str(r[0]) for r in rows]


async def test_submission_is_recorded_before_the_response(
    client: Client, sandbox_server: SandboxServer, ledger_url: str
) -> None:
    sandbox_server.backend.faults.add(CREATE, Fault.ok(), latency=LATENCY_S)
    seen_in_flight: list[list[str]] = []
    returned = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 10
        while not returned.is_set() and time.monotonic() < deadline:
            if opened(ledger_url):
                found = statuses(ledger_url)
                if found and not returned.is_set():
                    seen_in_flight.append(found)
                    return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        started = time.monotonic()
        task = await run(client.videos.create(prompt="a lighthouse at dusk", duration=4))
        elapsed = time.monotonic() - started
    finally:
        returned.set()
        watcher.join(timeout=15)
    assert elapsed >= LATENCY_S  # the response really was held back
    assert seen_in_flight == [["submitting"]]  # written before the reply arrived
    ledger = client.ledger
    assert isinstance(ledger, Ledger)
    assert ledger.url == ledger_url
    _, rows = ledger.database.query("SELECT task_id, prompt, submitter FROM submissions")
    assert rows == [(task.id, "a lighthouse at dusk", client.key_label)]
    assert statuses(ledger_url) != ["submitting"]  # updated once the task was created


async def test_reads_snapshot_assets_and_groups(
    client: Client, sandbox_server: SandboxServer, ledger_url: str
) -> None:
    group = await run(client.groups.create(name="Ada"))
    sample = f"{sandbox_server.root_url}/sandbox/samples/ada_portrait.jpg"
    created = await run(
        client.assets.upload(group_id=group.id, url=sample, asset_type="Image", name="ada")
    )
    assert not opened(ledger_url)  # nothing opened yet
    page = await run(client.assets.list(group_id=group.id))
    assert [a.id for a in page.items] == [created.id]
    groups = await collect(client.groups.iter(group_type="aigc"))
    assert group.id in {g.id for g in groups}
    ledger = client.ledger
    assert isinstance(ledger, Ledger)
    _, assets = ledger.database.query("SELECT asset_id, name, asset_type, group_id FROM assets")
    assert assets == [(created.id, "ada", "Image", group.id)]
    _, names = ledger.database.query(
        "SELECT name FROM asset_groups WHERE group_id = ?", (group.id,)
    )
    assert names == [("Ada",)]
    # Gone from the server, still named in the ledger.
    await run(client.assets.delete(created.id))
    _, kept = ledger.database.query("SELECT name FROM assets WHERE asset_id = ?", (created.id,))
    assert kept == [("ada",)]


class SnapshotSpy:
    """A ledger that counts snapshot writes and what they held."""

    def __init__(self) -> None:
        self.writes: list[tuple[list[str], list[str]]] = []

    def before_submit(self, body: Mapping[str, Any], *, submitter: str, base_url: str) -> str:
        return "sub-1"

    def after_submit(self, submission_id: str, task: Mapping[str, Any]) -> None:
        pass

    def submit_failed(self, submission_id: str, *, code: str | None, message: str) -> None:
        pass

    def on_task(self, task: Mapping[str, Any]) -> None:
        pass

    def snapshot_assets(self, assets: Iterable[Any] = (), groups: Iterable[Any] = ()) -> int:
        self.writes.append(([a.id for a in assets], [g.id for g in groups]))
        return len(self.writes)


async def test_one_snapshot_write_per_page_and_per_settled_wait(
    flavour: str, sandbox_server: SandboxServer, sandbox_key: str, sleeps: Sleeps
) -> None:
    spy = SnapshotSpy()
    client = make(flavour, sandbox_server, sandbox_key, sleeps, ledger=spy)
    try:
        gid = (await run(client.groups.create(name="lib"))).id
        sample = f"{sandbox_server.root_url}/sandbox/samples/theme.wav"
        ids = [
            (await run(client.assets.upload(group_id=gid, url=sample, asset_type="Audio"))).id
            for _ in range(3)
        ]
        spy.writes.clear()
        every = await collect(client.assets.iter(group_id=gid, page_size=2))
        assert len(every) == 3
        assert [len(a) for a, _ in spy.writes] == [2, 1]  # one write per page
        spy.writes.clear()
        waited = await run(client.assets.wait(ids[0]))
        assert spy.writes == [([waited.id], [])]
        spy.writes.clear()
        await run(client.assets.wait_many(ids))
        assert [sorted(a) for a, _ in spy.writes] == [sorted(ids)]
        spy.writes.clear()
        await run(client.groups.get(gid))
        await run(client.assets.get(ids[1]))
        assert spy.writes == [([], [gid]), ([ids[1]], [])]
    finally:
        await run(client.close())


async def test_ledger_none_records_nothing(
    flavour: str, sandbox_server: SandboxServer, sandbox_key: str, sleeps: Sleeps, ledger_url: str
) -> None:
    client = make(flavour, sandbox_server, sandbox_key, sleeps, ledger=None)
    try:
        await run(client.videos.create(prompt="a quiet harbour", duration=4))
        await collect(client.assets.iter())
        assert client.ledger is None
    finally:
        await run(client.close())
    assert not opened(ledger_url)


async def test_env_off_records_nothing(
    flavour: str,
    sandbox_server: SandboxServer,
    sandbox_key: str,
    sleeps: Sleeps,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LEDGER_ENV, "off")
    monkeypatch.chdir(tmp_path)
    client = make(flavour, sandbox_server, sandbox_key, sleeps)
    try:
        task = await run(client.videos.create(prompt="a quiet harbour", duration=4))
        await run(client.videos.get(task.id))
        await collect(client.groups.iter(group_type="aigc"))
        assert client.ledger is None
    finally:
        await run(client.close())
    assert not opened(str(tmp_path / "off"))  # no ledger file named "off" either
    with pytest.raises(ValueError, match="off"):
        open_ledger()


async def test_unopenable_ledger_warns_once_and_submission_succeeds(
    flavour: str,
    sandbox_server: SandboxServer,
    sandbox_key: str,
    sleeps: Sleeps,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(LEDGER_ENV, str(blocker / "ledger.sqlite3"))
    caplog.set_level(logging.WARNING, logger="orca_nb.client")
    client = make(flavour, sandbox_server, sandbox_key, sleeps)
    try:
        first = await run(client.videos.create(prompt="a quiet harbour", duration=4))
        second = await run(client.videos.create(prompt="a busy harbour", duration=4))
        assert first.id != second.id
        assert (await run(client.videos.get(first.id))).id == first.id
        assert client.ledger is None
    finally:
        await run(client.close())
    warnings = [r.getMessage() for r in caplog.records if "usage ledger" in r.getMessage()]
    assert len(warnings) == 1
    assert str(blocker) in warnings[0]
    assert "NOT being recorded" in warnings[0]
    assert LEDGER_ENV in warnings[0]


def test_default_ledger_is_lazy_and_shared_by_with_options(
    sandbox_server: SandboxServer, sandbox_key: str, ledger_url: str
) -> None:
    with Orca(sandbox_key, base_url=sandbox_server.base_url) as client:
        assert "not opened yet" in repr(client._config.ledger)
        assert not opened(ledger_url)
        other = client.with_options(max_retries=0)
        other.videos.create(prompt="a lighthouse", duration=4)
        assert isinstance(client._config.ledger, DefaultLedger)
        assert client.ledger is other.ledger
        assert len(statuses(ledger_url)) == 1


def test_import_and_construction_do_not_load_the_ledger() -> None:
    code = (
        "import sys, orca_nb\n"
        "from orca_nb.client import Orca\n"
        "c = Orca('sk-orca-test-lazy', base_url='https://api.example.test/v1')\n"
        "print(sorted(m for m in sys.modules if m.startswith('orca_nb.ledger')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
