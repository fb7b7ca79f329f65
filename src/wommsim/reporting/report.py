"""``report.md``: what ran, the summary and paired-difference tables, the figures, and a
reading of the numbers generated from them (never a conclusion written in advance)."""

from __future__ import annotations

import contextlib
import math
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from wommsim.config import LEVERS, Config, ConfigError, brands_of, budget_text, weekly_budget
from wommsim.reporting.analysis import (
    INTERVALS,
    OUTCOME_LABELS,
    OUTCOMES,
    lever_allowance,
    response_shape,
)
from wommsim.reporting.tables import markdown_table, number, with_interval
from wommsim.runs.results import write_atomic

#: Outcomes reported in the tables: column stem, header and scale
#: (:data:`~wommsim.reporting.analysis.OUTCOME_LABELS`), decimals, unit in prose.
MAIN: list[tuple[str, str, float, int, str]] = [
    (key, *OUTCOME_LABELS[key], decimals, unit) for key, decimals, unit in (
        ("final_adoption", 1, "%"),
        ("time_to_half", 1, " weeks"),
        ("peak_new_adopters", 1, " consumers per week"),
        ("cost_per_adopter", 1, " money per adopter"),
        ("net_sentiment", 2, ""),
        ("followers_end", 1, " followers"),
        ("roms", 2, ""),
        ("npv", 0, " money"),
    )]
LABELS = {key: (h if h.isupper() else h[0].lower() + h[1:])
          for key, header, *_ in MAIN for h in [header.split(" (")[0]]}
CAPTIONS = {
    "adoption": "Adopted share of consumers over time: mean over replicates, 95% band.",
    "new_adopters": "New adopters per week: mean over replicates, 95% band.",
    "attribution": "What each lever adds: its counterfactual (Shapley) contribution to "
                   "customers won and customer equity, split into expansion (solid) and "
                   "acceleration (light), with its 95% interval over replicates; diamonds: "
                   "the loss when the lever alone is switched off.",
    "last_touch_credit": "Last-touch weighted credit (a heuristic, not an effect): adopters "
                         "won during the run by the influence each purchase was credited to "
                         "(a panel each): mean and 95% interval over replicates.",
    "sentiment": "Mean opinion, advocates (solid) and detractors (dashed) over time: mean over "
                 "replicates, 95% bands.",
    "cost_per_adopter": "Cost per adopter won: mean and 95% interval over replicates.",
    "final_adoption": "Final adoption in each replicate: box plot with the replicates as points.",
    "grid": "Final adoption and cost per adopter against the grid parameter, 95% intervals.",
}


def _g(x: float, se: float | None = None) -> str:
    """Three significant digits, with ``± se`` when known."""
    if not math.isfinite(float(x)):
        return "n/a"
    return f"{x:.3g}" + (f" ± {se:.2g}" if se is not None and math.isfinite(float(se)) else "")


def _arm_configs(cfg: Config) -> dict[str, Config]:
    """Each arm's resolved configuration (``{}`` if the experiment no longer resolves)."""
    from wommsim.experiment import resolve_arms

    try:
        return {arm.name: arm.config for arm in resolve_arms(cfg)}
    except (ConfigError, OSError):
        return {}


def _arm_strategies(cfg: Config, arms: pd.DataFrame
                    ) -> dict[str, list[tuple[str, object, str]]]:
    """Each arm's strategies (shares of the budget) and phases, one per brand of its market
    as ``(label, strategy, phases)`` (the label names the brand when there are several):
    from the resolved arms of the experiment, else from the strategy preset named in the
    summary; None if unknown."""
    from wommsim.experiment import strategy_preset

    configs = _arm_configs(cfg)
    out = {}
    for _, row in arms.iterrows():
        arm, arm_cfg = row["arm"], configs.get(row["arm"])
        if arm_cfg is not None:
            brands = brands_of(arm_cfg)
            out[arm] = []
            for brand in brands:
                own = brand.config
                phases = ", ".join(f"{p.name} from step {p.start}" for p in own.phases)
                label = f"{arm}: brand {brand.name}" if len(brands) > 1 else arm
                out[arm].append((label, own.strategy, phases or "-"))
            continue
        out[arm] = [(arm, None, "n/a")]
        if isinstance(row.get("strategy"), str):
            with contextlib.suppress(ConfigError, OSError):  # not a known preset
                out[arm] = [(arm, strategy_preset(row["strategy"]), "n/a")]
    return out


