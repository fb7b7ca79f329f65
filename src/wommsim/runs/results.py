"""The result-folder protocol: atomic and grouped writes, the manifest (provenance, the
configuration hash with the content of input files, checksums of every result file), and the
state of a folder's results (complete, incomplete, stale or damaged) for resume and the sweep
aggregate.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from wommsim import __version__
from wommsim.config import RUN_ONLY_KEYS, Config, input_file_problem
from wommsim.experiment import Arm

log = logging.getLogger(__name__)


RESULT_FILES = ("timeseries.parquet", "timeseries.csv", "brands.parquet", "summary.csv",
                "differences.csv", "outcomes.csv", "report.md", "figures")
#: Result files a run writes only when asked (``transactions=true``,
#: ``attribution=counterfactual``: ``attribution.csv``, ``media_panel.csv``) or when it has
#: something to put in them (``incremental.csv``: a reference arm or a no-marketing
#: counterfactual).
OPTIONAL_RESULT_FILES = ("transactions.parquet", "customers.parquet", "takers.csv",
                         "attribution.csv", "incremental.csv", "media_panel.csv")
EVERY_RESULT_FILE = RESULT_FILES + OPTIONAL_RESULT_FILES


def config_hash(cfg: Config, inputs: Sequence[str] = ()) -> str:
    """SHA-256 of the resolved configuration, for matching results to configs. ``workers`` and
    ``overwrite`` (:data:`~wommsim.config.RUN_ONLY_KEYS`) are left out: they set how the
    results are computed and written, not what they are.

    The content of the files the run reads (:func:`input_digests`: its edge lists, and
    ``inputs``, e.g. calibration data) is part of it, so a changed file is a changed
    configuration; a configuration that reads no file hashes as it always did."""
    settings = asdict(cfg)
    for key in RUN_ONLY_KEYS:
        settings.pop(key)
    digests = input_digests(cfg, inputs)
    if digests:
        settings["input_files"] = digests
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def input_files(cfg: Config) -> list[str]:
    """The files a run of ``cfg`` reads: the edge list of an ``edgelist`` network, set in
    the configuration or by an experiment's arm overrides or grid (``network.path``)."""
    paths = [cfg.network.path] if cfg.network.kind == "edgelist" else []
    if cfg.experiment is not None:
        paths += [arm.overrides.get("network.path") for arm in cfg.experiment.arms]
        grid = cfg.experiment.grid.get("network.path")
        paths += grid if isinstance(grid, list) else [grid]
    return list(dict.fromkeys(str(p) for p in paths if p))


def input_digests(cfg: Config, inputs: Sequence[str] = ()) -> dict[str, str]:
    """``{path: SHA-256 of its content}`` of the files a run reads (:func:`input_files`,
    then ``inputs``); a path that is not a readable regular file maps to its problem."""
    paths = dict.fromkeys([*input_files(cfg), *(str(p) for p in inputs)])
    return {path: file_digest(path) for path in paths}


