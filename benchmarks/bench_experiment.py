"""Time a shipped experiment end to end, as a user runs it: ``python -m wommsim
+experiment=NAME`` at its defaults, in a fresh subprocess, output to a temporary directory.

Usage::

    python benchmarks/bench_experiment.py [--experiment ads_vs_wom] [override ...]

Reports the wall-clock seconds (interpreter start-up, composing, every replicate of every
arm on all cores (``jobs=0``), analysis, figures and the report) and the peak resident memory
of the largest process (``ru_maxrss`` of the children).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_experiment(name: str = "ads_vs_wom", overrides: tuple[str, ...] = ()) -> dict:
    """Run the experiment once; seconds, peak MB and the command (exits on failure)."""
    with tempfile.TemporaryDirectory(prefix="wommsim-bench-") as tmp:
        cmd = [sys.executable, "-m", "wommsim", f"+experiment={name}", *overrides,
               f"hydra.run.dir={tmp}"]
        print(f"  running: {' '.join(cmd[1:-1])}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"experiment {name} failed (exit {done.returncode}):\n{done.stderr}")
        outputs = sorted(p.name for p in Path(tmp).iterdir())
    return {"experiment": name, "overrides": list(overrides), "seconds": seconds,
            "peak_child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "outputs": outputs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="ads_vs_wom", help="name in configs/experiment")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (default: none)")
    args = parser.parse_args()
    result = time_experiment(args.experiment, tuple(args.overrides))
    print(f"{result['experiment']}: {result['seconds']:.1f} s, "
          f"peak {result['peak_child_rss_mb']:.0f} MB per process")


if __name__ == "__main__":
    main()
