"""``python -m wommsim.validate``: the validation suite's earlier command line, kept as a
thin shim over ``python -m wommsim.validation`` (:mod:`wommsim.validation.__main__`), which
it calls with the same settings:

    python -m wommsim.validate                       # python -m wommsim.validation
    python -m wommsim.validate --quick --out /tmp/v  # ... quick=true out=/tmp/v
    python -m wommsim.validate --case bass_discrete --case q_zero --out /tmp/v
                                                     # ... 'cases=[bass_discrete,q_zero]' out=/tmp/v
    python -m wommsim.validate --list                # ... list=true

``--seed N`` and ``--jobs N`` become ``seed=N`` and ``workers=N``. Exit status and guarantees
are those of ``python -m wommsim.validation``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wommsim.runs import faults


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
    p.add_argument("--seed", type=int, default=None, help="base seed (default 42)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes; 0 = one per core (default; results identical)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p


def hydra_args(args: argparse.Namespace) -> list[str]:
    """The ``python -m wommsim.validation`` arguments for parsed ``args``."""
    new = [f"{key}={value}" for key, value in (("seed", args.seed), ("workers", args.jobs))
           if value is not None]
    if args.out is not None:
        new.append(f"out='{args.out}'" if "'" not in str(args.out) else f'out="{args.out}"')
    if args.cases:
        new.append(f"cases=[{','.join(args.cases)}]")
    if args.quick:
        new.append("quick=true")
    if args.list:
        new.append("list=true")
    return new


def main(argv: list[str] | None = None) -> int:
    from wommsim.validation.__main__ import main as validation

    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    return validation(hydra_args(args))


if __name__ == "__main__":
    faults.install_signal_handlers()  # Ctrl+C, SIGTERM: one line, exit 130 / 143
    sys.exit(main())
