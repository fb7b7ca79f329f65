"""Run every arm for every replicate, in parallel, and write the results together.

No Hydra in here: the entry point composes the config, this module runs it, so the runner
can be called from Python and tests with a :class:`~wommsim.config.Config`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from wommsim.attribution import (
    active_levers,
    attribute_task,
    attribution_table,
    contributions,
    incremental_table,
    media_panel,
    no_marketing_totals,
    run_totals,
    with_counterfactual,
)
from wommsim.config import LEVERS, Config, brands_of, validate
from wommsim.experiment import Arm, references, resolve_arms
from wommsim.model import WommModel
from wommsim.network import read_edgelist
from wommsim.reporting.analysis import paired_differences, replicate_outcomes, summarise
from wommsim.reporting.brands import (
    brand_differences,
    brand_outcomes,
    brand_section,
    summarise_brands,
    with_brands,
)
from wommsim.reporting.contributions import (
    contribution_section,
    incremental_section,
    last_touch_credit,
)
from wommsim.reporting.customers import takers_decomposition, takers_section
from wommsim.runs import rundir
from wommsim.runs.memory import check_memory
from wommsim.runs.parallel import progress_bar, worker_count, worker_pool
from wommsim.runs.results import (
    EVERY_RESULT_FILE,
    reuse_results,
    write_atomic,
    write_manifest,
    write_together,
)

log = logging.getLogger(__name__)


def run_replicate(cfg: Config, replicate: int, *, brands: bool = False
                  ) -> pd.DataFrame | tuple[pd.DataFrame, ...]:
    """Simulate one replicate; its per-step table with ``arm`` and ``replicate`` columns
    (and with ``brands``, also its per-brand table, its purchases and its customers, the
    rows of ``brands.parquet``, ``transactions.parquet`` and ``customers.parquet``, the last
    two empty unless ``cfg.transactions``)."""
    model = WommModel(cfg, replicate=replicate)
    for _ in range(cfg.steps):
        model.step()
    if not brands:
        tables = [model.timeseries()]
    else:
        tables = [model.timeseries(), model.brand_timeseries(), model.transaction_table(),
                  model.customer_table() if cfg.transactions else pd.DataFrame()]
    for frame in tables:
        frame.insert(0, "replicate", replicate)
        frame.insert(0, "arm", cfg.arm_name)
    return tuple(tables) if brands else tables[0]


def run_task(task: tuple[Config, int]) -> pd.DataFrame:
    """One ``(config, replicate)`` task (for process pools)."""
    return run_replicate(*task)


def run_market_task(task: tuple[Config, int]) -> tuple[pd.DataFrame, ...]:
    """One ``(config, replicate)`` task: its per-step, per-brand, purchase and customer
    tables."""
    return run_replicate(*task, brands=True)


def simulate(tasks: list[tuple[Config, int]], workers: int,
             progress: Callable[[Iterator], Iterator] | None = None,
             function: Callable = run_task) -> list:
    """Run ``(config, replicate)`` tasks with ``function``, in parallel when ``workers``
    allows; results come back in task order, so a parallel run gives exactly the tables of
    a serial one."""
    workers = worker_count(workers, len(tasks))
    wrap = progress or (lambda it: it)
    if workers == 1:
        return list(wrap(map(function, tasks)))
    with worker_pool(workers) as pool:
        return list(wrap(pool.map(function, tasks)))


def arm_table(arms: list[Arm]) -> pd.DataFrame:
    """Descriptive columns per arm for the summary: the experiment arm it resolves
    (``base_arm``, its name without grid values), strategy, shares, grid values."""
    rows = []
    for arm in arms:
        row: dict[str, object] = {"arm": arm.name, "base_arm": arm.base,
                                  "strategy": arm.config.strategy.name}
        row.update({f"share_{lever}": getattr(arm.config.strategy, lever) for lever in LEVERS})
        row["phases"] = "; ".join(f"{p.name} from step {p.start}" for p in arm.config.phases)
        row.update(arm.params)
        rows.append(row)
    return pd.DataFrame(rows).set_index("arm")


def preflight(arms: list[Arm]) -> list[int]:
    """Refuse a run that will not fit in memory (:func:`wommsim.runs.memory.check_memory`), and
    fail on a malformed edge list, before anything is written.

    A generated network's feasibility is part of config validation, so only an edge list
    (whose lines are checked by reading it) is read here; generated networks are built once,
    by the replicates. Returns each arm's population: ``consumers``, or for an edge list the
    file's."""
    configs = [arm.config for arm in arms]
    check_memory(configs, worker_count(configs[0].workers, sum(c.replicates for c in configs)))
    read = {path: read_edgelist(path).n
            for path in sorted({c.network.path for c in configs if c.network.kind == "edgelist"})}
    return [read[c.network.path] if c.network.kind == "edgelist" else c.consumers
            for c in configs]


