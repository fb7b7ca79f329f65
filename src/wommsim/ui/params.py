"""The UI's controls, built from the configuration schema and the packaged defaults.

One source of truth: each control's default comes from the composed default configuration
(``wommsim.compose.compose([])``, the same as the command line), its range from the
schema's ``lo``/``hi`` (:func:`wommsim.config.iter_params`), narrowed where a slider needs
a finite span (``UI_SPAN``), its tooltip and unit from the schema's doc and unit
(:func:`value_text` shows a value with its unit). The keys are the model's keywords
(``section__key`` for nested parameters), so a page builds the model by calling it with
the settings, as Mesa's SolaraViz would.

A market of several brands (the ``duel`` preset) has each brand's own strategy, budget and
quality (:func:`brand_controls`, e.g. ``market.brands.a.strategy``, keyword
``market__brands__a__strategy``): copies of the run's controls, whose value a brand would
otherwise take.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wommsim.compose import compose, configs_dir
from wommsim.config import Config, brands_of, iter_params

#: Networks offered in the UI (``edgelist`` needs a file, so it is left to the CLI).
UI_NETWORKS_EXCLUDED = ("edgelist",)

#: The numeric controls, in display order: dotted key -> short label.
CONTROLS: dict[str, str] = {
    "steps": "Horizon",
    "consumers": "Consumers",
    "consumer.ad_blind_fraction": "Never-click share (ad-blind)",
    "brand.budget_per_consumer": "Budget per consumer per week",
    "brand.quality": "Product quality",
    "advertising.awareness_prob": "Ads: awareness per impression",
    "dialogue.recovery_prob": "Dialogue: complaint recovery",
    "content.meaningfulness": "Content: meaningfulness",
    "content.sustainability": "Content: sustainability",
    "reviews.invited_review_prob": "Reviews: invited review chance",
    "incentives.expectation_shift": "Incentives: expectation shift",
    "wom.talk_prob": "Word of mouth: talk chance",
    "wom.negativity_bias": "Word of mouth: negativity bias",
}

#: Where a schema range is too wide for a slider: (lo, hi, step) within the schema's range.
UI_SPAN: dict[str, tuple[float, float, float]] = {
    "steps": (10, 520, 1),
    "consumers": (100, 20_000, 100),
    "brand.budget_per_consumer": (0.0, 1.0, 0.01),
    "wom.negativity_bias": (0.0, 10.0, 0.1),
    "incentives.expectation_shift": (-1.0, 1.0, 0.05),
    "wom.talk_prob": (0.0, 0.3, 0.005),
}
#: Slider step for other float controls.
DEFAULT_STEP = 0.01
#: The settings each brand of a market with several brands has of its own in the UI: the
#: run's control whose value a brand takes unless set (``market.brands.<name>.<key>``).
BRAND_KEYS: dict[str, str] = {"strategy": "strategy",
                              "budget_per_consumer": "brand.budget_per_consumer",
                              "quality": "brand.quality"}


@dataclass(frozen=True)
class Control:
    key: str  # dotted config key, e.g. "consumer.ad_blind_fraction"
    label: str
    kind: str  # "int", "float", "choice", "text"
    value: Any
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""
    unit: str = ""  # the schema's unit, e.g. "share", "money per step"

    @property
    def keyword(self) -> str:
        """The model keyword: ``section__key`` for nested keys."""
        return self.key.replace(".", "__")


@functools.lru_cache(maxsize=1)
def default_config() -> Config:
    """The packaged default configuration, as the command line composes it."""
    return compose([])


def presets(group: str) -> tuple[str, ...]:
    """Preset names of a config group (``strategy``, ``network``), from ``configs/GROUP/``."""
    names = sorted(p.stem for p in (configs_dir() / group).glob("*.yaml"))
    if group == "network":
        names = [n for n in names if n not in UI_NETWORKS_EXCLUDED]
    return tuple(names)


def _fields() -> dict[str, tuple[Any, Any]]:
    """Dotted key -> (field, default value) for every leaf of the default config."""
    return {key: (f, value) for key, f, value in iter_params(default_config())}


@functools.lru_cache(maxsize=1)
def controls() -> tuple[Control, ...]:
    """Every UI control with its default, range, step and label."""
    cfg = default_config()
    fields = _fields()
    out = [
        Control("market", "Market", "choice", cfg.market.name, choices=presets("market"),
                doc="the brands competing for the consumers (configs/market/)"),
        Control("market.category", "Category", "choice", cfg.market.category,
                choices=fields["market.category"][0].metadata["choices"],
                doc=fields["market.category"][0].metadata["doc"]),
        Control("strategy", "Strategy", "choice", cfg.strategy.name,
                choices=presets("strategy"),
                doc="how the brand splits its budget (configs/strategy/)"),
        Control("network", "Network", "choice", cfg.network.kind,
                choices=presets("network"), doc="social graph generator (configs/network/)"),
    ]
    for key, label in CONTROLS.items():
        f, value = fields[key]
        meta = f.metadata
        lo, hi = meta.get("lo"), meta.get("hi")
        step = DEFAULT_STEP
        if key in UI_SPAN:
            ui_lo, ui_hi, step = UI_SPAN[key]
            lo = ui_lo if lo is None else max(lo, ui_lo)
            hi = ui_hi if hi is None else min(hi, ui_hi)
        if not lo <= value <= hi:
            raise ValueError(f"{key}: default {value} outside the UI range [{lo}, {hi}]")
        kind = "int" if isinstance(value, int) and not isinstance(value, bool) else "float"
        out.append(Control(key, label, kind, value, lo, hi,
                           int(step) if kind == "int" else step, doc=meta.get("doc", ""),
                           unit=meta.get("unit", "")))
    seed_field, seed = fields["seed"]
    out.append(Control("seed", "Seed", "text", seed, seed_field.metadata["lo"],
                       seed_field.metadata["hi"], doc=seed_field.metadata["doc"]))
    return tuple(out)


def control(key: str) -> Control:
    for c in (*controls(), *brand_controls()):
        if c.key == key:
            return c
    raise KeyError(key)


@functools.lru_cache(maxsize=8)
def market_brands(market: str) -> tuple[str, ...]:
    """The brands of a market preset, in order (``duel``: ``a``, ``b``)."""
    return tuple(b.name for b in brands_of(compose([f"market={market}"])))


@functools.lru_cache(maxsize=1)
def brand_controls() -> tuple[Control, ...]:
    """The settings of each brand of every preset market with several brands
    (:data:`BRAND_KEYS`, e.g. ``market.brands.a.strategy``), with the run's defaults."""
    run = {c.key: c for c in controls()}
    out = []
    for market in presets("market"):
        names = market_brands(market)
        if len(names) < 2:
            continue
        for name in names:
            for key, run_key in BRAND_KEYS.items():
                c = run[run_key]
                out.append(dataclasses.replace(
                    c, key=f"market.brands.{name}.{key}",
                    label=f"Brand {name}: {c.label[0].lower()}{c.label[1:]}"))
    return tuple(dict((c.key, c) for c in out).values())


