"""Sweeps as a user runs them: ``python -m wommsim -m ...`` with the joblib and submitit_local
launchers and through a real SLURM cluster, the aggregate, failed jobs, resuming, and
``python -m wommsim.aggregate``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers.processes import (
    WAIT_S,
    alive,
    assert_one_line_message,
    cmdline,
    descendants,
    run_blocked,
    wait_for,
    wommsim,
)
from wommsim.sweeps.aggregate import main as aggregate_main
from wommsim.sweeps.sweep import job_processes, sweep_name

# Two arms (ads_vs_wom has three; two keep it small), two swept parameters, four jobs.
SMALL = ("+experiment=ads_vs_wom", "consumers=200", "steps=6", "replicates=2",
         "experiment.arms=[{name: ad_heavy, strategy: ad_heavy}, "
         "{name: organic, strategy: none}]", "experiment.reference=ad_heavy")
# 2.5 and 5 per consumer: 500 and 1,000 a week at 200 consumers.
SWEPT = ("consumer.ad_blind_fraction=0.5,0.9", "brand.budget_per_consumer=2.5,5")
JOBS = [(0.5, 2.5), (0.5, 5), (0.9, 2.5), (0.9, 5)]  # Hydra's order: last key fastest
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
    assert sweep_dir.name.startswith("ad_blind_fraction-budget_per_consumer-")
    for num, (blind, budget) in enumerate(JOBS):
        job = sweep_dir / str(num)
        assert json.loads((job / "manifest.json").read_text())["completed"] is True
        config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
        assert (config["consumer"]["ad_blind_fraction"],
                config["brand"]["budget_per_consumer"]) == (blind, budget)
        # Inside a parallel sweep each job runs its replicates in one process (workers=0).
        assert "on 1 processes" in (job / "__main__.log").read_text()

    out = sweep_dir / "aggregate"
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns[:4]) == ["job", "consumer.ad_blind_fraction",
                                      "brand.budget_per_consumer", "arm"]
    assert len(runs) == len(JOBS) * len(ARMS)
    for num, (blind, budget) in enumerate(JOBS):
        rows = runs[runs["job"] == num]
        assert rows["arm"].tolist() == ARMS
        assert (rows["consumer.ad_blind_fraction"] == blind).all()
        assert (rows["brand.budget_per_consumer"] == budget).all()
        summary = pd.read_csv(sweep_dir / str(num) / "summary.csv")
        assert rows["final_adoption_mean"].tolist() == pytest.approx(
            summary["final_adoption_mean"].tolist())
        assert (rows["job_dir"].astype(str) == str(num)).all()

    series = pd.read_parquet(out / "timeseries.parquet")
    assert list(series.columns[:4]) == ["job", "consumer.ad_blind_fraction",
                                        "brand.budget_per_consumer", "arm"]
    assert len(series) == len(JOBS) * len(ARMS) * 2 * 7  # replicates x (steps + 1)
    job3 = pd.read_parquet(sweep_dir / "3" / "timeseries.parquet")
    pd.testing.assert_frame_equal(
        series[series["job"] == 3].drop(columns=[
            "job", "consumer.ad_blind_fraction", "brand.budget_per_consumer"]).reset_index(
                drop=True),
        job3)
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(outcomes) == len(JOBS) * len(ARMS) * 2
    assert pd.read_csv(out / "missing.csv").empty

    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == ["heatmaps.png", "outcomes_vs_brand.budget_per_consumer.png",
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


def test_resume_recomputes_a_job_whose_edge_list_changed(tmp_path):
    # The configuration names the edge list by path; its content is part of the hash that
    # resume compares, so a changed file is a changed configuration (not "skipped").
    from tests.helpers import small_config
    from wommsim.runs.results import completed_results, config_hash
    from wommsim.runs.runner import run

    edges = tmp_path / "edges.txt"
    edges.write_text("".join(f"u{i} u{(i * 7 + 3) % 40}\n" for i in range(40)))
    cfg = small_config("network=edgelist", f"network.path={edges}", "replicates=1",
                       "workers=1", steps=2)
    out = tmp_path / "job"
    first = run(cfg, out)
    assert completed_results(out, cfg) is not None
    pd.testing.assert_frame_equal(run(cfg, out, resume=True), first)  # reused as it is
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["input_files"]) == [str(edges)]

    edges.write_text(edges.read_text() + "".join(f"v{i} u{i}\n" for i in range(30)))
    assert config_hash(cfg) != manifest["config_hash"]
    assert completed_results(out, cfg) is None  # stale: computed from the old file
    again = run(cfg, out, resume=True)
    assert completed_results(out, cfg) is not None
    assert not again.equals(first)


def test_config_hash_without_input_files_is_what_it_always_was():
    # Results already on disk stay valid: the hash of a configuration that reads no file
    # is the SHA-256 of its settings without workers (jobs then), overwrite and figures
    # (added since), as before input files were hashed.
    import dataclasses
    import hashlib

    from tests.helpers import small_config
    from wommsim.runs.results import config_hash

    cfg = small_config(consumers=300)
    settings = dataclasses.asdict(cfg)
    settings.pop("workers")  # called jobs then
    settings.pop("overwrite")
    settings.pop("figures")
    text = json.dumps(settings, sort_keys=True, default=str)
    assert config_hash(cfg) == hashlib.sha256(text.encode()).hexdigest()


def test_resume_recomputes_results_that_were_damaged_after_they_were_written(tmp_path):
    from tests.helpers import small_config
    from wommsim.runs.results import completed_results
    from wommsim.runs.runner import run

    cfg = small_config("replicates=2", "workers=1", consumers=200, steps=4)
    out = tmp_path / "job"
    first = run(cfg, out)
    assert completed_results(out, cfg) is not None
    parquet = out / "timeseries.parquet"
    parquet.write_bytes(parquet.read_bytes()[:-100])  # truncated; the manifest says complete
    assert completed_results(out, cfg) is None
    pd.testing.assert_frame_equal(run(cfg, out, resume=True), first)  # recomputed, not read
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), first)
    assert completed_results(out, cfg) is not None


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
                 "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=10", *tiny, "workers=0",
                 f"hydra.sweep.dir={tmp_path / 'slurm'}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ours, theirs = tmp_path / "slurm" / "aggregate", tmp_path / "basic" / "aggregate"
    for table in ("runs.csv", "outcomes.csv", "missing.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(ours / table), pd.read_csv(theirs / table))
    pd.testing.assert_frame_equal(pd.read_parquet(ours / "timeseries.parquet"),
                                  pd.read_parquet(theirs / "timeseries.parquet"))
    # The jobs were one sbatch job array, and each ran its replicates on the CPUs SLURM gave
    # it (workers=0 reads SLURM_CPUS_PER_TASK).
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
    from wommsim.sweeps.aggregate import aggregate

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
    assert missing[["job", "consumer.ad_blind_fraction", "brand.budget_per_consumer",
                    "status"]].apply(tuple, axis=1).tolist() == [
        (0, 0.5, 2.5, "not started"), (1, 0.5, 5, "incomplete"), (2, 0.9, 2.5, "stale")]
    assert "summary.csv" in missing["reason"].iloc[1]
    assert pd.read_csv(sweep_dir / "aggregate" / "runs.csv")["job"].unique().tolist() == [3]
    assert not (sweep_dir / "aggregate" / "figures").exists()


def test_aggregate_lists_jobs_whose_results_or_records_are_damaged(joblib_sweep, tmp_path,
                                                                   capsys):
    from wommsim.runs.results import result_checksums

    source, _ = joblib_sweep
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(sweep_dir_of(source), sweep_dir)
    parquet = sweep_dir / "0" / "timeseries.parquet"  # truncated, as a full disk leaves it
    parquet.write_bytes(parquet.read_bytes()[:200])
    with (sweep_dir / "1" / "summary.csv").open("a") as fh:  # malformed
        fh.write('ad_heavy,"unclosed\n')
    (sweep_dir / "2" / ".hydra" / "config.yaml").write_text("consumers: [200\n")
    # Job 3's parquet is garbage that its manifest vouches for (checksums recomputed): the
    # aggregate still cannot read it.
    (sweep_dir / "3" / "timeseries.parquet").write_bytes(b"PAR1 not a parquet file")
    manifest = json.loads((sweep_dir / "3" / "manifest.json").read_text())
    manifest["checksums"] = result_checksums(sweep_dir / "3")
    (sweep_dir / "3" / "manifest.json").write_text(json.dumps(manifest))

    assert aggregate_main([str(sweep_dir), "--no-figures"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    missing = pd.read_csv(sweep_dir / "aggregate" / "missing.csv")
    assert missing["job"].tolist() == [0, 1, 2, 3]
    assert missing["status"].tolist() == ["damaged"] * 4
    reasons = missing["reason"].tolist()
    assert "timeseries.parquet" in reasons[0] and "bytes" in reasons[0]
    assert "summary.csv" in reasons[1]
    assert ".hydra/config.yaml cannot be read" in reasons[2]
    assert "its results cannot be read" in reasons[3]
    assert pd.read_csv(sweep_dir / "aggregate" / "runs.csv").empty


def test_a_manifest_without_checksums_cannot_vouch_for_its_results(joblib_sweep, tmp_path):
    from wommsim.sweeps.aggregate import aggregate

    source, _ = joblib_sweep
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(sweep_dir_of(source), sweep_dir)
    manifest = json.loads((sweep_dir / "0" / "manifest.json").read_text())
    del manifest["checksums"]  # as an older wommsim wrote it
    (sweep_dir / "0" / "manifest.json").write_text(json.dumps(manifest))
    job = aggregate(sweep_dir, figures=False).jobs[0]
    assert (job.status, job.complete) == ("incomplete", False)
    assert "no checksums" in job.reason


def test_aggregate_refuses_a_damaged_multirun_yaml_in_one_line(joblib_sweep, tmp_path,
                                                               capsys):
    source, _ = joblib_sweep
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(sweep_dir_of(source), sweep_dir)
    (sweep_dir / "multirun.yaml").write_text("hydra:\n  sweeper: [unclosed\n")
    assert aggregate_main([str(sweep_dir), "--no-figures"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{sweep_dir / 'multirun.yaml'}: cannot be read" in err


def test_aggregate_removes_what_killed_aggregates_left(joblib_sweep, tmp_path):
    from wommsim.sweeps.aggregate import aggregate

    source, _ = joblib_sweep
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(sweep_dir_of(source), sweep_dir)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    living = str(os.getppid())  # a process that is still running: its folders stay
    for name in (f".aggregate.old-{gone}", f".aggregate.partial-{gone}",
                 f".aggregate.old-{living}"):
        shutil.copytree(sweep_dir / "aggregate", sweep_dir / name)
    aggregate(sweep_dir, figures=False)
    assert sorted(p.name for p in sweep_dir.glob(".aggregate*")) == [
        f".aggregate.old-{living}"]
    assert (sweep_dir / "aggregate" / "runs.csv").is_file()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_an_interrupted_aggregate_leaves_the_previous_one(joblib_sweep, tmp_path, sig):
    source, _ = joblib_sweep
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(sweep_dir_of(source), sweep_dir)
    before = {p.relative_to(sweep_dir): p.read_bytes()
              for p in (sweep_dir / "aggregate").rglob("*") if p.is_file()}
    proc, stderr = run_blocked(tmp_path, "wommsim.aggregate", "to_parquet",
                               ".aggregate.partial-", str(sweep_dir), "--no-figures", sig=sig)
    assert proc.returncode == 128 + sig
    assert_one_line_message(stderr, f"interrupted by {sig.name}",
                            f"{sweep_dir / 'aggregate'} is as it was", tool="wommsim.aggregate")
    after = {p.relative_to(sweep_dir): p.read_bytes()
             for p in (sweep_dir / "aggregate").rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in sweep_dir.glob(".aggregate*")] == []


def test_aggregate_refuses_a_directory_that_is_not_a_sweep(tmp_path, capsys):
    assert aggregate_main([str(tmp_path)]) == 2
    assert "not a sweep directory" in capsys.readouterr().err
    assert aggregate_main([str(tmp_path / "nowhere")]) == 2


def test_the_sweep_directory_depends_on_what_is_computed_only():
    base = sweep_name(["+experiment=ads_vs_wom", "consumer.ad_blind_fraction=0.5,0.9"])
    assert base.startswith("ads_vs_wom/ad_blind_fraction-")
    # The launcher and the number of processes do not change the results: same directory.
    assert sweep_name(["hydra/launcher=joblib", "+experiment=ads_vs_wom", "workers=2",
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


# -- processes: a killed sweep, a killed worker ------------------------------------------------

#: With 20,000 consumers, a job computes for minutes, so that it is killed mid-way.
LONG = ("steps=300", "replicates=4", "agents=off")


def holding(pids: list[int], path: Path) -> list[int]:
    """The processes among ``pids`` that have ``path`` open."""
    found = []
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        if any(_readlink(fd) == str(path) for fd in fds):
            found.append(pid)
    return found


def _readlink(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:
        return ""


@pytest.mark.parametrize("launcher,begun", [
    ("basic", 1),  # jobs one after another, each on the runner's own pool
    ("joblib", 2),
    pytest.param("submitit_local", 2, marks=pytest.mark.slow),  # a controller per job
])
def test_a_killed_sweep_leaves_no_process_computing(tmp_path, launcher, begun):
    sweep_dir = tmp_path / "sweep"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wommsim", "-m", f"hydra/launcher={launcher}", *LONG,
         "consumers=20000", "seed=1,2", f"hydra.sweep.dir={sweep_dir}"], cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifests = [sweep_dir / str(n) / "manifest.json" for n in range(begun)]
    try:  # every job that runs at once is simulating, and its processes are there
        wait_for(lambda: all(m.is_file() for m in manifests)
                 and len([p for p in descendants(proc.pid) if "spawn" in cmdline(p)
                          or "loky" in cmdline(p) or "submitit" in cmdline(p)]) >= 2,
                 "the jobs to begin simulating", proc)
        workers = descendants(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30  # they die with the sweep (PDEATHSIG, pidfd)
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not [cmdline(pid) for pid in workers if alive(pid)]
    for manifest in manifests:  # and wrote no results after the sweep was gone
        assert json.loads(manifest.read_text())["completed"] is False


@pytest.mark.slow  # a sweep's start, two jobs and its aggregate: about 20 s on 2 busy cores
def test_a_killed_worker_ends_the_sweep_with_the_aggregate_of_what_finished(tmp_path):
    sweep_dir = tmp_path / "sweep"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wommsim", "-m", "hydra/launcher=joblib", *LONG,
         "consumers=100,20000", NO_FIGURES, f"hydra.sweep.dir={sweep_dir}"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = sweep_dir / "1" / "__main__.log"
    try:  # job 0 (100 consumers) is done, job 1 is simulating: kill job 1's worker
        wait_for(lambda: (sweep_dir / "0" / "manifest.json").is_file()
                 and json.loads((sweep_dir / "0" / "manifest.json").read_text())["completed"]
                 and (sweep_dir / "1" / "manifest.json").is_file()
                 and holding(descendants(proc.pid), log), "job 1 to be simulating", proc)
        (worker,) = holding(descendants(proc.pid), log)
        os.kill(worker, signal.SIGKILL)  # as the out-of-memory killer does
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert_one_line_message(err, "the sweep stopped", "killed by signal 9 (SIGKILL)",
                            "1 job(s) lost", str(sweep_dir / "aggregate"))
    assert "Traceback" not in out
    missing = pd.read_csv(sweep_dir / "aggregate" / "missing.csv")
    assert missing["job"].tolist() == [1] and missing["status"].tolist() == ["failed"]
    assert missing["reason"].iloc[0].startswith("lost: a worker process was killed by "
                                                "signal 9 (SIGKILL)")
    assert pd.read_csv(sweep_dir / "aggregate" / "runs.csv")["job"].unique().tolist() == [0]


def test_aggregate_takes_figures_false_as_no_figures(tmp_path, monkeypatch, capsys):
    # One name per concept: figures=false is the sweep callback's key (--no-figures stays).
    from wommsim.sweeps import aggregate

    seen = []

    class Result:
        missing = ()

        def describe(self):
            return []

    monkeypatch.setattr(aggregate, "aggregate",
                        lambda sweep_dir, figures: seen.append(figures) or Result())
    for args, figures in (([], True), (["figures=false"], False), (["figures=true"], True),
                          (["--no-figures"], False)):
        assert aggregate_main([str(tmp_path), *args]) == 0
        assert seen.pop() is figures, args
    assert aggregate_main([str(tmp_path), "figures=maybe"]) == 2
    err = capsys.readouterr().err
    assert err == "wommsim.aggregate: error: 'figures=maybe': expected figures=true or " \
                  "figures=false\n"
    assert not seen
