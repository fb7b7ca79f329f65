"""Validation of the model against what is known (Rand & Rust 2011): docking with analytic
Bass results, corner cases, a network-theory bound and stylised facts.

``python -m wommsim.validation`` (:mod:`wommsim.validation.__main__`) runs every case and
writes ``docs/VALIDATION.md`` with its figures; :func:`run` does the same from Python. Each
case is a function registered in :data:`CASES` that returns a :class:`Finding`;
:class:`CaseResult` adds its name, category, title, source and run time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import wommsim.validation.advertising
import wommsim.validation.bass
import wommsim.validation.content
import wommsim.validation.corners
import wommsim.validation.customers
import wommsim.validation.reviews
import wommsim.validation.stylised
import wommsim.validation.talk
import wommsim.validation.ties  # noqa: F401  (the modules register the cases)
from wommsim.validation.core import CASES, CaseResult, Context, Finding, run_case

__all__ = ["CASES", "CaseResult", "Finding", "run", "select"]

log = logging.getLogger(__name__)

REPORT = "VALIDATION.md"
FIGURES = "validation"


def source_changes() -> int | None:
    """Files under ``src/`` and ``configs/`` that differ from the git commit (the report's
    own files do not count); None outside a git checkout."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=here,
                             capture_output=True, text=True, timeout=5, check=True)
        status = subprocess.run(["git", "status", "--porcelain", "--", "src", "configs"],
                                cwd=top.stdout.strip(), capture_output=True, text=True,
                                timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return len(status.stdout.splitlines())


def select(names: Sequence[str] | None) -> list[str]:
    """The cases to run, in report order; unknown names raise ``ValueError`` naming them."""
    if not names:
        return list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise ValueError(f"unknown validation case(s) {unknown}; known: {', '.join(CASES)}")
    return [n for n in CASES if n in set(names)]


def run(out: Path, *, cases: Sequence[str] | None = None, quick: bool = False,
        seed: int = 42, workers: int = 0, command: str | None = None) -> list[CaseResult]:
    """Run the selected cases and write ``out/VALIDATION.md`` and ``out/validation/*.png``.

    Report and figures are written together (:func:`wommsim.runs.results.write_together`):
    drawn into a staging folder and moved into place only when every case has run, so an
    interrupted run leaves the previous report and figures as they were.
    """
    from wommsim.runs.results import git_commit, write_together
    from wommsim.validation import report

    names = select(cases)
    results: list[CaseResult] = []

    def write(stage: Path) -> None:
        started = time.perf_counter()
        (stage / FIGURES).mkdir()
        ctx = Context(figures=stage / FIGURES, seed=seed, workers=workers, quick=quick)
        results.extend(run_case(CASES[name], ctx) for name in names)
        report.write(stage / REPORT, report.render(
            results, date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            commit=git_commit(), changes=source_changes(),
            command=command or "python -m wommsim.validation", seed=seed, quick=quick,
            wall_time=time.perf_counter() - started, figure_dir=FIGURES))

    write_together(out, [FIGURES, REPORT], write)
    log.info("validation report written to %s", out / REPORT)
    return results


def command_line(argv: Sequence[str]) -> str:
    """How this run was invoked, for the report."""
    return " ".join(["python -m wommsim.validation", *argv])
