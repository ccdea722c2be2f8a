"""The exact tier: every local derivative is ``sympy.diff`` of an op's forward template, every
value is evaluated with mpmath at ``raw.DPS`` digits and rounded to float64 at the end.

Chaining is reverse accumulation over the graph (one adjoint per element), so no expression
for the whole graph is ever built. Compiled templates are cached by expression, compiled
plans by the graph's structure hash: a second graph with new values derives nothing.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from mpmath.libmp import fzero

from .. import ops
from ..graph import Leaf, OpNode, Plan, input_indices
from . import raw
from .lowering import lower
from .memo import Memo
from .raw import NAN
from .templates import Stage, args, partials
from .work_models import WORK as WORK_MODELS


@dataclass(frozen=True)
class Compiled:
    """A template's forward as a function of its placeholders' raw mpmath values (raw.py), and
    its partial derivatives (by sympy.diff), compiled per set of wanted placeholders by
    :func:`gradient_for`."""

    template: sp.Expr
    forward: Callable[..., Any]
    partials: tuple[sp.Expr, ...]


@dataclass(frozen=True)
class Gradient:
    """The wanted partials of one template: a function of the placeholders' raw values, or (when
    each is a number or a bare placeholder: sums, products, reshapes) ``direct`` — per partial
    (placeholder index, None) or (-1, raw number) — so nothing is called per element. ``reads``:
    the placeholders the partials read, i.e. which forward values the backward pass needs."""

    fn: Callable[..., Any] | None
    direct: tuple[tuple[int, Any], ...]
    reads: frozenset[int]


_TEMPLATES = Memo(2048)  # compiled templates kept per process (they embed client constants)
_GRADIENTS = Memo(4096)
_PLANS: OrderedDict[str, list[NodeProgram | None]] = OrderedDict()
PLAN_CACHE_SIZE = 64


def compile_template(template: sp.Expr, n_args: int) -> Compiled:
    """lambdify the template and differentiate it by every placeholder, once per template."""
    def build() -> Compiled:
        s = args(n_args)
        return Compiled(template, raw.compile_raw(s, [template], many=False), tuple(partials(template, s)))
    return _TEMPLATES.get((template, n_args), build)


def gradient_for(compiled: Compiled, wanted: tuple[bool, ...]) -> Gradient:
    """The partials by the wanted placeholders (0 for the others), compiled once per mask."""
    def build() -> Gradient:
        symbols = args(len(wanted))
        found = [p if w else sp.Integer(0) for p, w in zip(compiled.partials, wanted)]
        reads = frozenset(k for k, v in enumerate(symbols) if any(v in p.free_symbols for p in found))
        direct = _direct(found, symbols)
        fn = None if direct is not None else raw.compile_raw(symbols, found, many=True)
        return Gradient(fn, direct or (), reads)
    return _GRADIENTS.get((compiled.template, len(wanted), wanted), build)


def _direct(found: list[sp.Expr], symbols: tuple[sp.Symbol, ...]) -> tuple[tuple[int, Any], ...] | None:
    """Each partial as (placeholder index, None), (-1, its raw value) or (-1, None) for exactly 1;
    None if any is neither."""
    position = {v: k for k, v in enumerate(symbols)}
    out: list[tuple[int, Any]] = []
    for p in found:
        if p in position:
            out.append((position[p], None))
        elif p == 1:
            out.append((-1, None))  # the adjoint passes through unmultiplied
        elif p.is_number:
            out.append((-1, raw.constant(p)))
        else:
            return None
    return tuple(out)


@dataclass
class NodeProgram:
    """One op node lowered: its stages, each group's compiled template and wanted partials, and
    which stages' forward values anything reads (the others are never computed)."""

    srcs: Sequence[int | None]
    stages: list[Stage]
    compiled: list[list[Compiled]]
    gradients: list[list[Gradient]]
    wants: list[bool]  # per input: whether its gradient is wanted
    needed: list[bool] = field(default_factory=list)  # per stage


def _ints(plan: Plan, srcs: Sequence[int | None]) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = []
    for s in srcs:
        node = plan.graph.nodes[s] if s is not None else None
        is_int = s is not None and plan.dtypes[s] == "int64"
        out.append(np.asarray(node.value) if isinstance(node, Leaf) and is_int else None)
    return out


def compile_plan(plan: Plan) -> list[NodeProgram | None]:
    """Lower and compile every op node; cached by structure hash (values play no part)."""
    cached = _PLANS.get(plan.structure_hash)
    if cached is not None:
        _PLANS.move_to_end(plan.structure_hash)
        return cached
    programs: list[NodeProgram | None] = []
    for i, node in enumerate(plan.graph.nodes):
        programs.append(None if isinstance(node, Leaf) else _node_program(plan, i, node))
    _mark_needed(plan, programs)
    _PLANS[plan.structure_hash] = programs
    if len(_PLANS) > PLAN_CACHE_SIZE:
        _PLANS.popitem(last=False)
    return programs


