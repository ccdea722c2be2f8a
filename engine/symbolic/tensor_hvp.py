"""The tensor tier's Hessian-vector products for ``check(order=2)`` on graphs too large for the
exact tier: H v = d/dt grad(x + t v), tangents pushed through the tensor tier's own gradient
program (its forward kernels, then its SymPy-derived adjoint kernels), see tensor_second.py.

One forward pass and one reverse pass of primal values serve every direction; each direction
carries its own tangents. Independent of the numeric engine: no numeric VJP rule is read.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from .. import ops
from ..allocator import keep_freed_memory
from ..graph import Leaf, Plan, input_indices
from . import tensor as T
from . import tensor_second as S2
from .tensor_conv import ConvStep
from .tensor_elementwise import ElementwiseStep, unbroadcast

_SECONDS: OrderedDict[str, list[Any]] = OrderedDict()
_LOCK = threading.Lock()


def second_plan(plan: Plan) -> list[Any]:
    """Per node: the templates' second-derivative kernels (TemplateStep), or None (contractions,
    convolutions, leaves). Raises :class:`tensor_second.NotTwice` naming every op it cannot cover."""
    with _LOCK:  # order-2 checks run in the server's request threads
        cached = _SECONDS.get(plan.structure_hash)
        if cached is not None:
            _SECONDS.move_to_end(plan.structure_hash)
            return cached
    try:
        steps = T.template_plan(plan)  # max pooling as its TemplateStep
    except (T.NotCovered, NotImplementedError):
        raise S2.NotTwice(_uncovered(plan)) from None
    seconds: list[Any] = []
    missing: list[str] = []
    for i, step in enumerate(steps):
        try:
            seconds.append(_kernels(step) if step is not None and plan.active[i] else None)
        except S2.NotTwice as err:
            missing.append(f"{_name(plan, i)}: {err}")
    if missing:
        raise S2.NotTwice("; ".join(missing))
    with _LOCK:
        _SECONDS[plan.structure_hash] = seconds
        if len(_SECONDS) > 32:
            _SECONDS.popitem(last=False)
    return seconds


def _kernels(step: Any) -> Any:
    if isinstance(step, (T.ContractionStep, ConvStep)):
        return None  # multilinear: the product rule, no second partials
    if isinstance(step, ElementwiseStep):
        return S2.second_kernel(step.template, len(step.sources), step.compiled)
    if not isinstance(step, T.TemplateStep):
        raise S2.NotTwice(f"no tangent rule for a {type(step).__name__}")
    return [[S2.second_kernel(g.template, g.gather.shape[1], vt) for g, vt in zip(st.groups, compiled)]
            for st, compiled in zip(step.stages, step.compiled)]


def _name(plan: Plan, i: int) -> str:
    node = plan.graph.nodes[i]
    return f"op {node.op!r} at node {node.name!r}"  # type: ignore[union-attr]


def _uncovered(plan: Plan) -> str:
    """Every op node the tensor tier does not compile at all (first order), with its reason."""
    found = []
    for i, node in enumerate(plan.graph.nodes):
        if isinstance(node, Leaf):
            continue
        try:
            T._step(plan, i)
        except (T.NotCovered, NotImplementedError) as err:
            found.append(f"{_name(plan, i)}: the tensor tier does not cover {err}")
    return "; ".join(found) or "the tensor tier does not cover this graph"


# ---- per step: tangent forward and the tangent of the adjoints ------------------------------


def _forward_tangent(step: Any, tape: Any, parts: Any, inputs: list, tangents: list) -> tuple[Any, Any]:
    """(the output's tangent or None, what the reverse pass needs of this direction's tangents)."""
    if isinstance(step, T.TemplateStep):
        tb = S2.template_tangent(step, parts, [None if t is None else t.reshape(-1) for t in tangents])
        return tb[-1], tb
    if isinstance(step, ElementwiseStep):
        return _elementwise_tangent(step, tape, parts, tangents), tangents
    present = [x for x in inputs if x is not None]
    named = [t is not None for x, t in zip(inputs, tangents) if x is not None]
    if isinstance(step, T.ContractionStep):
        canon = dict(zip(step.names, step.canon(S2.present(inputs, tangents))))
        known = {n: canon[n] for n, has in zip(step.names, named) if has}
        out = S2.product_rule(step.contraction.forward, tape, known, step.out_canon)
        return out, known
    arrays = step._arrays(S2.present(inputs, tangents))  # ConvStep
    known = {n: arrays[n] for n, has in zip(("X", "W", "b")[: len(present)], named) if has}
    if not known:
        return None, known
    out = np.empty(step.canon_out)
    for part in step._chunks():
        found = S2.product_rule(step.contraction.forward, dict(tape, X=tape["X"][part]),
                                _chunk(known, part), (len(tape["X"][part]),) + step.canon_out[1:])
        out[part] = 0.0 if found is None else found
    return out, known


def _elementwise_tangent(step: ElementwiseStep, cols: list, parts: list, tangents: list) -> Any:
    """df = sum_j f_j ds_j on whole arrays (numpy broadcasts as the op did)."""
    total = None
    for j, src in enumerate(step.sources):
        if tangents[src] is not None:
            total = S2.add(total, parts[j] * tangents[src])
    return None if total is None else np.broadcast_to(total, step.out_shape)


def _elementwise_back(step: ElementwiseStep, cols: list, parts: list, second: S2.SecondKernel, tangents: list,
                      adjoint: np.ndarray, tadjoint: Any, wants: list[bool]) -> tuple[list, list]:
    """Primal adjoints u f_j and their tangents du f_j + u sum_k f_jk ds_k, summed back over
    the axes an input was broadcast along."""
    adjoint = adjoint.reshape(step.out_shape)
    tup = None if tadjoint is None else tadjoint.reshape(step.out_shape)
    tcols = [tangents[src] for src in step.sources]
    h = None
    if second.fn is not None and any(c is not None for c in tcols):
        h = second.fn(*cols, *[0.0 if c is None else c for c in tcols])
    found: list[Any] = [None] * len(wants)
    tfound: list[Any] = [None] * len(wants)
    for j, src in enumerate(step.sources):
        if not wants[src]:
            continue
        shape = step.shapes[src]
        found[src] = S2.add(found[src], unbroadcast(adjoint * parts[j], shape))  # type: ignore[arg-type]
        t = None if tup is None else tup * parts[j]
        t = t if h is None else S2.add(t, adjoint * h[j])
        if t is not None:
            tfound[src] = S2.add(tfound[src], unbroadcast(t, shape))  # type: ignore[arg-type]
    return found, tfound


def _chunk(known: dict, part: slice) -> dict:
    return {n: (a[part] if n in ("X", "G") else a) for n, a in known.items()}


def _contraction_back(step: T.ContractionStep, tape: dict, known: dict, adjoint: np.ndarray, tadjoint: Any,
                      wants: list[bool]) -> list[Any]:
    arrays = dict(tape, G=adjoint.reshape(step.out_canon))
    tangents = dict(known) if tadjoint is None else dict(known, G=tadjoint.reshape(step.out_canon))
    out: list[Any] = []
    for k, name in enumerate(step.names):
        found = S2.product_rule(step.contraction.vjps[name], arrays, tangents, tape[name].shape) if wants[k] else None
        out.append(None if found is None else step.uncanon[k](found))
    return out


def _conv_back(step: ConvStep, tape: dict, known: dict, adjoint: np.ndarray, tadjoint: Any,
               wants: list[bool]) -> list[Any]:
    g = adjoint.reshape(step.canon_out)
    tg = None if tadjoint is None else tadjoint.reshape(step.canon_out)
    names = ["X", "W"] + (["b"] if step.bias else [])
    x_tangent = step._padded_zeros() if wants[0] else None
    sums: dict[str, Any] = {}
    for part in step._chunks():
        arrays = dict(tape, X=tape["X"][part], G=g[part])
        tangents = _chunk(known if tg is None else dict(known, G=tg), part)
        for k, name in enumerate(names):
            if not wants[k]:
                continue
            found = S2.product_rule(step.contraction.vjps[name], arrays, tangents, arrays[name].shape)
            if found is not None and name == "X":
                step._scatter(found, x_tangent[part])  # type: ignore[index]
            elif found is not None:
                sums[name] = S2.add(sums.get(name), found)
    shapes = {"W": step.w_shape, "b": (step.w_shape[0],)}
    out = [None if x_tangent is None else step._crop(x_tangent)]
    return out + [None if sums.get(n) is None else sums[n].reshape(shapes[n]) for n in names[1:]]


def _stage_adjoints(step: T.TemplateStep, tape: Any, adjoint: np.ndarray, wants: list[bool]) -> list[Any]:
    """The primal adjoint of every buffer of a template step (tensor._template_backward, kept whole)."""
    buffers, columns = tape
    n_in = len(buffers) - len(step.stages)
    adj: list[Any] = [None] * len(buffers)
    adj[-1] = adjoint.reshape(-1)
    for s in range(len(step.stages) - 1, -1, -1):
        if step.stages[s].detached or adj[n_in + s] is None:
            continue
        for group, vt, cols, same in zip(step.stages[s].groups, step.compiled[s], columns[s], step.identity[s]):
            upstream = T._column(adj[n_in + s], group.out_index, bool(same))
            src = group.sources[0] if group.sources else 0
            if T.L.one_source(group, vt):
                if src >= n_in or wants[src]:
                    adj[src] = S2.add(adj[src], T.L.backward(group, vt, upstream, len(buffers[src])))
                continue
            found = vt.gradient(*cols) if cols else []
            for src, contribution in T._scattered(group, upstream, found, same, buffers, n_in, wants):
                adj[src] = S2.add(adj[src], contribution)
    return adj


# ---- the graph walk ----------------------------------------------------------------------------


def hvps(plan: Plan, seed: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """[directions, differentiable elements]: H v of <output, seed> for each row v of ``vs``, float64."""
    keep_freed_memory()
    seconds = second_plan(plan)
    steps = T.template_plan(plan)  # max pooling as its TemplateStep
    with np.errstate(all="ignore"):
        values, tapes, parts = _primal(plan, steps)
        tangents = [_tangents(plan, steps, values, tapes, parts, v) for v in vs]
        return np.array([_reverse(plan, steps, seconds, tapes, parts, seed, t) for t in tangents])


def _primal(plan: Plan, steps: list) -> tuple[list, list, list]:
    values: list[Any] = []
    tapes: list[Any] = []
    parts: list[Any] = []
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        if isinstance(node, Leaf):
            v = np.asarray(node.value)
            values.append(v if v.dtype == np.int64 else v.astype(np.float64))
            tapes.append(None)
            parts.append(None)
            continue
        out, tape = T._forward(steps[i], [None if s is None else values[s] for s in input_indices(plan, i)],
                               first_order=False)  # gathered columns: the tangent walk indexes them
        values.append(out.reshape(plan.shapes[i]))
        tapes.append(tape)
        parts.append(_partials(steps[i], tape) if plan.active[i] else None)
    return values, tapes, parts


def _partials(step: Any, tape: Any) -> Any:
    """The SymPy first partials at the forward values, shared by every direction."""
    if isinstance(step, T.TemplateStep):
        return S2.template_partials(step, tape)
    if isinstance(step, ElementwiseStep):
        return step.compiled.gradient(*tape)
    return None


def _tangents(plan: Plan, steps: list, values: list, tapes: list, parts: list, v: np.ndarray) -> tuple[list, list]:
    """Per node: (the tangent of its value along v, None for 0) and its step's tangent tape."""
    start, leaf_tangent = 0, {}
    for i in plan.grad_leaves():
        size = math.prod(plan.shapes[i])
        leaf_tangent[i] = v[start:start + size].reshape(plan.shapes[i])
        start += size
    tangents: list[Any] = []
    ttapes: list[Any] = []
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        if isinstance(node, Leaf) or not plan.active[i]:
            tangents.append(leaf_tangent.get(i))
            ttapes.append(None)
            continue
        srcs = input_indices(plan, i)
        ins = [None if s is None else values[s] for s in srcs]
        tins = [None if s is None else tangents[s] for s in srcs]
        out, ttape = _forward_tangent(steps[i], tapes[i], parts[i], ins, tins)
        tangents.append(None if out is None else np.asarray(out).reshape(plan.shapes[i]))
        ttapes.append(ttape)
    return tangents, ttapes


