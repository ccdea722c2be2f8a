"""The tensor tier: SymPy-derived VJPs compiled once per op signature to vectorized numpy,
composed through the graph in float64.

Contractions (matmul, linear, sum, mean) use index-notation derivations (contractions.py);
every other op uses its element templates (lowering.py) with ``sympy.diff`` partials
lambdified to numpy and applied to all elements at once.
"""

from __future__ import annotations

import functools
import operator
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from .. import ops
from .. import shapes as S
from ..allocator import keep_freed_memory
from ..graph import Leaf, Plan, input_indices
from . import contractions as C
from . import tensor_linear as L
from .codegen import numpy_function
from .lowering import lower
from .memo import Memo
from .templates import Stage, args, partials
from .tensor_cache import cached_step
from .tensor_conv import ConvStep
from .tensor_elementwise import ElementwiseStep, elementwise_step, unbroadcast
from .tensor_lowering import tensor_lower
from .tensor_pool import MaxPoolStep
from .tensor_shift import ROW_MAX, is_row_max
from .tensor_strided import StridedTape, plan_step, strided_backward, strided_forward
from .undefined import piecewise, times

MAX_TEMPLATE_ARGS = 4096
TEMPLATES_KEPT = 2048  # compiled templates kept per process (they embed client constants)
class NotCovered(Exception):
    """An op signature the tensor tier does not derive (the report says which)."""


@dataclass(frozen=True)
class VectorTemplate:
    forward: Callable[..., Any]
    gradient: Callable[..., Any]
    partials: tuple[sp.Expr, ...] = ()  # the SymPy partials ``gradient`` computes (order 2 reuses them)
    piecewise: bool = False  # some partial can be NaN where undefined (undefined.py)


_TEMPLATES = Memo(TEMPLATES_KEPT)


def vector_template(template: sp.Expr, n_args: int) -> Any:
    return _TEMPLATES.get((template, n_args), lambda: _compile_template(template, n_args))


def _compile_template(template: sp.Expr, n_args: int) -> Any:
    if n_args > MAX_TEMPLATE_ARGS and not L.plain_sum(template):
        raise NotCovered(f"a template with {n_args} placeholders")
    s = args(n_args)
    found = partials(template, s)
    return L.linear_template(template, s, found) or VectorTemplate(
        numpy_function(s, template), numpy_function(s, found, cse=True), tuple(found), piecewise(found))


@dataclass
class ContractionStep:
    """A contraction op in canonical shapes: inputs reshaped/transposed, einsums, reshaped back."""

    contraction: C.Contraction
    names: tuple[str, ...]  # IndexedBase name per op input (None-free positions)
    canon: Callable[[list[np.ndarray]], list[np.ndarray]]  # op inputs -> canonical arrays
    uncanon: list[Callable[[np.ndarray], np.ndarray]]  # canonical grad -> input-shaped grad
    out_canon: tuple[int, ...]
    out_shape: tuple[int, ...]


@dataclass
class TemplateStep:
    stages: list[Stage]
    compiled: list[list[Any]]  # VectorTemplate or tensor_linear.LinearTemplate

    def __post_init__(self) -> None:
        self.strided = plan_step(self.stages, self.compiled)  # first order: its groups on views

    @functools.cached_property
    def identity(self) -> list[list[Any]]:
        """Mark gathers that are the identity (elementwise ops): no indexing needed there (the
        gathered path's; computed when first read)."""
        return [[_is_arange(g.out_index) and _arange_columns(g.gather) for g in st.groups] for st in self.stages]


def _is_arange(index: np.ndarray) -> bool:
    return bool(len(index) and index[0] == 0 and (np.diff(index) == 1).all())


def _arange_columns(gather: np.ndarray) -> list[bool]:
    """_is_arange of every column, in one pass (a 1,024-sample mean has 1,024 columns)."""
    if not len(gather):
        return [False] * gather.shape[1]
    found = gather[0] == 0
    if len(gather) > 1:
        found &= (np.diff(gather, axis=0) == 1).all(axis=0)
    return [bool(v) for v in found]


