"""``python -m wommsim.robustness``: how far a conclusion holds across the model's assumptions.

    python -m wommsim.robustness +experiment=ads_vs_wom      # the experiment's own claim
    python -m wommsim.robustness +experiment=ads_vs_wom \\
        'claim="conversation_led beats ad_heavy on final_adoption"' draws=256
    python -m wommsim.robustness +experiment=duel \\
        'claim="brand b beats brand a on customer_equity in ad_heavy_vs_conversation_led"'

A claim compares two arms of the experiment on one outcome (``A beats B on OUTCOME``,
optionally ``... for brand X`` in a market of several brands), or two brands within one arm
(``brand X beats brand Y on OUTCOME in ARM``). "Beats" means better: higher, or lower for an
outcome where less is better (time to half, cost per adopter, churn, cost per customer).
Without ``claim=``, the experiment's ``experiment.claim`` is tested.

**Design.** Every parameter with a plausible range in the schema (``param(...,
plausible=(lo, hi))``, listed by :func:`wommsim.config.plausible_ranges`, each with its
source or reasoning) is drawn from that range by Latin hypercube sampling (SALib, seeded
with the config's ``seed``), uniformly, ``draws`` times; integers are rounded. Left at their
values are the parameters the experiment's arms or grid set and those given on the command
line (``key=value`` holds a parameter at that value), or, with ``params=[key,...]``, every
parameter not listed. At each draw the arms the claim needs run paired, replicates ``0 ..
R-1`` on the same seeds (common random numbers), and the claim's paired difference is the
mean over those replicates. A draw the schema refuses (an inconsistent combination) is
dropped and counted.

**Results** (the run folder; ``hydra.run.dir=DIR``, default
``outputs/robustness/DATE/TIME.MICROSECONDS-PID``): ``draws.csv`` (every draw: its
parameter values, each side's outcome, the paired difference, whether the claim holds),
``deciding.csv`` (per parameter: its range and basis; ``deciding``, whether the claim
holds depends on it: its draws differ between the draws where the claim holds and those
where it fails (Mann-Whitney U), with the share of draws in which the claim holds in the
lowest and in the highest third of its range; ``moves_margin``, the paired difference's size
depends on it (Spearman rank correlation ``rho``); each test's p-value Holm-adjusted over the
drawn parameters (Holm 1979) below 0.05, so that chance alone flags no parameter in 19 runs
of 20; and the first-order sensitivity index ``S1`` of the paired difference with its 95%
bootstrap half-width, by random balance design FAST (SALib's ``rbd_fast``: Tarantola,
Gatelli & Mara 2006; Plischke 2010), which works on Latin hypercube draws; a dummy parameter
that the model never reads is drawn and analysed alongside as a check), ``robustness.png`` and
``robustness.json`` (written last: the claim, the share of the plausible space in which it
holds with its 95% Wilson interval, the paired difference's mean and quantiles, the
deciding assumptions, the design and the configuration). All are written together; an
interrupt leaves the folder as it was. Bad input (an unknown arm, brand or outcome, a
malformed claim, a bad key) is one line naming it, exit status 2.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd

from wommsim.compose import configs_dir
from wommsim.config import Config, ConfigError, plausible_ranges, register, validate
from wommsim.config import replace_key as set_key
from wommsim.experiment import Arm, resolve_arms
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
    default_ranges,
    model_config,
    number,
    outcome_task,
    outcome_value,
    provenance,
    run_tool,
    tool_job,
    tool_schema,
    write_json,
)

log = logging.getLogger(__name__)

TOOL = "wommsim.robustness"
TOOL_KEYS = ("claim", "draws", "params")
DEFAULT_DRAWS = 512
#: The model's size at each draw unless the command line sets it: one replicate of 5,000
#: consumers per arm (results hold from 5,000 consumers up, benchmarks/population.py).
DRAW_DEFAULTS = {"consumers": 5_000, "replicates": 1}
#: Outcomes where less is better: for these, "beats" means lower.
LOWER_IS_BETTER = frozenset({"time_to_half", "cost_per_adopter", "churn", "cost_per_customer",
                             "incremental_cost_per_customer"})
#: The name of the dummy parameter: drawn like the others, read by nothing (the noise floor
#: of the sensitivity index).
DUMMY = "(dummy: read by nothing)"

_ARMS = re.compile(r"^(?P<a>.+?) beats (?P<b>.+?) on (?P<outcome>\w+)"
                   r"(?: for brand (?P<brand>\S+))?$")
_BRANDS = re.compile(r"^brand (?P<a>\S+) beats brand (?P<b>\S+) on (?P<outcome>\w+) "
                     r"in (?P<arm>.+)$")


@dataclass(frozen=True)
class Claim:
    """``a`` beats ``b`` on ``outcome``: two arms (``arm`` empty; ``brand`` the brand whose
    outcome it is, in a market of several), or two brands of one ``arm``."""

    text: str
    a: str
    b: str
    outcome: str
    arm: str = ""
    brand: str = ""

    @property
    def arms(self) -> list[str]:
        """The arms the claim needs run."""
        return [self.arm] if self.arm else [self.a, self.b]

    @property
    def sign(self) -> float:
        """+1 where more is better, -1 where less is."""
        return -1.0 if self.outcome in LOWER_IS_BETTER else 1.0


def parse_claim(text: str, arms: Sequence[Arm]) -> Claim:
    """The :class:`Claim` in ``text``, checked against the experiment's ``arms`` and its
    brands; :class:`ConfigError` names what is wrong."""
    text = " ".join(str(text or "").split())
    names = [a.name for a in arms]
    if not text:
        raise ConfigError("claim: no claim given and the experiment states none "
                          "(experiment.claim); e.g. claim='\"A beats B on npv\"'")
    found = _BRANDS.match(text)
    if found:
        claim = Claim(text, found["a"], found["b"], found["outcome"], arm=found["arm"])
    elif found := _ARMS.match(text):
        claim = Claim(text, found["a"], found["b"], found["outcome"],
                      brand=found["brand"] or "")
    else:
        raise ConfigError(f"claim={text!r}: expected 'A beats B on OUTCOME' (arms), 'A beats "
                          "B on OUTCOME for brand X', or 'brand X beats brand Y on OUTCOME in "
                          "ARM'")
    for arm in claim.arms:
        if arm not in names:
            raise ConfigError(f"claim={text!r}: no arm {arm!r} (arms: {', '.join(names)})")
    if claim.a == claim.b:
        raise ConfigError(f"claim={text!r}: compares {claim.a!r} with itself")
    known = {**OUTCOMES, **BRAND_OUTCOMES}
    if claim.outcome not in known:
        raise ConfigError(f"claim={text!r}: unknown outcome {claim.outcome!r} (known: "
                          f"{', '.join(known)})")
    from wommsim.config import brands_of

    brands = [b.name for b in brands_of(next(a for a in arms if a.name == claim.arms[0]).config)]
    if claim.arm:
        if claim.outcome not in BRAND_OUTCOMES:
            raise ConfigError(f"claim={text!r}: {claim.outcome} is the market's, not a "
                              f"brand's (brand outcomes: {', '.join(BRAND_OUTCOMES)})")
        for brand in (claim.a, claim.b):
            if brand not in brands:
                raise ConfigError(f"claim={text!r}: no brand {brand!r} in arm {claim.arm!r} "
                                  f"(brands: {', '.join(brands)})")
    elif claim.outcome in BRAND_OUTCOMES:
        if not claim.brand and len(brands) > 1:
            raise ConfigError(f"claim={text!r}: {claim.outcome} is a brand's; name it: "
                              f"'... for brand X' (brands: {', '.join(brands)})")
        if claim.brand and claim.brand not in brands:
            raise ConfigError(f"claim={text!r}: no brand {claim.brand!r} (brands: "
                              f"{', '.join(brands)})")
        claim = dataclasses.replace(claim, brand=claim.brand or brands[0])
    return claim


def drawn_parameters(cfg: Config, overrides: Sequence[str],
                     only: Sequence[str] = ()) -> list[ParamRange]:
    """The parameters to draw (:func:`~wommsim.studies.paramspace.default_ranges`): every one
    with a plausible range (or those of ``only``, in that order), except those an arm or the
    grid sets and those the command line (``overrides``) holds."""
    unknown = [k for k in only if k not in plausible_ranges()]
    if unknown:
        raise ConfigError(f"params: {', '.join(unknown)}: no plausible range in the schema "
                          f"(parameters with one: python -c 'from wommsim.config import "
                          f"plausible_ranges; print(*plausible_ranges(), sep=chr(10))')")
    ranges = {r.key: r for r in default_ranges(cfg, overrides)}
    return [ranges[k] for k in (only or ranges) if k in ranges]


def apply_draw(cfg: Config, params: Sequence[ParamRange], units: Sequence[float]) -> Config:
    """``cfg`` with each parameter at its drawn value, validated."""
    for p, u in zip(params, units, strict=True):
        cfg = set_key(cfg, p.key, p.value(p.scale(float(u))))
    return validate(cfg)


def claim_values(claim: Claim, results: dict[str, list[Outcomes]]) -> tuple[float, float]:
    """The two sides' outcomes at one draw (``results``: each arm's replicates, from
    :func:`~wommsim.studies.paramspace.outcome_task`), each the mean over the replicates
    (NaN-skipping)."""
    if claim.arm:
        return (outcome_value(claim.outcome, claim.a, results[claim.arm]),
                outcome_value(claim.outcome, claim.b, results[claim.arm]))
    return (outcome_value(claim.outcome, claim.brand, results[claim.a]),
            outcome_value(claim.outcome, claim.brand, results[claim.b]))


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion."""
    from scipy import stats

    if n == 0:
        return math.nan, math.nan
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Result:
    """What :func:`assess` found."""

    claim: Claim
    params: list[ParamRange]
    draws: pd.DataFrame
    deciding: pd.DataFrame
    summary: dict[str, Any]
    config: Config


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm's (1979) step-down adjustment of ``pvalues`` (familywise error)."""
    order = np.argsort(pvalues, kind="stable")
    steps = pvalues[order] * (len(pvalues) - np.arange(len(pvalues)))
    adjusted = np.empty_like(pvalues)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    return adjusted


