"""Each lever and mechanism: an observable effect when on, none when off."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import run_model, small_config
from wommsim.mechanisms import advertising, content, decay, dialogue, incentives, reviews
from wommsim.mechanisms.advertising import ADS
from wommsim.mechanisms.common import bernoulli_positions, edge_sources, neighbours_of, sample_edges
from wommsim.mechanisms.content import CONTENT
from wommsim.mechanisms.decision import review_term
from wommsim.mechanisms.incentives import INCENTIVES
from wommsim.mechanisms.purchase import adopt, disconfirm
from wommsim.model import WommModel
from wommsim.state import ConsumerState

ADS_ONLY = ("strategy.name=ads_only", "strategy.advertising=1", "strategy.dialogue=0",
            "strategy.content=0", "strategy.reviews=0", "strategy.incentives=0")


def totals(model: WommModel, column: str) -> float:
    return float(model.timeseries()[column].sum())


# -- advertising -------------------------------------------------------------------------

def test_ads_without_a_nonclicker_effect_persuade_no_nonclicker():
    # Non-clickers are affected by advertising.nonclicker_effect of a clicker (Lewis & Reiley
    # 2014); with that effect at 0 a market of non-clickers is not persuaded at all.
    cfg = small_config(*ADS_ONLY, "consumer.ad_blind_fraction=1", "advertising.annoy_prob=0",
                       "advertising.nonclicker_effect=0", "wom.enabled=false")
    model = WommModel(cfg)
    opinion_before = model.state.brand(0).opinion.copy()
    aware_before = model.state.brand(0).aware.copy()
    for _ in range(10):
        model.step()
    ts = model.timeseries()
    assert ts["ad_impressions"].iloc[1:].gt(0).all()  # ads were bought and shown
    assert (model.state.brand(0).adstock == 0).all()
    assert (model.state.brand(0).aware_source != ADS).all()
    assert ts["new_adopters_ads"].sum() == 0
    # Non-buyers' opinions only drift toward neutral (decay); ads moved none of them.
    s = model.state.brand(0)
    kept = s.adopted_step <= 0
    assert (np.abs(s.opinion[kept]) <= np.abs(opinion_before[kept]) + 1e-12).all()
    newly_aware = model.state.brand(0).aware & ~aware_before
    assert not newly_aware.any()


def test_ads_annoy_ad_blind_consumers():
    cfg = small_config(*ADS_ONLY, "consumer.ad_blind_fraction=1", "advertising.annoy_prob=0.5",
                       "wom.enabled=false", "consumer.initial_aware_fraction=1")
    model = WommModel(cfg)
    before = model.state.brand(0).opinion.mean()
    model.step()
    assert model.state.brand(0).opinion.mean() < before - 0.01


def test_ads_reach_receptive_consumers():
    cfg = small_config(*ADS_ONLY, "consumer.ad_blind_fraction=0", "wom.enabled=false")
    model = run_model(cfg, steps=5)
    assert (model.state.brand(0).aware_source == ADS).sum() > 0.5 * model.n
    assert model.state.brand(0).adstock.mean() > 0.1
    assert model.timeseries()["new_adopters_ads"].sum() > 0
    assert model.state.brand(0).expectation.mean() > cfg.consumer.expectation_mean


def test_ads_off_switch_buys_nothing():
    cfg = small_config(*ADS_ONLY, "advertising.enabled=false")
    model = run_model(cfg, steps=5)
    assert totals(model, "ad_impressions") == 0
    assert totals(model, "spend") == 0


def test_adstock_decays_by_its_retention_factor():
    cfg = small_config(*ADS_ONLY, "consumer.ad_blind_fraction=0", "advertising.retention=0.7")
    model = run_model(cfg, steps=3)
    before = model.state.brand(0).adstock.copy()
    assert before.max() > 0
    model.config = dataclasses.replace(  # no new impressions this step
        cfg, advertising=dataclasses.replace(cfg.advertising, enabled=False))
    model.step()
    np.testing.assert_allclose(model.state.brand(0).adstock, 0.7 * before)


@pytest.mark.parametrize("impressions", [1_000, 100_000, 5_000_000],
                         ids=["few", "bincount", "multinomial"])
def test_impressions_land_uniformly(impressions):
    # Counts of uniformly placed impressions are multinomial: Pearson's statistic follows a
    # chi-square law with n - 1 degrees of freedom. Too even (a constant split) fails as
    # surely as too uneven.
    from scipy import stats

    n = 100
    rng = np.random.default_rng(1)
    p_values = []
    for _ in range(20):
        counts = advertising.impressions_per_consumer(rng, impressions, n)
        assert counts.sum() == impressions and counts.size == n
        expected = impressions / n
        p_values.append(stats.chi2.sf(((counts - expected) ** 2 / expected).sum(), n - 1))
    # Under the null the 20 p-values are uniform on [0, 1].
    assert stats.kstest(p_values, "uniform").pvalue > 0.001


# -- dialogue ----------------------------------------------------------------------------

def _talkers_state(n: int = 100) -> ConsumerState:
    s = ConsumerState(n)
    s.aware[:] = True
    s.talked[: n // 2] = -1
    s.talked[n // 2:] = 1
    s.opinion[: n // 2] = -0.6
    s.opinion[n // 2:] = 0.4
    return s


def test_dialogue_answers_negative_talkers_first_and_wins_some_back():
    s = _talkers_state()
    cfg = small_config().dialogue
    out = dialogue.converse(s, cfg, money=cfg.cost_per_reply * 30, rng=np.random.default_rng(0))
    assert out["replies"] == 30 and out["spend"] == pytest.approx(30 * cfg.cost_per_reply)
    answered = s.opinion[:50] != -0.6
    assert answered.sum() == 30  # capacity spent on negative talkers only
    assert (s.opinion[50:] == 0.4).all()
    assert (s.opinion[:50][answered] > -0.6).all()
    assert (s.opinion[:50] == 0.0).sum() > 5  # service recovery: restored to neutral
    assert s.follower.sum() > 0


def test_recovery_restores_complainers_to_neutral_never_to_advocacy():
    s = _talkers_state()
    cfg = dataclasses.replace(small_config().dialogue, recovery_prob=1.0, lift=0.5)
    dialogue.converse(s, cfg, money=cfg.cost_per_reply * 50, rng=np.random.default_rng(0))
    assert (s.opinion[:50] == 0.0).all()  # every complainer recovered, none beyond neutral
    assert np.allclose(s.goodwill[:50], 0.6)  # the whole rise is goodwill that will fade


def test_dialogue_goodwill_fades_back_unless_a_purchase_replaces_it():
    s = _talkers_state()
    s.adopted[:] = True  # adopters' opinions do not decay: only the goodwill fades
    cfg = dataclasses.replace(small_config().dialogue, recovery_prob=0.0, lift=0.2,
                              retention=0.5)
    dialogue.converse(s, cfg, money=cfg.cost_per_reply * 100, rng=np.random.default_rng(0))
    lifted = s.opinion.copy()
    assert (lifted[50:] > 0.4).all()
    buyers = np.array([60])
    s.opinion[60] = 0.9  # its new purchase's experience set the opinion
    dialogue.fade(s, cfg, buyers)
    assert s.opinion[60] == 0.9 and s.goodwill[60] == 0.0
    others = np.delete(np.arange(s.n), 60)
    assert (s.opinion[others] < lifted[others]).all()
    for _ in range(30):
        dialogue.fade(s, cfg, buyers[:0])
    assert np.allclose(s.opinion[:50], -0.6, atol=1e-4)  # back where they were
    assert np.allclose(s.opinion[np.delete(np.arange(50, 100), 10)], 0.4, atol=1e-4)
    assert s.opinion[60] == 0.9  # the purchase's experience stays
    assert not s.goodwill.any()


def test_dialogue_without_budget_or_switched_off_does_nothing():
    cfg = small_config("strategy=conversation_led", "dialogue.enabled=false")
    model = run_model(cfg, steps=8)
    assert totals(model, "replies") == 0 and totals(model, "spend_dialogue") == 0
    s = _talkers_state()
    dialogue.converse(s, cfg.dialogue, money=0.0, rng=np.random.default_rng(0))
    assert (s.opinion[:50] == -0.6).all() and not s.follower.any()


# -- content -----------------------------------------------------------------------------

CONTENT_ONLY = ("strategy.name=content_only", "strategy.advertising=0", "strategy.dialogue=0",
                "strategy.content=1", "strategy.reviews=0", "strategy.incentives=0",
                "content.seeding=random",
                "brand.budget_per_consumer=2")  # 1,000 a week at small_config's 500: 10 pieces


def test_content_with_zero_freshness_reaches_nobody():
    model = run_model(small_config(*CONTENT_ONLY, "content.freshness=0"), steps=8)
    assert totals(model, "content_pieces") > 0
    assert totals(model, "content_reach") == 0
    assert (model.state.brand(0).aware_source != CONTENT).all()


def test_meaningless_content_reaches_nobody_and_meaningful_content_spreads():
    dull = run_model(small_config(*CONTENT_ONLY, "content.meaningfulness=0"), steps=8)
    assert totals(dull, "content_reach") == 0
    rich = run_model(small_config(*CONTENT_ONLY, "content.meaningfulness=1",
                                  "content.share_scale=1"), steps=8)
    seeded = totals(rich, "content_pieces") * rich.config.content.seeds_per_piece
    assert totals(rich, "content_reach") > seeded  # it spread beyond its seeds
    assert (rich.state.brand(0).aware_source == CONTENT).sum() > 0


def test_cascade_spreads_beyond_seeds_and_dies_when_stale():
    cfg = small_config(*CONTENT_ONLY, "content.meaningfulness=1", "content.share_scale=1",
                       "content.sustainability=0", "content.freshness_decay=1").content
    model = WommModel(small_config(*CONTENT_ONLY))
    s = ConsumerState(model.n)
    cascades: list[content.Cascade] = []
    rng = np.random.default_rng(3)
    first = content.spread(s, cfg, cfg.cost_per_piece, cascades, model.indptr,
                           model.indices, model.seeder, rng)
    assert first["content_reach"] > 0 and len(cascades) == 1
    content.age(cascades, cfg)
    assert cascades[0].freshness == 0.0
    second = content.spread(s, cfg, 0.0, cascades, model.indptr, model.indices,
                            model.seeder, rng)
    assert second["content_reach"] == 0 and cascades == []


def test_sustainable_content_stays_fresh_longer():
    cfg = small_config().content
    a = [content.Cascade(np.zeros(1, bool), np.zeros(0, int), 1.0)]
    b = [content.Cascade(np.zeros(1, bool), np.zeros(0, int), 1.0)]
    content.age(a, dataclasses.replace(cfg, sustainability=0.9))
    content.age(b, dataclasses.replace(cfg, sustainability=0.1))
    assert a[0].freshness > b[0].freshness


def test_detractors_engage_less_and_fatigue_lowers_engagement():
    cfg = dataclasses.replace(small_config().content, opinion_weight=1.0, fatigue=0.2)
    s = ConsumerState(4)
    s.opinion[:] = [0.0, 0.5, -0.8, -1.0]
    assert content.engagement(s, cfg, np.arange(4)) == pytest.approx([1.0, 1.0, 0.2, 0.0])
    s.content_fatigue[:2] = [3.0, 1.0]
    assert content.engagement(s, cfg, np.arange(2)) == pytest.approx([0.8**3, 0.8])
    content.tire(s, dataclasses.replace(cfg, fatigue_retention=0.5))
    assert s.content_fatigue[:2] == pytest.approx([1.5, 0.5])  # fatigue wears off


def test_exposure_engages_detractors_rarely_and_tires_everyone():
    cfg = dataclasses.replace(small_config().content, fatigue=0.5)
    s = ConsumerState(20_000)
    s.opinion[10_000:] = -0.8
    rng = np.random.default_rng(1)
    who = np.arange(s.n)
    first = content.expose(s, cfg, who, 0.5, rng)
    assert (s.content_fatigue == 1.0).all()
    fans, critics = first[:10_000].mean(), first[10_000:].mean()
    assert fans == pytest.approx(0.5, abs=0.02) and critics == pytest.approx(0.1, abs=0.01)
    again = content.expose(s, cfg, who, 0.5, rng)
    assert again[:10_000].mean() == pytest.approx(0.25, abs=0.02)  # fatigue halves it


def test_content_warmth_cannot_launder_a_bad_experience():
    cfg = dataclasses.replace(small_config().content, warmth=0.3, warmth_ceiling=0.5)
    s = ConsumerState(3)
    s.opinion[:] = [-0.8, -0.8, 0.9]
    s.adopted[0] = True
    s.satisfaction[0] = -0.5  # a disappointed buyer
    for _ in range(100):
        content.warm_toward_ceiling(s, cfg, np.arange(3))
    assert -0.8 < s.opinion[0] <= 0.0  # softened at most to neutral, never an advocate
    assert s.opinion[1] == pytest.approx(0.5)  # others warm up to the ceiling
    assert s.opinion[2] == 0.9  # content never lowers an opinion


def _path(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The CSR adjacency of the path 0 - 1 - ... - n-1."""
    pairs = [(i, i + 1) for i in range(n - 1)] + [(i + 1, i) for i in range(n - 1)]
    pairs.sort()
    indices = np.array([b for _, b in pairs])
    indptr = np.searchsorted([a for a, _ in pairs], np.arange(n + 1))
    return indptr, indices


