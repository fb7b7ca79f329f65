"""How often the calibration's bootstrap interval covers the truth: fit p and q (or those
named by --fit; the others stay at their true values) to curves the model itself simulated
with p = 0.02, q = 0.3 (the Bass rule on the complete graph; each curve one realisation of
a market of --consumers consumers, on a replicate number no fit uses), and count the
intervals that contain the true values. A 95% interval should cover about 95% of the time.

    python experiments/calibration/bootstrap_coverage.py [--datasets 30] [--consumers 300]
        [--steps 15] [--replicates 2] [--resamples 10] [--confidence 0.95]
        [--fit decision.p:0.001:0.1,decision.q:0.05:1] [--scan 16] [--budget 80]
        [--csv coverage.csv]

experiments/calibration/README.md gives the runs of record and their cost.
"""

import argparse
import logging

import pandas as pd

from wommsim.compose import compose
from wommsim.model import WommModel
from wommsim.studies.calibrate import bootstrap, calibrate
from wommsim.studies.paramspace import parse_ranges

P, Q = 0.02, 0.3
TRUTH = {"decision.p": P, "decision.q": Q}
BASS = ["decision=bass", "network=complete", "strategy=none",
        "consumer.initial_adopted_fraction=0", "wom.enabled=false", "agents=off", "workers=1",
        f"decision.p={P}", f"decision.q={Q}"]
FIRST_DATA_REPLICATE = 100_000  # far above any replicate a fit or its bootstrap runs


def simulated_data(consumers: int, steps: int, replicate: int) -> pd.DataFrame:
    model = WommModel(compose([*BASS, f"consumers={consumers}", f"steps={steps}"]),
                      replicate=replicate)
    for _ in range(steps):
        model.step()
    curve = model.timeseries()["adopted_fraction"].to_numpy()
    return pd.DataFrame({"step": range(steps + 1), "adopted_fraction": curve})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=30)
    parser.add_argument("--consumers", type=int, default=300)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--resamples", type=int, default=10)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--fit", default="decision.p:0.001:0.1,decision.q:0.05:1")
    parser.add_argument("--scan", type=int, default=16)
    parser.add_argument("--budget", type=int, default=80)
    parser.add_argument("--csv", help="write one row per data set here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    base = compose([*BASS, f"consumers={args.consumers}", f"steps={args.steps}",
                    f"replicates={args.replicates}"])
    ranges = parse_ranges(args.fit, base, "fit")
    rows = []
    for k in range(args.datasets):
        observed = simulated_data(args.consumers, args.steps, FIRST_DATA_REPLICATE + k)
        fit = bootstrap(calibrate(base, ranges, observed, scan=args.scan, budget=args.budget),
                        observed, args.resamples, args.confidence,
                        budget=args.budget - args.scan)
        row = {"dataset": k}
        for key in (r.key for r in ranges):
            truth = TRUTH[key]
            lo, hi = fit.intervals[key]
            row.update({key: fit.values[key], f"{key}_lo": lo, f"{key}_hi": hi,
                        f"{key}_covered": lo <= truth <= hi})
        rows.append(row)
        print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    for key in (r.key for r in ranges):
        width = (table[f"{key}_hi"] - table[f"{key}_lo"]).median()
        print(f"{key}: covered in {table[f'{key}_covered'].sum()} of {len(table)} data sets "
              f"({100 * table[f'{key}_covered'].mean():.0f}%), median width {width:.4g}")


if __name__ == "__main__":
    main()
