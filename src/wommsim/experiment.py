"""Experiments: turn ``cfg.experiment`` into one validated :class:`Config` per arm.

An experiment lists arms (a name, a strategy preset, optional overrides and phases); its
``grid`` (dotted key -> values) is crossed with every arm. All arms share the run's seed, so
replicate ``r`` of every arm sees the same network and the same consumers (a paired design).
Without an experiment, the run is one arm: the configured strategy.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import functools
import importlib.resources
import itertools
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from wommsim.compose import configs_dir, describe_error, replaced_key
from wommsim.config import (
    ArmConfig,
    Config,
    ConfigError,
    PhaseConfig,
    StrategyConfig,
    boolean_keys,
    iter_params,
    replace_key,
    validate,
)

log = logging.getLogger(__name__)

#: Keys set for the whole run, which an arm's overrides or the grid cannot vary, and why.
RUN_KEYS = {
    "seed": "every arm runs on the run's seeds (replicate r of every arm sees the same "
            "network and consumers)",
    "replicates": "every arm runs the run's replicates",
    "workers": "the run's processes serve every arm",
    "force_memory": "the memory check covers the whole run",
    "figures": "the run's figures are written in one style",
    "arm": "an arm is labelled by its name",
    "attribution": "the run attributes every arm the same way",
    "transactions": "the run writes one transactions.parquet for every arm",
    "experiment": "an arm is not an experiment",
}
#: Most arms (arms x grid combinations) an experiment may have; larger designs are sweeps.
MAX_ARMS = 10_000


@dataclass
class Arm:
    """A resolved arm: its label, its full configuration, its grid values and ``base``, the
    name of the experiment arm it resolves (its label without grid values)."""

    name: str
    config: Config
    params: dict[str, Any] = field(default_factory=dict)
    base: str = ""

    def __post_init__(self) -> None:
        self.base = self.base or self.name


def strategy_folders() -> list[Path]:
    """The ``strategy/`` folders of Hydra's config search path, in its order: the running
    app's (with any ``hydra.searchpath``) when there is one, then the packaged configs. An
    arm's strategy name resolves as ``strategy=NAME`` does on the command line."""
    from hydra.core.hydra_config import HydraConfig

    folders = []
    if HydraConfig.initialized():
        for source in HydraConfig.get().runtime.config_sources:
            if source.schema == "file":
                folders.append(Path(source.path) / "strategy")
            elif source.schema == "pkg":
                try:
                    package = importlib.resources.files(source.path.replace("/", "."))
                except (ModuleNotFoundError, TypeError):
                    continue
                folders.append(Path(str(package)) / "strategy")
    folders.append(configs_dir() / "strategy")
    return list(dict.fromkeys(folders))


def strategy_preset(name: str) -> StrategyConfig:
    """Load the strategy preset ``NAME.yaml`` from the first of :func:`strategy_folders`
    that has it, as a :class:`StrategyConfig`."""
    folders = strategy_folders()
    for folder in folders:
        path = folder / f"{name}.yaml"
        if path.is_file():
            return copy.copy(_load_preset(str(path), path.stat().st_mtime_ns))
    known = ", ".join(sorted({p.stem for folder in folders for p in folder.glob("*.yaml")}))
    raise ConfigError(f"strategy={name!r}: unknown strategy (known: {known})")


@functools.lru_cache(maxsize=256)
def _load_preset(path: str, _mtime: int) -> StrategyConfig:
    try:
        merged = OmegaConf.merge(OmegaConf.structured(StrategyConfig), OmegaConf.load(path))
        return OmegaConf.to_object(merged)
    except yaml.YAMLError as err:  # one line naming the file and line
        raise ConfigError(describe_error(err)) from err
    except OmegaConfBaseException as err:  # a key or value the schema refuses
        raise ConfigError(f"{path}: {describe_error(err)}") from err


def apply_overrides(cfg: Config, overrides: dict[str, Any], where: str) -> Config:
    """``cfg`` with dotted-key overrides, type-checked by the schema."""
    node = OmegaConf.structured(cfg)
    for key, value in overrides.items():
        if key in boolean_keys() and not isinstance(value, bool):  # OmegaConf: 3 -> true
            raise ConfigError(f"{where}: {key}={value!r}: must be true or false")
        if hint := replaced_key(key):
            raise ConfigError(f"{where}: {hint}")
        try:
            OmegaConf.update(node, key, value, merge=True)
        except OmegaConfBaseException as err:
            raise ConfigError(f"{where}: {key}={value!r}: {str(err).splitlines()[0]}") from err
    try:
        return OmegaConf.to_object(node)
    except OmegaConfBaseException as err:
        raise ConfigError(f"{where}: {str(err).splitlines()[0]}") from err


@functools.cache
def _leaf_types() -> dict[str, str]:
    """Dotted key -> schema type of every scalar parameter (not the list items)."""
    return {key: f.type for key, f, _ in iter_params(Config()) if "[" not in key}