def test_cascade_size_counts_the_seed_and_everyone_its_chain_engaged():
    cfg = dataclasses.replace(small_config(*CONTENT_ONLY).content, seeds_per_piece=1,
                              meaningfulness=1.0, share_scale=1.0, sustainability=1.0,
                              fatigue=0.0)
    indptr, indices = _path(5)
    s, cascades, sizes = ConsumerState(5), [], []
    rng = np.random.default_rng(0)
    out = content.spread(s, cfg, cfg.cost_per_piece, cascades, indptr, indices,
                         np.arange(5), rng, sizes=sizes)
    ended = out["content_cascades"]
    for _ in range(6):
        out = content.spread(s, cfg, 0.0, cascades, indptr, indices, np.arange(5), rng,
                             sizes=sizes)
        ended += out["content_cascades"]
        assert out["content_cascades_grown"] in (0, 1)
    assert cascades == [] and ended == 1
    assert content.tally(sizes).tolist() == [0, 0, 0, 0, 0, 1]  # one cascade of size 5


def test_default_content_branching_is_subcritical():
    # 1,000 a week at 2,000 consumers: 3 pieces a week, enough cascades to count
    model = run_model(small_config("brand.budget_per_consumer=0.5", consumers=2000), steps=30)
    ts = model.timeseries()
    cascades, members = ts["content_cascades"].sum(), ts["content_cascade_members"].sum()
    assert cascades > 100
    assert content.tally(model.markets[0].cascade_sizes).sum() == cascades
    assert 1.0 - ts["content_cascades_grown"].sum() / cascades > 0.8  # most stay at the seed
    assert (members - cascades) / members < 0.5  # offspring per member well below 1


