"""``orca-nb sandbox``: serve the sandbox on a fixed loopback port for curl and other clients."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from orca_nb import wire
from orca_nb.sandbox.config import PROCESSING_MODES, TASK_SHAPES, SandboxConfig
from orca_nb.sandbox.embedded import default_db_path
from orca_nb.sandbox.server import SandboxServer


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``sandbox`` on the ``orca-nb`` command line (sets ``func(args) -> int``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox",
        help="serve the local OrcaRouter sandbox",
        description="Serve the orca_nb sandbox (a local OrcaRouter emulator) on loopback.",
    )
    parser.add_argument("--port", type=int, default=8765, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    parser.add_argument(
        "--db",
        default=None,
        help="SQLite file for the state (default: the user data dir; ':memory:' keeps none)",
    )
    parser.add_argument("--processing", choices=PROCESSING_MODES, default="timed")
    parser.add_argument("--processing-seconds", type=float, default=2.0)
    parser.add_argument(
        "--task-queue-seconds",
        type=float,
        default=SandboxConfig.task_queue_seconds,
        help="timed: seconds a task stays queued before it runs",
    )
    parser.add_argument(
        "--task-seconds",
        type=float,
        default=SandboxConfig.task_seconds,
        help="timed: seconds a task runs (its render time)",
    )
    parser.add_argument(
        "--max-running-tasks",
        type=int,
        default=None,
        help="per account: tasks running at once; more stay queued (default: no limit)",
    )
    parser.add_argument(
        "--refuse-over-running-cap",
        action="store_true",
        help="answer 429 instead of queueing while an account's tasks fill the running cap",
    )
    parser.add_argument(
        "--submits-per-minute",
        type=int,
        default=None,
        help="per account: video creates in any rolling minute; more get 429 (default: none)",
    )
    parser.add_argument(
        "--render-once",
        action="store_true",
        help="load tests: one MP4 per text-only request shape, not one render per task",
    )
    parser.add_argument(
        "--task-shape",
        choices=TASK_SHAPES,
        default=TASK_SHAPES[0],
        help="answer of GET /video/generations/{id} (default: the documented new-api wrapper)",
    )
    parser.add_argument("--asset-cap", type=int, default=wire.DEFAULT_ASSET_CAP)
    parser.add_argument(
        "--session-ttl",
        type=float,
        default=float(wire.SESSION_TTL_SECONDS),
        help="seconds a real-human verification link stays valid (e.g. 120, or 10 for a demo)",
    )
    parser.add_argument(
        "--balance",
        type=float,
        default=SandboxConfig.play_balance_usd,
        help="each account's play balance in USD (video tasks draw it down)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random source")
    parser.set_defaults(func=run)
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The sandbox settings the command line asks for."""
    return SandboxConfig(
        db_path=args.db or default_db_path(),
        processing=args.processing,
        processing_seconds=args.processing_seconds,
        task_queue_seconds=args.task_queue_seconds,
        task_seconds=args.task_seconds,
        max_running_tasks=args.max_running_tasks,
        refuse_over_running_cap=args.refuse_over_running_cap,
        submits_per_minute=args.submits_per_minute,
        render_once=args.render_once,
        task_shape=args.task_shape,
        asset_cap=args.asset_cap,
        session_ttl=args.session_ttl,
        play_balance_usd=args.balance,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM)."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        return wire.command_failed("sandbox", exc)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        with SandboxServer(config, port=args.port, host=args.host) as server:
            print(
                f"orca_nb sandbox serving {server.base_url} (state: {config.db_path}); "
                f"demo key {wire.DEFAULT_SANDBOX_KEY}. Ctrl-C stops it.",
                flush=True,
            )
            while not stop.wait(0.5) and server.running:
                pass
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        return wire.command_failed(
            "sandbox", f"cannot serve on {args.host}:{args.port}: {exc}", status=1
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``orca-nb sandbox`` alone: ``python -m orca_nb.sandbox.cli --port 8765``."""
    parser = argparse.ArgumentParser(prog="orca-nb")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    args = parser.parse_args(["sandbox", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
