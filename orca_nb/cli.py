"""The ``orca-nb`` command: ``sandbox`` (serve the emulator), ``studio`` (open the studio
notebook on the sandbox), ``report`` (usage report) and ``worker`` (run experiment variants).
Each room registers its own subcommand."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> module exposing ``add_parser(subparsers)`` that sets ``func(args) -> int``
_COMMANDS = {
    "sandbox": "orca_nb.sandbox.cli",
    "studio": "orca_nb.widgets.cli",
    "report": "orca_nb.reports.cli",
    "worker": "orca_nb.experiments.cli",
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand whose module is importable."""
    parser = argparse.ArgumentParser(prog="orca-nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for module_name in _COMMANDS.values():
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``orca-nb`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