def _matmul_step(shapes: list, out_shape: tuple) -> ContractionStep:
    a, b = tuple(shapes[0]), tuple(shapes[1])
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if len(b2) == 2 and len(a2) > 2:  # (..., i, j) @ (j, k): fold the batch into the rows
        a2 = (int(np.prod(a2[:-1], dtype=np.int64)), a2[-1])
    full = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    batch = int(np.prod(full, dtype=np.int64))
    batched = len(full) > 0
    ca = (batch,) + a2[-2:] if batched else a2
    cb = (batch,) + b2[-2:] if batched else b2
    out_canon = ca[:-1] + cb[-1:]
    return ContractionStep(C.matmul(batched, a2[-1]), ("A", "B"),
                           lambda xs: [_batch(xs[0], a2, full, ca), _batch(xs[1], b2, full, cb)],
                           [lambda g: _unbatch(g, full, a2, a), lambda g: _unbatch(g, full, b2, b)],
                           out_canon, out_shape)


def _batch(x: np.ndarray, shape: tuple, full: tuple, canon: tuple) -> np.ndarray:
    """An operand read along the broadcast batch (a view when nothing is broadcast)."""
    x = x.reshape(shape)
    return x.reshape(canon) if shape[:-2] == full else np.broadcast_to(x, full + shape[-2:]).reshape(canon)


def _unbatch(g: np.ndarray, full: tuple, shape: tuple, original: tuple) -> np.ndarray:
    """The canonical adjoint back to the operand: summed over the batch dims it was broadcast along
    (the adjoint of reading one element many times)."""
    if shape[:-2] != full:
        g = unbroadcast(g.reshape(full + shape[-2:]), shape)
    return g.reshape(original)


def _linear_step(shapes: list, out_shape: tuple) -> ContractionStep:
    x, w = tuple(shapes[0]), tuple(shapes[1])
    bias = len(shapes) > 2 and shapes[2] is not None
    if bias and tuple(shapes[2]) != (w[0],):
        raise NotCovered("linear with a bias that is not of shape (out_features,)")
    m = int(np.prod(x[:-1], dtype=np.int64))
    names = ("X", "W", "b") if bias else ("X", "W")
    return ContractionStep(C.linear(w[1], bias), names,
                           lambda xs: [xs[0].reshape(m, w[1]), *xs[1:len(names)]],
                           [lambda g: g.reshape(x), lambda g: g, lambda g: g], (m, w[0]), out_shape)


def _reduce_step(op: str, shapes: list, attrs: dict, out_shape: tuple) -> ContractionStep:
    shape = tuple(shapes[0])
    dims = S.norm_dims(op, attrs["dim"], len(shape))
    kept = [d for d in range(len(shape)) if d not in dims]
    order = kept + list(dims)
    moved = tuple(shape[d] for d in order)
    m = int(np.prod([shape[d] for d in kept], dtype=np.int64))
    r = int(np.prod([shape[d] for d in dims], dtype=np.int64))
    inverse = np.argsort(order)
    return ContractionStep(C.reduce_rows(r, op == "mean"), ("X",),
                           lambda xs: [np.transpose(xs[0], order).reshape(m, r)],
                           [lambda g: np.transpose(g.reshape(moved), inverse)], (m,), out_shape)


def _step(plan: Plan, i: int) -> Any:
    node = plan.graph.nodes[i]
    srcs = input_indices(plan, i)
    shapes = [None if s is None else plan.shapes[s] for s in srcs]
    op = node.op  # type: ignore[union-attr]
    if op == "matmul":
        return _matmul_step(shapes, plan.shapes[i])
    if op == "linear":
        return _linear_step(shapes, plan.shapes[i])
    if op in ("sum", "mean"):
        return _reduce_step(op, shapes, plan.attrs[i], plan.shapes[i])
    if op in ("conv1d", "conv2d"):
        return ConvStep(shapes, plan.attrs[i], plan.shapes[i])
    if op == "max_pool2d":
        return MaxPoolStep(shapes, plan.attrs[i], plan.shapes[i], vector_template)
    found = elementwise_step(op, shapes, plan.attrs[i], plan.shapes[i], vector_template)
    return found if found is not None else _template_step(plan, i)