def file_digest(path: str) -> str:
    """SHA-256 of a regular file's content (remembered while the file's size and
    modification time stay the same), or why it cannot be read (e.g. ``no such file``)."""
    problem = input_file_problem(path)
    if problem:
        return problem
    st = os.stat(path)
    return _digest(os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _digest(path: str, *identity: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(1 << 24):
                digest.update(chunk)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return digest.hexdigest()


def git_commit() -> str | None:
    """The commit of the source tree wommsim runs from, if it is a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def remove(path: Path) -> None:
    """Delete a file, link or folder (with its contents); nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def command_head(module: str) -> list[str]:
    """How the user started the program, for the record: ``python -m MODULE`` for a module
    run with ``-m`` (its ``sys.argv[0]`` is the module's file), else the script's name (the
    ``wommsim`` console script)."""
    script = Path(sys.argv[0])
    return ["python", "-m", module] if script.suffix == ".py" else [script.name]


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write via ``write(tmp_path)`` to a temporary name, then rename into place."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        remove(tmp)


def write_together(outdir: Path, names: Sequence[str], write: Callable[[Path], object]
                   ) -> None:
    """Write result files via ``write(stage)`` into a staging folder
    ``outdir/.results.partial-PID``, then put them in place together: the earlier files of
    ``names`` go first (never a mix of two writes), then each of ``names`` the write made is
    moved in (a rename each). A failed or interrupted write leaves ``outdir`` as it was, and
    a killed one only a folder marked partial (removed by the next write into ``outdir``)."""
    outdir.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(outdir)
    stage = outdir / f".results.partial-{os.getpid()}"
    stage.mkdir()
    try:
        write(stage)
        for name in names:
            remove(outdir / name)
        for name in names:
            if (stage / name).exists():
                os.replace(stage / name, outdir / name)
    finally:
        remove(stage)


def write_manifest(outdir: Path, cfg: Config, arms: list[Arm], completed: bool,
                   wall_time: float | None, populations: list[int] | None = None) -> None:
    """``manifest.json``: provenance, and whether the results are complete; ``populations``
    (each arm's consumers, as :func:`preflight` found them) default to ``consumers``."""
    import mesa
    import numpy as np

    manifest = {
        "package": "wommsim",
        "version": __version__,
        "git_commit": git_commit(),
        "config_hash": config_hash(cfg),
        "input_files": input_digests(cfg),
        "experiment": cfg.experiment.name if cfg.experiment else None,
        "arms": [arm.name for arm in arms],
        "consumers": dict(zip((arm.name for arm in arms),
                              populations or [arm.config.consumers for arm in arms],
                              strict=True)),
        "seed": cfg.seed,
        "replicates": cfg.replicates,
        "seeds": [[cfg.seed, r] for r in range(cfg.replicates)],
        "seed_rule": "every arm's replicate r draws from numpy SeedSequence([seed, r])",
        "wall_time_s": wall_time,
        "completed": completed,
        "files": [name for name in EVERY_RESULT_FILE if (outdir / name).exists()]
                 if completed else [],
        "checksums": result_checksums(outdir) if completed else {},
        "command": [*command_head("wommsim"), *sys.argv[1:]],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
    }
    write_atomic(outdir / "manifest.json",
                 lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))


def result_checksums(outdir: Path) -> dict[str, dict[str, object]]:
    """Size and SHA-256 of every result file in ``outdir`` (each figure by its path in
    ``figures/``), recorded in ``manifest.json`` so that a resumed sweep and the aggregate
    can tell whole results from damaged ones (:func:`damaged_files`)."""
    sums: dict[str, dict[str, object]] = {}
    for name in EVERY_RESULT_FILE:
        path = outdir / name
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                sums[file.relative_to(outdir).as_posix()] = {"bytes": file.stat().st_size,
                                                             "sha256": _sha256(file)}
    return sums


def damaged_files(outdir: Path, checksums: dict[str, dict[str, object]]) -> list[str]:
    """The files of ``checksums`` (:func:`result_checksums`) that are missing from ``outdir``
    or differ from their recorded size or SHA-256, each with what is wrong."""
    damaged = []
    for name, recorded in checksums.items():
        path = outdir / name
        try:
            size = path.stat().st_size
            if size != recorded.get("bytes"):
                damaged.append(f"{name} ({size} bytes, {recorded.get('bytes')} written)")
            elif _sha256(path) != recorded.get("sha256"):
                damaged.append(f"{name} (its content changed: SHA-256 differs)")
        except OSError as err:
            damaged.append(f"{name} ({err.strerror or err})")
    return damaged


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


NOT_BEGUN = ("no results yet: the job was stopped (or is still running) before it began "
             "simulating")


def results_state(outdir: Path, cfg: Config) -> tuple[str, str, dict | None]:
    """``(state, reason, manifest)`` of the results in ``outdir`` for ``cfg``: ``complete``
    (``completed: true``, the same :func:`config_hash`, every result file present and as
    its size and SHA-256 in the manifest say; reason empty), ``incomplete`` (no manifest,
    ``completed: false``, result files missing, or no checksums to verify them by: an
    older wommsim's manifest), ``stale`` (complete results of another configuration) or
    ``damaged`` (a result file truncated or changed since it was written)."""
    try:
        manifest = json.loads((outdir / "manifest.json").read_text())
    except FileNotFoundError:
        return "incomplete", NOT_BEGUN, None
    except (OSError, ValueError):
        return "incomplete", "manifest.json cannot be read", None
    if not isinstance(manifest, dict) or manifest.get("completed") is not True:
        return ("incomplete", "manifest.json says completed: false (the job was stopped or "
                "is still running)", None)
    absent = [name for name in RESULT_FILES if not (outdir / name).exists()]
    if absent:
        return "incomplete", "result files missing: " + ", ".join(absent), None
    if manifest.get("config_hash") != config_hash(cfg):
        return ("stale", "its results are of another configuration (config hash differs); "
                "running the sweep again redoes it", None)
    checksums = manifest.get("checksums")
    if not isinstance(checksums, dict) or not checksums or not all(
            isinstance(c, dict) for c in checksums.values()):
        return ("incomplete", "manifest.json records no checksums of the result files (an "
                "older wommsim wrote it), so they cannot be verified; running the sweep "
                "again redoes it", None)
    damaged = damaged_files(outdir, checksums)
    if damaged:
        return ("damaged", "result files damaged since they were written: "
                + ", ".join(damaged) + "; running the sweep again redoes it", None)
    return "complete", "", manifest


def completed_results(outdir: Path, cfg: Config) -> dict | None:
    """The manifest of ``outdir`` if it holds the complete results of exactly ``cfg``
    (:func:`results_state`), else None. A sweep re-run reuses such a directory instead of
    computing it again."""
    return results_state(outdir, cfg)[2]


def reuse_results(outdir: Path, cfg: Config) -> pd.DataFrame | None:
    """The per-step table of ``outdir`` if it holds the complete results of ``cfg``
    (logged, with a warning when other code computed them), else None."""
    done = completed_results(outdir, cfg)
    if done is None:
        return None
    log.info("%s already holds the complete results of this configuration (config hash "
             "%s...): skipped, not recomputed", outdir, done["config_hash"][:12])
    then, now = (done.get("version"), done.get("git_commit")), (__version__, git_commit())
    if then != now:
        log.warning("%s was computed by wommsim %s (commit %s); this is %s (commit %s). "
                    "Delete it, or use another hydra.sweep.dir, to recompute with this code",
                    outdir, *then, *now)
    return pd.read_parquet(outdir / "timeseries.parquet")


def remove_stale_partials(outdir: Path, pattern: str = ".*.partial-*") -> None:
    """Remove ``.NAME.partial-PID`` leftovers (or others matching ``pattern``, ending in
    ``-PID``) of killed runs (whose PID is gone)."""
    for path in outdir.glob(pattern):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            remove(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True
