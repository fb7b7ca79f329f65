"""``python -m wommsim [overrides]``: Hydra entry point only (compose, validate, run, exit).

Bad input ends with one clear message on stderr naming the key (or file and line) and the
value, exit status 2, and no result files. An interrupt (SIGINT, SIGTERM) or a failed write
(full disk, unwritable folder) or a worker process that dies ends with one line, exit
status 130/143 or 1, and no result files (see :mod:`wommsim.runs.faults`). In a sweep (``-m``)
each job runs through :func:`wommsim.sweeps.sweep.run_job`: a failed job is recorded and the others
go on, and the sweep exits with status 1 after writing its aggregate; an interrupt stops the
whole sweep, and so does a launcher's worker process that dies (its jobs are listed as lost,
:func:`wommsim.sweeps.sweep.finish_broken_sweep`).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from wommsim.compose import check_parsable, configs_dir, describe_error, to_config
from wommsim.config import ConfigError, register
from wommsim.runs import faults, rundir
from wommsim.sweeps.sweep import (
    command_overrides,
    finish_broken_sweep,
    finish_interrupted_sweep,
    register_resolver,
    run_job,
)

log = logging.getLogger("wommsim")

register()
register_resolver()
rundir.register_resolver()


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="config")
def _app(dictcfg: DictConfig) -> int | None:
    from wommsim.runs.runner import run

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hydra_cfg = HydraConfig.get()
    outdir = Path(hydra_cfg.runtime.output_dir)
    try:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            with faults.interruptible():  # also in a launcher's worker process (joblib)
                return run_job(dictcfg, outdir, hydra_cfg)
        cfg = to_config(dictcfg, list(hydra_cfg.overrides.task))
        run(cfg, outdir)
    except ConfigError as err:
        rundir.restore_hydra_files()  # refused before writing: .hydra/ stays the results'
        print(f"wommsim: error: {err}", file=sys.stderr)
        sys.exit(2)
    # -- faults: see wommsim.runs.faults --
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
    except faults.WorkerLost as err:  # e.g. the out-of-memory killer took a worker
        faults.discard_results(outdir)
        print(f"wommsim: error: {err}; {outdir} holds no results", file=sys.stderr)
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
        check_parsable(command_overrides(sys.argv[1:]))
        try:
            _app()
        except rundir.Refused as refused:  # the run folder is taken, or not wommsim's
            raise refused.error from None
    except ConfigError as err:
        print(f"wommsim: error: {err}", file=sys.stderr)
        sys.exit(2)
    except SystemExit as stop:
        if stop.code not in (None, 0):
            finish_interrupted_sweep()  # only if a sweep was under way and did not finish
        raise
    except faults.Interrupted as sig:  # before the run started
        finish_interrupted_sweep()
        print(f"wommsim: interrupted by {sig.name}", file=sys.stderr)
        sys.exit(sig.exit_status)
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as err:
        if full_errors:
            raise
        print(f"wommsim: error: {describe_error(err)}", file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        if full_errors:
            raise
        print(f"wommsim: error: {faults.describe_os_error(err)}", file=sys.stderr)
        sys.exit(faults.EXIT_OS_ERROR)
    except Exception as err:  # a sweep's launcher failed, e.g. a worker process was killed
        if not finish_broken_sweep(err):
            raise
        sys.exit(faults.EXIT_OS_ERROR)
    finally:
        rundir.release_all()


if __name__ == "__main__":
    main()
