"""Faults: a run stopped by a signal, or unable to write, never leaves results that look
complete, says so in one line, and exits non-zero; a re-run then completes.

Each signal test waits for an observable state (a log line, a marker file written by a
blocking stand-in for a writer) before signalling: no sleeps stand in for timing.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import small_config
from tests.helpers.processes import (
    WAIT_S,
    alive,
    assert_one_line_message,
    blocking_patch,
    blocking_writer,
    children,
    cmdline,
    default_signals,
    run_blocked,
    signal_when,
    wait_for,
    wommsim,
)
from wommsim.runs import faults, results, rundir, runner

RESULTS = results.RESULT_FILES
PARTIAL = re.compile(r"^\..+\.partial-\d+$")








def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def assert_nothing_looks_complete(out: Path, partials_allowed: bool = False) -> None:
    assert manifest(out)["completed"] is False
    for name in RESULTS:
        assert not (out / name).exists(), name
    leftovers = [p.name for p in out.iterdir() if p.name not in
                 ("manifest.json", ".hydra", "__main__.log", "-c.log")]
    if partials_allowed:  # SIGKILL: temporaries may stay, but only under a partial name,
        # and the dead run's lock file, which the next run takes over
        assert all(PARTIAL.match(name) or name == rundir.LOCK_FILE for name in leftovers), \
            leftovers
    else:
        assert leftovers == [], leftovers




# -- a signal while simulating ----------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=lambda s: s.name)
def test_signal_while_simulating(tmp_path, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wommsim", "consumers=5000", "agents=off", "replicates=60",
         "workers=2", f"hydra.run.dir={out}"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=default_signals)
    log = out / "__main__.log"
    stderr, workers = signal_when(proc, lambda: log.is_file() and "runs done" in log.read_text(),
                                  "the first progress line", sig,
                                  before=lambda: children(proc.pid))
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert_nothing_looks_complete(out, partials_allowed=True)
    else:
        assert proc.returncode == 128 + sig
        assert_one_line_message(stderr, f"interrupted by {sig.name}", str(out),
                                "completed: false")
        assert_nothing_looks_complete(out)
    deadline = time.monotonic() + 30  # workers die with the run (PDEATHSIG / terminate)
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(alive(pid) for pid in workers)


# -- a signal while writing results -----------------------------------------------------------





#: The patch alone: blocked while writing ``summary.csv``, with the time series written.
BLOCK_SUMMARY_CSV = blocking_patch("to_csv", ".summary.csv.partial-")
#: The CLI blocked while writing ``summary.csv``.
BLOCKING_WRITER = blocking_writer("wommsim", "to_csv", ".summary.csv.partial-")

SMALL_RUN = ("consumers=300", "steps=5", "replicates=2", "workers=1")


def run_blocked_in_writing(tmp_path: Path, out: Path, sig: signal.Signals):
    marker = tmp_path / "writing"
    proc = subprocess.Popen(
        [sys.executable, "-c", BLOCKING_WRITER, *SMALL_RUN, f"hydra.run.dir={out}"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "WOMMSIM_TEST_MARKER": str(marker)}, preexec_fn=default_signals)
    def staged_with_timeseries() -> bool:
        staged = [p for p in out.iterdir() if p.name.startswith(".results.partial-")]
        return len(staged) == 1 and (staged[0] / "timeseries.parquet").is_file()

    stderr, staged = signal_when(proc, marker.exists, "the run to block while writing "
                                 "summary.csv", sig, before=staged_with_timeseries)
    assert staged  # the time series was written (staged) when the signal came
    return proc, stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_interrupt_while_writing_removes_every_result(tmp_path, sig):
    out = tmp_path / "run"
    proc, stderr = run_blocked_in_writing(tmp_path, out, sig)
    assert proc.returncode == 128 + sig
    assert_one_line_message(stderr, f"interrupted by {sig.name}")
    assert_nothing_looks_complete(out)


def test_sigkill_while_writing_leaves_only_partial_files_and_a_rerun_completes(tmp_path):
    out = tmp_path / "run"
    proc, _ = run_blocked_in_writing(tmp_path, out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert_nothing_looks_complete(out, partials_allowed=True)
    assert any(p.name.startswith(".results.partial-") for p in out.iterdir())

    rerun = subprocess.run([sys.executable, "-m", "wommsim", *SMALL_RUN,
                            f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert manifest(out)["completed"] is True
    for name in RESULTS:
        assert (out / name).exists(), name
    assert not [p.name for p in out.iterdir() if PARTIAL.match(p.name)]


# -- cannot write ---------------------------------------------------------------------------

def test_output_folder_under_a_file_fails_clearly(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    proc = subprocess.run([sys.executable, "-m", "wommsim", *SMALL_RUN,
                           f"hydra.run.dir={blocker}/run"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == faults.EXIT_OS_ERROR
    assert_one_line_message(proc.stderr, str(blocker), "Not a directory")
    assert blocker.read_text() == "not a folder\n"


def test_an_unwritable_manifest_fails_clearly(tmp_path):
    # The results folder exists, but manifest.json cannot be put in place (a folder is in
    # the way): the run's first write fails with an OSError, as a full disk would. (Without
    # overwrite=true the run refuses the folder: its manifest.json is not a wommsim run's.)
    out = tmp_path / "run"
    (out / "manifest.json" / "in-the-way").mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "wommsim", *SMALL_RUN, "overwrite=true",
                           f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == faults.EXIT_OS_ERROR
    assert_one_line_message(proc.stderr, "manifest.json", "holds no results")
    for name in RESULTS:
        assert not (out / name).exists(), name
    assert not [p.name for p in out.iterdir() if PARTIAL.match(p.name)]


def test_disk_full_while_writing_leaves_the_run_incomplete(tmp_path, monkeypatch):
    def no_space(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1 half")  # a partial file, as a full disk leaves
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_space)
    out = tmp_path / "run"
    cfg = small_config("replicates=2", "workers=1", consumers=200, steps=4)
    with pytest.raises(OSError) as info:
        runner.run(cfg, out)
    assert info.value.errno == errno.ENOSPC
    assert manifest(out)["completed"] is False
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    message = faults.describe_os_error(info.value)
    assert "timeseries.parquet" in message and "the disk is full" in message


def test_disk_full_at_the_command_line(tmp_path):
    script = textwrap.dedent("""
        import errno, os, sys
        import pandas as pd

        def no_space(self, path, *args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        pd.DataFrame.to_parquet = no_space
        sys.argv = ["wommsim", *sys.argv[1:]]
        from wommsim.__main__ import main
        main()
    """)
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", script, *SMALL_RUN, f"hydra.run.dir={out}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == faults.EXIT_OS_ERROR
    assert_one_line_message(proc.stderr, "timeseries.parquet", "No space left on device",
                            "the disk is full")
    assert_nothing_looks_complete(out)


# -- the helpers, in process ----------------------------------------------------------------

def test_interruptible_takes_default_signals_for_the_block_only():
    # As in a joblib worker: SIGTERM at its default (death, mid-write), SIGINT handled by
    # someone else (submitit's handlers, say, stay theirs).
    def theirs(signum, frame):
        pass

    before = signal.signal(signal.SIGTERM, signal.SIG_DFL), signal.signal(signal.SIGINT, theirs)
    try:
        with pytest.raises(faults.Interrupted) as info, faults.interruptible():
            assert signal.getsignal(signal.SIGINT) is theirs
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal arrives first
        assert info.value.signum == signal.SIGTERM
        with faults.interruptible():
            pass
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is theirs
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])


def test_discard_keeps_an_earlier_complete_run(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"completed": True}))
    (tmp_path / "summary.csv").write_text("arm\nx\n")
    (tmp_path / ".summary.csv.partial-1").write_text("ar")
    removed = faults.discard_results(tmp_path)
    assert removed == [tmp_path / ".summary.csv.partial-1"]
    assert (tmp_path / "summary.csv").exists()
    (tmp_path / "manifest.json").write_text(json.dumps({"completed": False}))
    assert faults.discard_results(tmp_path) == [tmp_path / "summary.csv"]


# -- a worker process killed (as the out-of-memory killer does) ---------------------------------

def test_a_killed_worker_fails_the_run_in_one_line(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wommsim", "consumers=5000", "agents=off", "replicates=60",
         "workers=2", f"hydra.run.dir={out}"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    log = out / "__main__.log"

    def pool_workers() -> list[int]:
        return [pid for pid in children(proc.pid) if "spawn_main" in cmdline(pid)]

    try:
        wait_for(lambda: log.is_file() and "runs done" in log.read_text()
                 and len(pool_workers()) == 2, "the first progress line", proc)
        workers = pool_workers()
        os.kill(workers[0], signal.SIGKILL)  # as the out-of-memory killer does
        _, stderr = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == faults.EXIT_OS_ERROR
    assert_one_line_message(stderr, "a worker process was killed by signal 9 (SIGKILL)",
                            f"{out} holds no results")
    assert_nothing_looks_complete(out)
    assert not alive(workers[1])  # the other worker was stopped




# -- the other commands: calibrate, sensitivity, validate, aggregate ----------------------------

CALIBRATION_DATA = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / \
    "bass_example.csv"
TINY_CALIBRATION = (f"data={CALIBRATION_DATA}", "fit=decision.q:0.05:1", "decision=bass",
                    "network=complete", "strategy=none", "consumer.initial_adopted_fraction=0",
                    "wom.enabled=false", "agents=off", "workers=1", "consumers=200",
                    "replicates=1", "scan=2", "budget=4")


def unwritable(tmp_path: Path) -> list[tuple[Path, str]]:
    """Output folders that cannot be written, and the reason each gives."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    return [(Path("/proc/wommsim-test/out"), "No such file or directory"),  # a virtual FS
            (blocker / "out", "Not a directory")]