def deciding_table(params: Sequence[ParamRange], units: np.ndarray, difference: np.ndarray,
                   holds: np.ndarray, seed: int, level: float = 0.05) -> pd.DataFrame:
    """Per parameter (and the dummy), two tests over the draws, each Holm-adjusted over the
    drawn parameters (a familywise 5%: among ~100 parameters, chance alone flags none in 19
    runs of 20; the dummy is tested apart, as the check):

    - **deciding**: whether the claim holds depends on it: its draws differ between the
      draws where the claim holds and those where it fails (Mann-Whitney U, ``p_holds``,
      ``p_holds_holm``), with the share of draws in which the claim holds in the lowest and
      highest third of its range;
    - **moves_margin**: the paired difference's size depends on it (Spearman rank
      correlation ``rho``, ``p_value``, ``p_holm``), whether or not its sign changes;

    and ``S1``, the first-order share of the difference's variance by RBD-FAST with its
    bootstrap half-width (see the module doc). Sorted by ``p_holds``, then ``p_value``."""
    from SALib.analyze import rbd_fast
    from scipy import stats

    names = [p.key for p in params] + [DUMMY]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    result = rbd_fast.analyze(problem, units, difference, seed=seed)
    rho, pvalue = zip(*(stats.spearmanr(units[:, i], difference) for i in range(len(names))),
                      strict=True)
    pvalue = np.nan_to_num(np.asarray(pvalue, float), nan=1.0)
    both = holds.any() and not holds.all()
    p_holds = np.array([stats.mannwhitneyu(units[holds, i], units[~holds, i]).pvalue
                        if both else 1.0 for i in range(len(names))])
    adjusted, adjusted_holds = (np.append(holm(p[:-1]), min(1.0, p[-1] * (len(names) - 1)))
                                for p in (pvalue, p_holds))
    rows = []
    for i, name in enumerate(names):
        low, high = units[:, i] < 1 / 3, units[:, i] > 2 / 3
        p = params[i] if i < len(params) else None
        rows.append({
            "parameter": name, "lo": p.lo if p else 0.0, "hi": p.hi if p else 1.0,
            "basis": p.basis if p else "",
            "deciding": bool(p is not None and adjusted_holds[i] < level),
            "share_low_third": float(holds[low].mean()) if low.any() else math.nan,
            "share_high_third": float(holds[high].mean()) if high.any() else math.nan,
            "p_holds": float(p_holds[i]), "p_holds_holm": float(adjusted_holds[i]),
            "moves_margin": bool(p is not None and adjusted[i] < level),
            "rho": float(rho[i]), "p_value": float(pvalue[i]), "p_holm": float(adjusted[i]),
            "S1": float(result["S1"][i]), "S1_conf": float(result["S1_conf"][i]),
        })
    table = pd.DataFrame(rows)
    return table.sort_values(["p_holds", "p_value"], kind="stable").reset_index(drop=True)


