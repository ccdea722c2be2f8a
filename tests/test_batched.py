"""Batched forwards (finite differences' perturbed copies) equal one forward per copy, on every
catalogue case and for every float input perturbed, including the fallback paths."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import finite_diff
from crossgrad.engine.graph import Leaf, validate
from crossgrad.engine.numeric import batched
from crossgrad.engine.numeric.run_graph import forward_program

from .catalogue_inputs import all_cases
from .graphs import case_request

LEAF_CASES = []
for _name, _index in all_cases():
    _graph = case_request(_name, _index).graph
    for _node in _graph.nodes:
        if isinstance(_node, Leaf) and _node.value.dtype != np.int64:
            LEAF_CASES.append((_name, _index, _node.name))


@pytest.mark.parametrize(("name", "index", "leaf"), LEAF_CASES,
                         ids=[f"{n}-{i}-{leaf}" for n, i, leaf in LEAF_CASES])
def test_batched_outputs_equal_one_forward_per_copy(name, index, leaf):
    plan = validate(case_request(name, index, seed=3).graph)
    at = plan.index[leaf]
    x = np.asarray(plan.graph.nodes[at].value, np.float64)
    stack = x + 0.01 * np.random.default_rng(4).standard_normal((3,) + x.shape)
    base = {at: x}
    got = batched.Batched(plan, base).outputs(at, stack)
    run = forward_program(plan)
    want = np.stack([run({at: copy}) for copy in stack])
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_every_batch_rule_is_a_table_entry_or_the_loop():
    from crossgrad.engine import ops

    assert set(batched.TABLE) == set(ops.CATALOGUE), "an op without a batch rule runs once per copy"


def test_small_batches_give_the_same_differences(monkeypatch):
    """Perturbations split over many batches (one copy each) give what one batch gives."""
    plan = validate(case_request("linear", 0, seed=2).graph)
    seed = np.random.default_rng(1).standard_normal(plan.shapes[plan.output])
    whole = finite_diff.finite_differences(plan, seed).grads
    monkeypatch.setattr(finite_diff, "BATCH_ELEMENTS", 1)
    split = finite_diff.finite_differences(plan, seed).grads
    for leaf in whole:
        np.testing.assert_allclose(split[leaf], whole[leaf], rtol=1e-9, atol=1e-12)


def test_random_directions_are_seeded_unit_sign_vectors_and_project_gradients():
    """Directions mode: +-1/sqrt(n) entries, the same for the same seed, and project() is the
    plain dot product of a gradient with each unit direction."""
    rng = np.random.default_rng(9)
    signs = finite_diff._random_signs(rng, (8, 40, 30))
    assert signs.dtype == np.int8 and set(np.unique(signs)) == {-1, 1}
    assert abs(float(signs.mean())) < 0.05
    again = finite_diff._random_signs(np.random.default_rng(9), (8, 40, 30))
    assert (signs == again).all()
    fd = finite_diff.FiniteDifferences("directions", 9, {}, {0: signs}, {})
    grad = np.random.default_rng(1).standard_normal((40, 30))
    unit = signs.astype(np.float64) / np.sqrt(grad.size)
    np.testing.assert_allclose(fd.project(0, grad), np.tensordot(unit, grad, axes=2), rtol=1e-12)
