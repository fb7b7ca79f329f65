"""Compose a :class:`~wommsim.config.Config` from the packaged YAML configs and overrides.

This is the Python-side twin of the command line: ``compose(["strategy=ad_heavy",
"consumers=500"])`` gives the same configuration as ``python -m wommsim strategy=ad_heavy
consumers=500``. The configs live in the repository's ``configs/``, which an install maps
into the package as ``wommsim.configs``.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from wommsim.config import Config, ConfigError, boolean_keys, register, validate

GROUPS = ("network", "strategy", "decision", "market")


def configs_dir() -> Path:
    """The Hydra configs: package data of wommsim (``src/wommsim/configs``; the repository's
    top-level ``configs/`` is a link to it)."""
    folder = Path(__file__).resolve().parent / "configs"
    if not (folder / "config.yaml").is_file():
        raise FileNotFoundError(f"wommsim's configs ({folder}) were not found; reinstall wommsim")
    return folder


def check_overrides(overrides: list[str]) -> None:
    """Refuse override values that OmegaConf would silently convert: a boolean key takes
    only ``true`` or ``false`` (OmegaConf turns ``advertising.enabled=3`` into true)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    booleans = boolean_keys()
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key in booleans and not override.is_delete() and not override.is_sweep_override():
            value = override.value()
            if not isinstance(value, bool):
                raise ConfigError(f"{key}={value!r}: must be true or false")


#: Keys renamed since a release: old name -> new name (told in one line, not "not in struct").
RENAMED_KEYS = {"jobs": "workers"}  # a sweep's jobs are Hydra's; these are worker processes
#: Counts and totals replaced by intensive keys (per consumer), whose values differ: old key
#: (``market.brands.*.`` for any brand's) -> (new key, its unit, the conversion).
PER_CONSUMER_KEYS = {
    "brand.budget": ("brand.budget_per_consumer", "money per consumer per week",
                     "1000 a week at 10,000 consumers is 0.1"),
    "market.brands.*.budget": ("market.brands.*.budget_per_consumer",
                               "money per consumer per week",
                               "1000 a week at 10,000 consumers is 0.1"),
    "reviews.credibility_count": ("reviews.credibility_per_consumer", "reviews per consumer",
                                  "20 reviews at 10,000 consumers is 0.002"),
}


def replaced_key(key: str) -> str | None:
    """The one line telling what replaced ``key`` (a dotted key, e.g. ``brand.budget`` or
    ``market.brands.a.budget``) if it is in :data:`PER_CONSUMER_KEYS`, else None."""
    brand = re.match(r"market\.brands\.([^.]+)\.", key)
    generic = f"market.brands.*.{key[brand.end():]}" if brand else key
    if generic not in PER_CONSUMER_KEYS:
        return None
    new, unit, conversion = PER_CONSUMER_KEYS[generic]
    if brand:
        new = new.replace("*", brand.group(1))
    return f"{key} is now {new} ({unit}): {conversion}"


