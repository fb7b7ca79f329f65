"""Calibration: the observed-curve reader, the ``fit=`` specs and recovery of Bass p and q."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from tests.helpers import run_model, small_config
from wommsim.config import ConfigError
from wommsim.reporting.bass import discrete_bass
from wommsim.runs.results import config_hash
from wommsim.studies.calibrate import (
    TOOL_KEYS,
    bootstrap,
    calibrate,
    least_squares_market,
    main,
    read_observed,
)
from wommsim.studies.paramspace import ParamRange, compose_model, model_config, parse_ranges

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "experiments" / "calibration" / "bass_example.csv"
SALES_EXAMPLE = ROOT / "experiments" / "calibration" / "bass_sales_example.csv"
P, Q = 0.02, 0.3  # the example's coefficients (experiments/calibration/make_bass_example.py)
MARKET = 50_000  # the sales example's market size
BASS = ("decision=bass", "network=complete", "strategy=none",
        "consumer.initial_adopted_fraction=0", "wom.enabled=false", "agents=off", "workers=1")


def test_the_shipped_example_is_the_discrete_bass_curve():
    observed = read_observed(EXAMPLE)
    assert observed["step"].tolist() == list(range(31))
    np.testing.assert_allclose(observed["adopted_fraction"], discrete_bass(P, Q, 30), atol=1e-6)


def test_the_shipped_sales_example_is_the_bass_market_in_units():
    observed = read_observed(SALES_EXAMPLE)
    assert observed.columns.tolist() == ["step", "sales"]
    assert observed["step"].tolist() == list(range(1, 31))
    np.testing.assert_allclose(observed["sales"], MARKET * np.diff(discrete_bass(P, Q, 30)),
                               atol=0.5)  # rounded to whole units


def test_discrete_bass_follows_its_recursion():
    f = discrete_bass(0.03, 0.38, 5)
    assert f[0] == 0 and f[1] == pytest.approx(0.03)
    assert f[2] == pytest.approx(0.03 + (0.03 + 0.38 * 0.03) * 0.97)
    assert discrete_bass(0.0, 0.5, 10).max() == 0  # no innovators, no seed: nobody adopts


def test_calibration_recovers_bass_p_and_q():
    """The model (``decision=bass`` on the complete graph, no seed) fitted to the shipped
    discrete Bass curve returns its p and q within 15% (relative).

    Why 15%: at this size (2,000 consumers, 4 replicates, 16 scan points, 80 evaluations) the
    fits for seeds 1-8 gave p in [0.0188, 0.0211] and q in [0.2915, 0.3127]: standard
    deviations of 3.5% (p) and 2.4% (q) of the true values, largest errors 5.8% and 4.2%.
    15% is over 4 standard deviations for p, so a change of the model's random stream does
    not break it; a wrong model or optimiser misses by far more (the scan's best points are
    typically 30-100% off)."""
    base = small_config(*BASS, "replicates=4", consumers=2000, steps=30)
    ranges = parse_ranges("decision.p:0.001:0.1,decision.q:0.05:1", base, "fit")
    fit = calibrate(base, ranges, read_observed(EXAMPLE), scan=16, budget=80)
    assert fit.values["decision.p"] == pytest.approx(P, rel=0.15)
    assert fit.values["decision.q"] == pytest.approx(Q, rel=0.15)
    assert fit.rmse < 0.01  # within one percentage point of the curve on average
    assert len(fit.evaluations) <= 80
    assert fit.evaluations["rmse"].min() == pytest.approx(fit.rmse)
    # The fitted curve in the result is the fitted model's, at every step.
    observed = fit.curve.dropna(subset=["observed"])
    rmse = np.sqrt(np.mean((observed["observed"] - observed["simulated"]) ** 2))
    assert rmse == pytest.approx(fit.rmse)


def test_calibration_is_deterministic_and_parallel_equals_serial():
    observed = pd.DataFrame({"step": range(11), "adopted_fraction": discrete_bass(P, Q, 10)})
    fits = []
    for jobs in (1, 2):
        base = small_config(*BASS, "replicates=2", f"workers={jobs}", consumers=300, steps=10)
        ranges = parse_ranges("decision.p:0.001:0.1,decision.q:0.05:1", base, "fit")
        fits.append(bootstrap(calibrate(base, ranges, observed, scan=4, budget=12), observed,
                              resamples=3, budget=6))
    pd.testing.assert_frame_equal(fits[0].evaluations, fits[1].evaluations)
    assert fits[0].values == fits[1].values
    # The bootstrap too: same refits, same intervals, serial or parallel.
    pd.testing.assert_frame_equal(fits[0].resamples, fits[1].resamples)
    assert fits[0].intervals == fits[1].intervals
    assert fits[0].resamples["resample"].tolist() == [1, 2, 3]
    # Each refit saw its own data (its own replicate), so they differ.
    assert fits[0].resamples["data_replicate"].nunique() == 3


# -- intervals --------------------------------------------------------------------------------

#: The Bass rule on a random network: cheap at 1,600 consumers (the complete graph is not),
#: and the bootstrap does not care which model made the data, as long as it is the model fitted.
LOCAL_BASS = ("decision=bass", "network=erdos_renyi", "strategy=none",
              "consumer.initial_adopted_fraction=0", "wom.enabled=false", "agents=off",
              "workers=1", f"decision.q={Q}")


def model_curve(consumers: int, steps: int, replicate: int) -> pd.DataFrame:
    """One realisation of :data:`LOCAL_BASS` at p = P: synthetic data with a known p (a
    replicate number that no fit uses for its own runs)."""
    cfg = small_config(*LOCAL_BASS, f"decision.p={P}", consumers=consumers, steps=steps)
    curve = run_model(cfg, replicate=replicate).timeseries()["adopted_fraction"]
    return pd.DataFrame({"step": range(steps + 1), "adopted_fraction": curve.to_numpy()})


def test_the_interval_covers_the_true_p_and_narrows_with_more_consumers():
    """Data simulated by the model with p = 0.02 (q known): the 95% bootstrap interval of the
    fitted p covers 0.02 in a market of 200 consumers and in one of 1,600, where its
    standard error is under 0.6 of the small market's (sampling noise falls as
    1/sqrt(consumers): 0.35 expected; measured 0.21, with 0.0069 and 0.0014).

    A method that saw only the simulator's noise over replicates, or none, would give
    intervals far narrower than the small market's fitted p is off (0.0147 against 0.02)."""
    errors = []
    for consumers in (200, 1600):
        observed = model_curve(consumers, 8, replicate=10_000)
        base = small_config(*LOCAL_BASS, "replicates=1", consumers=consumers, steps=8)
        ranges = parse_ranges("decision.p:0.001:0.1", base, "fit")
        fit = bootstrap(calibrate(base, ranges, observed, scan=4, budget=30), observed,
                        resamples=8)
        lo, hi = fit.intervals["decision.p"]
        assert lo < P < hi, (consumers, fit.values, fit.intervals)
        assert len(fit.resamples) == 8 and fit.confidence == 0.95
        errors.append(fit.uncertainty["standard_errors"]["decision.p"])
    assert errors[1] < 0.6 * errors[0], errors
    # Not cut at the search range in the large market: fitted value +/- t(7) x SE.
    assert hi - lo == pytest.approx(2 * stats.t.ppf(0.975, 7) * errors[1])
    assert fit.uncertainty["cut_at_range"] == []