def test_hub_seeding_picks_the_best_connected():
    model = WommModel(small_config(*CONTENT_ONLY, "content.seeding=hubs"))
    seeds = content.pick_seeds(model.state.brand(0), model.config.content, 10, model.seeder,
                               np.random.default_rng(0))
    assert model.degree[seeds].min() >= np.sort(model.degree)[-10]


# -- reviews -----------------------------------------------------------------------------

def test_invited_reviews_post_and_the_score_is_the_mean_rating():
    s = ConsumerState(200)
    s.adopted[:100] = True
    s.experience[:100] = np.linspace(-1, 1, 100)
    cfg = small_config("reviews.invited_review_prob=1").reviews
    board = reviews.ReviewBoard()
    out = reviews.invite(s, cfg, money=cfg.cost_per_invite * 40, board=board,
                         rng=np.random.default_rng(0))
    assert out["review_invitations"] == 40 and board.count == 40
    rated = np.minimum(s.experience[s.reviewed] + cfg.invited_positivity, 1.0)
    assert board.score == pytest.approx(rated.mean())  # invited ratings shifted up
    assert not s.reviewed[100:].any()  # only buyers review
    again = reviews.invite(s, cfg, money=cfg.cost_per_invite * 1000, board=board,
                           rng=np.random.default_rng(1))
    assert again["review_invitations"] == 60  # nobody is invited twice
    assert again["spend"] == pytest.approx(60 * cfg.cost_per_invite)