def _allowance(arm_cfg: Config) -> pd.DataFrame:
    """What each lever may spend over the run (:func:`lever_allowance`), added up over the
    brands of the arm's market (each spends its own budget by its own strategy)."""
    parts = [lever_allowance(brand.config) for brand in brands_of(arm_cfg)]
    if len(parts) == 1:
        return parts[0]
    both = pd.concat(parts)
    total = both.groupby(level=0, sort=False).first()
    total[["allotted", "spendable", "left"]] = both.groupby(level=0, sort=False)[
        ["allotted", "spendable", "left"]].sum()
    total["steps_without_unit"] = both.groupby(level=0, sort=False)["steps_without_unit"].max()
    return total


def _ordered(summary: pd.DataFrame, arm_names: list[str]) -> pd.DataFrame:
    """Summary rows in the given arm order (arms missing from the list last)."""
    known = [a for a in arm_names if a in set(summary["arm"])]
    order = known + [a for a in summary["arm"] if a not in known]
    return summary.set_index("arm").loc[order].reset_index()


def _configuration(cfg: Config, arms: pd.DataFrame) -> list[str]:
    rule = cfg.decision.rule
    if rule == "bass":
        rule += f" (p = {cfg.decision.p:g}, q = {cfg.decision.q:g} per step)"
    rows = [["consumers", f"{cfg.consumers:,}"], ["steps", f"{cfg.steps} (weeks)"],
            ["replicates", f"{cfg.replicates} per arm, paired on the same seeds"],
            ["seed", f"{cfg.seed} (replicate r uses SeedSequence([seed, r]))"],
            ["network", cfg.network.kind], ["decision rule", rule],
            ["budget", budget_text(cfg, cfg.consumers)
             + (" for each brand (unless a brand sets its own)"
                if len(cfg.market.brands) > 1 else "")],
            ["never-click (ad-blind) share", f"{cfg.consumer.ad_blind_fraction:g}"],
            ["product quality", f"{cfg.brand.quality:g} (mean experienced quality, -1 to 1)"]]
    lines = ["## Configuration", "",
             "The base configuration (arms may override parts of it, see below); the full "
             "resolved configuration is in `.hydra/config.yaml` next to this report.", "",
             *markdown_table(["Setting", "Value"], rows).splitlines(), ""]
    strategies = _arm_strategies(cfg, arms)
    stop = list(arms.columns).index("replicates") if "replicates" in arms.columns else 1
    # Grid values only: strategy, shares and phases are shown from the resolved arms.
    desc = [c for c in arms.columns[1:stop]
            if c not in ("base_arm", "strategy", "phases") and not c.startswith("share_")]
    header = ["Arm", "Strategy", *desc, *(f"{lever} (%)" for lever in LEVERS), "Phases"]
    rows = []
    for _, row in arms.iterrows():
        values = [v if not isinstance(v, float) or math.isfinite(v) else "n/a"
                  for v in (row[c] for c in desc)]
        for label, strategy, phases in strategies[row["arm"]]:
            name = strategy.name if strategy is not None else row.get("strategy", "n/a")
            shares = [number(getattr(strategy, lever), 0, 100.0) if strategy is not None
                      else "n/a" for lever in LEVERS]
            rows.append([label, name, *values, *shares, phases])
    lines += ["Arms and their split of the budget:", "",
              *markdown_table(header, rows).splitlines(), ""]
    return lines


def _summary_table(arms: pd.DataFrame) -> list[str]:
    header = ["Arm", "Replicates", *(h for _, h, *_ in MAIN), "Bass p", "Bass q"]
    rows = [[row["arm"], int(row["replicates"]),
             *(with_interval(row[f"{k}_mean"], row[f"{k}_lo"], row[f"{k}_hi"], d, s)
               for k, _, s, d, _ in MAIN),
             _g(row["bass_p"], row["bass_p_se"]), _g(row["bass_q"], row["bass_q_se"])]
            for _, row in arms.iterrows()]
    return ["## Summary", "",
            "Mean over replicates with its 95% interval in brackets; Bass p and q (per step, "
            "± standard error) are fitted to each arm's mean adoption curve.", "",
            *markdown_table(header, rows).splitlines(), "",
            "What each column measures, per replicate (`outcomes.csv`):", "",
            *(f"- **{LABELS[k][0].upper() + LABELS[k][1:]}**: {OUTCOMES[k]}."
              for k, *_ in MAIN),
            f"- **Intervals**: {INTERVALS}.", ""]


