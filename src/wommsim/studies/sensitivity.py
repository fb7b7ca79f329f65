"""``python -m wommsim.sensitivity``: global sensitivity of outcomes and paired differences
to every parameter labelled as an assumption.

    python -m wommsim.sensitivity                           # Morris, every plausible range
    python -m wommsim.sensitivity +experiment=ads_vs_wom    # the claim's arms: A and A - B
    python -m wommsim.sensitivity +experiment=ads_vs_wom 'compare=[organic,ad_heavy]'
    python -m wommsim.sensitivity 'params=[wom.talk_prob,brand.quality:-0.5:0.8]' \\
        strategy=ad_heavy consumers=5000 'outputs=[final_adoption,cost_per_adopter]'
    python -m wommsim.sensitivity method=sobol samples=256  # Sobol' first-order and total

A Hydra app (primary config ``configs/sensitivity.yaml``): overrides, presets, ``-m`` (one
analysis per job), ``--cfg job`` and ``hydra.run.dir=DIR`` work as for ``python -m
wommsim``. Tool keys: ``method`` (``morris``, the default, or ``sobol``), ``samples``
(Morris: trajectories, default 10; Sobol': base sample size N, a power of 2, default 64),
``levels`` (Morris grid levels, default 4), ``params`` (a list of ``key`` (its plausible
range) or ``key:lo:hi`` items; default every parameter with a plausible range),
``outputs`` (outcome names from :data:`wommsim.reporting.analysis.OUTCOMES` and brand
outcomes from :data:`wommsim.reporting.brands.BRAND_OUTCOMES`; default
``[final_adoption,npv,customer_equity]``), ``compare`` (with an experiment: the two arms
``[A,B]`` to compare, default the arms of the experiment's claim) and ``for_brand`` (the brand
whose brand outcomes are analysed, in a market of several: default the claim's). A list of
one item needs no brackets, and a comma list without brackets is refused (with ``-m`` it
is a sweep). Every other ``key=value`` overrides the model config as for ``python -m
wommsim``. Unless the command line sets them, every point runs 1 replicate of 2,000
consumers (:data:`POINT_DEFAULTS`, also with an experiment, whose own size is for its
headline run), for 52 weeks or the experiment's own horizon. The results go to the run
folder (``hydra.run.dir=DIR``, default ``outputs/sensitivity/DATE/TIME.MICROSECONDS-PID``;
in a sweep one numbered folder per job under ``multirun/sensitivity/``).

**Parameters.** By default every parameter with a plausible range in the schema
(``param(..., plausible=(lo, hi), basis=...)``, listed by
:func:`wommsim.config.plausible_ranges` at run time), over that range, except those the
experiment's arms or grid set and those set on the command line (``key=value`` holds a
parameter at that value). Integer parameters (e.g. ``network.network_size``) are rounded
at each point; their elementary effects are taken over the unrounded design.

**Outputs and paired differences.** Without an experiment each point runs the configured
market, and each output is its outcome (a brand outcome: the market's one brand's, or
``for_brand=``'s). With ``+experiment=NAME`` each point runs two arms on the same seeds: those
of the experiment's claim (``experiment.claim``, e.g. "conversation_led beats ad_heavy on
customer_equity": A = conversation_led, B = ad_heavy), or ``compare=[A,B]``. Each output is
analysed for arm A (``customer_equity``) and as the paired difference A - B
(``customer_equity_difference``). For a claim between two brands of one arm ("brand b
beats brand a on customer_equity in ARM") the point runs that arm, A and B are the brands,
and only brand outcomes have a difference; market outcomes are the arm's.

**Design.** SALib (Herman & Usher 2017) draws the points in the parameter box: Morris
(1991) trajectories on a ``levels``-level grid (``samples`` x (D + 1) points for D
parameters), or Saltelli's (2010) scheme for Sobol' indices without second order
(``samples`` x (D + 2) points). Both are seeded with the config's ``seed``. Each point runs
replicates ``0 .. R-1`` of each arm on the same seeds (common random numbers, so an
elementary effect compares parameters, not luck, and A - B compares arms); its value is
the mean over replicates (NaN-skipping, as ``summary.csv`` does), and a difference is A's
mean minus B's.

**Indices** (``indices.csv``, one row per output x parameter, with the parameter's range and
its ``basis``: the schema's source or reasoning for its plausible range, or "given on the
command line"). Morris: ``mu_star``, the mean absolute elementary effect (Campolongo et al.
2007), in output units per full range of the parameter (SALib's unscaled effects: the
change over a grid step divided by the step as a share of the range), its 95% bootstrap
interval half-width ``mu_star_conf``, the signed mean ``mu`` and ``sigma``, the standard
deviation of the effects (non-linearity or interactions). Sobol': ``S1`` (first order) and
``ST`` (total) with bootstrap half-widths ``S1_conf``, ``ST_conf``. ``samples.csv`` holds
every point: the parameters' values (integers rounded), each output for A, B's value as
``OUTPUT[B]`` and the difference as ``OUTPUT_difference``; ``indices.png`` the bar figure
(the 20 most influential parameters per output), and ``sensitivity.json`` (written last)
the design, the parameters with their ranges and bases, the comparison and the
configuration; all four are written together (a staging folder, then renamed into place),
so an interrupted run (Ctrl+C: exit status 130, SIGTERM 143, one line) leaves the folder as
it was (and removes it if it made it), and a folder that cannot be written is refused in
one line (exit status 1) before any run. Bad input (an unknown key, arm, brand or output, a
bad value or range) is one line naming it, exit status 2.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd

from wommsim.compose import configs_dir
from wommsim.config import (
    DEFAULT_BRAND,
    Config,
    ConfigError,
    brands_of,
    plausible_ranges,
    register,
    validate,
)
from wommsim.experiment import resolve_arms
from wommsim.reporting.analysis import OUTCOMES
from wommsim.reporting.brands import BRAND_OUTCOMES
from wommsim.runs import faults
from wommsim.runs.parallel import progress_bar
from wommsim.runs.results import write_atomic, write_together
from wommsim.studies.paramspace import (
    Outcomes,
    ParamRange,
    Simulator,
    as_list,
    at_point,
    default_ranges,
    fixed_keys,
    model_config,
    number,
    outcome_task,
    outcome_value,
    parse_ranges,
    provenance,
    run_tool,
    tool_job,
    tool_schema,
    write_json,
)
from wommsim.studies.robustness import parse_claim

log = logging.getLogger(__name__)

TOOL = "wommsim.sensitivity"
TOOL_KEYS = ("method", "samples", "levels", "params", "outputs", "compare", "for_brand")
METHODS = ("morris", "sobol")
#: Samples by method: Morris trajectories; Sobol' base size N (a power of 2).
DEFAULT_SAMPLES = {"morris": 10, "sobol": 64}
DEFAULT_OUTPUTS = ("final_adoption", "npv", "customer_equity")
#: The model's size at each point unless the command line sets it (configs/sensitivity.yaml
#: shows the same; these also hold against an experiment's own size): one replicate of
#: 2,000 consumers per arm.
POINT_DEFAULTS = {"consumers": 2_000, "replicates": 1}
#: Every known output: the market's outcomes, then a brand's.
KNOWN_OUTPUTS = {**OUTCOMES, **BRAND_OUTCOMES}
#: The suffix of a paired difference's name (``customer_equity_difference``).
DIFFERENCE = "_difference"
#: Parameters per panel of indices.png (the most influential).
FIGURE_TOP = 20


@dataclass(frozen=True)
class Side:
    """One side of the analysis: an arm, the brand whose brand outcomes it takes (empty
    when no brand outcome is asked for), and its label in column names."""

    arm: str
    brand: str = ""
    label: str = ""


@dataclass(frozen=True)
class Comparison:
    """What each point runs and analyses: ``configs``, the configuration of each arm it
    runs (the configured market, or one or two arms of an experiment); side ``a``, and side
    ``b`` for the paired difference A - B (None without an experiment); ``source``, what
    chose them."""

    configs: dict[str, Config]
    a: Side
    b: Side | None = None
    source: str = ""

    def paired(self, output: str) -> bool:
        """Whether ``output`` has a paired difference: there is a side B and the output can
        differ between the sides (a market outcome cannot between two brands of one arm)."""
        return self.b is not None and not (output in OUTCOMES and self.a.arm == self.b.arm)

    def analysed(self, outputs: Sequence[str]) -> list[str]:
        """The names analysed: each output (side A), then its difference where paired."""
        names = []
        for output in outputs:
            names += [output, *([output + DIFFERENCE] if self.paired(output) else [])]
        return names

    def whose(self, name: str) -> str:
        """Whose value an analysed name is: side A's label, "A minus B" for a difference,
        or "" for the configured market's (a brand named where the market has several)."""
        output = name.removesuffix(DIFFERENCE)
        if self.b is not None:
            if name != output:
                return f"{self.a.label} minus {self.b.label}"
            return self.a.arm if output in OUTCOMES else self.a.label
        return ("" if output in OUTCOMES or self.a.brand == DEFAULT_BRAND
                else f"brand {self.a.brand}")

    def meaning(self, name: str) -> str:
        """What an analysed name measures, and whose."""
        output = name.removesuffix(DIFFERENCE)
        whose, text = self.whose(name), KNOWN_OUTPUTS[output]
        paired = ", paired on the same seeds" if name != output else ""
        return f"{whose}{paired}: {text}" if whose else text

    def describe(self) -> dict[str, Any]:
        """The comparison for sensitivity.json."""
        return {"a": dataclasses.asdict(self.a),
                "b": dataclasses.asdict(self.b) if self.b else None,
                "arms": list(self.configs), "source": self.source}


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
    comparison: Comparison