# -- sales in units ---------------------------------------------------------------------------

def test_least_squares_market_is_exact_and_stays_in_its_range():
    share = np.array([0.1, 0.3, 0.6])
    full = ParamRange("market_size", 0.0, math.inf)
    assert least_squares_market(share, 1234.0 * share, full) == pytest.approx(1234.0)
    # Noisy data: the closed form is the minimum of the squared error.
    observed = np.array([130.0, 350.0, 590.0])
    best = least_squares_market(share, observed, full)
    sse = [float(np.sum((observed - m * share) ** 2)) for m in (best - 1, best, best + 1)]
    assert sse[1] < sse[0] and sse[1] < sse[2]
    assert least_squares_market(share, 1234.0 * share, ParamRange("market_size", 0, 1000)) \
        == 1000.0
    assert least_squares_market(share, 1234.0 * share, ParamRange("market_size", 2000, 3000)) \
        == 2000.0


@pytest.mark.parametrize("column", ["cumulative_sales", "sales"])
def test_fitting_sales_recovers_the_market_size(column):
    """Sales of a Bass market of 50,000 buyers (q = 0.3, p known), cumulative or per step:
    the fit returns the market size within 3% and q within 15% (at 500 consumers and 4
    replicates the fits gave 50,480 and 50,717, errors of 1.0% and 1.4%, and q 0.290 and
    0.287; the market size's noise is about that of the last observed share, 0.75% here,
    so 3% is 4 standard deviations). A market size read off the wrong scale (shares, or
    per-step sales taken as cumulative) misses by far more."""
    curve = MARKET * discrete_bass(P, Q, 15)
    observed = (pd.DataFrame({"step": range(16), column: curve}) if column != "sales" else
                pd.DataFrame({"step": range(1, 16), column: np.diff(curve)}))
    base = small_config(*BASS, "replicates=4", f"decision.p={P}", consumers=500, steps=15)
    fit = calibrate(base, parse_ranges("decision.q:0.05:1", base, "fit"), observed, scan=4,
                    budget=30)
    assert fit.data_column == column and fit.market.key == "market_size"
    assert fit.values["market_size"] == pytest.approx(MARKET, rel=0.03)
    assert fit.values["decision.q"] == pytest.approx(Q, rel=0.15)
    assert fit.rmse < 0.01 * MARKET  # within 1% of the market on average
    # The curve is in units: the simulated mean is the market size x the model's share.
    seen = fit.curve.dropna(subset=["observed"])
    np.testing.assert_allclose(seen["observed"], observed[column])
    assert np.sqrt(np.mean(seen["residual"] ** 2)) == pytest.approx(fit.rmse)
    assert fit.curve["step"].iloc[0] == (1 if column == "sales" else 0)
    assert "market_size" in fit.evaluations.columns


