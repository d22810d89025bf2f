"""Benchmark: experiment sweeps on the sandbox: throughput against the floor, crash safety, two
workers on PostgreSQL, and a notebook kernel's responsiveness while it runs a sweep.

    .venv/bin/python benchmarks/bench_sweep.py [--variants 500] [--rate 600] [--cap 50]
        [--render 5] [--latency 0.1] [--quick] [--only kernel,kill,postgres]

The sandbox runs as a subprocess (``orca-nb sandbox`` on a free loopback port, its own SQLite
file) with ``--latency`` seconds added to every ``/v1`` request, ``--rate`` video creates per
account per rolling minute (429 + Retry-After beyond), ``--cap`` running tasks per account (more
stay queued) and a render time of ``--render`` seconds per task (``render_once``: the MP4 is
rendered once per shape, so the machine's CPU is not what is measured). The experiment is a
grid over ``--variants`` seeds (one body per variant, so every task is matched to its variant
from the sandbox's own task table); its queue gets the same rate and a concurrency of the cap
plus ``--headroom`` (default 20 %). The queue's concurrency counts variants in flight (sent,
not yet seen finished): each also spends about 0.3-0.7 s of its slot on the create's and the
last poll's round trips and the queue's pickup, so with no headroom the sandbox's slots idle
~12 % of the time (wall/floor 1.21-1.26 measured); a little headroom keeps the sandbox's own
queue fed, and the sandbox, not the engine, then holds the running cap (its record shows it).

Scenarios (each prints its figures; the table at the end repeats them):

- ``kernel``: a real Jupyter kernel (``jupyter_client``) starts the sweep as a notebook cell
  would; meanwhile a trivial cell is executed every 0.1 s and its round trip timed. Prints the
  wall time against the floor ``max(N / rate, N x render / cap)`` (target <= 1.2x) and the
  cell's p50/p95/max (target p95 < 50 ms).
- ``kill``: one worker process (SQLite system database) is SIGKILLed at 1/3 and 2/3 of the
  floor's time and restarted each time (``open_experiment``). Prints duplicates (tasks beyond
  one per variant in the sandbox) and lost variants (no task and not flagged), targets 0 and
  0, and the variants the engine flagged ``unknown``: killed while their request was on the
  wire, so whether a task exists cannot be known from the API (it has no task list); they are
  never resent blindly, and the figure says how many the sandbox did make.
- ``postgres``: the same with two workers on one PostgreSQL system database (a throwaway
  cluster: ``initdb``/``pg_ctl`` from PATH or ``ORCA_NB_PG_BIN``); the starter is killed twice
  and restarted, an ``orca-nb worker`` runs throughout. Also prints the most tasks the sandbox
  ever had running for the account (the cap must hold across both workers).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orca_nb.sandbox.accounts import account_id  # noqa: E402

NAME = "bench-sweep"
FINAL = ("succeeded", "failed", "refused", "unknown", "invalid", "cancelled")

#: One process that starts (or reopens) the sweep and runs its variants until done.
WORKER = textwrap.dedent(
    """
    import json, sys, time
    from orca_nb import wire
    from orca_nb.client import Orca
    from orca_nb.compose import Selection, build_request
    from orca_nb.experiments import Experiment, open_experiment, start

    a = json.loads(sys.argv[1])
    client = Orca(a["key"], base_url=a["base_url"])
    settings = dict(database_url=a["db"], polling_interval=a["polling"])
    if a["mode"] == "start":
        body = build_request(wire.SEEDANCE_2, "a lighthouse in a storm", Selection(),
                             ratio="1:1", resolution="480p", duration=4)
        exp = Experiment.grid(body, name=a["name"], seed=list(range(a["variants"])))
        run = start(exp, client, concurrency=a["cap"], per_minute=a["rate"],
                    confirm=exp.estimate().tokens, **settings)
    else:
        run = open_experiment(a["name"], client, **settings)
    print("running", flush=True)
    print("done", run.wait(a["timeout"]), flush=True)
    """
)

#: The cell a notebook user runs: start the sweep and return at once.
KERNEL_START = textwrap.dedent(
    """
    from orca_nb import wire
    from orca_nb.client import Orca
    from orca_nb.compose import Selection, build_request
    from orca_nb.experiments import Experiment, start

    client = Orca({key!r}, base_url={base_url!r})
    body = build_request(wire.SEEDANCE_2, "a lighthouse in a storm", Selection(), ratio="1:1",
                         resolution="480p", duration=4)
    exp = Experiment.grid(body, name={name!r}, seed=list(range({variants})))
    run = start(exp, client, concurrency={cap}, per_minute={rate}, database_url={db!r},
                polling_interval={polling}, confirm=exp.estimate().tokens)
    """
)


@dataclass
class Params:
    variants: int
    rate: int  # submits per minute (sandbox limit and queue limit)
    cap: int  # running tasks (sandbox cap and queue concurrency)
    render: float  # seconds a task runs in the sandbox
    latency: float  # seconds added to every /v1 request
    polling: float  # DBOS queue polling interval
    headroom: int = 0  # the queue's concurrency above the sandbox's cap

    @property
    def in_flight(self) -> int:
        """The experiment queue's concurrency: variants sent and not finished, all workers."""
        return self.cap + self.headroom

    @property
    def floor(self) -> float:
        return max(self.variants / (self.rate / 60), self.variants * self.render / self.cap)


