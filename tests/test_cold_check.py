"""The tensor tier's cold cost (issues 11/12): derivations are shared per op signature
(tensor_cache.py), elementwise ops run on whole arrays with numpy broadcasting
(tensor_elementwise.py) and templates compile through our own printer (codegen.py) — each
still equal to the exact tier's SymPy derivation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.symbolic import exact, tensor, tensor_cache
from crossgrad.engine.symbolic.codegen import NAMESPACE, numpy_function
from crossgrad.engine.symbolic.templates import args
from crossgrad.engine.symbolic.tensor_elementwise import ElementwiseStep


def _norms(rng, extra: bool = False):
    """Two layer norms of one signature (and, with ``extra``, a different tail)."""
    x = Leaf("x", rng.standard_normal((3, 4)), True)
    w = Leaf("w", rng.standard_normal(4), True)
    nodes = [x, w, OpNode("a", "layer_norm", ("x", "w", None), {"normalized_shape": (4,), "eps": 1e-5}),
             OpNode("t", "tanh", ("a",), {}),
             OpNode("b", "layer_norm", ("t", "w", None), {"normalized_shape": (4,), "eps": 1e-5})]
    if extra:
        nodes.append(OpNode("c", "mul", ("b", "b"), {}))
    return validate(Graph(tuple(nodes), nodes[-1].name))


def _assert_equals_exact(plan, rng):
    seed = rng.standard_normal(plan.shapes[plan.output])
    want, got = exact.gradients(plan, seed)[0], tensor.gradients(plan, seed)[0]
    for leaf in want:
        np.testing.assert_allclose(got[leaf], want[leaf], rtol=1e-11, atol=1e-12)


def test_nodes_of_one_signature_share_one_derivation_across_nodes_and_graphs():
    rng = np.random.default_rng(0)
    tensor_cache.clear()
    steps = tensor.compile_plan(_norms(rng))
    assert steps[2] is steps[4]  # the two layer norms: derived once
    before = tensor_cache.stats()
    other = tensor.compile_plan(_norms(rng, extra=True))  # another structure: only mul is new
    after = tensor_cache.stats()
    assert other[2] is steps[2] and other[3] is steps[3]
    assert after["misses"] - before["misses"] == 1
    _assert_equals_exact(_norms(rng, extra=True), rng)


def test_attributes_and_integer_inputs_are_part_of_the_signature():
    rng = np.random.default_rng(1)
    weight = Leaf("w", rng.standard_normal((5, 3)), True)

    def embed(indices, eps):
        plan = validate(Graph((weight, Leaf("i", np.array(indices, np.int64), False),
                               OpNode("e", "embedding", ("i", "w"), {}),
                               OpNode("y", "layer_norm", ("e", None, None), {"normalized_shape": (3,), "eps": eps})),
                              "y"))
        return plan, tensor.compile_plan(plan)

    (p1, s1), (p2, s2), (p3, s3) = embed([0, 4], 1e-5), embed([1, 4], 1e-5), embed([1, 4], 1e-3)
    assert s1[2] is not s2[2] and s2[3] is not s3[3] and s1[3] is s2[3]
    for plan in (p1, p2, p3):
        _assert_equals_exact(plan, rng)


BROADCAST = [
    ("add", [(3, 1), (4,)], {}),
    ("div", [(2, 3, 4), (3, 1)], {}),
    ("maximum", [(), (2, 3)], {}),
    ("gelu", [(2, 5)], {"approximate": "none"}),
    ("gelu", [(2, 5)], {"approximate": "tanh"}),
    ("where", [(2, 1, 3), (4, 1), (3,)], {}),
    ("masked_fill", [(2, 3, 4), (3, 1)], {"value": float("-inf")}),
]


def _leaf(name, shape, rng, op):
    if name in ("c", "m") and op in ("where", "masked_fill"):
        return Leaf(name, rng.random(shape) < 0.5, False)
    return Leaf(name, rng.standard_normal(shape), True)


@pytest.mark.parametrize(("op", "shapes", "attrs"), BROADCAST, ids=[f"{c[0]}-{i}" for i, c in enumerate(BROADCAST)])
def test_elementwise_steps_broadcast_like_the_exact_tier(op, shapes, attrs):
    rng = np.random.default_rng(2)
    names = {"where": ("c", "a", "b"), "masked_fill": ("x", "m")}.get(op, ("a", "b", "c"))[: len(shapes)]
    leaves = [_leaf(n, s, rng, op) for n, s in zip(names, shapes)]
    plan = validate(Graph((*leaves, OpNode("y", op, names, attrs)), "y"))
    assert isinstance(tensor.compile_plan(plan)[-1], ElementwiseStep)
    seed = rng.standard_normal(plan.shapes[-1])
    want, got = exact.gradients(plan, seed)[0], tensor.gradients(plan, seed)[0]
    assert set(got) == set(want)
    for leaf in want:
        assert got[leaf].shape == plan.shapes[leaf]
        np.testing.assert_allclose(got[leaf], want[leaf], rtol=1e-11, atol=1e-12)


def test_a_planted_broadcast_adjoint_bug_changes_the_gradient(monkeypatch):
    """The unbroadcast sum is what makes the bias gradient right: without it the test above fails."""
    from crossgrad.engine.symbolic import tensor_elementwise as E

    rng = np.random.default_rng(3)
    plan = validate(Graph((Leaf("a", rng.standard_normal((3, 4)), True), Leaf("b", rng.standard_normal(4), True),
                           OpNode("y", "mul", ("a", "b"), {})), "y"))
    seed = rng.standard_normal((3, 4))
    right = tensor.gradients(plan, seed)[0][1]
    monkeypatch.setattr(E, "unbroadcast", lambda g, shape: np.broadcast_to(np.asarray(g)[0], shape))
    tensor_cache.clear()
    tensor._PLANS.clear()
    wrong = tensor.gradients(plan, seed)[0][1]
    tensor_cache.clear()
    tensor._PLANS.clear()
    assert not np.allclose(right, wrong)


TEMPLATES = [
    lambda s: sp.Max(s[0], s[1], s[2]),
    lambda s: sp.Piecewise((s[0], s[0] > 0), (sp.Rational(1, 100) * s[0], True)),
    lambda s: s[0] / 2 * (1 + sp.erf(s[0] / sp.sqrt(2))),
    lambda s: sp.Min(sp.Max(s[0], -1), 2) * sp.Abs(s[1]) + sp.log(1 + sp.exp(s[2])),
    lambda s: sp.Piecewise((-sp.oo, sp.Ne(s[1], 0)), (s[0], True)),
]


@pytest.mark.parametrize("index", range(len(TEMPLATES)))
def test_compiled_templates_and_partials_equal_sympy_values(index):
    """The printer's numpy function and SymPy's own evaluation agree (off the kinks)."""
    s = args(3)
    template = TEMPLATES[index](s)
    partials = [sp.diff(template, v) for v in s]
    forward, gradient = numpy_function(s, template), numpy_function(s, partials, cse=True)
    rng = np.random.default_rng(index)
    points = rng.standard_normal((5, 3)) * 2
    got_f = np.broadcast_to(forward(*points.T), (5,))
    got_g = [np.broadcast_to(g, (5,)) for g in gradient(*points.T)]
    for row, point in enumerate(points):
        subs = dict(zip(s, (sp.Float(v, 30) for v in point)))
        assert got_f[row] == pytest.approx(float(template.xreplace(subs).evalf(30)), rel=1e-13)
        for p, g in zip(partials, got_g):  # abs: gelu's two terms cancel far left
            assert g[row] == pytest.approx(float(p.xreplace(subs).evalf(30)), rel=1e-12, abs=1e-15)
    assert set(NAMESPACE) >= {"numpy", "functools", "erf", "Heaviside"}


POOLS = [
    ((2, 3, 6, 7), {"kernel_size": (2, 2)}),
    ((1, 2, 5, 5), {"kernel_size": (3, 3), "stride": (2, 2), "padding": (1, 1)}),
    ((1, 1, 5, 6), {"kernel_size": (2, 3), "stride": (2, 2), "ceil_mode": True}),
    ((1, 1, 7, 6), {"kernel_size": (2, 2), "dilation": (2, 2), "stride": (1, 2), "padding": (1, 0)}),
    ((2, 5, 5), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True}),
]


@pytest.mark.parametrize(("shape", "attrs"), POOLS, ids=[f"pool-{i}" for i in range(len(POOLS))])
def test_strided_max_pool_equals_the_exact_tier_and_the_template_form(shape, attrs):
    from crossgrad.engine.symbolic.tensor_pool import MaxPoolStep

    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    flat, every = x.reshape(-1), np.arange(0, x.size - 1, 7)
    flat[every + 1] = flat[every]  # some ties inside windows
    plan = validate(Graph((Leaf("x", x, True), OpNode("y", "max_pool2d", ("x",), attrs)), "y"))
    assert isinstance(tensor.compile_plan(plan)[-1], MaxPoolStep)
    assert isinstance(tensor.template_plan(plan)[-1], tensor.TemplateStep)  # what order 2 walks
    seed = rng.standard_normal(plan.shapes[-1])
    got = tensor.gradients(plan, seed)[0][0]
    np.testing.assert_allclose(got, exact.gradients(plan, seed)[0][0], rtol=1e-12, atol=1e-13)
    template = tensor.template_plan(plan)[-1]
    out, tape = tensor._forward(template, [x])
    np.testing.assert_array_equal(tensor._forward(tensor.compile_plan(plan)[-1], [x])[0], out.reshape(plan.shapes[-1]))
    np.testing.assert_allclose(got, tensor._backward(template, tape, seed, [True])[0].reshape(shape), rtol=1e-13)


def test_contractions_are_derived_once_for_every_size():
    """The summation ranges are symbols: one sympy.diff per contraction kind, not per size (the
    strided conv and linear tests above check the values against the exact tier)."""
    from crossgrad.engine.symbolic import contractions as C
    from crossgrad.engine.symbolic.tensor_conv import conv_contraction

    assert C.linear(400, True) is C.linear(3, True) and C.linear(4, False) is not C.linear(4, True)
    assert C.matmul(True, 64) is C.matmul(True, 1)
    assert conv_contraction(2, 1, (5, 5), False, True) is conv_contraction(2, 6, (3, 2), False, True)
    (term,) = C.linear(9, False).vjps["X"]
    assert term.spec.count(",") == 1 and set(term.operands) == {"G", "W"}  # gX = G W


def test_the_tensor_tiers_erf_is_math_erf_within_an_ulp_and_vectorized():
    """The generated templates call erf64 (glibc's algorithm on whole arrays), not math.erf one
    element at a time: equal to math.erf but 1 ulp in a few elements of 1.25 <= |x| < 6."""
    import math

    from crossgrad.engine.symbolic.codegen import NAMESPACE, erf

    x = np.random.default_rng(6).standard_normal((3, 9000)) * 3
    want = np.vectorize(math.erf)(x)
    got = erf(x)
    assert got.shape == (3, 9000) and got.dtype == np.float64
    assert np.array_equal(np.abs(got - want) <= np.spacing(np.abs(want)), np.ones(x.shape, bool))
    assert np.mean(got == want) > 0.99
    assert erf(0.5) == math.erf(0.5) and NAMESPACE["erf"] is erf


def test_a_compiled_gelu_template_calls_erf_once_on_the_whole_array(monkeypatch):
    import sympy as sp
    from crossgrad.engine import erf64

    seen: list[tuple[int, ...]] = []
    real = erf64.erf
    monkeypatch.setattr(erf64, "erf", lambda v: seen.append(np.shape(v)) or real(v))
    s = sp.Symbol("s0", real=True)
    fn = numpy_function([s], s / 2 * (1 + sp.erf(s / sp.sqrt(2))))
    x = np.linspace(-4, 4, 20001)
    np.testing.assert_allclose(fn(x), x / 2 * (1 + real(x / np.sqrt(2))), rtol=1e-13, atol=1e-15)
    assert seen == [(20001,)]


def test_the_signature_cache_is_bounded_by_the_bytes_its_steps_hold(monkeypatch):
    rng = np.random.default_rng(7)
    tensor_cache.clear()
    monkeypatch.setattr(tensor_cache, "MAX_BYTES", 40_000)
    for n in range(3, 9):  # softmax steps of growing size: the oldest are dropped
        plan = validate(Graph((Leaf("x", rng.standard_normal((n, 50)), True),
                               OpNode("y", "softmax", ("x",), {"dim": -1})), "y"))
        tensor.compile_plan(plan)
        assert tensor_cache.stats()["bytes"] <= 40_000
    assert 0 < tensor_cache.stats()["size"] < 6
    tensor_cache.clear()
