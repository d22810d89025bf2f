"""The compare grid on the real sandbox with a real (DBOS) experiment: posters made by the
kernel from fresh result links, videos loaded on demand as MP4 bytes, a failed variant's cell,
a rating from the page stored in the ledger, and the grid reopened by the experiment's name."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from orca_nb import wire
from orca_nb.client import Orca
from orca_nb.compose import Selection, build_request
from orca_nb.experiments import Experiment, runtime, shutdown
from orca_nb.ledger import Ledger, open_ledger
from orca_nb.sandbox import Backend, SandboxServer
from orca_nb.widgets import compare
from orca_nb.widgets.loops import settle
from tests.widgets.conftest import CommLog

BODY = build_request(
    wire.SEEDANCE_2, "a lighthouse", Selection(), ratio="1:1", resolution="480p", duration=4,
    generate_audio=True, watermark=False, seed=-1,
)  # fmt: skip


@pytest.fixture
def exp_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'experiments.sqlite3'}"
    monkeypatch.setenv("ORCA_NB_EXPERIMENTS_DB", url)  # compare("name") reads it from here
    return url


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(f"sqlite://{tmp_path / 'ledger.sqlite3'}") as opened:
        yield opened


@pytest.fixture
async def client(
    sandbox_server: SandboxServer, sandbox_key: str, ledger: Ledger
) -> AsyncIterator[Orca]:
    with Orca(sandbox_key, base_url=sandbox_server.base_url, ledger=ledger) as c:
        yield c
        await settle()


@pytest.fixture(autouse=True)
def _dbos_stopped() -> Iterator[None]:
    yield
    if runtime.current() is not None:
        shutdown()


async def _until(check: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_a_real_experiment_in_the_grid(
    client: Orca, ledger: Ledger, exp_db: str, sandbox_backend: Backend, comm_log: CommLog
) -> None:
    sandbox_backend.fail_next_tasks(1)  # the first variant sent fails
    experiment = Experiment.grid(
        BODY, name="grid test", prompts=["a calm dawn", "a winter storm"], seed=[7, 42]
    )
    run = experiment.start(
        client, concurrency=1, per_minute=600, database_url=exp_db, polling_interval=0.1,
        poll_interval=0.1, heartbeat_seconds=0.5,
    )  # fmt: skip
    done = await asyncio.to_thread(run.wait, 60)
    assert (done.succeeded, done.failed) == (3, 1)

    started = time.monotonic()
    comm_log.clear()
    view = compare(run, client=client)
    assert (view.rows_dim, view.cols_dim) == ("prompt", "seed")
    assert view.state.ledger is ledger  # the client's ledger keeps the marks
    twin = view.store.client  # the blocking client's async twin: same URL, key and ledger
    assert (twin.base_url, twin.key_label, twin.ledger) == (
        client.base_url, client.key_label, client.ledger,
    )  # fmt: skip
    assert compare(run, client=client).store is view.store  # one twin, one store
    succeeded = [v.variant_id for v in run.variants() if v.status == "succeeded"]
    await _until(lambda: set(view.posters) == set(succeeded))
    poster_seconds = time.monotonic() - started
    poster_bytes = comm_log.total  # everything sent to the page until the posters showed
    assert poster_bytes < 200_000  # posters are small JPEGs, sent once each
    for vid in succeeded:
        assert view.state.media[vid].poster[:2] == b"\xff\xd8"  # JPEG made by the kernel
        assert view.posters[vid].format == "jpeg"
    failed = next(c for r in view.cells for c in r if c["status"] == "failed")
    assert failed["message"]
    assert failed["advice"]
    assert failed["variant_id"] not in view.posters

    started = time.monotonic()
    view.vue_load_all()
    await _until(lambda: set(view.players) == set(succeeded) and not view.loading_videos)
    load_seconds = time.monotonic() - started
    for vid in succeeded:
        data = bytes(view.players[vid].value)
        assert data[4:8] == b"ftyp"  # MP4 bytes over the comm, never a URL
        assert view.players[vid].controls is False  # the grid drives play, pause and seek

    view.vue_rate({"variant_id": succeeded[0], "rating": 4})
    view.vue_pin(succeeded[1])
    view.vue_set_tags({"variant_id": succeeded[1], "text": "winner, sharp ,winner"})
    await _until(lambda: ledger.variant_marks(run.experiment_id).get(succeeded[1]) is not None
                 and ledger.variant_marks(run.experiment_id)[succeeded[1]].tags != ())  # fmt: skip
    marks = ledger.variant_marks(run.experiment_id)
    assert marks[succeeded[0]].rating == 4
    assert (marks[succeeded[1]].pinned, marks[succeeded[1]].tags) == (True, ("winner", "sharp"))

    view.vue_open_studio(succeeded[1])
    assert view.studio is not None
    assert (
        view.studio.state.preview() == run.runtime.db.variant(run.experiment_id, succeeded[1]).body
    )
    view.close()

    again = compare("grid test", client=client, rows="seed", cols="prompt")
    assert again.state.mark_of(succeeded[0]).rating == 4
    assert again.state.mark_of(succeeded[1]).pinned
    assert (again.state.rows, again.state.cols) == ("seed", "prompt")
    again.close()
    print(
        f"posters for 3 variants: {poster_seconds:.2f} s, {poster_bytes:,} bytes to the page; "
        f"3 videos loaded: {load_seconds:.2f} s"
    )