def assess(base: Config, claim: Claim, params: Sequence[ParamRange], draws: int) -> Result:
    """Draw the parameters, run the claim's arms paired at each draw, and analyse."""
    from SALib.sample import latin

    arms = {a.name: a for a in resolve_arms(base)}
    needed = [arms[name] for name in claim.arms]
    names = [p.key for p in params] + [DUMMY]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    units = latin.sample(problem, draws, seed=base.seed)
    configs: list[dict[str, Config]] = []
    refused: list[str] = []
    valid = []
    for i, row in enumerate(units):
        try:
            configs.append({a.name: apply_draw(a.config, params, row[:-1]) for a in needed})
            valid.append(i)
        except ConfigError as err:
            refused.append(str(err))
    if not valid:
        raise ConfigError(f"every draw was refused by the schema, e.g.: {refused[0]}")
    if refused:
        log.warning("%d of %d draws refused by the schema and dropped (e.g. %s)",
                    len(refused), draws, refused[0])
    units = units[valid]
    points = [cfgs[a.name] for cfgs in configs for a in needed]
    runs = len(points) * base.replicates
    with Simulator(base.workers, runs) as sim:
        log.info("robustness of %r: %d parameters drawn, %d draws x %d arm(s) x %d "
                 "replicates = %d runs on %d processes", claim.text, len(params), len(configs),
                 len(needed), base.replicates, runs, sim.workers)
        results = sim.run(points, base.replicates, progress_bar(runs, "robustness"),
                          outcome_task)
    rows = []
    for d in range(len(configs)):
        by_arm = {a.name: results[d * len(needed) + j] for j, a in enumerate(needed)}
        a_value, b_value = claim_values(claim, by_arm)
        rows.append({"a": a_value, "b": b_value})
    sides = pd.DataFrame(rows)
    difference = claim.sign * (sides["a"] - sides["b"]).to_numpy(dtype=float)
    finite = np.isfinite(difference)
    holds = difference > 0
    table = pd.DataFrame({
        "draw": np.asarray(valid),
        **{p.key: [p.value(p.scale(u)) for u in units[:, j]] for j, p in enumerate(params)},
        claim.a: sides["a"].to_numpy(), claim.b: sides["b"].to_numpy(),
        "difference": difference, "holds": holds})
    n = int(finite.sum())
    share = float(holds[finite].mean()) if n else math.nan
    lo, hi = wilson(int(holds[finite].sum()), n)
    deciding = (deciding_table(params, units[finite], difference[finite], holds[finite],
                               base.seed) if n > len(names) else pd.DataFrame())
    quantiles = (np.quantile(difference[finite], [0.05, 0.25, 0.5, 0.75, 0.95]).tolist()
                 if n else [])
    summary = {
        "claim": claim.text, "outcome": claim.outcome,
        "better": "lower" if claim.sign < 0 else "higher",
        "share": share, "share_lo": lo, "share_hi": hi,
        "draws": draws, "valid_draws": len(valid), "refused_draws": len(refused),
        "draws_without_value": int((~finite).sum()),
        "mean_difference": float(difference[finite].mean()) if n else math.nan,
        "difference_quantiles": dict(zip(["5%", "25%", "50%", "75%", "95%"], quantiles,
                                         strict=False)),
        "deciding": (deciding.loc[deciding["deciding"], "parameter"].tolist()
                     if not deciding.empty else []),
        "moving_margin": (deciding.loc[deciding["moves_margin"], "parameter"].tolist()
                          if not deciding.empty else []),
        "parameters": {p.key: [p.lo, p.hi, p.basis] for p in params},
        "replicates_per_draw": base.replicates, "consumers": base.consumers,
        "steps": base.steps, "seed": base.seed,
    }
    return Result(claim, list(params), table, deciding, summary, base)