def test_reviews_switched_off_leave_no_score():
    model = run_model(small_config("reviews.enabled=false"), steps=10)
    assert totals(model, "reviews") == 0 and totals(model, "review_invitations") == 0
    assert totals(model, "new_adopters_reviews") == 0


def test_reviews_move_online_researchers():
    good = small_config("strategy=none", "brand.quality=1", "brand.quality_spread=0",
                        "consumer.initial_adopted_fraction=0.2", "reviews.organic_review_prob=1",
                        "wom.enabled=false", "decision.review_valence_weight=3",
                        "purchase.assimilation=0")  # ratings = quality (no pull to 0)
    model = run_model(good, steps=6)
    assert model.markets[0].review_board.score > 0.9
    assert totals(model, "new_adopters_reviews") > 0
    buyers = model.state.brand(0).adopted_step > 0
    assert model.state.brand(0).researches_online[buyers].mean() > cfg_research(good) + 0.1


def cfg_research(cfg) -> float:
    return cfg.channels.research_online_fraction


def test_posting_propensity_is_j_shaped():
    cfg = small_config().reviews
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    p = reviews.posting_propensity(cfg, x)
    assert p[2] == 1.0  # a neutral experience: the base rate
    assert p[0] > p[1] > p[2] < p[3] < p[4]  # extremes over moderates (U)
    assert p[4] > p[0] and p[3] > p[1]  # the positive arm higher (J)
    assert p[4] == pytest.approx(1 + cfg.positive_selection)


