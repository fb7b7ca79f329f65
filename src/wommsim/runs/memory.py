"""Estimate the memory a run needs before building its markets, and refuse runs that won't fit.

A market of ``n`` consumers on a graph with ``E`` stored adjacency entries (twice the
undirected edges) costs, per process holding it:

* building the graph: generator temporaries, ``NETWORKS[kind].build_bytes_per_entry * E``
  (the peak of a run on a sparse graph is reached here, inside ``build_network``);
* holding it: the CSR adjacency (index and ``float32`` data per entry, an index per
  consumer), the consumer state (the itemsizes of :data:`wommsim.state.STATE_VARS`, a
  variable with the brand axis once per brand of the market), the model's per-consumer
  arrays (:data:`MODEL_BYTES_PER_CONSUMER`, and :data:`MODEL_BYTES_PER_BRAND` for every
  further brand) and a step's temporaries (:data:`STEP_BYTES_PER_ENTRY` per entry: word of
  mouth draws per edge of every speaker; the brands talk one after another);
* with ``transactions=true``, the purchase log at the end of the run
  (:data:`LOG_BYTES_PER_PURCHASE` per purchase, :func:`logged_purchases` of them);
* with Mesa agents on: :data:`AGENT_BYTES_PER_CONSUMER` and a networkx graph
  (:data:`AGENT_BYTES_PER_ENTRY`).

The market's peak is the larger of building and holding (with the log), plus agents. Every
process also holds the interpreter with its imports (:data:`INTERPRETER_BYTES`). Replicates
run on ``worker_count(workers, tasks)`` processes at once, each holding one market, beside the
main process, which gathers every replicate's tables (the per-step rows, one row per brand a
step, and the purchase logs: :data:`RESULT_LOG_BYTES_PER_PURCHASE`). The coefficients were
measured on Linux, Python 3.12, NumPy 2 (``benchmarks/bench_memory.py`` prints estimate
against measurement); each is rounded up.

The available memory is ``MemAvailable`` from ``/proc/meminfo``, lowered to the cgroup's
limit minus its usage where a cgroup (v2 or v1) limits this process; elsewhere the
``sysconf`` count of available pages; if nothing is known the check is skipped (logged).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wommsim.config import Config, ConfigError, brands_of, input_file_problem
from wommsim.network import NETWORKS

log = logging.getLogger(__name__)

MB = 1024**2
GB = 1024**3

#: Resident memory of a process after importing wommsim, pandas, SciPy, Mesa, Hydra:
#: 153-192 MB measured. About 86 MB of it is the heap; the rest is the shared libraries'
#: pages, 64-104 MB depending on how they sit in the page cache (most in a fresh install).
#: Rounded up.
INTERPRETER_BYTES = 210 * MB

#: Reading an edge list: Python strings and tuples per line, then label arrays; measured
#: 590 B per line on 2M lines of 25.5 bytes (``user123,user456,1.0``), fitted as
#: ``EDGELIST_BYTES_PER_LINE + EDGELIST_BYTES_PER_CHAR * mean line length`` and rounded up.
EDGELIST_BYTES_PER_LINE = 380.0
EDGELIST_BYTES_PER_CHAR = 10.0
#: A step's temporaries per stored entry when everyone talks (conversations are drawn by
#: geometric skips, so this is per conversation rather than per edge): 8.2 B measured on a
#: complete graph of 3,000 consumers (9M entries), rounded up.
STEP_BYTES_PER_ENTRY = 10.0
#: Per consumer, besides the state arrays: adopted-neighbour counts (float64), degree
#: (int32), hub order (int64), the social-proof share (float64) and the opinion rule's
#: six-column utility matrix (float64) for a market of aware non-adopters.
MODEL_BYTES_PER_CONSUMER = 8 + 4 + 8 + 8 + 6 * 8
#: Per consumer and further brand: its adopted-neighbour counts (float64), and in the
#: decision its social-proof share and its row of the brands' utilities (float64 each).
MODEL_BYTES_PER_BRAND = 8 + 8 + 8
#: The purchase log (``transactions=true``) in the process that runs a replicate, per
#: purchase: 30 B of arrays while the run lasts (consumer int64, step int32, price paid and
#: discount float64, channel and acquired_by int8), then ``transaction_table`` builds its
#: DataFrame (brand and acquired_by as object columns), concatenates and sorts it: a peak
#: of 141-143 B per purchase measured (200,000 consumers, duel, 52 steps), rounded up.
LOG_BYTES_PER_PURCHASE = 160
#: The same log in the main process, per purchase of every replicate: each replicate's
#: table (67 B a row with its arm and replicate columns), their concatenation (a second
#: copy) and the parquet file's Arrow copy while it is written: 160 B measured on 4M rows,
#: rounded up.
RESULT_LOG_BYTES_PER_PURCHASE = 180
#: Mesa ``Consumer`` agents with their cells, and the networkx graph Mesa's ``Network``
#: space is built from: 1.7-1.9 kB per consumer measured at 10k and 50k consumers with 8
#: entries each, split as below (rounded up).
AGENT_BYTES_PER_CONSUMER = 1500.0
AGENT_BYTES_PER_ENTRY = 130.0
#: What a counterfactual attribution task keeps per consumer for each of its runs (one per
#: subset of the levers, :mod:`wommsim.attribution`): bought or not (1 B) and four outcomes
#: (8 B each); and the live run's ledger (purchases 4 B, revenue and value 8 B each).
COUNTERFACTUAL_BYTES_PER_RUN = 1 + 4 * 8
LEDGER_BYTES_PER_CONSUMER = 4 + 8 + 8
#: A row of the per-step results table (about 45 numeric columns), with the copies made
#: while concatenating and writing it.
RESULT_BYTES_PER_ROW = 45 * 8 * 4


@dataclass(frozen=True)
class Estimate:
    """Bytes a run needs at its peak, with the parts the message explains."""

    consumers: int
    entries: int  # stored adjacency entries (2 x undirected edges)
    market: int  # one market at its peak (graph build or steady state + step, + agents)
    processes: int  # processes holding a market at once
    interpreters: int  # interpreter bytes over all processes
    results: int  # the results table
    rows: int = 0  # rows of the per-step table (steps + 1 per replicate of each arm)
    largest: Config | None = None  # the arm whose market is the largest
    purchases: int = 0  # purchases logged per replicate of that arm (transactions=true)
    log: int = 0  # every replicate's purchase log in the main process
    counterfactual: int = 0  # per process: an attribution task's kept runs and ledger

    @property
    def total(self) -> int:
        return (self.processes * (self.market + self.counterfactual) + self.interpreters
                + self.results + self.log)

    @property
    def market_log(self) -> int:
        """The purchase log's part of one market's peak."""
        return self.purchases * LOG_BYTES_PER_PURCHASE


def stored_entries(cfg: Config) -> int:
    """Expected stored adjacency entries (2 x undirected edges) of a generated network."""
    count = NETWORKS[cfg.network.kind].stored_entries
    if count is None:
        raise ConfigError(f"network.kind={cfg.network.kind!r}: no edge count for this kind")
    return count(cfg.network, cfg.consumers)


def edgelist_size(path: str) -> tuple[int, int]:
    """``(lines, bytes)`` of an edge-list file, read in 16 MiB chunks; ``(0, 0)`` if it
    cannot be read or is not a regular file (never read: a FIFO would block; the loader
    then reports the file's problem)."""
    if input_file_problem(path):
        return 0, 0
    lines = size = 0
    last = b"\n"
    try:
        with open(path, "rb") as file:
            while chunk := file.read(16 * MB):
                lines += chunk.count(b"\n")
                size += len(chunk)
                last = chunk[-1:]
    except OSError:
        return 0, 0
    return lines + (last != b"\n"), size


def state_bytes_per_consumer(brands: int = 1) -> int:
    """Bytes of the consumer state arrays per consumer, from their declared dtypes and axes
    (a variable with the brand axis has one entry per brand)."""
    from wommsim.state import BRAND, STATE_VARS

    return sum(np.dtype(var.dtype).itemsize * (brands if var.axes == BRAND else 1)
               for var in STATE_VARS.values())


def logged_purchases(cfg: Config, consumers: int | None = None) -> int:
    """Purchases one replicate logs with ``transactions=true`` (0 without), at most: in a
    durable category a consumer buys once, whichever brand (existing customers at step 0
    are not logged), so ``consumers``; in a repeat one, a purchase occasion is at most one
    purchase and a consumer has ``1 / market.interpurchase_steps`` of them a step on average,
    so ``consumers × steps / market.interpurchase_steps`` (fewer: not every occasion ends in
    a purchase, and a consumer who knows no brand does not shop)."""
    if not cfg.transactions:
        return 0
    n = cfg.consumers if consumers is None else consumers
    if cfg.market.category == "durable":
        return n
    return int(np.ceil(n * cfg.steps / cfg.market.interpurchase_steps))


def market_bytes(cfg: Config) -> tuple[int, int, int]:
    """``(consumers, stored entries, peak bytes)`` of one market of this configuration,
    with its brands (:func:`wommsim.config.brands_of`) and its purchase log.

    For an edge list the file decides: one undirected edge per line, and as many consumers
    as lines (a mean degree of 2; denser files have fewer).
    """
    brands = len(brands_of(cfg))
    if cfg.network.kind == "edgelist":
        lines, size = edgelist_size(cfg.network.path)
        n, entries = lines, 2 * lines
        build = lines * (EDGELIST_BYTES_PER_LINE
                         + EDGELIST_BYTES_PER_CHAR * (size / lines if lines else 0))
    else:
        n, entries = cfg.consumers, stored_entries(cfg)
        build = NETWORKS[cfg.network.kind].build_bytes_per_entry * entries
    index = 4 if entries < 2**31 and n < 2**31 else 8
    # CSR indices and float32 data, indptr, and the model's source of every stored entry
    graph = entries * (index + 4) + (n + 1) * index + entries * index
    if NETWORKS[cfg.network.kind].marks_ties:  # float32 tie strengths, int32 communities
        graph += 4 * entries + 4 * n
    held = (graph + n * (state_bytes_per_consumer(brands) + MODEL_BYTES_PER_CONSUMER
                         + MODEL_BYTES_PER_BRAND * (brands - 1))
            + STEP_BYTES_PER_ENTRY * entries)
    # The log is whole at the end of the run, long after the graph's build temporaries.
    peak = max(build + 16 * n, held + LOG_BYTES_PER_PURCHASE * logged_purchases(cfg, n))
    if cfg.agents == "on":  # with auto, a run builds none (they are built when first read)
        peak += AGENT_BYTES_PER_CONSUMER * n + AGENT_BYTES_PER_ENTRY * entries
    return n, entries, int(peak)


def counterfactual_bytes(cfg: Config, n: int) -> int:
    """What one process holds besides the market for a counterfactual attribution task of
    ``cfg`` (``attribution=counterfactual``) in a market of ``n`` consumers: every run of
    the largest brand's lever subsets, kept per consumer, and the ledger; 0 otherwise."""
    if cfg.attribution != "counterfactual":
        return 0
    from wommsim.attribution import active_levers

    runs = max(2 ** len(active_levers(brand.config)) for brand in brands_of(cfg))
    if runs == 1:
        return 0
    return n * (runs * COUNTERFACTUAL_BYTES_PER_RUN + LEDGER_BYTES_PER_CONSUMER)


def estimate(configs: list[Config], workers: int) -> Estimate:
    """The peak memory of running ``configs`` (one per arm) on ``workers`` processes.

    The largest arm's market is assumed on every worker at once; the main process holds
    its interpreter, every replicate's tables (the per-step table, as many rows again per
    brand for ``brands.parquet``, and the purchase logs) and, with more than one worker, no
    market (it pre-flights the network before the workers start, which the single-process
    peak covers).
    """
    markets: dict[tuple, tuple[tuple[int, int, int], Config]] = {}
    log = 0
    for c in configs:  # arms or points that share a market are estimated once
        key = (repr(c.network), c.consumers, c.agents, len(brands_of(c)), logged_purchases(c))
        if key not in markets:
            markets[key] = (market_bytes(c), c)
        log += c.replicates * logged_purchases(c, markets[key][0][0])
    (n, entries, market), largest = max(markets.values(), key=lambda m: m[0][2])
    tasks = sum(c.replicates for c in configs)
    rows = tasks * (max(c.steps for c in configs) + 1)
    brands = max(len(brands_of(c)) for c in configs)
    processes = workers + (1 if workers > 1 else 0)
    return Estimate(consumers=n, entries=entries, market=market, processes=workers,
                    counterfactual=max(counterfactual_bytes(c, n) for c in configs),
                    interpreters=processes * INTERPRETER_BYTES,
                    results=rows * (1 + brands) * RESULT_BYTES_PER_ROW, rows=rows,
                    largest=largest, purchases=logged_purchases(largest, n),
                    log=log * RESULT_LOG_BYTES_PER_PURCHASE)


# -- what is available ------------------------------------------------------------------------

def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) -> None


