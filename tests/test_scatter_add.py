"""scatter_add (the adjoint of gather): torch's values, gradients and grad_fn (golden), its
surface and errors, the three witnesses on a graph that uses it, and second order through it."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.errors import IndexRangeError, ShapeError

from tests.higher_cases import as_tensor, case_data, cotangent
from tests.test_higher_order import BY_CASE


@pytest.mark.parametrize("index", range(4))
def test_values_gradients_and_grad_fn_match_torch(index: int) -> None:
    arrays, attrs, diff = case_data("scatter_add", index)
    want = BY_CASE["scatter_add", index]["first"]
    ts = [as_tensor(crossgrad, a, i in diff) for i, a in enumerate(arrays)]
    y = crossgrad.scatter_add(ts[0], attrs["dim"], ts[1], ts[2])
    assert type(y.grad_fn).__name__ == want["grad_fn"] == "ScatterAddBackward0"
    np.testing.assert_allclose(y.detach().numpy(), want["out"], rtol=1e-14)
    grads = crossgrad.autograd.grad((y * crossgrad.tensor(cotangent(tuple(y.shape)))).sum(), [ts[i] for i in diff])
    for g, w in zip(grads, want["grads"]):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-14)


def test_repeated_indices_add_up() -> None:
    x = crossgrad.zeros(2, 3, dtype=crossgrad.float64)
    src = crossgrad.tensor([[1.0, 2.0, 4.0], [8.0, 16.0, 32.0]], requires_grad=True)
    y = x.scatter_add(0, crossgrad.tensor([[1, 1, 0], [1, 0, 0]]), src)
    assert y.tolist() == [[0.0, 16.0, 36.0], [9.0, 2.0, 0.0]]
    (y * crossgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert src.grad.tolist() == [[4.0, 5.0, 3.0], [4.0, 2.0, 3.0]]  # g gathered where each landed


def test_bad_index_and_shapes_are_typed_errors_naming_the_op() -> None:
    x = crossgrad.zeros(3, 4)
    with pytest.raises(IndexRangeError, match=r"scatter_add\(\): index 7 is out of bounds"):
        crossgrad.scatter_add(x, 0, crossgrad.tensor([[0, 1, 2, 7]]), crossgrad.ones(1, 4))
    with pytest.raises(ShapeError, match="scatter_add.*index \\[2, 4\\], src \\[1, 4\\]"):
        crossgrad.scatter_add(x, 0, crossgrad.tensor([[0, 1, 2, 1], [0, 0, 0, 0]]), crossgrad.ones(1, 4))
    with pytest.raises(ShapeError, match="no larger than self"):
        crossgrad.scatter_add(x, 0, crossgrad.zeros(2, 5, dtype=crossgrad.int64), crossgrad.ones(2, 5))


def test_a_gradient_penalty_through_gather_is_checked_three_ways() -> None:
    """loss + |d loss / d x|^2 where loss gathers: the gradient graph holds scatter_add nodes."""
    rng = np.random.default_rng(3)
    x = crossgrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    index = crossgrad.tensor([[0, 3, 3], [1, 1, 2], [2, 0, 0]])
    loss = (crossgrad.tanh(x.gather(1, index)) * crossgrad.tensor(rng.standard_normal((3, 3)))).sum()
    (g,) = crossgrad.autograd.grad(loss, [x], create_graph=True)
    assert "ScatterAddBackward0" in _grad_fn_names(g)
    report = crossgrad.check(loss + (g * g).sum())
    assert report.verdict == "agree", report


def _grad_fn_names(t: crossgrad.Tensor) -> set[str]:
    seen: set[str] = set()
    done, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in done:
            continue
        done.add(id(node))
        seen.add(type(node).__name__)
        stack.extend(n for n, _ in node.next_functions)
    return seen