# -- what to vary, what to run, what to analyse ---------------------------------------------

def choose_ranges(spec: Any, cfg: Config, overrides: Sequence[str]) -> list[ParamRange]:
    """``params=``: its items (``key``, for its plausible range, or ``key:lo:hi``), none of
    them held by the run; without it :func:`default_ranges`."""
    if not as_list(spec):
        ranges = default_ranges(cfg, overrides)
        if not ranges:
            raise ConfigError("params: no parameter left to vary (every one with a plausible "
                              "range is set by the arms or on the command line)")
        return ranges
    ranges = parse_ranges(spec, cfg, "params", integers=True, plausible=plausible_ranges())
    fixed = fixed_keys(cfg, overrides)
    for r in ranges:
        if r.key in fixed:
            raise ConfigError(f"params: {r.key} is {fixed[r.key]}; it cannot be varied too")
    return ranges


def parse_outputs(spec: str | Sequence[str]) -> list[str]:
    """Output names (a list, or one comma-separated string), each from
    :data:`wommsim.reporting.analysis.OUTCOMES` or
    :data:`wommsim.reporting.brands.BRAND_OUTCOMES`."""
    items = spec.split(",") if isinstance(spec, str) else as_list(spec)
    names = [s.strip() for s in items if s.strip()]
    unknown = [n for n in names if n not in KNOWN_OUTPUTS]
    if unknown or not names:
        raise ConfigError(f"outputs={spec!r}: unknown output {', '.join(unknown) or '(none)'} "
                          f"(known: {', '.join(KNOWN_OUTPUTS)})")
    return list(dict.fromkeys(names))


