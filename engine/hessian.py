"""``check(..., order=2)``: second derivatives, three ways.

For f = <output, seed> and directions v (unit vectors, i.e. the full Hessian element by
element, when the graph has at most FULL_HESSIAN_MAX differentiable elements; else DIRECTIONS
seeded standard-normal directions over all differentiable leaves at once), each witness gives
the Hessian-vector products H v, split per leaf:

- numeric: the engine's double backward (``grad(create_graph=True)``, then ``grad`` of <g, v>),
  i.e. the VJP rules differentiated by themselves;
- symbolic (hessian_symbolic.py): the exact tier up to SYMBOLIC_MAX differentiable elements —
  the closed-form gradient of the forward graph (symbolic/closed_form.py) differentiated again
  by ``sympy.diff`` (the Hessian, evaluated with mpmath), times v; larger graphs the tensor
  tier — tangents through its SymPy-derived gradient program (symbolic/tensor_hvp.py);
- finite_difference: central differences of the engine's FIRST-order gradient along v
  (first-order rules are what order=1 checks), in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import offload
from .compare import MISMATCH, KinkTest, compare, worst
from .errors import FieldError
from .graph import Leaf, Plan, input_indices, validate
from .hessian_symbolic import symbolic_hvps
from .precision import gradient_dtypes
from .report import LeafReport, Report, finish_leaf
from .tolerance import Tolerance, policy

FULL_HESSIAN_MAX = 16  # differentiable elements up to which the full Hessian is checked
DIRECTIONS = 3  # seeded directions above that
FD_STEP = 1e-5
from .symbolic.second_order import SYMBOLIC_MAX  # noqa: E402,F401

PAIRS = (("numeric", "symbolic"), ("numeric", "finite_difference"),
         ("symbolic", "finite_difference"))
ORDERS = (1, 2)


def check_order(order: Any) -> int:
    """``order`` as an int in ORDERS, or a FieldError naming the field."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order not in ORDERS:
        raise FieldError("order", f"must be one of {list(ORDERS)} (1: gradients, 2: Hessian-"
                                  f"vector products), got {order!r}")
    return int(order)


def _run(plan: Plan, values: dict[int, np.ndarray], as_float64: bool) -> tuple[list, Any]:
    """Engine tensors for every node (leaves from ``values`` or the graph); (leaves, output)."""
    from .numeric.autograd import set_grad_enabled
    from .numeric.dispatch import apply
    from .numeric.tensor import Tensor

    tensors: list[Any] = []
    with set_grad_enabled(True):
        for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
            if isinstance(node, Leaf):
                arr = np.array(values.get(i, node.value))
                if as_float64 and arr.dtype.kind == "f":
                    arr = arr.astype(np.float64)
                t = Tensor._make(arr)
                tensors.append(t.requires_grad_() if node.requires_grad else t)
                continue
            inputs = tuple([None if s is None else tensors[s] for s in input_indices(plan, i)])
            attrs = plan.attrs[i]
            if as_float64 and node.op == "to_dtype":  # as first-order finite differences: unrounded
                attrs = {**attrs, "dtype": "float64"}
            with set_grad_enabled(not node.no_grad):
                tensors.append(apply(node.op, inputs, attrs))
    return [tensors[i] for i in plan.grad_leaves()], tensors[plan.output]


def _grads(leaves: list, out: Any, seed: np.ndarray, create_graph: bool) -> list:
    from .numeric.grad_api import grad
    from .numeric.tensor import Tensor

    if not out.requires_grad:
        return [None] * len(leaves)
    return list(grad(out, leaves, Tensor._make(np.asarray(seed, out._data.dtype)),
                     create_graph=create_graph, allow_unused=True))


def _leaf(plan: Plan, i: int) -> Leaf:
    node = plan.graph.nodes[i]
    assert isinstance(node, Leaf)
    return node


def _flat(parts: list, plan: Plan) -> np.ndarray:
    return np.concatenate([np.zeros(math.prod(plan.shapes[i])) if p is None
                           else np.asarray(p._data, np.float64).ravel()
                           for p, i in zip(parts, plan.grad_leaves())])


def _split(v: np.ndarray, plan: Plan) -> list[np.ndarray]:
    sizes = [math.prod(plan.shapes[i]) for i in plan.grad_leaves()]
    return [p.reshape(plan.shapes[i]) for p, i in zip(np.split(v, np.cumsum(sizes)[:-1]),
                                                       plan.grad_leaves())]


