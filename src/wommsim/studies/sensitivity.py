"""``python -m wommsim.sensitivity``: global sensitivity of outcomes to the main parameters.

    python -m wommsim.sensitivity                           # Morris, the default parameters
    python -m wommsim.sensitivity method=sobol samples=256  # Sobol' first-order and total
    python -m wommsim.sensitivity 'params=[wom.talk_prob:0.01:0.1,brand.quality:-0.5:0.8]' \\
        strategy=ad_heavy consumers=5000

A Hydra app (primary config ``configs/sensitivity.yaml``): overrides, presets, ``-m`` (one
analysis per job), ``--cfg job`` and ``hydra.run.dir=DIR`` work as for ``python -m
wommsim``. Tool keys: ``method`` (``morris``, the default, or ``sobol``), ``samples``
(Morris: trajectories, default 30; Sobol': base sample size N, a power of 2, default 64),
``levels`` (Morris grid levels, default 4), ``params`` (a list ``[key:lo:hi,...]``, default
:data:`DEFAULT_PARAMS`) and ``outputs`` (a list of outcome names from
:data:`wommsim.reporting.analysis.OUTCOMES`, default ``[final_adoption,cost_per_adopter]``); a list
of one item needs no brackets, and a comma list without brackets is refused (with ``-m`` it
is a sweep). Every other ``key=value`` overrides the model config as for ``python -m
wommsim``; the tool's own model defaults (``configs/sensitivity.yaml``) are 2,000
consumers, 52 weeks and 2 replicates per point. The results go to the run folder
(``hydra.run.dir=DIR``, default ``outputs/sensitivity/DATE/TIME.MICROSECONDS-PID``; in a
sweep one numbered folder per job under ``multirun/sensitivity/``).

**Design.** SALib (Herman & Usher 2017) draws the points in the parameter box:
Morris (1991) trajectories with Campolongo et al. (2007) optimised starts
(``samples`` × (D + 1) points for D parameters), or Saltelli's (2010) scheme for Sobol'
indices without second order (``samples`` × (D + 2) points). Both are seeded with the
config's ``seed``. Each point runs replicates ``0 .. R-1`` on the same seeds (common random
numbers, so an elementary effect compares parameters, not luck); its outcome is the mean over
replicates of the per-replicate outcome (NaN-skipping, as ``summary.csv`` does).

**Indices** (``indices.csv``, one row per output × parameter). Morris: ``mu_star``, the mean
absolute elementary effect, in output units per full range of the parameter (SALib's
unscaled effects: the change over a grid step divided by the step as a share of the range),
its 95% bootstrap interval half-width ``mu_star_conf``, the signed mean ``mu`` and
``sigma``, the standard deviation of the effects (non-linearity or interactions). Sobol':
``S1`` (first order) and ``ST`` (total) with bootstrap half-widths ``S1_conf``, ``ST_conf``.
``samples.csv`` holds every point with its outputs, ``indices.png`` the bar figure, and
``sensitivity.json`` (written last) the design and the configuration; all four are written
together (a staging folder, then renamed into place), so an interrupted run (Ctrl+C: exit
status 130, SIGTERM 143, one line) leaves the folder as it was (and removes it if it made
it), and a folder that cannot be written is refused in one line (exit status 1) before any
run. Bad input (an unknown key, a bad value or range) is one line naming it, exit status 2.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd

from wommsim.compose import configs_dir
from wommsim.config import Config, ConfigError, register
from wommsim.reporting.analysis import OUTCOMES, replicate_outcomes
from wommsim.runs import faults
from wommsim.runs.parallel import progress_bar
from wommsim.runs.results import write_atomic, write_together
from wommsim.studies.paramspace import (
    ParamRange,
    Simulator,
    as_list,
    at_point,
    check_range,
    model_config,
    number,
    parse_ranges,
    provenance,
    run_tool,
    tool_job,
    tool_schema,
    write_json,
)

log = logging.getLogger(__name__)

TOOL = "wommsim.sensitivity"
TOOL_KEYS = ("method", "samples", "levels", "params", "outputs")
METHODS = ("morris", "sobol")
#: Samples by method: Morris trajectories; Sobol' base size N (a power of 2).
DEFAULT_SAMPLES = {"morris": 30, "sobol": 64}
DEFAULT_OUTPUTS = ("final_adoption", "cost_per_adopter")
#: The main parameters and their ranges: each a plausible span around the default
#: (configs/config.yaml gives the sources), inside the schema's range.
DEFAULT_PARAMS: tuple[tuple[str, float, float], ...] = (
    ("consumer.ad_blind_fraction", 0.5, 0.99),   # default 0.96 (the "96%" figure)
    ("advertising.trust", 0.1, 0.8),             # default 0.36 (Nielsen 2012)
    ("wom.talk_prob", 0.01, 0.1),                # default 0.03
    ("wom.trust", 0.5, 1.0),                     # default 0.92 (Nielsen 2012)
    ("wom.influence", 0.1, 0.6),                 # default 0.3
    ("wom.negativity_bias", 1.0, 4.0),           # default 2
    ("brand.quality", -0.2, 0.7),                # default 0.3: a poor to a very good product
    ("consumer.threshold_mean", 0.2, 0.8),       # default 0.5
    ("decision.social_weight", 0.1, 1.0),        # default 0.5
    ("dialogue.lift", 0.02, 0.1),                # default 0.05 (assumption range)
)


@dataclass
class Analysis:
    """The outcome of :func:`analyse`: every point, the indices, and the design."""

    method: str
    ranges: list[ParamRange]
    outputs: list[str]
    samples: pd.DataFrame
    indices: pd.DataFrame
    design: dict[str, Any]
    config: Config


def default_ranges(cfg: Config) -> list[ParamRange]:
    """:data:`DEFAULT_PARAMS`, checked against the schema."""
    return [check_range(k, lo, hi, cfg, "params") for k, lo, hi in DEFAULT_PARAMS]


def parse_outputs(spec: str | Sequence[str]) -> list[str]:
    """Outcome names (a list, or one comma-separated string), each from
    :data:`wommsim.reporting.analysis.OUTCOMES`."""
    items = spec.split(",") if isinstance(spec, str) else as_list(spec)
    names = [s.strip() for s in items if s.strip()]
    unknown = [n for n in names if n not in OUTCOMES]
    if unknown or not names:
        raise ConfigError(f"outputs={spec!r}: unknown output {', '.join(unknown) or '(none)'} "
                          f"(known: {', '.join(OUTCOMES)})")
    return list(dict.fromkeys(names))


def design(method: str, ranges: list[ParamRange], samples: int, levels: int,
           seed: int) -> np.ndarray:
    """The points (rows) in parameter units, by SALib's sampler for ``method``."""
    from SALib.sample import morris, sobol

    problem = _problem(ranges)
    if method == "morris":
        if samples < 2:
            raise ConfigError(f"samples={samples}: Morris needs at least 2 trajectories")
        if levels < 2 or levels % 2:
            raise ConfigError(f"levels={levels}: Morris needs an even number of levels >= 2")
        return morris.sample(problem, samples, num_levels=levels, seed=seed)
    if samples < 2 or samples & (samples - 1):
        raise ConfigError(f"samples={samples}: Sobol' needs a power of 2 (e.g. 64, 256)")
    return sobol.sample(problem, samples, calc_second_order=False, seed=seed)


