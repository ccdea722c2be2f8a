"""Values-only stand-ins of forward rules (engine/numeric/values_only.py): bit for bit the rule's
output over random pooling geometries (ties, signed zeros, NaN, -inf, padding, dilation,
ceil_mode, unbatched inputs), the same tie test as the window-copy one, and a rule swapped in
the table (a planted forward bug) still reaching finite differences."""

from __future__ import annotations

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.engine.numeric import pool_kinks, values_only
from crossgrad.engine.numeric.batched import Batched
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule


def _geometry(rng):
    kernel = [int(k) for k in rng.integers(1, 4, 2)]
    at = {"kernel_size": tuple(kernel), "stride": tuple(int(s) for s in rng.integers(1, 4, 2)),
          "padding": tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel),
          "dilation": tuple(int(d) for d in rng.integers(1, 3, 2)), "ceil_mode": bool(rng.integers(2))}
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(5, 9)), int(rng.integers(5, 9)))
    return (shape[1:] if rng.integers(3) == 0 else shape), at


def _values(rng, shape, dtype):
    """Few distinct values, so windows tie; signed zeros, and sometimes NaN and -inf."""
    pool = [-0.0, 0.0, 1.0, -1.0, 2.5] + ([np.nan] if rng.integers(3) == 0 else []) + \
        ([-np.inf] if rng.integers(3) == 0 else [])
    return rng.choice(np.array(pool, dtype), size=shape)


def _bits(a):
    return np.ascontiguousarray(a).view(f"u{a.itemsize}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pool_maxima_are_the_rules_output_bit_for_bit(dtype):
    rng = np.random.default_rng(7)
    rule = RULES["max_pool2d"].forward
    for _ in range(300):
        shape, at = _geometry(rng)
        x = _values(rng, shape, dtype)
        expected = rule((x,), at)[0]
        got = values_only.pool_maxima(x, at)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(_bits(got), _bits(expected)) or \
            np.array_equal(np.isnan(got), np.isnan(expected)) and np.array_equal(got, expected, equal_nan=True)


def _copied_tie_test(x, at):
    """The tie test as written before: every window copied to a row, its max, its hits."""
    values, _ = pool_kinks._rows(x, "max_pool2d", at, with_index=False)
    top = values.max(axis=1, keepdims=True)
    finite = np.isfinite(top)
    return bool(np.count_nonzero((values == top) & finite) > np.count_nonzero(finite))


def test_the_strided_tie_test_answers_as_the_window_copy():
    rng = np.random.default_rng(3)
    answers = set()
    for _ in range(400):
        shape, at = _geometry(rng)
        x = _values(rng, shape, np.float64) if rng.integers(2) else rng.standard_normal(shape)
        answers.add(expected := _copied_tie_test(x, at))
        assert values_only.tied_windows(x, at) == expected
    assert answers == {True, False}  # both answers occur


def test_the_batched_pool_is_each_copys_forward():
    rng = np.random.default_rng(5)
    for _ in range(40):
        shape, at = _geometry(rng)
        copies = rng.standard_normal((3,) + shape)
        out = RULES["max_pool2d"].forward((copies[0],), at)[0].shape
        got = values_only.batched_max_pool(RULES["max_pool2d"].forward, (copies,), [True], at, [shape], out)
        for b in range(3):
            assert np.array_equal(got[b], RULES["max_pool2d"].forward((copies[b],), at)[0])


def test_a_planted_pool_forward_still_reaches_finite_differences(monkeypatch):
    """The stand-in replaces the engine's rule only: a swapped rule's forward is what runs."""
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    loss = (torch.nn.functional.max_pool2d(x, 2) ** 2).sum()
    from crossgrad.engine.graph import validate
    from crossgrad.engine.numeric.export import to_graph

    plan = validate(to_graph(loss, {id(x): "x"})[0])
    base = {0: np.asarray(x.detach().numpy(), np.float64)}
    stack = np.stack([base[0], base[0] + 0.5])
    honest = Batched(plan, base).outputs({0: stack})
    rule = RULES["max_pool2d"]
    monkeypatch.setitem(RULES, "max_pool2d", Rule(lambda xs, at: (rule.forward(xs, at)[0] * 2, None), rule.vjp))
    planted = Batched(plan, base).outputs({0: stack})
    assert np.allclose(planted, 4 * honest)


@pytest.mark.parametrize("chunk_bytes", [1 << 20, 700])
def test_conv_values_are_the_rules_output_bit_for_bit(chunk_bytes, monkeypatch):
    """The same products chunk by chunk (several chunks when the buffer is small)."""
    from crossgrad.engine.numeric import rules_conv

    monkeypatch.setattr(rules_conv, "_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(9)
    rule = RULES["conv2d"].forward
    for _ in range(60):
        nd, groups = int(rng.integers(1, 3)), int(rng.choice([1, 2]))
        dtype = [np.float32, np.float64][rng.integers(2)]
        x = rng.standard_normal((int(rng.integers(1, 7)), 2 * groups) + (int(rng.integers(5, 9)),) * nd).astype(dtype)
        w = rng.standard_normal((2 * groups, 2) + (int(rng.integers(1, 4)),) * nd).astype(dtype)
        b = rng.standard_normal(2 * groups).astype(dtype) if rng.integers(2) else None
        at = {"stride": tuple(int(s) for s in rng.integers(1, 3, nd)), "groups": groups,
              "padding": tuple(int(p) for p in rng.integers(0, 2, nd)),
              "dilation": tuple(int(d) for d in rng.integers(1, 3, nd))}
        xs = (x, w) + ((b,) if b is not None else ())
        want, got = rule(xs, at)[0], values_only.conv_values(xs, at)[0]
        assert got.dtype == want.dtype and np.array_equal(_bits(got), _bits(want))


def test_the_evaluator_and_batched_forwards_take_the_stand_ins_and_a_planted_conv_runs_as_itself(monkeypatch):
    from crossgrad.engine.numeric.run_graph import evaluator

    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    conv = torch.nn.Conv2d(3, 4, 3, dtype=torch.float64)
    loss = (torch.relu(conv(x)) ** 2).sum()
    from crossgrad.engine.graph import validate
    from crossgrad.engine.numeric.export import to_graph

    plan = validate(to_graph(loss, {id(conv.weight): "w", id(conv.bias): "b"})[0])
    honest = evaluator(plan)({})[plan.output]
    rule = RULES["conv2d"]
    monkeypatch.setitem(RULES, "conv2d", Rule(lambda xs, at: (rule.forward(xs, at)[0] * 2, None), rule.vjp))
    assert np.isclose(evaluator(plan)({})[plan.output], 4 * honest)
