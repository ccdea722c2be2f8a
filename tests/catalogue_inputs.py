"""Input values for an op spec's case, drawn from each input's domain (seeded, kink-free)."""

from __future__ import annotations

from typing import Any

import numpy as np
from crossgrad.engine import ops
from crossgrad.engine.shape_specs import INDEX, INDEX_BOUND

# Real values are kept this far from 0 and from each other (relu/abs/maximum kinks).
KINK_MARGIN = 0.1


def draw(domain: str, shape: tuple[int, ...], rng: np.random.Generator, classes: int = 1) -> np.ndarray:
    """float64 values (or int64 class indices) from one of the catalogue's domains."""
    return np.asarray(_draw(domain, shape, rng, classes))


def _draw(domain: str, shape: tuple[int, ...], rng: np.random.Generator, classes: int) -> np.ndarray:
    if domain == ops.CLASS:
        return rng.integers(0, classes, size=shape).astype(np.int64)
    if domain == "bool":
        return rng.random(size=shape) < 0.5
    if domain == "dropout_mask":  # p = 0.5: kept elements scaled by 2
        return (rng.random(size=shape) >= 0.5) * 2.0
    if domain == INDEX:  # repeats on purpose: their gradients must add up
        return rng.integers(0, classes, size=shape).astype(np.int64)
    if domain == ops.POSITIVE or domain == ops.WEIGHT:
        return rng.uniform(0.5, 2.0, size=shape)
    if domain == ops.UNIT:
        return rng.uniform(0.0, 1.0, size=shape)
    u = rng.standard_normal(size=shape)
    if domain == ops.NONZERO:
        return np.sign(u) * (0.5 + np.abs(u))
    return np.sign(u) * (KINK_MARGIN + np.abs(u))


def case_inputs(spec: ops.OpSpec, case: ops.Case, seed: int) -> list[np.ndarray | None]:
    """Inputs for one case; maximum/minimum operands are redrawn until no pair nearly ties."""
    rng = np.random.default_rng(seed)
    classes = case.shapes[0][-1] if case.shapes[0] else 1
    if spec.name in INDEX_BOUND:
        classes = INDEX_BOUND[spec.name](case.shapes, resolved_attrs(spec, case))
    for _ in range(100):
        xs = [None if shape is None else draw(inp.domain, shape, rng, classes)
              for inp, shape in zip(spec.input_specs(len(case.shapes)), case.shapes)]
        if spec.name not in ("maximum", "minimum"):
            return xs
        if np.min(np.abs(np.subtract(xs[0], xs[1]))) > KINK_MARGIN:
            return xs
    raise AssertionError("could not draw tie-free operands")


def resolved_attrs(spec: ops.OpSpec, case: ops.Case) -> dict[str, Any]:
    return ops.resolve_attrs(spec, case.attrs)


def rounds_to_float32(name: str, index: int) -> bool:
    """A case whose forward rounds to float32 whatever its inputs' dtype (to_dtype to float32): central
    differences of it at steps of 1e-6 are float32 noise (tests/test_cast.py covers it instead)."""
    return ops.CATALOGUE[name].cases[index].attrs.get("dtype") == "float32" and name == "to_dtype"


def all_cases() -> list[tuple[str, int]]:
    """(op name, case index) for every case of every op, for pytest parametrization."""
    return [(name, i) for name, spec in ops.CATALOGUE.items() for i in range(len(spec.cases))]


def seed_mlp(lib: Any, functional: Any) -> tuple[list, Any]:
    """The seed MLP (batch 64, float32) in torch or crossgrad, written once for both:
    weights from numpy seed 0, inputs from seed 1. Returns (parameters, loss)."""
    rng = np.random.default_rng(0)
    sizes = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
    params = [lib.tensor(rng.uniform(-0.05, 0.05, s).astype(np.float32), requires_grad=True)
              for s in sizes]
    data = np.random.default_rng(1)
    x = lib.tensor(data.random((64, 28, 28)).astype(np.float32))
    y = lib.tensor(data.integers(0, 10, 64))
    h = x.flatten(1)
    for i in range(0, 6, 2):
        h = functional.linear(h, params[i], params[i + 1])
        if i < 4:
            h = lib.relu(h)
    return params, functional.cross_entropy(h, y)
