"""``python -m wommsim.validate``: run the validation suite and write its report.

    python -m wommsim.validate                     # every case, full size: docs/VALIDATION.md
    python -m wommsim.validate --quick --out /tmp/v  # tiny sizes (seconds), for tests
    python -m wommsim.validate --case bass_discrete --case q_zero --out /tmp/v
    python -m wommsim.validate --list               # the cases, with their sources

Exit status: 0 when every case passes, 1 when any case fails validation (the report is
written either way and says what failed and why) or ``--out`` cannot be written (refused
before any case runs), 2 on bad arguments or runs that would not fit in memory
(:func:`wommsim.runs.memory.check_memory`), 130/143 on Ctrl+C/SIGTERM (the previous report stays
as it was). ``--quick`` and
``--case`` need ``--out``, so that they never overwrite the report of record.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from wommsim.config import ConfigError
from wommsim.runs import faults
from wommsim.validation import CASES, command_line, run, select


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m wommsim.validate",
        description="Validate wommsim (Rand & Rust 2011): dock with the Bass model, corner "
                    "cases, the network bound and stylised facts; write VALIDATION.md.")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for VALIDATION.md and validation/*.png (default: docs, the "
                        "report of record; required with --quick or --case)")
    p.add_argument("--case", action="append", dest="cases", metavar="NAME",
                   help="run only this case (repeatable); see --list")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes: checks that every case runs, not a report of record")
    p.add_argument("--seed", type=int, default=42, help="base seed (default 42)")
    p.add_argument("--jobs", type=int, default=0,
                   help="worker processes; 0 = one per core (default; results identical)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    if args.list:
        for spec in CASES.values():
            print(f"{spec.name:22s} {spec.category:9s} {spec.title}")
        return 0
    try:
        select(args.cases)
        if args.out is None and (args.quick or args.cases):
            raise ValueError("--quick and --case need --out: without it they would overwrite "
                             "the report of record, docs/VALIDATION.md")
        out = args.out or Path("docs")
        if args.jobs < 0:
            raise ValueError(f"--jobs={args.jobs}: must be 0 (one per core) or more")
        if not 0 <= args.seed < 2**32:
            raise ValueError(f"--seed={args.seed}: must be between 0 and 2**32 - 1")
    except ValueError as err:
        print(f"wommsim.validate: error: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:  # an unwritable --out fails before any case runs: run() makes its folders first
        results = run(out, cases=args.cases, quick=args.quick, seed=args.seed,
                      jobs=args.jobs, command=command_line(argv))
    except ConfigError as err:  # e.g. a case's runs would not fit in memory
        print(f"wommsim.validate: error: {err}", file=sys.stderr)
        return 2
    except faults.FAULTS as err:
        return faults.report("wommsim.validate", err, f"{out / 'VALIDATION.md'} is as it was")
    width = max(len(r.name) for r in results)
    for r in results:
        print(f"{r.name:{width}s}  {r.verdict:4s}  {r.measured}")
    failed = [r.name for r in results if not r.passed]
    print(f"{len(results) - len(failed)} of {len(results)} cases pass; report: "
          f"{out / 'VALIDATION.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    faults.install_signal_handlers()  # Ctrl+C, SIGTERM: one line, exit 130 / 143
    sys.exit(main())