@given(st.floats(-1, 1), st.floats(-1, 1))
def test_posting_propensity_rises_with_extremity_on_each_side(a, b):
    cfg = small_config().reviews
    pa, pb = reviews.posting_propensity(cfg, np.array([a, b]))
    assert pa >= 1.0 and pb >= 1.0
    if np.sign(a) == np.sign(b) and abs(a) <= abs(b):
        assert pa <= pb


def test_organic_reviewers_self_select_and_invited_ones_do_not():
    n = 200_000
    experience = np.random.default_rng(0).uniform(-1, 1, n)
    cfg = small_config("reviews.invited_review_prob=0.05").reviews

    def state() -> ConsumerState:
        s = ConsumerState(n)
        s.adopted[:] = True
        s.experience[:] = experience
        return s

    organic, board = state(), reviews.ReviewBoard()
    reviews.post_organic(organic, cfg, np.arange(n), board, np.random.default_rng(1))
    posted = experience[organic.reviewed]
    assert np.abs(posted).mean() > np.abs(experience).mean() + 0.1  # extremes over-posted
    assert (posted > 0).mean() > 0.6  # and the positive ones most (J-shaped)
    invited, invited_board = state(), reviews.ReviewBoard()
    reviews.invite(invited, cfg, money=n * cfg.cost_per_invite, board=invited_board,
                   rng=np.random.default_rng(2))
    sample = experience[invited.reviewed]
    assert abs(np.abs(sample).mean() - np.abs(experience).mean()) < 0.02  # not selected
    # At the same experiences an invited (rewarded) review rates higher.
    assert invited_board.score == pytest.approx(
        np.minimum(sample + cfg.invited_positivity, 1).mean())
    assert invited_board.score > sample.mean()