def brand_controls_of(market: str) -> tuple[Control, ...]:
    """The brand settings of this market's brands (none for a market of one brand)."""
    names = market_brands(market)
    if len(names) < 2:
        return ()
    return tuple(c for c in brand_controls() if c.key.split(".")[2] in names)


def defaults() -> dict[str, Any]:
    """Model keyword -> default value for every control."""
    return {c.keyword: c.value for c in controls()}


def value_text(c: Control, value: float) -> str:
    """A numeric control's value with its unit, as the page shows it beside the slider.

    Shares and probabilities in percent ("96%", "3.0% per neighbour per week"), a factor as
    "×2.0", money without the word ("1,000 per week"), anything else as number and unit
    ("10,000 consumers"); as many decimals as the slider's step has. The UI calls a step a
    week (the model's default step).
    """
    digits = max(0, -Decimal(str(c.step)).normalize().as_tuple().exponent)
    unit = c.unit.replace("steps (weeks)", "steps")  # the horizon: weeks already
    first, _, rest = unit.partition(" ")
    if first in ("share", "probability"):
        text = f"{value:.{max(0, digits - 2)}%} {rest}"
    elif unit == "factor":
        text = f"×{value:.{digits}f}"
    else:
        sign = "+" if c.lo is not None and c.lo < 0 else ""  # a signed scale shows its sign
        text = f"{value:{sign},.{digits}f} {unit.removeprefix('money ')}"
    return text.replace("step", "week").strip()


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["consumers=500", "strategy=ad_heavy"]`` -> model keywords with typed values.

    Only the UI's controls can be set this way (they are what the page shows); values are
    converted to the control's type and checked against its range.
    """
    by_key = {c.key: c for c in (*controls(), *brand_controls())}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in by_key:
            raise ValueError(f"{item!r}: expected KEY=VALUE with KEY one of "
                             f"{', '.join(by_key)}")
        c = by_key[key]
        out[c.keyword] = coerce(c, text.strip())
    return out


def coerce(c: Control, value: Any) -> Any:
    """Convert a control's value to its type and check its range (raises ValueError)."""
    if c.kind == "choice":
        if value not in c.choices:
            raise ValueError(f"{c.key}={value!r}: must be one of {', '.join(c.choices)}")
        return value
    try:
        number = int(str(value).strip()) if c.kind in ("int", "text") else float(value)
    except ValueError:
        raise ValueError(f"{c.key}={value!r}: must be "
                         f"{'a whole number' if c.kind != 'float' else 'a number'}") from None
    if not c.lo <= number <= c.hi:
        raise ValueError(f"{c.key}={value!r}: must be between {c.lo:g} and {c.hi:g}")
    return number
