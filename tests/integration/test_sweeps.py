"""Sweeps as a user runs them: ``python -m wommsim -m ...`` with the joblib and submitit_local
launchers and through a real SLURM cluster, the aggregate, failed jobs, resuming, and
``python -m wommsim.aggregate``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.integration.test_cli import wommsim
from wommsim.aggregate import main as aggregate_main
from wommsim.sweep import job_processes, sweep_name

# Two arms (ads_vs_wom has three; two keep it small), two swept parameters, four jobs.
SMALL = ("+experiment=ads_vs_wom", "consumers=200", "steps=6", "replicates=2",
         "experiment.arms=[{name: ad_heavy, strategy: ad_heavy}, "
         "{name: organic, strategy: none}]", "experiment.reference=ad_heavy")
SWEPT = ("consumer.ad_blind_fraction=0.5,0.9", "brand.budget=500,1000")
JOBS = [(0.5, 500), (0.5, 1000), (0.9, 500), (0.9, 1000)]  # Hydra's order: last key fastest
ARMS = ["ad_heavy", "organic"]
NO_FIGURES = "hydra.callbacks.sweep.figures=false"


def sweep(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return wommsim("-m", *args, cwd=cwd, timeout=600)


def sweep_dir_of(cwd: Path) -> Path:
    """The one sweep directory a command wrote under ``cwd/multirun``."""
    found = [p.parent for p in (cwd / "multirun").rglob("multirun.yaml")]
    assert len(found) == 1, found
    return found[0]


def stamps(sweep_dir: Path) -> dict[int, tuple[int, int]]:
    """Per job: modification times (ns) of its manifest and its per-step table."""
    return {n: ((sweep_dir / str(n) / "manifest.json").stat().st_mtime_ns,
                (sweep_dir / str(n) / "timeseries.parquet").stat().st_mtime_ns)
            for n in range(len(JOBS))}


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The small sweep run once with the joblib launcher, figures included."""
    cwd = tmp_path_factory.mktemp("joblib")
    proc = sweep("hydra/launcher=joblib", *SMALL, *SWEPT, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd, proc


def test_joblib_sweep_writes_every_job_and_the_aggregate(joblib_sweep):
    cwd, proc = joblib_sweep
    sweep_dir = sweep_dir_of(cwd)
    # The default sweep directory is named after the experiment, swept keys and a hash.
    assert sweep_dir.parent == cwd / "multirun" / "ads_vs_wom"
    assert sweep_dir.name.startswith("ad_blind_fraction-budget-")
    for num, (blind, budget) in enumerate(JOBS):
        job = sweep_dir / str(num)
        assert json.loads((job / "manifest.json").read_text())["completed"] is True
        config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
        assert (config["consumer"]["ad_blind_fraction"], config["brand"]["budget"]) == (
            blind, budget)
        # Inside a parallel sweep each job runs its replicates in one process (jobs=0).
        assert "on 1 processes" in (job / "__main__.log").read_text()

    out = sweep_dir / "aggregate"
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns[:4]) == ["job", "consumer.ad_blind_fraction", "brand.budget",
                                      "arm"]
    assert len(runs) == len(JOBS) * len(ARMS)
    for num, (blind, budget) in enumerate(JOBS):
        rows = runs[runs["job"] == num]
        assert rows["arm"].tolist() == ARMS
        assert (rows["consumer.ad_blind_fraction"] == blind).all()
        assert (rows["brand.budget"] == budget).all()
        summary = pd.read_csv(sweep_dir / str(num) / "summary.csv")
        assert rows["final_adoption_mean"].tolist() == pytest.approx(
            summary["final_adoption_mean"].tolist())
        assert (rows["job_dir"].astype(str) == str(num)).all()

    series = pd.read_parquet(out / "timeseries.parquet")
    assert list(series.columns[:4]) == ["job", "consumer.ad_blind_fraction", "brand.budget",
                                        "arm"]
    assert len(series) == len(JOBS) * len(ARMS) * 2 * 7  # replicates x (steps + 1)
    job3 = pd.read_parquet(sweep_dir / "3" / "timeseries.parquet")
    pd.testing.assert_frame_equal(
        series[series["job"] == 3].drop(columns=["job", "consumer.ad_blind_fraction",
                                                 "brand.budget"]).reset_index(drop=True),
        job3)
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(outcomes) == len(JOBS) * len(ARMS) * 2
    assert pd.read_csv(out / "missing.csv").empty

    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == ["heatmaps.png", "outcomes_vs_brand.budget.png",
                       "outcomes_vs_consumer.ad_blind_fraction.png"]
    for name in figures:
        assert (out / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4 complete (4 computed now, 0 reused" in proc.stdout + proc.stderr
    assert not list(sweep_dir.rglob("*.partial-*"))


def test_rerunning_the_sweep_skips_complete_jobs_and_redoes_the_rest(joblib_sweep, tmp_path):
    source, _ = joblib_sweep
    shutil.copytree(source / "multirun", tmp_path / "multirun")  # keep the fixture intact
    sweep_dir = sweep_dir_of(tmp_path)
    before = stamps(sweep_dir)
    runs_before = pd.read_csv(sweep_dir / "aggregate" / "runs.csv")
    # Job 2 stopped half-way; job 3's results are of another configuration.
    manifest = json.loads((sweep_dir / "2" / "manifest.json").read_text())
    (sweep_dir / "2" / "manifest.json").write_text(json.dumps({**manifest, "completed": False}))
    manifest = json.loads((sweep_dir / "3" / "manifest.json").read_text())
    (sweep_dir / "3" / "manifest.json").write_text(json.dumps({**manifest, "config_hash": "0"}))

    proc = sweep("hydra/launcher=joblib", *SMALL, *SWEPT, NO_FIGURES, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sweep_dir_of(tmp_path) == sweep_dir  # the same command found the same directory
    after = stamps(sweep_dir)
    assert after[0] == before[0] and after[1] == before[1]  # not recomputed
    assert after[2][1] != before[2][1] and after[3][1] != before[3][1]  # redone
    log = proc.stdout + proc.stderr
    assert log.count("skipped, not recomputed") == 2
    assert "4 complete (2 computed now, 2 reused from an earlier run)" in log
    pd.testing.assert_frame_equal(pd.read_csv(sweep_dir / "aggregate" / "runs.csv"),
                                  runs_before)


def test_a_failed_job_is_listed_as_missing_and_the_sweep_fails(tmp_path):
    proc = sweep("hydra/launcher=joblib", *SMALL, "consumer.ad_blind_fraction=0.5,1.5",
                 NO_FIGURES, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    sweep_dir = sweep_dir_of(tmp_path)
    assert json.loads((sweep_dir / "0" / "manifest.json").read_text())["completed"] is True
    assert not (sweep_dir / "1" / "manifest.json").exists()
    out = sweep_dir / "aggregate"
    assert pd.read_csv(out / "runs.csv")["job"].tolist() == [0, 0]
    missing = pd.read_csv(out / "missing.csv")
    assert missing["job"].tolist() == [1]
    assert missing["consumer.ad_blind_fraction"].tolist() == [1.5]
    assert missing["status"].tolist() == ["failed"]
    assert "consumer.ad_blind_fraction=1.5" in missing["reason"].iloc[0]
    assert "missing: job 1 " in proc.stdout + proc.stderr

    # The aggregate can be rebuilt at any time, and says the same.
    shutil.rmtree(out)
    rebuilt = subprocess.run([sys.executable, "-m", "wommsim.aggregate", str(sweep_dir),
                              "--no-figures"], capture_output=True, text=True, timeout=300,
                             check=False)
    assert rebuilt.returncode == 1, rebuilt.stderr
    assert "missing: job 1 (" in rebuilt.stdout and "failed" in rebuilt.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out / "missing.csv"), missing)
    assert pd.read_csv(out / "runs.csv")["job"].tolist() == [0, 0]


@pytest.mark.slow  # four fresh processes, one per job
def test_submitit_local_gives_the_same_aggregate_as_joblib(joblib_sweep, tmp_path):
    source, _ = joblib_sweep
    proc = sweep("hydra/launcher=submitit_local", *SMALL, *SWEPT, NO_FIGURES,
                 f"hydra.sweep.dir={tmp_path / 'submitit'}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ours, theirs = tmp_path / "submitit" / "aggregate", sweep_dir_of(source) / "aggregate"
    pd.testing.assert_frame_equal(pd.read_csv(ours / "runs.csv"),
                                  pd.read_csv(theirs / "runs.csv"))
    pd.testing.assert_frame_equal(pd.read_parquet(ours / "timeseries.parquet"),
                                  pd.read_parquet(theirs / "timeseries.parquet"))


def slurm_unavailable() -> tuple[str | None, int]:
    """(why no SLURM cluster takes jobs from here, or None; the CPUs of an idle node of its
    default partition)."""
    hint = "scripts/start-slurm starts a one-node cluster on this machine"
    if shutil.which("sinfo") is None:
        return f"no SLURM cluster here (sinfo not found); {hint}", 0
    proc = subprocess.run(["sinfo", "--noheader", "--Node", "--states=idle,mixed",
                           "--format=%c %P"], capture_output=True, text=True, timeout=60,
                          check=False)
    if proc.returncode != 0:
        return f"sinfo failed: {proc.stderr.strip() or proc.returncode}; {hint}", 0
    cpus = [int(line.split()[0]) for line in proc.stdout.splitlines()
            if line.split()[1].endswith("*")]  # nodes of the default partition
    if not cpus:
        return f"no idle node in SLURM's default partition (sinfo); {hint}", 0
    return None, max(cpus)


@pytest.fixture
def slurm_cpus() -> int:
    """The CPUs of an idle SLURM node. Without a cluster the test is skipped, or fails where
    WOMMSIM_REQUIRE_SLURM=1 (.ci/run, which starts one with scripts/start-slurm)."""
    reason, cpus = slurm_unavailable()
    if reason and os.environ.get("WOMMSIM_REQUIRE_SLURM") == "1":
        pytest.fail(f"{reason} (WOMMSIM_REQUIRE_SLURM=1 requires a cluster)")
    if reason:
        pytest.skip(reason)
    return cpus


@pytest.mark.slow  # two sweeps, the second waiting on SLURM's scheduler and submitit's polling
def test_a_sweep_through_slurm_gives_the_same_aggregate_as_the_basic_launcher(slurm_cpus,
                                                                               tmp_path):
    tiny = ("+debug=tiny", "consumer.ad_blind_fraction=0.5,0.9", NO_FIGURES)
    basic = sweep(*tiny, f"hydra.sweep.dir={tmp_path / 'basic'}", cwd=tmp_path)
    assert basic.returncode == 0, basic.stderr[-3000:]
    cpus = min(2, slurm_cpus)
    proc = sweep("hydra/launcher=slurm", f"hydra.launcher.cpus_per_task={cpus}",
                 "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=10", *tiny, "jobs=0",
                 f"hydra.sweep.dir={tmp_path / 'slurm'}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ours, theirs = tmp_path / "slurm" / "aggregate", tmp_path / "basic" / "aggregate"
    for table in ("runs.csv", "outcomes.csv", "missing.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(ours / table), pd.read_csv(theirs / table))
    pd.testing.assert_frame_equal(pd.read_parquet(ours / "timeseries.parquet"),
                                  pd.read_parquet(theirs / "timeseries.parquet"))
    # The jobs were one sbatch job array, and each ran its replicates on the CPUs SLURM gave
    # it (jobs=0 reads SLURM_CPUS_PER_TASK).
    scripts = list((tmp_path / "slurm" / ".submitit").glob("*/*_submission.sh"))
    assert len(scripts) == 1, scripts
    assert "#SBATCH --array=0-1" in scripts[0].read_text()
    for num in (0, 1):
        log = (tmp_path / "slurm" / str(num) / "__main__.log").read_text()
        assert f"on {cpus} processes" in log


@pytest.mark.slow  # a sweep through SLURM
def test_a_cancelled_slurm_job_is_listed_as_missing_and_the_sweep_fails(slurm_cpus, tmp_path):
    # One job at a time: job 1 waits in the queue behind job 0, and is cancelled there, as a
    # user (or the cluster: time limit, memory, node failure) may end any job.
    name = f"wommsim-test-{os.getpid()}"  # this test's jobs only
    proc = subprocess.Popen(
        [sys.executable, "-m", "wommsim", "-m", "hydra/launcher=slurm",
         f"hydra.launcher.name={name}", "hydra.launcher.array_parallelism=1",
         "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=10", "+debug=tiny",
         "consumer.ad_blind_fraction=0.5,0.9", NO_FIGURES, f"hydra.sweep.dir={tmp_path / 's'}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (running := subprocess.run(
                ["squeue", "--me", "--noheader", f"--name={name}", "--states=RUNNING",
                 "--format=%i"],
                capture_output=True, text=True, check=True, timeout=60).stdout.strip()):
            assert time.monotonic() < deadline and proc.poll() is None, "job 0 never ran"
            time.sleep(0.2)
        # Job 0 runs, so the one pending is job 1 (a whole array cancelled before any of it
        # ran leaves no per-job state in sacct, and submitit would wait for ever).
        subprocess.run(["scancel", "--me", f"--name={name}", "--state=PENDING"], check=True,
                       timeout=60)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            subprocess.run(["scancel", "--me", f"--name={name}"], check=False, timeout=60)
    assert proc.returncode == 1, err[-3000:]
    assert "Traceback" not in out + err
    # One line names the lost SLURM job (array task 1: "<array id>_1").
    assert err.count("wommsim: error: the sweep stopped: ") == 1
    assert f"{running.split('_')[0]}_1 " in err
    out_dir = tmp_path / "s" / "aggregate"
    assert pd.read_csv(out_dir / "runs.csv")["job"].tolist() == [0]
    missing = pd.read_csv(out_dir / "missing.csv")
    assert missing[["job", "consumer.ad_blind_fraction", "status"]].apply(
        tuple, axis=1).tolist() == [(1, 0.9, "not started")]


def test_aggregate_lists_every_job_without_complete_results(joblib_sweep, tmp_path):
    from wommsim.aggregate import aggregate

    source, _ = joblib_sweep
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(sweep_dir_of(source), sweep_dir)
    shutil.rmtree(sweep_dir / "0")  # never started
    (sweep_dir / "1" / "summary.csv").unlink()  # a result file lost
    manifest = json.loads((sweep_dir / "2" / "manifest.json").read_text())
    (sweep_dir / "2" / "manifest.json").write_text(json.dumps({**manifest, "config_hash": "0"}))
    result = aggregate(sweep_dir, figures=False)
    assert [(job.num, job.status) for job in result.jobs] == [
        (0, "not started"), (1, "incomplete"), (2, "stale"), (3, "complete")]
    missing = pd.read_csv(sweep_dir / "aggregate" / "missing.csv")
    assert missing[["job", "consumer.ad_blind_fraction", "brand.budget", "status"]].apply(
        tuple, axis=1).tolist() == [(0, 0.5, 500, "not started"), (1, 0.5, 1000, "incomplete"),
                                    (2, 0.9, 500, "stale")]
    assert "summary.csv" in missing["reason"].iloc[1]
    assert pd.read_csv(sweep_dir / "aggregate" / "runs.csv")["job"].unique().tolist() == [3]
    assert not (sweep_dir / "aggregate" / "figures").exists()


def test_aggregate_refuses_a_directory_that_is_not_a_sweep(tmp_path, capsys):
    assert aggregate_main([str(tmp_path)]) == 2
    assert "not a sweep directory" in capsys.readouterr().err
    assert aggregate_main([str(tmp_path / "nowhere")]) == 2


def test_the_sweep_directory_depends_on_what_is_computed_only():
    base = sweep_name(["+experiment=ads_vs_wom", "consumer.ad_blind_fraction=0.5,0.9"])
    assert base.startswith("ads_vs_wom/ad_blind_fraction-")
    # The launcher and the number of processes do not change the results: same directory.
    assert sweep_name(["hydra/launcher=joblib", "+experiment=ads_vs_wom", "jobs=2",
                       "consumer.ad_blind_fraction=0.5,0.9",
                       "hydra.launcher.n_jobs=2"]) == base
    assert sweep_name(["+experiment=ads_vs_wom", "consumer.ad_blind_fraction=0.5,0.96"]) != base
    assert sweep_name(["steps=5"]).startswith("run/")


@pytest.mark.parametrize("launcher,environ,expected", [
    ("hydra._internal.core_plugins.basic_launcher.BasicLauncher", {}, None),
    ("hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", {}, 1),
    ("hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher", {}, 1),
    ("hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher",
     {"SLURM_CPUS_PER_TASK": "8"}, 8),
])
def test_jobs_zero_inside_a_sweep(launcher, environ, expected):
    assert job_processes(launcher, environ) == expected


def test_launcher_presets_compose_with_their_documented_keys():
    from hydra import compose, initialize_config_dir

    from wommsim.compose import configs_dir
    from wommsim.config import register

    register()
    with initialize_config_dir(str(configs_dir()), version_base="1.3"):
        slurm = compose("config", overrides=["hydra/launcher=slurm",
                                             "hydra.launcher.partition=short"],
                        return_hydra_config=True).hydra.launcher
        cores = compose("config", overrides=["hydra/launcher=cores"],
                        return_hydra_config=True).hydra.launcher
    assert slurm._target_.endswith("SlurmLauncher")
    assert (slurm.partition, slurm.timeout_min, slurm.cpus_per_task, slurm.mem_gb,
            slurm.array_parallelism) == ("short", 60, 1, 4, 256)
    assert cores._target_.endswith("JoblibLauncher") and cores.n_jobs == -1
