"""The ``orca-nb`` command: ``sandbox`` (serve the emulator), ``studio`` (open the studio
notebook on the sandbox), ``report`` (usage report), ``worker`` (run experiment variants) and
``experiment`` (list stored experiments, export one as offline HTML).
Each room registers its own subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

# Each room's ``add_parser(subparsers)`` sets ``func(args) -> int`` on its subcommand.
AddParser = Callable[[Any], argparse.ArgumentParser]
_COMMANDS = ("sandbox", "studio", "report", "worker", "experiment")


def _add_parser(command: str) -> AddParser:
    """The ``add_parser`` of ``command``'s room, imported only when that command is built."""
    if command == "sandbox":
        from orca_nb.sandbox.cli import add_parser
    elif command == "studio":
        from orca_nb.widgets.cli import add_parser
    elif command == "report":
        from orca_nb.reports.cli import add_parser
    elif command == "worker":
        from orca_nb.experiments.worker_cli import add_parser
    elif command == "experiment":
        from orca_nb.experiments.experiment_cli import add_parser
    else:
        raise ValueError(f"no orca-nb subcommand {command!r}; one of {', '.join(_COMMANDS)}")
    return add_parser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every subcommand (or only the ``only`` one: a command starts
    without importing the others' modules, e.g. pandas for ``report``)."""
    parser = argparse.ArgumentParser(prog="orca-nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _COMMANDS:
        if only is None or name == only:
            _add_parser(name)(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``orca-nb`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = args_list[0] if args_list else None
    args = build_parser(first if first in _COMMANDS else None).parse_args(args_list)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
