"""The validation suite: every case runs in quick mode and yields a well-formed result, the
report is written whole, and the exit status says whether validation passed."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from wommsim import validate
from wommsim.validation import CASES, REPORT, run
from wommsim.validation.__main__ import main
from wommsim.validation.core import CaseSpec, Finding
from wommsim.validation.report import QUICK_NOTE


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("validation")
    return out, run(out, quick=True, workers=1, command="pytest quick run")


def test_every_case_runs_and_is_well_formed(quick_run):
    out, results = quick_run
    assert [r.name for r in results] == list(CASES)
    for r in results:
        assert isinstance(r.passed, bool), r.name
        assert r.source and r.expected and r.measured and r.test and r.design, r.name
        assert r.explanation, r.name
        if r.p_value is not None:
            assert 0.0 <= r.p_value <= 1.0, (r.name, r.p_value)
            assert r.alpha is not None, r.name
        if r.figure:
            assert (out / "validation" / r.figure).is_file(), r.name
        assert r.seconds > 0


def test_report_lists_every_case_with_its_numbers(quick_run):
    out, results = quick_run
    text = (out / REPORT).read_text()
    assert text.startswith("# Validation report")
    assert "pytest quick run" in text and "quick mode" in text
    # Tiny runs' readings are not findings: the report says so and gives none of them.
    assert (QUICK_NOTE in text and "Not assessed in quick mode" in text) or all(
        r.passed for r in results)
    for r in results:
        assert r.explanation not in text, r.name
    assert f"{sum(r.passed for r in results)} of {len(results)} cases pass" in text
    for r in results:
        assert f"### {r.name}" in text
        assert r.measured.replace("|", "\\|") in text
        if r.figure:
            assert f"(validation/{r.figure})" in text
    failed = [r for r in results if not r.passed]
    section = text.split("## What failed validation and why")[1].split("\n## ")[0]
    for r in failed:
        assert f"**{r.name}**" in section
    assert not list(out.glob(".*partial*"))


def test_same_seed_same_numbers(tmp_path):
    cases = ["q_zero", "carry_over"]
    first = run(tmp_path / "a", cases=cases, quick=True, workers=1)
    second = run(tmp_path / "b", cases=cases, quick=True, workers=1)
    assert [r.measured for r in first] == [r.measured for r in second]
    assert [r.p_value for r in first] == [r.p_value for r in second]
    other = run(tmp_path / "c", cases=cases, quick=True, workers=1, seed=7)
    assert [r.measured for r in other] != [r.measured for r in first]


def _fake_case(monkeypatch, passed: bool) -> None:
    def fn(ctx):
        return Finding(design="d", expected="e", measured=f"measured {passed}", test="t",
                       passed=passed, explanation="because")

    spec = CaseSpec("fake", "corner", "A fake case", "nobody", fn)
    monkeypatch.setitem(CASES, "fake", spec)


@pytest.mark.parametrize("passed, status", [(True, 0), (False, 1)])
def test_exit_status_says_whether_validation_passed(tmp_path, monkeypatch, capsys, passed,
                                                    status):
    _fake_case(monkeypatch, passed)
    assert main(["cases=fake", f"out={tmp_path}", "workers=1"]) == status
    text = (tmp_path / REPORT).read_text()
    assert f"measured {passed}" in text
    assert ("Every case passed." in text) == passed
    assert "1 cases pass" in capsys.readouterr().out or "0 of 1 cases pass" in text
    assert f"python -m wommsim.validation cases=fake out={tmp_path} workers=1" in text
    # Nothing of Hydra's in the report's folder, and no lock left.
    assert sorted(p.name for p in tmp_path.iterdir()) == [REPORT, "validation"]


def test_the_old_command_is_a_shim_with_the_same_settings(tmp_path, monkeypatch, capsys):
    _fake_case(monkeypatch, True)
    assert validate.main(["--case", "fake", "--out", str(tmp_path), "--jobs", "1",
                          "--seed", "7"]) == 0
    text = (tmp_path / REPORT).read_text()
    assert "measured True" in text and "base seed 7" in text
    assert f"python -m wommsim.validation seed=7 workers=1 out='{tmp_path}' cases=[fake]" in text
    assert validate.hydra_args(validate.parser().parse_args(["--quick", "--list"])) == [
        "quick=true", "list=true"]


def test_an_interrupted_run_leaves_the_previous_report(tmp_path, monkeypatch):
    _fake_case(monkeypatch, True)
    main(["cases=fake", f"out={tmp_path}"])
    before = (tmp_path / REPORT).read_text()
    (tmp_path / "validation" / "old.png").write_bytes(b"png")

    def broken(ctx):
        raise RuntimeError("killed mid-run")

    monkeypatch.setitem(CASES, "fake", CaseSpec("fake", "corner", "t", "s", broken))
    with pytest.raises(RuntimeError, match="killed mid-run"):
        main(["cases=fake", f"out={tmp_path}"])
    assert (tmp_path / REPORT).read_text() == before
    assert (tmp_path / "validation" / "old.png").is_file()
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("command, args, fragment", [
    ("wommsim.validation", ["cases=[bass_discrete,no_such_case]"], "no_such_case"),
    ("wommsim.validate", ["--case", "no_such_case"], "no_such_case"),
    ("wommsim.validation", ["case=q_zero"], "Key 'case' not in 'ValidationConfig'"),
    ("wommsim.validation", ["cases=q_zero,p_zero"], "'cases=[q_zero,p_zero]'"),
    ("wommsim.validation", ["seed=-1"], "seed=-1"),
    ("wommsim.validation", ["quick=3"], "quick=3: must be true or false"),
    ("wommsim.validation", ["list=yes"], "list=yes: must be true or false"),
    ("wommsim.validate", ["--jobs", "-1"], "workers=-1"),
])
def test_bad_arguments_exit_2_in_one_line_naming_the_value(tmp_path, command, args, fragment):
    out = tmp_path / "out"
    given = ["--out", str(out)] if command == "wommsim.validate" else [f"out={out}"]
    proc = subprocess.run([sys.executable, "-m", command, *args, *given],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert fragment in proc.stderr
    assert proc.stderr.startswith("wommsim.validation: error: ") and \
        proc.stderr.count("\n") == 1, proc.stderr
    if "no_such_case" in args[-1]:
        assert "bass_discrete" in proc.stderr  # the known cases are listed
    assert not out.exists()


def test_partial_runs_never_overwrite_the_report_of_record(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["quick=true"]) == 2
    assert main(["cases=q_zero"]) == 2
    assert validate.main(["--quick"]) == 2
    assert validate.main(["--case", "q_zero"]) == 2
    assert capsys.readouterr().err.count("quick and cases need out=") == 4
    assert not (tmp_path / "docs").exists()


def test_list_names_every_case(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for command in (lambda: main(["list=true"]), lambda: validate.main(["--list"])):
        assert command() == 0
        out = capsys.readouterr().out
        for name in CASES:
            assert name in out
    assert not (tmp_path / "docs").exists()  # listing writes nothing


def test_cfg_job_and_help(capsys):
    assert main(["--cfg", "job", "cases=[q_zero,p_zero]", "quick=true"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == {"cases": ["q_zero", "p_zero"], "quick": True, "seed": 42, "workers": 0,
                       "list": False, "out": "docs"}
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "run the validation suite and write its report" in text
    assert "``quick`` and ``cases`` need ``out=``" in text
    assert "python -m wommsim.validation --cfg job" in text


def test_a_sweep_writes_one_report_per_job(tmp_path, monkeypatch, capsys):
    _fake_case(monkeypatch, True)
    sweep = tmp_path / "sweep"
    assert main(["-m", "cases=fake", "seed=1,2", f"hydra.sweep.dir={sweep}"]) == 0
    for job, seed in (("0", 1), ("1", 2)):
        assert f"base seed {seed}" in (sweep / job / REPORT).read_text()
