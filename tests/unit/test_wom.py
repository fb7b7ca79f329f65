"""Word of mouth (``wommsim.mechanisms.wom``): who talks, how exposure accumulates, rejection,
tie strength, rewarded speakers and random meetings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import run_model, small_config
from wommsim.mechanisms import purchase, wom
from wommsim.mechanisms.reviews import ReviewBoard
from wommsim.model import WommModel
from wommsim.state import ConsumerState

# Every speaker talks to every neighbour: certain talk, no degree or hearsay discount.
CERTAIN = ("wom.talk_prob=1", "wom.degree_participation=0", "wom.hearsay_talk=1")


def star(leaves: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR adjacency of a star: consumer ``leaves`` (the last) is the hub."""
    indptr = np.concatenate([np.arange(leaves + 1), [2 * leaves]])
    indices = np.concatenate([np.full(leaves, leaves), np.arange(leaves)])
    return indptr, indices


def speakers_to_hub(said: list[float]) -> ConsumerState:
    """Leaves that are aware and hold ``said``; the hub listens (aware, neutral)."""
    s = ConsumerState(len(said) + 1)
    s.aware[:] = True
    s.opinion[:-1] = said
    return s


def test_word_of_mouth_spreads_awareness_and_opinion():
    cfg = small_config("strategy=none", "consumer.initial_aware_fraction=0.1",
                       "consumer.opinion_mean=0.8", "consumer.opinion_spread=0",
                       "wom.talk_prob=0.5")
    model = WommModel(cfg)
    s = model.state.brand(0)
    aware_before = s.aware.sum()
    out = wom.talk(s, cfg.wom, model.indptr, model.indices, np.random.default_rng(0))
    assert out["positive_wom"] > 0
    assert s.aware.sum() > aware_before
    assert (s.opinion >= -1).all() and s.opinion.max() <= 1


def test_word_of_mouth_off_means_no_conversations():
    model = run_model(small_config("wom.enabled=false"), steps=10)
    ts = model.timeseries()
    assert ts["positive_wom"].sum() + ts["negative_wom"].sum() == 0
    assert (model.state.brand(0).talked == 0).all()


def test_one_conversation_moves_the_listener_by_its_dose():
    cfg = small_config(*CERTAIN).wom
    s = speakers_to_hub([0.5])
    wom.talk(s, cfg, *star(1), np.random.default_rng(0))
    dose = cfg.influence * cfg.trust * 0.5
    assert s.opinion[1] == pytest.approx(1.0 - np.exp(-dose))
    assert s.opinion[1] < 0.5  # one speaker moves the listener less than it said


def test_talk_accumulates_over_sources_and_steps():
    """Several speakers move the listener further than one, beyond what any of them said
    (many exposures add up), and a second step adds to the first; opinions stay <= 1."""
    cfg = small_config(*CERTAIN).wom
    one, many = speakers_to_hub([0.3]), speakers_to_hub([0.3] * 12)
    wom.talk(one, cfg, *star(1), np.random.default_rng(0))
    wom.talk(many, cfg, *star(12), np.random.default_rng(0))
    assert many.opinion[-1] > 0.3 > one.opinion[-1] > 0
    first = many.opinion[-1]
    wom.talk(many, cfg, *star(12), np.random.default_rng(1))
    assert first < many.opinion[-1] <= 1.0


@pytest.mark.parametrize("bias", [1.0, 4.0])
def test_negativity_bias_weighs_negative_talk_more(bias):
    cfg = small_config(*CERTAIN, f"wom.negativity_bias={bias}").wom
    s = speakers_to_hub([0.5, -0.5])
    wom.talk(s, cfg, *star(2), np.random.default_rng(0))
    dose = cfg.influence * cfg.trust * 0.5
    up, down = 1 - np.exp(-dose), 1 - np.exp(-bias * dose)
    assert s.opinion[2] == pytest.approx((up - down) / max(1.0, up + down))
    assert (s.opinion[2] < 0) == (bias > 1)


