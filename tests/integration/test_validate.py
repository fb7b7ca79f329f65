"""The validation suite: every case runs in quick mode and yields a well-formed result, the
report is written whole, and the exit status says whether validation passed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wommsim import validate
from wommsim.validation import CASES, REPORT, run
from wommsim.validation.core import CaseSpec, Finding


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("validation")
    return out, run(out, quick=True, jobs=1, command="pytest quick run")


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
    first = run(tmp_path / "a", cases=cases, quick=True, jobs=1)
    second = run(tmp_path / "b", cases=cases, quick=True, jobs=1)
    assert [r.measured for r in first] == [r.measured for r in second]
    assert [r.p_value for r in first] == [r.p_value for r in second]
    other = run(tmp_path / "c", cases=cases, quick=True, jobs=1, seed=7)
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
    assert validate.main(["--case", "fake", "--out", str(tmp_path), "--jobs", "1"]) == status
    text = (tmp_path / REPORT).read_text()
    assert f"measured {passed}" in text
    assert ("Every case passed." in text) == passed
    assert "1 cases pass" in capsys.readouterr().out or "0 of 1 cases pass" in text


def test_an_interrupted_run_leaves_the_previous_report(tmp_path, monkeypatch):
    _fake_case(monkeypatch, True)
    validate.main(["--case", "fake", "--out", str(tmp_path)])
    before = (tmp_path / REPORT).read_text()
    (tmp_path / "validation" / "old.png").write_bytes(b"png")

    def broken(ctx):
        raise RuntimeError("killed mid-run")

    monkeypatch.setitem(CASES, "fake", CaseSpec("fake", "corner", "t", "s", broken))
    with pytest.raises(RuntimeError, match="killed mid-run"):
        validate.main(["--case", "fake", "--out", str(tmp_path)])
    assert (tmp_path / REPORT).read_text() == before
    assert (tmp_path / "validation" / "old.png").is_file()
    assert not list(tmp_path.glob(".*partial*"))


def test_bad_arguments_exit_2_naming_the_value(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "wommsim.validate", "--case", "no_such_case",
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2
    assert "no_such_case" in proc.stderr and "bass_discrete" in proc.stderr
    assert not (tmp_path / REPORT).exists()


def test_partial_runs_never_overwrite_the_report_of_record(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert validate.main(["--quick"]) == 2
    assert validate.main(["--case", "q_zero"]) == 2
    assert "--out" in capsys.readouterr().err
    assert not (tmp_path / "docs").exists()


def test_list_names_every_case(capsys):
    assert validate.main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in CASES:
        assert name in out