def _node_program(plan: Plan, i: int, node: OpNode) -> NodeProgram:
    srcs = input_indices(plan, i)
    shapes = [None if s is None else plan.shapes[s] for s in srcs]
    stages = lower(node.op, shapes, plan.attrs[i], _ints(plan, srcs))
    compiled = [[compile_template(g.template, g.gather.shape[1]) for g in st.groups] for st in stages]
    spec = ops.CATALOGUE[node.op]
    wants = [s is not None and plan.active[s] and spec.input_specs(len(srcs))[p].differentiable
             for p, s in enumerate(srcs)]
    n_in = len(srcs)
    gradients = [[gradient_for(c, tuple(src >= n_in or wants[src] for src in g.sources))
                  for g, c in zip(st.groups, cs)] for st, cs in zip(stages, compiled)]
    return NodeProgram(srcs, stages, compiled, gradients, wants)


def _mark_needed(plan: Plan, programs: list[NodeProgram | None]) -> None:
    """Which stages' forward values are read: by a wanted partial, or by a needed stage's forward.
    Consumers come after producers, so one pass from the output back settles it."""
    read = [False] * len(programs)  # node outputs some consumer reads
    for i in range(len(programs) - 1, -1, -1):
        program = programs[i]
        if program is None:
            continue
        n_in = len(program.srcs)
        need = [False] * (n_in + len(program.stages))
        need[-1] = read[i]
        for s in range(len(program.stages) - 1, -1, -1):
            for group, grad in zip(program.stages[s].groups, program.gradients[s]):
                for j, buffer in enumerate(group.sources):
                    need[buffer] = need[buffer] or need[n_in + s] or j in grad.reads
        program.needed = need[n_in:]
        for pos, node in enumerate(program.srcs):
            if node is not None and need[pos]:
                read[node] = True


class _Tape:
    """Forward values of one node's buffers and the placeholder values of every element."""

    def __init__(self, inputs: list[list[Any] | None]) -> None:
        self.buffers: list[list[Any] | None] = list(inputs)
        self.rows: list[list[list[list[Any]]]] = []

    def run(self, program: NodeProgram) -> list[Any]:
        """Forward values of the needed stages (None elsewhere), rows of every group."""
        for stage, compiled, needed in zip(program.stages, program.compiled, program.needed):
            out: list[Any] = [None] * stage.size
            stage_rows = []
            for group, fn in zip(stage.groups, compiled):
                bufs = [self.buffers[s] for s in group.sources]
                rows = [[buf[k] for buf, k in zip(bufs, row)] for row in group.gather.tolist()]  # type: ignore[index]
                if needed:
                    forward = fn.forward
                    for pos, vals in zip(group.out_index.tolist(), rows):
                        out[pos] = forward(*vals)
                stage_rows.append(rows)
            self.buffers.append(out)
            self.rows.append(stage_rows)
        return self.buffers[-1]  # type: ignore[return-value]


def _backward_node(program: NodeProgram, tape: _Tape, adjoint: list[Any]) -> list[list[Any] | None]:
    """Adjoints of the node's buffers, given the adjoint of its output (last stage)."""
    n_in = len(program.srcs)
    adj: list[list[Any] | None] = [None] * len(tape.buffers)
    adj[-1] = adjoint
    for s in range(len(program.stages) - 1, -1, -1):
        out_adj = adj[n_in + s]
        if out_adj is None or program.stages[s].detached:  # no later stage reads this one, or a stop-gradient
            continue
        for group, grad, rows in zip(program.stages[s].groups, program.gradients[s], tape.rows[s]):
            targets = [_adj_slot(adj, tape, src, program.wants, n_in) for src in group.sources]
            live = [(j, target) + grad.direct[j] if grad.direct else (j, target, j, None)
                    for j, target in enumerate(targets) if target is not None]
            if live:
                _backward_group(grad, live, group.out_index.tolist(), group.gather.tolist(), rows, out_adj)
    return adj[:n_in]


def _backward_group(grad: Gradient, live: list[tuple[int, list, int, Any]], out_index: list[int],
                    gather: list[list[int]], rows: list[list[Any]], out_adj: list[Any]) -> None:
    """Each element's adjoint times its partials, added into the wanted inputs' adjoints. ``live``:
    per wanted placeholder (position, adjoint list, partial's placeholder index or -1, constant)."""
    for pos, row_idx, vals in zip(out_index, gather, rows):
        a = out_adj[pos]
        if a is None or a == fzero:
            continue
        partials = grad.fn(*vals) if grad.fn else vals
        for j, target, k, c in live:
            partial = partials if partials is NAN else partials[k] if k >= 0 else c
            _accumulate(target, row_idx[j], a if partial is None else raw.mul(a, partial))