def test_negative_exposure_accumulates_decays_slowly_and_makes_rejecters():
    cfg = small_config(*CERTAIN, "wom.negative_retention=0.9",
                       "wom.rejection_threshold=0.5").wom
    s = speakers_to_hub([-0.5])
    indptr, indices = star(1)
    dose = cfg.influence * cfg.trust * 0.5 * cfg.negativity_bias  # 0.276 < 0.5
    wom.talk(s, cfg, indptr, indices, np.random.default_rng(0))
    assert s.heard_negative[1] == pytest.approx(dose, rel=1e-6) and not s.rejecter[1]
    out = wom.talk(s, cfg, indptr, indices, np.random.default_rng(0))
    assert s.heard_negative[1] == pytest.approx(0.9 * dose + dose, rel=1e-6)
    assert s.rejecter[1] and out["new_rejecters"] == 1


def test_rejecters_talk_against_the_brand_whatever_their_opinion():
    cfg = small_config(*CERTAIN).wom
    s = speakers_to_hub([0.0])
    s.rejecter[0] = True
    s.opinion[0] = 0.6  # e.g. warmed by content since
    out = wom.talk(s, cfg, *star(1), np.random.default_rng(0))
    assert out["negative_wom"] == 1 and out["positive_wom"] == 0
    assert s.opinion[1] < 0 and s.talked[0] == -1


def test_negative_talk_switch_silences_detractors_and_rejecters():
    cfg = small_config(*CERTAIN, "wom.negative_talk=false").wom
    s = speakers_to_hub([-0.9, 0.5, 0.0])
    s.rejecter[2] = True
    out = wom.talk(s, cfg, *star(3), np.random.default_rng(0))
    assert out == {"positive_wom": 1, "negative_wom": 0, "new_rejecters": 0}


def test_rejecters_never_buy():
    cfg = small_config("consumer.initial_aware_fraction=1", "consumer.opinion_mean=0.9",
                       "consumer.initial_adopted_fraction=0", "wom.enabled=false")
    model = WommModel(cfg)
    model.state.rejecter[0, ::2] = True
    for _ in range(10):
        model.step()
    adopted = model.state.adopted[0]
    assert adopted[1::2].sum() > 50 and not adopted[::2].any()
    assert model.metrics["rejecters"] == 250


def test_the_bass_rule_ignores_rejection_so_that_it_docks_with_bass():
    cfg = small_config("decision=bass", "decision.p=0.5", "consumer.initial_adopted_fraction=0")
    model = WommModel(cfg)
    model.state.rejecter[0, :400] = True
    model.step()
    # p = 0.5 of each group buys: rejection, an opinion rule's outcome, plays no role here.
    assert model.state.adopted[0, :400].sum() > 150 and model.state.adopted[0, 400:].any()


# -- who talks ---------------------------------------------------------------------------

def multiplier(cfg, s: ConsumerState, who: np.ndarray, step: int) -> np.ndarray:
    return wom.talk_multiplier(s, cfg, who, step)


def test_talk_rises_with_the_strength_of_the_experience_more_when_dissatisfied():
    cfg = small_config().wom
    s = ConsumerState(5)
    s.last_purchase_step[:4] = 10
    s.satisfaction[:4] = [0.0, 0.4, -0.4, 0.8]
    m = multiplier(cfg, s, np.arange(5), step=10)
    assert m[0] == 1.0  # no experience to tell
    assert m[4] == cfg.hearsay_talk  # no purchase: hearsay is passed on less
    assert m[1] == pytest.approx(1 + cfg.experience_talk * 0.4)
    assert m[2] == pytest.approx(1 + cfg.experience_talk * 0.4 * cfg.dissatisfied_talk)
    assert m[3] > m[2] > m[1] > m[0]


def test_consumers_who_have_not_bought_pass_on_hearsay_less():
    cfg = dataclasses.replace(small_config().wom, hearsay_talk=0.3)
    s = ConsumerState(3)
    s.talkativeness[:] = [2.0, 2.0, 0.5]
    s.last_purchase_step[0], s.satisfaction[0] = 4, 0.0
    m = multiplier(cfg, s, np.arange(3), step=4)
    assert m.tolist() == pytest.approx([2.0, 0.6, 0.15])