def _spend_table(cfg: Config, arms: pd.DataFrame) -> list[str]:
    """Each arm's spend, in total and per lever, against what the budget allots it, and
    why a lever spent less than its share: switched off, a share that buys no whole unit in
    some weeks, the fraction of a unit still carried at the end, or fewer recipients than
    units."""
    from wommsim.mechanisms import SCHEDULE

    recipients = {m.name: m.recipients for m in SCHEDULE if m.lever}
    configs = _arm_configs(cfg)
    header = ["Arm", "Budget (money)", "Spent (money)", "Spent (% of budget)",
              *(f"{lever} (spent of allotted)" for lever in LEVERS)]
    rows, notes = [], {}  # (lever, why) -> arms
    for _, row in arms.iterrows():
        arm_cfg = configs.get(row["arm"])
        if arm_cfg is None:
            continue
        budget = sum(weekly_budget(b.config, arm_cfg.consumers)
                     for b in brands_of(arm_cfg)) * arm_cfg.steps
        allowance = _allowance(arm_cfg)
        share = row["spend_mean"] / budget if budget > 0 else math.nan
        cells = []
        for lever, a in allowance.iterrows():
            spent = row.get(f"spend_{lever}_mean", math.nan)
            cells.append(f"{number(spent, 0)} of {number(a['allotted'], 0)}"
                         if a["allotted"] > 0 else "-")
            for why in _unspent(lever, a, spent, recipients[lever], arm_cfg.steps):
                notes.setdefault((lever, why), []).append(row["arm"])
        rows.append([row["arm"], number(budget, 0),
                     with_interval(row["spend_mean"], row["spend_lo"], row["spend_hi"], 0),
                     number(share, 1, 100.0), *cells])
    if not rows:
        return []
    return ["## Spend", "",
            "\"Equal budget\" is a cap: each lever may spend its share of the budget each week, "
            "in whole units, carrying the fraction of a unit it cannot buy to the next week "
            "(see `configs/config.yaml` for unit costs). Spent: mean over "
            "replicates (95% interval for the total).", "",
            *markdown_table(header, rows).splitlines(), "",
            *((["Why a lever spent less than its share:", "",
                *(f"- {_arms_named(who, arms)}, {lever}: {why}"
                  for (lever, why), who in notes.items()), ""]) if notes else
              ["Every lever spent its whole share.", ""])]


def _arms_named(names: list[str], arms: pd.DataFrame) -> str:
    """``names`` for a sentence: an experiment arm at every grid value by its own name."""
    bases = _bases(arms)
    out = []
    for base in dict.fromkeys(bases[names]):
        members = [n for n in names if bases[n] == base]
        if len(members) > 1 and set(members) == set(bases.index[bases == base]):
            out.append(f"**{base}** (every grid value)")
        else:
            out += [f"**{n}**" for n in members]
    return ", ".join(out)


def _unspent(lever: str, a: pd.Series, spent: float, recipients: str,
             steps: int) -> list[str]:
    """Why ``lever`` (its :func:`~wommsim.reporting.analysis.lever_allowance` row ``a``,
    ``spent`` on average) spent less than it was allotted; empty if it did not."""
    unit, cost = a["unit"], a["unit_cost"]
    singular = unit[:-1] if unit.endswith("s") else unit
    if a["allotted"] <= 0:
        return []
    if not a["enabled"]:
        return [f"switched off (`{lever}.enabled=false`): its {number(a['allotted'], 0)} "
                "go unspent."]
    out = []
    if a["steps_without_unit"]:
        out.append(f"in {a['steps_without_unit']} of {steps} weeks its share of the budget, "
                   f"with what it carried over, is less than one {singular} costs "
                   f"({cost:,g}), so it buys none that week and carries the money over: "
                   f"levers buy whole units only (`{lever}` unit cost in `configs/config.yaml`).")
    remainder = a["allotted"] - a["spendable"]
    if remainder > 1e-6 * a["allotted"] and not (a["spendable"] == 0 and out):
        out.append(f"whole {unit} only ({cost:,g} each): its shares buy "
                   f"{number(a['spendable'], 0)} of the {number(a['allotted'], 0)} allotted; "
                   f"the rest, less than one {singular}, was still carried over at the end.")
    if math.isfinite(spent) and spent < a["spendable"] * (1 - 1e-9) - 1e-9:
        who = f" ({recipients})" if recipients else ""
        out.append(f"spent less than its whole units could buy "
                   f"({number(a['spendable'], 0)}): it pays only for {unit} it places, and "
                   f"there were fewer recipients{who} than {unit} it could buy.")
    return out


#: Outcomes that are ratios to spend: an arm that spends nothing has nothing to compare.
PER_SPEND = ("cost_per_adopter", "roms")


def _moot(differences: pd.DataFrame, arms: pd.DataFrame) -> pd.Series:
    """Rows comparing a ratio to spend with an arm (or reference) that spends nothing."""
    unspent = set(arms.loc[~(arms["spend_mean"].astype(float) > 0), "arm"])
    return (differences["outcome"].isin(PER_SPEND)
            & (differences["arm"].isin(unspent) | differences["reference"].isin(unspent)))


def _significant(differences: pd.DataFrame, arms: pd.DataFrame) -> pd.DataFrame:
    main = differences[differences["outcome"].isin(LABELS) & ~_moot(differences, arms)]
    return main[(main["lo"] > 0) | (main["hi"] < 0)]