def units_curve(tmp_path: Path, column: str = "cumulative_sales") -> Path:
    data = tmp_path / "sales.csv"
    pd.DataFrame({"step": range(9), column: np.rint(20_000 * discrete_bass(P, Q, 8))}).to_csv(
        data, index=False)
    return data


def test_cli_fits_sales_and_writes_the_market_size_with_its_interval(tmp_path, capsys):
    data = units_curve(tmp_path)
    out = tmp_path / "out"
    assert main([f"data={data}", "fit=[decision.q:0.05:1,market_size:1000:1e6]", *BASS,
                 f"decision.p={P}", "consumers=300", "replicates=2", "scan=4", "budget=12",
                 "bootstrap=3", "confidence=0.9", f"hydra.run.dir={out}"]) == 0
    printed = capsys.readouterr().out
    assert "market_size=" in printed and "90% intervals, parametric bootstrap of 3 refits" \
        in printed, printed
    result = json.loads((out / "fit.json").read_text())
    assert result["data_column"] == "cumulative_sales"
    assert result["rmse_unit"] == "units sold so far"
    assert set(result["fitted"]) == set(result["intervals"]) == {"decision.q", "market_size"}
    assert result["bounds"]["market_size"] == [1000, 1e6] and result["confidence"] == 0.9
    for key, (lo, hi) in result["intervals"].items():
        assert lo <= result["fitted"][key] <= hi, key
    boot = pd.read_csv(out / "bootstrap.csv")
    assert boot.columns.tolist() == ["resample", "data_replicate", "decision.q", "market_size",
                                     "rmse", "evaluations"]
    assert len(boot) == 3 and result["bootstrap"]["resamples"] == 3
    se = boot["market_size"].std(ddof=1)
    assert result["bootstrap"]["standard_errors"]["market_size"] == pytest.approx(se)
    curve = pd.read_csv(out / "fit.csv")
    np.testing.assert_allclose(curve["observed"], pd.read_csv(data)["cumulative_sales"])