def _set_params(cfg: Config, params: dict[str, Any], where: str) -> Config:
    """:func:`apply_overrides` for grid values; a value of its parameter's exact type is set
    directly (:func:`~wommsim.config.replace_key`, as OmegaConf would set it), anything
    else goes through OmegaConf, which converts or refuses it."""
    direct = {"float": (int, float), "int": (int,), "bool": (bool,), "str": (str,)}
    slow = {}
    for key, value in params.items():
        kind = _leaf_types().get(key)
        if (kind in direct and isinstance(value, direct[kind])
                and (kind == "bool" or not isinstance(value, bool))):
            cfg = replace_key(cfg, key, float(value) if kind == "float" else value)
        else:
            slow[key] = value
    return apply_overrides(cfg, slow, where) if slow else cfg


def _refuse_run_keys(keys: list[str], where: str) -> None:
    for key in keys:
        root = key.split(".", 1)[0]
        if root in RUN_KEYS:
            raise ConfigError(f"{where}{key}: cannot vary per arm: {RUN_KEYS[root]}; set it "
                              f"for the run ({root}=... on the command line) or sweep it "
                              f"(-m {root}=A,B)")


def _arm_config(base: Config, arm: ArmConfig) -> tuple[str, Config]:
    """An arm's name and configuration before grid values: its strategy preset, its
    overrides and its phases (once per arm, not per grid combination)."""
    name = arm.name or arm.strategy or base.strategy.name
    where = f"experiment arm {name!r}"
    try:
        _refuse_run_keys(list(arm.overrides), "")
        strategy = strategy_preset(arm.strategy) if arm.strategy else None
        phases = []
        for i, phase in enumerate(arm.phases):
            try:
                shares = dataclasses.asdict(strategy_preset(phase.strategy))
            except ConfigError as err:
                raise ConfigError(f"phases[{i}]: {err}") from err
            phases.append(PhaseConfig(start=phase.start, **shares))
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err
    cfg = dataclasses.replace(base, experiment=None, strategy=strategy or base.strategy)
    if arm.overrides:
        cfg = apply_overrides(cfg, arm.overrides, where)
    return name, dataclasses.replace(cfg, phases=phases or cfg.phases)


def _resolve(base: str, arm_cfg: Config, params: dict[str, Any]) -> Arm:
    name = base
    if params:
        name += " " + " ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in params.items())
    where = f"experiment arm {name!r}"
    cfg = dataclasses.replace(_set_params(arm_cfg, params, where), arm=name)
    try:
        validate(cfg)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err
    return Arm(name, cfg, params, base)


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
    _refuse_run_keys(keys, "experiment.grid.")
    total = len(arms) * math.prod(len(exp.grid[k]) for k in keys)
    if total > MAX_ARMS:
        sizes = " x ".join([f"{len(arms)} arms", *(f"{len(exp.grid[k])} {k}" for k in keys)])
        raise ConfigError(f"experiment.grid: {total:,} arms ({sizes}), more than the "
                          f"{MAX_ARMS:,} an experiment may have; sweep some of the keys "
                          "instead (python -m wommsim -m KEY=A,B,...)")
    combos = [dict(zip(keys, values, strict=True))
              for values in itertools.product(*(exp.grid[k] for k in keys))]
    if total > 1000:
        log.info("resolving %d arms (%d arms x %d grid combinations)", total, len(arms),
                 len(combos))
    resolved = []
    for arm in arms:
        name, arm_cfg = _arm_config(cfg, arm)
        resolved += [_resolve(name, arm_cfg, params) for params in combos]
    names = [a.name for a in resolved]
    duplicates = sorted(n for n, count in collections.Counter(names).items() if count > 1)
    if duplicates:
        raise ConfigError(f"experiment.arms: duplicate arm names {duplicates}")
    bases = list(dict.fromkeys(a.base for a in resolved))
    if exp.reference and exp.reference not in bases:
        shown = ", ".join(bases[:10]) + (f", ... ({len(bases)} arms)" if len(bases) > 10
                                         else "")
        grid = (" without grid values: in a grid experiment each arm is compared with the "
                "reference arm at the same grid values" if keys else "")
        raise ConfigError(f"experiment.reference={exp.reference!r}: no such arm{grid} "
                          f"(arms: {shown})")
    return resolved


def references(cfg: Config, arms: list[Arm]) -> dict[str, str]:
    """The arm each arm's paired differences are taken against: the reference arm
    (``experiment.reference``, default the first) at the same grid values, so that arms are
    compared within a grid value. An experiment of one arm over a grid has nothing to
    compare within a grid value: each of its grid values is compared with its first."""
    if len({a.base for a in arms}) == 1:
        return {a.name: arms[0].name for a in arms[1:]}
    base = (cfg.experiment.reference if cfg.experiment is not None
            and cfg.experiment.reference else arms[0].base)
    at = {tuple(a.params.items()): a.name for a in arms if a.base == base}
    return {a.name: at[tuple(a.params.items())] for a in arms
            if a.base != base and tuple(a.params.items()) in at}