def _accumulate(adjoint: list[Any], k: int, contribution: Any) -> None:
    """Add to an adjoint element; None is an exact zero (nothing reached it yet)."""
    previous = adjoint[k]
    adjoint[k] = contribution if previous is None else raw.add(previous, contribution)


def _adj_slot(adj: list, tape: _Tape, src: int, wants: list[bool], n_in: int) -> list | None:
    if src < n_in and not wants[src]:
        return None
    if adj[src] is None:
        adj[src] = [None] * len(tape.buffers[src])  # type: ignore[arg-type]
    return adj[src]


def _mpfs(values: np.ndarray) -> list[Any]:
    """float64 values as raw mpmath values, exactly. mpmath's own from_float costs ~2.5 us per
    element; here numpy splits every value into the (sign, odd mantissa, exponent, bit count)
    tuple mpmath stores."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size <= FEW_VALUES:
        return [_mpf_tuple(x) for x in v.tolist()]
    if not np.isfinite(v).all():
        return [raw.from_number(x) for x in v.tolist()]
    fraction, exponent = np.frexp(np.abs(v))
    mantissa = (fraction * 2.0**53).astype(np.int64)  # the 53-bit significand, exactly
    zero = mantissa == 0
    trailing = np.where(zero, 0, np.frexp((mantissa & -mantissa).astype(np.float64))[1] - 1)
    mantissa >>= trailing  # mpmath keeps mantissas odd
    bits = np.frexp(mantissa.astype(np.float64))[1]
    exponent = np.where(zero, 0, exponent - 53 + trailing)
    sign = (np.signbit(v) & ~zero).astype(np.int64)
    return list(zip(sign.tolist(), mantissa.tolist(), exponent.tolist(), bits.tolist()))


FEW_VALUES = 32  # up to this many values, Python's exact integer ratio beats numpy's per-call cost


def _mpf_tuple(x: float) -> Any:
    """One float64 as mpmath's raw (sign, odd mantissa, exponent, bit count), from its exact
    integer ratio n / 2^k (n odd when k > 0)."""
    if x == 0.0 or not math.isfinite(x):
        return raw.from_number(x)
    n, d = x.as_integer_ratio()
    sign, man, exp = int(n < 0), abs(n), 1 - d.bit_length()
    if exp == 0 and not man & 1:  # an even integer: mpmath keeps mantissas odd
        zeros = (man & -man).bit_length() - 1
        man, exp = man >> zeros, zeros
    return (sign, man, exp, man.bit_length())


def read_leaves(plan: Plan, programs: list[NodeProgram | None]) -> list[int]:
    """The leaves some program reads, in node order (whose values are converted)."""
    read = {s for program in programs if program is not None for s in program.srcs if s is not None}
    return [i for i, node in enumerate(plan.graph.nodes) if isinstance(node, Leaf) and i in read]


def _leaf_mpfs(plan: Plan, programs: list[NodeProgram | None], seed: np.ndarray) -> tuple[list[Any], list[Any]]:
    """Every read leaf's values and the seed, converted in one pass (per-call overhead dominates
    small leaves). Returns the per-node value lists (None for unread leaves) and the seed's."""
    leaves = {i: plan.graph.nodes[i] for i in read_leaves(plan, programs)}
    arrays = [np.asarray(node.value, np.float64).ravel()  # type: ignore[union-attr]
              for node in leaves.values()] + [seed.ravel()]
    converted = _mpfs(np.concatenate(arrays))
    values: list[Any] = [None] * len(plan.graph.nodes)
    start = 0
    for i, array in zip(leaves, arrays):
        values[i], start = converted[start:start + array.size], start + array.size
    return values, converted[start:]


def gradients(plan: Plan, seed: np.ndarray) -> tuple[dict[int, np.ndarray], None]:
    """d <output, seed> / d leaf for every leaf that requires grad. (The output's value is not
    computed: no derivative reads it. The tensor tier's twin returns it.)"""
    programs = compile_plan(plan)
    values, seed_values = _leaf_mpfs(plan, programs, seed)
    return evaluate(plan, programs, values, seed_values), None