def test_the_market_size_without_bounds_starts_at_the_buyers_seen():
    observed = pd.DataFrame({"step": [1, 2, 3], "sales": [10.0, 30.0, 20.0]})
    base = small_config(*BASS, "replicates=1", consumers=200, steps=3)
    fit = calibrate(base, parse_ranges("decision.q:0.05:1", base, "fit"), observed, scan=2,
                    budget=4)
    assert (fit.market.lo, fit.market.hi) == (60.0, math.inf)  # 60 units sold: 60 buyers


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,fragments", [
    ("", ["empty"]),
    ("step,adopted\n0,0.1\n", ["line 1", "missing column", "adopted_fraction"]),
    ("# comment\nstep,adopted_fraction\n0,0\n1,abc\n2,0.3\n", ["line 4", "'abc'",
                                                             "not a number"]),
    ("step,adopted_fraction\n0,0\n1,1.2\n2,0.3\n", ["line 3", "adopted_fraction=1.2",
                                                    "between 0 and 1"]),
    ("step,adopted_fraction\n0,0\n1,-0.1\n2,0.3\n", ["line 3", "between 0 and 1"]),
    ("step,adopted_fraction\n0,0\n-1,0.1\n2,0.3\n", ["line 3", "step=-1", ">= 0"]),
    ("step,adopted_fraction\n0,0\n1.5,0.1\n2,0.3\n", ["line 3", "step=1.5", "whole number"]),
    ("step,adopted_fraction\n0,0\n1,0.1\n900000,0.3\n", ["line 4", "step=900000",
                                                          "beyond step 10,000"]),
    ("step,adopted_fraction\n0,0\n1,0.1\n\n1,0.2\n", ["line 5", "step 1 repeats line 3"]),
    ("step,adopted_fraction\n0,0\n1,0.1,7\n", ["line 3", "3 fields"]),
    ("step,adopted_fraction\n0,0\n1,nan\n2,0.3\n", ["line 3", "finite"]),
    ("step,adopted_fraction\n0,0\n1,0.1\n", ["2 observation", "at least 3"]),
    # sales in units
    ("sales\n1\n2\n3\n", ["line 1", "missing column(s) step"]),
    ("step,sales,adopted_fraction\n1,5,0.1\n", ["line 1", "columns adopted_fraction and sales",
                                                 "one data column"]),
    ("step,sales\n0,5\n1,3\n2,4\n", ["line 2", "sales at step 0", "start at step 1"]),
    ("step,sales\n1,5\n2,-3\n3,4\n", ["line 3", "sales=-3", "must be >= 0"]),
    ("step,cumulative_sales\n0,0\n1,ten\n2,30\n", ["line 3", "cumulative_sales='ten'",
                                                     "not a number"]),
    # in step order, not file order: step 2 (line 3) falls below step 1 (line 4)
    ("step,cumulative_sales\n0,0\n2,30\n1,40\n3,45\n", ["line 3", "cumulative_sales=30 at step 2",
                                                         "below the 40 of step 1 (line 4)",
                                                         "cannot fall"]),
])
def test_bad_csv_names_file_and_line(tmp_path, text, fragments):
    path = tmp_path / "curve.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        read_observed(path)
    message = str(err.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_csv_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"no-such\.csv.*no such file"):
        read_observed(tmp_path / "no-such.csv")