def _template_step(plan: Plan, i: int) -> TemplateStep:
    srcs = input_indices(plan, i)
    shapes = [None if s is None else plan.shapes[s] for s in srcs]
    op = plan.graph.nodes[i].op  # type: ignore[union-attr]
    ints = [np.asarray(plan.graph.nodes[s].value) if s is not None and plan.dtypes[s] == "int64"  # type: ignore[union-attr]
            else None for s in srcs]
    stages = tensor_lower(op, shapes, plan.attrs[i], ints) or lower(op, shapes, plan.attrs[i], ints)
    return TemplateStep(stages, [[_compiled(st, g) for g in st.groups] for st in stages])


def _compiled(stage: Stage, group: Any) -> Any:
    """A stop-gradient row max is value only (tensor_shift.py); other groups compile their template."""
    return ROW_MAX if is_row_max(stage, group.template) else vector_template(group.template, group.gather.shape[1])


_PLANS: OrderedDict[str, list[Any]] = OrderedDict()


def compile_plan(plan: Plan) -> list[Any]:
    """One step per op node (None for leaves); cached by structure hash."""
    cached = _PLANS.get(plan.structure_hash)
    if cached is None:
        cached = [None if isinstance(n, Leaf) else cached_step(plan, i, _step) for i, n in enumerate(plan.graph.nodes)]
        _PLANS[plan.structure_hash] = cached
        if len(_PLANS) > 32:
            _PLANS.popitem(last=False)
    return cached


def template_plan(plan: Plan) -> list[Any]:
    """compile_plan's steps with each first-order-only step (max pooling's strided windows) as its
    TemplateStep (index arrays and all): the order-2 walk (tensor_hvp.py) reads a template step's
    stages and gathers there."""
    return [cached_step(plan, i, _template_step, "template") if getattr(s, "first_order_only", False) else s
            for i, s in enumerate(compile_plan(plan))]


def _column(buffer: np.ndarray, index: np.ndarray, identity: bool) -> np.ndarray:
    return buffer if identity and len(buffer) == len(index) else buffer[index]


def _template_forward(step: TemplateStep, inputs: list[np.ndarray | None],
                      first_order: bool = True) -> tuple[np.ndarray, Any]:
    """``first_order``: groups on views where the step has their layouts (a StridedTape, which only
    the first-order backward reads; the order-2 walk reads gathered columns)."""
    buffers: list[Any] = [None if x is None else x.reshape(-1) for x in inputs]
    columns = []
    for s, (stage, compiled) in enumerate(zip(step.stages, step.compiled)):
        out = np.empty(stage.size)
        stage_columns: list[Any] = []
        for g, (group, vt) in enumerate(zip(stage.groups, compiled)):
            sg = step.strided[s][g] if first_order else None
            if sg is not None:
                stage_columns.append(strided_forward(sg, group, vt, buffers, out))
                continue
            if vt is ROW_MAX:  # one gather of the rows, not a column per row element
                out[group.out_index] = ROW_MAX.of_rows(buffers[group.sources[0]][group.gather])
                stage_columns.append([])
                continue
            same = step.identity[s][g]
            if L.one_source(group, vt):
                out[group.out_index] = L.forward(group, vt, buffers[group.sources[0]])
                stage_columns.append([])
                continue
            cols = [_column(buffers[src], group.gather[:, j], bool(same and same[j]))
                    for j, src in enumerate(group.sources)]
            out[group.out_index] = vt.forward(*cols)  # a constant template broadcasts on assignment
            stage_columns.append(cols)
        buffers.append(out)
        columns.append(stage_columns)
    return buffers[-1], (StridedTape if first_order else tuple)((buffers, columns))


