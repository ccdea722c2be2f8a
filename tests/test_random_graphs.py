"""Hypothesis: random smooth graphs with broadcasting; backward agrees with central differences."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

SHAPES = [(2, 3), (3,), (1, 3), ()]
UNARY = {
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": F.softplus, "neg": lambda t: -t,
    "exp_tanh": lambda t: torch.exp(torch.tanh(t)), "square": lambda t: t**2,
    "softmax": lambda t: F.softmax(t, dim=-1) if t.ndim else t,
    "log_softmax": lambda t: F.log_softmax(t, dim=-1) if t.ndim else t,
    "mean_keep": lambda t: t.mean(dim=-1, keepdim=True) if t.ndim else t,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.5 + torch.tanh(b)),
}

step = st.one_of(
    st.tuples(st.just("u"), st.sampled_from(sorted(UNARY)), st.integers(0, 99), st.just(0)),
    st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)), st.integers(0, 99), st.integers(0, 99)),
)


def run(program, leaves):
    values = list(leaves)
    for kind, name, i, j in program:
        a, b = values[i % len(values)], values[j % len(values)]
        values.append(UNARY[name](a) if kind == "u" else BINARY[name](a, b))
    out = values[-1]
    for v in values[len(leaves):-1]:  # every intermediate feeds the loss: fan-out everywhere
        out = out + v.sum() * 0.1
    return out


@given(shapes=st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3),
       program=st.lists(step, min_size=1, max_size=6), seed=st.integers(0, 2**16))
def test_random_graph_gradients_match_finite_differences(shapes, program, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = run(program, leaves)
    cot = rng.standard_normal(tuple(out.shape))
    if not out.requires_grad:
        return
    out.backward(torch.from_numpy(cot))

    def f(arrs):
        with torch.no_grad():
            res = run(program, [torch.from_numpy(a) for a in arrs])
        return float(np.sum(res.numpy() * cot))

    h = 1e-6
    for k, arr in enumerate(arrays):
        fd = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[k][idx] += h
            minus[k][idx] -= h
            fd[idx] = (f(plus) - f(minus)) / (2 * h)
        grad = leaves[k].grad
        got = np.zeros_like(arr) if grad is None else grad.numpy()
        # FD rounding error grows with the function's size: judge small entries against the leaf's scale
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6 + 1e-8 * np.abs(fd).max(initial=0.0))
