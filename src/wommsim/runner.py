"""Run an arm for its replicates and write the results atomically.

No Hydra in here: the entry point composes the config, this module runs it, so the runner
can be called from Python and tests with a :class:`~wommsim.config.Config`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from wommsim import __version__
from wommsim.analysis import summarise
from wommsim.config import Config, validate
from wommsim.model import WommModel
from wommsim.network import build_network
from wommsim.rng import Streams

log = logging.getLogger(__name__)

RESULT_FILES = ("timeseries.parquet", "timeseries.csv", "summary.csv")


def run_replicate(cfg: Config, replicate: int) -> pd.DataFrame:
    """Simulate one replicate; its per-step table with ``arm`` and ``replicate`` columns."""
    model = WommModel(cfg, replicate=replicate)
    for _ in range(cfg.steps):
        model.step()
    frame = model.timeseries()
    frame.insert(0, "replicate", replicate)
    frame.insert(0, "arm", cfg.arm_name)
    return frame


def run_arm(cfg: Config) -> pd.DataFrame:
    """All replicates of one arm, concatenated (replicates in order)."""
    frames = []
    for r in range(cfg.replicates):
        started = time.perf_counter()
        frames.append(run_replicate(cfg, r))
        log.info("%s: replicate %d/%d done in %.2f s", cfg.arm_name, r + 1, cfg.replicates,
                 time.perf_counter() - started)
    return pd.concat(frames, ignore_index=True)


def config_hash(cfg: Config) -> str:
    """SHA-256 of the resolved configuration, for matching results to configs."""
    text = json.dumps(asdict(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def git_commit() -> str | None:
    """The commit of the source tree wommsim runs from, if it is a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_atomic(path: Path, write) -> None:
    """Write via ``write(tmp_path)`` to a temporary name, then rename into place."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_manifest(outdir: Path, cfg: Config, completed: bool, wall_time: float | None) -> None:
    import mesa
    import numpy as np

    manifest = {
        "package": "wommsim",
        "version": __version__,
        "git_commit": git_commit(),
        "config_hash": config_hash(cfg),
        "arm": cfg.arm_name,
        "seed": cfg.seed,
        "replicates": cfg.replicates,
        "seeds": [[cfg.seed, r] for r in range(cfg.replicates)],
        "seed_rule": "numpy.random.SeedSequence([seed, replicate]).spawn(...) per stream",
        "wall_time_s": wall_time,
        "completed": completed,
        "files": list(RESULT_FILES) if completed else [],
        "command": sys.argv,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
    }
    write_atomic(outdir / "manifest.json",
                 lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))


def run(cfg: Config, outdir: Path) -> pd.DataFrame:
    """Validate, pre-flight the network, simulate, then write every result file.

    ``manifest.json`` says ``completed: false`` while the run is under way and ``true`` once
    every result file is in place; result files appear only whole (temporary name, then
    rename), so an interrupted run never leaves a file that looks complete.
    """
    validate(cfg)
    # Fail on bad network input (e.g. a malformed edge list) before anything is written.
    population = build_network(cfg.network, cfg.consumers, Streams(cfg.seed, 0).network).n
    outdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_manifest(outdir, cfg, completed=False, wall_time=None)

    timeseries = run_arm(cfg)
    summary = summarise(timeseries, population)

    write_atomic(outdir / "timeseries.parquet", lambda p: timeseries.to_parquet(p, index=False))
    write_atomic(outdir / "timeseries.csv", lambda p: timeseries.to_csv(p, index=False))
    write_atomic(outdir / "summary.csv", lambda p: summary.to_csv(p, index=False))
    write_manifest(outdir, cfg, completed=True, wall_time=time.perf_counter() - started)
    log.info("results written to %s", outdir)
    return timeseries

