"""Check the memory estimate (:mod:`wommsim.runs.memory`) against measured peaks.

Usage::

    python benchmarks/bench_memory.py                 # the calibration set (up to 3M consumers)
    python benchmarks/bench_memory.py --quick         # 100k consumers only
    python benchmarks/bench_memory.py --case "consumers=500000 network=erdos_renyi"

Each case runs in its own fresh Python subprocess: compose the overrides, note the resident
memory (``/proc/self/statm``), build the market (``WommModel``), run ``--steps`` steps and
take the peak (``VmHWM``). The market's measured bytes are the peak minus the resident
memory before it; the table puts the estimate of ``memory.market_bytes`` beside it, and for
a case with ``transactions=true`` the purchases logged beside the estimate's bound
(``memory.logged_purchases``). Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CASES = (
    "consumers=100000",
    "consumers=1000000",
    "consumers=3000000",
    "consumers=1000000 network.m=10",
    "consumers=1000000 network=watts_strogatz",
    "consumers=300000 network=watts_strogatz network.k=30",
    "consumers=1000000 network=erdos_renyi",
    "consumers=1000000 network=stochastic_block",
    "consumers=1000000 network=personal_networks",
    "consumers=3000 network=complete",
    "consumers=10000 agents=on",
    "consumers=50000 agents=on",
    # Two brands, and the purchase log (a durable's bound is tight, a repeat one's loose).
    "consumers=1000000 market=duel",
    "consumers=1000000 market=duel transactions=true steps=52",
    "consumers=1000000 market=duel market.category=repeat transactions=true steps=52",
    "consumers=300000 network.m=1 market=duel transactions=true steps=52",
)
QUICK = ("consumers=100000",)

CHILD = """
import json, os, sys
from wommsim.compose import compose
from wommsim.model import WommModel
import pandas  # noqa: F401

cfg = compose(sys.argv[1:])
with open("/proc/self/statm") as statm:
    before = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
model = WommModel(cfg)
for _ in range(cfg.steps):
    model.step()
model.timeseries()
model.brand_timeseries()
log = model.transaction_table()  # the purchase log's DataFrame, as a replicate ends
with open("/proc/self/status") as status:  # VmHWM: ru_maxrss would keep a larger parent's
    peak = next(int(x.split()[1]) for x in status if x.startswith("VmHWM:")) * 1024
print(json.dumps({"before": before, "peak": peak, "n": model.n, "purchases": len(log),
                  "entries": int(model.graph.adjacency.nnz)}))
"""


def measure(case: str, steps: int) -> dict:
    args = ["agents=off", f"steps={steps}", *case.split()]  # the case may turn agents on
    out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", help="overrides of one case (repeatable)")
    parser.add_argument("--steps", type=int, default=10, help="steps per case (default 10)")
    parser.add_argument("--quick", action="store_true", help="100k consumers only")
    args = parser.parse_args(argv)

    from wommsim.compose import compose
    from wommsim.runs.memory import MB, logged_purchases, market_bytes

    cases = args.case or (QUICK if args.quick else CASES)
    print(f"{'case':<52} {'entries':>12} {'measured MB':>12} {'estimate MB':>12} {'ratio':>6}")
    for case in cases:
        measured = measure(case, args.steps)
        market = measured["peak"] - measured["before"]
        cfg = compose(["agents=off", f"steps={args.steps}", *case.split()])
        _, entries, estimate = market_bytes(cfg)
        log = (f"  purchases logged {measured['purchases']:,} (bound {logged_purchases(cfg):,})"
               if cfg.transactions else "")
        print(f"{case:<52} {entries:>12,} {market / MB:>12,.0f} {estimate / MB:>12,.0f} "
              f"{estimate / market:>6.2f}{log}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