def _brand(given: str, configs: dict[str, Config], outputs: Sequence[str]) -> str:
    """The brand whose brand outcomes are analysed: ``given`` (``for_brand=``), which every arm
    must have, or the market's one brand; "" when no brand outcome is asked for."""
    names = {arm: [b.name for b in brands_of(cfg)] for arm, cfg in configs.items()}
    for arm, brands in names.items():
        if given and given not in brands:
            raise ConfigError(f"for_brand={given}: no brand {given!r} in arm {arm!r} (brands: "
                              f"{', '.join(brands)})")
    if given:
        return given
    first = next(iter(names.values()))
    wanted = [o for o in outputs if o in BRAND_OUTCOMES]
    if len(first) == 1:
        return first[0]
    if wanted:
        raise ConfigError(f"outputs: {', '.join(wanted)}: a brand's outcome, and the market "
                          f"has brands {', '.join(first)}; name one: for_brand={first[0]}")
    return ""


def comparison(base: Config, compare: Sequence[str], brand: str, outputs: Sequence[str]
               ) -> Comparison:
    """What each point runs: the configured market alone; with an experiment, the two arms
    of ``compare`` (``[A, B]``) or of the experiment's claim (two arms, or two brands of one
    arm). :class:`ConfigError` names a bad arm or brand."""
    exp = base.experiment
    if exp is None:
        if compare:
            raise ConfigError(f"compare=[{','.join(compare)}]: compares two arms of an "
                              "experiment; add +experiment=NAME")
        configs = {base.arm_name: base}
        return Comparison(configs, Side(base.arm_name, _brand(brand, configs, outputs),
                                        base.arm_name), source="the configured market")
    arms = {a.name: a for a in resolve_arms(base)}
    shown = ", ".join(list(arms)[:10]) + (f", ... ({len(arms)} arms)" if len(arms) > 10
                                          else "")
    if compare:
        text = f"compare=[{','.join(compare)}]"
        if len(compare) != 2:
            raise ConfigError(f"{text}: name two arms, A and B (arms: {shown})")
        for name in compare:
            if name not in arms:
                raise ConfigError(f"{text}: no arm {name!r} (arms: {shown})")
        if compare[0] == compare[1]:
            raise ConfigError(f"{text}: compares {compare[0]!r} with itself")
        a, b, source, claimed = compare[0], compare[1], text, ""
    else:
        if not exp.claim:
            raise ConfigError(f"+experiment={exp.name} states no claim (experiment.claim): "
                              f"name the two arms to compare, compare=[A,B] (arms: {shown})")
        claim = parse_claim(exp.claim, list(arms.values()))
        source = f"the claim of {exp.name}: {claim.text}"
        if claim.arm:  # two brands of one arm
            if brand:
                raise ConfigError(f"for_brand={brand}: the claim compares brands {claim.a} and "
                                  f"{claim.b} of arm {claim.arm}; compare=[A,B] compares arms")
            configs = {claim.arm: arms[claim.arm].config}
            return Comparison(configs, Side(claim.arm, claim.a, f"brand {claim.a}"),
                              Side(claim.arm, claim.b, f"brand {claim.b}"), source)
        a, b, claimed = claim.a, claim.b, claim.brand
    configs = {a: arms[a].config, b: arms[b].config}
    chosen = _brand(brand or claimed, configs, outputs)
    return Comparison(configs, Side(a, chosen, a), Side(b, chosen, b), source)


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


