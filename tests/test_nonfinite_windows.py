"""Max-type ops over windows that hold a NaN or only -inf (verdict helper, session 6): the numeric
engine takes torch's index (max pooling: the last NaN, an all -inf padded window its first tap in
the input; max()/min(): evenly among NaNs; maximum and relu pass g at a NaN), the symbolic
witness's max propagates NaN as torch's, and the verdict is non_finite (or agree), never a
mismatch blaming a correct witness."""

from __future__ import annotations

import crossgrad as cg
import crossgrad.nn.functional as cF  # noqa: N812
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

NAN, INF = float("nan"), float("inf")
ROWS = {"nan": [[1.0, NAN, 2.0, NAN], [3.0, 1.0, NAN, 0.0]], "nan first": [[NAN, 5.0, 2.0, NAN], [NAN] * 4],
        "-inf": [[-INF] * 4, [1.0, -INF, 2.0, 2.0]], "+inf": [[INF, 1.0, INF, 0.0], [1.0, INF, 2.0, 2.0]]}
CALLS = {  # name -> (rank of the input, the call on (module, functional, x))
    "max_pool2d 1x2 stride 1": (4, lambda t, F, x: F.max_pool2d(x, (1, 2), stride=(1, 1))),
    "max_pool2d 2x2": (4, lambda t, F, x: F.max_pool2d(x, 2)),
    "max_pool2d padded": (4, lambda t, F, x: F.max_pool2d(x, 2, 1, 1)),
    "max_pool2d padded dilated": (4, lambda t, F, x: F.max_pool2d(x, 2, 1, 1, dilation=2)),
    "max_pool2d ceil_mode": (4, lambda t, F, x: F.max_pool2d(x, (2, 3), 2, ceil_mode=True)),
    "adaptive_max_pool2d": (4, lambda t, F, x: F.adaptive_max_pool2d(x, (1, 3))),
    "max_pool1d padded": (3, lambda t, F, x: F.max_pool1d(x, 2, 1, 1)),
    "adaptive_max_pool1d": (3, lambda t, F, x: F.adaptive_max_pool1d(x, 3)),
    "max(dim)": (2, lambda t, F, x: x.max(1).values), "amax": (2, lambda t, F, x: x.amax(1)),
    "max()": (2, lambda t, F, x: x.max()), "min()": (2, lambda t, F, x: x.min()),
    "maximum": (2, lambda t, F, x: t.maximum(x, x.flip(1))), "relu": (2, lambda t, F, x: t.relu(x)),
}


