"""Second-order case data shared by the golden generator (torch) and the tests (crossgrad).

For a catalogue case: inputs from tests/catalogue_inputs.py (seed 0, float64), the scalar
L = sum(op(inputs) * c) with a fixed cotangent c, and one direction v per differentiable input.
The Hessian-vector product is d/dx <dL/dx, v>; the full Hessian is kept for small cases.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from crossgrad.engine import ops

from tests.catalogue_inputs import case_inputs, resolved_attrs

FULL_HESSIAN_MAX = 24  # differentiable elements at most, for the element-by-element Hessian


def case_data(name: str, index: int) -> tuple[list, dict, list[int]]:
    """(arrays, attrs, positions of the differentiable float inputs)."""
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    arrays = case_inputs(spec, case, seed=0)
    diff = [i for i, (a, inp) in enumerate(zip(arrays, spec.inputs))
            if a is not None and inp.differentiable and a.dtype.kind == "f"]
    return arrays, resolved_attrs(spec, case), diff


def cotangent(shape: tuple) -> np.ndarray:
    return np.random.default_rng(7).standard_normal(shape)


def directions(arrays: list, diff: list[int]) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.standard_normal(arrays[i].shape) for i in diff]


def hessian_vector(lib: Any, call: Any, arrays: list, attrs: dict, diff: list[int],
                   vs: list[np.ndarray], full: bool) -> dict:
    """HVP (and the full Hessian when small) of L in ``lib`` (torch or crossgrad)."""
    ts = [as_tensor(lib, a, i in diff) for i, a in enumerate(arrays)]
    leaves = [ts[i] for i in diff]
    y = call(ts, attrs)
    loss = (y * lib.tensor(cotangent(tuple(y.shape)), dtype=lib.float64)).sum()
    if not loss.requires_grad:  # detach: no gradient at all
        return {"hvp": [np.zeros(v.shape).tolist() for v in vs]}
    grads = lib.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    grads = [g if g is not None else lib.tensor(np.zeros(arrays[i].shape), dtype=lib.float64)
             for g, i in zip(grads, diff)]

    def second(vectors: list) -> list[np.ndarray]:
        total = sum((g * lib.tensor(v, dtype=lib.float64)).sum() for g, v in zip(grads, vectors))
        if not total.requires_grad:
            return [np.zeros(v.shape) for v in vectors]
        out = lib.autograd.grad(total, leaves, retain_graph=True, allow_unused=True)
        return [_numpy(o, v.shape) for o, v in zip(out, vectors)]

    result = {"hvp": [h.tolist() for h in second(vs)]}
    sizes = [arrays[i].size for i in diff]
    if full and sum(sizes) <= FULL_HESSIAN_MAX:
        rows = []
        for k in range(sum(sizes)):
            unit = np.zeros(sum(sizes))
            unit[k] = 1
            parts = np.split(unit, np.cumsum(sizes)[:-1])
            vecs = [p.reshape(arrays[i].shape) for p, i in zip(parts, diff)]
            rows.append(np.concatenate([h.reshape(-1) for h in second(vecs)]).tolist())
        result["hessian"] = rows
    return result


def _numpy(t: Any, shape: tuple) -> np.ndarray:
    """A result as an array; None and torch's unmaterialized zero tensors are zeros."""
    if t is None or getattr(t, "_is_zerotensor", lambda: False)():
        return np.zeros(shape)
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def as_tensor(lib: Any, a: np.ndarray | None, grad: bool) -> Any:
    """float64 stays float64 (0-d arrays too); class indices stay int64."""
    if a is None:
        return None
    if a.dtype.kind != "f":
        return lib.tensor(a)
    return lib.tensor(a, dtype=lib.float64, requires_grad=grad)
