"""Time a shipped experiment end to end, as a user runs it: ``python -m wommsim
+experiment=NAME`` at its defaults, in a fresh subprocess, output to a temporary directory.

Usage::

    python benchmarks/bench_experiment.py [--experiment ads_vs_wom] [override ...]

Reports the wall-clock seconds (interpreter start-up, composing, every replicate of every
arm on all cores (``workers=0``), analysis, figures and the report) and the peak resident memory
of its largest process (``ru_maxrss`` from ``os.wait4``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_model import BenchmarkError


def time_experiment(name: str = "ads_vs_wom", overrides: tuple[str, ...] = ()) -> dict:
    """Run the experiment once: seconds, peak MB, the files it wrote. Raises
    BenchmarkError if it fails."""
    with tempfile.TemporaryDirectory(prefix="wommsim-bench-") as tmp:
        cmd = [sys.executable, "-m", "wommsim", f"+experiment={name}", *overrides,
               f"hydra.run.dir={tmp}"]
        print(f"  running: {' '.join(cmd[1:-1])}", file=sys.stderr, flush=True)
        log = Path(tmp) / "stderr.txt"
        start = time.perf_counter()
        with log.open("w") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
            # wait4: this run's own resource use (its largest process, workers included).
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise BenchmarkError(f"experiment {name} failed (exit {code}):\n"
                                 f"{log.read_text()[-4000:]}")
        outputs = sorted(p.name for p in Path(tmp).iterdir() if p != log)
    return {"experiment": name, "overrides": list(overrides), "seconds": seconds,
            "peak_process_rss_mb": usage.ru_maxrss / 1024, "outputs": outputs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="ads_vs_wom", help="name in configs/experiment")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (default: none)")
    args = parser.parse_args()
    try:
        result = time_experiment(args.experiment, tuple(args.overrides))
    except BenchmarkError as err:
        sys.exit(str(err))
    print(f"{result['experiment']}: {result['seconds']:.1f} s, "
          f"largest process peak {result['peak_process_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