def evaluate(plan: Plan, programs: list[NodeProgram | None], values: list[Any],
             seed_values: list[Any]) -> dict[int, np.ndarray]:
    """``gradients`` from the leaves' raw values (``values``, per node; None for a leaf no
    program reads) and the seed's (engine/symbolic/exact_many.py converts many requests' at once)."""
    nodes = plan.graph.nodes
    tapes: list[_Tape | None] = [None] * len(nodes)
    for i, node in enumerate(nodes):
        if isinstance(node, Leaf):
            continue
        program = programs[i]
        assert program is not None and isinstance(node, OpNode)
        tapes[i] = _Tape([None if s is None else values[s] for s in program.srcs])
        values[i] = tapes[i].run(program)  # type: ignore[union-attr]
    adjoints = _reverse(plan, programs, tapes, seed_values)
    return {i: _to_float(adjoints[i], plan.shapes[i]) for i in plan.grad_leaves()}


def _reverse(plan: Plan, programs: list, tapes: list, seed: list[Any]) -> list[list[Any] | None]:
    adjoints: list[list[Any] | None] = [None] * len(programs)
    adjoints[plan.output] = seed
    for i in range(plan.output, -1, -1):
        program, adjoint = programs[i], adjoints[i]
        if program is None or adjoint is None or not plan.active[i]:
            continue
        for pos, adj in enumerate(_backward_node(program, tapes[i], adjoint)):
            src = program.srcs[pos]
            if adj is None or src is None:
                continue
            prev = adjoints[src]
            if prev is None:
                adjoints[src] = adj
            else:
                for k, contribution in enumerate(adj):
                    if contribution is not None:
                        _accumulate(prev, k, contribution)
    return adjoints


def _to_float(values: list[Any] | None, shape: tuple[int, ...]) -> np.ndarray:
    if values is None:
        return np.zeros(shape, np.float64)
    return np.array(raw.to_floats(values), dtype=np.float64).reshape(shape)


_WORK: OrderedDict[str, int] = OrderedDict()


# Time per evaluation by op relative to matmul's, measured by bench/measure_exact_costs.py (rerun it
# after changing this tier): estimate_work counts matmul-equivalent evaluations, so the auto tier's
# budget is a time budget whatever the ops. Ops not listed cost 1.
OP_COST: dict[str, float] = {
    "binary_cross_entropy_with_logits": 18, "softplus": 12, "sigmoid": 10, "tanh": 10, "pow_tensor": 9,
    "softmax": 7, "log_softmax": 7, "mse_loss": 6.5, "pow": 6, "exp": 6, "sqrt": 6, "abs": 4, "select": 3.5,
    "div": 3.5, "relu": 3.2, "maximum": 3.2, "minimum": 3.2, "log": 3, "cross_entropy": 0.25,
}


def estimate_work(plan: Plan) -> int:
    """Placeholder evaluations the exact tier would do, from shapes alone (before lowering):
    per op, output elements times the input elements each one reads; softmax-like templates
    also pay K^2 once to be differentiated (their partials are not term-by-term)."""
    if plan.structure_hash not in _WORK:
        _WORK[plan.structure_hash] = _estimate_work(plan)
        if len(_WORK) > 4 * PLAN_CACHE_SIZE:
            _WORK.popitem(last=False)
    return _WORK[plan.structure_hash]


def raw_work(plan: Plan) -> int:
    """Placeholder evaluations, unweighted (what bench/measure_exact_costs.py divides time by)."""
    return _estimate_work(plan, weighted=False)


def _estimate_work(plan: Plan, weighted: bool = True) -> int:
    total = 0.0
    for i, node in enumerate(plan.graph.nodes):
        if isinstance(node, OpNode):
            srcs = [s for s in input_indices(plan, i) if s is not None]
            first = plan.shapes[srcs[0]] if srcs else ()
            out = int(np.prod(plan.shapes[i], dtype=np.int64))
            inputs = sum(int(np.prod(plan.shapes[s], dtype=np.int64)) for s in srcs)
            if node.op in WORK_MODELS:  # conv, pooling, normalization: window/row-sized reads
                total += WORK_MODELS[node.op]([plan.shapes[s] for s in srcs], plan.shapes[i])
                continue
            work = _op_work(node.op, first, out, inputs, len(srcs))
            total += work * OP_COST.get(node.op, 1.0) if weighted else work
    return int(total)


def _op_work(op: str, first: tuple[int, ...], out: int, inputs: int, arity: int) -> int:
    k = int(first[-1]) if first else 1
    if op in ("matmul", "linear"):
        return out * (2 * k + 1)
    if op in ("softmax", "log_softmax", "cross_entropy"):
        return inputs * k + k * k
    if op in ("sum", "mean", "binary_cross_entropy_with_logits", "mse_loss"):
        return inputs + out
    return out * max(arity, 1)