# -- the claim in an experiment's report -----------------------------------------------------

def record_path(experiment: str) -> Path:
    """Where the robustness of an experiment's claim is kept with the findings of record:
    the ``robustness.json`` of its last assessment, copied into the package."""
    return Path(__file__).resolve().parent.parent / "findings" / f"{experiment}.robustness.json"


def claim_lines(cfg: Config, arms: Sequence[Arm], market: pd.DataFrame,
                per_brand: pd.DataFrame) -> list[str]:
    """The report's lines on the experiment's claim (``experiment.claim``): its paired
    difference in this run, and beside it its robustness across the plausible parameter
    space from the findings of record (:func:`record_path`), or how to assess it."""
    from wommsim.reporting.analysis import mean_ci

    exp = cfg.experiment
    if exp is None or not exp.claim:
        return []
    try:
        claim = parse_claim(exp.claim, arms)
    except ConfigError as err:
        return [f"**Claim.** {exp.claim} (not tested: {err}).", ""]

    def values(arm: str, brand: str) -> pd.Series:
        if claim.outcome in OUTCOMES:
            frame = market[market["arm"] == arm]
        else:
            frame = per_brand[(per_brand["arm"] == arm) & (per_brand["brand"] == brand)]
        return frame.set_index("replicate")[claim.outcome]

    a, b = ((values(claim.arm, claim.a), values(claim.arm, claim.b)) if claim.arm
            else (values(claim.a, claim.brand), values(claim.b, claim.brand)))
    diff = (claim.sign * (a - b.reindex(a.index))).to_numpy(dtype=float)
    mean, lo, hi = mean_ci(diff)
    verdict = ("holds: the interval is above 0" if lo > 0 else
               "fails: the interval is below 0" if hi < 0 else
               "is not settled: the interval includes 0")
    better = "lower is better" if claim.sign < 0 else "higher is better"
    lines = [f"**Claim.** {claim.text}. In this run it {verdict} (paired difference "
             f"{mean:+,.4g} [{lo:+,.4g}, {hi:+,.4g}] in {claim.outcome}, {better}; "
             f"{int(np.isfinite(diff).sum())} replicates).", ""]
    path = record_path(exp.name)
    record = None
    if path.is_file():
        import json

        record = json.loads(path.read_text(encoding="utf-8"))
    if record is not None and record.get("claim") == claim.text:
        commit = (record.get("git_commit") or "unknown")[:7]
        lines.append(f"**Robustness.** {headline(record)} (findings of record: "
                     f"{record['replicates_per_draw']} replicate(s) of "
                     f"{record['consumers']:,} consumers per arm and draw, commit {commit}; "
                     f"python -m wommsim.robustness +experiment={exp.name} assesses it "
                     "anew).")
    else:
        lines.append(f"**Robustness.** Not assessed for this claim: python -m "
                     f"wommsim.robustness +experiment={exp.name} gives the share of the "
                     "plausible parameter space in which it holds.")
    return [*lines, ""]