def numeric_hvps(plan: Plan, seed: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """[directions, elements]: the engine's double backward, in the leaves' dtypes."""
    from .numeric.grad_api import grad
    from .numeric.tensor import Tensor

    leaves, out = _run(plan, {}, as_float64=False)
    gs = _grads(leaves, out, seed, create_graph=True)
    rows = []
    for v in vs:
        terms = [(g * Tensor._make(p.astype(g._data.dtype))).sum()
                 for g, p in zip(gs, _split(v, plan)) if g is not None and g.requires_grad]
        if not terms:
            rows.append(np.zeros(len(v)))
            continue
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        rows.append(_flat(list(grad(total, leaves, retain_graph=True, allow_unused=True)), plan))
    return np.array(rows)


def fd_hvps(plan: Plan, seed: np.ndarray, vs: np.ndarray, step: float = FD_STEP) -> np.ndarray:
    """[directions, elements]: central differences of the engine's first-order gradient."""
    base = {i: np.asarray(_leaf(plan, i).value, np.float64) for i in plan.grad_leaves()}
    rows = []
    for v in vs:
        h = step * max(1.0, max(float(np.abs(b).max(initial=0)) for b in base.values()))
        grads = []
        for sign in (1.0, -1.0):
            moved = {i: base[i] + sign * h * p for i, p in zip(base, _split(v, plan))}
            leaves, out = _run(plan, moved, as_float64=True)
            grads.append(_flat(_grads(leaves, out, seed, create_graph=False), plan))
        rows.append((grads[0] - grads[1]) / (2 * h))
    return np.array(rows)


def directions(plan: Plan, rng_seed: int) -> tuple[np.ndarray, str]:
    n = sum(math.prod(plan.shapes[i]) for i in plan.grad_leaves())
    if n <= FULL_HESSIAN_MAX:
        return np.eye(n), f"full Hessian ({n} x {n}, element by element)"
    rng = np.random.default_rng(rng_seed)
    return rng.standard_normal((DIRECTIONS, n)), \
        f"Hessian-vector products along {DIRECTIONS} directions (seed {rng_seed})"


def check_order2(request: Any, localize: bool = True) -> Report:
    """The order-2 report: per leaf, [directions, *leaf shape] from each witness, compared; after
    a mismatch against numeric, the op nodes whose own double backward is wrong (``localize``)."""
    from .check import _seed, _Timer

    _refuse_first_order_fields(request)
    plan = validate(request.graph)
    seed = _seed(plan, request.seed)
    vs, how = directions(plan, request.fd_seed)
    timer = _Timer()
    found = {"numeric": timer.run("numeric", lambda: numeric_hvps(plan, seed, vs))}
    if "finite_difference" in request.witnesses:
        found["finite_difference"] = timer.run("finite_difference", lambda: fd_hvps(plan, seed, vs))
    notes = [f"order 2: {how}"]
    sym, tier, why = timer.run("symbolic", lambda: _symbolic_witness(plan, seed, vs, request))
    if sym is None:
        notes.append(f"{why}; symbolic did not run")
    else:
        found["symbolic"] = sym
    report = Report("skipped", [], tier, f"order 2: {why}", f"gradient differences (step {FD_STEP:g})",
                    notes=notes)
    from .hessian_kinks import kink_tests

    report.leaves = _leaves(plan, seed, found, len(vs), request.tolerance, kink_tests(plan, seed, vs))
    report.verdict = worst([leaf.verdict for leaf in report.leaves])
    report.order, report.timings = 2, timer.times
    report.directions_seed = None if len(vs) == vs.shape[1] and len(vs) <= FULL_HESSIAN_MAX \
        else request.fd_seed
    if localize and _numeric_off(report):
        from .check import grad_fn_names
        from .hessian_localize import order2_culprits

        report.grad_fns = grad_fn_names(plan)
        report.culprits = timer.run("localize", lambda: order2_culprits(plan, request, report.grad_fns))
    return report


def _numeric_off(report: Report) -> bool:
    return report.verdict == MISMATCH and any(p.verdict == MISMATCH and "numeric" in p.witnesses
                                              for leaf in report.leaves for p in leaf.pairs)


def _symbolic_witness(plan: Plan, seed: np.ndarray, vs: np.ndarray, request: Any) -> tuple[np.ndarray | None, str, str]:
    """symbolic_hvps where the caller runs SymPy (engine/offload.py: a server's worker, under the
    call's deadline); when it overran or its worker failed, no symbolic witness and why."""
    from .check import WitnessTimeout

    if "symbolic" not in request.witnesses or request.tier == "off":
        return symbolic_hvps(plan, seed, vs, request)
    try:
        return offload.call(symbolic_hvps, plan, seed, vs, request)
    except WitnessTimeout as err:
        what = str(err) if str(err).startswith("symbolic witness failed") else f"symbolic witness timed out ({err})"
        return None, "off", f"{what}; the other witnesses still answered"


def _symbolic(plan: Plan, seed: np.ndarray, vs: np.ndarray, request: Any) -> tuple[np.ndarray | None, str]:
    """(SymPy's H v or None, why): hessian_symbolic.symbolic_hvps without the tier (gradgradcheck)."""
    found, _, why = symbolic_hvps(plan, seed, vs, request)
    return found, why


def _refuse_first_order_fields(request: Any) -> None:
    """Fields an order-2 check has no meaning for are errors, not silently dropped."""
    if request.program:
        raise FieldError("program", "an order-2 check differentiates one backward pass; it takes no program")
    if request.claimed:
        raise FieldError("claimed", "claimed gradients are first-order; an order-2 check takes none")
    if "numeric" not in request.witnesses:
        raise FieldError("witnesses", "an order-2 check needs the numeric witness (its double backward)")


def _leaves(plan: Plan, seed: np.ndarray, found: dict, count: int, tol: Any,
            kinks: Callable[[int, Tolerance], KinkTest] | None) -> list[LeafReport]:
    out, start = [], 0
    precision = gradient_dtypes(plan)  # a float64 leaf cast to float32 on its way: float32 tolerances
    for i in plan.grad_leaves():
        size, shape, dtype = math.prod(plan.shapes[i]), plan.shapes[i], precision[i]  # judged in
        grads = {w: rows[:, start:start + size].reshape((count,) + shape) for w, rows in found.items()}
        start += size
        tols = {p: policy(dtype, p, tol) for p in PAIRS if p[0] in grads and p[1] in grads}
        pairs = [compare(p, grads[p[0]], grads[p[1]], dtype, t, None if kinks is None else kinks(i, t),
                         seed_scale=float(np.abs(seed).max(initial=0.0))) for p, t in tols.items()]
        entry = LeafReport(plan.graph.nodes[i].name, (count,) + shape, plan.dtypes[i], grads, pairs)
        out.append(finish_leaf(entry))
    return out
