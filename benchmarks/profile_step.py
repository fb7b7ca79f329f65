"""Profile WommModel.step with pyinstrument and break its time down by mechanism.

Usage::

    python benchmarks/profile_step.py [--consumers 1000000] [--steps 20] [--config opinion] [--m 4]
                                      [--text benchmarks/results/profile.txt]

Same configurations as ``bench_model.py`` (its rows and its markets, e.g. ``--config "duel
durable"``). The model is built and stepped once (warm-up) outside the profile; then
``--steps`` steps are sampled every 0.1 ms. ``WommModel.step`` calls each mechanism through
its declaration, so time is attributed by the module of the function it calls
(``wommsim/mechanisms/<name>.py``, once per brand for a brand's mechanism); the rest by
function name (recording the metrics, bookkeeping).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from pyinstrument import Profiler

from bench_model import COMMON, CONFIGS, MARKETS

# Function called from WommModel.step (not a mechanism's) -> "group: detail".
MECHANISM_OF = {
    "_record": "recording metrics: _record",
    "collect": "recording metrics: DataCollector.collect",
}


def group_of(frame) -> str:
    """A frame called from WommModel.step: its mechanism (by module), else by function."""
    path = frame.file_path or ""
    if "wommsim/mechanisms/" in path:
        return path.rsplit("/", 1)[-1].removesuffix(".py")
    return MECHANISM_OF.get(frame.function, "step bookkeeping")


def step_frames(frame):
    """Every profiled frame of WommModel.step (normally exactly one)."""
    if frame.function == "step" and (frame.file_path or "").endswith("wommsim/model.py"):
        yield frame
        return
    for child in frame.children:
        yield from step_frames(child)


def breakdown(root) -> dict[str, float]:
    """Seconds per mechanism under WommModel.step, plus Mesa's step wrapper and the rest."""
    seconds: dict[str, float] = {}
    inside = 0.0
    for step in step_frames(root):
        inside += step.time
        for child in step.children:
            name = group_of(child)
            seconds[name] = seconds.get(name, 0.0) + child.time
    seconds["outside WommModel.step (Mesa wrapper, loop)"] = root.time - inside
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consumers", type=int, default=1_000_000,
                        help="population size (default 1000000)")
    parser.add_argument("--steps", type=int, default=20,
                        help="profiled steps after one warm-up (default 20)")
    parser.add_argument("--config", choices=[*CONFIGS, *MARKETS], default="opinion",
                        help="configuration, as in bench_model.py (default opinion)")
    parser.add_argument("--m", type=int, default=4,
                        help="Barabási–Albert edges per new consumer (default 4)")
    parser.add_argument("--text", type=Path, help="also save pyinstrument's call tree here")
    args = parser.parse_args()

    from wommsim.compose import compose
    from wommsim.model import WommModel

    settings = CONFIGS[args.config] if args.config in CONFIGS else MARKETS[args.config]
    cfg = compose([f"consumers={args.consumers}", f"network.m={args.m}", *COMMON, *settings])
    model = WommModel(cfg, replicate=0)
    model.step()  # warm-up (also computes the cached hub order)

    profiler = Profiler(interval=0.0001)
    profiler.start()
    for _ in range(args.steps):
        model.step()
    profiler.stop()

    root = profiler.last_session.root_frame()
    seconds = breakdown(root)
    total = root.time
    print(f"{args.config} rule, {args.consumers:,} consumers, BA m={args.m}, "
          f"{args.steps} steps after a warm-up: "
          f"{total:.2f} s sampled, {1000 * total / args.steps:.1f} ms/step "
          f"(adopted at end: {model.metrics['adopted_fraction']:.1%})\n")
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for name, sec in seconds.items():
        group, _, detail = name.partition(": ")
        groups[group][detail] = sec
    print(f"{'mechanism':<60}{'ms/step':>9}{'share':>8}")
    for group, parts in sorted(groups.items(), key=lambda item: -sum(item[1].values())):
        sec = sum(parts.values())
        print(f"{group:<60}{1000 * sec / args.steps:>9.2f}{sec / total:>8.1%}")
        for detail, sec in parts.items() if len(parts) > 1 or group == "other" else ():
            print(f"  {detail:<58}{1000 * sec / args.steps:>9.2f}{sec / total:>8.1%}")
    if args.text:
        args.text.parent.mkdir(parents=True, exist_ok=True)
        args.text.write_text(profiler.output_text(unicode=True, show_all=False))
        print(f"\nwrote {args.text}")


if __name__ == "__main__":
    main()
