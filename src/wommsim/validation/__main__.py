"""``python -m wommsim.validation``: run the validation suite and write its report.

    python -m wommsim.validation                     # every case, full size: docs/VALIDATION.md
    python -m wommsim.validation quick=true out=/tmp/v  # tiny sizes (seconds), for tests
    python -m wommsim.validation 'cases=[bass_discrete,q_zero]' out=/tmp/v
    python -m wommsim.validation list=true          # the cases, with their sources

A Hydra app (primary config ``configs/validation.yaml``): ``--cfg job``, ``-m`` (e.g.
``-m seed=1,2``: one report per job under ``multirun/validation/``) and ``--help`` work as
for ``python -m wommsim``. Keys: ``cases`` (a list of case names; default every case),
``quick`` (tiny sizes), ``seed`` (default 42), ``workers`` (worker processes, 0 = one per
core; results identical), ``list`` (print the cases and run nothing) and ``out`` (folder of
``VALIDATION.md`` and ``validation/*.png``; default ``docs``, the report of record).
``quick`` and ``cases`` need ``out=``, so that they never overwrite the report of record.

Exit status: 0 when every case passes, 1 when any case fails validation (the report is
written either way and says what failed and why) or ``out`` cannot be written (refused
before any case runs), 2 on bad input (an unknown key or case, a bad value) or runs that
would not fit in memory (:func:`wommsim.runs.memory.check_memory`), 130/143 on Ctrl+C/SIGTERM
(the previous report stays as it was). ``python -m wommsim.validate`` takes the same
settings as ``--quick``, ``--out DIR``, ``--case NAME``, ``--seed``, ``--jobs``, ``--list``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from wommsim.compose import configs_dir
from wommsim.config import ConfigError
from wommsim.runs import faults
from wommsim.studies.paramspace import as_list, override_keys, run_tool, sweep_workers, tool_job
from wommsim.validation import CASES, REPORT, command_line, run, select
from wommsim.validation.report import QUICK_NOTE

TOOL = "wommsim.validation"


@dataclass
class ValidationConfig:
    """The keys of ``configs/validation.yaml`` (see the module docstring)."""

    cases: Any = None
    quick: bool = False
    seed: int = 42
    workers: int = 0
    list: bool = False
    out: str = "docs"


ConfigStore.instance().store(name="validation_schema", node=ValidationConfig)


def _validate(own: Any, outdir: Path, overrides: list[str]) -> int:
    """The suite's job: ``outdir`` is the run folder, ``out`` in a single run."""
    if own.list:
        for spec in CASES.values():
            print(f"{spec.name:22s} {spec.category:9s} {spec.title}")
        return 0
    cases = as_list(own.cases) or None
    try:
        select(cases)
    except ValueError as err:
        raise ConfigError(f"cases: {err}") from None
    single = HydraConfig.get().mode != RunMode.MULTIRUN  # a sweep writes into its own folders
    if single and "out" not in override_keys(overrides) and (own.quick or cases):
        raise ConfigError("quick and cases need out=: without it they would overwrite the "
                          "report of record, docs/VALIDATION.md")
    if own.workers < 0:
        raise ConfigError(f"workers={own.workers}: must be 0 (one per core) or more")
    if not 0 <= own.seed < 2**32:
        raise ConfigError(f"seed={own.seed}: must be between 0 and 2**32 - 1")
    results = run(outdir, cases=cases, quick=own.quick, seed=own.seed,
                  workers=sweep_workers(own.workers), command=command_line(overrides))
    width = max(len(r.name) for r in results)
    if own.quick:
        print(QUICK_NOTE.replace("**", "").replace("`", ""))
    for r in results:
        print(f"{r.name:{width}s}  {r.verdict:4s}  {r.measured}")
    failed = [r.name for r in results if not r.passed]
    print(f"{len(results) - len(failed)} of {len(results)} cases pass; report: "
          f"{outdir / REPORT}")
    return 1 if failed else 0


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="validation")
def _app(dictcfg: Any) -> None:
    tool_job(TOOL, _validate, dictcfg,
             kept=lambda outdir: f"{outdir / REPORT} is as it was")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``argv``: its arguments); returns the exit status."""
    return run_tool(_app, TOOL, argv, list_keys=("cases",), takes_out=True,
                    bool_keys=("quick", "list"))


if __name__ == "__main__":
    faults.install_signal_handlers()  # Ctrl+C, SIGTERM: one line, exit 130 / 143
    sys.exit(main())
