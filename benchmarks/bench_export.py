"""Benchmark: an experiment's offline HTML export, with and without posters.

    .venv/bin/python benchmarks/bench_export.py [--prompts 10] [--seeds 10] [--side 320]

Runs a prompts x seeds grid on an in-process sandbox (instant processing, ``render_once``: one
MP4 per request shape, so the sweep itself is quick and each poster still decodes a real
H.264 480p video), marks a winner and a few ratings, then times ``run.export_html`` with
posters (each: a task read, a download, a decode, a JPEG) and without. Prints variants,
wall seconds, file size and the bytes each embedded poster adds. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--side", type=int, default=320, help="poster's longest side (px)")
    parser.add_argument("--keep", metavar="DIR", help="write the pages here (default: temp)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["ORCA_NB_LEDGER"] = f"sqlite://{work / 'ledger.sqlite3'}"

    from orca_nb import wire
    from orca_nb.client import Orca
    from orca_nb.compose import Selection, build_request
    from orca_nb.experiments import Experiment, shutdown, start
    from orca_nb.sandbox import Backend, SandboxConfig, SandboxServer

    backend = Backend(SandboxConfig(processing="instant", render_once=True))
    server = SandboxServer(backend).start()
    client = Orca(wire.DEFAULT_SANDBOX_KEY, base_url=server.base_url)
    try:
        body = build_request(wire.SEEDANCE_2, "a lighthouse", Selection(), ratio="16:9",
                             resolution="480p", duration=4)  # fmt: skip
        prompts = [f"a lighthouse in weather number {i}" for i in range(args.prompts)]
        exp = Experiment.grid(body, name="bench-export", prompts=prompts,
                              seed=list(range(1, args.seeds + 1)))  # fmt: skip
        began = time.monotonic()
        run = start(exp, client, concurrency=16, per_minute=100_000, confirm=10**12,
                    database_url=f"sqlite:///{work / 'experiments.sqlite3'}",
                    polling_interval=0.1, poll_interval=0.1)  # fmt: skip
        done = run.wait(1800)
        print(f"sweep: {done} in {time.monotonic() - began:.1f} s")
        ledger = run.ledger()
        good = [v.variant_id for v in run.variants() if v.status == "succeeded"]
        if ledger is not None and good:
            ledger.mark_variant(run.experiment_id, good[0], pinned=True, rating=5,
                                tags=["sharp"], note="the one")  # fmt: skip
            for vid in good[1:6]:
                ledger.mark_variant(run.experiment_id, vid, rating=3)
        rows = []
        for posters in (False, True):
            target = work / f"export-{'posters' if posters else 'plain'}.html"
            t0 = time.monotonic()
            out = run.export_html(target, posters=posters, poster_side=args.side)
            wall = time.monotonic() - t0
            extra = out.bytes - rows[0][5] if rows else 0  # what the posters added
            per = extra / out.posters if out.posters else 0
            rows.append((posters, out.variants, out.posters, out.poster_failures, wall,
                         out.bytes, per))  # fmt: skip
        print(f"{'posters':>8} {'variants':>8} {'made':>5} {'failed':>6} {'seconds':>8} "
              f"{'KiB':>8} {'B/poster':>9}")  # fmt: skip
        for posters, n, made, failed, wall, size, per in rows:
            print(f"{posters!s:>8} {n:>8} {made:>5} {failed:>6} {wall:>8.2f} {size / 1024:>8.0f} "
                  f"{per:>9.0f}")  # fmt: skip
        print(f"pages in {work}")
    finally:
        shutdown()
        client.close()
        server.close()
        backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
