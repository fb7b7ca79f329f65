"""Invalid input, generated: every bad value of every parameter, unknown keys, malformed
experiments and edge lists are refused with a message naming the key (or the file and line)
and the value; at the command line with exit status 2 and no result files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.helpers import unfrozen_copy
from wommsim.compose import compose
from wommsim.config import ArmPhase, Config, ConfigError, iter_params
from wommsim.experiment import resolve_arms
from wommsim.network import NetworkError, read_edgelist
from wommsim.runs.results import RESULT_FILES

PARAMS = [(key, f, value) for key, f, value in iter_params(Config())]
NUMERIC = [(key, f) for key, f, value in PARAMS
           if f.type in ("int", "float") and f.metadata.get("lo") is not None]
FLOATS = [(key, f) for key, f in NUMERIC if f.type == "float"]
INTS = [(key, f) for key, f in NUMERIC if f.type == "int"]
BOOLS = [key for key, f, _ in PARAMS if f.type == "bool"]
CHOICES = [(key, f) for key, f, _ in PARAMS if f.metadata.get("choices")]
SECTIONS = sorted({key.split(".")[0] for key, _, _ in PARAMS if "." in key})
SLOW = settings(max_examples=15, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _float_text(x: float) -> str:
    return repr(float(x))


@st.composite
def out_of_range(draw) -> tuple[str, str]:
    """``(key, value text)``: a number below a parameter's lower or above its upper bound."""
    key, f = draw(st.sampled_from(NUMERIC))
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    if f.type == "int":
        value = draw(st.one_of(st.integers(-(2**40), int(lo) - 1),
                               st.integers(int(hi) + 1, int(hi) + 2**40)))
        return key, str(value)
    below = st.floats(max_value=lo, exclude_max=True, min_value=-1e300)
    above = st.floats(min_value=hi, exclude_min=True, max_value=1e300)
    return key, _float_text(draw(st.one_of(below, above)))


@st.composite
def wrong_type(draw) -> tuple[str, str]:
    """``(key, value text)``: a value of the wrong type, or not finite, or not a choice."""
    kind = draw(st.sampled_from(["int", "float", "bool", "choice", "structured"]))
    if kind == "int":
        key, _ = draw(st.sampled_from(INTS))
        value = draw(st.sampled_from(["abc", "1.5", "true", "nan", "inf", "-inf", "2e3x"]))
    elif kind == "float":
        key, _ = draw(st.sampled_from(FLOATS))
        value = draw(st.sampled_from(["abc", "nan", "inf", "-inf", "'1,5'", "0x"]))
    elif kind == "bool":
        key = draw(st.sampled_from(BOOLS))
        value = draw(st.sampled_from(["3", "0", "1", "abc", "0.5", "yes", "nan"]))
    elif kind == "choice":
        key, f = draw(st.sampled_from(CHOICES))
        value = draw(st.text(st.characters(categories=("Ll", "Nd"), include_characters="_"),
                             min_size=1, max_size=12))
        assume(value not in f.metadata["choices"] and value not in ("true", "false", "null",
                                                                      "nan", "inf"))
    else:
        key, _ = draw(st.sampled_from(NUMERIC))
        value = draw(st.sampled_from(["[1,2]", "{a:1}", "[]"]))
    return key, value


@st.composite
def unknown_key(draw) -> tuple[str, str]:
    name = draw(st.text(st.characters(categories=("Ll",)), min_size=3, max_size=12))
    section = draw(st.sampled_from(["", *SECTIONS]))
    key = f"{section}.{name}" if section else name
    assume(key not in {k for k, _, _ in PARAMS} and name not in SECTIONS
           and name not in ("hydra", "experiment", "phases"))
    return key, "1"


def assert_refused(key: str, value: str) -> str:
    with pytest.raises(ConfigError) as info:
        compose([f"{key}={value}"])
    message = str(info.value)
    assert key in message or key.rsplit(".", 1)[-1] in message, message
    shown = value.strip("'")
    assert shown in message or repr(shown) in message or _parsed(value) in message, message
    return message