def _template_backward(step: TemplateStep, tape: Any, adjoint: np.ndarray,
                       wants: list[bool]) -> list[np.ndarray | None]:
    buffers, columns = tape
    n_in = len(buffers) - len(step.stages)
    adj: list[Any] = [None] * len(buffers)
    adj[-1] = adjoint.reshape(-1)
    strided = isinstance(tape, StridedTape)
    for s in range(len(step.stages) - 1, -1, -1):
        if step.stages[s].detached or adj[n_in + s] is None:
            continue
        groups = zip(step.stages[s].groups, step.compiled[s], columns[s], step.strided[s])
        for g, (group, vt, cols, sg) in enumerate(groups):
            if strided and sg is not None:
                for src, contribution in strided_backward(sg, group, vt, cols, adj[n_in + s], buffers, n_in, wants):
                    adj[src] = contribution if adj[src] is None else adj[src] + contribution
                continue
            same = step.identity[s][g]
            upstream = _column(adj[n_in + s], group.out_index, bool(same))
            src = group.sources[0] if group.sources else 0
            if L.one_source(group, vt):
                if src >= n_in or wants[src]:
                    contribution = L.backward(group, vt, upstream, len(buffers[src]))
                    adj[src] = contribution if adj[src] is None else adj[src] + contribution
                continue
            partials = vt.gradient(*cols) if cols else []
            product = times if getattr(vt, "piecewise", False) else operator.mul
            for src, contribution in _scattered(group, upstream, partials, same, buffers, n_in, wants, product):
                adj[src] = contribution if adj[src] is None else adj[src] + contribution
    return adj[:n_in]


def _scattered(group: Any, upstream: np.ndarray, partials: list, same: Any, buffers: list, n_in: int,
               wants: list[bool], product: Callable[[Any, Any], Any] = operator.mul) -> list[tuple[int, np.ndarray]]:
    """Each source buffer's adjoint contribution from one group: identity columns as they are,
    the other columns of one source summed in ONE bincount (one per column would cost
    columns x buffer length)."""
    out: list[tuple[int, np.ndarray]] = []
    scatter: dict[int, list[int]] = {}
    for j, src in enumerate(group.sources):
        if src < n_in and not wants[src]:
            continue
        if same and same[j] and len(upstream) == len(buffers[src]):
            out.append((src, product(upstream, partials[j])))  # a constant partial broadcasts
        else:
            scatter.setdefault(src, []).append(j)
    for src, cols in scatter.items():
        weights = np.empty((len(cols), len(upstream)))
        for row, j in enumerate(cols):
            weights[row] = product(upstream, partials[j])
        where = group.gather[:, cols].T
        out.append((src, np.bincount(where.reshape(-1), weights.reshape(-1), minlength=len(buffers[src]))))
    return out


def _contraction_forward(step: ContractionStep, inputs: list[np.ndarray | None]) -> tuple[np.ndarray, Any]:
    canon = step.canon([x for x in inputs if x is not None])
    arrays = dict(zip(step.names, canon))
    out = C.evaluate(step.contraction.forward, arrays, step.out_canon)
    return out.reshape(step.out_shape), arrays


def _contraction_backward(step: ContractionStep, arrays: dict, adjoint: np.ndarray,
                          wants: list[bool]) -> list[np.ndarray | None]:
    known = dict(arrays, G=adjoint.reshape(step.out_canon))
    grads: list[np.ndarray | None] = []
    for k, name in enumerate(step.names):
        if not wants[k]:
            grads.append(None)
            continue
        g = C.evaluate(step.contraction.vjps[name], known, arrays[name].shape)
        grads.append(step.uncanon[k](g))
    return grads + [None] * (len(wants) - len(grads))


def _forward(step: Any, inputs: list[np.ndarray | None], first_order: bool = True) -> tuple[np.ndarray, Any]:
    """A step's output and its tape; ``first_order``: a tape only ``_backward`` reads (views,
    partials computed with the output)."""
    if isinstance(step, TemplateStep):
        return _template_forward(step, inputs, first_order)
    if first_order and isinstance(step, ElementwiseStep):
        return step.forward_with_partials(inputs)
    if isinstance(step, ContractionStep):
        return _contraction_forward(step, inputs)
    return step.forward(inputs)


def _backward(step: Any, tape: Any, adjoint: np.ndarray, wants: list[bool]) -> list[np.ndarray | None]:
    if isinstance(step, TemplateStep):
        return _template_backward(step, tape, adjoint, wants)
    if isinstance(step, ContractionStep):
        return _contraction_backward(step, tape, adjoint, wants)
    return step.backward(tape, adjoint, wants)


