"""The heaviest concurrent set of waves: a maximum-weight antichain found by a flow.

Checked against enumeration on every small dependency order hypothesis draws, and on the
shapes that made the old branch-and-bound search exponential."""

from __future__ import annotations

import itertools

from drs_orchestrator.domain.concurrency import ancestors, heaviest_concurrent_set
from hypothesis import given, settings
from hypothesis import strategies as st


@st.composite
def weighted_orders(draw: st.DrawFn) -> tuple[dict[str, list[str]], dict[str, int]]:
    """A random acyclic dependency order: wave i may depend only on waves before it."""
    size = draw(st.integers(1, 9))
    names = [f"w{i}" for i in range(size)]
    edges = {
        name: draw(st.lists(st.sampled_from(names[:i]), unique=True)) if i else []
        for i, name in enumerate(names)
    }
    weights = {name: draw(st.integers(0, 6)) for name in names}
    return edges, weights


def _brute_force(edges: dict[str, list[str]], weights: dict[str, int]) -> int:
    above = ancestors(edges)
    best = 0
    for size in range(1, len(edges) + 1):
        for subset in itertools.combinations(edges, size):
            if all(
                a not in above[b] and b not in above[a]
                for a, b in itertools.combinations(subset, 2)
            ):
                best = max(best, sum(weights[n] for n in subset))
    return best


@settings(max_examples=300, deadline=None)
@given(weighted_orders())
def test_the_flow_finds_the_heaviest_antichain_enumeration_finds(order) -> None:
    edges, weights = order
    total, chosen = heaviest_concurrent_set(edges, weights)
    above = ancestors(edges)
    assert total == _brute_force(edges, weights)
    assert total == sum(weights[n] for n in chosen)
    for a, b in itertools.combinations(chosen, 2):
        assert a not in above[b] and b not in above[a], f"{a} and {b} cannot run together"
    assert all(weights[n] > 0 for n in chosen)


def test_independent_chains_take_the_heavier_wave_of_each() -> None:
    # 25 two-wave chains: 2^25 antichains of maximal size, answered by one flow.
    edges: dict[str, list[str]] = {}
    weights: dict[str, int] = {}
    for k in range(25):
        edges[f"a{k}"], edges[f"b{k}"] = [], [f"a{k}"]
        weights[f"a{k}"], weights[f"b{k}"] = 1 + k % 3, 2
    total, chosen = heaviest_concurrent_set(edges, weights)
    assert total == sum(max(1 + k % 3, 2) for k in range(25))
    assert len(chosen) == 25


def test_nothing_weighs_nothing() -> None:
    assert heaviest_concurrent_set({"a": [], "b": ["a"]}, {"a": 0, "b": 0}) == (0, [])