def check_parsable(overrides: list[str]) -> None:
    """Refuse an override Hydra's parser would fail on with a traceback rather than a
    message (an integer longer than Python reads, ``sys.get_int_max_str_digits()``), and a
    key that was renamed or replaced (:data:`RENAMED_KEYS`, :data:`PER_CONSUMER_KEYS`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for text in overrides:
        key = text.partition("=")[0].lstrip("+~")
        if key in RENAMED_KEYS:
            raise ConfigError(f"{key}=: this key is now called {RENAMED_KEYS[key]} "
                              f"({RENAMED_KEYS[key]}={text.partition('=')[2]})")
        if hint := replaced_key(key):
            raise ConfigError(hint)
        try:
            parser.parse_override(text)
        except ValueError as err:
            key, _, value = text.partition("=")
            shown = value if len(value) <= 24 else f"{value[:20]}...({len(value)} characters)"
            reason = str(err).split(";")[0]  # without Python's advice to raise the limit
            raise ConfigError(f"{key.lstrip('+~')}={shown}: {reason}") from None
        except Exception:
            continue  # other syntax errors: Hydra reports them, naming the override


def to_config(cfg: DictConfig, overrides: list[str] | None = None) -> Config:
    """Turn a composed DictConfig into a validated :class:`Config` (ignoring ``hydra``).

    ``overrides`` are the command-line overrides it was composed with (default: those
    Hydra recorded in ``cfg.hydra.overrides.task``), checked by :func:`check_overrides`.
    """
    if overrides is None and OmegaConf.select(cfg, "hydra.overrides.task") is not None:
        overrides = list(cfg.hydra.overrides.task)
    from omegaconf.errors import OmegaConfBaseException

    check_overrides(overrides or [])
    try:  # e.g. +foo=1 adds a key the schema does not have
        data = OmegaConf.to_container(cfg, resolve=True)
        data.pop("hydra", None)
        typed = OmegaConf.merge(OmegaConf.structured(Config), data)
        return validate(OmegaConf.to_object(typed))
    except OmegaConfBaseException as err:
        raise ConfigError(describe_error(err)) from err


def compose(overrides: Sequence[str] | None = None) -> Config:
    """Compose the default config with Hydra-style ``overrides`` and validate it.

    The result is frozen (:class:`~wommsim.config.Frozen`), so it is cached: the same
    overrides give the same object (tests, the UI and the validation suite all compose
    through here). Inside a running Hydra app, whose search path may add config folders,
    nothing is cached."""
    from hydra.core.global_hydra import GlobalHydra

    key = tuple(overrides or ())
    if GlobalHydra.instance().is_initialized():  # inside a running Hydra app
        return _compose(key)
    return _cached_compose(key)


_compose_lock = threading.Lock()  # Hydra's global state is not thread-safe (the UI's threads)


@functools.lru_cache(maxsize=512)
def _cached_compose(overrides: tuple[str, ...]) -> Config:
    return _compose(overrides)


def _compose(overrides: tuple[str, ...]) -> Config:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register()
    overrides = list(overrides)
    try:
        with _compose_lock:
            if GlobalHydra.instance().is_initialized():
                return to_config(hydra_compose("config", overrides=overrides), overrides)
            with initialize_config_dir(str(configs_dir()), version_base="1.3"):
                return to_config(hydra_compose("config", overrides=overrides), overrides)
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as err:
        raise ConfigError(describe_error(err)) from err


def describe_error(err: BaseException) -> str:
    """Hydra's and OmegaConf's message with its causes, on one line, minus search paths; a
    YAML syntax error as ``FILE line N: YAML syntax error: ...``; a key the schema no longer
    has as the line saying what replaced it (:func:`replaced_key`), from a file or an
    override alike."""
    for match in re.finditer(r"full_key: (\S+)", "\n".join(_chain(err))):
        if hint := replaced_key(match.group(1)):
            return hint
    parts: list[str] = []
    while err is not None:
        if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
            mark, start = err.problem_mark, err.context_mark
            context = f" ({err.context})" if err.context else ""
            if err.context and start is not None and start.line != mark.line:
                context = f" ({err.context} at line {start.line + 1})"
            parts.append(f"{mark.name} line {mark.line + 1}: YAML syntax error: "
                         f"{err.problem}{context}")
        else:
            text = str(err).split("Config search path:")[0]
            parts += [line.strip().rstrip(":") for line in text.splitlines() if line.strip()]
        err = err.__cause__
    return "; ".join(dict.fromkeys(parts))


def _chain(err: BaseException | None) -> list[str]:
    """The messages of ``err`` and its causes."""
    out = []
    while err is not None:
        out.append(str(err))
        err = err.__cause__
    return out


def compose_from_kwargs(kwargs: dict[str, Any]) -> Config:
    """Compose from Python keywords: ``section__key=value`` for nested keys and
    ``strategy=``/``network=``/``decision=`` for presets."""
    overrides = []
    for key, value in kwargs.items():
        dotted = key.replace("__", ".")
        if isinstance(value, bool):
            value = str(value).lower()
        overrides.append(f"{dotted}={value}")
    return compose(overrides)