def _problem(ranges: list[ParamRange]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": [r.key for r in ranges],
            "bounds": [[r.lo, r.hi] for r in ranges]}


def point_outcomes(frames: list[pd.DataFrame], cfg: Config, outputs: list[str]
                   ) -> dict[str, float]:
    """Mean over replicates of each output (NaN-skipping; NaN if every replicate is NaN)."""
    per_rep = replicate_outcomes(pd.concat(frames, ignore_index=True), cfg.economics)
    values = per_rep[outputs].to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        counts = np.isfinite(values).sum(axis=0)
        means = np.where(counts > 0, np.nansum(values, axis=0) / np.maximum(counts, 1), np.nan)
    return dict(zip(outputs, means.tolist(), strict=True))


def indices(method: str, ranges: list[ParamRange], outputs: list[str], x: np.ndarray,
            y: pd.DataFrame, levels: int, seed: int) -> pd.DataFrame:
    """One row per output × parameter with the method's indices (see the module doc)."""
    from SALib.analyze import morris, sobol

    problem = _problem(ranges)
    rows = []
    for output in outputs:
        values = y[output].to_numpy(dtype=float)
        missing = int((~np.isfinite(values)).sum())
        if missing:
            log.warning("%s: %d of %d points have no value (e.g. no adopters for cost per "
                        "adopter); its indices are NaN", output, missing, values.size)
            result = {k: np.full(len(ranges), np.nan) for k in _columns(method)}
        elif method == "morris":
            result = morris.analyze(problem, x, values, num_levels=levels, seed=seed)
        else:
            result = sobol.analyze(problem, values, calc_second_order=False, seed=seed)
        for i, r in enumerate(ranges):
            rows.append({"output": output, "parameter": r.key, "lo": r.lo, "hi": r.hi,
                         **{k: float(result[k][i]) for k in _columns(method)}})
    return pd.DataFrame(rows)