# -- output ---------------------------------------------------------------------------------

def headline(summary: dict[str, Any]) -> str:
    """One sentence: the share of the plausible space in which the claim holds, the
    assumptions that decide whether it holds, and those that move its margin."""
    deciding, moving = summary["deciding"], summary.get("moving_margin", [])
    others = [p for p in moving if p not in deciding]
    text = (f"'{summary['claim']}' holds in {summary['share']:.0%} "
            f"[{summary['share_lo']:.0%}, {summary['share_hi']:.0%}] of the plausible "
            f"parameter space ({summary['valid_draws'] - summary['draws_without_value']} "
            f"draws of {len(summary['parameters'])} parameters)")
    text += (f"; whether it holds depends on {', '.join(deciding)}" if deciding
             else "; no single assumption decides whether it holds (none at a familywise 5%)")
    if others:
        text += f"; its margin also moves with {', '.join(others)}"
    return text + "."


def save_figure(result: Result, path: Path) -> Path:
    """Left: the paired difference across the draws (the claim holds right of 0). Right:
    the 15 assumptions most associated with the claim, their rank correlation with the
    paired difference, coloured by whether they decide it or move its margin, with the share
    of draws holding in the lowest and highest third of each range."""
    from matplotlib.patches import Patch

    from wommsim.reporting.figures import figure, save

    top = (result.deciding[result.deciding["parameter"] != DUMMY].head(15).iloc[::-1]
           if not result.deciding.empty else None)
    fig, (left, right) = figure(figsize=(13, 6.5), ncols=2)
    diff = result.draws["difference"].to_numpy(dtype=float)
    diff = diff[np.isfinite(diff)]
    left.hist(diff, bins=30, color="tab:blue", alpha=0.8)
    left.axvline(0, color="black", linewidth=1)
    s = result.summary
    left.set_title(f"the claim holds in {s['share']:.0%} [{s['share_lo']:.0%}, "
                   f"{s['share_hi']:.0%}] of draws (right of 0)", fontsize="small")
    better = "lower" if result.claim.sign < 0 else "higher"
    left.set_xlabel(f"paired difference in {result.claim.outcome}\n({better} is better)")
    left.set_ylabel("draws")
    if top is not None:
        pos = np.arange(len(top))
        colours = ["tab:red" if d else "tab:orange" if m else "tab:gray"
                   for d, m in zip(top["deciding"], top["moves_margin"], strict=True)]
        right.barh(pos, top["rho"], color=colours)
        right.axvline(0, color="black", linewidth=0.6)
        right.set_yticks(pos, [f"{p} ({lo:.0%} → {hi:.0%})" for p, lo, hi in zip(
            top["parameter"], top["share_low_third"], top["share_high_third"], strict=True)],
                      fontsize="x-small")
        right.set_xlabel("rank correlation with the paired difference (Spearman)\n"
                         "in brackets: share holding in the lowest → highest third of the range")
        right.set_title("which assumptions decide it (the 15 strongest)", fontsize="small")
        right.legend(handles=[Patch(color="tab:red", label="decides whether it holds"),
                              Patch(color="tab:orange", label="moves its margin"),
                              Patch(color="tab:gray", label="neither (Holm p ≥ 0.05)")],
                     fontsize="x-small", frameon=False, loc="best")
    fig.suptitle(f"Robustness: {result.claim.text}", fontsize="medium")
    return save(fig, path)