def test_calibrate_and_sensitivity_refuse_an_unwritable_out_before_computing(
        tmp_path, monkeypatch, capsys):
    from wommsim.studies import calibrate, sensitivity

    def never(*args, **kwargs):
        raise AssertionError("computed before checking the run folder")

    monkeypatch.setattr(calibrate, "calibrate", never)
    monkeypatch.setattr(sensitivity, "analyse", never)
    for out, reason in unwritable(tmp_path):
        for main, args in ((calibrate.main, TINY_CALIBRATION),
                           (sensitivity.main, ("consumers=200", "steps=4"))):
            assert main([*args, f"hydra.run.dir={out}"]) == faults.EXIT_OS_ERROR
            err = capsys.readouterr().err
            assert_one_line_message(err, "cannot write", reason,
                                    f"no results were written to {out}",
                                    tool=f"wommsim.{main.__module__.rsplit('.', 1)[-1]}")
            assert not out.exists()
    assert (tmp_path / "a-file").read_text() == "not a folder\n"


def test_validate_refuses_an_unwritable_out_before_any_case_runs(tmp_path, monkeypatch,
                                                                 capsys):
    from wommsim import validate
    from wommsim.validation.__main__ import main as validation
    from wommsim.validation.core import CASES, CaseSpec

    def never(ctx):
        raise AssertionError("a case ran before checking --out")

    monkeypatch.setitem(CASES, "fake", CaseSpec("fake", "corner", "t", "s", never))
    for out, reason in unwritable(tmp_path):
        for main, args in ((validation, ["cases=fake", f"out={out}"]),
                           (validate.main, ["--case", "fake", "--out", str(out)])):  # the shim
            assert main(args) == faults.EXIT_OS_ERROR
            err = capsys.readouterr().err
            assert_one_line_message(err, "cannot write", reason, str(out),
                                    tool="wommsim.validation")




