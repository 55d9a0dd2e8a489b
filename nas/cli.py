"""The ``nas`` command line: one module per command under ``nas/commands/``.

Every error a user can cause is a ``SpaceError``; it is printed here as one line
per problem on stderr, and the command exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from search_space.errors import SpaceError

COMMANDS = ("validate", "sample", "info", "train", "search", "report", "export")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors also exit 2, in one line
        self.exit(2, f"nas: error: {message} (see `nas {self.prog.split()[-1]} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nas", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"nas.commands.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SpaceError as error:
        for problem in error.problems:
            print(f"nas {args.command}: error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nas {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
