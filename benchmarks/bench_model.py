"""Benchmark WommModel against bare kernels and per-agent Mesa: build time, time per step,
peak memory, by population size.

Usage::

    python benchmarks/bench_model.py [--sizes 10000 100000 1000000] [--steps 52] [--m 4]
                                     [--mesa-max 100000] [--bass-max 1000000]
                                     [--out benchmarks/results/model.json] [--quick]

Every row runs in its own fresh Python subprocess, so the peak resident memory reported is
that run's alone. All rows of one size use the same graph: a Barabási–Albert network with
m = 4 built by ``wommsim.network.build_network`` from seed 42, replicate 0. The rows:

* ``opinion``: the full model, headless (``agents=off``), every mechanism on, the default
  strategy (conversation_led) and the ``opinion`` decision rule;
* ``bass``: the same with ``strategy=none`` and ``decision=bass`` (same work as SI);
* ``ref: sparse pass`` and ``ref: skip settled``: the bare NumPy/SciPy Bass kernels of
  ``kernels.py`` (same p, q and initial adoption share as ``bass``), in one subprocess;
* ``mesa per-agent``: the per-agent Mesa Bass model of ``kernels.py`` (up to ``--mesa-max``).

Timed: building the graph, building the state on it (the model on the prebuilt graph,
``graph=``; for the baselines, their own set-up), then ``--steps`` steps, every one timed
(the mean is the run's stepping time / steps). Step time changes as the market fills, so
the share adopted at the end is reported.
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
DEFAULT_STEPS = 52  # a year of weekly steps: the run the memory target is about
QUICK_STEPS = 5
MECHANISMS = ("advertising", "dialogue", "content", "reviews", "incentives", "wom", "purchase")
COMMON = ["agents=off", "network=barabasi_albert",
          *(f"{name}.enabled=true" for name in MECHANISMS)]
CONFIGS = {
    "opinion": ["strategy=conversation_led", "decision=opinion"],
    "bass": ["strategy=none", "decision=bass"],
}
#: Markets of one and two brands (issue 13): the ``opinion`` row's settings in a monopoly and
#: a duel (each brand with the run's strategy and budget), in a durable and a repeat-purchase
#: category. Measured by ``run.py --parts market``; not part of the rows by size.
MARKETS = {f"{market} {category}": [*CONFIGS["opinion"], f"market={market}",
                                    f"market.category={category}"]
           for category in ("durable", "repeat") for market in ("monopoly", "duel")}
CATEGORIES = ("durable", "repeat")
#: Rows measured by one child process each ("kernels" gives both reference kernels; "paired
#: <category>" both markets of a category, see measure_paired).
MODEL_CHILDREN = ("opinion", "bass", "kernels", "mesa")  # the model part's, at every size
CHILDREN = (*MODEL_CHILDREN, *MARKETS, *(f"paired {category}" for category in CATEGORIES))
#: The reference kernel the ratios divide by.
REFERENCE = "ref: sparse pass"
MESA = "mesa per-agent"

# The printed table: (header, JSON key, column width, format spec).
COLUMNS = (
    ("consumers", "consumers", 11, ","),
    ("row", "row", 18, ""),
    ("graph s", "graph_build_s", 9, ".2f"),
    ("state s", "state_build_s", 9, ".3f"),
    ("ms/step", "ms_per_step_mean", 10, ".2f"),
    ("min ms", "ms_per_step_min", 9, ".2f"),
    ("max ms", "ms_per_step_max", 9, ".2f"),
    ("agent-steps/s", "agent_steps_per_s", 15, ",.0f"),
    ("peak MB", "peak_rss_mb", 9, ".0f"),
    ("adopted", "adopted_fraction_end", 9, ".1%"),
    ("x ref", "x_reference", 8, ".2f"),
)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB: ``VmHWM`` on Linux (``ru_maxrss``
    survives ``exec``, so it would report the launching process's peak if that was
    larger), else ``ru_maxrss`` (KiB on Linux)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(x.split()[1]) for x in status if x.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def config_for(consumers: int, config: str, m: int):
    """The composed wommsim Config of one row (``config`` in CONFIGS)."""
    from wommsim.compose import compose

    settings = CONFIGS[config] if config in CONFIGS else MARKETS[config]
    return compose([f"consumers={consumers}", f"network.m={m}", *COMMON, *settings])


def timed_steps(step, steps: int) -> list[float]:
    """Call ``step()`` ``steps`` times; the seconds each call took."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def row_of(name: str, consumers: int, edges: int, graph_s: float, state_s: float,
           times: list[float], adopted: float, rss_before: float, **extra) -> dict:
    """One result row from the timings of a run."""
    mean_s = sum(times) / len(times)
    return {
        "row": name, "consumers": consumers, "edges": edges, "steps": len(times),
        "graph_build_s": graph_s, "state_build_s": state_s,
        "ms_per_step_mean": 1000 * mean_s, "ms_per_step_min": 1000 * min(times),
        "ms_per_step_max": 1000 * max(times), "agent_steps_per_s": consumers / mean_s,
        "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": rss_before,
        "adopted_fraction_end": adopted, **extra,
        "ms_per_step": [round(1000 * t, 3) for t in times],
    }