def _differences_table(differences: pd.DataFrame, arms: pd.DataFrame,
                       arm_names: list[str]) -> list[str]:
    lines = ["## Paired differences", ""]
    if differences.empty:
        return [*lines, "Only one arm ran: there are no paired differences.", ""]
    reference = _reference_name(differences, arms)
    sig = set(zip(*(_significant(differences, arms)[c] for c in ("arm", "outcome")),
                  strict=True))
    moot = set(zip(*(differences[_moot(differences, arms)][c] for c in ("arm", "outcome")),
                   strict=True))
    header = ["Arm", "Pairs", *(h.replace("(%)", "(points)") for _, h, *_ in MAIN)]
    rows = []
    order = [a for a in arm_names if a in set(differences["arm"])]
    for arm in order + [a for a in pd.unique(differences["arm"]) if a not in order]:
        d = differences[differences["arm"] == arm].set_index("outcome", drop=False)
        cells = []
        for key, _, scale, decimals, _ in MAIN:
            if key not in d.index:
                cells.append("n/a")
                continue
            if (arm, key) in moot:
                cells.append("n/a (no spend)")
                continue
            r = d.loc[key]
            text = with_interval(r["difference"], r["lo"], r["hi"], decimals, scale, sign=True)
            cells.append(f"**{text}**" if (arm, key) in sig else text)
        rows.append([arm, int(d["pairs"].max()), *cells])
    return [
        *lines,
        f"Each arm minus the reference arm {reference}, replicate by replicate (the arms "
        "share seeds): mean difference and 95% interval (Student t). **Bold**: the interval "
        "excludes 0. "
        "Final adoption differences are in percentage points; cost per adopter and ROMS are "
        "not compared with an arm that spends nothing (n/a).", "",
        *markdown_table(header, rows).splitlines(), ""]


def _reference_name(differences: pd.DataFrame, arms: pd.DataFrame) -> str:
    """The reference arm as the report names it (Markdown): the arm, or in a grid
    experiment (one reference per grid value) the experiment arm "at the same grid
    values"."""
    refs = list(pd.unique(differences["reference"]))
    if len(refs) == 1:
        return f"**{refs[0]}**"
    return f"**{_bases(arms).get(refs[0], refs[0])}** at the same grid values"


def _bases(arms: pd.DataFrame) -> pd.Series:
    """Each arm's experiment arm (``base_arm``, its name without grid values), by arm."""
    base = arms["base_arm"] if "base_arm" in arms.columns else arms["arm"]
    return pd.Series(base.astype(str).to_numpy(), index=arms["arm"].astype(str))


