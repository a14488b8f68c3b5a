"""``opencall budget run FILE.pb --rule RULE``: compute a budget outcome from a Pabulib file.

``main(argv)`` takes the arguments after ``budget`` (so ``argv[0] == "run"``) and returns the exit
status: 0 on success, 2 on bad input (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from typing import NoReturn

from tqdm import tqdm

from opencall.engines.budgeting.pabulib import PabulibError, read_pabulib
from opencall.engines.budgeting.registry import RULES, RuleError, run_rule

PROGRESS_MIN_BYTES = 1_000_000


class _InputError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _InputError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="opencall budget", description="Participatory-budgeting outcomes.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="compute an outcome from a .pb file")
    run.add_argument("file", help="a Pabulib .pb file ('-' reads standard input)")
    run.add_argument("--rule", required=True, choices=sorted(RULES), metavar="RULE", help=", ".join(RULES))
    run.add_argument("--json", action="store_true", help='print {"selected": [...], "explanations": {...}}')
    run.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def _read(path: str, progress: bool) -> str:
    if path == "-":
        return sys.stdin.read().lstrip("\ufeff")
    try:
        size = os.path.getsize(path)
        with (
            open(path, "rb") as fh,
            tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                desc="reading",
                file=sys.stderr,
                disable=not progress or size < PROGRESS_MIN_BYTES,
                leave=False,
            ) as bar,
        ):
            chunks = io.BytesIO()
            while chunk := fh.read(1 << 20):
                chunks.write(chunk)
                bar.update(len(chunk))
        raw = chunks.getvalue()
    except OSError as exc:
        raise _InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _InputError(f"{path} is not UTF-8 text (byte {exc.start})") from None


def main(argv: list[str]) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. head)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except _InputError as exc:
        print(f"opencall budget: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        text = _read(args.file, not args.no_progress)
        election = read_pabulib(text)
        big = len(text) >= PROGRESS_MIN_BYTES and not args.no_progress
        with tqdm(desc=f"{args.rule} passes", file=sys.stderr, disable=not big, leave=False) as bar:

            def advance(done: int) -> None:
                bar.update(done - bar.n)

            outcome = run_rule(election, args.rule, progress=advance)
    except (_InputError, PabulibError, RuleError) as exc:
        name = args.file if args.file != "-" else "<stdin>"
        print(f"opencall budget: error: {name}: {exc}", file=sys.stderr)
        return 2
    ids = outcome.selected_ids
    if args.json:
        payload = {
            "selected": list(ids),
            "explanations": {e.project_id: e.as_dict() for e in outcome.explanations},
        }
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    spent = sum(election.projects[c].cost for c in outcome.selected)
    print(
        f"{args.rule}: {len(ids)} of {election.num_projects} projects funded, {float(spent):,.2f} of {float(election.budget):,.2f}"
    )
    for c in outcome.selected:
        p = election.projects[c]
        name = p.field("name")
        print(f"  {p.project_id}\t{float(p.cost):,.2f}\t{name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
