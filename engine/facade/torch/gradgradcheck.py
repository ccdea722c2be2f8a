"""``gradgradcheck``: torch.autograd.gradgradcheck's call shape, judged by crossgrad's order-2 witnesses.

PyTorch's double backward (through the user's code, a custom ``autograd.Function.backward``
included) gives the ``claimed`` Hessian-vector products of <func(*inputs), grad_outputs>;
crossgrad's engine/hessian.py gives the others on the graph captured from the forward alone:
numeric (the engine's double backward), symbolic (SymPy differentiating twice, small graphs) and
finite differences of the engine's first-order gradient. Directions: unit vectors (the full
Hessian) up to hessian.FULL_HESSIAN_MAX differentiable elements, else seeded normals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from crossgrad.engine import hessian
from crossgrad.engine.check import EXACT_BUDGET, _seed
from crossgrad.engine.compare import compare, worst
from crossgrad.engine.graph import validate
from crossgrad.engine.report import LeafReport, Report, finish_leaf
from crossgrad.engine.tolerance import policy

from .build import leaf_value
from .gradcheck import (
    NOTHING_REQUIRES_GRAD,
    TORCH_KEYWORDS,
    GradcheckError,
    NothingToCheck,
    _capture,
    _collect,
    _detached,
    _filled,
    _Finding,
    _message,
    _parameters,
    _tolerance,
    float_outputs,
    ignored_keywords,
    nothing_to_check,
)
from .repeats import unique
from .untraced import check_traced

PAIRS = (("claimed", "numeric"), ("claimed", "symbolic"), ("claimed", "finite_difference"), *hessian.PAIRS)


def _torch_hvps(outputs: list[torch.Tensor], wanted: list[torch.Tensor], grad_outputs: list[torch.Tensor],
                vs: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Rows H v from PyTorch's double backward of <outputs, grad_outputs>."""
    first = torch.autograd.grad(outputs, wanted, grad_outputs, create_graph=True, allow_unused=True)
    rows = []
    for v in vs:
        parts = np.split(v, np.cumsum(sizes)[:-1])
        pairs = [(g, torch.tensor(p.reshape(t.shape), dtype=t.dtype)) for g, p, t in zip(first, parts, wanted)
                 if g is not None and g.requires_grad]
        hv = torch.autograd.grad([g for g, _ in pairs], wanted, [p for _, p in pairs], retain_graph=True,
                                 allow_unused=True) if pairs else [None] * len(wanted)
        rows.append(np.concatenate([(np.zeros(t.numel()) if h is None else h.detach().double().numpy().ravel())
                                    for h, t in zip(hv, wanted)]))
    return np.array(rows)