def test_csv_extra_columns_and_any_order_are_accepted(tmp_path):
    path = tmp_path / "curve.csv"
    path.write_text("adopted_fraction,step,note\n0.3,2,x\n0,0,y\n0.1,1,z\n")
    frame = read_observed(path)
    assert frame["step"].tolist() == [0, 1, 2]
    assert frame["adopted_fraction"].tolist() == [0.0, 0.1, 0.3]


@pytest.mark.parametrize("spec,fragments", [
    ("decision.pp:0.01:0.1", ["decision.pp", "no such parameter", "decision.p"]),
    ("decision.p:0.1:0.01", ["decision.p:0.1:0.01", "lower bound"]),
    ("decision.p:0.05:0.05", ["lower bound"]),
    ("decision.q:0.1:1.5", ["decision.q:0.1:1.5", "outside", "[0, 1]"]),
    ("decision.p:-0.1:0.5", ["outside"]),
    ("consumers:10:100", ["consumers", "not a real-valued"]),
    ("network.kind:0:1", ["network.kind", "not a real-valued"]),
    ("decision.p:0.01", ["expected key:lo:hi"]),
    ("decision.p:a:0.1", ["must be numbers"]),
    ("decision.p:0.01:0.1,decision.p:0.02:0.2", ["decision.p given more than once"]),
])
def test_bad_fit_spec_is_refused(spec, fragments):
    with pytest.raises(ConfigError) as err:
        parse_ranges(spec, small_config(), "fit")
    for fragment in fragments:
        assert fragment in str(err.value), str(err.value)