def _meminfo_available(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom(root: Path, self_cgroup: Path) -> int | None:
    """Limit minus usage of the tightest cgroup (v2, else v1) holding this process."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return None
    best: int | None = None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: memory.max / memory.current up the tree
            node = root / path.lstrip("/")
            while True:
                limit = _read_int(node / "memory.max")
                used = _read_int(node / "memory.current")
                if limit is not None:
                    room = limit - (used or 0)
                    best = room if best is None else min(best, room)
                if node == root or root not in node.parents:
                    break
                node = node.parent
        elif "memory" in controllers.split(","):  # cgroup v1
            node = root / "memory" / path.lstrip("/")
            limit = _read_int(node / "memory.limit_in_bytes")
            used = _read_int(node / "memory.usage_in_bytes")
            if limit is not None and limit < 2**60:  # v1 says "no limit" with a huge number
                room = limit - (used or 0)
                best = room if best is None else min(best, room)
    return best


def available_bytes(meminfo: Path = Path("/proc/meminfo"),
                    cgroup_root: Path = Path("/sys/fs/cgroup"),
                    self_cgroup: Path = Path("/proc/self/cgroup")) -> tuple[int | None, str]:
    """``(bytes, where from)`` of memory this process can still use; ``None`` if unknown."""
    found = _meminfo_available(meminfo)
    source = "MemAvailable in /proc/meminfo"
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            source = "available physical pages (sysconf)"
        except (ValueError, OSError, AttributeError):
            found = None
    headroom = _cgroup_headroom(cgroup_root, self_cgroup)
    if headroom is not None and (found is None or headroom < found):
        found, source = max(headroom, 0), "the cgroup's memory limit minus its usage"
    return found, source


def _size(value: float) -> str:
    return f"{value / GB:.1f} GB" if value >= GB else f"{value / MB:.0f} MB"


def check_memory(configs: list[Config], workers: int) -> Estimate:
    """Raise :class:`ConfigError` if the run will not fit in memory (unless ``force_memory``).

    The message gives the estimate, what is available and how to proceed.
    """
    need = estimate(configs, workers)
    have, source = available_bytes()
    log.debug("memory: need about %s (%d x %s per market), available %s", _size(need.total),
              need.processes, _size(need.market), "unknown" if have is None else _size(have))
    if have is None:
        log.info("memory: available memory unknown on this system; not checked")
        return need
    if need.total <= have:
        return need
    if any(c.force_memory for c in configs):
        log.warning("memory: this run needs about %s but only %s is available (%s); "
                    "running anyway (force_memory=true)", _size(need.total), _size(have),
                    source)
        return need
    first = configs[0]
    holders = (f"{need.processes} parallel processes (workers={first.workers}) each hold"
               if need.processes > 1 else "one process holds")
    market = need.largest or first
    # Name the key that drives the estimate, and the way out that helps.
    logs = need.processes * need.market_log + need.log
    parts = {"market": need.processes * need.market - need.processes * need.market_log,
             "log": logs, "results": need.results, "interpreters": need.interpreters,
             "attribution": need.processes * need.counterfactual}
    driver = max(parts, key=parts.get)
    each = (f"{_size(need.market - need.market_log)} each besides its log" if driver == "log"
            else f"{_size(need.market)} each")
    markets = (f"{holders} a market of {need.consumers:,} consumers on a "
               f"{market.network.kind} network with {need.entries // 2:,} edges ({each})")
    steps = max(c.steps for c in configs)
    arms = f" x {len(configs)} arms" if len(configs) > 1 else ""
    table = (f"the results tables of {need.rows:,} rows ({steps + 1:,} per replicate{arms}) "
             f"and as many per brand take {_size(need.results)}")
    python = f"{_size(need.interpreters)} for the Python processes"
    if driver == "log":
        durable = market.market.category == "durable"
        key = "transactions=true" + ("" if durable else f", steps={steps}")
        how = ("at most one per consumer in a durable category" if durable else
               "consumers x steps / market.interpurchase_steps purchase occasions")
        detail = (f"the purchase log of up to {need.purchases:,} purchases per replicate "
                  f"({how}) takes {_size(logs)} in the replicates' processes and the one that "
                  f"gathers them; {markets}, plus {python}")
        fewer = "transactions=false, fewer " + ("consumers" if durable else "steps") + \
            " or replicates"
    elif driver == "results":
        key = f"steps={steps}, replicates={first.replicates}"
        detail, fewer = f"{table}; {markets}, plus {python}", "fewer steps or replicates"
    elif driver == "attribution":
        key = "attribution=counterfactual"
        detail = (f"each of {need.processes} processes keeps every counterfactual run of an "
                  f"arm's levers per consumer ({_size(need.counterfactual)}) beside {markets}, "
                  f"plus {python}")
        fewer = "attribution=last_touch, fewer consumers or workers=1"
    elif driver == "interpreters":
        key = f"workers={first.workers}"
        detail = f"{need.processes + (need.processes > 1)} processes hold {python}; {markets}"
        fewer = "fewer workers"
    else:
        key = (f"network.path={market.network.path!r}" if market.network.kind == "edgelist"
               else f"consumers={need.consumers}")
        detail = f"{markets}, plus {python}"
        fewer = ("a smaller network" if market.network.kind == "edgelist" else
                 "fewer consumers") + (" or workers=1" if need.processes > 1 else "")
    raise ConfigError(
        f"{key}: this run needs about {_size(need.total)} of memory but only {_size(have)} "
        f"is available ({source}): {detail}. Use {fewer}, or set force_memory=true to run "
        "anyway.")