def gradients(plan: Plan, seed: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """d <output, seed> / d leaf in float64 for every leaf that requires grad, and the output."""
    keep_freed_memory()  # its multi-MB float64 arrays would page-fault on every allocation
    steps = compile_plan(plan)
    values: list[Any] = []
    tapes: list[Any] = []
    flat: dict[int, np.ndarray] = {}  # strided values template steps read, copied once for all of them
    last = {s: i for i in range(len(plan.graph.nodes)) if steps[i] is not None
            for s in input_indices(plan, i) if s is not None}
    with np.errstate(all="ignore"):
        for i, node in enumerate(plan.graph.nodes):
            if isinstance(node, Leaf):
                v = np.asarray(node.value)
                values.append(v if v.dtype == np.int64 else v.astype(np.float64))
                tapes.append(None)
                continue
            srcs = input_indices(plan, i)
            inputs = [None if s is None else values[s] for s in srcs]
            if isinstance(steps[i], TemplateStep):
                inputs = [_flat_once(s, x, flat) for s, x in zip(srcs, inputs)]
            out, tape = _forward(steps[i], inputs)
            values.append(out.reshape(plan.shapes[i]))
            tapes.append(tape)
            for s in srcs:  # a value no later node reads lives on only in the tapes that need it
                if s is not None and last.get(s) == i and s != plan.output:
                    values[s] = None
                    flat.pop(s, None)
        output = values[plan.output]
        del values
        adjoints = _reverse(plan, steps, tapes, np.asarray(seed, np.float64))
    grads = {i: (np.zeros(plan.shapes[i]) if adjoints[i] is None else np.asarray(adjoints[i]))
             for i in plan.grad_leaves()}
    return grads, output


def _flat_once(s: int | None, x: np.ndarray | None, flat: dict[int, np.ndarray]) -> np.ndarray | None:
    """A template step flattens its inputs (a strided one, e.g. a transposed product, is copied):
    the copy is made once per value, not once per template step that reads it."""
    if s is None or x is None or x.ndim < 2 or x.flags.c_contiguous:
        return x
    if s not in flat:
        flat[s] = np.ascontiguousarray(x)
    return flat[s]


def _reverse(plan: Plan, steps: list, tapes: list, seed: np.ndarray) -> list[Any]:
    adjoints: list[Any] = [None] * len(steps)
    adjoints[plan.output] = seed.reshape(plan.shapes[plan.output])
    for i in range(plan.output, -1, -1):
        step, adjoint = steps[i], adjoints[i]
        if step is None or adjoint is None or not plan.active[i]:
            continue
        srcs = input_indices(plan, i)
        spec = ops.CATALOGUE[plan.graph.nodes[i].op]  # type: ignore[union-attr]
        wants = [s is not None and plan.active[s] and spec.input_specs(len(srcs))[p].differentiable
                 for p, s in enumerate(srcs)]
        found = _backward(step, tapes[i], adjoint, wants)
        tapes[i] = adjoints[i] = None  # freed as the reverse sweep passes (memory: the live adjoints)
        for src, adj in zip(srcs, found):
            if adj is None or src is None:
                continue
            adj = adj.reshape(plan.shapes[src])
            adjoints[src] = adj if adjoints[src] is None else adjoints[src] + adj
    return adjoints


_SAVES: dict[str, bool] = {}


def saves_values(plan: Plan) -> bool:
    """Whether backward needs forward values (PyTorch frees them, so a second backward fails):
    some active op's derivative depends on them — a template partial with free symbols, or a
    contraction VJP that reads an input."""
    if plan.structure_hash not in _SAVES:
        steps = compile_plan(plan)
        _SAVES[plan.structure_hash] = any(
            plan.active[i] and _step_saves(step) for i, step in enumerate(steps) if step is not None)
    return _SAVES[plan.structure_hash]


def _step_saves(step: Any) -> bool:
    if isinstance(step, ConvStep):
        return True
    if hasattr(step, "saves"):
        return bool(step.saves)
    if isinstance(step, TemplateStep):
        return any(any(sp.diff(g.template, v).free_symbols for v in g.template.free_symbols)
                   for st in step.stages for g in st.groups)
    return any(set(term.operands) - {"G"} for terms in step.contraction.vjps.values() for term in terms)
