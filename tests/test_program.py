"""Programs: the seed's retain_graph and accumulation experiments, checked three ways."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import GraphError
from crossgrad.engine.numeric.autograd import SECOND_BACKWARD, Node
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.program import Step


def seed_request(program, **options):
    torch.manual_seed(1)
    x, y = torch.ones(5), torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(torch.matmul(x, w) + b, y)
    graph, _ = to_graph(loss, {id(w): "w", id(b): "b"})
    return CheckRequest(graph, program=program, **options)


def grads(report, step, leaf, witness="numeric"):
    return next(entry for entry in report.steps[step].leaves if entry.name == leaf).grads[witness]


def test_retain_graph_then_backward_doubles_and_agrees():
    report = check(seed_request([Step("backward", retain_graph=True), Step("backward")]))
    assert report.verdict == "agree", str(report)
    for witness in ("numeric", "symbolic", "finite_difference"):
        np.testing.assert_allclose(grads(report, 1, "b", witness), 2 * grads(report, 0, "b", witness),
                                   rtol=1e-6)


def test_second_backward_fails_on_its_step_for_every_witness():
    report = check(seed_request([Step("backward"), Step("backward"), Step("zero_grad")]))
    assert report.verdict == "agree"
    assert report.steps[0].errors == {"numeric": None, "symbolic": None, "finite_difference": None}
    assert set(report.steps[1].errors.values()) == {SECOND_BACKWARD}
    assert "error in numeric, symbolic, finite_difference: Trying to backward" in str(report)


def test_an_engine_that_forgets_to_free_the_graph_is_caught(monkeypatch):
    monkeypatch.setattr(Node, "release", lambda self: None)
    report = check(seed_request([Step("backward"), Step("backward")]))
    assert report.steps[1].verdict == "mismatch" and report.verdict == "mismatch"
    assert report.steps[1].errors["numeric"] is None and report.steps[1].errors["symbolic"]


@pytest.mark.parametrize(("zero_grad", "lr"), [(True, 1e-1), (False, 1e-4)])
def test_ten_training_steps_agree_with_and_without_zero_grad(zero_grad, lr):
    """The seed's loop: with zero_grad the gradient stays put; without, it grows ~linearly."""
    step = [Step("forward")] + ([Step("zero_grad")] if zero_grad else []) + [
        Step("backward"), Step("sgd_step", lr=lr)]
    report = check(seed_request(step * 10))
    assert report.verdict == "agree", str(report)
    backwards = [i for i, s in enumerate(report.steps) if s.kind == "backward"]
    first, last = grads(report, backwards[0], "b"), grads(report, backwards[-1], "b")
    if zero_grad:
        assert np.abs(last - first).max() < 0.5 * np.abs(first).max()  # parameters moved a little
    else:
        np.testing.assert_allclose(last, 10 * first, rtol=1e-3)  # ten gradients accumulated
    assert report.steps[-1].kind == "final_parameters" and report.steps[-1].verdict == "agree"


def test_bad_steps_name_their_field():
    with pytest.raises(GraphError, match=r"program\[1\]\.kind"):
        check(seed_request([Step("backward"), Step("jump")]))
    with pytest.raises(GraphError, match=r"program\[0\]\.root"):
        check(seed_request([Step("backward", root="nowhere")]))
