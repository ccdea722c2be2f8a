"""Closed forms of small gradients: the forward templates composed into one expression per
output element, then ``sympy.diff`` by each leaf element's symbol. No ``simplify``."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..graph import Leaf, Plan
from .exact import compile_plan
from .templates import args

MAX_ELEMENTS = 64  # differentiable elements for which closed forms are offered
MAX_TREE = 20_000  # nodes of an expression written out as a tree (printing and lambdify walk that)


def _leaf_exprs(plan: Plan, i: int, node: Leaf) -> list[sp.Expr]:
    flat = np.asarray(node.value).ravel()
    if node.requires_grad:
        indices = [",".join(map(str, idx)) for idx in np.ndindex(plan.shapes[i])] or [""]
        return [sp.Symbol(f"{node.name}[{k}]", real=True) for k in indices]
    return [sp.Integer(int(v)) if float(v).is_integer() else sp.Float(float(v), 17) for v in flat]


def _compose(program: Any, inputs: list[list[sp.Expr] | None]) -> list[sp.Expr]:
    buffers: list[Any] = list(inputs)
    for stage in program.stages:
        out: list[Any] = [None] * stage.size
        for group in stage.groups:
            s = args(group.gather.shape[1])
            for pos, row in zip(group.out_index.tolist(), group.gather.tolist()):
                values = {s[j]: buffers[src][k] for j, (src, k) in enumerate(zip(group.sources, row))}
                out[pos] = group.template.xreplace(values)
        buffers.append(out)
    return buffers[-1]


def closed_forms(plan: Plan, seed: np.ndarray) -> dict[int, list[sp.Expr]] | None:
    """d <output, seed> / d leaf element as SymPy expressions, or None when too large."""
    leaves = plan.grad_leaves()
    if sum(int(np.prod(plan.shapes[i], dtype=np.int64)) for i in leaves) > MAX_ELEMENTS:
        return None
    programs = compile_plan(plan)
    values: list[list[sp.Expr] | None] = []
    for i, node in enumerate(plan.graph.nodes):
        if isinstance(node, Leaf):
            values.append(_leaf_exprs(plan, i, node))
        else:
            program = programs[i]
            assert program is not None
            values.append(_compose(program, [None if s is None else values[s] for s in program.srcs]))
    out = values[plan.output] or []
    weights = np.asarray(seed, np.float64).ravel().tolist()
    objective = sp.Add(*[e if w == 1.0 else e * sp.Float(w, 17) for e, w in zip(out, weights)])
    if tree_size(objective, MAX_TREE) > MAX_TREE:
        return None  # shared subexpressions written out: x*x squared 30 times is 2^30 nodes
    try:
        forms = {i: [sp.diff(objective, v) for v in values[i] or []] for i in leaves}
    except RecursionError:  # a deep chain: SymPy's diff recurses once per level
        return None
    if sum(tree_size(e, MAX_TREE) for exprs in forms.values() for e in exprs) > MAX_TREE:
        return None
    return forms


def tree_size(expr: sp.Basic, limit: int) -> int:
    """How many nodes ``expr`` has written out as a tree, counted on its DAG (shared
    subexpressions once each, so the count itself stays cheap; no recursion, graphs are deep);
    stops counting above ``limit``."""
    sizes: dict[int, int] = {}
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if id(e) in sizes:
            continue
        if ready:
            sizes[id(e)] = min(limit + 1, 1 + sum(sizes[id(a)] for a in e.args))
        else:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if id(a) not in sizes)
    return sizes[id(expr)]


def rendered(plan: Plan, seed: np.ndarray) -> dict[str, tuple[list[str], list[str]]] | None:
    """Per leaf name: the closed forms as text and as LaTeX (None when too large)."""
    forms = closed_forms(plan, seed)
    if forms is None:
        return None
    return {plan.graph.nodes[i].name: ([sp.sstr(e) for e in exprs], [sp.latex(e) for e in exprs])
            for i, exprs in forms.items()}


MATHML = '<math xmlns="http://www.w3.org/1998/Math/MathML">{}</math>'


def rendered_with_mathml(plan: Plan, seed: np.ndarray) -> dict[str, tuple[list[str], list[str], list[str]]] | None:
    """Per leaf name: text, LaTeX and presentation MathML (SymPy's printer; no simplify)."""
    forms = closed_forms(plan, seed)
    if forms is None:
        return None
    return {plan.graph.nodes[i].name: ([sp.sstr(e) for e in exprs], [sp.latex(e) for e in exprs],
                                       [MATHML.format(sp.mathml(e, printer="presentation")) for e in exprs])
            for i, exprs in forms.items()}
