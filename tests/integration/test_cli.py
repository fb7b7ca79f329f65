"""The command line, run as a user runs it: ``python -m wommsim [overrides]``."""

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

from tests.helpers import CONTRACT_COLUMNS
from tests.helpers.processes import ROOT, alive, children, wommsim

RESULTS = ("timeseries.parquet", "timeseries.csv", "summary.csv", "manifest.json")




def test_one_arm_run_writes_every_result(tmp_path):
    out = tmp_path / "run"
    proc = wommsim("consumers=300", "steps=6", "replicates=2", "strategy=ad_heavy",
                   f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in RESULTS:
        assert (out / name).is_file(), name
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert set(CONTRACT_COLUMNS) <= set(ts.columns)
    assert len(ts) == 2 * 7 and set(ts["arm"]) == {"ad_heavy"}
    pd.testing.assert_frame_equal(ts, pd.read_csv(out / "timeseries.csv"), check_dtype=False)
    summary = pd.read_csv(out / "summary.csv")
    assert summary["arm"].tolist() == ["ad_heavy"]
    assert summary["final_adoption_mean"].iloc[0] == pytest.approx(
        ts[ts["step"] == 6]["adopted_fraction"].mean())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["completed"] is True and manifest["seeds"] == [[42, 0], [42, 1]]
    assert manifest["wall_time_s"] > 0 and len(manifest["config_hash"]) == 64
    assert manifest["command"] == ["python", "-m", "wommsim", "consumers=300", "steps=6",
                                   "replicates=2", "strategy=ad_heavy", f"hydra.run.dir={out}"]
    assert not list(out.glob(".*partial*"))


def malformed_edgelist(tmp_path: Path) -> str:
    path = tmp_path / "edges.txt"
    path.write_text("# a comment\n1 2\n2 3\nonly-one-label\n3 4\n")
    return str(path)


@pytest.mark.parametrize("args,fragments", [
    (["consumers=0"], ["consumers=0"]),
    (["consumer.ad_blind_fraction=1.5"], ["consumer.ad_blind_fraction=1.5"]),
    (["brand.budget_per_consumer=-0.01"], ["brand.budget_per_consumer=-0.01"]),
    (["wom.talk_prob=-0.1"], ["wom.talk_prob=-0.1"]),
    (["brand.quality=2"], ["brand.quality=2"]),
    (["strategy=telepathy"], ["strategy/telepathy"]),
    (["network=edgelist", "network.path=/no/such/edges.txt"],
     ["network.path", "/no/such/edges.txt"]),
    (["network=edgelist", "network.path={malformed}"], ["edges.txt", "line 4"]),
    (["brand.budget_per_consumer=1e8", "advertising.cost_per_impression=1e-9"],  # 1e20 a step
     ["brand.budget_per_consumer", "advertising.cost_per_impression"]),
    (["+foo=1"], ["Key 'foo' not in 'Config'"]),  # Hydra's own "Error executing job" line too
    (["jobs=2"], ["jobs=: this key is now called workers (workers=2)"]),  # renamed
    # replaced by a per-consumer key: the line says how to convert
    (["brand.budget=1000"], ["error: brand.budget is now brand.budget_per_consumer (money per "
                             "consumer per week): 1000 a week at 10,000 consumers is 0.1"]),
    (["market=duel", "market.brands.b.budget=2000"],
     ["market.brands.b.budget is now market.brands.b.budget_per_consumer (money per consumer "
      "per week)"]),
    (["reviews.credibility_count=10"],
     ["reviews.credibility_count is now reviews.credibility_per_consumer (reviews per "
      "consumer): 20 reviews at 10,000 consumers is 0.002"]),
])
def test_bad_input_fails_clearly_and_writes_no_results(tmp_path, args, fragments):
    out = tmp_path / "run"
    args = [a.format(malformed=malformed_edgelist(tmp_path)) for a in args]
    proc = wommsim("steps=3", "replicates=1", *args, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # one line
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr
    for name in RESULTS:
        assert not (out / name).exists(), name


def test_an_integer_too_long_to_read_fails_clearly(tmp_path):
    # Python reads at most 4300 digits; Hydra's override parser raised its ValueError.
    out = tmp_path / "run"
    proc = wommsim("seed=" + "9" * 5001, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wommsim: error: seed=999"), proc.stderr
    assert "5001 digits" in lines[0] and len(lines[0]) < 200
    assert not out.exists()


def test_edgelist_network_runs(tmp_path):
    edges = tmp_path / "edges.csv"
    edges.write_text("# source,target,weight\n" + "".join(
        f"u{i},u{(i * 7 + 3) % 60},1.0\n" for i in range(60)))
    out = tmp_path / "run"
    proc = wommsim("network=edgelist", f"network.path={edges}", "steps=4", "replicates=1",
                   f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(out / "timeseries.csv")) == 5
    # The file's 60 labels are the population, not the configured consumers=10000.
    assert "| consumers | 60 |" in (out / "report.md").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["consumers"] == {"conversation_led": 60}


def test_a_killed_run_leaves_nothing_that_looks_complete(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wommsim", "consumers=20000", "agents=off", "replicates=200",
         "workers=2", f"hydra.run.dir={out}"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not workers and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = children(proc.pid)
        time.sleep(2.0)  # the workers are simulating
        workers = children(proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["completed"] is False
    for name in RESULTS[:3]:
        assert not (out / name).exists(), name
    # The worker processes die with the run instead of computing on as orphans.
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers and not any(alive(pid) for pid in workers)








def test_non_editable_install_finds_its_configs(tmp_path):
    # Build from a copy so the build leaves nothing behind in the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "outputs", "multirun", "*.egg-info", ".*cache", ".hypothesis"))
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)], capture_output=True, text=True, timeout=300,
        check=False)
    assert build.returncode == 0, build.stderr
    assert (target / "wommsim" / "configs" / "strategy" / "ad_heavy.yaml").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([sys.executable, "-c", "import wommsim.compose as c; "
                            "print(c.configs_dir())"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(target))
    out = tmp_path / "run"
    proc = wommsim("consumers=200", "steps=3", "replicates=1", "strategy=balanced",
                   f"hydra.run.dir={out}", cwd=elsewhere, env=env)
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(out / "summary.csv")["arm"].tolist() == ["balanced"]


WEB_SERVER = ("solara", "starlette", "uvicorn", "ipyvue", "ipyvuetify", "altair")


def test_the_core_install_has_no_web_server():
    from importlib.metadata import requires

    core = [r for r in requires("wommsim") if "extra ==" not in r]
    assert core and not [r for r in core if r.split()[0].lower().startswith(WEB_SERVER)]
    ui = [r for r in requires("wommsim") if 'extra == "ui"' in r]
    assert any(r.startswith("solara") for r in ui)
    # Every module but the UI's imports with the UI stack missing.
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in WEB_SERVER)
    code = (f"import sys, importlib, pkgutil, wommsim; {blocked}\n"
            "names = [m.name for m in pkgutil.walk_packages(wommsim.__path__, 'wommsim.')\n"
            "         if not m.name.startswith('wommsim.ui')]\n"
            "for name in names: importlib.import_module(name)\n"
            "print(len(names))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) > 40  # the model, mechanisms, network, runs, reporting, ...
