"""The lean numeric pass (engine/numeric/lean_walk.py) gives the autograd engine's gradients and
output bit for bit, and declines the plans where the engine's walk order or grad mode matters."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.numeric import lean_walk
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.numeric.run_graph import engine_gradients, numeric_gradients

from .catalogue_inputs import all_cases
from .graphs import case_request


def _seed(plan, given):
    return np.ones(plan.shapes[plan.output]) if given is None else np.asarray(given, np.float64)


def _same(lean, engine) -> None:
    (grads, out), (want, want_out) = lean, engine
    assert grads.keys() == want.keys()
    for leaf, g in grads.items():
        assert g.dtype == want[leaf].dtype and g.shape == want[leaf].shape
        np.testing.assert_array_equal(g, want[leaf], strict=True)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(want_out), strict=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_every_catalogue_case_is_the_engine_s_bit_for_bit(dtype) -> None:
    ran = 0
    for name, index in all_cases():
        request = case_request(name, index, dtype, seed=3)
        plan = validate(request.graph)
        seed = _seed(plan, request.seed)
        try:
            with np.errstate(all="ignore"):
                engine = engine_gradients(plan, seed)
        except Exception:  # noqa: BLE001 - a case the engine refuses: the lean pass must give way
            assert lean_walk.gradients(plan, seed) is None, name
            continue
        with np.errstate(all="ignore"):
            lean = lean_walk.gradients(plan, seed)
        if lean is not None:
            ran += 1
            _same(lean, engine)
    assert ran > 250, ran  # nearly every op takes the lean pass


def _chain(uses: int, dtype=np.float64) -> Graph:
    """w used ``uses`` times: tanh(w) * w (+ w ...), then a weighted sum."""
    nodes = [Leaf("w", np.linspace(-1.0, 2.0, 6, dtype=dtype).reshape(2, 3), True), OpNode("t", "tanh", ("w",)),
             OpNode("p0", "mul", ("t", "w"))]
    for k in range(1, uses - 1):
        nodes.append(OpNode(f"p{k}", "add", (f"p{k - 1}", "w")))
    nodes += [Leaf("v", np.arange(6, dtype=dtype).reshape(2, 3)), OpNode("m", "mul", (f"p{uses - 2}", "v")),
              OpNode("s", "sum", ("m",), {"dim": None, "keepdim": False})]
    return Graph(tuple(nodes), "s")


def test_a_value_used_twice_is_lean_three_times_is_the_engine_s() -> None:
    twice, thrice = validate(_chain(2)), validate(_chain(3))
    assert lean_walk.supported(twice) and not lean_walk.supported(thrice)
    _same(lean_walk.gradients(twice, np.ones(())), engine_gradients(twice, np.ones(())))
    assert lean_walk.gradients(thrice, np.ones(())) is None
    w = np.linspace(-1.0, 2.0, 6).reshape(2, 3)
    v = np.arange(6.0).reshape(2, 3)
    expected = (np.tanh(w) + w * (1 - np.tanh(w) ** 2) + 1) * v
    np.testing.assert_allclose(numeric_gradients(thrice, np.ones(()))[0][0], expected, rtol=1e-12)


def test_detach_and_no_grad_are_the_engine_s() -> None:
    detached = Graph((Leaf("x", np.ones(3), True), OpNode("d", "detach", ("x",)), OpNode("m", "mul", ("d", "x")),
                      OpNode("s", "sum", ("m",), {"dim": None, "keepdim": False})), "s")
    quiet = Graph((Leaf("x", np.ones(3), True), OpNode("e", "exp", ("x",), no_grad=True),
                   OpNode("m", "mul", ("e", "x")), OpNode("s", "sum", ("m",), {"dim": None, "keepdim": False})), "s")
    for graph in (detached, quiet):
        plan = validate(graph)
        assert not lean_walk.supported(plan)
        grads, _ = numeric_gradients(plan, np.ones(()))
        np.testing.assert_allclose(grads[0], np.full(3, 1.0 if graph is detached else np.e))


def test_a_planted_rule_is_the_one_the_lean_pass_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = validate(_chain(2))
    rule = RULES["tanh"]
    monkeypatch.setitem(RULES, "tanh", Rule(rule.forward, lambda g, saved, node: (2 * rule.vjp(g, saved, node)[0],)))
    lean = lean_walk.gradients(plan, np.ones(()))
    assert lean is not None
    _same(lean, engine_gradients(plan, np.ones(())))
    w, v = np.linspace(-1.0, 2.0, 6).reshape(2, 3), np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(lean[0][0], (np.tanh(w) + 2 * w * (1 - np.tanh(w) ** 2)) * v, rtol=1e-12)


def test_an_error_is_the_engine_s() -> None:
    broken = Graph((Leaf("x", np.ones(3), True), OpNode("l", "log", ("x",)),
                    OpNode("s", "sum", ("l",), {"dim": None, "keepdim": False})), "s")
    plan = validate(broken)
    rule = RULES["log"]

    def failing(g, saved, node):
        raise ValueError("planted")

    RULES["log"] = Rule(rule.forward, failing)
    try:
        assert lean_walk.gradients(plan, np.ones(())) is None
        with pytest.raises(ValueError, match="planted"):
            numeric_gradients(plan, np.ones(()))
    finally:
        RULES["log"] = rule
