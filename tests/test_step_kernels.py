"""The engine step's fast kernels (issues 11/12 speed): gelu and layer_norm read values their
forward saved, but only at first order — under create_graph they recompute them from the live
inputs, so a corrupted saved value changes the first-order gradient and not the second-order
one; the row scatter behind embedding/index VJPs adds in np.add.at's (torch's) order."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.numeric import array_kernels
from crossgrad.engine.numeric.rules_elementwise import ELEMENTWISE_RULES, _gelu, _gelu_vjp
from crossgrad.engine.numeric.rules_scatter import add_rows

F = crossgrad.nn.functional


class _Node:
    attrs = {"approximate": "none"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(3, 9001), (7,), (0, 3), ()])
def test_gelu_rule_equals_its_formula_bit_for_bit(dtype: type, shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x, g = (rng.standard_normal(shape).astype(dtype) * 3 for _ in range(2))
    out, saved = ELEMENTWISE_RULES["gelu"].forward((x,), _Node.attrs)
    assert out.dtype == dtype and np.array_equal(out, _gelu(x, _Node.attrs))
    (gx,) = ELEMENTWISE_RULES["gelu"].vjp(g, saved, _Node())
    assert gx.dtype == dtype and np.array_equal(gx, _gelu_vjp(g, x, out, _Node.attrs))


def test_gelu_rule_on_strided_input() -> None:
    x = np.random.default_rng(1).standard_normal((300, 200)).astype(np.float32).T
    out, saved = ELEMENTWISE_RULES["gelu"].forward((x,), _Node.attrs)
    (gx,) = ELEMENTWISE_RULES["gelu"].vjp(x, saved, _Node())
    assert np.array_equal(out, _gelu(x, _Node.attrs)) and np.array_equal(gx, _gelu_vjp(x, x, out, _Node.attrs))


def _grads(fn, x0: np.ndarray, corrupt: int | None, create_graph: bool) -> tuple:
    """(first-order grad, grad of its sum) of a weighted sum of fn(x) at x0 (linear in fn(x), so
    the second backward does not pass the op's node again); ``corrupt``: the saved slot
    overwritten with garbage after the forward."""
    x = crossgrad.tensor(x0, requires_grad=True)
    y = fn(x)
    if corrupt is not None:
        saved = list(y.grad_fn.saved)
        saved[corrupt] = np.full_like(saved[corrupt], 7.0)
        y.grad_fn.saved = tuple(saved)
    weights = crossgrad.tensor(np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape)))
    (gx,) = crossgrad.autograd.grad((y * weights).sum(), [x], create_graph=create_graph)
    if not create_graph:
        return gx.numpy(), None
    (hx,) = crossgrad.autograd.grad(gx.sum(), [x])
    return gx.detach().numpy(), hx.numpy()


CASES = {
    "gelu": (lambda x: F.gelu(x), [2]),
    "layer_norm": (lambda x: F.layer_norm(x, (5,), crossgrad.ones(5, dtype=x.dtype) * 1.5,
                                          crossgrad.zeros(5, dtype=x.dtype) + 0.25), [2, 3]),
}


@pytest.mark.parametrize("name", CASES)
def test_saved_values_are_first_order_only(name: str) -> None:
    fn, slots = CASES[name]
    x0 = np.random.default_rng(2).standard_normal((4, 5))
    first, _ = _grads(fn, x0, None, False)
    clean = _grads(fn, x0, None, True)
    np.testing.assert_allclose(clean[0], first, rtol=1e-12)
    for slot in slots:
        planted, _ = _grads(fn, x0, slot, False)
        assert np.abs(planted - first).max() > 1e-3  # first order reads the saved value
        again = _grads(fn, x0, slot, True)
        np.testing.assert_allclose(again[0], clean[0], rtol=1e-12)  # create_graph recomputes it
        np.testing.assert_allclose(again[1], clean[1], rtol=1e-12)


def test_second_order_gelu_against_closed_form() -> None:
    x0 = np.linspace(-3, 3, 13)
    _, h = _grads(lambda x: F.gelu(x), x0, None, True)
    phi = np.exp(-x0 * x0 / 2) / np.sqrt(2 * np.pi)
    weights = np.linspace(-1, 2, x0.size)
    np.testing.assert_allclose(h, weights * (2 * phi - x0 * x0 * phi), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rows,count,width", [(256, 1024, (8,)), (3, 5000, (2, 3)), (1, 300, (4,)),
                                               (1000, 10, ()), (5, 0, (3,))])
def test_add_rows_matches_add_at_bit_for_bit(rows: int, count: int, width: tuple) -> None:
    rng = np.random.default_rng(3)
    flat = rng.integers(0, rows, count)
    g = rng.standard_normal((count,) + width).astype(np.float32)
    want = np.zeros((rows,) + width, np.float32)
    np.add.at(want, flat, g)
    assert np.array_equal(add_rows(g, flat, (rows,) + width), want)


def _formulas(dim: int) -> dict:
    """The rule formulas array_kernels stands for, as written before it."""
    def log_softmax(x):
        shifted = x - x.max(axis=dim, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))

    def softmax_vjp(g, y):
        return y * (g - (g * y).sum(axis=dim, keepdims=True))

    return {
        "log_softmax": (lambda x, g: array_kernels.log_softmax(x, dim), lambda x, g: log_softmax(x)),
        "softmax": (lambda x, g: array_kernels.softmax(x, dim), lambda x, g: np.exp(log_softmax(x))),
        "softmax_vjp": (lambda x, g: array_kernels.softmax_vjp(g, np.exp(log_softmax(x)), dim),
                        lambda x, g: softmax_vjp(g, np.exp(log_softmax(x)))),
        "log_softmax_vjp": (lambda x, g: array_kernels.log_softmax_vjp(g, log_softmax(x), dim),
                            lambda x, g: g - np.exp(log_softmax(x)) * g.sum(axis=dim, keepdims=True)),
        "masked_fill": (lambda x, g: array_kernels.masked_fill(x, g > 0.5, x.dtype.type(-np.inf)),
                        lambda x, g: np.where(g > 0.5, x.dtype.type(-np.inf), x)),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [-1, 1])
@pytest.mark.parametrize("kernel", list(_formulas(-1)))
def test_array_kernels_equal_the_rule_formulas_bit_for_bit(dtype: type, dim: int, kernel: str) -> None:
    rng = np.random.default_rng(4)
    x, g = (rng.standard_normal((6, 7, 33)).astype(dtype) * 4 for _ in range(2))
    x[:, :3, -5:] = -np.inf  # masked positions, as a causal softmax has
    fast, slow = _formulas(dim)[kernel]
    got, want = fast(x, g), slow(x, g)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_kernels_equal_the_formulas_bit_for_bit(dtype: type) -> None:
    rng = np.random.default_rng(5)
    x, g = (rng.standard_normal((4, 6, 10)).astype(dtype) for _ in range(2))
    g0 = g.copy()
    w = rng.standard_normal(10).astype(dtype)
    axes, eps = (2,), dtype(1e-5)
    centered = x - x.mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
    xhat = centered * rstd
    got_xhat, got_rstd = array_kernels.normalized(x, axes, eps)
    np.testing.assert_array_equal(got_xhat, xhat)
    np.testing.assert_array_equal(got_rstd, rstd)
    for weight in (w, None):
        gh = g if weight is None else g * weight
        want = rstd * (gh - gh.mean(axis=axes, keepdims=True) - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
        np.testing.assert_array_equal(array_kernels.layer_norm_dx(g, weight, xhat, rstd, axes), want)
    assert np.array_equal(g, g0)  # the incoming gradient is not written to


@pytest.mark.parametrize("attrs", [
    {"stride": (1, 1), "padding": (2, 2), "dilation": (1, 1), "groups": 1},
    {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2},
    {"stride": (3,), "padding": (1,), "dilation": (2,), "groups": 3},
])
def test_conv_weight_gradient_from_the_forward_windows_equals_the_recorded_correlation(attrs: dict) -> None:
    from crossgrad.engine.numeric import rules_conv

    rng = np.random.default_rng(6)
    spatial = (9, 8)[:len(attrs["stride"])]
    channels = 8 if attrs["groups"] == 1 else 6  # 72 window rows (the transposed product), else < 64
    x = rng.standard_normal((3, channels) + spatial)
    w = rng.standard_normal((6, channels // attrs["groups"]) + (3,) * len(spatial))
    y, cols = rules_conv.conv_and_cols(x, w, None, attrs)
    g = rng.standard_normal(y.shape)
    want = rules_conv._weight_grad_of_conv(g, x, w.shape, attrs)
    np.testing.assert_allclose(rules_conv.weight_grad_from_cols(g, cols, w.shape), want, rtol=1e-12, atol=1e-12)


def test_conv_saved_windows_are_first_order_only() -> None:
    rng = np.random.default_rng(7)
    x0, w0 = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))

    def grads(corrupt: bool, create_graph: bool) -> tuple:
        x = crossgrad.tensor(x0, requires_grad=True)
        w = crossgrad.tensor(w0, requires_grad=True)
        y = F.conv2d(x, w, padding=1)
        if corrupt:
            saved = y.grad_fn.saved
            y.grad_fn.saved = saved[:2] + (np.full_like(saved[2], 7.0),)
        weights = crossgrad.tensor(np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape)))
        (gw,) = crossgrad.autograd.grad((y * weights).sum(), [w], create_graph=create_graph)
        if not create_graph:
            return gw.numpy(), None
        (hx,) = crossgrad.autograd.grad((gw * gw).sum(), [x])
        return gw.detach().numpy(), hx.numpy()

    first, _ = grads(False, False)
    assert np.abs(grads(True, False)[0] - first).max() > 1  # first order reads the saved windows
    clean, again = grads(False, True), grads(True, True)
    np.testing.assert_allclose(clean[0], first, rtol=1e-12)
    np.testing.assert_allclose(again[0], clean[0], rtol=1e-12)  # create_graph recomputes
    np.testing.assert_allclose(again[1], clean[1], rtol=1e-12)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_grads_match_the_rule_formula(dtype: type, rtol: float, affine: bool) -> None:
    from crossgrad.engine.numeric import bn_kernels

    rng = np.random.default_rng(8)
    x, g = (rng.standard_normal((5, 3, 4, 6)).astype(dtype) for _ in range(2))
    w = rng.standard_normal(3).astype(dtype) if affine else None
    axes, view = (0, 2, 3), (1, -1, 1, 1)
    centered = x - x.mean(axis=axes).reshape(view)
    invstd = (1 / np.sqrt((centered * centered).mean(axis=axes) + 1e-5)).astype(dtype)
    xhat = centered * invstd.reshape(view)
    gxh = g if w is None else g * w.reshape(view)
    want = (gxh - gxh.mean(axis=axes).reshape(view)
            - xhat * (gxh * xhat).mean(axis=axes).reshape(view)) * invstd.reshape(view)
    got = bn_kernels.training_grads(g, w, xhat, invstd, axes, view)
    assert got is not None and got[0].dtype == dtype
    np.testing.assert_allclose(got[0], want, rtol=rtol, atol=rtol * np.abs(want).max())
    assert np.array_equal(got[1], (g * xhat).sum(axis=axes)) and np.array_equal(got[2], g.sum(axis=axes))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_running_stats_reuse_the_ops_batch_statistics_bit_for_bit(dtype: type) -> None:
    x0 = (np.random.default_rng(9).standard_normal((6, 3, 5, 4)) * 2 + 1).astype(dtype)
    kind = crossgrad.tensor(x0).dtype
    mean, var = crossgrad.zeros(3, dtype=kind), crossgrad.ones(3, dtype=kind)
    x = crossgrad.tensor(x0, requires_grad=True)
    F.batch_norm(x, mean, var, training=True, momentum=0.25)
    count = x0.size // 3
    if dtype == np.float32:  # torch's CPU kernel: sums in float64, the mean and sum of squares rounded to float32
        batch_mean = x0.mean(axis=(0, 2, 3), dtype=np.float64).astype(dtype)
        square = (x0 - batch_mean.reshape(1, -1, 1, 1)) ** 2
        batch_var = square.sum(axis=(0, 2, 3), dtype=np.float64).astype(dtype) / np.float64(count)
    else:
        batch_mean, batch_var = x0.mean(axis=(0, 2, 3)), x0.var(axis=(0, 2, 3))
    want_mean = (1 - 0.25) * np.zeros(3) + 0.25 * batch_mean.astype(np.float64)
    want_var = (1 - 0.25) * np.ones(3) + 0.25 * (batch_var.astype(np.float64) * count / (count - 1))
    assert np.array_equal(mean.numpy(), want_mean.astype(dtype))
    assert np.array_equal(var.numpy(), want_var.astype(dtype))


def test_batch_stats_are_handed_over_once_and_only_for_the_same_array() -> None:
    from crossgrad.engine.numeric import bn_kernels

    x = np.random.default_rng(10).standard_normal((4, 2, 3))
    bn_kernels.batch_stats(x, (0, 2), (1, -1, 1))
    assert bn_kernels.take_stats(x.copy()) is None  # another array: no stats, and the slot is cleared
    bn_kernels.batch_stats(x, (0, 2), (1, -1, 1))
    mean, var = bn_kernels.take_stats(x)
    assert np.array_equal(mean, x.mean(axis=(0, 2))) and np.array_equal(var, x.var(axis=(0, 2)))
    assert bn_kernels.take_stats(x) is None
    half = x.astype(np.float16)  # numpy's var of float16 accumulates otherwise: not handed over
    bn_kernels.batch_stats(half, (0, 2), (1, -1, 1))
    assert bn_kernels.take_stats(half) is None


@pytest.mark.parametrize("defaults", ["0", "1"])
def test_backward_keeps_freed_memory_unless_told_not_to(defaults: str) -> None:
    import os
    import platform
    import subprocess
    import sys

    code = ("import crossgrad\nfrom crossgrad.engine import allocator\nassert allocator._tuned is None\n"
            "x = crossgrad.ones(3, requires_grad=True)\n(x * x).sum().backward()\nprint(allocator._tuned)")
    env = dict(os.environ, CROSSGRAD_MALLOC_DEFAULTS=defaults)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    glibc = platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == ("True" if defaults == "0" and glibc else "False")


@pytest.mark.parametrize("chunk", [1, 5000])
def test_convolutions_by_sample_chunks_equal_the_whole_batch_bit_for_bit(monkeypatch, chunk: int) -> None:
    from crossgrad.engine.numeric import rules_conv

    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((7, 6, 9, 8)).astype(np.float32), rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    at = {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 3, "output_padding": (1, 0)}
    whole = rules_conv.conv_and_cols(x, w, w[:, 0, 0, 0], at), rules_conv.conv_transpose(x, w, None, at)
    monkeypatch.setattr(rules_conv, "_CHUNK_BYTES", chunk)  # one sample, or a few, per chunk
    (y, cols), t = rules_conv.conv_and_cols(x, w, w[:, 0, 0, 0], at), rules_conv.conv_transpose(x, w, None, at)
    assert np.array_equal(y, whole[0][0]) and np.array_equal(cols, whole[0][1]) and np.array_equal(t, whole[1])


@pytest.mark.parametrize("size", [(1, 1), (2, 4), (3, 5)])
def test_adaptive_avg_pool_with_equal_windows_is_the_window_mean(size: tuple) -> None:
    from types import SimpleNamespace

    from crossgrad.engine.numeric import rules_pool
    from crossgrad.engine.numeric.adjoints import separable_adjoint

    rng = np.random.default_rng(12)
    x, g = rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3) + size)
    a, b = (rules_pool.adaptive_matrix((6, 8)[d], size[d]) for d in range(2))
    y, _ = rules_pool.POOL_RULES["adaptive_avg_pool2d"].forward((x,), {"output_size": size})
    np.testing.assert_allclose(y, np.einsum("ih,nchw,jw->ncij", a, x, b), rtol=1e-13, atol=1e-15)
    node = SimpleNamespace(shapes=(x.shape,), attrs={"output_size": size})
    (gx,) = rules_pool.POOL_RULES["adaptive_avg_pool2d"].vjp(g, None, node)
    np.testing.assert_allclose(gx, separable_adjoint(g, a, b), rtol=1e-13, atol=1e-15)
