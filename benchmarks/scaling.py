"""Scaling curve: time per step and peak memory against population and mean degree.

Usage::

    python benchmarks/scaling.py [--sizes 10000 100000 1000000 10000000] [--degrees 2 4 8 16]
                                 [--degree-size 1000000] [--steps 52] [--quick]
                                 [--out benchmarks/results/scaling.json]

Two sweeps of Barabási–Albert markets (mean degree about 2m): population at m = 4, and m at
``--degree-size`` consumers. At every point the full model (``opinion`` row of
``bench_model.py``) and the two reference kernels run, each in a fresh subprocess. The
figure (next to the JSON, ``.png``) plots ms/step, ms per million stored edges (flat =
linear in edges) and peak memory against stored edges (2 per undirected edge).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bench_model

HERE = Path(__file__).resolve().parent
SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
DEGREES = (2, 4, 8, 16)
DEGREE_SIZE = 1_000_000
QUICK_SIZES = (10_000, 100_000)
QUICK_DEGREES = (2, 4)
QUICK_DEGREE_SIZE = 100_000
#: Rows plotted, with their marker colours.
SERIES = {"opinion": "tab:blue", bench_model.REFERENCE: "tab:orange",
          "ref: skip settled": "tab:green"}


def points(sizes, degrees, degree_size: int) -> list[tuple[int, int]]:
    """(consumers, m) of both sweeps, without repeats, in running order."""
    pts = [(n, 4) for n in sizes] + [(degree_size, m) for m in degrees]
    return list(dict.fromkeys(pts))


def run_scaling(pts, steps: int, reuse: list[dict] = (),
                failures: list[str] | None = None) -> list[dict]:
    """Rows of SERIES at every point; rows already in ``reuse`` (same size, m and step
    count) are taken from there instead of being measured again. Failed runs go to
    ``failures`` when given (else they raise), and the sweep goes on."""
    have = {(r["consumers"], r["m"], r["row"]): r for r in reuse
            if r["steps"] == steps and r["row"] in SERIES}
    rows = []
    for n, m in pts:
        for child, names in (("opinion", ["opinion"]),
                             ("kernels", [bench_model.REFERENCE, "ref: skip settled"])):
            if all((n, m, name) in have for name in names):
                rows.extend(have[(n, m, name)] for name in names)
            else:
                rows.extend(bench_model.run_guarded(n, child, steps, m, failures))
    for r in rows:
        r["stored_edges"] = 2 * r["edges"]
        r["ms_per_million_edges"] = r["ms_per_step_mean"] / (r["stored_edges"] / 1e6)
    return rows


def plot(rows: list[dict], path: Path, title: str, degree_size: int) -> None:
    """Three panels against stored edges: ms/step, ms per million edges, peak MB. The
    population sweep is the m = 4 rows, the degree sweep the rows at ``degree_size``."""
    in_sweep = {"population": lambda r: r["m"] == 4,
                "degree": lambda r: r["consumers"] == degree_size}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = (("ms_per_step_mean", "ms per step"),
              ("ms_per_million_edges", "ms per step per million stored edges"),
              ("peak_rss_mb", "peak memory (MB)"))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for name, colour in SERIES.items():
            if name != "opinion" and key == "peak_rss_mb":
                continue  # the kernels' peak is the graph build: the same as the model's
            for sweep, marker, style in (("population", "o", "-"), ("degree", "s", "--")):
                pts = sorted((r["stored_edges"], r[key], r) for r in rows
                             if r["row"] == name and in_sweep[sweep](r))
                if not pts:
                    continue
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker,
                        linestyle=style, color=colour,
                        label=f"{'model (opinion)' if name == 'opinion' else name}, {sweep}")
                if key == "ms_per_step_mean" and name == "opinion":
                    for x, y, r in pts:
                        if sweep == "degree" and r["m"] == 4:
                            continue  # labelled with the population sweep
                        text = (f"{r['consumers']:,.0f}" if sweep == "population"
                                else f"m={r['m']}")
                        ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, -10),
                                    fontsize=7, color=colour)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_yscale("log" if key != "ms_per_million_edges" else "linear")
        if key == "ms_per_million_edges":
            ax.set_ylim(bottom=0)
        ax.set_xlabel("stored edges (2 per undirected edge)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="population sweep at m=4")
    parser.add_argument("--degrees", type=int, nargs="+", help="values of m")
    parser.add_argument("--degree-size", type=int, help="consumers in the degree sweep")
    parser.add_argument("--steps", type=int, help="steps per run (default 52, 5 with --quick)")
    parser.add_argument("--out", type=Path, help="JSON (figure beside it, .png)")
    parser.add_argument("--quick", action="store_true", help="small sweep, 5 steps")
    args = parser.parse_args()
    quick = args.quick
    degree_size = args.degree_size or (QUICK_DEGREE_SIZE if quick else DEGREE_SIZE)
    pts = points(args.sizes or (QUICK_SIZES if quick else SIZES),
                 args.degrees or (QUICK_DEGREES if quick else DEGREES), degree_size)
    steps = args.steps or (bench_model.QUICK_STEPS if quick else bench_model.DEFAULT_STEPS)
    out = args.out or HERE / "results" / ("scaling-quick.json" if quick else "scaling.json")
    try:
        rows = run_scaling(pts, steps)
    except bench_model.BenchmarkError as err:
        sys.exit(str(err))
    write(rows, out, steps, bench_model.machine_info(), degree_size)


def write(rows: list[dict], out: Path, steps: int, info: dict, degree_size: int) -> None:
    """Print the sweep, save its JSON and its figure (same name, ``.png``)."""
    print(f"\nscaling: {steps} steps per run, ms/step and ms per million stored edges")
    print(f"{'consumers':>11}{'m':>4}{'stored edges':>14}{'row':>19}{'ms/step':>10}"
          f"{'ms/M edges':>12}{'peak MB':>9}")
    for r in rows:
        print(f"{r['consumers']:>11,}{r['m']:>4}{r['stored_edges']:>14,}{r['row']:>19}"
              f"{r['ms_per_step_mean']:>10.2f}{r['ms_per_million_edges']:>12.2f}"
              f"{r['peak_rss_mb']:>9.0f}")
    bench_model.write_json(out, {"machine": info, "steps": steps, "results": rows})
    title = (f"wommsim scaling, Barabási–Albert, {steps} steps per run "
             f"({info['date'][:10]}, {info['cpu']}, {info['cores']} cores, shared)")
    plot(rows, out.with_suffix(".png"), title, degree_size)
    print(f"wrote {out} and {out.with_suffix('.png')}", file=sys.stderr)


if __name__ == "__main__":
    main()