def test_review_volume_and_valence_weigh_separately():
    cfg = small_config()
    board = reviews.ReviewBoard()
    board.count, board.total = 60, 30.0  # score 0.5
    n = 10_000
    c = cfg.reviews.credibility_per_consumer * n
    volume, valence = board.signals(cfg.reviews, n)
    assert volume == pytest.approx(np.log1p(60 / c))
    assert valence == pytest.approx(60 / (60 + c) * 0.5)

    def term(volume_weight: float, valence_weight: float, b: reviews.ReviewBoard) -> float:
        d = dataclasses.replace(cfg.decision, review_volume_weight=volume_weight,
                                review_valence_weight=valence_weight)
        return review_term(d, cfg.reviews, b, n)

    worse = reviews.ReviewBoard()
    worse.count, worse.total = 60, -30.0  # same volume, opposite valence
    bigger = reviews.ReviewBoard()
    bigger.count, bigger.total = 600, 300.0  # ten times the volume, same mean
    assert term(1, 0, board) == term(1, 0, worse)  # volume ignores the ratings
    assert term(1, 0, bigger) > term(1, 0, board)
    assert term(0, 1, board) == pytest.approx(-term(0, 1, worse))  # valence reads them
    assert term(1, 1, board) == pytest.approx(term(1, 0, board) + term(0, 1, board))
    assert term(0, 0, bigger) == 0.0


def test_the_page_factors_scale_the_shown_count_and_stars():
    cfg = small_config("reviews.volume_factor=2", "reviews.valence_factor=1.1").reviews
    board = reviews.ReviewBoard()
    board.count, board.total = 40, 20.0  # score 0.5: 4 stars
    volume, valence = board.signals(cfg, 5_000)
    c = cfg.credibility_per_consumer * 5_000
    assert volume == pytest.approx(np.log1p(80 / c))
    assert valence == pytest.approx(80 / (80 + c) * (4.4 - 3) / 2)
    assert reviews.ReviewBoard().signals(cfg, 5_000) == (0.0, 0.0)


def test_review_credibility_is_per_consumer():
    cfg = small_config().reviews
    board = reviews.ReviewBoard()
    board.count, board.total = 20, 10.0
    # The default, 0.002 per consumer, is the former 20 reviews at 10,000 consumers: the
    # same count weighs what it weighed then (half), and the same volume, log 2.
    assert reviews.credibility_count(cfg, 10_000) == 20.0
    assert board.weight(cfg, 10_000) == 0.5
    assert board.signals(cfg, 10_000) == (np.log1p(1.0), 0.5 * (4.0 - 3) / 2)  # 4 stars
    # Ten times the market, ten times the reviews for the same credibility and volume.
    big = reviews.ReviewBoard()
    big.count, big.total = 200, 100.0
    assert big.signals(cfg, 100_000) == board.signals(cfg, 10_000)
    assert board.weight(cfg, 100_000) < board.weight(cfg, 10_000)


# -- incentives --------------------------------------------------------------------------

def test_incentive_takers_follow_with_raised_expectations():
    s = ConsumerState(1000)
    cfg = small_config("incentives.accept_prob=1").incentives
    out = incentives.offer(s, cfg, money=cfg.cost_per_offer * 100, step=1,
                           rng=np.random.default_rng(0))
    assert out["incentive_offers"] == 100
    assert s.follower.sum() == 100 and s.incentivised.sum() == 100
    assert (s.aware_source[s.follower] == INCENTIVES).all()
    assert np.allclose(s.expectation[s.follower], cfg.expectation_shift)
    assert cfg.expectation_shift < 0  # a discount signals lower quality (Rao & Monroe 1989)
    assert (s.expectation[~s.follower] == 0).all()


@pytest.mark.parametrize("shift", [-0.3, 0.3])
def test_an_offer_moves_expectation_by_the_shift_within_bounds(shift):
    s = ConsumerState(100)
    s.expectation[:] = np.linspace(-1, 1, 100)
    before = s.expectation.copy()
    cfg = small_config("incentives.accept_prob=1", f"incentives.expectation_shift={shift}")
    incentives.offer(s, cfg.incentives, money=1e6, step=1, rng=np.random.default_rng(0))
    assert np.allclose(s.expectation, np.clip(before + shift, -1, 1))


def test_incentives_backfire_with_a_disappointing_product():
    push = ("strategy=incentive_push", "incentives.accept_prob=1", "consumers=1000")
    bad = run_model(small_config(*push, "brand.quality=-0.5"), steps=15)
    good = run_model(small_config(*push, "brand.quality=0.8"), steps=15)
    assert bad.metrics["detractors"] > good.metrics["detractors"]
    assert bad.metrics["followers"] < good.metrics["followers"]
    assert totals(bad, "negative_wom") > totals(good, "negative_wom")


