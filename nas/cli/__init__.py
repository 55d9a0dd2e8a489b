"""nas: neural architecture search over CNN/transformer designs, scored on accuracy vs FLOPs.

Every error a user can cause is a ``SpaceError``; it is printed here as one line
per problem on stderr, and the command exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from search_space.errors import SpaceError

# Only the command being run is imported, so `nas validate` does not pay for Ray or Optuna.
COMMANDS = {
    "validate": "check a space file and print its size",
    "sample": "print sampled architectures with params and FLOPs",
    "info": "params and FLOPs of one architecture, per stage",
    "train": "train and score one architecture",
    "search": "run a search (Optuna samples, Ray Tune trains)",
    "report": "the Pareto front, hypervolume and plots of a run",
    "export": "write the chosen Pareto models of a run",
    "verify": "retrain the front with several seeds: mean, std, 95% intervals",
    "analyze": "which design choice wins at which budget: groups, EDFs, winners",
    "compare": "compare runs: fronts, EDFs, common-reference hypervolume, KS test",
    "zoo": "list the zoo; convert a timm checkpoint into a zoo model's weights",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors also exit 2, in one line
        self.exit(2, f"nas: error: {message} (see `nas {self.prog.split()[-1]} --help`)\n")


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser, with full arguments for the `chosen` command (all of them when None)."""
    parser = _Parser(prog="nas", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        if chosen in (None, name):
            importlib.import_module(f"nas.cli.{name}").add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_text.replace("%", "%%"))  # argparse %-formats
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), "")
    args = build_parser(chosen if chosen in COMMANDS else "").parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except SpaceError as error:
        for problem in error.problems:
            print(f"nas {args.command}: error: {problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `nas sample ... | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"nas {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
