"""Batched checks (engine/batch_check.py): every report equals the request's check alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from crossgrad.engine import batch_check
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.numeric import batch_numeric
from crossgrad.engine.numeric.run_graph import numeric_gradients
from crossgrad.server import wire


def _mlp(dtype):
    return Graph((Leaf("x", np.zeros((4, 3), dtype)), Leaf("w1", np.zeros((5, 3), dtype), True),
                  OpNode("wt", "transpose", ("w1",), {"dim0": 0, "dim1": 1}), OpNode("h", "matmul", ("x", "wt")),
                  Leaf("b1", np.zeros(5, dtype), True), OpNode("z", "add", ("h", "b1")),
                  OpNode("a", "tanh", ("z",)), Leaf("y", np.zeros((4, 5), dtype)),
                  OpNode("loss", "mse_loss", ("a", "y"), {"reduction": "mean"})), "loss")


def _softmax():
    return Graph((Leaf("x", np.zeros((2, 4)), True), OpNode("s", "log_softmax", ("x",), {"dim": 1}),
                  Leaf("v", np.zeros(4), True), OpNode("m", "mul", ("s", "v")),
                  OpNode("r", "sum", ("m",), {"dim": 0, "keepdim": False}), OpNode("e", "exp", ("r",)),
                  OpNode("q", "mean", ("e",), {"dim": None, "keepdim": False})), "q")


def _bce():
    return Graph((Leaf("w", np.zeros((5, 3), np.float32), True), Leaf("c", np.ones(5, np.float32)),
                  OpNode("h", "matmul", ("c", "w")), Leaf("b", np.zeros(3, np.float32), True),
                  OpNode("z", "add", ("h", "b")), Leaf("t", np.zeros(3, np.float32)),
                  OpNode("loss", "binary_cross_entropy_with_logits", ("z", "t", "", ""), {"reduction": "mean"})),
                 "loss")


GRAPHS = {"mlp32": lambda: _mlp(np.float32), "mlp64": lambda: _mlp(np.float64), "softmax": _softmax, "bce": _bce}


def _variants(graph: Graph, count: int, rng: np.random.Generator, constants: bool = True) -> list[Graph]:
    """``graph`` with new values in every float leaf (constants too when asked)."""
    out = []
    for _ in range(count):
        nodes = tuple(Leaf(n.name, rng.standard_normal(np.shape(n.value)).astype(np.asarray(n.value).dtype),
                           n.requires_grad) if isinstance(n, Leaf) and (n.requires_grad or constants) else n
                      for n in graph.nodes)
        out.append(Graph(nodes, graph.output))
    return out


def _figures(report):
    message = wire.response_out(report)
    message.ClearField("timings_ms")
    return message


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_batched_numeric_witness_is_bit_for_bit_the_engine_s(name):
    graphs = _variants(GRAPHS[name](), 5, np.random.default_rng(1))
    plans = [validate(g) for g in graphs]
    assert batch_numeric.supported(plans[0])
    stacks = {i: np.stack([p.graph.nodes[i].value for p in plans]) for i, n in enumerate(graphs[0].nodes)
              if isinstance(n, Leaf)}
    grads, outputs = batch_numeric.gradients(plans[0], stacks, np.ones((5,) + plans[0].shapes[plans[0].output]))
    for b, plan in enumerate(plans):
        alone, output = numeric_gradients(plan, np.ones(plan.shapes[plan.output]))
        assert np.array_equal(outputs[b], output) and outputs.dtype == output.dtype
        for leaf, g in alone.items():
            assert g.dtype == grads[leaf].dtype and np.array_equal(grads[leaf][b], g), (name, leaf)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_check_many_reports_equal_one_by_one_every_figure(name):
    rng = np.random.default_rng(2)
    requests = [CheckRequest(g) for g in _variants(GRAPHS[name](), 6, rng, constants=name != "bce")]
    if name == "bce":  # a planted wrong claimed gradient in the middle: caught there only
        requests[3] = dataclasses.replace(requests[3], claimed={"b": np.zeros(3)})
    plans = [validate(r.graph) for r in requests]
    batch = batch_check._precompute(requests[0], plans, [np.ones(()) for _ in plans], None)
    assert batch.numeric is not None and batch.fd is not None  # both witnesses ran batched
    alone = [check(r) for r in requests]
    together = batch_check.check_many(requests)
    assert [_figures(r) for r in together] == [_figures(r) for r in alone]
    if name == "bce":
        assert [r.verdict for r in together] == ["agree"] * 3 + ["mismatch"] + ["agree"] * 2


def test_structures_without_batch_rules_still_answer_alike():
    """detach: no batched numeric witness nor finite differences; the group still agrees with alone."""
    graph = Graph((Leaf("x", np.zeros(3), True), OpNode("d", "detach", ("x",)), OpNode("m", "mul", ("x", "d")),
                   OpNode("s", "sum", ("m",), {"dim": None, "keepdim": False})), "s")
    requests = [CheckRequest(g) for g in _variants(graph, 3, np.random.default_rng(3))]
    assert not batch_numeric.supported(validate(requests[0].graph))
    assert [_figures(r) for r in batch_check.check_many(requests)] == [_figures(check(r)) for r in requests]


def test_runs_split_on_keys_and_size():
    assert batch_check.runs([1, 1, None, 2, 2, 2, 1]) == [(0, 2), (2, 3), (3, 6), (6, 7)]
    assert batch_check.runs([5] * (batch_check.MAX_GROUP + 1))[-1] == (batch_check.MAX_GROUP, batch_check.MAX_GROUP + 1)


def test_large_graphs_are_checked_alone():
    big = Graph((Leaf("x", np.zeros(batch_check.BATCH_MAX_ELEMENTS), True),
                 OpNode("s", "sum", ("x",), {"dim": None, "keepdim": False})), "s")
    small = Graph((Leaf("x", np.zeros(8), True), OpNode("s", "sum", ("x",), {"dim": None, "keepdim": False})), "s")
    assert batch_check.batch_key(CheckRequest(big), validate(big)) is None
    assert batch_check.batch_key(CheckRequest(small), validate(small)) is not None


def test_a_group_that_fails_before_its_checks_still_gives_back_its_symbolic_worker(monkeypatch):
    """An unexpected error in the batched numeric pass escapes to the caller (who checks the
    requests one by one), but the group's symbolic job is read to its end first: a job left
    unread would hold its worker for good."""
    class Job:
        finished = False

        def get(self, n):
            raise AssertionError("no report was begun")

        def finish(self):
            Job.finished = True

    def tanh_sum(v):
        return Graph((Leaf("x", np.full(3, v), True), OpNode("y", "tanh", ("x",)), OpNode("s", "sum", ("y",))), "s")

    requests = [CheckRequest(tanh_sum(v), tier="exact") for v in (0.1, 0.2)]
    plans = [validate(r.graph) for r in requests]
    monkeypatch.setattr(batch_check, "_numeric", lambda *a: (_ for _ in ()).throw(KeyError("planted")))
    with pytest.raises(KeyError, match="planted"):
        batch_check.check_group(requests, plans, lambda p, s, t: Job())
    assert Job.finished


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_batched_finite_differences_are_bit_for_bit_each_request_s(name):
    """Signed zeros and values beyond 1 (steps scale with |x|) included."""
    from crossgrad.engine import batch_fd, finite_diff

    graphs = _variants(GRAPHS[name](), 5, np.random.default_rng(5))
    for k, graph in enumerate(graphs):
        for node in graph.nodes:
            if isinstance(node, Leaf) and node.requires_grad:
                node.value.reshape(-1)[k % node.value.size] = -0.0
                node.value.reshape(-1)[(k + 1) % node.value.size] *= 40.0
    plans = [validate(g) for g in graphs]
    seeds = [np.ones(p.shapes[p.output]) for p in plans]
    assert batch_fd.batchable(plans[0])
    for plan, seed, together in zip(plans, seeds, batch_fd.per_element(plans, seeds)):
        alone = finite_diff.finite_differences(plan, seed)
        assert alone.grads.keys() == together.grads.keys()
        for leaf, g in alone.grads.items():
            assert g.dtype == together.grads[leaf].dtype and g.tobytes() == together.grads[leaf].tobytes()


def test_uniform_groups_compare_as_the_general_path(monkeypatch):
    """Every request claims a gradient (one wrongly) and has its own seed scale: the stacked
    comparison of uniform checks (batch_compare._uniform_reports) gives every figure the
    per-request grouping gives."""
    from crossgrad.engine import batch_compare
    from crossgrad.engine.check import check_begin

    graph = Graph((Leaf("x", np.zeros((2, 3)), True), OpNode("t", "tanh", ("x",)), Leaf("v", np.zeros(3), True),
                   OpNode("m", "mul", ("t", "v")), OpNode("s", "sum", ("m",), {"dim": 1, "keepdim": False})), "s")
    rng = np.random.default_rng(9)
    requests = []
    for k, g in enumerate(_variants(graph, 6, rng)):
        seed = np.array([1.0, -2.0]) * (1 + k % 2)
        right = check(CheckRequest(g, seed=seed)).grad("v", "symbolic")
        claimed = right + (np.array([0.0, 0.5, 0.0]) if k == 2 else 0.0)
        requests.append(CheckRequest(g, seed=seed, claimed={"v": claimed}))
    checks = [check_begin(r) for r in requests]
    assert batch_compare._uniform(checks)
    together = batch_compare.leaf_reports_many(checks)
    monkeypatch.setattr(batch_compare, "_uniform", lambda checks: False)
    general = batch_compare.leaf_reports_many(checks)
    assert together == general
    assert [max(p.mismatched for leaf in leaves for p in leaf.pairs) > 0 for leaves in together] == \
        [False, False, True, False, False, False]
