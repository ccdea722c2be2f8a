"""The tensor tier's elementwise steps evaluated a cache-sized chunk at a time
(engine/symbolic/chunked.py) give the whole-array evaluation's bits; erf64's fused small band
gives the per-operation evaluation's bits."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import erf64
from crossgrad.engine.symbolic import chunked, tensor
from crossgrad.engine.symbolic.tensor_elementwise import Partials


def _step(op: str, attrs: dict, shape: tuple[int, ...]):
    import crossgrad
    from crossgrad.engine.graph import validate
    from crossgrad.engine.numeric.export import to_graph

    x = crossgrad.tensor(np.zeros(shape), requires_grad=True)
    fn = getattr(crossgrad.nn.functional, op, None) or getattr(crossgrad, op)
    plan = validate(to_graph(fn(x, **attrs).sum(), {})[0])
    steps = tensor.compile_plan(plan)
    return next(s for s in steps if s is not None and hasattr(s, "joint"))


def _values(size: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(size) * 2
    x[:9] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -40.0, 40.0, 0.84375 * np.sqrt(2)]
    x[-3:] = [7.0, -7.0, 1e-20]  # (outside erf's small band: the gathered rest, last chunk ragged)
    return x


@pytest.mark.parametrize(("op", "attrs"), [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("tanh", {}),
                                           ("sigmoid", {})])
def test_chunked_forward_with_partials_equals_the_whole_call(op, attrs):
    shape = (5, chunked.CHUNK + 11)  # several chunks and a ragged last one
    step = _step(op, attrs, shape)
    assert step.joint is not None
    x = _values(int(np.prod(shape))).reshape(shape)
    with np.errstate(all="ignore"):
        assert chunked.chunkable([x], shape)
        got, partials = step.forward_with_partials([x])
        whole, *parts = step.joint(x)
    assert isinstance(partials, Partials) and len(partials) == len(parts)
    for a, b in zip([got, *partials], [np.asarray(whole, np.float64), *parts]):
        assert np.array_equal(a, np.broadcast_to(b, a.shape), equal_nan=True)
        assert np.array_equal(np.signbit(a), np.signbit(np.broadcast_to(b, a.shape)))


def test_broadcast_small_or_constant_results_are_called_whole():
    shape = (chunked.MIN_SIZE,)
    x = np.ones(shape)
    assert not chunked.chunkable([x[: shape[0] - 1]], shape)  # a shape other than the output's
    assert not chunked.chunkable([x.astype(np.float32)], shape)
    assert not chunked.chunkable([np.ones(chunked.MIN_SIZE - 1)], (chunked.MIN_SIZE - 1,))
    assert chunked.evaluate(lambda v: [v * 2, 1.0], [x], shape) is None  # a constant partial
    twice, = chunked.evaluate(lambda v: [v * 2], [x], shape)
    assert twice.shape == shape and np.all(twice == 2)


def test_fused_small_band_equals_the_per_operation_small_band():
    x = _values(3 * erf64.CHUNK + 5) / 4  # mostly the small band
    with np.errstate(all="ignore"):
        want = np.empty_like(x)
        erf64._chunked(erf64._small, x, np.abs(x), want)
        got = np.empty_like(x)
        rest = erf64._small_into(x, got)
    outside = (np.abs(x) >= 0.84375) | (np.abs(x) < 2.0 ** -28)
    assert np.array_equal(rest, np.flatnonzero(outside))
    assert np.array_equal(got[~outside], want[~outside], equal_nan=True)
    assert np.array_equal(erf64.erf(x)[outside], erf64._banded(x[outside], np.abs(x[outside])), equal_nan=True)