RESULT_FILES = ("draws.csv", "deciding.csv", "robustness.png", "robustness.json")


def write_result(result: Result, outdir: Path, argv: Sequence[str], wall_time: float) -> None:
    """The result files, all or none (:func:`wommsim.runs.results.write_together`)."""
    def write(stage: Path) -> None:
        write_atomic(stage / "draws.csv", lambda p: result.draws.to_csv(p, index=False))
        write_atomic(stage / "deciding.csv", lambda p: result.deciding.to_csv(p, index=False))
        save_figure(result, stage / "robustness.png")
        write_json(stage / "robustness.json", {
            **result.summary, "headline": headline(result.summary),
            "method": "Latin hypercube draws of every parameter with a plausible range "
                      "(SALib latin); the claim's arms paired on common random numbers at "
                      "each draw; Wilson interval of the share; deciding assumptions by a "
                      "Mann-Whitney test of each parameter between the draws where the claim "
                      "holds and fails, margin-moving ones by the Spearman rank correlation "
                      "with the paired difference, both Holm-adjusted over the parameters "
                      "(familywise 5%); "
                      "first-order indices by RBD-FAST (SALib rbd_fast); a dummy parameter "
                      "read by nothing as a check",
            "wall_time_s": wall_time, **provenance(result.config, TOOL, argv)})

    write_together(outdir, RESULT_FILES, write)


register()
tool_schema("robustness", [("claim", str | None, None), ("draws", int | None, None),
                           ("params", Any, None)])


def _robustness(own: Any, outdir: Path, overrides: list[str]) -> int:
    base = model_config(own, TOOL_KEYS, overrides, **DRAW_DEFAULTS)
    if base.experiment is None:
        raise ConfigError("+experiment=NAME: the robustness of a claim compares arms of an "
                          "experiment")
    base = validate(dataclasses.replace(base, attribution="last_touch"))
    arms = resolve_arms(base)
    claim = parse_claim(own.get("claim") or base.experiment.claim, arms)
    draws = number(own, "draws", DEFAULT_DRAWS, lo=8)
    only = [k.split(":")[0] for k in as_list(own.get("params"))]
    params = drawn_parameters(base, overrides, only)
    if not params:
        raise ConfigError("no parameter left to draw (all are held or set by the arms)")
    faults.check_writable(outdir)
    started = time.perf_counter()
    result = assess(base, claim, params, draws)
    write_result(result, outdir, overrides, time.perf_counter() - started)
    print(headline(result.summary))
    print(f"{result.summary['valid_draws']} draws in {time.perf_counter() - started:.1f} s; "
          f"results: {outdir}")
    return 0


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="robustness")
def _app(dictcfg: Any) -> None:
    tool_job(TOOL, _robustness, dictcfg)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (``argv``: its arguments); returns the exit status (2 for bad
    input)."""
    return run_tool(_app, TOOL, argv, list_keys=("params",))
