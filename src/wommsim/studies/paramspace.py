"""Parameter ranges, points and batched model runs, shared by :mod:`wommsim.studies.calibrate` and
:mod:`wommsim.studies.sensitivity`.

Both tools are Hydra apps (:func:`run_tool`, :func:`tool_job`) with their own primary
configs (``configs/calibrate.yaml``, ``configs/sensitivity.yaml``): the model's keys at top
level exactly as ``python -m wommsim`` takes them (presets included), plus the tool's own
keys (``data=``, ``fit=[...]``, ...; :func:`tool_schema`), which are not part of the model's
config or its hash (:func:`model_config`). The results go to Hydra's run folder (the
validation suite, :mod:`wommsim.validation`, runs the same way). A parameter range is
written ``dotted.key:lo:hi``; it must name a real-valued parameter of the schema
(:mod:`wommsim.config`), or for the sensitivity analysis also an integer one (its values
rounded), and stay inside the schema's range for it; the sensitivity analysis also takes
a key alone, for its plausible range (:func:`plausible_range`). Points are set on a
:class:`~wommsim.config.Config` with :func:`dataclasses.replace` and validated, so a point
is refused exactly as the command line would refuse it.

Every point runs replicates ``0 .. R-1`` on the same seeds (``SeedSequence([seed, r])``):
common random numbers, so two points differ by their parameters, not by their luck.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import difflib
import importlib
import json
import logging
import math
import os
import sys
import typing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hydra.experimental.callback import Callback

from wommsim import __version__
from wommsim.compose import compose
from wommsim.config import Config, ConfigError, iter_params, plausible_ranges, replace_key, validate
from wommsim.reporting.analysis import OUTCOMES, replicate_outcomes
from wommsim.reporting.brands import BRAND_OUTCOMES, brand_outcomes
from wommsim.runs import faults, rundir
from wommsim.runs.memory import check_memory
from wommsim.runs.parallel import worker_count, worker_pool
from wommsim.runs.results import (
    command_head,
    config_hash,
    git_commit,
    input_digests,
    write_atomic,
)
from wommsim.runs.rundir import RunDirCallback
from wommsim.runs.runner import run_market_task, run_task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParamRange:
    """A model parameter (dotted key) and the interval [lo, hi] it may take: real-valued,
    or an integer (``integer``: its values are rounded); ``basis``, where the range comes
    from (the schema's plausible range and its source, or the command line)."""

    key: str
    lo: float
    hi: float
    basis: str = ""
    integer: bool = False

    def scale(self, unit: np.ndarray | float) -> np.ndarray | float:
        """Map ``unit`` in [0, 1] onto [lo, hi]."""
        return self.lo + np.asarray(unit) * (self.hi - self.lo)

    def unscale(self, value: np.ndarray | float) -> np.ndarray | float:
        """Map ``value`` in [lo, hi] onto [0, 1]."""
        return (np.asarray(value) - self.lo) / (self.hi - self.lo)

    def value(self, x: float) -> float | int:
        """The parameter's value at ``x`` in [lo, hi]: ``x``, rounded for an integer."""
        return round(float(x)) if self.integer else float(x)


#: Where a range given as ``key:lo:hi`` comes from (:attr:`ParamRange.basis`).
GIVEN = "given on the command line"


def numeric_params(cfg: Config, integers: bool = False
                   ) -> dict[str, tuple[float | None, float | None, bool, bool]]:
    """Every real-valued parameter of ``cfg`` (and with ``integers``, every integer one) with
    its schema range: dotted key -> ``(lo, hi, open_lo, integer)``, where ``open_lo`` says
    the value must be strictly above ``lo``. The run's own settings (top-level keys such as
    ``steps`` or ``seed``) are not parameters of the model."""
    kinds = ("float", "int") if integers else ("float",)
    return {key: (f.metadata.get("lo"), f.metadata.get("hi"), bool(f.metadata.get("open_lo")),
                  f.type == "int")
            for key, f, _ in iter_params(cfg)
            if f.type in kinds and "[" not in key and ("." in key or not integers)}


def _no_such_parameter(key: str, cfg: Config, known: Sequence[str], where: str,
                       integers: bool) -> ConfigError:
    if key in {k for k, _, _ in iter_params(cfg)}:
        if integers and "." not in key:
            return ConfigError(f"{where}: {key}: a setting of the run, not a parameter of the "
                               f"model (set it for the run: {key}=...)")
        kind = "numeric" if integers else "real-valued"
        return ConfigError(f"{where}: {key}: not a {kind} parameter (only parameters "
                           "that take any number in a range can be varied)")
    close = difflib.get_close_matches(key, list(known), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return ConfigError(f"{where}: {key}: no such parameter{hint}")


def check_range(key: str, lo: float, hi: float, cfg: Config, where: str,
                integers: bool = False, basis: str = GIVEN) -> ParamRange:
    """A :class:`ParamRange`, or :class:`ConfigError` naming ``where``, the key and the values:
    unknown or non-real parameter (with ``integers``, integer parameters are accepted too,
    with integer bounds), non-finite bounds, ``lo >= hi``, or bounds outside the schema's
    range."""
    known = numeric_params(cfg, integers)
    if key not in known:
        raise _no_such_parameter(key, cfg, list(known), where, integers)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ConfigError(f"{where}: {key}:{lo:g}:{hi:g}: bounds must be finite numbers")
    if lo >= hi:
        raise ConfigError(f"{where}: {key}:{lo:g}:{hi:g}: the lower bound must be below the "
                          "upper bound")
    schema_lo, schema_hi, open_lo, integer = known[key]
    if integer and not (float(lo).is_integer() and float(hi).is_integer()):
        raise ConfigError(f"{where}: {key}:{lo:g}:{hi:g}: an integer parameter takes integer "
                          "bounds")
    below = schema_lo is not None and (lo <= schema_lo if open_lo else lo < schema_lo)
    if below or (schema_hi is not None and hi > schema_hi):
        opening = "(" if open_lo else "["
        raise ConfigError(f"{where}: {key}:{lo:g}:{hi:g}: outside the parameter's range "
                          f"{opening}{schema_lo:g}, {schema_hi:g}]")
    return ParamRange(key, float(lo), float(hi), basis, integer)


def plausible_range(key: str, cfg: Config, where: str,
                    plausible: dict[str, tuple[float, float, str]]) -> ParamRange:
    """The checked :class:`ParamRange` of ``key`` over its plausible range in the schema
    (``plausible``, :func:`wommsim.config.plausible_ranges`), with its basis."""
    if key not in plausible:
        if key in numeric_params(cfg, integers=True):
            raise ConfigError(f"{where}: {key}: no plausible range in the schema; give one: "
                              f"{key}:LO:HI")
        raise _no_such_parameter(key, cfg, list(plausible), where, integers=True)
    lo, hi, basis = plausible[key]
    return check_range(key, lo, hi, cfg, where, integers=True, basis=basis)


def set_by_arms(cfg: Config) -> set[str]:
    """The keys the experiment's arms (their overrides) and its grid set."""
    keys = set(cfg.experiment.grid) if cfg.experiment else set()
    for arm in (cfg.experiment.arms if cfg.experiment else []):
        keys |= set(arm.overrides)
    return keys


def fixed_keys(cfg: Config, overrides: Sequence[str]) -> dict[str, str]:
    """The parameters a run holds, each with who sets it: the experiment's arms or grid,
    and the command line (``overrides``)."""
    held = {key: "set on the command line" for key in override_keys(overrides)}
    return {**held, **{key: "set by the experiment's arms or grid" for key in set_by_arms(cfg)}}


def default_ranges(cfg: Config, overrides: Sequence[str] = ()) -> list[ParamRange]:
    """Every parameter with a plausible range in the schema, over that range with its
    basis, except those the experiment's arms or grid set and those ``overrides`` set."""
    fixed = fixed_keys(cfg, overrides)
    ranges = plausible_ranges()
    return [plausible_range(key, cfg, "plausible range", ranges) for key in ranges
            if key not in fixed]


def parse_ranges(spec: str | Sequence[str], cfg: Config, where: str, integers: bool = False,
                 plausible: dict[str, tuple[float, float, str]] | None = None
                 ) -> list[ParamRange]:
    """Parse ``key:lo:hi`` items (a list, or one string of comma-separated items) into
    checked ranges (see :func:`check_range`); with ``plausible``, an item may also be a key
    alone, for its plausible range (:func:`plausible_range`)."""
    ranges: list[ParamRange] = []
    items = spec.split(",") if isinstance(spec, str) else as_list(spec)
    for item in (part.strip() for part in items):
        fields = item.split(":")
        if plausible is not None and len(fields) == 1 and fields[0]:
            ranges.append(plausible_range(fields[0], cfg, where, plausible))
            continue
        if len(fields) != 3 or not fields[0]:
            alone = " or a key alone (its plausible range)" if plausible is not None else ""
            raise ConfigError(f"{where}: {item!r}: expected key:lo:hi{alone}, e.g. "
                              "decision.p:0.001:0.1")
        try:
            lo, hi = float(fields[1]), float(fields[2])
        except ValueError:
            raise ConfigError(f"{where}: {item!r}: the bounds must be numbers") from None
        ranges.append(check_range(fields[0], lo, hi, cfg, where, integers))
    keys = [r.key for r in ranges]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigError(f"{where}: {', '.join(repeated)} given more than once")
    return ranges


def at_point(cfg: Config, ranges: Sequence[ParamRange], values: Sequence[float]) -> Config:
    """``cfg`` with each range's parameter set to its value (rounded for an integer
    parameter), validated (the error names the point). The keys were checked by
    :func:`check_range` to be numeric leaves, so the values are set with
    :func:`wommsim.config.replace_key`."""
    point = {r.key: r.value(v) for r, v in zip(ranges, values, strict=True)}
    where = "point " + ", ".join(f"{k}={v:.6g}" for k, v in point.items())
    new = cfg
    for key, value in point.items():
        new = replace_key(new, key, value)
    try:
        return validate(new)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err


# -- the command line (Hydra) ---------------------------------------------------------------

def tool_schema(name: str, keys: Sequence[tuple[str, Any, Any]]) -> type:
    """The schema of a tool's primary config (``configs/<name>.yaml``): the model's
    :class:`~wommsim.config.Config` plus the tool's own ``keys`` (name, type, default),
    registered with Hydra's ConfigStore as ``<name>_schema``.

    The model's fields default to ``MISSING`` here, which a merge never writes over a value:
    placed after ``config`` in the defaults list, the schema keeps the model config composed
    so far (presets such as ``decision=bass`` included), adds the tool's keys, and still
    refuses unknown keys and wrong types."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import MISSING

    hints = typing.get_type_hints(Config)
    model = [(f.name, hints[f.name], dataclasses.field(default=MISSING))
             for f in dataclasses.fields(Config)]
    tool = [(key, kind, dataclasses.field(default_factory=lambda d=default: copy.copy(d)))
            for key, kind, default in keys]
    schema = dataclasses.make_dataclass(f"{name.title()}Config", [*model, *tool],
                                        bases=(Config,))
    ConfigStore.instance().store(name=f"{name}_schema", node=schema)
    return schema


def override_keys(overrides: Sequence[str]) -> set[str]:
    """The keys set by command-line ``overrides`` (``key=value``, ``+key=``, ``~key``)."""
    return {text.partition("=")[0].lstrip("+~") for text in overrides}


def model_config(dictcfg: Any, tool_keys: Sequence[str], overrides: Sequence[str],
                 **defaults: Any) -> Config:
    """The model's :class:`~wommsim.config.Config` from a tool's composed config: without
    the tool's keys (they change neither the model nor its hash), with ``defaults`` for the
    keys the user did not set in ``overrides``."""
    from omegaconf import OmegaConf

    from wommsim.compose import to_config

    data = OmegaConf.to_container(dictcfg, resolve=True)
    for key in ("hydra", *tool_keys):
        data.pop(key, None)
    given = override_keys(overrides)
    data.update({k: v for k, v in defaults.items() if k not in given})
    cfg = to_config(OmegaConf.create(data), list(overrides))
    workers = sweep_workers(cfg.workers)
    return cfg if workers == cfg.workers else validate(dataclasses.replace(cfg, workers=workers))


def sweep_workers(workers: int) -> int:
    """``workers`` for a tool's run: inside a job of a parallel sweep, ``workers=0`` means what it
    means for a run's job there (:func:`wommsim.sweeps.sweep.job_processes`)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from wommsim.sweeps.sweep import job_processes

    if workers or not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return workers
    processes = job_processes(str(HydraConfig.get().launcher._target_), os.environ)
    return workers if processes is None else processes


def as_list(value: Any) -> list[str]:
    """A tool key that takes a list (``fit=[a,b]``) or a single value (``fit=a``)."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):  # a ListConfig too
        return [str(v) for v in value]
    return [str(value)]


def check_tool_overrides(overrides: Sequence[str], list_keys: Sequence[str],
                         multirun: bool, takes_out: bool = False,
                         bool_keys: Sequence[str] = ()) -> None:
    """Refuse, in one line, what Hydra would refuse less clearly: a comma list for a key
    that takes a list, outside a sweep (``fit=a,b`` is a sweep over two values; a list is
    ``fit=[a,b]``), and ``out=`` for a tool that does not take it (calibration and
    sensitivity write into Hydra's run folder, ``hydra.run.dir=DIR``); and, as for the
    model's (:func:`wommsim.compose.check_overrides`), anything but ``true`` or ``false``
    for a boolean tool key (OmegaConf would read ``quick=3`` as true)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for text, parsed in zip(overrides, OverridesParser.create().parse_overrides(
            list(overrides)), strict=True):
        key = parsed.key_or_group
        if key in list_keys and parsed.is_sweep_override() and not multirun:
            value = text.partition("=")[2]
            raise ConfigError(f"{key}={value}: a comma separates the values of a sweep (-m); "
                              f"give a list in brackets: '{key}=[{value}]'")
        if key in bool_keys and not parsed.is_sweep_override() \
                and not isinstance(parsed.value(), bool):
            raise ConfigError(f"{text}: must be true or false")
        if key == "out" and not takes_out:
            raise ConfigError(f"{text}: the results go to the run folder; choose it with "
                              f"hydra.run.dir={text.partition('=')[2] or 'DIR'}")


_created: list[Path] = []  # folders the running tool's RunDirCallback created, innermost first
_run_dir: list[Path] = []  # the run folder it claims (for the message when it cannot)


class ToolRunDirCallback(RunDirCallback):
    """The run folder's :class:`~wommsim.runs.rundir.RunDirCallback` for a tool, which also
    remembers the folders it creates, so that a tool that writes nothing there (bad input,
    an interrupt) removes them again (:func:`run_tool`)."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        outdir = Path(str(config.hydra.run.dir))
        _run_dir[:] = [outdir]
        _created[:] = [p for p in (outdir.absolute(), *outdir.absolute().parents)
                       if not p.exists()]
        super().on_run_start(config, **kwargs)


class ToolSweepCallback(Callback):
    """A tool's sweep (``-m``) writes one result folder per job and no run aggregate (the
    ``sweep`` callback of ``configs/config.yaml`` is for runs); the jobs of a local
    parallel launcher die with the sweep (:func:`wommsim.sweeps.sweep.die_with_sweep`)."""

    def __init__(self, **settings: Any) -> None:
        pass

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        from wommsim.sweeps.sweep import SWEEP_PID

        os.environ[SWEEP_PID] = str(os.getpid())  # inherited by the launcher's workers


def _register_help() -> None:
    """``${wommsim.help:MODULE}``: a tool's ``--help`` text (``hydra.help.template``), its
    module's docstring followed by the presets and a pointer to every key."""
    from omegaconf import OmegaConf

    def text(module: str) -> str:
        found = importlib.import_module(module)
        if hasattr(found, "__path__"):  # a package: python -m runs its __main__
            found = importlib.import_module(f"{module}.__main__")
        doc = found.__doc__ or ""
        return (f"{doc.strip()}\n\n== Presets (config groups, as for python -m wommsim) ==\n"
                f"$APP_CONFIG_GROUPS\n== Every key and its value ==\npython -m {module} "
                "--cfg job [overrides]\n\n== Hydra's own options ==\npython -m "
                f"{module} --hydra-help\n")

    if not OmegaConf.has_resolver("wommsim.help"):
        OmegaConf.register_new_resolver("wommsim.help", text)


def tool_job(tool: str, body: Callable[[Any, Path, list[str]], int], dictcfg: Any,
             kept: Callable[[Path], str] = faults.nothing_written) -> None:
    """One run of a tool inside its Hydra app: ``body(dictcfg, outdir, overrides)`` with
    progress logged to stderr; bad input (:class:`ConfigError`) and the faults of
    :mod:`wommsim.runs.faults` end in one line (a fault's ends with ``kept(outdir)``, what is
    left), with their exit status (raised as SystemExit)."""
    from hydra.core.hydra_config import HydraConfig

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    from hydra.types import RunMode

    from wommsim.sweeps.sweep import die_with_sweep

    hydra_cfg = HydraConfig.get()
    outdir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        die_with_sweep(str(hydra_cfg.launcher._target_), os.environ)
    try:
        with faults.interruptible():  # also in a launcher's worker process (joblib)
            status = body(dictcfg, outdir, list(hydra_cfg.overrides.task))
    except ConfigError as err:
        print(f"{tool}: error: {err}", file=sys.stderr)
        status = 2
    except faults.FAULTS as err:
        status = faults.report(tool, err, kept(outdir))
    if status:
        raise SystemExit(status)


def run_tool(app: Callable[[], Any], tool: str, argv: Sequence[str] | None,
             list_keys: Sequence[str] = (), takes_out: bool = False,
             bool_keys: Sequence[str] = ()) -> int:
    """Run the Hydra app ``app`` of ``python -m TOOL`` on the arguments ``argv`` (default
    ``sys.argv[1:]``) and return its exit status. Every handled error is one line: bad
    input (an unknown key, a wrong type, a bad value) exit status 2, a run folder that
    cannot be written 1; a run folder this run created and left empty is removed."""
    import yaml
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from wommsim.compose import check_parsable, describe_error
    from wommsim.sweeps.sweep import command_overrides

    args = list(sys.argv[1:] if argv is None else argv)
    saved_argv, saved_env = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    # Hydra prints its own errors with a traceback unless HYDRA_FULL_ERROR=1 lets them
    # through to the one-line handling here (as python -m wommsim does).
    os.environ["HYDRA_FULL_ERROR"] = "1"
    sys.argv = [saved_argv[0], *args]
    try:
        overrides = command_overrides(args)
        check_parsable(overrides)
        check_tool_overrides(overrides, list_keys, "-m" in args or "--multirun" in args,
                             takes_out, bool_keys)
        app()
        return 0
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except rundir.Refused as refused:  # the run folder is in use, not ours, or unwritable
        if isinstance(refused.error, OSError):
            return faults.report(tool, refused.error, faults.nothing_written(_run_dir[0]))
        print(f"{tool}: error: {refused.error}", file=sys.stderr)
        return 2
    except ConfigError as err:
        print(f"{tool}: error: {err}", file=sys.stderr)
        return 2
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as err:
        if saved_env == "1":
            raise
        print(f"{tool}: error: {describe_error(err)}", file=sys.stderr)
        return 2
    except faults.FAULTS as err:  # before the tool's job started
        return faults.report(tool, err)
    finally:
        rundir.release_all()
        for folder in _created:  # innermost first; only if this run left them empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        _created.clear()
        _run_dir.clear()
        GlobalHydra.instance().clear()  # the next call (a test) starts afresh
        sys.argv = saved_argv
        if saved_env is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_env


_register_help()
rundir.register_resolver()  # ${wommsim.pid:} in the tools' run folders

def compose_model(defaults: dict[str, str], overrides: Sequence[str]) -> Config:
    """Compose the model config from the tool's ``defaults`` then the user's ``overrides``;
    a key the user sets replaces the tool's default for it."""
    given = {arg.partition("=")[0].lstrip("+~") for arg in overrides}
    merged = [f"{k}={v}" for k, v in defaults.items() if k not in given]
    return compose([*merged, *overrides])


def number(own: dict[str, str], key: str, default: float, kind: type = int,
           lo: float = 1) -> Any:
    """The tool argument ``key`` as an int (or float) of at least ``lo``."""
    text = own.get(key)
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{key}={text!r}: must be {'an integer' if kind is int else 'a number'}"
                          ) from None
    if value < lo:
        raise ConfigError(f"{key}={text!r}: must be at least {lo:g}")
    return value


def provenance(cfg: Config, tool: str, argv: Sequence[str], inputs: Sequence[str] = ()
               ) -> dict[str, Any]:
    """Version, commit, command, the model configuration and its hash, and the content hash
    of every file read (edge lists, and ``inputs`` such as calibration data), for a
    result's JSON."""
    return {"package": "wommsim", "version": __version__, "git_commit": git_commit(),
            "command": [*command_head(tool), *argv],
            "config_hash": config_hash(cfg, inputs),
            "input_files": input_digests(cfg, inputs),
            "config": dataclasses.asdict(cfg)}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


# -- running points -------------------------------------------------------------------------

class Simulator:
    """Runs ``(config, replicate)`` tasks on one pool of processes kept for a whole search
    (``workers`` as in the config: 0 = one per core). Results come back in task order, so a
    parallel search gives exactly the numbers of a serial one."""

    def __init__(self, workers: int, max_tasks: int) -> None:
        self.workers = worker_count(workers, max_tasks)
        self._pool: ProcessPoolExecutor | None = None
        self._stack = ExitStack()

    def __enter__(self) -> Simulator:
        if self.workers > 1:
            self._pool = self._stack.enter_context(worker_pool(self.workers))
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        return self._stack.__exit__(*exc)

    def run(self, configs: Sequence[Config], replicates: int | Sequence[int],
            progress: Callable[[Iterator], Iterator] | None = None,
            function: Callable[[tuple[Config, int]], Any] = run_task) -> list[list[Any]]:
        """Each config's replicate tables (replicates ``0 .. replicates-1``, or the replicate
        numbers listed), in order: what ``function`` returns for each ``(config, replicate)``
        task (default its per-step table, :func:`wommsim.runs.runner.run_task`).

        Refuses (:func:`wommsim.runs.memory.check_memory`) a batch that will not fit in memory
        before building any market."""
        numbers = range(replicates) if isinstance(replicates, int) else list(replicates)
        n = len(numbers)
        if configs:
            check_memory([dataclasses.replace(cfg, replicates=n) for cfg in configs],
                         self.workers)
        tasks = [(cfg, r) for cfg in configs for r in numbers]
        results = (self._pool.map(function, tasks) if self._pool is not None
                   else map(function, tasks))
        frames = list((progress or (lambda it: it))(results))
        return [frames[i * n:(i + 1) * n] for i in range(len(configs))]


# -- outcomes of a point ----------------------------------------------------------------------

#: One run's outcomes: the market's (:data:`wommsim.reporting.analysis.OUTCOMES`) and each
#: brand's (:data:`wommsim.reporting.brands.BRAND_OUTCOMES`, by brand name).
Outcomes = tuple[dict[str, float], dict[str, dict[str, float]]]


def outcome_task(task: tuple[Config, int]) -> Outcomes:
    """One ``(config, replicate)`` task (for process pools): its market's outcomes and each
    brand's (:func:`wommsim.reporting.brands.brand_outcomes`), as small dictionaries, so the
    tables stay in the worker."""
    cfg = task[0]
    timeseries, brands, _, _ = run_market_task(task)
    market = replicate_outcomes(timeseries, cfg.economics, brands).iloc[0]
    per_brand = brand_outcomes(brands, cfg.economics.steps_per_year, unspent={})
    return ({k: float(market[k]) for k in OUTCOMES},
            {str(row["brand"]): {k: float(row[k]) for k in BRAND_OUTCOMES}
             for _, row in per_brand.iterrows()})


def outcome_value(output: str, brand: str, results: Sequence[Outcomes]) -> float:
    """``output`` (the market's, or else ``brand``'s) over the replicates of one arm at one
    point (``results``, from :func:`outcome_task`): the mean of the finite values, NaN if
    none."""
    values = [market[output] if output in OUTCOMES else brands[brand][output]
              for market, brands in results]
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan
