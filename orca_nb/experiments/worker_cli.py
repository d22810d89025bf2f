"""``orca-nb worker``: run experiment variants from an account's queue in this process.

Several workers (on one machine or many, sharing a PostgreSQL system database) pull from the same
queue; the queue's concurrency cap and submit rate hold across all of them. The key comes from
``$ORCAROUTER_API_KEY`` (none: the embedded sandbox, for trying it out).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any

from orca_nb.experiments.location import DATABASE_ENV
from orca_nb.wire import command_failed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``worker`` on the ``orca-nb`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worker",
        help="run experiment variants from this key's queue (more workers, same queue)",
        description="Pull experiment variants from the queue of this key's account and run them "
        "until stopped (Ctrl-C) or, with --exit-when-idle, until the queue is empty.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help=f"system database: sqlite:///path or postgresql://... (default: ${DATABASE_ENV}, "
        "else beside the usage ledger)",
    )
    parser.add_argument("--concurrency", type=int, help="set the queue's cap on running variants")
    parser.add_argument("--per-minute", type=int, help="set the queue's submits per minute")
    parser.add_argument(
        "--polling-interval",
        type=float,
        default=None,
        help="seconds between queue polls (default: the runtime's, 0.25)",
    )
    parser.add_argument(
        "--exit-when-idle", action="store_true", help="stop once nothing is queued or running"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Launch the runtime for this key and serve until stopped. Returns the exit status."""
    from orca_nb.client import Orca
    from orca_nb.experiments.runtime import launch, shutdown

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        client = Orca()
        rt = launch(
            client,
            database_url=args.db,
            concurrency=args.concurrency,
            per_minute=args.per_minute,
            polling_interval=args.polling_interval,
        )
    except Exception as exc:  # a bad URL, no key, a database that cannot be reached
        return command_failed("worker", f"cannot start: {exc}")
    account = client.key_label
    print(
        f"orca-nb worker {rt.executor_id}: running {account}'s experiment variants"
        f"{' until the queue is empty' if args.exit_when_idle else ' (Ctrl-C stops)'}",
        flush=True,
    )
    try:
        idle = 0
        while not stop.wait(max(0.2, rt.settings.polling_interval)):
            if args.exit_when_idle:
                idle = idle + 1 if rt.outstanding(account) == 0 else 0
                if idle >= 3:
                    break
    finally:
        began = time.monotonic()
        shutdown()
        print(
            f"orca-nb worker: stopped ({time.monotonic() - began:.1f} s to shut down)", flush=True
        )
    # Variants this worker was following stay pending for another worker to recover; the DBOS
    # threads that ran them wait for an outcome only that worker records, and Python would wait
    # for those threads at exit for ever. So the process ends here, its output flushed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