def test_ctrl_c_while_calibrate_writes_leaves_out_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "fit.json").write_text('{"an": "earlier fit"}\n')
    proc, stderr = run_blocked(tmp_path, "wommsim.calibrate", "to_csv",
                               ".evaluations.csv.partial-", *TINY_CALIBRATION,
                               f"hydra.run.dir={out}")
    assert proc.returncode == 130
    assert_one_line_message(stderr, "interrupted by SIGINT",
                            f"no results were written to {out}", tool="wommsim.calibrate")
    assert sorted(p.name for p in out.iterdir()) == ["fit.json"]  # fit.csv was staged only
    assert (out / "fit.json").read_text() == '{"an": "earlier fit"}\n'


def test_sigterm_while_sensitivity_writes_removes_the_folder_it_made(tmp_path):
    out = tmp_path / "new" / "out"
    proc, stderr = run_blocked(tmp_path, "wommsim.sensitivity", "to_csv",
                               ".indices.csv.partial-", "consumers=200", "steps=4",
                               "replicates=1", "agents=off", "workers=1", "samples=2",
                               "params=wom.talk_prob:0.01:0.1", f"hydra.run.dir={out}",
                               sig=signal.SIGTERM)
    assert proc.returncode == 143
    assert_one_line_message(stderr, "interrupted by SIGTERM",
                            f"no results were written to {out}", tool="wommsim.sensitivity")
    assert not (tmp_path / "new").exists()  # made by the run, left empty: removed