def _reading(arms: pd.DataFrame, differences: pd.DataFrame,
             grid: list[str] | None = None) -> list[str]:
    reps = arms["replicates"].astype(int)
    n = f"{reps.min()}" if reps.min() == reps.max() else f"{reps.min()} to {reps.max()}"
    intro = f"In this configuration, with {n} replicate{'s' * (n != '1')} per arm,"
    s = arms.set_index("arm")

    def ci(arm: str, key: str) -> str:
        _, _, scale, decimals, unit = next(m for m in MAIN if m[0] == key)
        return with_interval(*(s.at[arm, f"{key}_{part}"] for part in ("mean", "lo", "hi")),
                             decimals, scale) + unit

    def ranked(key: str, rows: pd.Index | None = None) -> list[str]:
        values = s.loc[rows if rows is not None else s.index, f"{key}_mean"].astype(float)
        return list(values[values.notna()].sort_values(ascending=False, kind="stable").index)

    def extremes(key: str, best: str, worst: str, one: str, rows=None, low=False) -> None:
        """A sentence naming the best and worst arm on ``key`` (or the only arm's value)."""
        order = ranked(key, rows)[::-1] if low else ranked(key, rows)
        if len(s) == 1 and order:
            out.append(one.format(arm=order[0], v=ci(order[0], key)) + ".")
        elif len(order) == 1:
            out.append(f"Only **{order[0]}** has a value for {LABELS[key]}: "
                       f"{ci(order[0], key)}.")
        elif order:
            text = best.format(arm=order[0], v=ci(order[0], key))
            if len(order) > 1:
                text += worst.format(arm=order[-1], v=ci(order[-1], key))
            out.append(text + ".")

    out: list[str] = []
    by_adoption = ranked("final_adoption")
    if grid:
        out += _grid_reading(arms, differences, grid, intro)
    elif len(by_adoption) == 1:
        out.append(f"{intro} **{by_adoption[0]}** reached a final adoption of "
                   f"{ci(by_adoption[0], 'final_adoption')}.")
    elif by_adoption:
        first, second = by_adoption[:2]
        lo1, hi2 = s.at[first, "final_adoption_lo"], s.at[second, "final_adoption_hi"]
        if not (math.isfinite(lo1) and math.isfinite(hi2)):
            overlap = "without replicate spread there are no intervals to compare"
        elif lo1 <= hi2:
            overlap = ("their 95% intervals overlap, so the replicates do not clearly "
                       "separate the two (the paired differences are the sharper test)")
        else:
            overlap = "their 95% intervals do not overlap"
        out.append(f"{intro} **{first}** reached the highest final adoption, "
                   f"{ci(first, 'final_adoption')}, ahead of {second} at "
                   f"{ci(second, 'final_adoption')}; {overlap}.")
    if not grid:  # across grid values, extremes over every arm mix grid values
        extremes("time_to_half", "**{arm}** was the fastest to half of its own final gain "
                 "({v})", ", {arm} the slowest ({v})",
                 "It took {v} to reach half of its final gain", low=True)
        fastest = ranked("time_to_half")[::-1]
        if len(fastest) > 1 and fastest[0] != by_adoption[0]:
            out[-1] = out[-1][:-1] + ("; time to half is measured against each arm's own "
                                      "final gain, so an arm that gains little can still be "
                                      "quick.")
    paid = s.index[s["spend_mean"].astype(float) > 0]
    if not grid:
        extremes("cost_per_adopter", "Among arms that spent money, **{arm}** was the cheapest "
                 "per adopter ({v})", " and {arm} the dearest ({v})", "Each adopter cost {v}",
                 paid, low=True)
    unpaid = [a for a in s.index if a not in paid]
    no_adopters = [a for a in s.index if not math.isfinite(s.at[a, "cost_per_adopter_mean"])]
    if unpaid:
        out.append(f"Spent nothing (cost per adopter not comparable): {', '.join(unpaid)}.")
    if no_adopters:
        out.append(f"Won no adopters in any replicate (cost per adopter n/a): "
                   f"{', '.join(no_adopters)}.")
    if not grid:
        extremes("net_sentiment", "Net sentiment was highest for **{arm}** ({v})",
                 " and lowest for {arm} ({v})", "Net sentiment was {v}")
    negative = [a for a in ranked("net_sentiment") if s.at[a, "net_sentiment_mean"] < 0]
    if negative:
        out.append(f"Net sentiment was negative on average for {', '.join(negative)}: more "
                   "negative than positive talk about the brand.")
    if not grid:
        extremes("followers_end", "**{arm}** ended with the most followers ({v})",
                 ", {arm} with the fewest ({v})", "It ended with {v}")

    lines = ["## Reading", "", *(f"- {sentence}" for sentence in out), ""]
    if not differences.empty:
        reference = _reference_name(differences, arms)
        single = differences["reference"].nunique() == 1
        sig = _significant(differences, arms)
        if sig.empty:
            lines += [f"No paired difference from {reference} in the main outcomes has a 95% "
                      "interval that excludes 0.", ""]
        else:
            lines += [f"Paired differences from {reference} whose 95% interval excludes 0:", ""]
            for arm, group in sig.groupby("arm", sort=False):
                parts = []
                for _, r in group.iterrows():
                    _, _, scale, decimals, unit = next(m for m in MAIN if m[0] == r["outcome"])
                    unit = " points" if r["outcome"] == "final_adoption" else unit
                    shown = with_interval(r["difference"], r["lo"], r["hi"], decimals, scale,
                                          True)
                    parts.append(f"{LABELS[r['outcome']]} {shown}{unit}")
                versus = "" if single else f" minus {group['reference'].iloc[0]}"
                lines.append(f"- {arm}{versus} ({int(group['pairs'].min())} pairs): "
                             + "; ".join(parts) + ".")
            lines.append("")
    lines += [
        *_bass_reading(s),
        "These statements describe this configuration and these replicates only; other "
        "parameter values, a longer horizon or more replicates can change them.", ""]
    return lines


def _bass_reading(s: pd.DataFrame) -> list[str]:
    p, q = s["bass_p"].astype(float), s["bass_q"].astype(float)
    fitted = s.index[p.notna() & q.notna()]
    lines = []
    if len(fitted):
        ratio = (p[fitted] / q[fitted].clip(lower=1e-12)).sort_values(ascending=False)
        external = [a for a in fitted if p[a] > q[a]]
        text = "In the Bass fit to each arm's mean adoption curve (table above), "
        if external:
            text += (f"p exceeds q, i.e. diffusion looks external-influence-led (advertising "
                     f"and other levers rather than imitation), for {', '.join(external)}; ")
        imitation = [a for a in fitted if a not in external]
        if imitation:
            text += f"q exceeds p (imitation-led) for {', '.join(imitation)}. "
        if len(ratio) > 1:
            top, bottom = ratio.index[0], ratio.index[-1]
            text += (f"Relative to q, p is largest for **{top}** ({_ratio(p[top], q[top])}), "
                     f"the most external-influence-led arm, and smallest for {bottom} "
                     f"({_ratio(p[bottom], q[bottom])}). ")
        lines.append(text + "The fit describes the curve's shape, not what caused it: "
                     "the last-touch credit figure shows which influence each purchase was "
                     "credited to, and counterfactual attribution (attribution=counterfactual) "
                     "what each lever adds.")
    missing = [a for a in s.index if a not in fitted]
    if missing:
        lines.append(f"The Bass fit is not identified for {', '.join(missing)}.")
    return [*lines, ""] if lines else []


