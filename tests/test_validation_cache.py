"""Validation is cached by everything it reads: a second graph of the same structure reuses the
plan's facts, and anything validation would judge differently misses the cache."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import graph as G
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode, validate


def _softmax_sum(dim, values=(0.5, -1.0, 2.0)):
    x = np.array([values, values[::-1]])  # 2 x 3: dims 0, 1, -1 are valid
    return Graph((Leaf("x", x, True), OpNode("s", "softmax", ("x",), {"dim": dim}),
                  OpNode("out", "sum", ("s",))), "out")


def _cross_entropy(targets):
    return Graph((Leaf("x", np.zeros((2, 3)), True), Leaf("t", np.array(targets, np.int64), False),
                  OpNode("out", "cross_entropy", ("x", "t"))), "out")


def test_new_values_reuse_the_plan_but_keep_their_own_graph():
    first, second = _softmax_sum(0), _softmax_sum(0, (3.0, 1.0, -2.0))
    a, b = validate(first), validate(second)
    assert b.graph is second and a.graph is first
    assert (b.shapes, b.dtypes, b.active, b.structure_hash) == (a.shapes, a.dtypes, a.active, a.structure_hash)
    G._VALIDATED.clear()
    fresh = validate(second)
    assert (fresh.shapes, fresh.attrs, fresh.sources, fresh.grad_leaves()) == (b.shapes, b.attrs, b.sources,
                                                                                b.grad_leaves())


@pytest.mark.parametrize(("valid", "bad"), [(1, True), (0, False), (1, 1.0)])
def test_an_attribute_equal_to_a_valid_one_but_of_another_type_is_still_rejected(valid, bad):
    """True == 1 and hash(True) == hash(1), 1.0 == 1: a key of values alone would hand these the
    valid graph's plan."""
    assert validate(_softmax_sum(valid)).attrs[1] == {"dim": valid}
    with pytest.raises(GraphError, match=r"graph.nodes\[1\].attrs.dim"):
        validate(_softmax_sum(bad))


def test_integer_targets_are_part_of_the_key():
    validate(_cross_entropy([0, 2]))
    with pytest.raises(GraphError, match="class index 3 is out of range"):
        validate(_cross_entropy([0, 3]))


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(G, "VALIDATED_CACHE_SIZE", 4)
    G._VALIDATED.clear()
    for k in range(10):
        validate(_softmax_sum(0, (float(k), 1.0, 2.0)))  # same key: one entry
        validate(Graph((Leaf("x", np.zeros(k + 1), True), OpNode("out", "sum", ("x",))), "out"))
    assert len(G._VALIDATED) == 4


def test_cached_facts_keep_no_leaf_values_alive():
    big = np.zeros((300, 300))
    validate(Graph((Leaf("w", big, True), OpNode("out", "sum", ("w",))), "out"))
    assert all(facts.graph.nodes == () for facts in G._VALIDATED.values())