def _parsed(value: str) -> str:
    try:
        return repr(float(value))
    except ValueError:
        return value


@SLOW
@given(out_of_range())
def test_out_of_range_values_are_refused_naming_key_and_value(override):
    key, value = override
    assert_refused(key, value)


@SLOW
@given(wrong_type())
def test_wrong_types_are_refused_naming_key_and_value(override):
    key, value = override
    assert_refused(key, value)


@SLOW
@given(unknown_key())
def test_unknown_keys_are_refused_naming_the_key(override):
    key, value = override
    with pytest.raises(ConfigError) as info:
        compose([f"{key}={value}"])
    assert key.rsplit(".", 1)[-1] in str(info.value)


# -- experiments --------------------------------------------------------------------------------

@st.composite
def malformed_experiment(draw) -> tuple[Config, list[str]]:
    """An experiment with one defect, and the fragments its message must contain."""
    cfg = unfrozen_copy(_experiment_base())
    exp = cfg.experiment
    arm = draw(st.sampled_from(exp.arms))
    defect = draw(st.sampled_from(["strategy", "override_key", "override_value", "phase_start",
                                   "phase_strategy", "phase_order", "grid_empty",
                                   "grid_value", "grid_key", "duplicate", "reference",
                                   "override_bool", "phase_after_end", "grid_run_key",
                                   "override_run_key"]))
    word = draw(st.text(st.characters(categories=("Ll",)), min_size=4, max_size=10))
    if defect == "strategy":
        arm.strategy = f"no_{word}"
        return cfg, [f"no_{word}", "strategy", f"experiment arm {arm.name!r}"]
    if defect == "phase_after_end":
        start = draw(st.integers(cfg.steps + 1, 1_000_000))
        arm.phases = [ArmPhase(start=start, strategy="none")]
        return cfg, [f"experiment arm {arm.name!r}", "phases[0]", str(start),
                     "after the last step"]
    if defect in ("grid_run_key", "override_run_key"):
        # keys the runner takes from the run, not the arm (the paired seeds too)
        key = draw(st.sampled_from(["seed", "replicates", "workers", "force_memory", "arm"]))
        if defect == "grid_run_key":
            exp.grid = {key: [1, 3]}
            return cfg, [f"experiment.grid.{key}", "cannot vary per arm"]
        arm.overrides = {key: 3}
        return cfg, [f"experiment arm {arm.name!r}", key, "cannot vary per arm"]
    if defect == "override_key":
        arm.overrides = {f"consumer.{word}_x": 1}
        return cfg, [f"{word}_x", arm.name]
    if defect == "override_value":
        key, value = draw(out_of_range())
        assume(key != "consumers" and not key.startswith("network."))
        arm.overrides = {key: float(value) if "." in value or "e" in value else int(value)}
        return cfg, [key, arm.name]
    if defect == "override_bool":
        key = draw(st.sampled_from(BOOLS))
        arm.overrides = {key: draw(st.sampled_from([2, "maybe", 0.5]))}
        return cfg, [key, arm.name]
    if defect == "phase_start":
        start = draw(st.integers(-1000, 0))
        arm.phases = [ArmPhase(start=start, strategy="none")]
        return cfg, ["start", str(start)]
    if defect == "phase_strategy":
        arm.phases = [ArmPhase(start=3, strategy=f"no_{word}")]
        return cfg, [f"no_{word}", f"experiment arm {arm.name!r}", "phases[0]"]
    if defect == "phase_order":
        arm.phases = [ArmPhase(start=8, strategy="none"), ArmPhase(start=4, strategy="none")]
        return cfg, ["[8, 4]", "increase"]
    if defect == "grid_empty":
        exp.grid = {"consumer.ad_blind_fraction": draw(st.sampled_from([[], 0.5, "x"]))}
        return cfg, ["experiment.grid.consumer.ad_blind_fraction"]
    if defect == "grid_value":
        key, value = draw(out_of_range())
        assume(key != "consumers" and not key.startswith("network."))
        exp.grid = {key: [float(value) if "." in value or "e" in value else int(value)]}
        return cfg, [key]
    if defect == "grid_key":
        exp.grid = {f"wom.{word}_x": [1, 2]}
        return cfg, [f"{word}_x"]
    if defect == "duplicate":
        for other in exp.arms:
            other.name = "same"
        return cfg, ["duplicate", "same"]
    exp.reference = f"no_{word}"
    return cfg, ["experiment.reference", f"no_{word}"]