def gradgradcheck(func: Any, inputs: Any, grad_outputs: Any = None, *, atol: float | None = None,
                  rtol: float | None = None, raise_exception: bool = True, **ignored: Any) -> bool:
    """True when PyTorch's second derivatives of ``func(*inputs)`` agree with crossgrad's witnesses.

    ``grad_outputs`` (default: seeded standard normals, as torch draws random ones) weights the
    outputs; the Hessian of <outputs, grad_outputs> is checked along each direction.
    """
    ignored_keywords("gradgradcheck", ignored, TORCH_KEYWORDS | {"gen_non_contig_grad_outputs", "check_fwd_over_rev",
                                                                 "check_rev_over_rev"})
    inputs = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    rng_state = torch.get_rng_state()
    try:
        template = _capture(func, inputs)
    except NothingToCheck:
        return nothing_to_check(inputs, _parameters(func))
    torch.set_rng_state(rng_state)
    with torch.enable_grad():
        result = func(*inputs)
    outputs = float_outputs(result)
    if outputs and not any(o.requires_grad for o in outputs) and _wants_grad(template, func, inputs):
        return _detached(func, inputs, template, rng_state, raise_exception)  # torch's own check crashes here
    if grad_outputs is None:
        generator = torch.Generator().manual_seed(0)
        grad_outputs = [torch.randn(o.shape, generator=generator, dtype=torch.float64).to(o.dtype) for o in outputs]
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, torch.Tensor) else list(grad_outputs)
    tensors = unique([v for v in inputs if isinstance(v, torch.Tensor)])
    params = _parameters(func)
    named = {**template.closed_over, **params, **dict(zip(template.leaves[len(params):], tensors))}
    if not any(t.requires_grad and t.is_floating_point() for t in named.values()):
        raise ValueError(NOTHING_REQUIRES_GRAD)
    values = {name: leaf_value(name, t) for name, t in named.items()}
    values.update({d: leaf_value(d, g) for d, g in zip(template.directions, grad_outputs)})
    graph = _filled(template, values)
    if not template.value_dependent:  # a forward partly outside PyTorch's ops is refused (untraced.py)
        check_traced(func, inputs, graph, dict(zip(template.leaves[len(params):], tensors)), grad_outputs,
                     bool(template.directions), rng_state, float_outputs)
    plan = validate(graph)
    seed = _seed(plan, None if template.directions else grad_outputs[0].detach().double().numpy())
    vs, how = hessian.directions(plan, 0)
    leaves = [plan.graph.nodes[i].name for i in plan.grad_leaves()]
    wanted = [named[n] for n in leaves]
    sizes = [t.numel() for t in wanted]
    found = {"claimed": _torch_hvps(outputs, wanted, grad_outputs, vs, sizes),
             "numeric": hessian.numeric_hvps(plan, seed, vs), "finite_difference": hessian.fd_hvps(plan, seed, vs)}
    sym, why = hessian._symbolic(plan, seed, vs, _Options())
    if sym is not None:
        found["symbolic"] = sym
    notes = [f"order 2: {how}"] + ([why] if why else [])
    report = Report("skipped", [], "exact" if sym is not None else "off", "order 2",
                    f"gradient differences (step {hessian.FD_STEP:g})", notes=notes)
    report.leaves = _leaf_reports(plan, seed, found, len(vs), _tolerance(atol, rtol))
    report.verdict = worst([leaf.verdict for leaf in report.leaves])
    report.order = 2
    findings: dict[str, _Finding] = {}
    _collect(report, how, findings)
    failures = any(f.off for f in findings.values())
    if failures and raise_exception:
        raise GradcheckError(_message(findings, "Hessian-vector product elements").replace(
            "PyTorch's gradient", "PyTorch's second derivative").replace("PyTorch autograd", "PyTorch double backward"))
    return not failures


class _Options:
    """What hessian._symbolic reads from a request."""

    witnesses = ("numeric", "symbolic", "finite_difference")
    tier = "auto"
    exact_budget = EXACT_BUDGET


def _leaf_reports(plan: Any, seed: np.ndarray, found: dict, count: int, tol: Any) -> list[LeafReport]:
    out, start = [], 0
    for i in plan.grad_leaves():
        size, shape, dtype = int(np.prod(plan.shapes[i])), plan.shapes[i], plan.dtypes[i]
        grads = {w: rows[:, start:start + size].reshape((count,) + shape) for w, rows in found.items()}
        start += size
        scale = float(np.abs(seed).max(initial=0.0))
        pairs = [compare(p, grads[p[0]], grads[p[1]], dtype, policy(dtype, p, tol), None, seed_scale=scale)
                 for p in PAIRS if p[0] in grads and p[1] in grads]
        out.append(finish_leaf(LeafReport(plan.graph.nodes[i].name, (count,) + shape, dtype, grads, pairs)))
    return out


def _wants_grad(template: Any, func: Any, inputs: list[Any]) -> bool:
    """Some input, parameter or closed-over tensor requires grad (else torch's ValueError follows)."""
    tensors = [*template.closed_over.values(), *_parameters(func).values(),
               *(v for v in inputs if isinstance(v, torch.Tensor))]
    return any(t.requires_grad and t.is_floating_point() for t in tensors)