def test_incentives_switched_off_make_no_offers():
    model = run_model(small_config("strategy=incentive_push", "incentives.enabled=false"),
                      steps=5)
    assert totals(model, "incentive_offers") == 0 and not model.state.brand(0).incentivised.any()


# -- word of mouth -----------------------------------------------------------------------

def test_neighbours_of_lists_every_neighbour_in_source_order():
    model = WommModel(small_config(consumers=50))
    got = neighbours_of(model.indptr, model.indices, np.array([7, 3]))
    rows = model.graph.adjacency
    assert got.tolist() == rows[[7]].indices.tolist() + rows[[3]].indices.tolist()
    assert neighbours_of(model.indptr, model.indices, np.array([], dtype=int)).size == 0


def test_sample_edges_fires_at_its_probability():
    model = WommModel(small_config(consumers=2000))
    everyone = np.arange(model.n)
    src, _ = sample_edges(model.indptr, model.indices, everyone, 0.25,
                          np.random.default_rng(0))
    total = model.graph.adjacency.nnz
    assert abs(src.size - 0.25 * total) < 5 * np.sqrt(total * 0.25 * 0.75)


def test_bernoulli_positions_are_ordered_distinct_and_uniform():
    rng = np.random.default_rng(3)
    hits = np.zeros(50)
    for _ in range(4000):
        pos = bernoulli_positions(50, 0.1, rng)
        assert (np.diff(pos) > 0).all() and (pos.size == 0 or (pos[0] >= 0 and pos[-1] < 50))
        hits[pos] += 1
    # each position fires with probability 0.1: 400 expected, s.d. 19
    assert np.abs(hits - 400).max() < 5 * 19
    assert bernoulli_positions(7, 1.0, rng).tolist() == list(range(7))
    assert bernoulli_positions(7, 0.0, rng).size == 0


@pytest.mark.parametrize("crowd", [False, True])
def test_sample_edges_fires_each_edge_of_the_sources_alone(crowd):
    """Both ways of sampling (virtual edge list; walking every edge) give each edge of a
    source the same firing frequency and never fire an edge of a non-source."""
    model = WommModel(small_config(consumers=60))
    indptr, indices = model.indptr, model.indices
    sources = np.arange(0, 60, 2) if crowd else np.array([1, 5, 9])
    owner = edge_sources(indptr) if crowd else None
    counts: dict[tuple[int, int], int] = {}
    rng = np.random.default_rng(11)
    for _ in range(2000):
        src, dst = sample_edges(indptr, indices, sources, 0.2, rng, owner)
        assert (np.diff(src) >= 0).all()
        for pair in zip(src.tolist(), dst.tolist(), strict=True):
            counts[pair] = counts.get(pair, 0) + 1
    expected = {(int(i), int(j)) for i in sources for j in model.graph.adjacency[[i]].indices}
    assert set(counts) == expected
    freq = np.array(list(counts.values())) / 2000
    assert np.abs(freq - 0.2).max() < 5 * np.sqrt(0.2 * 0.8 / 2000)


# -- after purchase ----------------------------------------------------------------------

def test_disappointed_buyers_turn_detractors_and_unfollow():
    cfg = small_config("strategy=incentive_push", "brand.quality=-0.8",
                       "brand.quality_spread=0.05", "purchase.unfollow_prob=1",
                       "incentives.accept_prob=1")
    model = run_model(cfg, steps=12)
    s = model.state.brand(0)
    buyers = s.adopted_step > 0
    assert buyers.sum() > 10
    assert (s.satisfaction[buyers] < 0).all()
    assert (s.opinion[buyers] < -cfg.wom.neutral_band).all()  # every buyer a detractor
    assert not (s.follower & buyers).any()  # and none still follows
    assert model.metrics["detractors"] >= buyers.sum()


def test_shortfalls_hurt_more_than_surpluses_help():
    cfg = small_config("purchase.assimilation=0").purchase
    _, sat = disconfirm(cfg, np.array([0.5, 0.1]), np.array([0.3, 0.3]))
    assert sat[0] == pytest.approx(0.2)
    assert sat[1] == pytest.approx(-0.2 * cfg.loss_aversion)
    assert cfg.loss_aversion > 1


