"""Experiments against the sandbox's own per-account limits: its submits-per-minute 429s (with
Retry-After) slow the queue, its running cap queues tasks, and every variant still gets exactly
one task. The sandbox is the judge: its task table and its record of tasks running at once."""

from __future__ import annotations

import json
import time
from typing import Any

from orca_nb.client import Orca
from orca_nb.experiments import Experiment, start
from orca_nb.experiments.db import ExperimentsDB
from orca_nb.sandbox import Backend, SandboxServer
from orca_nb.sandbox.accounts import account_id
from tests.experiments.conftest import BODY
from tests.experiments.test_durable import until


def task_seeds(backend: Backend, account: str) -> list[tuple[int, float]]:
    """(seed, created) of every task the sandbox made for the account, oldest first."""
    with backend.db.tx() as db:
        rows = db.execute(
            "SELECT body, created FROM tasks WHERE account = ? ORDER BY created, seq", (account,)
        ).fetchall()
    return [(int(json.loads(r["body"])["metadata"]["seed"]), float(r["created"])) for r in rows]


def test_the_sandboxs_rate_limit_429s_slow_the_queue_and_each_variant_gets_one_task(
    client: Orca,
    fast: dict[str, Any],
    sandbox_backend: Backend,
    sandbox_key: str,
    db: ExperimentsDB,
) -> None:
    limit = 3
    sandbox_backend.configure(submits_per_minute=limit, render_once=True)
    account = account_id(sandbox_key)
    clock: Any = sandbox_backend.clock
    for seed in range(100, 100 + limit):  # someone else's submits fill this minute's budget
        sandbox_backend.create_task(
            account, {**BODY, "metadata": {**BODY["metadata"], "seed": seed}}
        )
        clock.advance(1)
    # The first of them leaves the window in 0.5 s, the others one second apart: each 429 says
    # 1 or 2 s, and the variants (no more than the limit) take those slots as they free.
    clock.advance(60 - limit - 0.5)
    run = start(
        Experiment.grid(BODY, name="rpm", seed=[1, 2, 3]), client, concurrency=3,
        per_minute=600, **fast,
    )  # fmt: skip
    # A refusal holds every worker of the account (the gate) and puts the variant back.
    until(lambda: db.gate(run.account) > 0, 30, "a refused send")
    until(lambda: any(v.error_code == "rate_limit_exceeded" for v in run.variants()), 30, "429")
    assert len(task_seeds(sandbox_backend, account)) == limit  # the refused sends made nothing
    now = run.progress()
    assert now.queued + now.sending == 3  # back on the queue, not failed
    began = time.monotonic()
    while not run.progress().done:  # the sandbox's minute passes at about 2x real time
        assert time.monotonic() - began < 60, run.progress()
        clock.advance(1)
        time.sleep(0.5)
    rows = run.variants()
    assert [r.status for r in rows] == ["succeeded"] * 3
    assert sum(r.attempts for r in rows) > 3  # the 429s were waited out and sent again
    made = task_seeds(sandbox_backend, account)
    mine = [seed for seed, _ in made if seed < 100]
    assert sorted(mine) == [1, 2, 3]  # exactly one task per variant
    assert sorted(str(r.task_id) for r in rows) == sorted(run.task_ids().values())
    created = [at for _, at in made]
    for at in created:  # the sandbox never took more than `limit` in any rolling minute
        assert sum(1 for other in created if at - 60 < other <= at) <= limit


def test_the_sandbox_records_the_engines_cap_on_running_tasks(
    client: Orca, fast: dict[str, Any], sandbox_backend: Backend, sandbox_key: str
) -> None:
    sandbox_backend.configure(
        processing="timed", task_queue_seconds=0.0, task_seconds=1.0, render_once=True
    )
    clock: Any = sandbox_backend.clock
    run = start(
        Experiment.grid(BODY, name="cap", seed=[1, 2, 3, 4, 5]), client, concurrency=2,
        per_minute=600, **fast,
    )  # fmt: skip
    began = time.monotonic()
    while not run.progress().done:
        assert time.monotonic() - began < 60, run.progress()
        clock.advance(0.25)
        time.sleep(0.05)
    assert run.progress().succeeded == 5
    account = account_id(sandbox_key)
    stats = sandbox_backend.running_stats(account)[account]
    assert stats["max_running"] == 2  # reached and never exceeded, by the sandbox's own clock
    assert sorted(seed for seed, _ in task_seeds(sandbox_backend, account)) == [1, 2, 3, 4, 5]


def test_workers_refused_at_once_all_hold_the_account_without_an_error(
    db: ExperimentsDB,
) -> None:
    # Found by the test above: two workers' first 429s inserted the gate row at once and one
    # failed with a unique-key error, leaving its variant "sending" for ever.
    import threading

    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def refused(until: int) -> None:
        barrier.wait()
        try:
            db.close_gate("key-race", until, f"429 until {until}")
        except BaseException as exc:  # pragma: no cover - the failure being tested
            errors.append(exc)

    threads = [threading.Thread(target=refused, args=(10_000 + i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.gate("key-race") == 10_007  # the latest wins, whoever wrote first
    db.close_gate("key-race", 5, "an earlier one never shortens it")
    assert db.gate("key-race") == 10_007


def test_a_lower_cap_set_by_start_holds_in_a_worker_already_polling(
    client: Orca, fast: dict[str, Any], sandbox_server: SandboxServer, sandbox_backend: Backend,
    sandbox_key: str, db: ExperimentsDB,
) -> None:  # fmt: skip
    # Seen in a real session: a kernel launched earlier with concurrency 4 sent 4 variants of an
    # experiment another kernel had just started with concurrency 1 (a DBOS worker dequeues
    # with the limits it read before its polling wait).
    import os
    import subprocess
    import sys
    from pathlib import Path

    sandbox_backend.configure(processing="manual")  # tasks stay running: the cap shows
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[2]),
        "ORCAROUTER_API_KEY": sandbox_key,
        "ORCAROUTER_BASE_URL": sandbox_server.base_url,
        "ORCA_NB_EXPERIMENTS_DB": fast["database_url"],
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "orca_nb.cli", "worker", "--concurrency", "4", "--per-minute",
         "600", "--polling-interval", "0.5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        until(lambda: worker.poll() is not None or _executors(db) >= 1, 60, "the worker")
        assert worker.poll() is None
        time.sleep(1.0)  # it is polling its queue (concurrency 4) now
        run = start(
            Experiment.grid(BODY, name="lowered", seed=[1, 2, 3, 4, 5]), client, concurrency=1,
            per_minute=600, **fast,
        )  # fmt: skip
        until(lambda: len(task_seeds(sandbox_backend, account_id(sandbox_key))) >= 1, 30, "one")
        time.sleep(2.0)  # several polls of both processes
        assert len(task_seeds(sandbox_backend, account_id(sandbox_key))) == 1
        assert run.progress().running == 1
    finally:
        worker.terminate()  # a clean stop (SIGTERM), as a user's Ctrl-C
        try:
            _, err = worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            _, err = worker.communicate()
            raise AssertionError(f"the worker did not stop on SIGTERM:\n{err[-3000:]}") from None


def _executors(db: ExperimentsDB) -> int:
    from orca_nb.experiments.db import executors

    with db.engine.connect() as c:
        return len(c.execute(executors.select()).all())