# -- run folders: runs started together, a folder in use, someone else's files ---------------

TINY = ("+debug=tiny",)


def hydra_seed(out: Path) -> int:
    return yaml.safe_load((out / ".hydra" / "config.yaml").read_text())["seed"]


def test_runs_started_together_get_a_folder_each(tmp_path):
    # Started in the same second, runs used to share outputs/DATE/TIME: both said so, one's
    # results were lost, and .hydra/config.yaml could name the other run's seed.
    procs = {seed: subprocess.Popen([sys.executable, "-m", "wommsim", *TINY, f"seed={seed}"],
                                    cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
             for seed in (1, 2, 3)}
    for proc in procs.values():
        _, stderr = proc.communicate(timeout=WAIT_S)
        assert proc.returncode == 0, stderr
    folders = sorted(p.parent for p in tmp_path.glob("outputs/*/*/manifest.json"))
    assert len(folders) == 3, folders
    assert sorted(manifest(out)["seed"] for out in folders) == [1, 2, 3]
    for out in folders:
        assert manifest(out)["completed"] is True
        assert hydra_seed(out) == manifest(out)["seed"]
        assert not (out / rundir.LOCK_FILE).exists()


def contents(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_folder_in_use_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "run"
    first = wommsim(*TINY, "seed=1", f"hydra.run.dir={out}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = contents(out)
    # Another run holds the folder (this test process stands in for it).
    with open(out / rundir.LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        second = wommsim(*TINY, "seed=2", f"hydra.run.dir={out}", cwd=tmp_path)
        assert second.returncode == 2
        assert_one_line_message(second.stderr, str(out), f"pid {os.getpid()}", "in use")
        after = contents(out)
        assert after == {**before, out / rundir.LOCK_FILE: f"{os.getpid()}\n".encode()}
    # The lock file of a run that died (its lock is gone with it) is taken over.
    (out / rundir.LOCK_FILE).write_text(f"{dead_pid()}\n")
    third = wommsim(*TINY, "seed=2", f"hydra.run.dir={out}", cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert manifest(out)["seed"] == hydra_seed(out) == 2
    assert not (out / rundir.LOCK_FILE).exists()


def test_a_refused_run_leaves_the_folders_configuration_with_its_results(tmp_path):
    # Hydra writes .hydra/config.yaml before wommsim checks the values: a run refused for
    # bad input in a folder of earlier results used to leave its own configuration there.
    out = tmp_path / "run"
    first = wommsim(*TINY, "seed=1", f"hydra.run.dir={out}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = contents(out / ".hydra")
    refused = wommsim(*TINY, "seed=2", "consumers=0", f"hydra.run.dir={out}", cwd=tmp_path)
    assert refused.returncode == 2
    assert_one_line_message(refused.stderr, "consumers=0")
    assert contents(out / ".hydra") == before
    assert manifest(out)["seed"] == hydra_seed(out) == 1 and manifest(out)["completed"]


#: Patches for a run that ends before it writes anything: its first write fails (a full
#: disk), or Ctrl+C comes while it builds its networks.
ENDS_BEFORE_WRITING = {
    "full disk": ("import errno, os\n"
                  "def full(*args, **kwargs):\n"
                  "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), 'manifest.json')\n"
                  "runner.write_manifest = full\n", faults.EXIT_OS_ERROR),
    "ctrl+c": ("import os, signal\n"
               "runner.preflight = lambda arms: os.kill(os.getpid(), signal.SIGINT)\n",
               128 + signal.SIGINT),
}


@pytest.mark.parametrize("how", ENDS_BEFORE_WRITING)
def test_a_run_that_wrote_nothing_leaves_the_earlier_configuration(tmp_path, how):
    out = tmp_path / "run"
    first = wommsim(*TINY, "seed=1", f"hydra.run.dir={out}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = contents(out)
    patch, status = ENDS_BEFORE_WRITING[how]
    script = ("import sys\nfrom wommsim.runs import runner\n" + patch +
              "sys.argv = ['wommsim', *sys.argv[1:]]\n"
              "from wommsim.__main__ import main\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", script, *TINY, "seed=2",
                           f"hydra.run.dir={out}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=WAIT_S, check=False, preexec_fn=default_signals)
    assert proc.returncode == status, proc.stderr
    after = contents(out)
    log = out / "__main__.log"
    assert after.pop(log).startswith(before.pop(log))  # the log says what happened
    assert after == before  # the earlier results, with their own .hydra/config.yaml


def someone_elses_results(folder: Path) -> dict[Path, bytes]:
    (folder / "figures").mkdir(parents=True)
    (folder / "figures" / "mine.png").write_bytes(b"my figure")
    (folder / "report.md").write_text("# my report\n")
    (folder / "summary.csv").write_text("my,summary\n")
    (folder / "notes.txt").write_text("my notes\n")
    return contents(folder)


def test_a_folder_with_someone_elses_results_is_refused(tmp_path):
    mine = tmp_path / "myproject"
    files = someone_elses_results(mine)
    proc = wommsim(*TINY, "hydra.run.dir=.", cwd=mine)
    assert proc.returncode == 2
    assert_one_line_message(proc.stderr, str(mine), "report.md", "summary.csv", "figures",
                            "overwrite=true")
    assert sorted(mine.rglob("*")) == sorted({*files, mine / "figures"})  # nothing added
    assert contents(mine) == files

    overwritten = wommsim(*TINY, "hydra.run.dir=.", "overwrite=true", cwd=mine)
    assert overwritten.returncode == 0, overwritten.stderr
    assert manifest(mine)["completed"] is True
    assert (mine / "report.md").read_bytes() != files[mine / "report.md"]
    assert (mine / "notes.txt").read_bytes() == files[mine / "notes.txt"]


def test_the_runner_refuses_someone_elses_results_before_writing(tmp_path):
    files = someone_elses_results(tmp_path)
    with pytest.raises(rundir.ForeignFiles, match="overwrite=true"):
        runner.run(small_config("replicates=1", "workers=1", consumers=200, steps=3), tmp_path)
    assert contents(tmp_path) == files


def test_overwrite_and_workers_leave_the_config_hash_alone():
    plain = small_config(consumers=200, steps=3)
    assert results.config_hash(plain) == results.config_hash(
        small_config("overwrite=true", "workers=3", consumers=200, steps=3))


# -- a signal while a parallel sweep's jobs write ------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("target", ["main process", "process group"])
def test_sigterm_in_a_joblib_sweep_leaves_no_partial_folders(tmp_path, target):
    # joblib's workers run the jobs; blocked while writing summary.csv (the patch goes into
    # every Python process of the sweep through a sitecustomize module), each job has its
    # .results.partial-PID staging folder when the sweep is stopped.
    (tmp_path / "sitecustomize.py").write_text(BLOCK_SUMMARY_CSV)
    marker, sweep_dir = tmp_path / "writing", tmp_path / "sweep"
    env = {**os.environ, "WOMMSIM_TEST_MARKER": str(marker),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wommsim", "-m", "hydra/launcher=joblib", *TINY, "seed=1,2",
         f"hydra.sweep.dir={sweep_dir}", "hydra.callbacks.sweep.figures=false"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_signals, start_new_session=True)
    try:
        wait_for(lambda: marker.exists() and any(sweep_dir.rglob(".results.partial-*")),
                 "a job to block while writing", proc)
        if target == "main process":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted by SIGTERM" in stderr and "Traceback" not in stderr, stderr
    assert not list(sweep_dir.rglob("*.partial-*"))
    for job in ("0", "1"):
        assert not (sweep_dir / job / "summary.csv").exists()
