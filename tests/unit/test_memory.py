"""The memory estimate: its parts, its calibration, what is available, and the refusal."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.helpers import small_config
from wommsim.config import ConfigError
from wommsim.network import build_network
from wommsim.rng import Streams
from wommsim.runs import memory, parallel, results, runner
from wommsim.state import BRAND, STATE_VARS, StateVar

MB = memory.MB


def test_state_bytes_follow_the_declared_state(monkeypatch):
    declared = sum(np.dtype(v.dtype).itemsize for v in STATE_VARS.values())
    assert memory.state_bytes_per_consumer() == declared
    cfg = small_config("agents=off", consumers=100_000)
    before = memory.market_bytes(cfg)[2]
    monkeypatch.setitem(STATE_VARS, "extra", StateVar(np.float64, 0.0, "a new variable"))
    assert memory.state_bytes_per_consumer() == declared + 8
    after = memory.market_bytes(cfg)[2]
    assert after >= before  # held state grows (the graph build may still set the peak)


@pytest.mark.parametrize("overrides,tolerance", [
    (("network=barabasi_albert", "network.m=3"), 0.0),
    (("network=watts_strogatz", "network.k=6"), 0.0),
    (("network=complete",), 0.0),
    (("network=erdos_renyi", "network.mean_degree=8"), 0.1),
    (("network=stochastic_block",), 0.1),
])
def test_expected_edges_match_the_built_networks(overrides, tolerance):
    cfg = small_config(*overrides, consumers=3000 if "network=complete" not in overrides
                       else 300)
    graph = build_network(cfg.network, cfg.consumers, Streams(cfg.seed, 0).network)
    expected = memory.stored_entries(cfg)
    assert abs(expected - graph.adjacency.nnz) <= tolerance * graph.adjacency.nnz + 1


def test_edgelist_size_counts_lines(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("a b\nb c\nc d")  # no final newline
    assert memory.edgelist_size(str(path)) == (3, 11)
    assert memory.edgelist_size(str(tmp_path / "missing.txt")) == (0, 0)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert memory.edgelist_size(str(fifo)) == (0, 0)  # not opened: that would block
    cfg = small_config("network=edgelist", f"network.path={path}")
    n, entries, _ = memory.market_bytes(cfg)
    assert (n, entries) == (3, 6)



def test_reading_an_edge_list_with_a_long_label_stays_within_the_estimate(tmp_path):
    # Labels were once padded to the longest in a fixed-width array: one 200,000-character
    # label among 50 lines took 80 MB against an estimate of 2 MB. Reading is linear in
    # the file now, so the estimate (linear in lines and characters) covers it.
    import tracemalloc

    from wommsim.network import read_edgelist

    path = tmp_path / "edges.txt"
    long = "x" * 200_000
    path.write_text(f"{long} a\n" + "".join(f"a n{i}\n" for i in range(49)))
    cfg = small_config("network=edgelist", f"network.path={path}")
    tracemalloc.start()
    try:
        graph = read_edgelist(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert graph.n == 51 and graph.labels[0] == long
    assert peak <= memory.market_bytes(cfg)[2], (peak / MB, memory.market_bytes(cfg)[2] / MB)

def test_estimate_counts_every_brand_of_the_market():
    # Barabási–Albert m=1: few edges, so the held state, not the graph build, sets the peak.
    one = small_config("agents=off", "network.m=1", consumers=1_000_000)
    two = small_config("agents=off", "network.m=1", "market=duel", consumers=1_000_000)
    per_brand = memory.state_bytes_per_consumer(2) - memory.state_bytes_per_consumer(1)
    assert per_brand == sum(np.dtype(v.dtype).itemsize for v in STATE_VARS.values()
                            if v.axes == BRAND) > 0
    grown = memory.market_bytes(two)[2] - memory.market_bytes(one)[2]
    assert grown == 1_000_000 * (per_brand + memory.MODEL_BYTES_PER_BRAND)
    # brands.parquet: one row per brand a step, beside the per-step table's
    alone, duel = memory.estimate([one], workers=1), memory.estimate([two], workers=1)
    assert duel.results == alone.results * 3 // 2 and duel.rows == alone.rows


def test_estimate_counts_the_purchase_log():
    plain = small_config("agents=off", "market=duel", "replicates=3", consumers=1_000_000,
                         steps=52)
    durable = small_config("agents=off", "market=duel", "replicates=3", "transactions=true",
                           consumers=1_000_000, steps=52)
    repeat = small_config("agents=off", "market=duel", "replicates=3", "transactions=true",
                          "market.category=repeat", "market.interpurchase_steps=4",
                          consumers=1_000_000, steps=52)
    assert memory.logged_purchases(plain) == 0
    assert memory.logged_purchases(durable) == 1_000_000  # one purchase a consumer, any brand
    assert memory.logged_purchases(repeat) == 1_000_000 * 52 // 4  # purchase occasions
    before = memory.estimate([plain], workers=1)
    for cfg in (durable, repeat):
        need = memory.estimate([cfg], workers=1)
        purchases = memory.logged_purchases(cfg)
        assert need.purchases == purchases
        assert need.log == 3 * purchases * memory.RESULT_LOG_BYTES_PER_PURCHASE
        assert need.market >= max(before.market, purchases * memory.LOG_BYTES_PER_PURCHASE)
        assert need.total >= before.total + need.log
    # The log comes on top of the held market, not of the graph build's temporaries (which
    # set the peak of the durable market here): 13M purchases raise the market's peak.
    need = memory.estimate([repeat], workers=1)
    assert need.market >= before.market + need.market_log // 2
    assert need.total > memory.estimate([durable], workers=1).total


@pytest.mark.parametrize("category,key,way_out", [
    ("repeat", "transactions=true, steps=5200", "transactions=false, fewer steps"),
    ("durable", "transactions=true", "transactions=false, fewer consumers"),
])
def test_a_purchase_log_that_cannot_fit_is_refused_naming_it(monkeypatch, category, key,
                                                             way_out):
    # The run fits in 2 GB; its purchase log, over 5,200 weekly steps (repeat) or 10
    # replicates of 2,000,000 consumers (durable), does not.
    monkeypatch.setattr(memory, "available_bytes", lambda: (2 * memory.GB, "a test's limit"))
    repeat = category == "repeat"
    common = ("agents=off", "market=duel", f"market.category={category}", "workers=1",
              "replicates=1" if repeat else "replicates=10")
    size = {"consumers": 200_000 if repeat else 2_000_000, "steps": 5200 if repeat else 52}
    memory.check_memory([small_config(*common, **size)], workers=1)
    cfg = small_config(*common, "transactions=true", **size)
    with pytest.raises(ConfigError) as info:
        memory.check_memory([cfg], workers=1)
    message = str(info.value)
    assert message.startswith(f"{key}: this run needs about"), message
    assert "purchase log" in message and way_out in message, message
    assert "force_memory=true" in message, message


def test_estimate_grows_with_consumers_jobs_and_agents():
    small = memory.estimate([small_config("agents=off", consumers=100_000)], workers=1)
    large = memory.estimate([small_config("agents=off", consumers=1_000_000)], workers=1)
    assert 9 < large.market / small.market < 11
    two = memory.estimate([small_config("agents=off", consumers=1_000_000)], workers=2)
    assert two.total - large.total >= large.market + memory.INTERPRETER_BYTES
    agents = memory.estimate([small_config("agents=on", consumers=100_000)], workers=1)
    assert agents.market > small.market + 100_000 * memory.AGENT_BYTES_PER_CONSUMER * 0.99


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_estimate_covers_a_measured_run():
    # Peak resident memory of building a 1,000,000-consumer market and stepping it, over
    # the interpreter's resident memory (in a fresh process): the estimate must cover it
    # without being far above (within 35%). The peak is VmHWM: ru_maxrss survives exec, so
    # a child of a large pytest process would report the parent's size.
    code = textwrap.dedent("""
        import json, os
        from wommsim.compose import compose
        from wommsim.model import WommModel
        import pandas  # noqa: F401 (imported before the baseline, as in a run)
        def rss():  # this process image's peak: ru_maxrss would keep the forking parent's
            with open("/proc/self/status") as status:
                line = next(x for x in status if x.startswith("VmHWM:"))
            return int(line.split()[1]) * 1024
        cfg = compose(["consumers=1000000", "agents=off", "steps=3"])
        with open("/proc/self/statm") as statm:  # resident now (the peak may be higher)
            base = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        model = WommModel(cfg)
        for _ in range(cfg.steps):
            model.step()
        model.timeseries()
        print(json.dumps({"base": base, "peak": rss()}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=True)
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    market = measured["peak"] - measured["base"]
    estimate = memory.market_bytes(small_config("agents=off", consumers=1_000_000,
                                                steps=3))[2]
    assert market <= estimate <= 1.35 * market, (measured, market / MB, estimate / MB)
    assert measured["base"] <= memory.INTERPRETER_BYTES


def test_available_memory_from_meminfo_and_cgroups(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:    8000000 kB\n")
    self_cgroup = tmp_path / "self-cgroup"
    root = tmp_path / "cgroup"
    job = root / "user.slice" / "job"
    job.mkdir(parents=True)
    self_cgroup.write_text("0::/user.slice/job\n")
    (job / "memory.max").write_text("max\n")
    (job / "memory.current").write_text(str(100 * MB))
    have, source = memory.available_bytes(meminfo, root, self_cgroup)
    assert have == 8_000_000 * 1024 and "MemAvailable" in source  # no limit: meminfo
    (root / "user.slice" / "memory.max").write_text(str(2048 * MB))  # a parent's limit
    (root / "user.slice" / "memory.current").write_text(str(512 * MB))
    have, source = memory.available_bytes(meminfo, root, self_cgroup)
    assert have == 1536 * MB and "cgroup" in source
    self_cgroup.write_text("4:memory:/docker/abc\n")  # cgroup v1
    v1 = root / "memory" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text(str(1024 * MB))
    (v1 / "memory.usage_in_bytes").write_text(str(1000 * MB))
    assert memory.available_bytes(meminfo, root, self_cgroup)[0] == 24 * MB
    missing = tmp_path / "nothing"
    have, _ = memory.available_bytes(missing, missing, missing)
    assert have is None or have > 0  # sysconf where the OS has it, else unknown


def test_refusal_names_the_estimate_the_available_memory_and_the_override(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: (300 * MB, "a test's limit"))
    cfg = small_config("agents=off", "workers=2", consumers=1_000_000)
    with pytest.raises(ConfigError) as info:
        memory.check_memory([cfg], workers=2)
    message = str(info.value)
    for fragment in ("consumers=1000000", "300 MB", "a test's limit", "workers=2", "workers=1",
                     "force_memory=true", "barabasi_albert"):
        assert fragment in message, message
    need = memory.estimate([cfg], workers=2)
    assert f"{need.total / memory.GB:.1f} GB" in message



@pytest.mark.parametrize("overrides,key,way_out", [
    (("steps=100000", "replicates=50"), "steps=100000, replicates=50", "fewer steps or replicates"),
    (("workers=400", "replicates=400"), "workers=400", "fewer workers"),
])
def test_refusal_names_the_key_that_drives_the_estimate(monkeypatch, overrides, key, way_out):
    # A tiny market whose results table (steps x replicates) or interpreters (jobs) set the
    # estimate: the message blames those keys, not consumers.
    monkeypatch.setattr(memory, "available_bytes", lambda: (300 * MB, "a test's limit"))
    cfg = small_config("agents=off", *overrides, consumers=100)
    with pytest.raises(ConfigError) as info:
        memory.check_memory([cfg], workers=parallel.worker_count(cfg.workers, cfg.replicates))
    message = str(info.value)
    assert message.startswith(f"{key}: this run needs about"), message
    assert way_out in message and "force_memory=true" in message, message


def test_calibrate_sensitivity_and_validation_check_memory(monkeypatch, tmp_path, capsys):
    # Every command that builds markets refuses, in one line and before building any,
    # a run that will not fit.
    from pathlib import Path

    from wommsim.studies import calibrate, sensitivity
    from wommsim.validation import __main__ as validation

    monkeypatch.setattr(memory, "available_bytes", lambda: (1 * MB, "a test's limit"))
    data = Path(__file__).resolve().parents[2] / "experiments" / "calibration" / \
        "bass_example.csv"
    tiny = ["consumers=200", "replicates=1", "agents=off", "workers=1"]
    commands = {
        "calibrate": lambda out: calibrate.main([f"data={data}", "fit=decision.p:0.001:0.1",
                                                 *tiny, "scan=2", "budget=4",
                                                 f"hydra.run.dir={out}"]),
        "sensitivity": lambda out: sensitivity.main([*tiny, "steps=4", "samples=2",
                                                     "params=wom.talk_prob:0.01:0.1",
                                                     f"hydra.run.dir={out}"]),
        "validation": lambda out: validation.main(["quick=true", "cases=bass_discrete",
                                                   "workers=1", f"out={out}"]),
    }
    for name, command in commands.items():
        out = tmp_path / name
        assert command(out) == 2, name
        err = capsys.readouterr().err
        assert err.startswith(f"wommsim.{name}: error: ") and err.count("\n") == 1, err
        assert "force_memory=true" in err and "a test's limit" in err, err
        assert not list(out.rglob("*.csv")) and not list(out.rglob("*.md")), name

def test_force_memory_runs_anyway_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(memory, "available_bytes", lambda: (1 * MB, "a test's limit"))
    cfg = small_config("force_memory=true", consumers=500)
    with caplog.at_level(logging.WARNING, logger="wommsim.runs.memory"):
        memory.check_memory([cfg], workers=1)
    assert "force_memory=true" in caplog.text


def test_unknown_available_memory_is_not_a_refusal(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: (None, "unknown"))
    memory.check_memory([small_config(consumers=500)], workers=1)


def test_runner_refuses_before_writing_anything(monkeypatch, tmp_path):
    monkeypatch.setattr(memory, "available_bytes", lambda: (1 * MB, "a test's limit"))
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="force_memory"):
        runner.run(small_config("replicates=1", consumers=500, steps=2), out)
    assert not out.exists()


def test_ui_model_uses_the_same_check(monkeypatch):
    from wommsim.ui.models import UiModel

    monkeypatch.setattr(memory, "available_bytes", lambda: (1 * MB, "a test's limit"))
    with pytest.raises(ConfigError, match="force_memory"):
        UiModel(consumers=400, seed=77)


def test_command_line_refuses_a_market_that_cannot_fit(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "wommsim", "consumers=2000000000",
                           "replicates=1", f"hydra.run.dir={out}"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2
    assert "consumers=2000000000" in proc.stderr and "force_memory=true" in proc.stderr
    assert "Traceback" not in proc.stderr
    for name in (*results.RESULT_FILES, "manifest.json"):
        assert not (out / name).exists(), name
