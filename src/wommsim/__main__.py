"""``python -m wommsim [overrides]``: Hydra entry point only (compose, validate, run, exit).

Bad input ends with one clear message on stderr naming the key (or file and line) and the
value, exit status 2, and no result files. An interrupt (SIGINT, SIGTERM) or a failed write
(full disk, unwritable folder) ends with one line, exit status 130/143 or 1, and no result
files (see :mod:`wommsim.faults`). In a sweep (``-m``) each job runs through
:func:`wommsim.sweep.run_job`: a failed job is recorded and the others go on, and the sweep
exits with status 1 after writing its aggregate; an interrupt stops the whole sweep, and so
does a job its launcher lost (cancelled or killed under SLURM), after aggregating what
finished (exit status 1).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from wommsim import faults
from wommsim.compose import configs_dir, describe_error, to_config
from wommsim.config import ConfigError, register
from wommsim.sweep import finish_interrupted_sweep, register_resolver, run_job

log = logging.getLogger("wommsim")

register()
register_resolver()


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="config")
def _app(dictcfg: DictConfig) -> int | None:
    from wommsim.runner import run

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hydra_cfg = HydraConfig.get()
    outdir = Path(hydra_cfg.runtime.output_dir)
    try:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            return run_job(dictcfg, outdir, hydra_cfg)
        cfg = to_config(dictcfg, list(hydra_cfg.overrides.task))
        run(cfg, outdir)
    except ConfigError as err:
        print(f"wommsim: error: {err}", file=sys.stderr)
        sys.exit(2)
    # -- faults: see wommsim.faults --
    except faults.Interrupted as sig:
        faults.discard_results(outdir)
        print(f"wommsim: interrupted by {sig.name}; {outdir} holds no results "
              "(manifest.json says completed: false)", file=sys.stderr)
        sys.exit(sig.exit_status)
    except OSError as err:
        faults.discard_results(outdir)
        print(f"wommsim: error: {faults.describe_os_error(err)}; {outdir} holds no results",
              file=sys.stderr)
        sys.exit(faults.EXIT_OS_ERROR)
    return None


def main() -> None:
    faults.install_signal_handlers()
    # Hydra prints its own errors (with a traceback) unless HYDRA_FULL_ERROR=1 lets them
    # through: bad overrides (exit 2) and an output folder Hydra cannot create (exit 1)
    # then get one clear line here. A user who asked for full errors gets them.
    full_errors = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        _app()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            finish_interrupted_sweep()  # only if a sweep was under way and did not finish
        raise
    except faults.Interrupted as sig:  # before the run started
        finish_interrupted_sweep()
        print(f"wommsim: interrupted by {sig.name}", file=sys.stderr)
        sys.exit(sig.exit_status)
    except (HydraException, OmegaConfBaseException) as err:
        if full_errors:
            raise
        print(f"wommsim: error: {describe_error(err)}", file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        if full_errors:
            raise
        print(f"wommsim: error: {faults.describe_os_error(err)}", file=sys.stderr)
        sys.exit(faults.EXIT_OS_ERROR)
    except Exception as err:
        # A launcher ended the sweep early (a SLURM job cancelled, out of time or killed:
        # submitit's UncompletedJobError): what finished is aggregated.
        if not finish_interrupted_sweep() or full_errors:
            raise
        print(f"wommsim: error: the sweep stopped: {type(err).__name__}: "
              f"{' '.join(str(err).split())}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
