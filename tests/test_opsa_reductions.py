"""Issue 11 part-A reductions beyond the catalogue-wide tests: the (values, indices) surface,
planted wrong-axis VJP bugs caught at the right leaf, and bad dims named by op."""

from __future__ import annotations

import types

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.errors import DtypeError, ShapeError
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

WRONG_AXIS = {"logsumexp": {}, "amax": {}, "amin": {}, "max": {}, "min": {}, "var": {"correction": 1.0},
              "std": {"correction": 0.0}, "norm": {"p": 2.0}, "cumsum": None, "prod": {}}


def _request(op: str, attrs: dict, tier: str) -> CheckRequest:
    rng = np.random.default_rng(4)
    x = rng.permutation(np.linspace(0.5, 2.0, 9)).reshape(3, 3)  # distinct, positive, no ties
    nodes = (Leaf("x", x, True), OpNode("r", op, ("x",), attrs))
    out_shape = (3, 3) if op == "cumsum" else (3,)
    return CheckRequest(graph=Graph(nodes, "r"), tier=tier, seed=rng.standard_normal(out_shape))


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("op", sorted(WRONG_AXIS))
def test_wrong_axis_vjp_is_caught(monkeypatch, op, tier):
    """The VJP run as if dim were 0 on a square input reducing (or summing along) dim 1."""
    attrs = {"dim": 1} if WRONG_AXIS[op] is None else {"dim": 1, "keepdim": False, **WRONG_AXIS[op]}
    assert check(_request(op, attrs, tier)).verdict == "agree"
    rule = RULES[op]

    def wrong(g, saved, node):
        bad = types.SimpleNamespace(shapes=node.shapes, needs=node.needs, attrs={**node.attrs, "dim": 0})
        if op in ("max", "min"):  # the saved index was taken along dim 1: put it back along dim 0
            return (np.swapaxes(rule.vjp(g, saved, node)[0], 0, 1),)
        return rule.vjp(g, saved, bad)

    monkeypatch.setitem(RULES, op, Rule(rule.forward, wrong))
    report = check(_request(op, attrs, tier))
    leaf = report.leaf("x")
    assert report.verdict == "mismatch" and leaf.verdict == "mismatch" and leaf.suspect == "numeric", str(report)


def test_max_dim_returns_values_and_indices_as_torch():
    x = crossgrad.tensor([[1.0, 3.0, 3.0], [2.0, 0.5, 2.0]], requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0] and indices.dtype is crossgrad.int64
    assert x.min(dim=0, keepdim=True).indices.tolist() == [[0, 1, 1]]
    assert type(x.max(1)).__name__ == "max" and x.max(1).values.grad_fn.name() == "MaxBackward0"
    assert x.max().item() == 3.0 and x.max().grad_fn.name() == "MaxBackward1"
    assert crossgrad.max(x, crossgrad.zeros(3) + 2.5).tolist() == [[2.5, 3.0, 3.0], [2.5, 2.5, 2.5]]
    assert x.argmax().item() == 1 and crossgrad.argmin(x, 1, keepdim=True).tolist() == [[0], [1]]
    assert not indices.requires_grad


def test_var_std_norm_surface_defaults():
    x = crossgrad.tensor([[1.0, 2.0, 4.0], [0.0, -1.0, 1.0]], dtype=crossgrad.float64)
    assert x.var().item() == pytest.approx(np.var(x.numpy(), ddof=1))
    assert x.var(1, unbiased=False).tolist() == pytest.approx(np.var(x.numpy(), axis=1).tolist())
    assert x.std(dim=0, correction=0, keepdim=True).shape == (1, 3)
    assert crossgrad.norm(x).item() == pytest.approx(np.sqrt(23.0))
    assert x.norm(p=1, dim=1).tolist() == [7.0, 2.0]
    assert x.cumsum(-1).tolist() == [[1.0, 3.0, 7.0], [0.0, -1.0, 0.0]]
    assert x.prod(1).tolist() == [8.0, -0.0] and x.logsumexp((0, 1)).item() == pytest.approx(
        np.log(np.exp(x.numpy()).sum()))
    assert x.amax(dim=(0, 1)).item() == 4.0 == crossgrad.amax(x).item()


def test_bad_dims_and_dtypes_name_the_op():
    x = crossgrad.ones(2, 3)
    with pytest.raises(ShapeError, match="^logsumexp: dim 2 out of range"):
        crossgrad.logsumexp(x, 2)
    with pytest.raises(ShapeError, match="^cumsum: dim -3 out of range"):
        x.cumsum(-3)
    with pytest.raises(ShapeError, match="^var: dim .* repeats"):
        x.var((1, -1))
    with pytest.raises(ShapeError, match="^argmax: dim 5 out of range"):
        x.argmax(5)
    with pytest.raises(DtypeError, match="^amax: input must be a floating point tensor"):
        (x > 0).amax()
    with pytest.raises(DtypeError, match="^norm: p=3"):
        x.norm(p=3)