@given(st.floats(-1, 1), st.floats(0, 0.9), st.floats(1, 5))
def test_a_shortfall_weighs_loss_aversion_times_an_equal_surplus(gap, assimilation, loss):
    cfg = dataclasses.replace(small_config().purchase, assimilation=assimilation,
                              loss_aversion=loss)
    _, sat = disconfirm(cfg, np.array([gap, -gap]), np.zeros(2))
    up, down = (sat[0], sat[1]) if gap >= 0 else (sat[1], sat[0])
    assert down == pytest.approx(-loss * up)


def test_expectations_assimilate_perceived_quality():
    cfg = small_config("purchase.assimilation=0.3").purchase
    experience = np.array([0.2, 0.2, 0.2])
    expectation = np.array([-0.5, 0.2, 0.8])
    perceived, _ = disconfirm(cfg, experience, expectation)
    assert perceived == pytest.approx(0.7 * experience + 0.3 * expectation)
    assert perceived[0] < perceived[1] < perceived[2]  # pulled toward the expectation
    none = dataclasses.replace(cfg, assimilation=0.0)
    assert disconfirm(none, experience, expectation)[0] == pytest.approx(experience)


def test_a_buyer_rates_and_learns_from_the_perceived_quality():
    cfg = small_config("brand.quality=0.4", "brand.quality_spread=0", "reviews.enabled=false")
    s = ConsumerState(3)
    s.expectation[:] = [0.0, 0.4, 0.8]
    adopt(s, cfg, np.arange(3), np.zeros(3, np.int8), 1, reviews.ReviewBoard(),
                   np.random.default_rng(0))
    a, lam, gain = cfg.purchase.assimilation, cfg.purchase.loss_aversion, \
        cfg.purchase.satisfaction_gain
    perceived = 0.4 + a * (np.array([0.0, 0.4, 0.8]) - 0.4)
    assert s.experience == pytest.approx(perceived)
    gap = perceived - [0.0, 0.4, 0.8]
    assert s.satisfaction == pytest.approx(np.where(gap < 0, lam * gap, gap))
    assert s.opinion == pytest.approx(np.clip(gain * s.satisfaction, -1, 1))
    learning = cfg.purchase.expectation_learning
    assert s.expectation == pytest.approx([0.0, 0.4, 0.8] + learning * gap)


def test_post_purchase_switched_off_keeps_opinions():
    cfg = small_config("brand.quality=-0.8", "purchase.enabled=false")
    model = run_model(cfg, steps=10)
    s = model.state.brand(0)
    assert model.metrics["detractors"] == 0 or s.opinion[s.adopted].min() > -1
    buyers = model.state.brand(0).adopted_step > 0
    assert (model.state.brand(0).opinion[buyers] > -cfg.wom.neutral_band).mean() > 0.9


def test_channels_split_online_and_offline_sales():
    cfg = small_config("channels.research_online_fraction=1", "channels.offline_per_online=3",
                       consumers=3000)
    ts = run_model(cfg, steps=20).timeseries()
    online, offline = ts["online_sales"].sum(), ts["offline_sales"].sum()
    total = online + offline
    assert total == ts["new_adopters"].sum()
    assert abs(online / total - 0.25) < 5 * np.sqrt(0.25 * 0.75 / total)
    nobody = run_model(small_config("channels.research_online_fraction=0"), steps=10)
    assert totals(nobody, "online_sales") == 0


# -- decay -------------------------------------------------------------------------------

def test_decay_fades_adstock_and_non_adopter_opinion():  # hype: tests/unit/test_advertising.py
    cfg = small_config()
    s = ConsumerState(4)
    s.adstock[:] = 0.8
    s.opinion[:] = 0.5
    s.adopted[0] = True
    decay.fade(s, cfg.advertising, cfg.consumer)
    assert np.allclose(s.adstock, 0.8 * cfg.advertising.retention)
    assert s.opinion[0] == 0.5
    assert np.allclose(s.opinion[1:], 0.5 * (1 - cfg.consumer.opinion_decay))
