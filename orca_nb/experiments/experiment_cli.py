"""``orca-nb experiment``: read stored experiments from a shell.

- ``orca-nb experiment list``: the stored experiments, newest first (name, id, state, counts).
- ``orca-nb experiment export <name or id> -o file.html``: one offline HTML file with poster
  frames, parameters, tokens and ratings (:func:`orca_nb.experiments.export.export_html`).

Neither starts the experiments runtime (nothing is enqueued or sent); posters are fetched with
``$ORCAROUTER_API_KEY`` (none: the embedded sandbox), ``--no-posters`` needs no key at all.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from orca_nb.experiments.location import DATABASE_ENV
from orca_nb.wire import command_failed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``experiment`` (with ``list`` and ``export``) on the ``orca-nb`` subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "experiment",
        help="list stored experiments, export one as an offline HTML file",
        description="Read stored experiments (nothing is sent or enqueued).",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    db_help = (
        f"experiments database: sqlite:///path or postgresql://... (default: ${DATABASE_ENV}, "
        "else beside the usage ledger)"
    )
    listing = actions.add_parser("list", help="the stored experiments, newest first")
    listing.add_argument("--db", metavar="URL", help=db_help)
    listing.set_defaults(func=run_list)
    export = actions.add_parser(
        "export",
        help="write one experiment as a one-file offline HTML page",
        description="Write the experiment's base request, every variant (values, status, "
        "prompt, parameters, tokens, latency, rating, pin, tags, note) and poster frames into "
        "one HTML file that opens in a browser without a server or network.",
    )
    export.add_argument("experiment", help="the experiment's name or id")
    export.add_argument(
        "-o", "--output", metavar="FILE", help="where to write (default: <name>.html here)"
    )
    export.add_argument("--db", metavar="URL", help=db_help)
    export.add_argument(
        "--no-posters", action="store_true", help="leave posters out (no key, no download)"
    )
    export.add_argument(
        "--poster-side", type=int, default=None, metavar="PX",
        help="longest side of each poster in pixels (default 320)",
    )  # fmt: skip
    export.set_defaults(func=run_export)
    return parser


def run_list(args: argparse.Namespace) -> int:
    """Print the stored experiments. Returns the exit status."""
    from orca_nb.experiments.location import open_experiments_db
    from orca_nb.experiments.progress import counts_text, phase

    try:
        db = open_experiments_db(args.db)
    except Exception as exc:
        return command_failed("experiment list", exc)
    try:
        found = db.list_experiments()
        if not found:
            print("no experiments stored yet")
        for e in found:
            counts = db.counts(e.experiment_id)
            text = counts_text(counts)
            print(f"{e.name}\t{e.experiment_id}\t{phase(e.state, counts)}\t{text}")
    finally:
        db.close()
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the HTML export and say where. Returns the exit status."""
    from orca_nb.experiments.export import export_html
    from orca_nb.experiments.location import find_experiment, open_experiments_db

    try:
        target = args.output
        if target is None:
            db = open_experiments_db(args.db)
            try:
                name = find_experiment(db, args.experiment).name
            finally:
                db.close()
            target = _safe_name(name) + ".html"
        done = export_html(
            args.experiment,
            target,
            database_url=args.db,
            posters=not args.no_posters,
            poster_side=args.poster_side,
        )
    except Exception as exc:  # unknown experiment, no database, no key, unwritable path...
        return command_failed("experiment export", exc)
    print(f"wrote {done}")
    return 0


def _safe_name(name: str) -> str:
    """A file name made from an experiment name (letters, digits, - and _)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")
    return str(Path(cleaned[:80] or "experiment"))
