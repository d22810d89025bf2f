"""The ``orca-nb`` command: ``sandbox`` (serve the emulator), ``studio`` (open the studio
notebook on the sandbox), ``report`` (usage report), ``worker`` (run experiment variants) and
``experiment`` (list stored experiments, export one as offline HTML).
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
    "experiment": "orca_nb.experiments.commands",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand (or only the ``only`` one: a command starts
    without importing the others' modules, e.g. pandas for ``report``)."""
    parser = argparse.ArgumentParser(prog="orca-nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in _COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``orca-nb`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = args_list[0] if args_list else None
    args = build_parser(first if first in _COMMANDS else None).parse_args(args_list)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
