"""`nas verify RUN`: retrain the Pareto front with several seeds; mean, std, 95% intervals."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="retrain the front with N seeds: mean, std and 95%% interval per member"
    )
    parser.add_argument("run_dir", metavar="RUN", help="a run folder written by `nas search`")
    parser.add_argument("--seeds", type=int, default=3, metavar="N", help="seeds (default 3)")
    parser.add_argument(
        "--epochs", type=int, metavar="E", help="epochs per seed (default: the run's train.epochs)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch CPU threads per seed (default: the search's CPUs per trial)",
    )
    parser.add_argument(
        "--pick",
        nargs="+",
        default=["pareto"],
        metavar="PICK",
        help="members: pareto (default), knee, best-accuracy, or trial numbers",
    )
    parser.add_argument(
        "--address",
        metavar="ADDR",
        help="where the seeds run: local (Ray in this process), auto or HOST:PORT "
        "(default: where the search ran)",
    )
    parser.add_argument(
        "--winners",
        action="store_true",
        help="retrain the winner call's candidates (those within noise of each compared "
        "group's best, per --by and --budget as in `nas analyze`) instead of the front, and "
        "score every seed on the held-out test split; `nas analyze` then makes the call",
    )
    parser.add_argument(
        "--by", metavar="KEY", action="append", default=[], help="with --winners: as analyze"
    )
    parser.add_argument(
        "--budget",
        metavar="COLUMN<=X",
        action="append",
        default=[],
        help="with --winners: as analyze",
    )
    parser.add_argument("--json", action="store_true", help="print verify.json's document")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from evaluators.errors import TrainingFailed
    from nas.console import Countdown, note, print_json
    from nas.engine.verify import PartialVerify, verify_run
    from nas.runs.verification import format_summary

    countdown = Countdown(0)

    def on_start(to_train: int, kept: int) -> None:
        countdown.restart(to_train)
        kept_text = f"; {kept} already in verify.csv are kept" if kept else ""
        note(f"nas verify: {to_train} training(s) to run{kept_text}")

    def on_seed(row: dict) -> None:
        countdown.step()
        balanced = row.get("balanced_accuracy")
        extra = "" if balanced is None else f", balanced accuracy {balanced:.4f}"
        note(
            f"[{countdown.done}/{countdown.total}] trial {row['trial']} seed {row['seed']}: "
            f"accuracy {row['accuracy']:.4f}{extra} ({row['seconds']:.1f} s) | {countdown.text()}"
        )

    problems: list[str] = []
    members = None
    if args.winners:
        from nas.runs.analysis.run import winner_candidates

        members = winner_candidates(args.run_dir, args.by, args.budget)
        note(
            f"nas verify: retraining the winner call's candidates #{', #'.join(map(str, members))}"
        )
    elif args.by or args.budget:
        from search_space.errors import SpaceError

        raise SpaceError("--by and --budget choose the winner call's candidates: add --winners")
    try:
        document = verify_run(
            args.run_dir,
            args.seeds,
            args.epochs,
            args.pick,
            args.threads,
            on_seed=on_seed,
            on_start=on_start,
            address=args.address,
            members=members,
            need_test=args.winners,
        )
    except TrainingFailed as failure:
        print(f"nas verify: failed: {failure} (finished seeds are kept)", file=sys.stderr)
        return 1
    except PartialVerify as partial:  # the others were verified: shown, then the misses
        document, problems = partial.document, partial.problems
    if args.json:
        print_json(document)
    else:
        print(format_summary(document))
    for problem in problems:
        print(f"nas verify: error: {problem}", file=sys.stderr)
    if args.winners and not problems:
        from shlex import quote  # `<=` unquoted is a shell redirection

        flags = "".join(f" --by {quote(k)}" for k in args.by)
        flags += "".join(f" --budget {quote(b)}" for b in args.budget)
        note(f"next: nas analyze {quote(args.run_dir)}{flags} makes the call on the test split")
    return 2 if problems else 0
