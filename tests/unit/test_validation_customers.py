"""The validation cases on customers and markets: their measures on hand-made purchase logs
and brand tables, the brand-level runs they use, and their registration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wommsim.config import EconomicsConfig, brands_of
from wommsim.validation import CASES
from wommsim.validation.core import Context, MarketTables
from wommsim.validation.customers import (
    MARKETING,
    brand_share,
    customer_values,
    inside,
    mirrored,
    overlaps,
    value_ratio,
    with_brands_reversed,
)

COLUMNS = ["consumer", "brand", "step", "price_paid", "discount", "channel", "acquired_by"]


def _log() -> pd.DataFrame:
    """Purchases at a list price of 50 (unit cost 30 at margin 0.4): consumer 1 acquired by
    an offer (35% off its first purchase), consumer 2 by word of mouth (and of brand
    ``other`` too), consumer 3 by ads after the acquisition window, consumer 4 an existing
    customer (no acquisition source)."""
    rows = [
        (1, "brand", 2, 32.5, 17.5, 2, "incentives"),
        (1, "brand", 5, 50.0, 0.0, 1, "incentives"),
        (1, "brand", 20, 50.0, 0.0, 2, "incentives"),   # 18 steps after its first: outside
        (2, "brand", 3, 50.0, 0.0, 2, "wom"),
        (2, "brand", 4, 50.0, 0.0, 2, "wom"),
        (2, "brand", 12, 50.0, 0.0, 2, "wom"),           # 9 steps after: inside
        (2, "other", 6, 50.0, 0.0, 2, "wom"),
        (3, "brand", 15, 50.0, 0.0, 2, "ads"),           # acquired after step 10: left out
        (4, "brand", 1, 50.0, 0.0, 2, None),             # existing customer: left out
    ]
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("step", kind="stable")


def test_customer_values_are_the_margin_of_a_fixed_window_after_acquisition():
    econ = EconomicsConfig(price=50.0, margin=0.4, discount_rate=0.0)
    values = customer_values(_log(), econ, last=10, window=10).set_index(["brand", "consumer"])
    assert list(values.index) == [("brand", 1), ("brand", 2), ("other", 2)]
    # Margin = paid - 30: 2.5 for the discounted purchase, 20 at full price.
    np.testing.assert_allclose(values["value"], [2.5 + 20.0, 3 * 20.0, 20.0])
    np.testing.assert_allclose(values["first_value"], [2.5, 20.0, 20.0])
    assert list(values["purchases"]) == [2, 3, 1]
    assert list(values["redeemed"]) == [True, False, False]
    assert list(values["acquired"]) == [2, 3, 6]
    assert list(values["acquired_by"]) == ["incentives", "wom", "wom"]


def test_customer_values_are_discounted_to_the_first_purchase():
    # One step a year at 100% a year: money of age k is worth 2**-k at acquisition.
    econ = EconomicsConfig(price=50.0, margin=0.4, discount_rate=1.0, steps_per_year=1.0)
    values = customer_values(_log(), econ, last=10, window=10).set_index(["brand", "consumer"])
    np.testing.assert_allclose(values.loc[("brand", 1), "value"], 2.5 + 20.0 / 2**3)
    np.testing.assert_allclose(values.loc[("brand", 2), "value"], 20.0 * (1 + 1 / 2 + 1 / 2**9))


def test_the_value_ratios_of_the_two_cases_on_a_hand_made_log():
    econ = EconomicsConfig(price=50.0, margin=0.4, discount_rate=0.0)
    c = customer_values(_log(), econ, last=10, window=10)
    # Lewis: the discount-acquired customer (22.5) against the full-price ones (60, 20).
    assert value_ratio(c, c["redeemed"], ~c["redeemed"]) == pytest.approx(22.5 / 40.0)
    # Villanueva: word of mouth (60, 20) against marketing (ads or incentives: 22.5).
    assert MARKETING == ("ads", "incentives")
    wom, marketing = c["acquired_by"] == "wom", c["acquired_by"].isin(MARKETING)
    assert value_ratio(c, wom, marketing) == pytest.approx(40.0 / 22.5)
    # An empty group has no ratio.
    assert np.isnan(value_ratio(c, c["acquired_by"] == "reviews", marketing))
    assert np.isnan(value_ratio(c, wom, c["acquired_by"] == "reviews"))


def test_an_interval_is_inside_or_overlaps_a_range():
    assert inside(0.4, 0.6, (0.3, 0.7)) and overlaps(0.4, 0.6, (0.3, 0.7))
    assert not inside(0.2, 0.6, (0.3, 0.7)) and overlaps(0.2, 0.6, (0.3, 0.7))
    assert not inside(0.8, 0.9, (0.3, 0.7)) and not overlaps(0.8, 0.9, (0.3, 0.7))
    assert not inside(np.nan, np.nan, (0.3, 0.7)) and not overlaps(np.nan, 0.5, (0.3, 0.7))


def _brands(purchases_a, purchases_b) -> pd.DataFrame:
    steps = len(purchases_a)
    return pd.DataFrame({"step": np.repeat(np.arange(steps), 2), "brand": ["a", "b"] * steps,
                         "purchases": np.ravel(list(zip(purchases_a, purchases_b,
                                                        strict=True)))})


def test_brand_share_counts_the_purchases_of_the_run():
    table = _brands([50, 3, 1], [0, 1, 3])  # step 0 (initial customers) is not counted
    assert brand_share(table, "a") == pytest.approx(4 / 8)
    assert brand_share(table, "b") == pytest.approx(4 / 8)
    assert np.isnan(brand_share(_brands([5, 0], [5, 0]), "a"))


def test_mirrored_tables_are_the_same_market_with_the_names_swapped():
    steps = pd.DataFrame({"step": [0, 1, 2], "new_adopters": [0, 4, 4]})
    first = MarketTables(steps, _brands([1, 3, 1], [2, 1, 3]), pd.DataFrame(), pd.DataFrame())
    swapped = MarketTables(steps.copy(), _brands([2, 1, 3], [1, 3, 1]), pd.DataFrame(),
                           pd.DataFrame())
    names = {"a": "b", "b": "a"}
    assert mirrored(first, swapped, names)
    assert not mirrored(first, first, names)  # not symmetric: a and b differ
    other_steps = MarketTables(steps.assign(new_adopters=[0, 4, 5]), swapped.brands,
                               pd.DataFrame(), pd.DataFrame())
    assert not mirrored(first, other_steps, names)


def test_the_duel_with_its_brands_reversed_lists_b_first():
    from wommsim.compose import compose

    cfg = compose(["market=duel"])
    reversed_cfg = with_brands_reversed(cfg)
    assert [b.name for b in brands_of(cfg)] == ["a", "b"]
    assert [b.name for b in brands_of(reversed_cfg)] == ["b", "a"]


def test_run_markets_gives_each_replicates_three_tables_paired_with_run(tmp_path):
    ctx = Context(figures=tmp_path, workers=1)
    # 40 customers at the start, so every replicate has repeat purchases to record (with a
    # few new customers a week, whether any buys in 6 weeks was a matter of the draws)
    cfg = ctx.config(["consumers=200", "steps=6", "market.category=repeat",
                      "transactions=true", "consumer.initial_adopted_fraction=0.2"], "repeat")
    markets = ctx.run_markets({"repeat": cfg}, 2)["repeat"]
    plain = ctx.run({"repeat": cfg}, 2)["repeat"]
    assert len(markets) == 2
    for r, (tables, steps) in enumerate(zip(markets, plain, strict=True)):
        assert isinstance(tables, MarketTables)
        pd.testing.assert_frame_equal(tables.steps, steps)
        assert (tables.brands["replicate"] == r).all() and len(tables.brands) == 7
        assert len(tables.transactions) == tables.brands["purchases"].iloc[1:].sum() > 0


def test_the_cases_are_registered_with_their_sources():
    expected = {"discount_acquired_value": ("stylised", "Lewis (2006)"),
                "wom_acquired_value": ("stylised", "Villanueva, Yoo & Hanssens (2008)"),
                "mirror_duel": ("corner", "§3.3.16"),
                "cascade_sizes": ("stylised", "Goel, Watts & Goldstein (2012)")}
    for name, (category, source) in expected.items():
        spec = CASES[name]
        assert spec.category == category and source in spec.source, name