@pytest.mark.parametrize("args,fragment", [
    (["fit=decision.p:0.001:0.1"], "data= is required"),
    (["data={csv}"], "fit= is required"),
    (["data={csv}", "fit=decision.x:0:1"], "decision.x"),
    (["data={csv}", "fit=[decision.p:0.001:0.1,decision.x:0:1]"], "decision.x"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "steps=5"], "the data go to step 30"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "consumer.ad_blind_fraction=2"],
     "consumer.ad_blind_fraction=2"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "budget=zero"], "override budget=zero"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "scan=20", "budget=10"], "exceed the scan"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "decision"], "decision"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "scna=4"], "Key 'scna' not in"),
    (["data={csv}", "fit=decision.p:0.001:0.1,decision.q:0.05:1"],
     "'fit=[decision.p:0.001:0.1,decision.q:0.05:1]'"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "out=somewhere"], "hydra.run.dir=somewhere"),
    (["data={csv}", "fit=[decision.p:0.001:0.1,market_size:10:100]"],
     "market_size:10:100: the market size is fitted to sales data only"),
    (["data={sales}", "fit=[decision.p:0.001:0.1,market_size:100:10]"],
     "'market_size:100:10': expected market_size:lo:hi with 0 <= lo < hi"),
    (["data={sales}", "fit=[decision.p:0.001:0.1,market_size:big:10]"],
     "'market_size:big:10': expected market_size:lo:hi with numbers"),
    (["data={sales}", "fit=market_size:10:1e6"], "give at least one model parameter"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "bootstrap=1"], "bootstrap=1: must be 0"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "bootstrap=-2"], "bootstrap=-2"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "confidence=1.5"],
     "confidence=1.5: must be between 0 and 1"),
    (["data={csv}", "fit=decision.p:0.001:0.1", "confidence=high"], "confidence=high"),
])
def test_cli_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, capsys, args,
                                                              fragment):
    out = tmp_path / "out"
    argv = [a.format(csv=EXAMPLE, sales=SALES_EXAMPLE) for a in args] + [
        f"hydra.run.dir={out}"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert err.startswith("wommsim.calibrate: error: ") and err.count("\n") == 1, err
    assert not out.exists()  # the run folder it made is removed again


def tiny_curve(tmp_path: Path) -> Path:
    data = tmp_path / "curve.csv"
    pd.DataFrame({"step": range(9), "adopted_fraction": discrete_bass(P, Q, 8)}).to_csv(
        data, index=False)
    return data


def test_cli_writes_every_result(tmp_path, capsys):
    data = tiny_curve(tmp_path)
    out = tmp_path / "out"
    assert main([f"data={data}", "fit=decision.q:0.05:1", *BASS, "consumers=300",
                 "replicates=2", "scan=4", "budget=10", f"hydra.run.dir={out}"]) == 0
    assert "fitted: decision.q=" in capsys.readouterr().out
    # The run folder holds the results only (no .hydra/, no log, no lock left).
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["fit.json", "fit.csv", "evaluations.csv", "bootstrap.csv", "fit.png"])
    result = json.loads((out / "fit.json").read_text())
    assert set(result["fitted"]) == {"decision.q"} and result["bounds"]["decision.q"] == [0.05, 1]
    # The default bootstrap: 10 refits, a 95% interval around the fitted value.
    assert result["confidence"] == 0.95 and result["bootstrap"]["resamples"] == 10
    assert len(pd.read_csv(out / "bootstrap.csv")) == 10
    lo, hi = result["intervals"]["decision.q"]
    assert 0.05 <= lo <= result["fitted"]["decision.q"] <= hi <= 1 and lo < hi
    assert result["data_column"] == "adopted_fraction"
    assert result["rmse_unit"] == "share of consumers"
    assert 0 < result["evaluations"] <= 10 and result["config"]["steps"] == 8
    assert result["command"][:3] == ["python", "-m", "wommsim.calibrate"]  # as typed
    # The model override and the presets reached the model; the tool's keys did not.
    assert result["config"]["consumers"] == 300
    assert result["config"]["decision"]["rule"] == "bass"
    assert result["config"]["network"]["kind"] == "complete"
    assert result["config"]["strategy"]["name"] == "none"
    assert not {"data", "fit", "scan", "budget"} & set(result["config"])
    # The data's content is part of the fit's configuration identity.
    assert result["input_files"] == {str(data): hashlib.sha256(data.read_bytes()).hexdigest()}
    assert result["config_hash"] == config_hash(
        compose_model({}, [*BASS, "consumers=300", "replicates=2", "steps=8",
                           f"decision.q={result['fitted']['decision.q']}"]), [str(data)])
    evaluations = pd.read_csv(out / "evaluations.csv")
    assert result["rmse"] == pytest.approx(evaluations["rmse"].min())
    curve = pd.read_csv(out / "fit.csv")
    assert curve["step"].tolist() == list(range(9))
    np.testing.assert_allclose(curve["observed"], discrete_bass(P, Q, 8))
    # Again into the same folder without the bootstrap: no intervals, and the earlier
    # bootstrap.csv does not stay behind to be read with the new fit.json.
    assert main([f"data={data}", "fit=decision.q:0.05:1", *BASS, "consumers=300",
                 "replicates=2", "scan=4", "budget=10", "bootstrap=0",
                 f"hydra.run.dir={out}"]) == 0
    assert "(no intervals (bootstrap=0))" in capsys.readouterr().out
    assert not (out / "bootstrap.csv").exists()
    result = json.loads((out / "fit.json").read_text())
    assert result["intervals"] is None and result["bootstrap"] is None


def test_the_tool_keys_leave_the_model_config_and_its_hash_alone():
    from hydra import compose, initialize_config_dir

    from wommsim.compose import configs_dir

    with initialize_config_dir(str(configs_dir()), version_base="1.3"):
        own = compose("calibrate", ["data=x.csv", "fit=[decision.p:0.001:0.1]", "scan=3",
                                    "budget=9", "decision=bass", "consumers=300"])
    base = model_config(own, TOOL_KEYS, ["decision=bass", "consumers=300"])
    plain = compose_model({}, ["decision=bass", "consumers=300"])
    assert base == plain and config_hash(base) == config_hash(plain)


