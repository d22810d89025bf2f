"""A process that stops running experiments exits promptly, whatever its variants were doing,
and what it left is finished elsewhere with one task per variant.

Seen in CI: after ``shutdown()`` an execution still following its task raised DBOS's own
cancellation error, and DBOS parked the thread polling for an outcome nobody would write; the
interpreter waits for DBOS's worker threads at exit, so the test process never ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from orca_nb.client import Orca
from orca_nb.experiments import open_experiment
from orca_nb.experiments.db import ExperimentsDB
from orca_nb.sandbox import Backend, SandboxServer
from tests.experiments.conftest import sandbox_tasks
from tests.experiments.test_durable import until

CHILD = textwrap.dedent(
    """
    import sys, time
    from orca_nb import wire
    from orca_nb.client import Orca
    from orca_nb.compose import Selection, build_request
    from orca_nb.experiments import Experiment, shutdown, start

    base_url, db, how = sys.argv[1:4]
    client = Orca("sk-orca-sandbox-test", base_url=base_url)
    body = build_request(wire.SEEDANCE_2, "a lighthouse in a storm", Selection(), ratio="1:1",
                         resolution="480p", duration=4)
    start(Experiment.grid(body, name="stop", seed=[1, 2, 3]), client, concurrency=2,
          per_minute=600, database_url=db, polling_interval=0.1, poll_interval=0.1,
          heartbeat_seconds=0.5)
    print("started", flush=True)
    sys.stdin.readline()  # the test says when: variants are running (or waiting out a 429)
    if how == "shutdown":
        shutdown()
    print("leaving", flush=True)  # "exit": fall off the end without calling shutdown()
    """
)


@pytest.mark.parametrize("how", ["shutdown", "exit"])
def test_a_process_stopping_mid_follow_exits_and_its_variants_finish_elsewhere(
    how: str, client: Orca, sandbox_server: SandboxServer, sandbox_backend: Backend,
    exp_db: str, db: ExperimentsDB, tmp_path: Path,
) -> None:  # fmt: skip
    sandbox_backend.configure(processing="manual")  # tasks stay running: both are following
    child = _child(tmp_path, sandbox_server, exp_db, how)
    try:
        until(lambda: len(sandbox_tasks(sandbox_backend)) == 2, 60, "two submissions")
        exp_id = db.list_experiments()[0].experiment_id
        until(lambda: db.counts(exp_id).get("running") == 2, 30, "two running variants")
        _exits_promptly(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert db.counts(exp_id) == {"running": 2, "queued": 1}  # nothing recorded on the way out
    sandbox_backend.configure(processing="instant")
    run = open_experiment("stop", client, database_url=exp_db, polling_interval=0.1,
                          poll_interval=0.1, heartbeat_seconds=0.5, stale_seconds=1.0)  # fmt: skip
    assert run.wait(60).succeeded == 3
    rows = db.variants(exp_id)
    assert sorted(sandbox_tasks(sandbox_backend)) == sorted(str(r.task_id) for r in rows)
    assert [r.attempts for r in rows] == [1] * 3  # the two followed tasks were adopted, not resent


def test_a_process_stopping_while_it_waits_out_a_429_exits_at_once(
    sandbox_server: SandboxServer, sandbox_backend: Backend, exp_db: str, db: ExperimentsDB,
    tmp_path: Path,
) -> None:  # fmt: skip
    # One submit a minute: the second variant is refused with a Retry-After of about a minute,
    # and its workflow waits that out durably; stopping must not wait with it.
    sandbox_backend.configure(processing="manual", submits_per_minute=1)
    child = _child(tmp_path, sandbox_server, exp_db, "shutdown")
    try:
        until(lambda: len(sandbox_tasks(sandbox_backend)) == 1, 60, "the first submission")
        exp_id = db.list_experiments()[0].experiment_id
        until(lambda: db.variants(exp_id)[1].attempts >= 1, 30, "the refused second one")
        time.sleep(0.5)  # it is in its durable wait now
        _exits_promptly(child)
    finally:
        sandbox_backend.configure(submits_per_minute=None)
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert len(sandbox_tasks(sandbox_backend)) == 1


def _child(tmp_path: Path, server: SandboxServer, db: str, how: str) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    child = subprocess.Popen(
        [sys.executable, str(script), server.base_url, db, how], env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started", child.stderr and child.stderr.read()
    return child


def _exits_promptly(child: subprocess.Popen[str], seconds: float = 20.0) -> None:
    began = time.monotonic()
    try:
        out, err = child.communicate("go\n", timeout=seconds)
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
        raise AssertionError(f"no exit within {seconds}s:\n{err[-3000:]}") from None
    assert child.returncode == 0, err[-3000:]
    assert "leaving" in out
    print(f"exited {time.monotonic() - began:.1f}s after it was told to stop")
