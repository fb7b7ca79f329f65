"""The results-drift guard: a few small runs' summaries, stored in ``tests/baseline.csv``.

``tests/unit/test_baseline.py`` recomputes the table on every test run and fails if any number
moved, so a change that alters results is a decision, never an accident. After a change that
is meant to alter results, regenerate and commit the table:

    .venv/bin/python -m tests.baseline update

and say in the commit message why the numbers moved (then regenerate the findings of record).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

BASELINE = Path(__file__).with_name("baseline.csv")

#: name -> overrides. Between them they switch on every mechanism, both decision rules,
#: every strategy preset, phases, seeding targets and four network kinds.
CASES: dict[str, tuple[str, ...]] = {
    "conversation_led": ("strategy=conversation_led",),
    "ad_heavy": ("strategy=ad_heavy", "consumer.ad_blind_fraction=0.5"),
    "incentive_push": ("strategy=incentive_push", "brand.quality=-0.1"),
    "balanced_hubs": ("strategy=balanced", "content.seeding=hubs",
                      "consumer.initial_adopters=hubs", "network=watts_strogatz"),
    "organic_sbm": ("strategy=none", "network=stochastic_block"),
    "bass_complete": ("decision=bass", "network=complete", "strategy=ad_heavy",
                      "consumers=400"),
    "phases_er": ("strategy=ad_heavy", "network=erdos_renyi",
                  "+phases=[{start: 10, name: late, advertising: 0, dialogue: 0.5, "
                  "content: 0.5, reviews: 0}]"),
}
SIZE = ("consumers=1500", "steps=30", "agents=off")
REPLICATES = 2


def compute() -> pd.DataFrame:
    """One row per case × metric: the final value and the sum over steps, each the mean
    over ``REPLICATES`` replicates, written with full precision."""
    from wommsim.compose import compose
    from wommsim.runs.runner import run_replicate

    rows = []
    for case, overrides in CASES.items():
        cfg = compose([*SIZE, *overrides])
        tables = [run_replicate(cfg, r) for r in range(REPLICATES)]
        metrics = [c for c in tables[0].columns if c not in ("arm", "replicate", "step")]
        for metric in sorted(metrics):
            values = np.array([t[metric].to_numpy(dtype=np.float64) for t in tables])
            rows.append({"case": case, "metric": metric,
                         "final": repr(float(values[:, -1].mean())),
                         "total": repr(float(values.sum(axis=1).mean()))})
    return pd.DataFrame(rows)


def stored() -> pd.DataFrame:
    return pd.read_csv(BASELINE, dtype=str, keep_default_na=False)


def main(argv: list[str]) -> int:
    if argv != ["update"]:
        print("usage: python -m tests.baseline update", file=sys.stderr)
        return 2
    compute().to_csv(BASELINE, index=False)
    print(f"wrote {BASELINE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
