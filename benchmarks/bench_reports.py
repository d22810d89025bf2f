"""Benchmark: every report on a SQLite ledger of 1,000,000 submissions.

    .venv/bin/python benchmarks/bench_reports.py [--submissions 1000000] [--db PATH] [--repeat 3]

Builds the ledger once (bulk insert straight into the ledger's own schema; reused when the file
already holds that many submissions), then runs each report in a fresh subprocess and prints
its time (first run, and best of ``--repeat``), the subprocess's peak RSS (whole process,
including Python and pandas), and tracemalloc's peak for the report call alone.
Target: every report under 2 s and under 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orca_nb import wire  # noqa: E402
from orca_nb.ledger import open_ledger  # noqa: E402
from orca_nb.ledger.schema import INDEXES  # noqa: E402
from orca_nb.reports import REPORTS  # noqa: E402

DAY = 86_400_000
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAYS = 90
GROUPS = 300
ASSETS_PER_GROUP = 5
SUBMITTERS = 40
ERRORS = ("SensitiveContent", "InternalServiceError", "InvalidParameter", "Timeout")


def build(path: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` realistic submissions (with items, events and snapshots) into ``path``."""
    open_ledger(path).close()  # the real schema
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    for statement in INDEXES:  # faster to index once at the end
        conn.execute(f"DROP INDEX IF EXISTS {statement.split()[5]}")
    conn.execute("BEGIN")
    n_assets = GROUPS * ASSETS_PER_GROUP
    kinds = rng.choice(["Image", "Video", "Audio"], size=n_assets, p=[0.7, 0.2, 0.1])
    status = rng.choice(["Active", "Failed"], size=n_assets, p=[0.95, 0.05])
    created = START_MS + rng.integers(-30 * DAY, DAYS * DAY, size=n_assets)
    conn.executemany(
        "INSERT INTO asset_groups (group_id, name, group_type, created_at, first_seen_at,"
        " last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(f"group-{g:04d}", f"character {g}", "AIGC" if g % 7 else "LivenessFace",
          START_MS - 30 * DAY, START_MS, START_MS) for g in range(GROUPS)],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO assets (asset_id, name, asset_type, status, group_id, error_code,"
        " created_at, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(f"asset-{a:05d}", f"asset {a}", str(kinds[a]), str(status[a]),
          f"group-{a // ASSETS_PER_GROUP:04d}",
          "FaceMismatch" if status[a] == "Failed" else None, int(created[a]), int(created[a]),
          int(created[a])) for a in range(n_assets)],
    )  # fmt: skip
    submitted = np.sort(START_MS + rng.integers(0, DAYS * DAY, size=n))
    resolution = rng.choice(wire.RESOLUTIONS, size=n, p=[0.3, 0.5, 0.2])
    duration = rng.choice([4, 5, 8, 10, 15], size=n, p=[0.1, 0.5, 0.2, 0.15, 0.05])
    outcome = rng.choice(
        ["succeeded", "failed", "rejected", "running"], size=n, p=[0.88, 0.07, 0.03, 0.02]
    )
    queue = rng.lognormal(2.5, 0.6, size=n) * 1000
    run = rng.lognormal(4.2, 0.4, size=n) * 1000 * (duration / 5)
    started = submitted + queue.astype("int64")
    finished = started + run.astype("int64")
    submitter = rng.integers(0, SUBMITTERS, size=n)
    error = rng.integers(0, len(ERRORS), size=n)
    mode = rng.choice(["text", "first_frame", "first_last", "reference"], size=n,
                      p=[0.2, 0.3, 0.1, 0.4])  # fmt: skip
    n_items = np.select(
        [mode == "text", mode == "first_frame", mode == "first_last"],
        [0, 1, 2],
        rng.integers(1, 5, size=n),
    )
    tokens = np.array(
        [wire.usage_tokens(*wire.OUTPUT_SIZES[(r, "16:9")], 1) for r in wire.RESOLUTIONS]
    )
    res_index = np.array([wire.RESOLUTIONS.index(r) for r in resolution])
    total = np.where(outcome == "succeeded", tokens[res_index] * duration, 0)

    failed_code = {"failed": None, "rejected": "quota_insufficient"}
    code = [
        (ERRORS[error[i]] if outcome[i] == "failed" else failed_code.get(str(outcome[i])))
        for i in range(n)
    ]

    def submission_rows() -> object:
        for i in range(n):
            out = str(outcome[i])
            done = out != "running"
            rejected = out == "rejected"
            yield (
                f"sub-{i:08d}", None if rejected else f"task-{i:08d}",
                f"key-{submitter[i]:012x}", "https://api.orcarouter.ai/v1", wire.SEEDANCE_2,
                f"[Image 1] scene {i % 977}", f'{{"duration": {duration[i]}}}', str(mode[i]),
                "16:9", str(resolution[i]), int(duration[i]), 1, int(n_items[i]), out,
                100 if done else 50,
                code[i],
                "generation failed" if out in ("failed", "rejected") else None,
                int(total[i]) if out == "succeeded" else None,
                int(total[i]) if out == "succeeded" else None,
                None, None, int(submitted[i]),
                None if rejected else int(submitted[i]) + 800,
                None if rejected else int(started[i]),
                int(finished[i]) if done else None,
                int(finished[i]) if done else int(started[i]),
                int(submitted[i]) // DAY,
                int(finished[i] - submitted[i]) if done and not rejected else None,
                int(started[i] - submitted[i]) if done and not rejected else None,
            )  # fmt: skip

    conn.executemany(
        "INSERT INTO submissions (id, task_id, submitter, base_url, model, prompt, params, mode,"
        " ratio, resolution, duration, generate_audio, n_items, status, progress, error_code,"
        " error_message, completion_tokens, total_tokens, video_url, video_url_expires_at,"
        " submitted_at, accepted_at, started_at, finished_at, updated_at, day, latency_ms,"
        " queue_ms) VALUES (" + ", ".join("?" * 29) + ")",
        submission_rows(),
    )
    favourite = rng.zipf(1.6, size=int(n_items.sum())) % n_assets  # a few assets are popular

    def item_rows() -> object:
        k = 0
        for i in range(n):
            out = str(outcome[i])
            seen: set[int] = set()
            groups: set[int] = set()
            for position in range(int(n_items[i])):
                a = int(favourite[k])
                k += 1
                url_item = a % 23 == 0
                first_source, first_group = (
                    a not in seen,
                    not url_item and a // ASSETS_PER_GROUP not in groups,
                )
                seen.add(a)
                if not url_item:
                    groups.add(a // ASSETS_PER_GROUP)
                kind = str(kinds[a])
                role = (
                    ("first_frame" if position == 0 else "last_frame")
                    if mode[i] in ("first_frame", "first_last")
                    else f"reference_{kind.lower()}"
                )
                yield (
                    f"sub-{i:08d}", position, position + 1, kind, role,
                    f"https://cdn.example.com/{a}.png" if url_item else f"asset://asset-{a:05d}",
                    None if url_item else f"asset-{a:05d}",
                    f"https://cdn.example.com/{a}.png" if url_item else f"asset-{a:05d}",
                    None if url_item else f"group-{a // ASSETS_PER_GROUP:04d}",
                    int(first_source), int(first_group),
                    int(submitted[i]), wire.SEEDANCE_2, None if out == "running" else out,
                    int(total[i]) if out == "succeeded" else None,
                )  # fmt: skip

    conn.executemany(
        "INSERT INTO submission_items (submission_id, position, ordinal, asset_type, role,"
        " source, asset_id, asset_key, group_id, first_of_source, first_of_group, submitted_at,"
        " model, outcome, tokens) VALUES (" + ", ".join("?" * 15) + ")",
        item_rows(),
    )

    def event_rows() -> object:
        for i in range(n):
            sid, out = f"sub-{i:08d}", str(outcome[i])
            yield (sid, "submitting", 0, int(submitted[i]))
            if out == "rejected":
                yield (sid, "rejected", None, int(submitted[i]) + 300)
                continue
            yield (sid, "queued", 0, int(submitted[i]) + 800)
            yield (sid, "running", 50, int(started[i]))
            if out != "running":
                yield (sid, out, 100, int(finished[i]))

    conn.executemany(
        "INSERT INTO status_events (submission_id, status, progress, at) VALUES (?, ?, ?, ?)",
        event_rows(),
    )
    conn.execute("COMMIT")
    for statement in INDEXES:
        conn.execute(statement)
    conn.execute("ANALYZE")
    conn.close()


CHILD = """
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from orca_nb.ledger import open_ledger
from orca_nb.reports import REPORTS
name, url, repeat = sys.argv[2], sys.argv[3], int(sys.argv[4])
ledger = open_ledger(url)
options = {"limit": 1000} if name == "submissions" else {}
times, cpu = [], []
tracemalloc.start()
for attempt in range(repeat):
    if attempt == 1:
        tracemalloc.stop()  # measure allocations on the first run, time the others cleanly
    start, start_cpu = time.perf_counter(), time.process_time()
    frame = REPORTS[name](ledger, **options)
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
    if attempt == 0:
        traced = tracemalloc.get_traced_memory()[1]
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": len(frame), "first": times[0], "best": min(times[1:] or times),
                  "cpu": min(cpu[1:] or cpu),
                  "rss_mb": rss_kb / 1024, "traced_mb": traced / 2**20}))
"""


def measure(name: str, url: str, repeat: int) -> dict[str, float]:
    """Run one report in a fresh interpreter and return its figures."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), name, url, str(repeat)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1_000_000)
    parser.add_argument(
        "--db", type=Path, default=Path(tempfile.gettempdir()) / "orca-nb-bench.sqlite3"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path: Path = args.db
    count = -1
    if path.exists():
        with open_ledger(path) as ledger:
            count = ledger.count()
    if count != args.submissions:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        build(path, args.submissions)
        print(f"built {args.submissions:,} submissions in {time.perf_counter() - start:.1f} s")
    with open_ledger(path) as ledger:
        _, rows = ledger.database.query("SELECT COUNT(*) FROM submission_items")
        items = int(rows[0][0])
    size_mb = path.stat().st_size / 2**20
    print(f"ledger {path}: {args.submissions:,} submissions, {items:,} items, {size_mb:,.0f} MB")
    print(f"{'report':<18}{'rows':>8}{'first s':>10}{'best s':>9}{'cpu s':>8}{'peak RSS MB':>13}"
          f"{'traced MB':>11}  target")  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ok = True
    for name in REPORTS:
        f = measure(name, f"sqlite://{path.resolve()}", args.repeat)
        good = f["first"] < 2.0 and f["rss_mb"] < 1024
        ok &= good
        verdict = "ok" if good else "MISSED"
        print(f"{name:<18}{f['rows']:>8,.0f}{f['first']:>10.2f}{f['best']:>9.2f}{f['cpu']:>8.2f}"
              f"{f['rss_mb']:>13.0f}{f['traced_mb']:>11.0f}  {verdict}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
