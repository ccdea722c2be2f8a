"""A group's exact-tier job: values of every request converted at once, each request's gradients
bit for bit its own exact.gradients; the worker buffer read as stacked arrays."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.symbolic import exact, exact_many
from crossgrad.server import leafbuf


def _graph(x: np.ndarray, w: np.ndarray, target: np.ndarray) -> Graph:
    return Graph((Leaf("x", x), Leaf("w", w, True), OpNode("h", "matmul", ("x", "w")),
                  Leaf("t", target), OpNode("l", "cross_entropy", ("h", "t"), {"reduction": "mean"})), "l")


def _plans(count: int) -> list:
    rng = np.random.default_rng(11)
    target = np.array([2, 0, 1], np.int64)
    plans = [validate(_graph(rng.standard_normal((3, 4)).astype(np.float32),
                             rng.standard_normal((4, 3)).astype(np.float32), target)) for _ in range(count)]
    plans[2].graph.nodes[1].value[0, 1] = np.inf  # a non-finite value: that request converts alone
    plans[3].graph.nodes[1].value[1, 2] = -0.0
    return plans


def test_each_request_s_gradients_are_its_own_alone():
    plans = _plans(5)
    seeds = [np.ones(()) for _ in plans]
    stacks = {i: np.stack([p.graph.nodes[i].value for p in plans]) for i, n in enumerate(plans[0].graph.nodes)
              if isinstance(n, Leaf)}
    together = list(exact_many.gradients_many(plans[0], stacks, np.stack(seeds)))
    for plan, seed, found in zip(plans, seeds, together):
        alone = exact.gradients(plan, seed)[0]
        assert alone.keys() == found.keys()
        for leaf, g in alone.items():
            assert g.tobytes() == found[leaf].tobytes()
    assert np.isnan(together[2][1]).any() and np.isfinite(together[1][1]).all()


def test_a_many_message_reads_back_as_stacked_arrays():
    plans = _plans(4)
    seeds = [np.full((), 1.0 + k) for k in range(4)]
    key = leafbuf.key_of(plans[0], seeds[0], "exact")
    message = leafbuf.pack_many(key, plans, seeds)
    found_key, data = leafbuf.split_key(message)
    stacks, stacked_seeds = leafbuf.unpack_stacks(leafbuf.skeleton(plans[0]), seeds[0].dtype, data)
    assert found_key == key and stacked_seeds.tolist() == [1.0, 2.0, 3.0, 4.0]
    for i, node in enumerate(plans[0].graph.nodes):
        if isinstance(node, Leaf):
            expected = np.stack([p.graph.nodes[i].value for p in plans])
            assert stacks[i].dtype == expected.dtype and stacks[i].tobytes() == expected.tobytes()
    with pytest.raises(ValueError, match="whole number"):
        leafbuf.unpack_stacks(leafbuf.skeleton(plans[0]), seeds[0].dtype, data[:-3])


@pytest.mark.parametrize("tier", ["exact", "tensor"])
def test_a_group_job_answers_each_request_as_its_tier_alone(tier):
    """group_jobs.run_many over a first (pickled plans) and a later (values only) message."""
    import pickle

    from crossgrad.engine.symbolic import tensor
    from crossgrad.server import group_jobs

    plans = _plans(5)
    seeds = [np.full((), 1.0 + k) for k in range(5)]
    key = leafbuf.key_of(plans[0], seeds[0], tier)
    known, first, sent = leafbuf.Known(), {}, []
    run = exact.gradients if tier == "exact" else tensor.gradients
    for message in (leafbuf.PLANS + pickle.dumps((key, plans, seeds, tier)), leafbuf.pack_many(key, plans, seeds)):
        sent.clear()
        group_jobs.run_many(known, first, message, sent.append)
        assert [status for status, _ in sent] == ["ok"]
        answers = sent[0][1][0]
        for plan, seed, found in zip(plans, seeds, answers):
            alone = run(plan, seed)[0]
            assert all(g.tobytes() == found[leaf].tobytes() for leaf, g in alone.items())
