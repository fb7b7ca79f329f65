"""The benchmark suite in one command: model vs reference kernels vs per-agent Mesa, 10M
consumers, the scaling curve, the ads_vs_wom experiment, and the issue's targets.

Usage::

    .venv/bin/python benchmarks/run.py            # everything (about 6 min on 2 quiet cores)
    .venv/bin/python benchmarks/run.py --quick    # smoke run (1-2 min)
    .venv/bin/python benchmarks/run.py --parts model experiment   # some parts only

Parts (default: model huge scaling market experiment; ``profile`` only when asked):

* ``model``: ``bench_model.py`` at 10,000, 100,000 and 1,000,000 consumers (BA m = 4):
  ``opinion`` and ``bass`` model rows, the two reference kernels, per-agent Mesa up to
  100,000; the ratios opinion/ref, bass/ref and the speed-up over per-agent Mesa;
* ``huge``: 10,000,000 consumers: the ``opinion`` model row and the reference kernels;
* ``scaling``: ``scaling.py`` (the m = 4 points are taken from ``model`` and ``huge`` when
  they ran with the same steps), figure ``results/scaling.png``;
* ``market``: markets of one and two brands (``market=monopoly`` and ``market=duel``, the
  ``opinion`` row's settings) at 1,000,000 consumers, durable and repeat category: ms/step,
  peak memory against the memory estimate, and the duel's ms/step over the monopoly's;
  then both markets of a category in one process, steps alternated, in CPU time;
* ``experiment``: ``python -m wommsim +experiment=ads_vs_wom`` at its defaults, wall time;
* ``profile``: ``profile_step.py`` for both model rows at 1,000,000 consumers.

Prints every table, then the targets with PASS / MISS (``-``: not measured in this run),
and writes ``results/suite.json`` atomically (``suite-quick.json`` with ``--quick``;
``suite-PART-....json`` when only some parts run; ``scaling.json`` and ``scaling.png``).
Every measurement runs in its own subprocess; one that fails is reported and listed under
``failures``, the rest still run, and the exit status is then 1. Wall times depend on what
else runs on the machine: run it on an otherwise idle machine for figures of record.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import bench_experiment
import bench_model
import scaling

HERE = Path(__file__).resolve().parent
PARTS = ("model", "huge", "scaling", "market", "experiment", "profile")
DEFAULT_PARTS = ("model", "huge", "scaling", "market", "experiment")
HUGE = 10_000_000
TARGET_SIZE = 1_000_000
MIB_PER_GB = 1e9 / 2**20  # peak_rss_mb is in MiB (ru_maxrss KiB / 1024); targets in GB


def targets(rows: list[dict], experiment: dict | None, steps: int,
            markets: list[dict] = (), paired: list[dict] = ()) -> list[dict]:
    """The issues' targets, each with its limit, the measured value and a verdict."""
    at = {(r["consumers"], r["m"], r["row"]): r for r in rows}
    ref = at.get((TARGET_SIZE, 4, bench_model.REFERENCE))
    opinion = at.get((TARGET_SIZE, 4, "opinion"))
    bass = at.get((TARGET_SIZE, 4, "bass"))
    huge = at.get((HUGE, 4, "opinion"))
    full_run = steps >= bench_model.DEFAULT_STEPS

    def ratio(row):
        return row["ms_per_step_mean"] / ref["ms_per_step_mean"] if row and ref else None

    def entry(name: str, limit: float, value: float | None, unit: str, note: str = ""):
        verdict = "-" if value is None else "PASS" if value <= limit else "MISS"
        return {"target": name, "limit": limit, "value": value, "unit": unit,
                "verdict": verdict, "note": note}

    built = opinion["graph_build_s"] + opinion["state_build_s"] if opinion else None
    peaks = [r["peak_rss_mb"] / MIB_PER_GB for r in (opinion, bass) if r] if full_run else []
    return [
        entry("full model (opinion) ms/step at 1M / reference kernel", 10.0, ratio(opinion),
              "x", "aim 5x"),
        entry("bass rule, strategy none, ms/step at 1M / reference kernel", 2.0,
              ratio(bass), "x"),
        entry("build a 1M BA market: graph + state", 15.0, built, "s"),
        entry(f"peak memory of a {bench_model.DEFAULT_STEPS}-step run at 1M", 3.0,
              max(peaks) if peaks else None, "GB", "largest of the opinion and bass rows"),
        entry(f"10M consumers: build + {bench_model.DEFAULT_STEPS} steps, peak memory", 24.0,
              huge["peak_rss_mb"] / MIB_PER_GB if huge and full_run else None, "GB",
              (f"graph {huge['graph_build_s']:.1f} s, state {huge['state_build_s']:.1f} s, "
               f"{huge['ms_per_step_mean']:.0f} ms/step") if huge else ""),
        *(entry(f"two brands vs one at 1M, {r['category']}: step time duel / monopoly", 2.0,
                r["x_monopoly"], "x", "paired CPU time; wall-clock runs: " + ", ".join(
                    f"{w['x_monopoly']:.2f} x" for w in markets
                    if w["category"] == r["category"] and w["x_monopoly"] is not None))
          for r in paired if r["consumers"] == TARGET_SIZE),
        entry("python -m wommsim +experiment=ads_vs_wom at its defaults", 60.0,
              experiment["seconds"] if experiment and not experiment["overrides"] else None,
              "s", "on all cores (workers=0)"),
    ]


