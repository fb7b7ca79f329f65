"""Do the experiments' conclusions hold in a larger market?

Usage::

    for e in ads_vs_wom ad_blindness incentive_backfire online_offline seeding timing duel \
             social_object; do
      python -m wommsim +experiment=$e consumers=40000 hydra.run.dir=/tmp/large/$e
    done
    python benchmarks/larger_market.py --large /tmp/large --consumers 40000 \\
        [--out experiments/larger_market.csv]

Compares every paired difference of intensive outcomes (final adoption, time to half, cost
per adopter, net sentiment, ROMS; NPV and customer equity per consumer; market share and
churn, leaving out those that are 0 by construction in both runs) in each experiment's
findings-of-record run (``experiments/<name>/latest/differences.csv``, at the
experiment's own population) with the same experiment run at ``--consumers``. Each difference
is classed by its 95% interval: ``+`` (above 0), ``-`` (below 0) or ``0`` (includes 0); a
comparison *agrees* when both runs give the same class, is *weaker or stronger* when one of
them includes 0, and is *reversed* when the signs are opposite and both exclude 0. Writes one
row per comparison and prints the counts per experiment.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUTCOMES = ("final_adoption", "time_to_half", "cost_per_adopter", "net_sentiment", "roms",
            "npv", "customer_equity", "market_share", "churn")
PER_CONSUMER = {"npv", "customer_equity"}  # money: divided by the population
KEY = ["arm", "reference", "outcome", "brand"]


def sign_class(lo: float, hi: float) -> str:
    """``+``, ``-`` or ``0`` by where the 95% interval lies."""
    if np.isnan(lo) or np.isnan(hi):
        return "?"
    return "+" if lo > 0 else "-" if hi < 0 else "0"


def compare(small: pd.DataFrame, large: pd.DataFrame, n_small: int, n_large: int
            ) -> pd.DataFrame:
    """One row per paired difference found in both runs, with its class in each."""
    small, large = (d.assign(brand=d["brand"].fillna("")) for d in (small, large))
    both = small.merge(large, on=KEY, suffixes=("_small", "_large"))
    both = both[both["outcome"].isin(OUTCOMES)]
    # Differences that are 0 by construction in both runs (a monopoly's market share, churn
    # in a durable category) say nothing about the population.
    trivial = ((both[["lo_small", "hi_small", "lo_large", "hi_large"]] == 0).all(axis=1))
    both = both[~trivial].copy()
    for side, n in (("small", n_small), ("large", n_large)):
        scale = np.where(both["outcome"].isin(PER_CONSUMER), 1.0 / n, 1.0)
        for col in ("difference", "lo", "hi"):
            both[f"{col}_{side}"] = both[f"{col}_{side}"] * scale
        both[f"class_{side}"] = [sign_class(lo, hi) for lo, hi
                                 in zip(both[f"lo_{side}"], both[f"hi_{side}"], strict=True)]
    a, b = both["class_small"], both["class_large"]
    both["verdict"] = np.where(a == b, "agrees",
                               np.where((a == "0") | (b == "0") | (a == "?") | (b == "?"),
                                        "weaker or stronger", "reversed"))
    return both


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", type=Path, required=True,
                        help="folder with one run folder per experiment")
    parser.add_argument("--consumers", type=int, required=True,
                        help="the larger runs' population")
    parser.add_argument("--out", type=Path, default=ROOT / "experiments" / "larger_market.csv")
    args = parser.parse_args(argv)
    rows = []
    for large_dir in sorted(p for p in args.large.iterdir() if p.is_dir()):
        name = large_dir.name
        small_dir = ROOT / "experiments" / name / "latest"
        if not (small_dir / "differences.csv").is_file():
            print(f"{name}: no findings-of-record run in {small_dir}; skipped", file=sys.stderr)
            continue
        arms = json.loads((small_dir / "manifest.json").read_text())["consumers"]
        n_small = max(arms.values())  # consumers per arm: one population in every experiment
        table = compare(pd.read_csv(small_dir / "differences.csv"),
                        pd.read_csv(large_dir / "differences.csv"), n_small, args.consumers)
        rows.append(table.assign(experiment=name, consumers_small=n_small,
                                 consumers_large=args.consumers))
    result = pd.concat(rows, ignore_index=True)
    cols = ["experiment", "consumers_small", "consumers_large", *KEY, "difference_small",
            "lo_small", "hi_small", "class_small", "difference_large", "lo_large", "hi_large",
            "class_large", "verdict"]
    result[cols].to_csv(args.out, index=False)
    print(result.groupby(["experiment", "verdict"]).size().unstack(fill_value=0).to_string())
    changed = result[result["verdict"] != "agrees"]
    if len(changed):
        print("\nnot agreeing:")
        print(changed[["experiment", "arm", "reference", "brand", "outcome", "class_small",
                       "class_large"]].to_string(index=False))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