def point_values(comp: Comparison, outputs: Sequence[str],
                 by_arm: dict[str, list[Outcomes]]) -> dict[str, float]:
    """The columns of one point in ``samples.csv``: each output for side A, and where
    paired, B's value (``OUTPUT[B]``) and the difference A - B (``OUTPUT_difference``)."""
    row: dict[str, float] = {}
    for output in outputs:
        a = outcome_value(output, comp.a.brand, by_arm[comp.a.arm])
        row[output] = a
        if comp.paired(output):
            b = outcome_value(output, comp.b.brand, by_arm[comp.b.arm])
            row[f"{output}[{comp.b.label}]"] = b
            row[output + DIFFERENCE] = a - b
    return row


def indices(method: str, ranges: list[ParamRange], outputs: list[str], x: np.ndarray,
            y: pd.DataFrame, levels: int, seed: int) -> pd.DataFrame:
    """One row per output × parameter with the parameter's range and basis and the method's
    indices (see the module doc)."""
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
                         **{k: float(result[k][i]) for k in _columns(method)},
                         "basis": r.basis})
    return pd.DataFrame(rows)


def _columns(method: str) -> tuple[str, ...]:
    return (("mu_star", "mu_star_conf", "mu", "sigma") if method == "morris"
            else ("S1", "S1_conf", "ST", "ST_conf"))