def _columns(method: str) -> tuple[str, ...]:
    return (("mu_star", "mu_star_conf", "mu", "sigma") if method == "morris"
            else ("S1", "S1_conf", "ST", "ST_conf"))


def analyse(base: Config, ranges: list[ParamRange], outputs: list[str], method: str = "morris",
            samples: int | None = None, levels: int = 4) -> Analysis:
    """Sample the box, run every point (``base.replicates`` replicates, ``base.workers``
    processes), and compute the indices of each output."""
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: must be one of {', '.join(METHODS)}")
    samples = DEFAULT_SAMPLES[method] if samples is None else samples
    x = design(method, ranges, samples, levels, base.seed)
    configs = [at_point(base, ranges, row) for row in x]
    tasks = len(configs) * base.replicates
    log.info("%s: %d parameters, %d points x %d replicates = %d runs", method, len(ranges),
             len(configs), base.replicates, tasks)
    with Simulator(base.workers, tasks) as sim:
        runs = sim.run(configs, base.replicates, progress_bar(tasks, f"sensitivity ({method})"))
    y = pd.DataFrame([point_outcomes(frames, cfg, outputs)
                      for frames, cfg in zip(runs, configs, strict=True)])
    table = pd.DataFrame(x, columns=[r.key for r in ranges])
    table.insert(0, "point", np.arange(len(table)))
    if method == "morris":
        table.insert(1, "trajectory", np.arange(len(table)) // (len(ranges) + 1))
    table = pd.concat([table, y], axis=1)
    return Analysis(method=method, ranges=ranges, outputs=outputs, samples=table,
                    indices=indices(method, ranges, outputs, x, y, levels, base.seed),
                    design={"method": method, "samples": samples,
                            "levels": levels if method == "morris" else None,
                            "points": len(configs), "replicates_per_point": base.replicates,
                            "seed": base.seed},
                    config=base)


# -- output ---------------------------------------------------------------------------------

def save_figure(result: Analysis, path: Path) -> Path:
    """One panel per output: the parameters' indices as horizontal bars with 95% intervals,
    most influential on top (Morris: mu* with sigma as a dot; Sobol': ST and S1)."""
    from wommsim.reporting.figures import figure, save

    n = len(result.outputs)
    fig, axes = figure(figsize=(6 * n, 0.45 * len(result.ranges) + 2), ncols=n, squeeze=False)
    for ax, output in zip(axes[0], result.outputs, strict=True):
        part = result.indices[result.indices["output"] == output]
        key = "mu_star" if result.method == "morris" else "ST"
        part = part.sort_values(key, ascending=True, na_position="first")
        pos = np.arange(len(part))
        if result.method == "morris":
            ax.barh(pos, part["mu_star"], xerr=part["mu_star_conf"], color="tab:blue",
                    label="μ* (mean |elementary effect|), 95% interval", capsize=2)
            ax.plot(part["sigma"], pos, "o", color="tab:orange", markersize=4,
                    label="σ (spread of effects)")
            ax.set_xlabel(f"change in {output} across the parameter's range")
        else:
            ax.barh(pos + 0.2, part["ST"], height=0.4, xerr=part["ST_conf"], color="tab:blue",
                    label="total index ST, 95% interval", capsize=2)
            ax.barh(pos - 0.2, part["S1"], height=0.4, xerr=part["S1_conf"],
                    color="tab:orange", label="first-order index S1", capsize=2)
            ax.set_xlabel("share of output variance")
        ax.set_yticks(pos, part["parameter"], fontsize="small")
        ax.set_title(f"{output}: {OUTCOMES[output]}", fontsize="small", wrap=True)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.legend(fontsize="x-small", frameon=False, loc="lower right")
    fig.suptitle(f"{'Morris' if result.method == 'morris' else 'Sobol'} sensitivity: "
                 f"{result.design['points']} points × {result.design['replicates_per_point']} "
                 f"replicates, {result.config.consumers:,} consumers, "
                 f"{result.config.steps} steps", fontsize="medium")
    return save(fig, path)


RESULT_FILES = ("samples.csv", "indices.csv", "indices.png", "sensitivity.json")


def write_analysis(result: Analysis, outdir: Path, argv: Sequence[str], wall_time: float
                   ) -> None:
    """``samples.csv``, ``indices.csv``, ``indices.png``, then ``sensitivity.json``: all or
    none (:func:`wommsim.runs.runner.write_together`)."""
    write_together(outdir, RESULT_FILES, lambda stage: _write_analysis_files(
        result, stage, argv, wall_time))


def _write_analysis_files(result: Analysis, outdir: Path, argv: Sequence[str],
                          wall_time: float) -> None:
    write_atomic(outdir / "samples.csv", lambda p: result.samples.to_csv(p, index=False))
    write_atomic(outdir / "indices.csv", lambda p: result.indices.to_csv(p, index=False))
    save_figure(result, outdir / "indices.png")
    write_json(outdir / "sensitivity.json", {
        **result.design,
        "parameters": {r.key: [r.lo, r.hi] for r in result.ranges},
        "outputs": {o: OUTCOMES[o] for o in result.outputs},
        "seed_rule": "every point runs replicates r = 0 .. replicates-1 on numpy "
                     "SeedSequence([seed, r]) (common random numbers); SALib's sampler and "
                     "bootstrap use seed",
        "wall_time_s": wall_time,
        **provenance(result.config, TOOL, argv),
    })


def summary_lines(result: Analysis) -> list[str]:
    """The ranking per output, most influential first, for the terminal."""
    key = "mu_star" if result.method == "morris" else "ST"
    lines = []
    for output in result.outputs:
        part = result.indices[result.indices["output"] == output].sort_values(
            key, ascending=False)
        ranked = ", ".join(f"{r.parameter} {getattr(r, key):.3g}" for r in part.itertuples())
        lines.append(f"{output} ({key}): {ranked}")
    return lines


register()
tool_schema("sensitivity", [("method", str, "morris"), ("samples", int | None, None),
                            ("levels", int, 4), ("params", Any, None),
                            ("outputs", Any, list(DEFAULT_OUTPUTS))])


def _sensitivity(own: Any, outdir: Path, overrides: list[str]) -> int:
    """The tool's job: ``own`` is the composed config (model and tool keys)."""
    base = model_config(own, TOOL_KEYS, overrides)
    method = own["method"]
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: must be one of {', '.join(METHODS)}")
    ranges = (parse_ranges(own["params"], base, "params") if own.get("params")
              else default_ranges(base))
    outputs = parse_outputs(own["outputs"])
    samples = number(own, "samples", DEFAULT_SAMPLES[method])
    levels = number(own, "levels", 4, lo=2)
    faults.check_writable(outdir)  # before the runs, not after them
    started = time.perf_counter()
    result = analyse(base, ranges, outputs, method, samples, levels)
    write_analysis(result, outdir, overrides, time.perf_counter() - started)
    for line in summary_lines(result):
        print(line)
    print(f"{result.design['points']} points x {base.replicates} replicates in "
          f"{time.perf_counter() - started:.1f} s; results: {outdir}")
    return 0


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="sensitivity")
def _app(dictcfg: Any) -> None:
    tool_job(TOOL, _sensitivity, dictcfg)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``argv``: its arguments); returns the exit status (2 for bad
    input)."""
    return run_tool(_app, TOOL, argv, list_keys=("params", "outputs"))
