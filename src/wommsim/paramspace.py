"""Parameter ranges, points and batched model runs, shared by :mod:`wommsim.calibrate` and
:mod:`wommsim.sensitivity`.

Both tools take Hydra-style ``key=value`` arguments: their own keys (``data=``, ``fit=``,
``out=``, ...) and, for everything else, overrides of the model config exactly as
``python -m wommsim`` takes them. A parameter range is written ``dotted.key:lo:hi``; it must
name a real-valued parameter of the schema (:mod:`wommsim.config`) and stay inside the
schema's range for it. Points are set on a :class:`~wommsim.config.Config` with
:func:`dataclasses.replace` and validated, so a point is refused exactly as
the command line would refuse it.

Every point runs replicates ``0 .. R-1`` on the same seeds (``SeedSequence([seed, r])``):
common random numbers, so two points differ by their parameters, not by their luck.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import logging
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wommsim import __version__
from wommsim.compose import compose
from wommsim.config import Config, ConfigError, iter_params, replace_key, validate
from wommsim.runs.memory import check_memory
from wommsim.runs.parallel import worker_count, worker_pool
from wommsim.runs.results import config_hash, git_commit, input_digests, write_atomic
from wommsim.runs.runner import run_task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParamRange:
    """A real-valued model parameter (dotted key) and the interval [lo, hi] it may take."""

    key: str
    lo: float
    hi: float

    def scale(self, unit: np.ndarray | float) -> np.ndarray | float:
        """Map ``unit`` in [0, 1] onto [lo, hi]."""
        return self.lo + np.asarray(unit) * (self.hi - self.lo)

    def unscale(self, value: np.ndarray | float) -> np.ndarray | float:
        """Map ``value`` in [lo, hi] onto [0, 1]."""
        return (np.asarray(value) - self.lo) / (self.hi - self.lo)


def real_params(cfg: Config) -> dict[str, tuple[float | None, float | None, bool]]:
    """Every real-valued parameter of ``cfg`` (dotted key) with its schema range: ``(lo, hi,
    open_lo)``, where ``open_lo`` says the value must be strictly above ``lo``."""
    return {key: (f.metadata.get("lo"), f.metadata.get("hi"), bool(f.metadata.get("open_lo")))
            for key, f, _ in iter_params(cfg) if f.type == "float" and "[" not in key}


def check_range(key: str, lo: float, hi: float, cfg: Config, where: str) -> ParamRange:
    """A :class:`ParamRange`, or :class:`ConfigError` naming ``where``, the key and the values:
    unknown or non-real parameter, non-finite bounds, ``lo >= hi``, or bounds outside the
    schema's range."""
    known = real_params(cfg)
    if key not in known:
        every = {k for k, _, _ in iter_params(cfg)}
        if key in every:
            raise ConfigError(f"{where}: {key}: not a real-valued parameter (only parameters "
                              "that take any number in a range can be varied)")
        close = difflib.get_close_matches(key, list(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"{where}: {key}: no such parameter{hint}")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ConfigError(f"{where}: {key}:{lo:g}:{hi:g}: bounds must be finite numbers")
    if lo >= hi:
        raise ConfigError(f"{where}: {key}:{lo:g}:{hi:g}: the lower bound must be below the "
                          "upper bound")
    schema_lo, schema_hi, open_lo = known[key]
    below = schema_lo is not None and (lo <= schema_lo if open_lo else lo < schema_lo)
    if below or (schema_hi is not None and hi > schema_hi):
        opening = "(" if open_lo else "["
        raise ConfigError(f"{where}: {key}:{lo:g}:{hi:g}: outside the parameter's range "
                          f"{opening}{schema_lo:g}, {schema_hi:g}]")
    return ParamRange(key, float(lo), float(hi))


def parse_ranges(spec: str, cfg: Config, where: str) -> list[ParamRange]:
    """Parse ``key:lo:hi,key:lo:hi,...`` into checked ranges (see :func:`check_range`)."""
    ranges: list[ParamRange] = []
    for item in (part.strip() for part in spec.split(",")):
        fields = item.split(":")
        if len(fields) != 3 or not fields[0]:
            raise ConfigError(f"{where}: {item!r}: expected key:lo:hi, e.g. decision.p:0.001:0.1")
        try:
            lo, hi = float(fields[1]), float(fields[2])
        except ValueError:
            raise ConfigError(f"{where}: {item!r}: the bounds must be numbers") from None
        ranges.append(check_range(fields[0], lo, hi, cfg, where))
    keys = [r.key for r in ranges]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ConfigError(f"{where}: {', '.join(repeated)} given more than once")
    return ranges


def at_point(cfg: Config, ranges: Sequence[ParamRange], values: Sequence[float]) -> Config:
    """``cfg`` with each range's parameter set to its value, validated (the error names the
    point). The keys were checked by :func:`check_range` to be real-valued leaves, so the
    values are set with :func:`wommsim.config.replace_key`."""
    point = {r.key: float(v) for r, v in zip(ranges, values, strict=True)}
    where = "point " + ", ".join(f"{k}={v:.6g}" for k, v in point.items())
    new = cfg
    for key, value in point.items():
        new = replace_key(new, key, value)
    try:
        return validate(new)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err


# -- the command line -----------------------------------------------------------------------

def cli_args(argv: Sequence[str] | None, doc: str) -> list[str] | None:
    """The command line's arguments (``sys.argv[1:]`` by default), with INFO logging set up
    for progress; ``None`` after printing ``doc`` for ``-h``/``--help``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(doc)
        return None
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    return args


def split_args(argv: Sequence[str], tool_keys: Sequence[str], tool: str
               ) -> tuple[dict[str, str], list[str]]:
    """Split ``key=value`` arguments into the tool's own (``tool_keys``) and model overrides.

    The tool's keys are not model parameters, so the two sets cannot collide."""
    own: dict[str, str] = {}
    model: list[str] = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            raise ConfigError(f"{tool}: {arg!r}: expected key=value (see python -m {tool} "
                              "--help)")
        if key in tool_keys:
            own[key] = value
        else:
            model.append(arg)
    return own, model


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


def output_dir(out: str | None, tool: str) -> Path:
    """``out`` if given, else ``outputs/<tool>/DATE/TIME`` (like Hydra's run directory)."""
    if out:
        return Path(out)
    now = dt.datetime.now()
    return Path("outputs") / tool / now.strftime("%Y-%m-%d") / now.strftime("%H-%M-%S")


def provenance(cfg: Config, argv: Sequence[str], inputs: Sequence[str] = ()
               ) -> dict[str, Any]:
    """Version, commit, command, the model configuration and its hash, and the content hash
    of every file read (edge lists, and ``inputs`` such as calibration data), for a
    result's JSON."""
    return {"package": "wommsim", "version": __version__, "git_commit": git_commit(),
            "command": [Path(sys.argv[0]).name, *argv],
            "config_hash": config_hash(cfg, inputs),
            "input_files": input_digests(cfg, inputs),
            "config": dataclasses.asdict(cfg)}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


# -- running points -------------------------------------------------------------------------

class Simulator:
    """Runs ``(config, replicate)`` tasks on one pool of processes kept for a whole search
    (``jobs`` as in the config: 0 = one per core). Results come back in task order, so a
    parallel search gives exactly the numbers of a serial one."""

    def __init__(self, jobs: int, max_tasks: int) -> None:
        self.workers = worker_count(jobs, max_tasks)
        self._pool: ProcessPoolExecutor | None = None
        self._stack = ExitStack()

    def __enter__(self) -> Simulator:
        if self.workers > 1:
            self._pool = self._stack.enter_context(worker_pool(self.workers))
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        return self._stack.__exit__(*exc)

    def run(self, configs: Sequence[Config], replicates: int,
            progress: Callable[[Iterator], Iterator] | None = None) -> list[list[pd.DataFrame]]:
        """Each config's replicate tables (replicates ``0 .. replicates-1``), in order.

        Refuses (:func:`wommsim.runs.memory.check_memory`) a batch that will not fit in memory
        before building any market."""
        if configs:
            check_memory([dataclasses.replace(cfg, replicates=replicates) for cfg in configs],
                         self.workers)
        tasks = [(cfg, r) for cfg in configs for r in range(replicates)]
        results = (self._pool.map(run_task, tasks) if self._pool is not None
                   else map(run_task, tasks))
        frames = list((progress or (lambda it: it))(results))
        return [frames[i * replicates:(i + 1) * replicates] for i in range(len(configs))]