def _ratio(p: float, q: float) -> str:
    return f"p/q = {p / q:.3g}" if q > 1e-6 * max(p, 1e-12) else f"p = {p:.3g}, q ≈ 0"


def _figures(path: Path, figures: list[Path]) -> list[str]:
    lines = ["## Figures", ""]
    for fig in figures:
        fig = Path(fig)
        try:
            link = Path(os.path.relpath(fig.resolve(), path.parent.resolve())).as_posix()
        except ValueError:  # another drive
            link = f"figures/{fig.name}"
        caption = CAPTIONS.get(fig.stem, fig.stem.replace("_", " "))
        lines += [f"![{caption}]({link})", "", f"*{caption}*", ""]
    return lines


def write_report(path: Path, cfg: Config, arm_names: list[str], summary: pd.DataFrame,
                 differences: pd.DataFrame, figures: list[Path],
                 wall_time: float | None, brands: list[str] = (),
                 claim: list[str] = ()) -> None:
    """Write ``report.md`` at ``path`` atomically (temporary file, then rename);
    ``brands``, the lines of the brands' sections (:mod:`wommsim.reporting.brands`,
    :mod:`wommsim.reporting.customers`), follow the paired differences; ``claim``, the
    lines on the experiment's claim and its robustness, follow the question."""
    path = Path(path)
    exp = cfg.experiment
    arms = _ordered(summary, list(arm_names))
    if exp is not None and exp.name:
        title = exp.name
    elif len(arms) == 1:
        title = arms["arm"].iloc[0]
    else:
        title = f"{len(arms)} arms"
    outcomes = "adoption, speed, cost per adopter, sentiment and followers"
    generic = (f"How does the {title} arm fare on {outcomes} for its budget?" if len(arms) == 1 else
               f"How do the arms compare on {outcomes} when each spends the same budget?")
    question = exp.question if exp is not None and exp.question else generic
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    run = f"; run time {wall_time:,.1f} s" if wall_time is not None else ""
    grid = [k for k in (exp.grid if exp is not None else {}) if k in arms.columns]
    lines = [f"# wommsim report: {title}", "", f"**Question.** {question}", "", *claim,
             f"Date: {stamp}{run}.", "",
             *_configuration(cfg, arms), *_summary_table(arms), *_spend_table(cfg, arms),
             *(_grid_section(arms, differences, grid) if grid else []),
             *_differences_table(differences, arms, list(arm_names)), *brands,
             *_figures(path, figures), *_reading(arms, differences, grid),
             *_validation_links(path, cfg)]
    text = "\n".join(lines).rstrip() + "\n"
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


#: Outcomes compared at each grid value and followed across the grid (also the grid figure's).
GRID_OUTCOMES = ("final_adoption", "cost_per_adopter")