def as_run(cfg: Config, arms: list[Arm], populations: list[int]) -> Config:
    """``cfg`` with ``consumers`` the population its network holds (for an edge list, the
    file's, whatever ``consumers=`` says), for the report."""
    for arm, n in zip(arms, populations, strict=True):
        if (arm.config.network, arm.config.consumers) == (cfg.network, cfg.consumers):
            return dataclasses.replace(cfg, consumers=n)
    return cfg


def run(cfg: Config, outdir: Path, *, resume: bool = False) -> pd.DataFrame:
    """Validate, pre-flight the networks, simulate every arm x replicate, write results.

    ``manifest.json`` says ``completed: false`` while the run is under way and ``true`` once
    every result is in place; each result appears only whole (temporary name, then rename),
    so an interrupted run never leaves a file that looks complete. With ``resume``, an
    ``outdir`` that already holds the complete results of this configuration
    (:func:`completed_results`) is kept as it is and its per-step table returned.
    ``outdir`` is locked while the run writes there, and refused if another run holds it
    or it holds result files no wommsim run wrote (:mod:`wommsim.runs.rundir`).
    """
    validate(cfg)
    if resume and (reused := reuse_results(outdir, cfg)) is not None:
        return reused
    arms = resolve_arms(cfg)
    populations = preflight(arms)
    with rundir.claimed(outdir, cfg.overwrite):
        return _run(cfg, arms, populations, outdir)


def _run(cfg: Config, arms: list[Arm], populations: list[int], outdir: Path) -> pd.DataFrame:
    started = time.perf_counter()
    write_manifest(outdir, cfg, arms, completed=False, wall_time=None,
                   populations=populations)

    tasks = [(arm.config, r) for arm in arms for r in range(cfg.replicates)]
    label = cfg.experiment.name if cfg.experiment else cfg.arm_name
    log.info("%s: %d arms x %d replicates on %d processes", label, len(arms), cfg.replicates,
             worker_count(cfg.workers, len(tasks)))
    results = simulate(tasks, cfg.workers, progress_bar(len(tasks), label), run_market_task)
    timeseries, brands, transactions, customers = (pd.concat(tables, ignore_index=True)
                                                   for tables in zip(*results, strict=True))
    population = {arm.name: n for arm, n in zip(arms, populations, strict=True)}
    customer_level = (transactions, customers, population) if cfg.transactions else None
    counterfactual = None
    if cfg.attribution == "counterfactual":
        counterfactual = counterfactual_runs(arms, cfg.replicates, cfg.workers, label)
    write_results(outdir, as_run(cfg, arms, populations), arms, timeseries, brands,
                  customer_level, time.perf_counter() - started, counterfactual)
    write_manifest(outdir, cfg, arms, completed=True, wall_time=time.perf_counter() - started,
                   populations=populations)
    log.info("results written to %s", outdir)
    return timeseries


def counterfactual_runs(arms: list[Arm], replicates: int, workers: int, label: str
                        ) -> list[dict[str, object]]:
    """Every arm's counterfactual runs (:func:`wommsim.attribution.attribute_replicate`),
    replicate by replicate, in parallel; the rows in task order (so serial and parallel
    runs give the same tables)."""
    tasks = [(arm.config, r) for arm in arms
             if any(active_levers(brand.config) for brand in brands_of(arm.config))
             for r in range(replicates)]
    if not tasks:
        return []
    runs = sum(2 ** len(active_levers(brand.config))
               for cfg, _ in tasks for brand in brands_of(cfg))
    log.info("%s: counterfactual attribution, %d runs (every subset of each arm's levers) "
             "in %d tasks", label, runs, len(tasks))
    results = simulate(tasks, workers, progress_bar(len(tasks), f"{label} attribution"),
                       attribute_task)
    return [row for rows in results for row in rows]


def write_results(outdir: Path, cfg: Config, arms: list[Arm], timeseries: pd.DataFrame,
                  brands: pd.DataFrame,
                  customer_level: tuple[pd.DataFrame, pd.DataFrame, dict[str, int]] | None,
                  wall_time: float, counterfactual: list[dict[str, object]] | None = None
                  ) -> None:
    """Tables, figures and the report, all or none (:func:`write_together`): even a run
    killed while writing (SIGKILL, power loss) leaves no result outside a folder marked
    partial, and a failure or an interrupt leaves the folder as it was. ``counterfactual``
    holds the rows of the counterfactual runs (``attribution=counterfactual``)."""
    write_together(outdir, EVERY_RESULT_FILE,
                   lambda stage: _write_result_files(stage, cfg, arms, timeseries, brands,
                                                     customer_level, wall_time,
                                                     counterfactual))


