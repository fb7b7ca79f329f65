"""``python -m wommsim [overrides]``: Hydra entry point only (compose, validate, run, exit).

Bad input ends with one clear message on stderr naming the key (or file and line) and the
value, exit status 2, and no result files.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from wommsim.compose import configs_dir, to_config
from wommsim.config import ConfigError, register

log = logging.getLogger("wommsim")

register()


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="config")
def _app(dictcfg: DictConfig) -> None:
    from wommsim.runner import run

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        cfg = to_config(dictcfg)
        run(cfg, Path(HydraConfig.get().runtime.output_dir))
    except ConfigError as err:
        print(f"wommsim: error: {err}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    _app()


if __name__ == "__main__":
    main()