def _reverse(plan: Plan, steps: list, seconds: list, tapes: list, parts: list, seed: np.ndarray,
             tangents: tuple[list, list]) -> np.ndarray:
    _, ttapes = tangents
    adjoints: list[Any] = [None] * len(steps)
    tadj: list[Any] = [None] * len(steps)
    adjoints[plan.output] = np.asarray(seed, np.float64).reshape(plan.shapes[plan.output])
    for i in range(plan.output, -1, -1):
        step, adjoint = steps[i], adjoints[i]
        if step is None or adjoint is None or not plan.active[i]:
            continue
        srcs = input_indices(plan, i)
        specs = ops.CATALOGUE[plan.graph.nodes[i].op].input_specs(len(srcs))  # type: ignore[union-attr]
        wants = [s is not None and plan.active[s] and specs[p].differentiable for p, s in enumerate(srcs)]
        found, tfound = _back(step, tapes[i], parts[i], seconds[i], ttapes[i], adjoint, tadj[i], wants)
        for src, a, t in zip(srcs, found, tfound):
            if src is None:
                continue
            if a is not None:
                adjoints[src] = S2.add(adjoints[src], np.reshape(a, plan.shapes[src]))
            if t is not None:
                tadj[src] = S2.add(tadj[src], np.reshape(t, plan.shapes[src]))
    return np.concatenate([np.zeros(math.prod(plan.shapes[i])) if tadj[i] is None else np.ravel(tadj[i])
                           for i in plan.grad_leaves()])


def _back(step: Any, tape: Any, parts: Any, seconds: Any, ttape: Any, adjoint: np.ndarray, tadjoint: Any,
          wants: list[bool]) -> tuple[list, list]:
    """(the primal adjoints each input receives, their tangents)."""
    if isinstance(step, ElementwiseStep):
        return _elementwise_back(step, tape, parts, seconds, ttape, adjoint, tadjoint, wants)
    if isinstance(step, T.TemplateStep):
        adj = _stage_adjoints(step, tape, adjoint, wants)
        flat = None if tadjoint is None else tadjoint.reshape(-1)
        n_in = len(adj) - len(step.stages)
        return adj[:n_in], S2.template_backward_tangent(step, tape, parts, seconds, adj, ttape, flat, wants)
    found = T._backward(step, tape, adjoint, wants)
    if isinstance(step, T.ContractionStep):
        return found, _contraction_back(step, tape, ttape, adjoint, tadjoint, wants)
    return found, _conv_back(step, tape, ttape, adjoint, tadjoint, wants)
