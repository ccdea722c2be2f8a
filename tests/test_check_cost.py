"""The cost of checking real models (issues 11/12): auto picks the tensor tier for LeNet and the
GPT block, the tensor tier's staged lowerings and strided conv equal the exact tier, joint
finite-difference directions cost a fixed number of forwards and still decide the suspect where
the witnesses differ, planted bugs in a model's conv and attention VJPs are caught at model size,
and the LeNet check's peak memory stays within 3x the engine step's."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import fd_joint
from crossgrad.engine.check import EXACT_BUDGET
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.numeric import batched
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.symbolic import exact, tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "models"))
import gpt_block  # noqa: E402
import lenet  # noqa: E402


def _lenet(batch: int):
    model = lenet.build(crossgrad)
    lenet.init(crossgrad, model, crossgrad.float32)
    x, y = lenet.data(crossgrad, batch, crossgrad.float32)
    loss_fn = crossgrad.nn.CrossEntropyLoss()
    return model, lambda: loss_fn(model(x), y)


def _gpt(vocab=32, d_model=16, heads=2, seq=8, batch=2):
    crossgrad.manual_seed(0)
    model = gpt_block.build(crossgrad, vocab=vocab, d_model=d_model, heads=heads, seq=seq)
    model.eval()
    idx = crossgrad.randint(0, vocab, (batch, seq))
    targets = crossgrad.randint(0, vocab, (batch, seq))
    return model, lambda: model(idx, targets)


def _plan(loss):
    return validate(to_graph(loss)[0])


def test_auto_sends_lenet_and_the_gpt_block_to_the_tensor_tier():
    """Their exact work counts each conv output's window and each normalized row: far over the
    budget (the exact tier took 7 s on LeNet at batch 8 and 19 s on the quick GPT block)."""
    _, lenet_loss = _lenet(8)
    _, gpt_loss = _gpt(vocab=64, d_model=32, heads=4, seq=16, batch=4)
    for loss in (lenet_loss(), gpt_loss()):
        assert exact.estimate_work(_plan(loss)) > EXACT_BUDGET
    report = crossgrad.check(lenet_loss(), tier="auto")
    assert report.tier == "tensor" and "> exact budget" in report.tier_reason and report.verdict == "agree"


STAGED = [
    ("softmax", [(3, 5)], {"dim": -1}),
    ("softmax", [(2, 3, 4)], {"dim": 1}),
    ("log_softmax", [(4, 6)], {"dim": 0}),
    ("layer_norm", [(2, 3, 4), (3, 4), (3, 4)], {"normalized_shape": (3, 4), "eps": 1e-5}),
    ("layer_norm", [(5, 4), None, (4,)], {"normalized_shape": (4,), "eps": 1e-3}),
]


@pytest.mark.parametrize(("op", "shapes", "attrs"), STAGED, ids=[f"{c[0]}-{i}" for i, c in enumerate(STAGED)])
def test_staged_tensor_lowerings_equal_the_exact_tier(op, shapes, attrs):
    rng = np.random.default_rng(1)
    names = ("x", "w", "b")
    leaves = [Leaf(n, rng.standard_normal(s), True) for n, s in zip(names, shapes) if s is not None]
    inputs = tuple(n if s is not None else None for n, s in zip(names, shapes))
    graph = Graph((*leaves, OpNode("y", op, inputs, attrs)), "y")
    plan = validate(graph)
    seed = rng.standard_normal(plan.shapes[-1])
    want, got = exact.gradients(plan, seed)[0], tensor.gradients(plan, seed)[0]
    assert tensor.compile_plan(plan)[-1].stages[-1].groups[0].gather.shape[1] <= 3  # no row-long template
    for leaf in want:
        np.testing.assert_allclose(got[leaf], want[leaf], rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_staged_cross_entropy_with_ignored_samples_equals_the_exact_tier(reduction):
    rng = np.random.default_rng(2)
    x = Leaf("x", rng.standard_normal((5, 7)), True)
    t = Leaf("t", np.array([3, 1, 6, 1, 0], np.int64), False)
    graph = Graph((x, t, OpNode("y", "cross_entropy", ("x", "t"), {"ignore_index": 1, "reduction": reduction})), "y")
    plan = validate(graph)
    seed = rng.standard_normal(plan.shapes[-1])
    want, got = exact.gradients(plan, seed)[0], tensor.gradients(plan, seed)[0]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-11, atol=1e-12)
    assert np.all(got[0][[1, 3]] == 0)  # ignored samples


def test_masked_softmax_rows_keep_exact_zero_gradients_on_the_tensor_tier():
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((4, 4))
    scores[np.triu_indices(4, 1)] = -np.inf
    x = Leaf("x", scores, True)
    plan = validate(Graph((x, OpNode("y", "softmax", ("x",), {"dim": -1})), "y"))
    grad = tensor.gradients(plan, rng.standard_normal((4, 4)))[0][0]
    assert np.all(grad[np.triu_indices(4, 1)] == 0) and np.isfinite(grad).all()


CONVS = [
    ((2, 4, 7, 6), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 2, 0, 1), "dilation": (1, 2), "groups": 2}),
    ((1, 3, 9), (4, 3, 3), {"stride": (3,), "padding": (2,), "dilation": (2,), "groups": 1}),
    ((2, 3, 5, 5), (3, 1, 3, 3), {"stride": (1, 1), "padding": (1, 1), "dilation": (1, 1), "groups": 3}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "attrs"), CONVS, ids=["grouped-2d", "strided-1d", "depthwise"])
def test_strided_window_conv_equals_the_exact_tier_index_sum(x_shape, w_shape, attrs):
    rng = np.random.default_rng(4)
    op = "conv2d" if len(x_shape) == 4 else "conv1d"
    leaves = (Leaf("x", rng.standard_normal(x_shape), True), Leaf("w", rng.standard_normal(w_shape), True),
              Leaf("b", rng.standard_normal(w_shape[0]), True))
    plan = validate(Graph((*leaves, OpNode("y", op, ("x", "w", "b"), attrs)), "y"))
    seed = rng.standard_normal(plan.shapes[-1])
    want, got = exact.gradients(plan, seed)[0], tensor.gradients(plan, seed)[0]
    for leaf in want:
        np.testing.assert_allclose(got[leaf], want[leaf], rtol=1e-11, atol=1e-11)


def _count_copies(monkeypatch):
    copies = []
    outputs = batched.Batched.outputs

    def counting(self, stacks):
        copies.append(len(next(iter(stacks.values()))))
        return outputs(self, stacks)

    monkeypatch.setattr(batched.Batched, "outputs", counting)
    return copies


def test_joint_directions_cost_a_fixed_number_of_forwards_whatever_the_leaves(monkeypatch):
    model, loss = _gpt()
    copies = _count_copies(monkeypatch)
    report = crossgrad.check(loss(), names=dict(model.named_parameters()), tier="tensor")
    assert report.verdict == "agree" and "joint directions" in report.finite_difference
    # one-sided joint slopes within half the tolerance: one copy per direction and the unmoved one
    assert "(one-sided)" in report.finite_difference
    assert len(report.leaves) == 17 and sum(copies) == fd_joint.JOINT_DIRECTIONS + 1
    pair = next(p for p in report.leaf("head.weight").pairs if p.witnesses == ("numeric", "finite_difference"))
    assert pair.unit == "directions" and pair.total == fd_joint.JOINT_DIRECTIONS and pair.verdict == "agree"


def _plant(monkeypatch, op, wrong):
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, Rule(rule.forward, lambda g, saved, node: wrong(rule.vjp(g, saved, node))))


def test_a_planted_attention_softmax_bug_is_caught_upstream_with_numeric_suspect(monkeypatch):
    """A softmax VJP off by 3% reaches every parameter before the attention; the joint screen
    hands those leaves per-leaf directions, which side with symbolic."""
    model, loss = _gpt()
    _plant(monkeypatch, "softmax", lambda grads: (grads[0] * 1.03,))
    report = crossgrad.check(loss(), names=dict(model.named_parameters()), tier="tensor")
    upstream = {"tok.weight", "pos.weight", "block.ln1.weight", "block.ln1.bias", "block.qkv.weight"}
    for leaf in report.leaves:
        if leaf.name in upstream:
            assert (leaf.verdict, leaf.suspect) == ("mismatch", "numeric"), leaf.name
        elif not leaf.name.startswith("block.qkv"):
            assert leaf.verdict == "agree", leaf.name
    assert "per leaf" in report.finite_difference


def test_a_planted_conv_input_gradient_bug_in_lenet_is_caught_at_conv1(monkeypatch):
    """conv2's input gradient with its kernel not flipped: only conv1's parameters (which it
    feeds) are wrong; finite differences (per leaf there, after the joint screen) side with
    symbolic, numeric is the suspect and conv2 the culprit node; every later parameter agrees."""
    from crossgrad.engine.numeric import rules_conv

    model, loss = _lenet(2)
    rule = RULES["conv2d"]

    def vjp(g, saved, node):
        good = rule.vjp(g, saved, node)
        bad = rules_conv._input_grad_of_conv(g, saved[1][..., ::-1, ::-1], saved[0].shape, node.attrs)
        return (bad,) + tuple(good[1:])

    monkeypatch.setitem(RULES, "conv2d", Rule(rule.forward, vjp))
    report = crossgrad.check(loss(), names=dict(model.named_parameters()), tier="tensor")
    for leaf in report.leaves:
        pairs = {p.witnesses: p.verdict for p in leaf.pairs}
        if leaf.name.startswith("conv1."):
            assert leaf.verdict == "mismatch" and pairs[("numeric", "finite_difference")] == "mismatch"
            assert pairs[("symbolic", "finite_difference")] == "agree", leaf.name
            assert (pairs[("numeric", "symbolic")], leaf.suspect) == ("mismatch", "numeric"), leaf.name
        else:
            assert leaf.verdict == "agree", leaf.name
    assert report.verdict == "mismatch" and "per leaf" in report.finite_difference
    assert [c.op for c in report.culprits] == ["conv2d"]


def test_when_both_derivative_witnesses_are_off_the_screen_gives_every_leaf_its_own_directions():
    _, loss = _gpt()
    plan = _plan(loss())
    seed = np.ones(())
    fd = fd_joint.finite_differences(plan, seed)
    right = tensor.gradients(plan, seed)[0]
    assert isinstance(fd, fd_joint.JointDifferences)
    scaled = {leaf: g * 1.01 for leaf, g in right.items()}
    fd_joint.settle(fd, plan, seed, {"numeric": scaled, "symbolic": scaled})
    assert not fd.joint and sorted(fd.refined) == sorted(plan.grad_leaves())
    leaf = fd.refined[0]
    np.testing.assert_allclose(fd.project(leaf, right[leaf], "numeric"), fd.slopes[leaf], rtol=1e-5)


def test_lenet_check_peak_memory_is_within_3x_the_engine_step():
    model, loss = _lenet(64)
    crossgrad.check(loss(), names=dict(model.named_parameters()))  # derivations compiled and cached
    tracemalloc.start()
    try:
        model.zero_grad()
        loss().backward()
        step = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        report = crossgrad.check(loss(), names=dict(model.named_parameters()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.verdict == "agree" and peak <= 3 * step, (peak / 1e6, step / 1e6)
