"""The joint finite-difference screen's one-sided slopes (engine/fd_joint.py): kept only within
half the tolerance, else completed to central differences (the same slopes the central screen
computes); a one-element-off gradient of any GPT parameter is still caught at that leaf, numeric
the suspect."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine import check as check_module
from crossgrad.engine import fd_joint
from crossgrad.engine import finite_diff as F
from crossgrad.engine.graph import validate
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.symbolic import tensor

from examples.models import gpt_block


def _gpt(dtype=None):
    crossgrad.manual_seed(0)
    model = gpt_block.build(crossgrad, vocab=32, d_model=16, heads=2, seq=8)
    model.eval()
    if dtype is not None:
        for p in model.parameters():
            p.data = p.data.to(dtype)
    idx = crossgrad.randint(0, 32, (2, 8))
    targets = crossgrad.randint(0, 32, (2, 8))
    return model, lambda: model(idx, targets)


def _central_slopes(plan, seed, fd):
    """The screen's slopes as the central screen computed them: both sides of every direction."""
    base = F._base(plan)
    objective = F._Objective(plan, seed, base)

    def deltas(start, stop):
        return {leaf: fd.directions[leaf][start:stop] * (fd_joint.JOINT_STEP * fd.weights[leaf]) for leaf in base}

    return objective.central(list(base), fd_joint.JOINT_DIRECTIONS, deltas, fd_joint.JOINT_BATCH_ELEMENTS) \
        / fd_joint.JOINT_STEP


def test_slopes_outside_the_margin_are_completed_to_the_central_screens(monkeypatch):
    _, loss = _gpt()
    plan = validate(to_graph(loss())[0])
    seed = np.ones(())
    fd = fd_joint.finite_differences(plan, seed)
    assert isinstance(fd, fd_joint.JointDifferences) and fd.one_sided is not None
    right = tensor.gradients(plan, seed)[0]
    monkeypatch.setattr(fd_joint, "SCREEN_MARGIN", 0.0)  # nothing is within a zero tolerance
    fd_joint.settle(fd, plan, seed, {"numeric": right, "symbolic": right})
    assert fd.central and not fd.refined and "(central)" in fd_joint.describe(fd)
    central = _central_slopes(plan, seed, fd)
    assert np.array_equal(fd.slopes[fd.joint[0]], central)
    np.testing.assert_allclose(fd.projections["symbolic"], central, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_gpt_block_keeps_its_one_sided_slopes_well_within_the_tolerance(dtype):
    model, loss = _gpt(getattr(crossgrad, dtype))
    report = crossgrad.check(loss(), names=dict(model.named_parameters()), tier="tensor")
    assert report.verdict == "agree" and report.finite_difference.endswith("(one-sided)")
    plan = validate(to_graph(loss())[0])
    fd = fd_joint.finite_differences(plan, np.ones(()))
    one_sided = fd.slopes[fd.joint[0]]
    central = _central_slopes(plan, np.ones(()), fd)
    # the one-sided truncation is far below the tolerance (float32 rtol 1e-4, float64 1e-5)
    assert np.abs(one_sided - central).max() <= 0.02 * (1e-4 if dtype == "float32" else 1e-5) * np.abs(central).max()


PARAMETERS = [name for name, _ in _gpt()[0].named_parameters()]


@pytest.mark.parametrize("name", PARAMETERS)
def test_one_element_off_in_any_gpt_parameter_is_caught_at_that_leaf(monkeypatch, name):
    model, loss = _gpt()
    names = dict(model.named_parameters())
    real = check_module.numeric_gradients

    def planted(plan, seed):
        grads, out = real(plan, seed)
        leaf = plan.index[name]
        g = np.array(grads[leaf], copy=True)
        g.flat[0] += 0.05 * np.abs(g).max()  # one element off by 5% of the leaf's largest gradient
        return {**grads, leaf: g}, out

    monkeypatch.setattr(check_module, "numeric_gradients", planted)
    report = crossgrad.check(loss(), names=names, tier="tensor")
    assert report.verdict == "mismatch"
    leaf = report.leaf(name)
    assert (leaf.verdict, leaf.suspect) == ("mismatch", "numeric"), str(report)
    pairs = {p.witnesses: p for p in leaf.pairs}
    assert pairs[("numeric", "symbolic")].mismatched == 1
    assert pairs[("numeric", "symbolic")].worst_index == (0,) * len(leaf.shape)
    assert pairs[("numeric", "finite_difference")].verdict == "mismatch"
    assert pairs[("symbolic", "finite_difference")].verdict == "agree"
    for other in report.leaves:
        if other.name != name:
            assert other.verdict == "agree", other.name


def test_both_witnesses_off_by_a_few_tolerances_still_fail_the_screen():
    """Numeric and symbolic off alike by 5x float32's rtol: the one-sided slopes miss the margin,
    the central ones are computed, disagree, and every leaf gets its own directions."""
    _, loss = _gpt()
    plan = validate(to_graph(loss())[0])
    seed = np.ones(())
    fd = fd_joint.finite_differences(plan, seed)
    scaled = {leaf: g * (1 + 5e-4) for leaf, g in tensor.gradients(plan, seed)[0].items()}
    fd_joint.settle(fd, plan, seed, {"numeric": scaled, "symbolic": scaled})
    assert fd.central and not fd.joint and sorted(fd.refined) == sorted(plan.grad_leaves())
