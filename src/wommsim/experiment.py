"""Experiments: turn ``cfg.experiment`` into one validated :class:`Config` per arm.

An experiment lists arms (a name, a strategy preset, optional overrides and phases); its
``grid`` (dotted key -> values) is crossed with every arm. All arms share the run's seed, so
replicate ``r`` of every arm sees the same network and the same consumers (a paired design).
Without an experiment, the run is one arm: the configured strategy.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from wommsim.compose import configs_dir
from wommsim.config import (
    ArmConfig,
    Config,
    ConfigError,
    PhaseConfig,
    StrategyConfig,
    boolean_keys,
    validate,
)


@dataclass
class Arm:
    """A resolved arm: its label, its full configuration and its grid values."""

    name: str
    config: Config
    params: dict[str, Any] = field(default_factory=dict)


def strategy_preset(name: str) -> StrategyConfig:
    """Load ``configs/strategy/NAME.yaml`` as a :class:`StrategyConfig`."""
    folder = configs_dir() / "strategy"
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise ConfigError(f"strategy={name!r}: unknown strategy (known: {known})")
    merged = OmegaConf.merge(OmegaConf.structured(StrategyConfig), OmegaConf.load(path))
    return OmegaConf.to_object(merged)


def apply_overrides(cfg: Config, overrides: dict[str, Any], where: str) -> Config:
    """``cfg`` with dotted-key overrides, type-checked by the schema."""
    node = OmegaConf.structured(cfg)
    for key, value in overrides.items():
        if key in boolean_keys() and not isinstance(value, bool):  # OmegaConf: 3 -> true
            raise ConfigError(f"{where}: {key}={value!r}: must be true or false")
        try:
            OmegaConf.update(node, key, value, merge=True)
        except OmegaConfBaseException as err:
            raise ConfigError(f"{where}: {key}={value!r}: {str(err).splitlines()[0]}") from err
    try:
        return OmegaConf.to_object(node)
    except OmegaConfBaseException as err:
        raise ConfigError(f"{where}: {str(err).splitlines()[0]}") from err


def _resolve(base: Config, arm: ArmConfig, params: dict[str, Any]) -> Arm:
    name = arm.name or arm.strategy or base.strategy.name
    if params:
        name += " " + " ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in params.items())
    where = f"experiment arm {name!r}"
    cfg = copy.deepcopy(base)
    cfg.experiment = None
    if arm.strategy:
        cfg.strategy = strategy_preset(arm.strategy)
    cfg = apply_overrides(cfg, {**arm.overrides, **params}, where)
    cfg.phases = [PhaseConfig(start=p.start, **dataclasses.asdict(strategy_preset(p.strategy)))
                  for p in arm.phases] or cfg.phases
    cfg.arm = name
    try:
        validate(cfg)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err
    return Arm(name, cfg, params)


def resolve_arms(cfg: Config) -> list[Arm]:
    """Every arm of the experiment (arms x grid), or the run itself as one arm."""
    exp = cfg.experiment
    if exp is None:
        return [Arm(cfg.arm_name, cfg)]
    arms = exp.arms or [ArmConfig()]
    keys = list(exp.grid)
    for key in keys:
        values = exp.grid[key]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"experiment.grid.{key}={values!r}: must be a non-empty list")
    combos = [dict(zip(keys, values, strict=True))
              for values in itertools.product(*(exp.grid[k] for k in keys))]
    resolved = [_resolve(cfg, arm, params) for arm in arms for params in combos]
    names = [a.name for a in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"experiment.arms: duplicate arm names {duplicates}")
    if exp.reference and exp.reference not in names:
        raise ConfigError(f"experiment.reference={exp.reference!r}: no such arm "
                          f"(arms: {', '.join(names)})")
    return resolved


def reference_arm(cfg: Config, arms: list[Arm]) -> str:
    """The arm paired differences are taken against."""
    if cfg.experiment is not None and cfg.experiment.reference:
        return cfg.experiment.reference
    return arms[0].name
