"""Markets of several brands, repeat purchase, switching, churn and the per-brand table."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tests.helpers import run_model, small_config
from wommsim.compose import compose
from wommsim.config import LEVERS, BrandSpec, ConfigError, brands_of
from wommsim.model import BRAND_METRICS, WommModel
from wommsim.runs.runner import run_replicate

BRAND_COLUMNS = ["arm", "replicate", "step", "brand", "customers", "purchases",
                 "repeat_purchases", "new_customers", "churned", "switched_in", "switched_out",
                 "share", "revenue", "margin", "spend", "cumulative_spend", "followers",
                 "customer_equity"]


def test_a_levers_money_is_per_consumer_so_it_scales_with_the_population():
    # The same market at 2,000 and 20,000 consumers: ten times the consumers, ten times the
    # money for every lever of every brand (0.1 per consumer: 200 and 2,000 a week).
    def money(n: int) -> np.ndarray:
        model = WommModel(small_config("market=duel", "market.brands.a.strategy=ad_heavy",
                                       "market.brands.b.budget_per_consumer=0.3",
                                       consumers=n))
        return np.array([[side.allotment(lever) for lever in LEVERS]
                         for side in model.markets])

    small, large = money(2_000), money(20_000)
    assert small[0, LEVERS.index("advertising")] == pytest.approx(0.1 * 2_000 * 0.85)
    assert small[1, LEVERS.index("content")] == pytest.approx(0.3 * 2_000 * 0.35)
    assert large == pytest.approx(10 * small) and (small > 0).sum() == 7


#: Content only, its share 35 a week at 1,000 consumers (0.1 each), a piece costing 100.
CONTENT_35 = ("strategy=none", "strategy.content=0.35", "content.seeding=random")
#: Pieces bought each week at 35 a week, the fraction of a piece carried over: the money
#: reaches 105, 110, 115, ... every third week, 100 in week 20.
PIECES_35 = [0, 0, 1] * 6 + [0, 1]


def test_fractions_of_a_unit_carry_over_to_the_next_step():
    ts = run_model(small_config(*CONTENT_35, consumers=1000, steps=20)).timeseries()
    pieces = ts["content_pieces"].iloc[1:].tolist()
    assert pieces == PIECES_35 and sum(pieces) == 20 * 35 // 100  # 7: none without carry
    assert (ts["spend_content"] == 100.0 * ts["content_pieces"]).all()  # what was bought


def test_a_phase_keeps_the_carry_and_each_brand_has_its_own():
    # Weeks 3-4 spend nothing on content (a phase of share 0): the 70 carried waits, and
    # week 5's 35 makes 105. Reset at each phase, the carry would buy nothing until week 7.
    shares = "advertising: 0, dialogue: 0, reviews: 0, incentives: 0"
    phases = (f"+phases=[{{start: 3, name: pause, content: 0, {shares}}}, "
              f"{{start: 5, name: again, content: 0.35, {shares}}}]")
    ts = run_model(small_config(*CONTENT_35, phases, consumers=1000, steps=8)).timeseries()
    assert ts["content_pieces"].iloc[1:].tolist() == [0, 0, 0, 0, 1, 0, 0, 1]
    # Two brands: b's 50 a week buys a piece every second week, a's 35 keeps its own pace.
    duel = run_model(small_config(*CONTENT_35, "market=duel", "market.brands.b.budget_"
                                  "per_consumer=0.14285714285714285", consumers=1000, steps=20))
    per_brand = duel.brand_timeseries().pivot(index="step", columns="brand",
                                              values="spend").iloc[1:]  # content only
    assert (per_brand["a"] / 100).tolist() == PIECES_35
    assert (per_brand["b"] / 100).tolist() == [0, 1] * 10


def test_brand_settings_default_to_the_runs_and_change_per_brand():
    cfg = compose(["market=duel", "market.brands.a.strategy=ad_heavy",
                   "market.brands.b.budget_per_consumer=0.2", "market.brands.b.price=45",
                   "brand.quality=0.1", "advertising.claim=0.4"])
    a, b = brands_of(cfg)
    assert (a.name, a.config.strategy.name, a.config.brand.budget_per_consumer) == (
        "a", "ad_heavy", 0.1)
    assert (b.name, b.config.strategy.name, b.config.brand.budget_per_consumer) == (
        "b", cfg.strategy.name, 0.2)
    assert b.config.economics.price == 45.0 and a.config.economics.price == 50.0
    assert a.config.brand.quality == b.config.brand.quality == 0.1  # the run's, for both
    assert a.config.advertising.claim == 0.4
    # The monopoly's one brand is the run itself.
    (only,) = brands_of(compose([]))
    assert only.name == "brand" and only.config is compose([])


@pytest.mark.parametrize(("overrides", "fragment"), [
    (["market=duel", "market.brands.a.strategy=nope"], "market.brands.a.strategy='nope'"),
    (["market=duel", "market.brands.b.quality=3"], "market.brands.b.quality=3"),
    (["market=duel", "decision=bass"], "decision.rule=bass"),
    (["market.category=repeat", "decision=bass"], "decision.rule=bass"),
    (["market=duel", "market.brands.a.price=0"], "market.brands.a.price=0"),
    (["market.category=weekly"], "market.category"),
])
def test_bad_market_settings_are_refused_naming_the_key(overrides, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace(".", r"\.")):
        compose(overrides)


def _brand_table(cfg, replicate=0) -> pd.DataFrame:
    return run_replicate(cfg, replicate, brands=True)[1]


def test_identical_brands_that_swap_places_swap_results():
    # Each brand draws from the streams of its place, and no rule favours a place: listing
    # the same two brands the other way round gives the same market with the names swapped.
    cfg = small_config("market=duel", "market.category=repeat", consumers=600, steps=30)
    swapped = dataclasses.replace(cfg, market=dataclasses.replace(
        cfg.market, brands={"b": BrandSpec(), "a": BrandSpec()}))
    first, second = _brand_table(cfg), _brand_table(swapped)
    names = {"a": "b", "b": "a"}
    mirrored = second.assign(brand=second["brand"].map(names))
    key = ["step", "brand"]
    pd.testing.assert_frame_equal(first.sort_values(key).reset_index(drop=True),
                                  mirrored.sort_values(key).reset_index(drop=True))


def test_identical_brands_split_the_market_evenly():
    cfg = small_config("market=duel", consumers=1500, steps=40)
    shares = []
    for r in range(8):
        table = _brand_table(cfg, r)
        bought = table.groupby("brand")["purchases"].sum()
        shares.append(bought["a"] / bought.sum())
    shares = np.array(shares)
    se = shares.std(ddof=1) / np.sqrt(shares.size)
    assert abs(shares.mean() - 0.5) < 4 * se + 0.01, shares


def test_a_durable_monopoly_brand_table_is_the_market_table():
    cfg = small_config(steps=25)
    steps, brands, *_ = run_replicate(cfg, 0, brands=True)
    assert list(brands.columns[:len(BRAND_COLUMNS)]) == BRAND_COLUMNS
    assert [m.name for m in BRAND_METRICS] == list(brands.columns[4:4 + len(BRAND_METRICS)])
    assert (brands["brand"] == "brand").all() and len(brands) == len(steps)
    np.testing.assert_array_equal(brands["new_customers"].iloc[1:], steps["new_adopters"].iloc[1:])
    np.testing.assert_array_equal(brands["purchases"], brands["new_customers"])
    assert (brands["repeat_purchases"] == 0).all() and (brands["churned"] == 0).all()
    np.testing.assert_array_equal(brands["spend"], steps["spend"])
    np.testing.assert_allclose(brands["revenue"], 50.0 * brands["purchases"])
    np.testing.assert_allclose(brands["margin"], 0.4 * brands["revenue"])
    adopters = np.round(steps["adopted_fraction"] * cfg.consumers).astype(int)
    np.testing.assert_array_equal(brands["customers"], adopters)
    # With no repeat purchase, customer equity is the discounted margin earned: it rises
    # by less than each step's margin.
    gain = brands["customer_equity"].diff().iloc[1:]
    assert (gain <= brands["margin"].iloc[1:] + 1e-9).all() and gain.sum() > 0


def test_repeat_purchase_brings_customers_back_and_the_books_balance():
    cfg = small_config("market=duel", "market.category=repeat", "market.category_exit=0.01",
                       consumers=800, steps=60)
    model = run_model(cfg)
    table = model.brand_timeseries()
    assert table["repeat_purchases"].sum() > table["new_customers"].sum() > 0
    by_step = table.groupby("step")[["switched_in", "switched_out", "purchases"]].sum()
    np.testing.assert_array_equal(by_step["switched_in"], by_step["switched_out"])
    assert (table["churned"] >= table["switched_out"]).all()
    s = model.state
    held = [int(np.count_nonzero(s.current_brand == b)) for b in range(2)]
    assert held == table[table.step == cfg.steps]["customers"].tolist()
    # A customer has bought its brand; purchases count every purchase of it, the existing
    # customers' one at step 0 included.
    customers = np.flatnonzero(s.current_brand >= 0)
    assert s.adopted[s.current_brand[customers], customers].all()
    existing = round((table[table.step == 0]["adopted_fraction"] * cfg.consumers).sum())
    assert s.purchases.sum() == table["purchases"].sum() + existing
    # Occasions arrive at about 1 / interpurchase_steps: shoppers buy no more often.
    weeks_per_purchase = cfg.steps * np.count_nonzero(s.purchases.sum(axis=0)) / s.purchases.sum()
    assert weeks_per_purchase > 0.8 * cfg.market.interpurchase_steps


def test_customers_whose_opinion_falls_churn_in_a_repeat_category():
    disappointing = small_config("market.category=repeat", "brand.quality=-0.6",
                                 consumers=600, steps=40)
    table = run_model(disappointing).brand_timeseries()
    assert table["churned"].sum() > 0.5 * table["new_customers"].sum()
    good = run_model(small_config("market.category=repeat", "brand.quality=0.6",
                                  consumers=600, steps=40)).brand_timeseries()
    # Per customer won: a bad product now wins few customers (dialogue and content no longer
    # lift disappointed buyers), so absolute counts are not comparable.
    rate = table["churned"].sum() / table["new_customers"].sum()
    assert good["churned"].sum() / good["new_customers"].sum() < 0.5 * rate


def test_agents_see_one_value_per_brand_in_a_duel():
    model = run_model(small_config("market=duel", "agents=on", consumers=100), steps=3)
    consumer = next(iter(model.agents))
    assert consumer.opinion == tuple(model.state.opinion[:, consumer.index])
    assert isinstance(consumer.threshold, float)


def test_a_run_writes_brands_parquet(tmp_path):
    from wommsim.runs.runner import run

    cfg = small_config("market=duel", "replicates=2", "workers=1", consumers=300, steps=5)
    run(cfg, tmp_path)
    table = pd.read_parquet(tmp_path / "brands.parquet")
    assert list(table.columns[:len(BRAND_COLUMNS)]) == BRAND_COLUMNS
    assert len(table) == 2 * 6 * 2  # replicates x (steps + 1) x brands
    assert set(table["brand"]) == {"a", "b"}
    steps = pd.read_parquet(tmp_path / "timeseries.parquet")
    totals = table.groupby(["replicate", "step"])["spend"].sum().to_numpy()
    np.testing.assert_allclose(totals, steps["spend"].to_numpy())


def test_a_duel_market_row_adds_up_its_brands():
    model = run_model(small_config("market=duel", consumers=400, steps=10))
    ts, brands = model.timeseries(), model.brand_timeseries()
    last = brands[brands.step == 10]
    assert ts["new_adopters"].iloc[-1] == last["new_customers"].sum()
    assert ts["followers"].iloc[-1] == last["followers"].sum()
    assert ts["adopted_fraction"].iloc[-1] <= last["adopted_fraction"].sum() + 1e-12
    assert isinstance(model, WommModel)


def test_brand_outcomes_from_a_hand_made_table():
    from wommsim.reporting.brands import brand_outcomes, no_marketing_arms

    def row(arm, step, brand, purchases, new, churned, customers, spend, equity=0.0,
            value_wom=0.0, wom=0):
        return {"arm": arm, "replicate": 0, "step": step, "brand": brand,
                "purchases": purchases, "new_customers": new, "churned": churned,
                "customers": customers, "revenue": 50.0 * purchases,
                "margin": 20.0 * purchases, "spend": spend, "customer_equity": equity,
                **{f"new_adopters_{i}": 0 for i in ("ads", "content", "dialogue", "reviews",
                                                     "incentives")},
                "new_adopters_wom": wom,
                **{f"value_{i}": 0.0 for i in ("ads", "content", "dialogue", "reviews",
                                               "incentives")},
                "value_wom": value_wom}

    table = pd.DataFrame([
        row("ads", 0, "a", 0, 0, 0, 0, 0.0), row("ads", 1, "a", 6, 4, 1, 4, 100.0),
        row("ads", 2, "a", 2, 0, 2, 2, 100.0, equity=300.0, value_wom=90.0, wom=3),
        row("ads", 0, "b", 0, 0, 0, 0, 0.0), row("ads", 1, "b", 2, 2, 0, 2, 0.0),
        row("ads", 2, "b", 0, 0, 0, 2, 0.0),
        row("none", 0, "a", 0, 0, 0, 0, 0.0), row("none", 1, "a", 1, 1, 0, 1, 0.0),
        row("none", 2, "a", 0, 0, 0, 1, 0.0),
        row("none", 0, "b", 0, 0, 0, 0, 0.0), row("none", 1, "b", 1, 1, 0, 1, 0.0),
        row("none", 2, "b", 0, 0, 0, 1, 0.0)])
    assert no_marketing_arms(table) == {"b": "ads", "a": "none"}
    out = brand_outcomes(table, steps_per_year=1.0).set_index(["arm", "brand"])
    a = out.loc[("ads", "a")]
    assert a["market_share"] == pytest.approx(8 / 10)
    assert a["churn"] == pytest.approx(3 / 6)  # churned / customer-steps, one step a year
    assert a["customers_end"] == 2 and a["customer_equity"] == 300.0
    assert a["brand_revenue"] == 400.0 and a["brand_spend"] == 200.0
    assert a["cost_per_customer"] == pytest.approx(200 / 4)
    assert a["incremental_customers"] == 3  # 4 against 1 in the arm where a spends nothing
    assert a["incremental_cost_per_customer"] == pytest.approx(200 / 3)
    assert a["ltv_wom"] == pytest.approx(30.0) and np.isnan(a["ltv_ads"])
    assert np.isnan(out.loc[("none", "a"), "incremental_customers"])


def test_the_reports_brand_section_reads_the_numbers():
    from wommsim.reporting.brands import BRAND_OUTCOMES, brand_section

    def row(arm, brand, share, lo, hi):
        values = {f"{o}_{p}": np.nan for o in BRAND_OUTCOMES for p in ("mean", "lo", "hi")}
        values.update({"arm": arm, "brand": brand, "market_share_mean": share,
                       "market_share_lo": lo, "market_share_hi": hi, "ltv_wom_mean": 40.0,
                       "ltv_ads_mean": 20.0})
        return values

    summary = pd.DataFrame([row("duel", "a", 0.1, 0.08, 0.12), row("duel", "b", 0.9, 0.88, 0.92),
                            row("mirror", "a", 0.52, 0.45, 0.59),
                            row("mirror", "b", 0.48, 0.41, 0.55)])
    text = "\n".join(brand_section(summary, pd.DataFrame()))
    assert "duel: purchases split b 90.0 [88.0, 92.0]% against a 10.0 [8.0, 12.0]%" in text
    assert "b leads, the intervals apart" in text
    assert "mirror: purchases split" in text and "no brand leads clearly" in text
    assert "customers acquired by wom are worth 40.00 each, by ads 20.00 (2.00×)" in text


def test_bad_news_of_a_brand_raises_its_listeners_opinion_of_the_rivals():
    from wommsim.mechanisms import rivalry

    model = WommModel(small_config("market=duel", "wom.cross_brand=0.5", consumers=50))
    a, b = model.markets
    for side in model.markets:
        side.state.aware[:] = True
        side.state.opinion[:] = 0.0
    b.state.adopted[7] = True  # a rival's own buyer is not moved
    a.heard_bad = (np.array([3, 7, 9]), np.array([1.0, 1.0, 0.4]))
    b.heard_bad = None
    rivalry.compare(model, None, 0.0)
    assert b.state.opinion[3] == pytest.approx(0.5) and b.state.opinion[9] == pytest.approx(0.2)
    assert b.state.opinion[7] == 0.0 and (a.state.opinion == 0).all()
    assert np.count_nonzero(b.state.opinion) == 2


def test_talk_across_brands_changes_nothing_in_a_monopoly():
    plain = run_replicate(small_config(steps=15), 0)
    cross = run_replicate(small_config("wom.cross_brand=0.9", steps=15), 0)
    pd.testing.assert_frame_equal(plain, cross)


def test_two_brands_inclusive_utility_is_the_general_sum_exactly():
    # The two-brand path skips the better brand's exp(0) = 1 and clips the other's exponent
    # at -40 (1 + exp(d) rounds to 1 below it): it must give the same bits as the sum over
    # brands, with unknown brands (-inf), ties, and gaps on both sides of the clip.
    from wommsim.mechanisms.decision import inclusive_utility

    cfg = small_config().decision
    temperature, rng, n = cfg.temperature, np.random.default_rng(11), 200_000
    u = np.empty((2, n))
    u[0] = rng.normal(scale=rng.choice([0.01, 1.0, 100.0], n))
    gap = rng.choice([0.0, 1e-9, 0.5, 39.0, 40.0, 41.0, 1e3], n) * temperature
    u[1] = u[0] - gap * rng.random(n) * rng.choice([1.0, 2.0], n)
    unknown = np.flatnonzero(rng.random(n) < 0.3)
    u[rng.integers(0, 2, unknown.size), unknown] = -np.inf
    flip = rng.random(n) < 0.5
    u[:, flip] = u[::-1, flip]
    top = u.max(axis=0)
    general = top + temperature * np.log(np.exp((u - top) / temperature).sum(axis=0))
    assert np.array_equal(inclusive_utility(cfg, u.copy()), general)
    alone = u.copy()
    alone[:, :10] = -np.inf  # consumers who know no brand: the general path, -inf for them
    got = inclusive_utility(cfg, alone)
    assert np.isneginf(got[:10]).all() and np.array_equal(got[10:], general[10:])


def test_bad_news_of_two_rivals_combines_whatever_their_order():
    from wommsim.config import BrandSpec
    from wommsim.mechanisms import rivalry

    cfg = small_config("wom.cross_brand=0.5", consumers=30)
    three = dataclasses.replace(cfg, market=dataclasses.replace(
        cfg.market, brands={"a": BrandSpec(), "b": BrandSpec(), "c": BrandSpec()}))
    model = WommModel(three)
    a, b, c = model.markets
    for side in model.markets:
        side.state.aware[:] = True
        side.state.opinion[:] = 0.0
    a.heard_bad = (np.array([4]), np.array([1.0]))
    b.heard_bad = (np.array([4]), np.array([0.5]))
    c.heard_bad = None
    rivalry.compare(model, None, 0.0)
    # c gains 1 - (1 - 0.5)(1 - 0.25) of its gap; a and b each only from the other.
    assert c.state.opinion[4] == pytest.approx(1 - 0.5 * 0.75)
    assert a.state.opinion[4] == pytest.approx(0.25) and b.state.opinion[4] == pytest.approx(0.5)
