"""The validation case type, the registry of cases and the context they run in.

A case is a function ``fn(ctx) -> Finding`` registered with :func:`case` under a name, a
category (Rand & Rust 2011: verification/docking, corner cases, network theory, stylised
facts), a title and the source it checks. :func:`run_case` times it and joins its
:class:`Finding` with the registration into a :class:`CaseResult`, one row of the report.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from wommsim.compose import compose
from wommsim.config import Config, validate
from wommsim.reporting import figures
from wommsim.runs.memory import check_memory
from wommsim.runs.parallel import worker_count
from wommsim.runs.runner import run_market_task, run_task, simulate

log = logging.getLogger(__name__)

CATEGORIES = {
    "docking": "Verification and docking against analytic Bass results",
    "corner": "Corner cases and relative tests (Rand & Rust 2011)",
    "network": "Network theory",
    "stylised": "Stylised facts (opinion rule, default configuration)",
}


@dataclass
class Finding:
    """What a case measured: the design it ran, the expected and measured results, the
    test, the verdict, and a reading generated from the numbers."""

    design: str
    expected: str
    measured: str
    test: str
    passed: bool
    p_value: float | None = None
    alpha: float | None = None
    figure: str | None = None
    explanation: str = ""
    table: str = ""

    def __post_init__(self) -> None:  # NumPy booleans and floats become Python's
        self.passed = bool(self.passed)
        if self.p_value is not None:
            self.p_value = float(self.p_value)


@dataclass
class CaseResult(Finding):
    """A :class:`Finding` with its case's registration and run time (one report row)."""

    name: str = ""
    category: str = ""
    title: str = ""
    source: str = ""
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"


@dataclass(frozen=True)
class CaseSpec:
    """A registered case: its name, category, title, cited source, function, and the
    experiments (``configs/experiment/NAME.yaml``) whose question it bears on: their reports
    link to it."""

    name: str
    category: str
    title: str
    source: str
    function: Callable[[Context], Finding]
    experiments: tuple[str, ...] = ()


#: Every case, in report order (registration order).
CASES: dict[str, CaseSpec] = {}


def case(name: str, category: str, title: str, source: str, *,
         experiments: tuple[str, ...] = ()):
    """Register ``fn(ctx) -> Finding`` as the validation case ``name``, bearing on the
    named ``experiments``."""
    if category not in CATEGORIES:
        raise ValueError(f"case {name!r}: unknown category {category!r}")

    def register(fn: Callable[[Context], Finding]) -> Callable[[Context], Finding]:
        if name in CASES:
            raise ValueError(f"validation case {name!r} registered twice")
        CASES[name] = CaseSpec(name, category, title, source, fn, tuple(experiments))
        return fn

    return register


class MarketTables(NamedTuple):
    """One replicate of a market: its per-step table (the market's totals), its per-brand
    table, its purchases and its customers (:func:`wommsim.runs.runner.run_replicate` with
    ``brands``)."""

    steps: pd.DataFrame
    brands: pd.DataFrame
    transactions: pd.DataFrame
    customers: pd.DataFrame


@dataclass
class Context:
    """Where and at what size cases run: base seed, worker processes (0 = one per core),
    quick mode (tiny sizes, for tests), the figure folder, and runs shared between cases."""

    figures: Path
    seed: int = 42
    workers: int = 0
    quick: bool = False
    cache: dict[str, Any] = field(default_factory=dict)

    def size(self, full: Any, quick: Any) -> Any:
        """``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full

    def config(self, overrides: Sequence[str], arm: str) -> Config:
        """The packaged defaults with ``overrides`` (command-line style), this context's seed
        and no Mesa agent objects (results are identical without them), labelled ``arm``."""
        cfg = compose(["agents=off", f"seed={self.seed}", *overrides])
        return validate(dataclasses.replace(cfg, arm=arm))

    def run(self, arms: dict[str, Config], replicates: int) -> dict[str, list[pd.DataFrame]]:
        """Run every arm for replicates ``0..replicates-1`` (paired: replicate ``r`` of every
        arm shares its seed) in one parallel batch; per arm, the per-step tables."""
        return self._simulate(arms, replicates, run_task)

    def run_markets(self, arms: dict[str, Config], replicates: int
                    ) -> dict[str, list[MarketTables]]:
        """As :meth:`run`, but per arm and replicate the per-step, per-brand and purchase
        tables (the rows of ``timeseries``, ``brands`` and ``transactions.parquet``; the
        last is empty unless the arm's config sets ``transactions``)."""
        return {name: [MarketTables(*tables) for tables in runs]
                for name, runs in self._simulate(arms, replicates, run_market_task).items()}

    def _simulate(self, arms: dict[str, Config], replicates: int,
                  function: Callable[[tuple[Config, int]], Any]) -> dict[str, list[Any]]:
        names = list(arms)
        tasks = [(arms[name], r) for name in names for r in range(replicates)]
        check_memory([dataclasses.replace(c, replicates=replicates, workers=self.workers)
                      for c in arms.values()],
                     worker_count(self.workers, len(tasks)))
        results = simulate(tasks, self.workers, function=function)
        return {name: results[i * replicates:(i + 1) * replicates]
                for i, name in enumerate(names)}

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per context for ``key`` (runs shared by several cases)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def figure(self, ncols: int = 1, width: float = 6.0, height: float = 4.2):
        """A figure with ``ncols`` axes side by side (:func:`wommsim.reporting.figures.figure`)."""
        fig, axes = figures.figure((width * ncols, height), nrows=1, ncols=ncols, squeeze=False)
        return fig, axes[0]

    def save(self, fig: Figure, name: str) -> str:
        """Write ``fig`` as ``NAME.png`` in the figure folder; its file name."""
        return figures.save(fig, self.figures / f"{name}.png").name


def column(tables: list[pd.DataFrame], name: str) -> np.ndarray:
    """``name`` from each replicate's per-step table: an array replicates x steps."""
    return np.array([t[name].to_numpy(dtype=float) for t in tables])


def run_case(spec: CaseSpec, ctx: Context) -> CaseResult:
    """Run one case and time it."""
    log.info("validation case %s: running", spec.name)
    started = time.perf_counter()
    finding = spec.function(ctx)
    seconds = time.perf_counter() - started
    log.info("validation case %s: %s (%.1f s)", spec.name,
             "pass" if finding.passed else "FAIL", seconds)
    return CaseResult(**vars(finding), name=spec.name, category=spec.category,
                      title=spec.title, source=spec.source, seconds=seconds)


def plain_log_ticks(ax, xticks: Sequence[float]) -> None:
    """Ticks of log axes as plain numbers: ``xticks`` on x, ``%g`` labels on y."""
    ax.set_xticks(list(xticks), [f"{x:g}" for x in xticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)


def pct(x: float, decimals: int = 2) -> str:
    """A share as a percentage."""
    return f"{100 * x:.{decimals}f}%"


def expectation_shift_text(shift: float) -> str:
    """How an offer moves its taker's expected quality, and what that does, in words."""
    if shift == 0:
        return "unchanged (`incentives.expectation_shift` = 0)"
    outcome = "satisfies" if shift < 0 else "disappoints"
    return (f"{'lowered' if shift < 0 else 'raised'} by {abs(shift):g} "
            f"(`incentives.expectation_shift`, price-quality inference), so the product more "
            f"often {outcome} them than full-price buyers (contrast, §3.3.6, §3.3.11)")


def cases_for(experiment: str) -> list[CaseSpec]:
    """The registered cases that bear on ``experiment``, in report order."""
    return [spec for spec in CASES.values() if experiment in spec.experiments]
