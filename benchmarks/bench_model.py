"""Benchmark WommModel: graph build, state build, time per step and peak memory by size.

Usage::

    python benchmarks/bench_model.py [--sizes 10000 100000 1000000] [--steps 20]
                                     [--out benchmarks/results/model.json] [--quick]

Each (size, configuration) runs in its own fresh Python subprocess, so the peak resident
memory reported is that run's alone. Two configurations per size, both headless
(``agents=off``) on a Barabási–Albert network with m = 4 and every mechanism enabled:

* ``opinion``: the default strategy (conversation_led) and the ``opinion`` decision rule;
* ``bass``: ``strategy=none`` (no brand spending, so the levers do nothing) and the ``bass``
  rule: the lightest configuration per consumer, though its market fills fastest.

Timed: building the graph, building the model on that prebuilt graph (``graph=``), then
one untimed warm-up step followed by ``--steps`` timed steps. Step time grows as the market
fills (more aware and adopted consumers talk), so the share adopted at the end is reported.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
MECHANISMS = ("advertising", "dialogue", "content", "reviews", "incentives", "wom", "purchase")
COMMON = ["agents=off", "network=barabasi_albert", "network.m=4",
          *(f"{name}.enabled=true" for name in MECHANISMS)]
CONFIGS = {
    "opinion": ["strategy=conversation_led", "decision=opinion"],
    "bass": ["strategy=none", "decision=bass"],
}

# The printed table: (header, JSON key, column width, format spec).
COLUMNS = (
    ("consumers", "consumers", 11, ","),
    ("rule", "rule", 9, ""),
    ("strategy", "strategy", 18, ""),
    ("graph s", "graph_build_s", 9, ".2f"),
    ("state s", "state_build_s", 9, ".3f"),
    ("ms/step", "ms_per_step_mean", 9, ".2f"),
    ("min ms", "ms_per_step_min", 9, ".2f"),
    ("max ms", "ms_per_step_max", 9, ".2f"),
    ("agent-steps/s", "agent_steps_per_s", 15, ",.0f"),
    ("peak MB", "peak_rss_mb", 9, ".0f"),
    ("adopted", "adopted_fraction_end", 9, ".1%"),
)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(consumers: int, config: str, steps: int) -> dict:
    """Run one configuration at one size in this process and return its measurements."""
    from wommsim.compose import compose
    from wommsim.model import WommModel
    from wommsim.network import build_network
    from wommsim.rng import Streams

    cfg = compose([f"consumers={consumers}", *COMMON, *CONFIGS[config]])
    rss_before = peak_rss_mb()

    start = time.perf_counter()
    graph = build_network(cfg.network, cfg.consumers, Streams(cfg.seed, 0).network)
    graph_s = time.perf_counter() - start

    start = time.perf_counter()
    model = WommModel(cfg, replicate=0, graph=graph)
    state_s = time.perf_counter() - start

    model.step()  # warm-up, not timed
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - start)
    mean_s = sum(times) / len(times)
    return {
        "consumers": consumers,
        "edges": graph.n_edges,
        "rule": cfg.decision.rule,
        "strategy": cfg.strategy.name,
        "steps": steps,
        "graph_build_s": graph_s,
        "state_build_s": state_s,
        "ms_per_step_mean": 1000 * mean_s,
        "ms_per_step_min": 1000 * min(times),
        "ms_per_step_max": 1000 * max(times),
        "agent_steps_per_s": consumers / mean_s,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": rss_before,
        "adopted_fraction_end": float(model.metrics["adopted_fraction"]),
        "ms_per_step": [round(1000 * t, 3) for t in times],
    }


def run_child(consumers: int, config: str, steps: int) -> dict:
    """Measure in a fresh interpreter; the child prints its result as one JSON line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", config,
           "--sizes", str(consumers), "--steps", str(steps)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"benchmark of {config} at {consumers:,} consumers failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_info() -> dict:
    import numpy
    import scipy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


def format_table(rows: list[dict]) -> str:
    header = "".join(f"{title:>{width}}" for title, _, width, _ in COLUMNS)
    lines = [header, "-" * len(header)]
    lines += ["".join(f"{row[key]:>{width}{spec}}" for _, key, width, spec in COLUMNS)
              for row in rows]
    return "\n".join(lines)


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp creates the file private (0600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="population sizes "
                        f"(default {' '.join(map(str, DEFAULT_SIZES))})")
    parser.add_argument("--steps", type=int, help="timed steps after one warm-up (default 20)")
    parser.add_argument("--out", type=Path, help="JSON results file "
                        "(default benchmarks/results/model.json, model-quick.json with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sizes 10000 and 100000, 5 steps")
    parser.add_argument("--child", choices=sorted(CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.sizes if args.sizes is not None else QUICK_SIZES if args.quick else DEFAULT_SIZES
    steps = args.steps if args.steps is not None else 5 if args.quick else 20
    if steps < 1 or min(sizes) < 1:
        parser.error("--steps and --sizes must be positive")

    if args.child:  # internal: one measurement, printed as JSON for the parent
        print(json.dumps(measure(sizes[0], args.child, steps)))
        return

    out = args.out or HERE / "results" / ("model-quick.json" if args.quick else "model.json")
    info = machine_info()
    print(f"{info['date']}  {info['cpu']}  ({info['cores']} cores)  "
          f"Python {info['python']}  NumPy {info['numpy']}  SciPy {info['scipy']}")
    print(f"Barabási–Albert m=4, agents=off, {steps} timed steps after 1 warm-up step\n")
    rows = []
    for consumers in sizes:
        for config in CONFIGS:
            rows.append(run_child(consumers, config, steps))
            print(f"  done: {config} at {consumers:,} consumers", file=sys.stderr)
    print(format_table(rows))
    write_json(out, {"machine": info, "steps": steps, "results": rows})
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