def test_extra_talk_halves_every_half_life_after_the_purchase():
    cfg = small_config().wom
    s = ConsumerState(1)
    s.last_purchase_step[0], s.satisfaction[0] = 0, 0.5
    extra = [multiplier(cfg, s, np.arange(1), step=t)[0] - 1.0
             for t in (0, cfg.talk_half_life, 2 * cfg.talk_half_life)]
    assert extra[1] == pytest.approx(extra[0] / 2) and extra[2] == pytest.approx(extra[0] / 4)


def test_hubs_talk_more_per_contact_but_persuade_no_more():
    cfg = small_config().wom
    part = wom.participation(cfg, np.array([1, 16, 0, 15]))
    assert part[1] / part[0] == pytest.approx(16 ** cfg.degree_participation)
    assert part[2] == part[0]  # no neighbours: counted as one
    # In the model, talkativeness holds the participation; persuasiveness is drawn
    # independently of degree.
    model = WommModel(small_config(consumers=3000))
    state = model.state
    log_k = np.log(model.degree)
    assert np.corrcoef(log_k, np.log(state.talkativeness))[0, 1] > 0.1
    assert abs(np.corrcoef(log_k, np.log(state.persuasiveness))[0, 1]) < 0.1
    assert state.talkativeness.dtype == np.float32 == state.persuasiveness.dtype
    assert state.persuasiveness.mean() == pytest.approx(1.0, abs=0.05)


def test_adopters_talk_more_after_buying_and_back_to_base_later():
    cfg = small_config("wom.talk_prob=0.2", "wom.degree_participation=0").wom
    n = 400
    indptr, indices = star(n)
    s = ConsumerState(n + 1)
    s.aware[:] = True
    s.opinion[:n] = 0.5
    s.adopted[:n] = True
    s.last_purchase_step[:n] = 0
    s.satisfaction[:n] = 0.5
    fresh = wom.talk(s.copy(), cfg, indptr, indices, np.random.default_rng(0), step=0)
    stale = wom.talk(s.copy(), cfg, indptr, indices, np.random.default_rng(0), step=1000)
    assert fresh["positive_wom"] > 1.8 * stale["positive_wom"]
    assert abs(stale["positive_wom"] - 0.2 * n) < 5 * np.sqrt(0.2 * 0.8 * n)


# -- ties, rewards, meetings ---------------------------------------------------------------

def test_weak_ties_talk_and_persuade_less():
    cfg = small_config("wom.talk_prob=0.3", "wom.degree_participation=0",
                       "wom.hearsay_talk=1", "wom.weak_tie_talk=0.25").wom
    n = 4000
    indptr, indices = star(n)
    s = speakers_to_hub([0.5] * n)
    strong = wom.talk(s.copy(), cfg, indptr, indices, np.random.default_rng(0),
                      tie_strength=np.ones(2 * n, np.float32))
    weak = wom.talk(s.copy(), cfg, indptr, indices, np.random.default_rng(0),
                    tie_strength=np.zeros(2 * n, np.float32))
    for out, p in ((strong, 0.3), (weak, 0.3 * 0.25)):
        assert abs(out["positive_wom"] - p * n) < 5 * np.sqrt(p * (1 - p) * n)
    # One conversation over a weak tie carries weak_tie_influence of the dose.
    cfg = small_config(*CERTAIN, "wom.weak_tie_talk=1").wom
    for w in (0.0, 1.0):
        s = speakers_to_hub([0.5])
        wom.talk(s, cfg, *star(1), np.random.default_rng(0),
                 tie_strength=np.full(2, w, np.float32))
        factor = cfg.weak_tie_influence + w * (1 - cfg.weak_tie_influence)
        assert s.opinion[1] == pytest.approx(1 - np.exp(-cfg.influence * cfg.trust * 0.5
                                                        * factor))


def test_listeners_discount_rewarded_speakers_more_over_weak_ties():
    cfg = small_config(*CERTAIN, "wom.weak_tie_talk=1", "wom.weak_tie_influence=1").wom
    moved = {}
    for rewarded in (False, True):
        for w in (0.0, 1.0):
            s = speakers_to_hub([0.5])
            s.offer_step[0] = 3 if rewarded else -1
            wom.talk(s, cfg, *star(1), np.random.default_rng(0),
                     tie_strength=np.full(2, w, np.float32))
            moved[rewarded, w] = s.opinion[1]
    assert moved[True, 0.0] < moved[True, 1.0] < moved[False, 1.0] == moved[False, 0.0]
    dose = cfg.influence * cfg.trust * 0.5 * (1 - cfg.rewarded_discount)
    assert moved[True, 0.0] == pytest.approx(1 - np.exp(-dose))