def _write_result_files(outdir: Path, cfg: Config, arms: list[Arm], timeseries: pd.DataFrame,
                        brands: pd.DataFrame,
                        customer_level: tuple[pd.DataFrame, pd.DataFrame, dict[str, int]] | None,
                        wall_time: float,
                        counterfactual: list[dict[str, object]] | None) -> None:
    """Tables, figures and the report into ``outdir``, each written atomically."""
    from wommsim.reporting.plots import save_figures
    from wommsim.reporting.report import write_report
    from wommsim.studies.robustness import claim_lines  # the studies import the runner

    pairs = references(cfg, arms)  # each compared arm's reference (within its grid values)
    market = replicate_outcomes(timeseries, cfg.economics, brands)
    per_brand = brand_outcomes(brands, cfg.economics.steps_per_year)
    market_summary = summarise(timeseries, market, arm_table(arms))
    market_differences = paired_differences(market, pairs)
    # The tables of record have one row per arm (and replicate) and brand: the market's
    # outcomes, then the brand's; differences.csv names the brand of a brand outcome.
    outcomes = with_brands(market, per_brand, ("arm", "replicate"))
    brand_summary = summarise_brands(per_brand)
    brand_diffs = brand_differences(per_brand, pairs)
    attribution = (attribution_table(contributions(counterfactual))
                   if counterfactual is not None else None)
    incremental = incremental_table(run_totals(brands),
                                    no_marketing_totals(counterfactual or []), pairs)
    brand_summary = with_counterfactual(brand_summary, attribution, incremental)
    summary = with_brands(market_summary, brand_summary)
    differences = pd.concat([market_differences.assign(brand=""), brand_diffs],
                            ignore_index=True)
    grid_keys = list(cfg.experiment.grid) if cfg.experiment else []

    write_atomic(outdir / "timeseries.parquet", lambda p: timeseries.to_parquet(p, index=False))
    write_atomic(outdir / "timeseries.csv", lambda p: timeseries.to_csv(p, index=False))
    write_atomic(outdir / "brands.parquet", lambda p: brands.to_parquet(p, index=False))
    takers = None
    if customer_level is not None:  # transactions=true
        transactions, customers, population = customer_level
        for name, table in (("transactions", transactions), ("customers", customers)):
            write_atomic(outdir / f"{name}.parquet",
                         lambda p, t=table: t.to_parquet(p, index=False))
        takers = takers_decomposition(customers, pairs, population)
        if not takers.empty:
            write_atomic(outdir / "takers.csv", lambda p: takers.to_csv(p, index=False))
    write_atomic(outdir / "outcomes.csv", lambda p: outcomes.to_csv(p, index=False))
    write_atomic(outdir / "summary.csv", lambda p: summary.to_csv(p, index=False))
    write_atomic(outdir / "differences.csv", lambda p: differences.to_csv(p, index=False))
    if attribution is not None:
        write_atomic(outdir / "attribution.csv", lambda p: attribution.to_csv(p, index=False))
    if not incremental.empty:
        write_atomic(outdir / "incremental.csv", lambda p: incremental.to_csv(p, index=False))
    if counterfactual is not None:
        panel = media_panel(counterfactual, brands)
        write_atomic(outdir / "media_panel.csv", lambda p: panel.to_csv(p, index=False))

    figures: list[Path] = []

    def draw(tmp: Path) -> None:
        tmp.mkdir()
        figures.extend(outdir / "figures" / f.name
                       for f in save_figures(timeseries, market, market_summary, tmp,
                                             grid_keys, cfg.figures, attribution,
                                             bass=any(a.config.decision.rule == "bass"
                                                      for a in arms)))

    write_atomic(outdir / "figures", draw)
    brand_lines = [*(contribution_section(attribution, last_touch_credit(brands))
                     if attribution is not None else []),
                   *incremental_section(incremental),
                   *brand_section(brand_summary, brand_diffs),
                   *(takers_section(takers) if takers is not None else [])]
    write_report(outdir / "report.md", cfg, [a.name for a in arms], market_summary,
                 market_differences, figures, wall_time, brand_lines,
                 claim_lines(cfg, arms, market, per_brand))  # atomically
