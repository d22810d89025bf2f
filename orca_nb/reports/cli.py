"""``orca-nb report``: build the usage report from a ledger as HTML, CSV and/or Parquet."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from orca_nb.ledger import LEDGER_ENV
from orca_nb.wire import command_failed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report`` on the ``orca-nb`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="usage report from the ledger (HTML, CSV, Parquet)",
        description="Build the usage report from the ledger: a one-file HTML page with charts "
        "(works offline) and, if asked, every report as CSV and/or Parquet files.",
    )
    parser.add_argument("--since", help="start: ISO date/time or a span back from now (7d, 12h)")
    parser.add_argument("--until", help="end (exclusive): ISO date/time or a span back from now")
    parser.add_argument("--group", action="append", help="only this group id (repeatable)")
    parser.add_argument("--model", action="append", help="only this model (repeatable)")
    parser.add_argument(
        "--experiment", action="append", help="only this experiment's submissions (repeatable)"
    )
    parser.add_argument(
        "--out", default="report.html", help="HTML file to write (default: %(default)s)"
    )
    parser.add_argument("--no-html", action="store_true", help="write no HTML report")
    parser.add_argument("--csv", metavar="DIR", help="also write every report as DIR/<name>.csv")
    parser.add_argument("--parquet", metavar="DIR", help="also write DIR/<name>.parquet files")
    parser.add_argument(
        "--ledger",
        metavar="URL",
        help=f"sqlite:///path or postgresql://... (default: ${LEDGER_ENV} or the user data dir)",
    )
    parser.add_argument("--title", default="orca_nb usage report", help="HTML report title")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Build what the arguments ask for; print each file written. Returns the exit status."""
    from orca_nb.ledger import open_ledger
    from orca_nb.reports.export import export_csv, export_parquet
    from orca_nb.reports.html import write_html
    from orca_nb.reports.registry import build_all

    now = datetime.now(UTC)
    selection = {"since": args.since, "until": args.until, "group": args.group,
                 "model": args.model, "experiment": args.experiment, "now": now}  # fmt: skip
    try:
        ledger = open_ledger(args.ledger)
    except Exception as exc:  # a bad URL, an unreachable server: say so plainly
        return command_failed("report", f"cannot open the ledger: {exc}")
    try:
        written = []
        if not args.no_html:
            written.append(write_html(args.out, ledger, title=args.title, **selection))
        if args.csv or args.parquet:
            frames = build_all(ledger, **selection)
            if args.csv:
                written += export_csv(frames, args.csv)
            if args.parquet:
                written += export_parquet(frames, args.parquet)
    except ValueError as exc:  # e.g. an unreadable --since
        return command_failed("report", exc)
    finally:
        ledger.close()
    for path in written:
        print(path)
    if not written:
        return command_failed("report", "nothing to write (--no-html without --csv/--parquet)")
    return 0
