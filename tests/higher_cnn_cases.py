"""Second order through the CNN ops, written once for torch and crossgrad (the golden generator
tests/golden/make_higher_order_cnn_golden.py and tests/test_higher_order_cnn.py share it).

The catalogue cases of tests/higher_cases.py weight the op's output linearly, so a linear op's
VJP (conv in x, pooling, pad, interpolate) gets a constant incoming gradient there. Here the
loss is sum(c * op(x)^2): every VJP receives a gradient that depends on the inputs, so its own
derivative is exercised. Plus group_norm / instance_norm (composites over batch_norm) and a
small conv net's gradient penalty loss + |dloss/dx|^2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.higher_cases import _numpy, as_tensor, cotangent, hessian_vector

CNN_OPS = ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "adaptive_max_pool2d", "batch_norm", "pad", "interpolate", "pixel_shuffle")


def squared(call: Any) -> Any:
    """op(x)^2: its VJP hands the op's VJP a gradient 2 c op(x) that depends on x."""
    return lambda ts, attrs: call(ts, attrs) ** 2


def third_order(lib: Any, call: Any, arrays: list, attrs: dict, diff: list[int], vs: list) -> list:
    """d/dx of D^2 L[v, v] (three nested backward passes, each with create_graph but the last)."""
    ts = [as_tensor(lib, a, i in diff) for i, a in enumerate(arrays)]
    leaves = [ts[i] for i in diff]
    y = call(ts, attrs)
    value = (y * lib.tensor(cotangent(tuple(y.shape)), dtype=lib.float64)).sum()
    for _ in range(2):
        grads = lib.autograd.grad(value, leaves, create_graph=True, allow_unused=True)
        terms = [(g * lib.tensor(v, dtype=lib.float64)).sum() for g, v in zip(grads, vs) if g is not None]
        value = sum(terms[1:], terms[0]) if terms else None
        if value is None or not value.requires_grad:
            return [np.zeros(v.shape).tolist() for v in vs]
    out = lib.autograd.grad(value, leaves, allow_unused=True)
    return [_numpy(o, v.shape).tolist() for o, v in zip(out, vs)]


def composite_inputs(name: str) -> tuple[list[np.ndarray], list[int]]:
    """(arrays, differentiable positions) of the group_norm / instance_norm cases: x, weight, bias."""
    rng = np.random.default_rng(21)
    shape = (2, 4, 3, 2) if name == "group_norm" else (2, 3, 2, 2)
    c = shape[1]
    return [rng.standard_normal(shape), 1 + 0.3 * rng.standard_normal(c), rng.standard_normal(c)], [0, 1, 2]


def composite_call(lib: Any, name: str) -> Any:
    fn = lib.nn.functional
    if name == "group_norm":
        return lambda ts, attrs: fn.group_norm(ts[0], 2, ts[1], ts[2])
    return lambda ts, attrs: fn.instance_norm(ts[0], weight=ts[1], bias=ts[2])


def composite_hvp(lib: Any, name: str) -> dict:
    arrays, diff = composite_inputs(name)
    vs = [np.random.default_rng(11).standard_normal(a.shape) for a in arrays]
    return hessian_vector(lib, squared(composite_call(lib, name)), arrays, {}, diff, vs, full=False)


def _downsample(fn: Any, stage: str, h: Any, size: int) -> Any:
    """The net's size -> size // 2 stage (avg_pool2d in the golden net)."""
    half = size // 2
    if stage == "max":
        return fn.max_pool2d(h, 2)
    if stage == "reflect":
        return fn.avg_pool2d(fn.pad(h, (1, 1, 1, 1), mode="reflect"), 3, 2)
    if stage == "bilinear":
        return fn.interpolate(h, size=(half, half), mode="bilinear")
    if stage == "adaptive_max":
        return fn.adaptive_max_pool2d(h, (half, half))
    return fn.avg_pool2d(h, 2)


def conv_net_total(lib: Any, size: int = 6, stage: str = "avg") -> tuple[Any, dict]:
    """conv2d -> batch_norm (training) -> relu -> avg_pool2d (or another ``stage``) -> linear; the
    loss plus the squared norm of its gradient in the input (a gradient penalty). Returns
    (total, leaves by name)."""
    rng = np.random.default_rng(17)
    shapes = {"x": (2, 2, size, size), "conv.weight": (3, 2, 3, 3), "conv.bias": (3,), "bn.weight": (3,),
              "bn.bias": (3,), "fc.weight": (2, 3 * (size // 2) ** 2), "fc.bias": (2,)}
    values = {k: rng.standard_normal(s) * (0.5 if "weight" in k and k != "bn.weight" else 1.0)
              for k, s in shapes.items()}
    values["bn.weight"] = 1 + 0.2 * values["bn.weight"]
    leaves = {k: lib.tensor(v, dtype=lib.float64, requires_grad=True) for k, v in values.items()}
    fn = lib.nn.functional
    c = lib.tensor(rng.standard_normal((2, 2)), dtype=lib.float64)
    h = fn.conv2d(leaves["x"], leaves["conv.weight"], leaves["conv.bias"], padding=1)
    h = fn.batch_norm(h, None, None, leaves["bn.weight"], leaves["bn.bias"], training=True)
    h = _downsample(fn, stage, lib.relu(h), size)
    out = fn.linear(h.flatten(1), leaves["fc.weight"], leaves["fc.bias"])
    loss = (lib.tanh(out) * c).sum()
    (gx,) = lib.autograd.grad(loss, leaves["x"], create_graph=True)
    return loss + (gx * gx).sum(), leaves


def conv_net_penalty(lib: Any) -> dict:
    """The penalty graph's value and its gradient in every leaf (double backward)."""
    total, leaves = conv_net_total(lib)
    grads = lib.autograd.grad(total, list(leaves.values()))
    return {"loss": float(total.item()), "names": list(leaves),
            "grads": [g.detach().numpy().tolist() for g in grads]}