def analyse(base: Config, ranges: list[ParamRange], outputs: list[str], method: str = "morris",
            samples: int | None = None, levels: int = 4, comp: Comparison | None = None
            ) -> Analysis:
    """Sample the box, run every point (the arms of ``comp``, default :func:`comparison` of
    ``base``; ``base.replicates`` replicates, ``base.workers`` processes), and compute the
    indices of each output and paired difference."""
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: must be one of {', '.join(METHODS)}")
    comp = comp or comparison(base, (), "", outputs)
    samples = DEFAULT_SAMPLES[method] if samples is None else samples
    x = design(method, ranges, samples, levels, base.seed)
    arms = list(comp.configs)
    configs = [at_point(comp.configs[arm], ranges, row) for row in x for arm in arms]
    tasks = len(configs) * base.replicates
    log.info("%s: %d parameters, %d points x %d arm(s) x %d replicates = %d runs", method,
             len(ranges), len(x), len(arms), base.replicates, tasks)
    with Simulator(base.workers, tasks) as sim:
        runs = sim.run(configs, base.replicates, progress_bar(tasks, f"sensitivity ({method})"),
                       outcome_task)
    y = pd.DataFrame([point_values(comp, outputs, {arm: runs[i * len(arms) + j]
                                                   for j, arm in enumerate(arms)})
                      for i in range(len(x))])
    table = pd.DataFrame({r.key: [r.value(v) for v in x[:, i]] for i, r in enumerate(ranges)})
    table.insert(0, "point", np.arange(len(table)))
    if method == "morris":
        table.insert(1, "trajectory", np.arange(len(table)) // (len(ranges) + 1))
    table = pd.concat([table, y], axis=1)
    analysed = comp.analysed(outputs)
    return Analysis(method=method, ranges=ranges, outputs=analysed, samples=table,
                    indices=indices(method, ranges, analysed, x, y, levels, base.seed),
                    design={"method": method, "samples": samples,
                            "levels": levels if method == "morris" else None,
                            "points": len(x), "arms_per_point": len(arms),
                            "replicates_per_point": base.replicates,
                            "runs": tasks, "seed": base.seed},
                    config=base, comparison=comp)


# -- output ---------------------------------------------------------------------------------

def save_figure(result: Analysis, path: Path) -> Path:
    """One panel per output (with an experiment, side A and the difference side by side):
    the :data:`FIGURE_TOP` most influential parameters' indices as horizontal bars with 95%
    intervals, most influential on top (Morris: mu* with sigma as a dot; Sobol': ST and
    S1)."""
    from wommsim.reporting.figures import figure, save

    n = len(result.outputs)
    ncols = 2 if any(o.endswith(DIFFERENCE) for o in result.outputs) else min(n, 3)
    nrows = math.ceil(n / ncols)
    shown = min(FIGURE_TOP, len(result.ranges))
    fig, axes = figure(figsize=(6.5 * ncols, (0.3 * shown + 1.6) * nrows + 0.6), ncols=ncols,
                       nrows=nrows, squeeze=False)
    key = "mu_star" if result.method == "morris" else "ST"
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, output in zip(axes.flat, result.outputs, strict=False):
        part = result.indices[result.indices["output"] == output]
        part = part.sort_values(key, ascending=False, na_position="last").head(shown)
        part = part.iloc[::-1]
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
        ax.set_yticks(pos, part["parameter"], fontsize="x-small")
        whose = result.comparison.whose(output)
        ax.set_title(f"{output} ({whose})" if whose else output, fontsize="small")
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.legend(fontsize="x-small", frameon=False, loc="lower right")
    top = (f"the {shown} most influential of {len(result.ranges)} parameters"
           if shown < len(result.ranges) else f"{len(result.ranges)} parameters")
    fig.suptitle(f"{'Morris' if result.method == 'morris' else 'Sobol'} sensitivity, {top}: "
                 f"{result.design['points']} points × {result.design['arms_per_point']} "
                 f"arm(s) × {result.design['replicates_per_point']} replicate(s), "
                 f"{result.config.consumers:,} consumers, {result.config.steps} steps",
                 fontsize="medium")
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
        "parameters": {r.key: [r.lo, r.hi, r.basis] for r in result.ranges},
        "integer_parameters": [r.key for r in result.ranges if r.integer],
        "outputs": {o: result.comparison.meaning(o) for o in result.outputs},
        "comparison": result.comparison.describe(),
        "seed_rule": "every point runs replicates r = 0 .. replicates-1 of each arm on numpy "
                     "SeedSequence([seed, r]) (common random numbers); SALib's sampler and "
                     "bootstrap use seed",
        "wall_time_s": wall_time,
        **provenance(result.config, TOOL, argv),
    })