def format_targets(rows: list[dict]) -> str:
    lines = [f"{'target':<64}{'limit':>9}{'measured':>11}  verdict  note"]
    for t in rows:
        value = "-" if t["value"] is None else f"{t['value']:.2f} {t['unit']}"
        lines.append(f"{t['target']:<64}{t['limit']:>7.0f} {t['unit']:<2}{value:>11}"
                     f"  {t['verdict']:<7}  {t['note']}")
    return "\n".join(lines)


def run_profiles(steps: int) -> list[str]:
    """profile_step.py for both model rows at 1M (``steps`` profiled after a warm-up step);
    its printed breakdowns."""
    texts = []
    for config in bench_model.CONFIGS:
        out = HERE / "results" / f"profile-{config}-1m.txt"
        cmd = [sys.executable, str(HERE / "profile_step.py"), "--config", config,
               "--steps", str(steps), "--text", str(out)]
        print(f"  running: profile of {config} at 1,000,000 consumers", file=sys.stderr,
              flush=True)
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
        if done.returncode != 0:
            raise bench_model.BenchmarkError(f"profile of {config} failed "
                                             f"(exit {done.returncode}):\n{done.stderr[-4000:]}")
        texts.append(done.stdout)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS,
                        help=f"parts to run (default: {' '.join(DEFAULT_PARTS)})")
    bench_model.add_arguments(parser)
    parser.add_argument("--out", type=Path, help="suite JSON (default "
                        "benchmarks/results/suite.json, suite-quick.json with --quick)")
    args = parser.parse_args()
    quick = args.quick
    parts = args.parts or DEFAULT_PARTS
    steps = args.steps or (bench_model.QUICK_STEPS if quick else bench_model.DEFAULT_STEPS)
    if steps < 1:
        parser.error("--steps must be positive")
    if args.out:
        out = args.out
    else:  # a run of some parts only does not overwrite the full suite's record
        some = "" if set(parts) == set(DEFAULT_PARTS) else "-" + "-".join(parts)
        out = HERE / "results" / f"suite{some}{'-quick' if quick else ''}.json"
    info = bench_model.machine_info()
    print(f"{info['date']}  {info['cpu']}  ({info['cores']} cores, "
          f"{info['memory_gb']:.0f} GB)  load {info['load_average_at_start']}  "
          f"Python {info['python']}  NumPy {info['numpy']}  SciPy {info['scipy']}  "
          f"Mesa {info['mesa']}  commit {info['git_commit']}", flush=True)

    rows: list[dict] = []
    failures: list[str] = []  # a failed measurement is reported; the others still run
    if "model" in parts:
        sizes = bench_model.QUICK_SIZES if quick else bench_model.DEFAULT_SIZES
        rows += bench_model.run_sizes(sizes, steps, 4, args.mesa_max, args.bass_max, failures)
    if "huge" in parts and not quick:
        rows += bench_model.run_sizes([HUGE], steps, 4, args.mesa_max, args.bass_max,
                                      failures)
    ratios = bench_model.add_ratios(rows)
    if rows:
        print(f"\nBarabási–Albert m=4, agents=off, {steps} steps per run, every one timed\n")
        print(bench_model.format_table(rows))
        print(f"\nratios of ms/step (ref = {bench_model.REFERENCE}; "
              "mesa/bass = speed-up of the model's bass rule over per-agent Mesa)")
        print(bench_model.format_ratios(ratios), flush=True)

    scaling_rows = None
    if "scaling" in parts:
        degree_size = scaling.QUICK_DEGREE_SIZE if quick else scaling.DEGREE_SIZE
        pts = scaling.points(scaling.QUICK_SIZES if quick else scaling.SIZES,
                             scaling.QUICK_DEGREES if quick else scaling.DEGREES, degree_size)
        scaling_rows = scaling.run_scaling(pts, steps, reuse=rows, failures=failures)
        scaling.write(scaling_rows,
                      HERE / "results" / ("scaling-quick.json" if quick else "scaling.json"),
                      steps, info, degree_size)

    markets: list[dict] = []
    paired: list[dict] = []
    if "market" in parts:
        size = bench_model.QUICK_SIZES[-1] if quick else TARGET_SIZE
        markets, paired = bench_model.run_markets(size, steps, 4, failures)
        if markets:
            print(f"\nmarkets of one and two brands (the opinion row's settings, each brand "
                  f"with the run's strategy and budget), {steps} steps; market MB = peak less "
                  "the interpreter's, beside wommsim.runs.memory's estimate\n")
            print(bench_model.format_markets(markets), flush=True)
        if paired:
            print("\nthe same markets paired: monopoly and duel in one process on one graph, "
                  "steps alternated, CPU time (robust to other processes' load)\n")
            print(bench_model.format_table(paired, bench_model.PAIRED_COLUMNS), flush=True)

    experiment = None
    if "experiment" in parts:
        overrides = ("replicates=2", "steps=5") if quick else ()
        try:
            experiment = bench_experiment.time_experiment("ads_vs_wom", overrides)
            print(f"\nads_vs_wom {' '.join(overrides) or 'at its defaults'}: "
                  f"{experiment['seconds']:.1f} s", flush=True)
        except bench_model.BenchmarkError as err:
            print(f"  FAILED: {err}", file=sys.stderr, flush=True)
            failures.append(str(err).splitlines()[0])

    if "profile" in parts:
        try:
            for text in run_profiles(max(steps - 1, 1)):  # after one warm-up step
                print("\n" + text)
        except bench_model.BenchmarkError as err:
            print(f"  FAILED: {err}", file=sys.stderr, flush=True)
            failures.append(str(err).splitlines()[0])

    goals = targets(rows, experiment, steps, markets, paired)
    print(f"\ntargets (machine-relative; '-' = not measured in this run"
          f"{', quick run' if quick else ''})")
    print(format_targets(goals))
    bench_model.write_json(out, {
        "machine": info, "steps": steps, "parts": list(parts), "quick": quick,
        "reference": bench_model.REFERENCE, "results": rows,
        "ratios": {str(n): r for n, r in ratios.items()}, "scaling": scaling_rows,
        "markets": markets, "paired": paired, "experiment": experiment, "targets": goals,
        "failures": failures})
    print(f"\nwrote {out}")
    if failures:
        sys.exit("failed measurements (their rows are missing):\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
