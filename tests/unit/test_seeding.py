"""Tests of wommsim.seeding: every rule on exact small graphs, the seed file's errors, and the
rules as the model uses them (initial adopters, content seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import small_config
from wommsim.config import SEED_RULES, ConfigError
from wommsim.mechanisms import content
from wommsim.model import WommModel
from wommsim.network import SocialGraph, from_edges, marked_by_community
from wommsim.seeding import Seeder, local_clustering, place, read_seed_file


def graph_of(edges: list[tuple[int, int]], n: int, strength: list[float] | None = None
             ) -> SocialGraph:
    src, dst = zip(*edges, strict=True)
    return from_edges(np.array(src), np.array(dst), n,
                      None if strength is None else np.array(strength))


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


#: Two triangles {0, 1, 2} and {3, 4, 5} joined by the tie 2-3; 6 is a leaf of 0.
TRIANGLES = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3), (0, 6)]


def test_hubs_are_the_highest_degree_ties_by_index() -> None:
    graph = graph_of(TRIANGLES, 7)  # degrees 3, 2, 3, 3, 2, 2, 1
    assert place("hubs", 3, graph, rng()).tolist() == [0, 2, 3]


def test_fringe_is_the_lowest_degree_with_neighbours_isolated_last() -> None:
    graph = graph_of(TRIANGLES, 8)  # 7 is isolated
    assert place("fringe", 1, graph, rng()).tolist() == [6]
    four = place("fringe", 4, graph, rng())
    assert four[0] == 6 and set(four[1:].tolist()) == {1, 4, 5}
    assert place("fringe", 8, graph, rng())[-1] == 7


def test_bridges_are_the_consumers_with_most_weak_ties() -> None:
    strength = [1, 1, 1, 1, 1, 1, 0, 0.5]  # 2-3 weak, 0-6 half
    graph = graph_of(TRIANGLES, 7, strength)
    assert place("bridges", 2, graph, rng()).tolist() == [2, 3]
    # then the half-weak tie: 0 before 6 (same weakness, higher degree)
    assert place("bridges", 4, graph, rng()).tolist() == [2, 3, 0, 6]


def test_bridges_without_tie_strength_are_the_least_clustered() -> None:
    graph = graph_of(TRIANGLES, 7)  # clustering: 0 1/3, 2 1/3, 3 1/3, others 1 or none
    assert set(place("bridges", 3, graph, rng()).tolist()) == {0, 2, 3}  # sampled estimate
    assert place("bridges", 7, graph, rng())[-1] == 6  # a single neighbour bridges nothing


def test_local_clustering_is_exact_where_every_pair_is_linked_or_none_is() -> None:
    star = graph_of([(0, i) for i in range(1, 6)], 6)
    assert local_clustering(star, rng())[0] == 0.0
    clique = graph_of([(a, b) for a in range(5) for b in range(a + 1, 5)], 5)
    assert np.all(local_clustering(clique, rng()) == 1.0)
    assert np.isnan(local_clustering(star, rng())[1])


def test_community_takes_a_random_consumers_community_then_the_next() -> None:
    graph = marked_by_community(graph_of([(0, 1), (2, 3), (4, 5), (1, 2)], 6),
                                np.array([0, 0, 1, 1, 2, 2]))
    for seed in range(10):
        seeds = place("community", 2, graph, rng(seed))
        assert graph.community[seeds[0]] == graph.community[seeds[1]]
        three = place("community", 3, graph, rng(seed))
        first = graph.community[three[0]]
        assert sorted(graph.community[three].tolist()) == sorted([first, first,
                                                                  (first + 1) % 3])


def test_community_without_communities_is_a_ball_around_a_random_consumer() -> None:
    path = graph_of([(i, i + 1) for i in range(9)], 10)
    for seed in range(10):
        seeds = np.sort(place("community", 4, path, rng(seed)))
        assert seeds[-1] - seeds[0] <= 4 and seeds.size == 4  # near each other
        assert np.all(np.diff(seeds) <= 2)


def test_community_ball_moves_on_when_a_component_runs_out() -> None:
    two = graph_of([(0, 1), (2, 3)], 4)
    assert sorted(place("community", 4, two, rng()).tolist()) == [0, 1, 2, 3]


def test_random_is_distinct_and_deterministic() -> None:
    graph = graph_of(TRIANGLES, 7)
    a, b = place("random", 5, graph, rng(3)), place("random", 5, graph, rng(3))
    assert np.array_equal(a, b) and np.unique(a).size == 5


@settings(max_examples=30, deadline=None)
@given(rule=st.sampled_from([r for r in SEED_RULES if r != "file"]),
       k=st.integers(0, 12), seed=st.integers(0, 1000))
def test_every_rule_places_min_k_n_distinct_consumers(rule: str, k: int, seed: int) -> None:
    graph = graph_of(TRIANGLES, 9)
    seeds = place(rule, k, graph, rng(seed))
    assert seeds.size == min(k, 9) == np.unique(seeds).size
    assert np.all((seeds >= 0) & (seeds < 9))


# -- the file rule ----------------------------------------------------------------------

def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "seeds.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_file_lists_consumer_ids_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, "# free samples\n4\n\n 2  # a comment\n0\n")
    assert read_seed_file(path, 7).tolist() == [4, 2, 0]
    graph = graph_of(TRIANGLES, 7)
    assert place("file", 2, graph, rng(), path).tolist() == [4, 2]
    topped = place("file", 5, graph, rng(), path)
    assert topped[:3].tolist() == [4, 2, 0] and np.unique(topped).size == 5


def test_file_reads_edge_list_labels(tmp_path: Path) -> None:
    labels = np.array(["ann", "bob", "cy"], dtype=object)
    assert read_seed_file(write(tmp_path, "cy\nann\n"), 3, labels).tolist() == [2, 0]


@pytest.mark.parametrize(("text", "line", "message"), [
    ("1\n2 3\n", 2, "expected one consumer, got '2 3'"),
    ("1\nx\n", 2, "'x' is not a consumer id"),
    ("1\n# c\n7\n", 3, "'7' is not a consumer id .an integer from 0 to 6."),
    ("1\n-1\n", 2, "'-1' is not a consumer id"),
    ("1.5\n", 1, "'1.5' is not a consumer id"),
    ("3\n1\n3\n", 3, "'3' is listed twice .first on line 1."),
])
def test_file_errors_name_the_file_and_line(tmp_path: Path, text: str, line: int,
                                            message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=rf"consumer.seed_file='.*seeds.txt' line {line}: "
                                          rf"{message}"):
        read_seed_file(path, 7)


def test_file_errors_for_unknown_labels_and_empty_or_missing_files(tmp_path: Path) -> None:
    labels = np.array(["ann", "bob"], dtype=object)
    with pytest.raises(ConfigError, match=r"line 2: 'zoe' is no node label"):
        read_seed_file(write(tmp_path, "ann\nzoe\n"), 2, labels)
    with pytest.raises(ConfigError, match=r"lists no consumer"):
        read_seed_file(write(tmp_path, "# nobody\n\n"), 2)
    with pytest.raises(ConfigError, match=r"no such file"):
        read_seed_file(str(tmp_path / "absent.txt"), 2)


def test_the_config_refuses_the_file_rule_without_a_file() -> None:
    with pytest.raises(ConfigError, match=r"consumer.initial_adopters=file: .*consumer.seed_file"):
        small_config("consumer.initial_adopters=file")
    with pytest.raises(ConfigError, match=r"content.seeding=file: .*consumer.seed_file"):
        small_config("content.seeding=file")


# -- the rules in the model -------------------------------------------------------------

def test_initial_adopters_random_and_hubs_keep_their_number() -> None:
    random_ = WommModel(small_config())
    hubs = WommModel(small_config("consumer.initial_adopters=hubs"))
    a, b = random_.state.adopted[0], hubs.state.adopted[0]
    assert a.sum() == b.sum() > 0
    assert np.array_equal(np.flatnonzero(b), np.sort(hubs.hubs[:b.sum()]))
    # the same opinions: seeding draws after them
    aware = random_.state.aware[0] & hubs.state.aware[0] & ~a & ~b
    assert np.array_equal(random_.state.opinion[0][aware], hubs.state.opinion[0][aware])


def test_initial_adopters_fringe_have_lower_degree_than_hubs() -> None:
    fringe = WommModel(small_config("consumer.initial_adopters=fringe"))
    hubs = WommModel(small_config("consumer.initial_adopters=hubs"))
    assert (fringe.degree[fringe.state.adopted[0]].max()
            <= hubs.degree[hubs.state.adopted[0]].min())


def test_initial_adopters_community_sit_in_one_personal_network() -> None:
    model = WommModel(small_config("network=personal_networks", "network.strong_degree=5",
                                   "network.weak_degree=1", "consumer.initial_adopters=community",
                                   "consumer.initial_adopted_fraction=0.015", consumers=1000))
    adopters = np.flatnonzero(model.state.adopted[0])
    assert 0 < adopters.size <= 20
    assert np.unique(model.graph.community[adopters]).size == 1


def test_initial_adopters_from_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "5\n17\n")
    model = WommModel(small_config("consumer.initial_adopters=file",
                                   f"consumer.seed_file={path}"))
    assert np.flatnonzero(model.state.adopted[0]).tolist() == [5, 17]


@pytest.mark.parametrize("rule", ["fringe", "bridges", "community"])
def test_content_seeding_rules_use_the_seeder(rule: str) -> None:
    model = WommModel(small_config(f"content.seeding={rule}"))
    cfg = model.config.content
    seeds = content.pick_seeds(model.state.brand(0), cfg, 10, model.seeder, rng())
    assert seeds.size == 10 == np.unique(seeds).size
    if rule != "community":
        assert np.array_equal(seeds, model.seeder.ranking(rule)[:10])


def test_seeder_caches_rankings() -> None:
    seeder = Seeder(graph_of(TRIANGLES, 7))
    assert seeder.ranking("fringe", rng(1)) is seeder.ranking("fringe", rng(2))


def test_community_wraps_to_the_first_community_and_takes_everyone_at_k_n() -> None:
    graph = marked_by_community(graph_of([(0, 1), (2, 3), (4, 5), (1, 2)], 6),
                                np.array([0, 0, 1, 1, 2, 2]))
    seeder = Seeder(graph)
    for seed in range(20):
        three = seeder.place("community", 3, rng(seed))
        if graph.community[three[0]] == 2:  # the last community spills into the first
            assert sorted(graph.community[three].tolist()) == [0, 2, 2]
        assert sorted(seeder.place("community", 6, rng(seed)).tolist()) == list(range(6))