def summary_lines(result: Analysis, top: int = 10) -> list[str]:
    """The ``top`` parameters per output, most influential first, for the terminal."""
    key = "mu_star" if result.method == "morris" else "ST"
    lines = []
    for output in result.outputs:
        part = result.indices[result.indices["output"] == output].sort_values(
            key, ascending=False)
        ranked = ", ".join(f"{r.parameter} {getattr(r, key):.3g}"
                           for r in part.head(top).itertuples())
        more = f" (top {top} of {len(part)})" if len(part) > top else ""
        lines.append(f"{output} ({key}){more}: {ranked}")
    return lines


register()
tool_schema("sensitivity", [("method", str, "morris"), ("samples", int | None, None),
                            ("levels", int, 4), ("params", Any, None),
                            ("outputs", Any, list(DEFAULT_OUTPUTS)), ("compare", Any, None),
                            ("for_brand", str | None, None)])


def _sensitivity(own: Any, outdir: Path, overrides: list[str]) -> int:
    """The tool's job: ``own`` is the composed config (model and tool keys)."""
    base = model_config(own, TOOL_KEYS, overrides, **POINT_DEFAULTS)
    # Each point runs its arms only: no counterfactual runs (an experiment may ask for them).
    base = validate(dataclasses.replace(base, attribution="last_touch"))
    method = own["method"]
    if method not in METHODS:
        raise ConfigError(f"method={method!r}: must be one of {', '.join(METHODS)}")
    outputs = parse_outputs(own["outputs"])
    comp = comparison(base, as_list(own.get("compare")), own.get("for_brand") or "", outputs)
    ranges = choose_ranges(own.get("params"), base, overrides)
    samples = number(own, "samples", DEFAULT_SAMPLES[method])
    levels = number(own, "levels", 4, lo=2)
    faults.check_writable(outdir)  # before the runs, not after them
    started = time.perf_counter()
    result = analyse(base, ranges, outputs, method, samples, levels, comp)
    write_analysis(result, outdir, overrides, time.perf_counter() - started)
    for line in summary_lines(result):
        print(line)
    print(f"{result.design['points']} points x {len(comp.configs)} arm(s) x {base.replicates} "
          f"replicate(s) = {result.design['runs']} runs in "
          f"{time.perf_counter() - started:.1f} s; results: {outdir}")
    return 0


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="sensitivity")
def _app(dictcfg: Any) -> None:
    tool_job(TOOL, _sensitivity, dictcfg)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``argv``: its arguments); returns the exit status (2 for bad
    input)."""
    return run_tool(_app, TOOL, argv, list_keys=("params", "outputs", "compare"))