def _run(module, functional, call, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = module.tensor(x, requires_grad=True)
    y = call(module, functional, t)
    w = np.random.default_rng(0).standard_normal(tuple(y.shape))
    (y * module.tensor(w)).sum().backward()
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("row", list(ROWS))
@pytest.mark.parametrize("name", list(CALLS))
def test_forward_and_gradient_equal_torchs_at_nan_and_infinite_windows(name, row):
    torch = pytest.importorskip("torch")
    rank, call = CALLS[name]
    x = np.array(ROWS[row]).reshape((1,) * (rank - 2) + (2, 4))
    with np.errstate(all="ignore"):
        mine = _run(cg, cF, call, x)
    want = _run(torch, torch.nn.functional, call, x)
    for a, b in zip(mine, want):
        np.testing.assert_array_equal(a, b)


def test_max_pool_picks_the_last_nan_and_a_padded_empty_window_its_first_input_tap():
    x = cg.tensor([[[[1.0, NAN, 2.0, NAN]]]], requires_grad=True)
    y, index = cF.max_pool2d(x, (1, 4), return_indices=True)
    y.sum().backward()
    assert index.tolist() == [[[[3]]]] and x.grad.tolist() == [[[[0.0, 0.0, 0.0, 1.0]]]]
    # every window of a -inf input with padding: was a negative index (ValueError in bincount)
    x = cg.tensor([[[[-INF, -INF], [-INF, 5.0]]]], requires_grad=True)
    y, index = cF.max_pool2d(x, 2, 1, 1, return_indices=True)
    y.sum().backward()
    assert index.tolist() == [[[[0, 0, 1], [0, 3, 3], [2, 3, 3]]]]  # torch 2.13's
    assert x.grad.tolist() == [[[[3.0, 1.0], [1.0, 4.0]]]]


def _graph(x: np.ndarray, ops: list, consts: dict | None = None) -> Graph:
    nodes = [Leaf("x", x, True)] + [Leaf(k, v, False) for k, v in (consts or {}).items()] + ops
    return Graph(tuple(nodes), ops[-1].name)


def _pool(x: np.ndarray, op: str, attrs: dict, tail: str = "sum") -> Graph:
    return _graph(x, [OpNode("p", op, ("x",), attrs), OpNode("l", "sum", ("p",))])


WINDOWS = [("max_pool2d", np.array([[[[1.0, NAN, 2.0, NAN]]]]), {"kernel_size": (1, 4)}),
           ("max_pool2d", np.array([[[[-INF] * 4]]]), {"kernel_size": (1, 4)}),
           ("max_pool2d", np.array([[[[-INF, -INF], [1.0, 2.0]]]]), {"kernel_size": (2, 2), "padding": (1, 1)}),
           ("adaptive_max_pool2d", np.array([[[[1.0, NAN], [2.0, NAN]]]]), {"output_size": (1, 1)}),
           ("max_dim", np.array([[1.0, NAN, 2.0, NAN], [1.0, 2.0, 3.0, 4.0]]), {"dim": 1}),
           ("max_dim", np.array([[-INF, -INF, -INF], [1.0, 2.0, 3.0]]), {"dim": 1}),
           ("min_dim", np.array([[INF, INF, INF], [1.0, 2.0, 3.0]]), {"dim": 1}),
           ("amax", np.array([[-INF, -INF, -INF], [1.0, 2.0, 3.0]]), {"dim": (1,)}),
           ("max_all", np.array([[1.0, NAN, 2.0, NAN]]), {})]


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("op, x, attrs", WINDOWS, ids=[f"{op}-{k}" for k, (op, _, _) in enumerate(WINDOWS)])
def test_a_nan_or_all_minus_inf_window_is_non_finite_not_a_mismatch(op, x, attrs, tier):
    with np.errstate(all="ignore"):
        report = check(CheckRequest(_pool(x, op, attrs), tier=tier))
    assert report.verdict == "non_finite", str(report)
    assert not report.culprits  # was: "forward of node p (max_pool2d) is off: numeric nan vs symbolic 2.0"
    pair = report.leaves[0].pairs[0]
    assert pair.witnesses == ("numeric", "symbolic") and pair.mismatched == 0


def test_the_exact_tiers_max_propagates_nan_as_torchs():
    from crossgrad.engine.forward_check import forward_mismatches
    from crossgrad.engine.graph import validate

    with np.errstate(all="ignore"):
        assert forward_mismatches(validate(_pool(*WINDOWS[0][1:2], "max_pool2d", WINDOWS[0][2]))) == []


def _masked(op: str, attrs: dict, x: np.ndarray, mask: np.ndarray) -> Graph:
    return _graph(x, [OpNode("f", "masked_fill", ("x", "m"), {"value": -INF}), OpNode("p", op, ("f",), attrs),
                      OpNode("e", "exp", ("p",)), OpNode("l", "sum", ("e",))], {"m": mask})


RNG = np.random.default_rng(0)
SQUARE = np.zeros((1, 1, 4, 4), bool)
SQUARE[..., :2, :2] = True
ROW = np.zeros((3, 4), bool)
ROW[0] = True
MASKED = [("max_pool2d", {"kernel_size": (2, 2)}, RNG.standard_normal((1, 1, 4, 4)), SQUARE),
          ("max_pool2d", {"kernel_size": (2, 2), "padding": (1, 1)}, RNG.standard_normal((1, 1, 4, 4)), SQUARE),
          ("amax", {"dim": (1,)}, RNG.standard_normal((3, 4)), ROW),
          ("max_dim", {"dim": 1}, RNG.standard_normal((3, 4)), ROW),
          ("logsumexp", {"dim": (1,)}, RNG.standard_normal((3, 4)), ROW)]


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("op, attrs, x, mask", MASKED, ids=[f"{m[0]}-{k}" for k, m in enumerate(MASKED)])
def test_a_masked_all_minus_inf_window_agrees(op, attrs, x, mask, tier):
    """exp(max(-inf...)) = 0: nothing flows back. The tensor tier multiplied that zero by its
    Heaviside partial, NaN there (and masked_fill's zero partial by logsumexp's NaN adjoint):
    the symbolic witness alone NaN, blamed in a mismatch."""
    with np.errstate(all="ignore"):
        report = check(CheckRequest(_masked(op, attrs, x, mask), tier=tier))
    assert report.verdict == "agree", str(report)


def test_a_nan_planted_in_relus_rule_is_still_caught_on_the_tensor_tier(monkeypatch):
    rule = RULES["relu"]
    monkeypatch.setitem(RULES, "relu", Rule(rule.forward, lambda g, s, n: (rule.vjp(g, s, n)[0] * np.nan,)))
    graph = _graph(np.array([1.0, -2.0, 3.0]), [OpNode("r", "relu", ("x",)), OpNode("f", "masked_fill", ("r", "m"),
                                                                                  {"value": 0.0}),
                                                 OpNode("l", "sum", ("f",))], {"m": np.array([False, True, False])})
    with np.errstate(all="ignore"):
        report = check(CheckRequest(graph, tier="tensor"))
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric", str(report)


def test_a_wrong_max_pool_rule_beside_a_nan_window_is_still_a_mismatch(monkeypatch):
    rule = RULES["max_pool2d"]
    wrong = Rule(rule.forward, lambda g, s, n: tuple(v * 1.5 for v in rule.vjp(g, s, n)))
    monkeypatch.setitem(RULES, "max_pool2d", wrong)
    x = np.array([[[[1.0, NAN, 2.0, 0.5], [0.3, 0.1, 4.0, 0.2]]]])
    w = np.random.default_rng(1).standard_normal((1, 1, 1, 2))
    graph = _graph(x, [OpNode("p", "max_pool2d", ("x",), {"kernel_size": (2, 2)}),
                       OpNode("f", "masked_fill", ("p", "m"), {"value": 0.0}), OpNode("q", "mul", ("f", "w")),
                       OpNode("l", "sum", ("q",))], {"m": np.array([True, False]), "w": w})
    with np.errstate(all="ignore"):
        report = check(CheckRequest(graph, tier="exact"))
    assert report.verdict == "mismatch" and report.leaves[0].suspect == "numeric", str(report)
    assert (0, 0, 1, 2) in report.leaves[0].pairs[0].mismatched_indices