@dataclass
class Figures:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, label: str, value: str, target: str = "") -> None:
        self.rows.append((label, value, target))
        print(f"  {label:<52} {value:>14}  {target}", flush=True)

    def table(self) -> None:
        print("\nfigure" + " " * 48 + "value           target")
        for label, value, target in self.rows:
            print(f"{label:<54} {value:>14}  {target}")


def env_for(tmp: Path, db: str, base_url: str, key: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ORCAROUTER_API_KEY": key,
        "ORCAROUTER_BASE_URL": base_url,
        "ORCA_NB_EXPERIMENTS_DB": db,
        "ORCA_NB_LEDGER": f"sqlite:///{tmp / 'ledger.sqlite3'}",
        "ORCA_NB_SANDBOX_DB": str(tmp / "unused-embedded.sqlite3"),
    }


class Sandbox:
    """``orca-nb sandbox`` in a subprocess with this run's limits and latency."""

    def __init__(self, tmp: Path, p: Params) -> None:
        self.db = tmp / "sandbox.sqlite3"
        cmd = [
            sys.executable, "-m", "orca_nb.sandbox.cli", "--port", "0", "--db", str(self.db),
            "--processing", "timed", "--task-queue-seconds", "0", "--task-seconds",
            str(p.render), "--max-running-tasks", str(p.cap), "--submits-per-minute",
            str(p.rate), "--render-once", "--balance", "1000000",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "serving" not in line:
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.base_url = line.split("serving ", 1)[1].split()[0].rstrip(";")
        self.root = self.base_url.rsplit("/v1", 1)[0]
        self.admin = httpx.Client(base_url=self.root, timeout=30, trust_env=False)
        if p.latency:
            reply = self.admin.post(
                "/sandbox/admin/faults",
                json={"route": "*", "actions": ["ok"], "repeat": True, "latency": p.latency},
            )
            reply.raise_for_status()

    def running(self, key: str) -> dict[str, Any]:
        return dict(self.admin.get("/sandbox/admin/running", params={"api_key": key}).json())

    def tasks_per_seed(self, key: str) -> dict[int, int]:
        """How many tasks the sandbox made for each variant (its seed), from its own table."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30) as conn:
            rows = conn.execute(
                "SELECT json_extract(body, '$.metadata.seed'), COUNT(*) FROM tasks"
                " WHERE account = ? GROUP BY 1",
                (account_id(key),),
            ).fetchall()
        return {int(seed): int(n) for seed, n in rows}

    def task_count(self, key: str) -> int:
        return sum(self.tasks_per_seed(key).values())

    def close(self) -> None:
        self.admin.close()
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def experiment_counts(url: str) -> dict[str, int]:
    from orca_nb.experiments.db import ExperimentsDB

    db = ExperimentsDB(url)
    try:
        found = db.list_experiments()
        return db.counts(found[0].experiment_id) if found else {}
    finally:
        db.close()


def attempts(url: str) -> int:
    """Sends refused and sent again (429s): total claims minus variants."""
    from orca_nb.experiments.db import ExperimentsDB

    db = ExperimentsDB(url)
    try:
        rows = db.variants(db.list_experiments()[0].experiment_id)
        return sum(max(0, r.attempts - 1) for r in rows)
    finally:
        db.close()


def until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(every)


def done(db: str, n: int) -> bool:
    counts = experiment_counts(db)
    return sum(counts.get(s, 0) for s in FINAL) >= n


def most_in_flight(url: str) -> int:
    """The most variants the engine had sent and not finished at once (all workers)."""
    from orca_nb.experiments.db import ExperimentsDB

    db = ExperimentsDB(url)
    try:
        rows = db.variants(db.list_experiments()[0].experiment_id)
    finally:
        db.close()
    marks = sorted(
        [(r.sent_at, 1) for r in rows if r.sent_at and r.finished_at]
        + [(r.finished_at, -1) for r in rows if r.sent_at and r.finished_at]
    )
    level = peak = 0
    for _, change in marks:
        level += change
        peak = max(peak, level)
    return peak


def integrity(fig: Figures, sandbox: Sandbox, key: str, url: str, n: int, label: str) -> None:
    """Tasks per variant as the sandbox made them, against what the engine recorded."""
    from orca_nb.experiments.db import ExperimentsDB

    per_seed = sandbox.tasks_per_seed(key)
    db = ExperimentsDB(url)
    try:
        rows = db.variants(db.list_experiments()[0].experiment_id)
    finally:
        db.close()
    status = {int(r.values["seed"]): r.status for r in rows}
    duplicates = sum(c - 1 for c in per_seed.values() if c > 1)
    no_task = [seed for seed in range(n) if per_seed.get(seed, 0) == 0]
    silent = [seed for seed in no_task if status.get(seed) != "unknown"]
    unknown = [seed for seed, s in status.items() if s == "unknown"]
    made = sum(1 for seed in unknown if per_seed.get(seed, 0) > 0)
    fig.add(f"{label}: most variants in flight (engine)", str(most_in_flight(url)))
    fig.add(f"{label}: most tasks running at once (sandbox)",
            str(sandbox.running(key)["max_running"]), "<= the sandbox's cap")  # fmt: skip
    fig.add(f"{label}: duplicate tasks", str(duplicates), "target 0")
    fig.add(f"{label}: lost variants (no task, not flagged)", str(len(silent)), "target 0")
    fig.add(
        f"{label}: flagged unknown (task made / not made)",
        f"{len(unknown)} ({made}/{len(unknown) - made})",
        "killed mid-send",
    )
    succeeded = sum(1 for s in status.values() if s == "succeeded")
    fig.add(f"{label}: variants succeeded", f"{succeeded}/{n}")


# ---------------------------------------------------------------------- scenarios
def scenario_kernel(p: Params, fig: Figures, tmp: Path) -> None:
    from jupyter_client.manager import KernelManager

    print(f"kernel: {p.variants} variants started from a Jupyter kernel cell", flush=True)
    key = "sk-orca-bench-kernel"
    db = f"sqlite:///{tmp / 'kernel-experiments.sqlite3'}"
    sandbox = Sandbox(tmp, p)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env_for(tmp, db, sandbox.base_url, key), cwd=str(tmp))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        run_cell(kc, "import orca_nb.experiments.runtime, dbos, orca_nb.client", 120)
        code = KERNEL_START.format(
            key=key, base_url=sandbox.base_url, name=NAME, variants=p.variants, cap=p.in_flight,
            rate=p.rate, db=db, polling=p.polling,
        )  # fmt: skip
        began = time.monotonic()
        start_seconds = run_cell(kc, code, 300)
        latencies: list[float] = []
        while not done(db, p.variants):
            latencies.append(run_cell(kc, "x = 1 + 1", 60))
            time.sleep(0.1)
            if time.monotonic() - began > 20 * p.floor + 120:
                raise TimeoutError(f"the sweep did not finish: {experiment_counts(db)}")
        wall = time.monotonic() - began
        fig.add("kernel: start cell (store + enqueue)", f"{start_seconds:.2f} s")
        fig.add("kernel: wall time, start to last variant", f"{wall:.1f} s")
        fig.add("kernel: floor max(N/rate, N*render/cap)", f"{p.floor:.1f} s")
        fig.add("kernel: wall / floor", f"{wall / p.floor:.2f}", "target <= 1.2")
        ms = sorted(x * 1000 for x in latencies)
        p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
        fig.add(f"kernel: trivial cell p50 ({len(ms)} cells)", f"{statistics.median(ms):.1f} ms")
        fig.add("kernel: trivial cell p95", f"{p95:.1f} ms", "target < 50 ms")
        fig.add("kernel: trivial cell max", f"{ms[-1]:.1f} ms")
        fig.add("kernel: sends refused by a 429 and resent", str(attempts(db)))
        integrity(fig, sandbox, key, db, p.variants, "kernel")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        sandbox.close()


def run_cell(kc: Any, code: str, timeout: float) -> float:
    """Execute ``code``; seconds until its execute_reply (an error raises)."""
    began = time.perf_counter()
    msg_id = kc.execute(code)
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    elapsed = time.perf_counter() - began
    while True:  # drain the cell's output messages
        try:
            kc.get_iopub_msg(timeout=0.001)
        except queue.Empty:
            break
    if reply["content"]["status"] != "ok":
        raise RuntimeError("cell failed: " + "\n".join(reply["content"].get("traceback", [])))
    return elapsed


def spawn(args: dict[str, Any], env: dict[str, str], tmp: Path, tag: str) -> subprocess.Popen[str]:
    script = tmp / "worker.py"
    script.write_text(WORKER)
    log = open(tmp / f"{tag}.log", "w")  # noqa: SIM115 - kept open for the child's lifetime
    return subprocess.Popen(
        [sys.executable, str(script), json.dumps(args)], env=env, stdout=log,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def kill_twice(
    p: Params, sandbox: Sandbox, key: str, args: dict[str, Any], env: dict[str, str], tmp: Path,
    label: str,
) -> tuple[subprocess.Popen[str], int]:  # fmt: skip
    """Start the starter; SIGKILL it at 1/3 and 2/3 of the floor's time (not at a task count,
    which would pick the instants when requests are on the wire), restarting each time."""
    began = time.monotonic()
    proc = spawn({**args, "mode": "start"}, env, tmp, f"{label}-0")
    kills = 0
    for fraction in (1 / 3, 2 / 3):
        time.sleep(max(0.0, began + p.floor * fraction - time.monotonic()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        kills += 1
        print(f"  {label}: killed the worker at {sandbox.task_count(key)} tasks", flush=True)
        proc = spawn({**args, "mode": "open"}, env, tmp, f"{label}-{kills}")
    return proc, kills


def scenario_kill(p: Params, fig: Figures, tmp: Path) -> None:
    print(f"kill: {p.variants} variants, one worker SIGKILLed twice and restarted", flush=True)
    key = "sk-orca-bench-kill"
    db = f"sqlite:///{tmp / 'kill-experiments.sqlite3'}"
    sandbox = Sandbox(tmp, p)
    env = env_for(tmp, db, sandbox.base_url, key)
    args = {
        "key": key, "base_url": sandbox.base_url, "db": db, "polling": p.polling, "name": NAME,
        "variants": p.variants, "cap": p.in_flight, "rate": p.rate, "timeout": 20 * p.floor + 300,
    }  # fmt: skip
    try:
        began = time.monotonic()
        proc, kills = kill_twice(p, sandbox, key, args, env, tmp, "kill")
        until(lambda: done(db, p.variants), 20 * p.floor + 300, "the sweep", 0.5)
        wall = time.monotonic() - began
        proc.wait(120)
        fig.add(f"kill: wall time with {kills} kills + restarts", f"{wall:.1f} s")
        fig.add("kill: wall / floor", f"{wall / p.floor:.2f}")
        integrity(fig, sandbox, key, db, p.variants, "kill")
    finally:
        sandbox.close()


def scenario_postgres(p: Params, fig: Figures, tmp: Path) -> None:
    print(f"postgres: {p.variants} variants, two workers on PostgreSQL, one killed twice")
    from tests.ledger.postgres_server import _bin_dir

    bin_dir = _bin_dir()
    if bin_dir is None:
        fig.add("postgres: skipped", "no initdb", "install PostgreSQL or set ORCA_NB_PG_BIN")
        return
    pg = _postgres_class()(bin_dir)
    pg.start()
    key = "sk-orca-bench-pg"
    sandbox = Sandbox(tmp, p)
    try:
        db = pg.url()
        env = env_for(tmp, db, sandbox.base_url, key)
        args = {
            "key": key, "base_url": sandbox.base_url, "db": db, "polling": p.polling,
            "name": NAME, "variants": p.variants, "cap": p.in_flight, "rate": p.rate,
            "timeout": 20 * p.floor + 300,
        }  # fmt: skip
        began = time.monotonic()
        helper = None
        log = open(tmp / "pg-worker.log", "w")  # noqa: SIM115

        def second_worker() -> None:
            nonlocal helper
            until(lambda: sandbox.task_count(key) >= 1, 120, "the first task")
            helper = subprocess.Popen(
                [sys.executable, "-m", "orca_nb.cli", "worker", "--exit-when-idle",
                 "--polling-interval", str(p.polling)],
                env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip

        import threading

        joiner = threading.Thread(target=second_worker, daemon=True)
        joiner.start()
        proc, kills = kill_twice(p, sandbox, key, args, env, tmp, "pg")
        until(lambda: done(db, p.variants), 20 * p.floor + 300, "the sweep", 0.5)
        wall = time.monotonic() - began
        proc.wait(120)
        joiner.join(5)
        if helper is not None:
            helper.wait(120)
        log.close()
        fig.add(f"postgres: wall time, 2 workers, {kills} kills", f"{wall:.1f} s")
        fig.add("postgres: wall / floor", f"{wall / p.floor:.2f}")
        integrity(fig, sandbox, key, db, p.variants, "postgres")
    finally:
        sandbox.close()
        pg.stop()


def _postgres_class() -> type:
    from tests.ledger.postgres_server import PostgresServer

    class Bench(PostgresServer):
        """The tests' throwaway cluster with room for two workers' connection pools."""

        def start(self) -> None:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
                " -c max_connections=300 -c shared_buffers=64MB -c fsync=off"
            )
            log = str(self.root / "server.log")
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    return Bench


SCENARIOS = {"kernel": scenario_kernel, "kill": scenario_kill, "postgres": scenario_postgres}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--rate", type=int, default=600, help="submits per minute")
    parser.add_argument("--cap", type=int, default=50, help="running tasks at once")
    parser.add_argument("--render", type=float, default=5.0, help="seconds per task")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per request")
    parser.add_argument(
        "--headroom",
        type=int,
        default=None,
        help="variants in flight above the sandbox's cap (default: 20 %% of it); the sandbox "
        "queues them, so a slot freed there starts the next task at once",
    )
    parser.add_argument("--polling", type=float, default=None, help="DBOS queue polling (s)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    parser.add_argument("--quick", action="store_true", help="a ~2-minute smoke run")
    parser.add_argument("--only", default="kernel,kill,postgres", help="scenarios to run")
    args = parser.parse_args()
    if args.quick:
        args.variants, args.rate, args.cap, args.render = 100, 600, 20, 4.0
    from orca_nb.experiments.runtime import Settings

    polling = args.polling if args.polling is not None else Settings("x").polling_interval
    headroom = args.headroom if args.headroom is not None else args.cap // 5
    p = Params(args.variants, args.rate, args.cap, args.render, args.latency, polling, headroom)
    print(
        f"bench_sweep: N={p.variants} rate={p.rate}/min cap={p.cap} render={p.render:g} s "
        f"latency={p.latency * 1000:g} ms polling={p.polling:g} s queue concurrency="
        f"{p.in_flight} floor={p.floor:.1f} s",
        flush=True,
    )
    fig = Figures()
    for name in [s.strip() for s in args.only.split(",") if s.strip()]:
        tmp = Path(tempfile.mkdtemp(prefix=f"bench-sweep-{name}-"))
        try:
            SCENARIOS[name](p, fig, tmp)
        except BaseException:
            print(f"{name} failed; its logs and databases are in {tmp}", file=sys.stderr)
            raise
        if args.keep:
            print(f"{name}: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    fig.table()


if __name__ == "__main__":
    main()