def _grid_frame(arms: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The summary with its experiment arm (``base``) and grid combination (``combo``, the
    position of its grid values in first-seen order); the experiment arms in order."""
    frame = arms.assign(base=_bases(arms).to_numpy())
    combos = list(dict.fromkeys(map(tuple, frame[keys].astype(str).to_numpy())))
    frame["combo"] = [combos.index(tuple(v)) for v in frame[keys].astype(str).to_numpy()]
    return frame, list(pd.unique(frame["base"]))


def _grid_section(arms: pd.DataFrame, differences: pd.DataFrame,
                  keys: list[str]) -> list[str]:
    """The arms side by side at each grid value: each arm's final adoption and cost per
    adopter, and its paired difference from the reference arm at the same grid values."""
    frame, bases = _grid_frame(arms, keys)
    diffs = differences.set_index(["arm", "outcome"]) if not differences.empty else None
    sig = set(zip(*(_significant(differences, arms)[c] for c in ("arm", "outcome")),
                  strict=True)) if diffs is not None else set()
    compared = set(differences["arm"]) if diffs is not None else set()
    header = [*(f"`{k}`" for k in keys)]
    for key in GRID_OUTCOMES:
        header += [f"{b}: {h[0].lower() + h[1:]}" for b in bases
                   for _, h, *_ in [next(m for m in MAIN if m[0] == key)]]
    moved = [b for b in bases if any(a in compared for a in frame.loc[frame["base"] == b, "arm"])]
    header += [f"{b} minus reference: final adoption (points)" for b in moved]
    rows = []
    for _, part in frame.groupby("combo", sort=True):
        by_base = part.set_index("base")
        row = [str(part[k].iloc[0]) for k in keys]
        for key in GRID_OUTCOMES:
            _, _, scale, decimals, _ = next(m for m in MAIN if m[0] == key)
            row += [with_interval(by_base.at[b, f"{key}_mean"], by_base.at[b, f"{key}_lo"],
                                  by_base.at[b, f"{key}_hi"], decimals, scale)
                    if b in by_base.index else "n/a" for b in bases]
        for b in moved:
            arm = by_base.at[b, "arm"] if b in by_base.index else None
            if arm is None or (arm, "final_adoption") not in diffs.index:
                row.append("reference" if arm in set(differences["reference"]) else "n/a")
                continue
            r = diffs.loc[(arm, "final_adoption")]
            text = with_interval(r["difference"], r["lo"], r["hi"], 1, 100.0, sign=True)
            row.append(f"**{text}**" if (arm, "final_adoption") in sig else text)
        rows.append(row)
    return ["## The arms at each grid value", "",
            "Each experiment arm at each combination of grid values: mean and 95% interval "
            "over replicates; paired differences are taken within a grid value, against the "
            "reference arm at the same grid values (**bold**: the interval excludes 0).", "",
            *markdown_table(header, rows).splitlines(), ""]


def _grid_reading(arms: pd.DataFrame, differences: pd.DataFrame, keys: list[str],
                  intro: str) -> list[str]:
    """Sentences comparing the arms at each grid value and following each arm across the
    grid: its shape along a single grid key, else the mean change along each key."""
    frame, bases = _grid_frame(arms, keys)
    out = []
    leaders = {}
    for combo, part in frame.groupby("combo", sort=True):
        means = part.set_index("base")["final_adoption_mean"].astype(float).dropna()
        if len(means) > 1:
            leaders[combo] = means.idxmax()
    if leaders:
        values = {c: ", ".join(f"{k} = {frame.loc[frame['combo'] == c, k].iloc[0]}"
                               for k in keys) for c in leaders}
        firsts = list(dict.fromkeys(leaders.values()))
        if len(firsts) == 1:
            clear = _clear_lead(frame, differences, firsts[0], list(leaders))
            out.append(f"{intro} **{firsts[0]}** had the highest final adoption at every grid "
                       f"value ({len(leaders)} of {len(leaders)})"
                       + (f"; its paired difference from the other arm excludes 0 at "
                          f"{clear} of them" if clear is not None else "") + ".")
        else:
            out.append(f"{intro} the arm with the highest final adoption depends on the grid "
                       "value: " + "; ".join(
                           f"**{b}** at " + ", ".join(values[c] for c, w in leaders.items()
                                                      if w == b) for b in firsts) + ".")
    numeric = {k: pd.to_numeric(frame[k], errors="coerce").notna().all() for k in keys}
    for key in GRID_OUTCOMES:
        for base in bases:
            rows = frame[frame["base"] == base]
            if len(keys) == 1:
                out.append(_response(rows, keys[0], key, base, numeric[keys[0]]))
            else:
                out += [_main_effect(rows, keys, k, key, base) for k in keys]
    return [sentence for sentence in out if sentence]


def _clear_lead(frame: pd.DataFrame, differences: pd.DataFrame, leader: str,
               combos: list[int]) -> int | None:
    """With two experiment arms, at how many of ``combos`` the paired difference in final
    adoption puts ``leader`` clearly ahead of the other (its 95% interval excludes 0 on the
    leader's side); None with more arms (no paired test between two non-reference arms) or
    without differences."""
    if differences.empty or frame["base"].nunique() != 2:
        return None
    d = differences[differences["outcome"] == "final_adoption"].set_index("arm")
    count = 0
    for combo in combos:
        part = frame[frame["combo"] == combo].set_index("base")["arm"]
        if part[leader] in d.index:  # the leader minus the reference
            count += bool(d.at[part[leader], "lo"] > 0)
        else:  # the other arm minus the leader, the reference
            other = part.drop(leader)
            count += bool(len(other) and other.iloc[0] in d.index
                          and d.at[other.iloc[0], "hi"] < 0)
    return count


def _response(rows: pd.DataFrame, grid_key: str, key: str, base: str, numeric: bool) -> str:
    """How ``base``'s ``key`` responds along the one grid key, from its means and
    intervals (:func:`~wommsim.reporting.analysis.response_shape`)."""
    if numeric:
        rows = rows.assign(_x=pd.to_numeric(rows[grid_key])).sort_values("_x", kind="stable")
    rows = rows[rows[f"{key}_mean"].astype(float).notna()]
    if len(rows) < 2:
        return ""
    _, _, scale, decimals, unit = next(m for m in MAIN if m[0] == key)
    mean, lo, hi = (rows[f"{key}_{c}"].to_numpy(dtype=float) for c in ("mean", "lo", "hi"))
    xs = rows[grid_key].astype(str).to_list()

    def at(i: int) -> str:
        return f"{number(mean[i], decimals, scale)}{unit} at {xs[i]}"

    label, name = LABELS[key], grid_key.rsplit(".", 1)[-1]
    if not numeric:
        order = np.argsort(-mean, kind="stable")
        return (f"**{base}**: {label} is highest at {name} = {xs[order[0]]} "
                f"({number(mean[order[0]], decimals, scale)}{unit}) and lowest at "
                f"{xs[order[-1]]} ({number(mean[order[-1]], decimals, scale)}{unit}).")
    shape = response_shape(mean, lo, hi)
    low, high = int(np.argmin(mean)), int(np.argmax(mean))
    clear = "its 95% intervals at the turn and at both ends do not overlap"
    unclear = ("but the 95% interval at the turn overlaps one at an end, so these replicates "
               "do not establish the turn")
    text = {
        "flat": f"is flat across {name}: from {at(0)} to {at(len(xs) - 1)}, every 95% "
                "interval overlapping the others",
        "rising": f"rises with {name}, from {at(0)} to {at(len(xs) - 1)}",
        "falling": f"falls with {name}, from {at(0)} to {at(len(xs) - 1)}",
        "U-shaped": f"is U-shaped in {name}: it falls from {at(0)} to a minimum of {at(low)}, "
                    f"then rises to {at(len(xs) - 1)}; "
                    + (clear if hi[low] < min(lo[0], lo[-1]) else unclear),
        "inverted-U": f"is inverted-U-shaped in {name}: it rises from {at(0)} to a maximum "
                      f"of {at(high)}, then falls to {at(len(xs) - 1)}; "
                      + (clear if lo[high] > max(hi[0], hi[-1]) else unclear),
        "non-monotone": f"is not monotone in {name}: lowest {at(low)}, highest {at(high)}",
    }[shape]
    return f"**{base}**: {label} {text}."


def _main_effect(rows: pd.DataFrame, keys: list[str], grid_key: str, key: str,
                 base: str) -> str:
    """The mean change of ``base``'s ``key`` from the first to the last value of
    ``grid_key``, over the combinations of the other grid keys."""
    values = list(pd.unique(rows[grid_key]))
    if len(values) < 2:
        return ""
    others = [k for k in keys if k != grid_key]
    # Every grid value a column, even one whose means are all missing (pivot drops those).
    table = rows.pivot_table(index=others, columns=grid_key, values=f"{key}_mean",
                             aggfunc="first").reindex(columns=values)
    change = (table[values[-1]] - table[values[0]]).dropna()
    if change.empty:
        return ""
    _, _, scale, decimals, unit = next(m for m in MAIN if m[0] == key)
    unit = " points" if key == "final_adoption" else unit
    return (f"**{base}**: going from {grid_key.rsplit('.', 1)[-1]} = {values[0]} to "
            f"{values[-1]} changes {LABELS[key]} by {number(change.mean(), decimals, scale, True)}"
            f"{unit} on average over the other grid values (from "
            f"{number(change.min(), decimals, scale, True)} to "
            f"{number(change.max(), decimals, scale, True)}).")


def _validation_links(path: Path, cfg: Config) -> list[str]:
    """The validation cases registered as bearing on this experiment
    (:func:`wommsim.validation.core.cases_for`), linked in ``docs/VALIDATION.md``."""
    if cfg.experiment is None or not cfg.experiment.name:
        return []
    import wommsim.validation  # noqa: F401  (registers the cases)
    from wommsim.validation.core import cases_for
    from wommsim.validation.report import anchor

    specs = cases_for(cfg.experiment.name)
    if not specs:
        return []
    docs = Path(__file__).resolve().parents[3] / "docs" / "VALIDATION.md"
    target = "docs/VALIDATION.md"
    if docs.is_file():
        with contextlib.suppress(ValueError):  # another drive: no relative link
            target = Path(os.path.relpath(docs, path.parent.resolve())).as_posix()
    return ["## Validation", "",
            "Validation cases that bear on this question (`python -m wommsim.validate` runs "
            "them and writes `docs/VALIDATION.md`):", "",
            *(f"- [{spec.name}]({target}#{anchor(spec.name)}): {spec.title} "
              f"({spec.category}; {spec.source})." for spec in specs), ""]