def build_graph(cfg):
    """The market's graph, exactly as WommModel builds it (seed, replicate 0); seconds."""
    from wommsim.network import build_network
    from wommsim.rng import Streams

    start = time.perf_counter()
    graph = build_network(cfg.network, cfg.consumers, Streams(cfg.seed, 0).network)
    return graph, time.perf_counter() - start


def measure_model(consumers: int, config: str, steps: int, m: int) -> list[dict]:
    """The full model (``config`` in CONFIGS or MARKETS) at one size, in this process; with
    the memory estimate of its market (:func:`wommsim.runs.memory.market_bytes`, in MiB)."""
    from wommsim.config import brands_of
    from wommsim.model import WommModel
    from wommsim.runs.memory import market_bytes

    cfg = config_for(consumers, config, m)
    rss_before = peak_rss_mb()
    graph, graph_s = build_graph(cfg)
    start = time.perf_counter()
    model = WommModel(cfg, replicate=0, graph=graph)
    state_s = time.perf_counter() - start
    times = timed_steps(model.step, steps)
    return [row_of(config, consumers, graph.n_edges, graph_s, state_s, times,
                   float(model.metrics["adopted_fraction"]), rss_before,
                   rule=cfg.decision.rule, strategy=cfg.strategy.name, m=m,
                   market=cfg.market.name, category=cfg.market.category,
                   brands=len(brands_of(cfg)), estimate_mb=market_bytes(cfg)[2] / 2**20)]


def measure_baselines(consumers: int, kind: str, steps: int, m: int) -> list[dict]:
    """The Bass baselines of kernels.py (``kind``: kernels or mesa) on the model's graph."""
    import numpy as np

    import kernels

    cfg = config_for(consumers, "bass", m)
    p, q = cfg.decision.p, cfg.decision.q
    rss_before = peak_rss_mb()
    graph, graph_s = build_graph(cfg)
    indptr, indices = graph.adjacency.indptr, graph.adjacency.indices
    rng = np.random.default_rng([cfg.seed, 0])
    adopted = kernels.initial_adopters(consumers, cfg.consumer.initial_adopted_fraction, rng)
    makers = ({kernels.SparsePassKernel.name: kernels.SparsePassKernel,
               kernels.SkipSettledKernel.name: kernels.SkipSettledKernel} if kind == "kernels"
              else {MESA: None})
    rows = []
    for name, maker in makers.items():
        start = time.perf_counter()
        if maker is None:
            run = kernels.MesaBassModel(indptr, indices, adopted, p, q, seed=cfg.seed)
        else:
            run = maker(indptr, indices, adopted, p, q, np.random.default_rng([cfg.seed, 1]))
        state_s = time.perf_counter() - start
        times = timed_steps(run.step, steps)
        rows.append(row_of(name, consumers, graph.n_edges, graph_s, state_s, times,
                           float(run.adopted.mean()), rss_before,
                           rule="bass", strategy="none", m=m))
        del run
    return rows


def measure_paired(consumers: int, category: str, steps: int, m: int) -> list[dict]:
    """The monopoly and the duel of ``category`` in this process on one graph, their steps
    alternated, each timed in CPU seconds (``time.process_time``): other processes' load
    slows both alike, so their ratio holds on a busy machine, where two wall-clock runs
    made one after the other can meet different loads."""
    from wommsim.model import WommModel

    cfg = {name: config_for(consumers, f"{name} {category}", m) for name in ("monopoly", "duel")}
    graph, _ = build_graph(cfg["monopoly"])
    models = {name: WommModel(c, replicate=0, graph=graph) for name, c in cfg.items()}
    cpu: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(steps):
        for name, model in models.items():
            start = time.process_time()
            model.step()
            cpu[name].append(time.process_time() - start)
    mean = {name: 1000 * sum(times) / len(times) for name, times in cpu.items()}
    return [{"row": f"paired {category}", "consumers": consumers, "m": m, "steps": steps,
             "category": category, "monopoly_cpu_ms": mean["monopoly"],
             "duel_cpu_ms": mean["duel"], "x_monopoly": mean["duel"] / mean["monopoly"]}]