def test_a_sweep_runs_one_calibration_per_job_into_its_multirun_folder(tmp_path, capsys):
    data = tiny_curve(tmp_path)
    sweep = tmp_path / "sweep"
    assert main(["-m", f"data={data}", "fit=decision.q:0.05:1,decision.p:0.001:0.1", *BASS,
                 "consumers=200", "replicates=1", "scan=2", "budget=4",
                 f"hydra.sweep.dir={sweep}"]) == 0
    fitted = [set(json.loads((sweep / job / "fit.json").read_text())["fitted"])
              for job in ("0", "1")]
    assert fitted == [{"decision.q"}, {"decision.p"}]
    assert not (sweep / "aggregate").exists()  # a run sweep's aggregate is for runs only


def test_cfg_job_prints_the_model_and_tool_keys(capsys):
    assert main(["--cfg", "job", "decision=bass", "network=complete", "consumers=123",
                 "fit=[decision.p:0.001:0.1,decision.q:0.05:1]"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["decision"]["rule"] == "bass" and printed["network"]["kind"] == "complete"
    assert printed["consumers"] == 123 and printed["steps"] == 52
    assert printed["fit"] == ["decision.p:0.001:0.1", "decision.q:0.05:1"]
    assert printed["scan"] == 32 and printed["budget"] == 200 and printed["data"] is None
    assert printed["bootstrap"] == 10 and printed["confidence"] == 0.95


def test_help_shows_the_tools_own_help(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "fit model parameters to an observed adoption curve" in text
    assert "fit=[decision.p:0.001:0.1,decision.q:0.05:1]" in text
    assert "decision: bass, opinion" in text  # the presets


@pytest.mark.parametrize("text,message", [
    ("step,adopted_fraction\n0,0\n1,x\n2,0.2\n", "line 3: adopted_fraction='x': not a number"),
    ("step,cumulative_sales\n0,0\n1,120\n2,90\n3,300\n",
     "line 4: cumulative_sales=90 at step 2 is below the 120 of step 1 (line 3): cumulative "
     "sales cannot fall"),
])
def test_module_entry_point_reports_bad_data_in_one_line_with_exit_2(tmp_path, text, message):
    data = tmp_path / "curve.csv"
    data.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "wommsim.calibrate", f"data={data}",
                           "fit=decision.p:0.001:0.1", f"hydra.run.dir={tmp_path / 'out'}"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"wommsim.calibrate: error: {data}, {message}\n", proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,fragment", [
    (["fit=decision.p:0.001:0.1", "+foo=1"], "Key 'foo' not in 'Config'"),
    (["foo=1"], "Key 'foo' not in 'CalibrateConfig'"),
    (["fit=decision.p:0.001:0.1,decision.q:0.05:1"],
     "give a list in brackets: 'fit=[decision.p:0.001:0.1,decision.q:0.05:1]'"),
])
def test_module_entry_point_unknown_key_and_old_list_syntax_are_one_line(tmp_path, args,
                                                                        fragment):
    proc = subprocess.run([sys.executable, "-m", "wommsim.calibrate", f"data={EXAMPLE}", *args,
                           f"hydra.run.dir={tmp_path / 'out'}"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("wommsim.calibrate: error: ") and \
        proc.stderr.count("\n") == 1, proc.stderr
    assert fragment in proc.stderr
    assert not (tmp_path / "out").exists()


def test_talk_does_not_change_the_bass_adoption_curve():
    # The calibration example switches word of mouth off for speed: under the bass rule
    # talk moves opinions only, on its own random stream, so adoption is identical.
    curves = [run_model(small_config(*BASS, f"wom.enabled={on}", consumers=300, steps=15))
              .timeseries()["adopted_fraction"].to_numpy() for on in ("true", "false")]
    np.testing.assert_array_equal(curves[0], curves[1])
    assert 0 < curves[0][-1] < 1
