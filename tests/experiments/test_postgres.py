"""A team's setup: the system database on PostgreSQL, two worker processes on one queue. The
global cap on running variants holds across both, and every variant gets exactly one task."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from orca_nb.experiments.db import ExperimentsDB
from orca_nb.sandbox import Backend, SandboxServer
from orca_nb.sandbox.accounts import account_id
from tests.experiments.conftest import sandbox_tasks
from tests.experiments.test_durable import until
from tests.ledger.postgres_server import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

pytestmark = pytest.mark.postgres

STARTER = textwrap.dedent(
    """
    import sys
    from orca_nb import wire
    from orca_nb.client import Orca
    from orca_nb.compose import Selection, build_request
    from orca_nb.experiments import Experiment, start

    base_url, db = sys.argv[1:3]
    client = Orca("sk-orca-sandbox-test", base_url=base_url)
    body = build_request(wire.SEEDANCE_2, "a lighthouse in a storm", Selection(), ratio="1:1",
                         resolution="480p", duration=4)
    run = start(Experiment.grid(body, name="team", seed=[1, 2, 3, 4, 5, 6]), client,
                concurrency=2, per_minute=600, database_url=db, polling_interval=0.1,
                poll_interval=0.1, heartbeat_seconds=0.5)
    print("finished", run.wait(180), flush=True)
    """
)


def test_two_workers_on_postgres_share_the_cap_and_make_one_task_per_variant(
    postgres_url: str, sandbox_server: SandboxServer, sandbox_backend: Backend,
    sandbox_key: str, tmp_path: Path,
) -> None:  # fmt: skip
    sandbox_backend.configure(processing="manual")
    script = tmp_path / "starter.py"
    script.write_text(STARTER)
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[2]),
        "ORCAROUTER_API_KEY": sandbox_key,
        "ORCAROUTER_BASE_URL": sandbox_server.base_url,
        "ORCA_NB_EXPERIMENTS_DB": postgres_url,
    }
    starter = subprocess.Popen(
        [sys.executable, str(script), sandbox_server.base_url, postgres_url], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    worker = None
    db = None
    try:
        until(lambda: len(sandbox_tasks(sandbox_backend)) >= 2, 90, "the first submissions")
        db = ExperimentsDB(postgres_url)
        (exp,) = db.list_experiments()
        worker = subprocess.Popen(
            [sys.executable, "-m", "orca_nb.cli", "worker", "--exit-when-idle",
             "--polling-interval", "0.1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(3.0)  # the second worker is up and polling the same queue
        assert worker.poll() is None
        assert db.counts(exp.experiment_id) == {"running": 2, "queued": 4}
        assert len(sandbox_tasks(sandbox_backend)) == 2
        # Tasks now really run (1 s each on the sandbox's clock, which this loop moves), so the
        # sandbox's own record of tasks running at once judges the cap across both workers.
        sandbox_backend.configure(processing="timed", task_queue_seconds=0.0, task_seconds=1.0)
        clock: Any = sandbox_backend.clock
        busiest = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counts = db.counts(exp.experiment_id)
            busiest = max(busiest, counts.get("running", 0) + counts.get("sending", 0))
            if counts.get("succeeded") == 6:
                break
            clock.advance(0.1)
            time.sleep(0.02)
        assert busiest <= 2
        account = account_id(sandbox_key)
        assert sandbox_backend.running_stats(account)[account]["max_running"] == 2
        _, err = starter.communicate(timeout=120)
        assert starter.returncode == 0, err[-3000:]
        _, w_err = worker.communicate(timeout=120)
        assert worker.returncode == 0, w_err[-3000:]
        rows = db.variants(exp.experiment_id)
        assert [r.status for r in rows] == ["succeeded"] * 6
        assert sorted(sandbox_tasks(sandbox_backend)) == sorted(str(r.task_id) for r in rows)
        assert [r.attempts for r in rows] == [1] * 6
    finally:
        for proc in (starter, worker):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()
        if db is not None:
            db.close()