def measure(consumers: int, child: str, steps: int, m: int) -> list[dict]:
    """One child's rows, measured in this process."""
    if child in CONFIGS or child in MARKETS:
        return measure_model(consumers, child, steps, m)
    if child.startswith("paired "):
        return measure_paired(consumers, child.removeprefix("paired "), steps, m)
    return measure_baselines(consumers, child, steps, m)


class BenchmarkError(RuntimeError):
    """A measurement's subprocess failed; the message names it and holds its stderr."""


def run_child(consumers: int, child: str, steps: int, m: int = 4) -> list[dict]:
    """Measure in a fresh interpreter; the child prints its rows as one JSON line.
    Raises BenchmarkError if the child fails (e.g. exit -9: killed, out of memory)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", child,
           "--sizes", str(consumers), "--steps", str(steps), "--m", str(m)]
    print(f"  running: {child} at {consumers:,} consumers (m={m}, {steps} steps)",
          file=sys.stderr, flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchmarkError(f"benchmark of {child} at {consumers:,} consumers (m={m}) failed "
                             f"(exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def children_for(consumers: int, mesa_max: int, bass_max: int) -> list[str]:
    """Which children run at this size: per-agent Mesa and the bass row only up to a size."""
    return [child for child in MODEL_CHILDREN
            if not (child == "mesa" and consumers > mesa_max)
            and not (child == "bass" and consumers > bass_max)]


def add_ratios(rows: list[dict]) -> dict[int, dict]:
    """Set each row's ``x_reference`` (its ms/step over the reference kernel's at its size
    and m) and return the headline ratios per size: opinion/ref, bass/ref, mesa/bass."""
    by_key = {(r["consumers"], r["m"], r["row"]): r for r in rows}
    ratios: dict[int, dict] = {}
    for r in rows:
        ref = by_key.get((r["consumers"], r["m"], REFERENCE))
        r["x_reference"] = r["ms_per_step_mean"] / ref["ms_per_step_mean"] if ref else None
    for (n, m, name), r in by_key.items():
        if m != 4:
            continue
        entry = ratios.setdefault(n, {})
        if name in CONFIGS and r["x_reference"] is not None:
            entry[f"{name}_over_reference"] = r["x_reference"]
        bass = by_key.get((n, m, "bass"))
        if name == MESA and bass:
            entry["mesa_over_bass_speedup"] = r["ms_per_step_mean"] / bass["ms_per_step_mean"]
    return ratios


def machine_info() -> dict:
    import mesa
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
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        "load_average_at_start": load,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "mesa": mesa.__version__,
        "git_commit": _git_commit(),
    }


def _git_commit() -> str | None:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                          capture_output=True, text=True)
    return done.stdout.strip() or None


def _cell(value, width: int, spec: str) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}{spec}}"


def format_table(rows: list[dict], columns=COLUMNS) -> str:
    header = "".join(f"{title:>{width}}" for title, _, width, _ in columns)
    lines = [header, "-" * len(header)]
    lines += ["".join(_cell(row.get(key), width, spec) for _, key, width, spec in columns)
              for row in rows]
    return "\n".join(lines)


def format_ratios(ratios: dict[int, dict]) -> str:
    lines = [f"{'consumers':>11}{'opinion/ref':>13}{'bass/ref':>10}{'mesa/bass':>11}"]
    for n, entry in sorted(ratios.items()):
        cells = [entry.get(k) for k in ("opinion_over_reference", "bass_over_reference",
                                         "mesa_over_bass_speedup")]
        lines.append(f"{n:>11,}" + "".join(_cell(v, w, ".2f")
                                             for v, w in zip(cells, (13, 10, 11), strict=True)))
    return "\n".join(lines)


def run_markets(consumers: int, steps: int, m: int = 4,
                failures: list[str] | None = None) -> tuple[list[dict], list[dict]]:
    """The MARKETS rows at one size, each in its own subprocess, and the paired CPU-time
    rows of each category (:func:`measure_paired`). Each market row gets ``market_mb``
    (its peak less the interpreter's, what the estimate is of) and, for a duel,
    ``x_monopoly`` (its ms/step over the monopoly's of the same category)."""
    rows = [row for child in MARKETS for row in run_guarded(consumers, child, steps, m,
                                                              failures)]
    paired = [row for category in CATEGORIES
              for row in run_guarded(consumers, f"paired {category}", steps, m, failures)]
    by_name = {r["row"]: r for r in rows}
    for r in rows:
        r["market_mb"] = r["peak_rss_mb"] - r["rss_after_imports_mb"]
        alone = by_name.get(f"monopoly {r['category']}")
        r["x_monopoly"] = (r["ms_per_step_mean"] / alone["ms_per_step_mean"]
                           if alone and r["brands"] > 1 else None)
    return rows, paired


MARKET_COLUMNS = (
    ("consumers", "consumers", 11, ","),
    ("row", "row", 18, ""),
    ("ms/step", "ms_per_step_mean", 10, ".2f"),
    ("min ms", "ms_per_step_min", 9, ".2f"),
    ("max ms", "ms_per_step_max", 9, ".2f"),
    ("peak MB", "peak_rss_mb", 9, ".0f"),
    ("market MB", "market_mb", 11, ".0f"),
    ("estimate MB", "estimate_mb", 13, ".0f"),
    ("est/meas", "estimate_over_measured", 10, ".2f"),
    ("adopted", "adopted_fraction_end", 9, ".1%"),
    ("x monopoly", "x_monopoly", 12, ".2f"),
)


def format_markets(rows: list[dict]) -> str:
    """The MARKETS rows: time per step, peak memory, the market's share of it against the
    memory estimate, and the duel's time over the monopoly's."""
    for r in rows:
        r["estimate_over_measured"] = r["estimate_mb"] / r["market_mb"]
    return format_table(rows, MARKET_COLUMNS)


PAIRED_COLUMNS = (
    ("consumers", "consumers", 11, ","),
    ("category", "category", 10, ""),
    ("monopoly CPU ms/step", "monopoly_cpu_ms", 22, ".2f"),
    ("duel CPU ms/step", "duel_cpu_ms", 18, ".2f"),
    ("duel / monopoly", "x_monopoly", 17, ".2f"),
)


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


def run_sizes(sizes, steps: int, m: int = 4, mesa_max: int = 100_000,
              bass_max: int = 1_000_000, failures: list[str] | None = None) -> list[dict]:
    """Every row at every size, each child in its own subprocess. A failed child is
    reported on stderr and appended to ``failures`` (the others still run); without a
    ``failures`` list the error is raised."""
    return [row for consumers in sizes
            for child in children_for(consumers, mesa_max, bass_max)
            for row in run_guarded(consumers, child, steps, m, failures)]


def run_guarded(consumers: int, child: str, steps: int, m: int,
                failures: list[str] | None) -> list[dict]:
    """run_child; if it fails and ``failures`` is a list, report, record and return []."""
    try:
        return run_child(consumers, child, steps, m)
    except BenchmarkError as err:
        if failures is None:
            raise
        print(f"  FAILED: {err}", file=sys.stderr, flush=True)
        failures.append(str(err).splitlines()[0])
        return []


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, help=f"steps per run, every one timed "
                        f"(default {DEFAULT_STEPS}, {QUICK_STEPS} with --quick)")
    parser.add_argument("--mesa-max", type=int, default=100_000,
                        help="largest size with a per-agent Mesa row (default 100000)")
    parser.add_argument("--bass-max", type=int, default=1_000_000,
                        help="largest size with a model bass row (default 1000000)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: sizes 10000 and 100000, {QUICK_STEPS} steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="population sizes "
                        f"(default {' '.join(map(str, DEFAULT_SIZES))})")
    parser.add_argument("--m", type=int, default=4,
                        help="Barabási–Albert edges per new consumer (default 4)")
    parser.add_argument("--out", type=Path, help="JSON results file "
                        "(default benchmarks/results/model.json, model-quick.json with --quick)")
    add_arguments(parser)
    parser.add_argument("--child", choices=CHILDREN, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.sizes if args.sizes is not None else QUICK_SIZES if args.quick else DEFAULT_SIZES
    steps = args.steps if args.steps is not None else QUICK_STEPS if args.quick else DEFAULT_STEPS
    if steps < 1 or min(sizes) < 1 or args.m < 1:
        parser.error("--steps, --sizes and --m must be positive")

    if args.child:  # internal: one measurement, printed as JSON for the parent
        sys.path.insert(0, str(HERE))
        print(json.dumps(measure(sizes[0], args.child, steps, args.m)))
        return

    out = args.out or HERE / "results" / ("model-quick.json" if args.quick else "model.json")
    info = machine_info()
    try:
        rows = run_sizes(sizes, steps, args.m, args.mesa_max, args.bass_max)
    except BenchmarkError as err:
        sys.exit(str(err))
    ratios = add_ratios(rows)
    print(f"{info['date']}  {info['cpu']}  ({info['cores']} cores)  Python {info['python']}  "
          f"NumPy {info['numpy']}  SciPy {info['scipy']}  Mesa {info['mesa']}")
    print(f"Barabási–Albert m={args.m}, agents=off, {steps} steps, every one timed\n")
    print(format_table(rows))
    print(f"\nratios of ms/step (ref = {REFERENCE}; mesa/bass = speed-up over per-agent Mesa)")
    print(format_ratios(ratios))
    write_json(out, {"machine": info, "steps": steps, "m": args.m, "reference": REFERENCE,
                     "results": rows, "ratios": {str(n): r for n, r in ratios.items()}})
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
