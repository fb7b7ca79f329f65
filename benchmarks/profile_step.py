"""Profile WommModel.step with pyinstrument and break its time down by mechanism.

Usage::

    python benchmarks/profile_step.py [--consumers 1000000] [--steps 20] [--config opinion] [--m 4]
                                      [--text benchmarks/results/profile.txt]

Same configurations as ``bench_model.py``. The model is built and stepped once (warm-up)
outside the profile; then ``--steps`` steps are sampled every 0.1 ms. Time is attributed
to the call made directly from ``WommModel.step`` (one mechanism each); time spent in the
body of ``step`` itself (mostly the share division ``np.divide``) is counted as decision.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from pyinstrument import Profiler

from bench_model import COMMON, CONFIGS

# Function called from WommModel.step -> "mechanism: detail".
MECHANISM_OF = {
    "advertise": "advertising",
    "converse": "dialogue",
    "spread": "content",
    "age": "content",
    "hubs": "content",
    "invite": "reviews",
    "offer": "incentives",
    "talk": "word of mouth",
    "__matmul__": "decision: adopted neighbours (sparse mat-vec)",
    "ndarray.astype": "decision: adopted neighbours (sparse mat-vec)",
    "_count_new_adopters": "decision: adopted neighbours (counting new buyers' edges)",
    "opinion_rule": "decision: rule",
    "bass_rule": "decision: rule",
    "score": "decision: rule",
    "weight": "decision: rule",
    "zeros": "decision: inline in step body (share = adopted / degree)",
    "[self]": "decision: inline in step body (share = adopted / degree)",
    "adopt": "purchase",
    "fade": "decay",
    "_record": "recording metrics: _record",
    "bincount": "recording metrics: _record",
    "collect": "recording metrics: DataCollector.collect",
    "getattr": "step bookkeeping",
    "dict.update": "step bookkeeping",
    "dict.items": "step bookkeeping",
    "strategy_at": "step bookkeeping",
    "len": "step bookkeeping",
    "__getattr__": "step bookkeeping",
}


def step_frames(frame):
    """Every profiled frame of WommModel.step (normally exactly one)."""
    if frame.function == "step" and (frame.file_path or "").endswith("wommsim/model.py"):
        yield frame
        return
    for child in frame.children:
        yield from step_frames(child)


def breakdown(root) -> dict[str, float]:
    """Seconds per mechanism under WommModel.step, plus Mesa's step wrapper and the rest."""
    seconds = dict.fromkeys(MECHANISM_OF.values(), 0.0)
    inside = 0.0
    for step in step_frames(root):
        inside += step.time
        for child in step.children:
            name = MECHANISM_OF.get(child.function, f"other: {child.function}")
            seconds[name] = seconds.get(name, 0.0) + child.time
    seconds["outside WommModel.step (Mesa wrapper, loop)"] = root.time - inside
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consumers", type=int, default=1_000_000,
                        help="population size (default 1000000)")
    parser.add_argument("--steps", type=int, default=20,
                        help="profiled steps after one warm-up (default 20)")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="opinion",
                        help="configuration, as in bench_model.py (default opinion)")
    parser.add_argument("--m", type=int, default=4,
                        help="Barabási–Albert edges per new consumer (default 4)")
    parser.add_argument("--text", type=Path, help="also save pyinstrument's call tree here")
    args = parser.parse_args()

    from wommsim.compose import compose
    from wommsim.model import WommModel

    cfg = compose([f"consumers={args.consumers}", f"network.m={args.m}", *COMMON,
                   *CONFIGS[args.config]])
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
