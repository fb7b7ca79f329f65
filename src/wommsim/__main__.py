"""``python -m wommsim [overrides]``: Hydra entry point only (compose, validate, run, exit).

Bad input ends with one clear message on stderr naming the key (or file and line) and the
value, exit status 2, and no result files. In a sweep (``-m``) each job runs through
:func:`wommsim.sweep.run_job`: a failed job is recorded and the others go on, and the sweep
exits with status 1 after writing its aggregate.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from wommsim.compose import configs_dir, to_config
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
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return run_job(dictcfg, Path(hydra_cfg.runtime.output_dir), hydra_cfg)
    try:
        cfg = to_config(dictcfg)
        run(cfg, Path(HydraConfig.get().runtime.output_dir))
    except ConfigError as err:
        print(f"wommsim: error: {err}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    try:
        _app()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            finish_interrupted_sweep()  # only if a sweep was under way and did not finish
        raise


if __name__ == "__main__":
    main()