def test_random_meetings_reach_strangers():
    n = 2000
    cfg = small_config("wom.talk_prob=1", "wom.degree_participation=0",
                       "wom.random_meetings=2", "wom.weak_tie_talk=0.5").wom
    s = ConsumerState(n)
    s.aware[:100] = True
    s.opinion[:100] = 0.5
    indptr = np.zeros(n + 1, dtype=np.int64)  # nobody has a neighbour
    indices = np.empty(0, dtype=np.int32)
    out = wom.talk(s, cfg, indptr, indices, np.random.default_rng(0))
    expected = 100 * 2 * 0.5  # speakers x meetings each x weak-tie talk
    assert abs(out["positive_wom"] - expected) < 5 * np.sqrt(expected)
    assert s.aware[100:].sum() > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=20), st.floats(-1, 1),
       st.floats(0, 10))
def test_opinions_stay_in_bounds(said, start, bias):
    cfg = dataclasses.replace(small_config(*CERTAIN).wom, negativity_bias=bias, influence=1.0)
    s = speakers_to_hub(said)
    s.opinion[-1] = start
    wom.talk(s, cfg, *star(len(said)), np.random.default_rng(0))
    assert -1.0 <= s.opinion[-1] <= 1.0


# -- the model ---------------------------------------------------------------------------

def test_defective_units_are_experienced_at_the_defect_quality():
    # No assimilation: `experience` holds the perceived quality, which it would pull toward
    # the expectation.
    cfg = small_config("brand.defect_share=0.25", "brand.defect_quality=-0.9",
                       "brand.quality_spread=0", "purchase.assimilation=0")
    s = ConsumerState(4000)
    buyers = np.arange(4000)
    purchase.adopt(s, cfg, buyers, np.zeros(4000, np.int8), 3, ReviewBoard(),
                   np.random.default_rng(0))
    bad = s.experience == np.float64(-0.9)
    assert abs(bad.mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 4000)
    assert np.allclose(s.experience[~bad], cfg.brand.quality)
    assert (s.last_purchase_step == 3).all()


def test_bad_product_makes_rejecters_and_a_duel_still_runs():
    bad = run_model(small_config("brand.quality=-0.6", consumers=2000), steps=20)
    assert bad.timeseries()["rejecters"].iloc[-1] > 0
    duel = run_model(small_config("market=duel", consumers=1000), steps=8)
    assert duel.timeseries()["new_adopters"].sum() > 0


def test_grouped_sampling_gives_each_speaker_exactly_its_probability():
    """Speakers of very different talk probabilities (several powers of two apart, some
    merged into the lowest group) each fire at their own rate, and weak ties at theirs."""
    cfg = small_config("wom.weak_tie_talk=0.5").wom
    leaves, hubs = 200, 6
    # Hubs n..n+5 each linked to every leaf: speakers are the hubs.
    rows = [np.arange(leaves)] * hubs
    indptr = np.concatenate([[0], np.cumsum([hubs] * leaves + [leaves] * hubs)])
    indices = np.concatenate([np.tile(np.arange(leaves, leaves + hubs), leaves), *rows])
    strength = np.zeros(indices.size, np.float32)
    strength[indptr[leaves]:indptr[leaves + 1]] = 1.0  # the first hub's ties are strong
    speakers = np.arange(leaves, leaves + hubs)
    prob = np.array([0.9, 0.3, 0.05, 0.011, 1e-5, 0.6])
    s = ConsumerState(leaves + hubs)
    rng = np.random.default_rng(3)
    fired = np.zeros(hubs)
    rounds = 300
    for _ in range(rounds):
        src, _, _ = wom.conversations(s, cfg, indptr, speakers, prob, rng, None, strength)
        fired += np.bincount(src - leaves, minlength=hubs)
    expected = prob * np.where(np.arange(hubs) == 0, 1.0, 0.5) * leaves * rounds
    assert np.all(np.abs(fired - expected) < 5 * np.sqrt(expected) + 1)