_BASE: list[Config] = []


def _experiment_base() -> Config:
    if not _BASE:
        _BASE.append(compose(["+experiment=ads_vs_wom", "consumers=200"]))
    return _BASE[0]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(malformed_experiment())
def test_malformed_experiments_are_refused_naming_the_problem(case):
    cfg, fragments = case
    with pytest.raises(ConfigError) as info:
        resolve_arms(cfg)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_the_experiment_base_is_valid():
    arms = resolve_arms(_experiment_base())
    assert len(arms) == len(_experiment_base().experiment.arms) > 1


# -- edge lists ---------------------------------------------------------------------------------

LABEL = st.text(st.characters(categories=("Ll", "Lu", "Nd"), include_characters="_-."),
                min_size=1, max_size=8)
GOOD_LINE = st.one_of(
    st.builds(lambda a, b: f"{a} {b}", LABEL, LABEL),
    st.builds(lambda a, b: f"{a},{b},1.0", LABEL, LABEL),
    st.builds(lambda a, b: f"  {a}\t{b}  # a comment", LABEL, LABEL),
    st.just("# a comment"),
    st.just(""),
)
BAD_LINE = st.one_of(
    st.builds(lambda a: a.encode(), LABEL),  # one label
    st.builds(lambda a: f"{a},  # no second label".encode(), LABEL),
    st.just(b"a\x00b c"),  # binary
    st.just(b"caf\xe9 bar"),  # Latin-1, not UTF-8
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(GOOD_LINE, max_size=20), bad=BAD_LINE,
       after=st.lists(GOOD_LINE, max_size=5))
def test_malformed_edge_lists_name_the_file_and_line(tmp_path, before, bad, after):
    assume(any(line.strip() and not line.startswith("#") for line in before + after)
           or bad)  # (a file of only a bad line is still refused at that line)
    path = tmp_path / "edges.txt"
    path.write_bytes(b"\n".join([*(line.encode() for line in before), bad,
                                 *(line.encode() for line in after)]) + b"\n")
    with pytest.raises(NetworkError) as info:
        read_edgelist(str(path))
    message = str(info.value)
    assert str(path) in message
    assert f"line {len(before) + 1}:" in message, message


# -- the command line ---------------------------------------------------------------------------

@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(out_of_range(), wrong_type()))
def test_the_command_line_refuses_invalid_values(override):
    key, value = override
    folder = Path(tempfile.mkdtemp(prefix="wommsim-invalid-"))
    try:
        out = folder / "run"
        small = [f"{k}={v}" for k, v in (("steps", 2), ("replicates", 1), ("consumers", 100))
                 if k != key]
        proc = subprocess.run([sys.executable, "-m", "wommsim", *small, f"{key}={value}",
                               f"hydra.run.dir={out}"], cwd=folder, capture_output=True,
                              text=True, timeout=300, check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("wommsim: error:") and proc.stderr.count("\n") == 1
        assert key.rsplit(".", 1)[-1] in proc.stderr and "Traceback" not in proc.stderr
        for name in (*RESULT_FILES, "manifest.json"):
            assert not (out / name).exists(), name
    finally:
        shutil.rmtree(folder, ignore_errors=True)

