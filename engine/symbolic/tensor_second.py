"""Tangents (forward mode) through the tensor tier's compiled kernels, for Hessian-vector products.

H v = d/dt grad(x + t v): every forward value and every adjoint of the tensor tier's gradient
program gets a tangent. An elementwise template f(s) fills its tangent by its SymPy first
partials, df = sum_k f_k(s) ds_k; its adjoint u f_j(s) sent to placeholder j has the tangent
du f_j(s) + u sum_k f_jk(s) ds_k, where the second partials f_jk come from ``sympy.diff`` of the
template's own first partials (compiled once per template, DiracDelta terms — relu'', abs'' —
are 0 almost everywhere). Linear templates (sums, means, gathers) have no second partials, and
contractions (matmul, linear, sum, conv: einsum terms, multilinear in their operands) take
tangents by the product rule, one operand at a time. Nothing here reads a numeric VJP rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from . import contractions as C
from . import tensor_linear as L
from .codegen import numpy_function
from .memo import Memo
from .templates import args, partials

MAX_SECOND_PAIRS = 1024  # (first partial, placeholder it holds) pairs SymPy differentiates per template

Flat = np.ndarray | None  # a flat tangent; None is an exact zero (a constant, or nothing reached it)


class NotTwice(Exception):
    """A template or step the tensor tier does not differentiate twice (the report says why)."""


@dataclass(frozen=True)
class SecondKernel:
    """(placeholders..., tangents...) -> [sum_k f_jk ds_k for each placeholder j]; None: all 0."""

    fn: Callable[..., Any] | None


@cache
def tangent_args(n: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"t{i}", real=True) for i in range(n))


def _almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """relu'' and abs'' (DiracDelta) are 0 off their kink; the order-2 kink test decides on it."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


_SECOND = Memo(2048)  # second-derivative kernels kept per process (they embed client constants)


def second_kernel(template: sp.Expr, n_args: int, compiled: Any) -> SecondKernel:
    """The template's Hessian times a tangent, by ``sympy.diff`` of its first partials."""
    if isinstance(compiled, L.LinearTemplate) or n_args == 0 or getattr(compiled, "value_only", False):
        return SecondKernel(None)
    return _SECOND.get((template, n_args), lambda: _derive(template, n_args, getattr(compiled, "partials", ()) or None))


def _derive(template: sp.Expr, n_args: int, firsts: tuple[sp.Expr, ...] | None = None) -> SecondKernel:
    """Row j: sum over the placeholders k that f_j holds of diff(f_j, s_k) t_k. A piecewise-
    constant f_j (Max, Min, relu, abs: Heavisides and signs of placeholders) has none a.e."""
    s, t = args(n_args), tangent_args(n_args)
    found = list(firsts or partials(template, s))
    held = [[] if _piecewise_constant(f, s) else [k for k, v in enumerate(s) if v in f.free_symbols]
            for f in found]
    if sum(map(len, held)) > MAX_SECOND_PAIRS:
        raise NotTwice(f"a non-linear template of {n_args} placeholders (its second partials "
                       f"pass {MAX_SECOND_PAIRS} pairs)")
    rows = []
    for first, ks in zip(found, held):
        second = partials(first, [s[k] for k in ks]) if ks else []
        rows.append(sp.Add(*[_almost_everywhere(d) * t[k] for d, k in zip(second, ks)]))
    if any(r.has(sp.Derivative, sp.Subs) for r in rows):
        raise NotTwice(f"SymPy leaves an unevaluated second derivative of {template}")
    if all(r == 0 for r in rows):
        return SecondKernel(None)
    return SecondKernel(numpy_function(s + t, rows, cse=True))


def _piecewise_constant(expr: sp.Expr, s: tuple[sp.Symbol, ...]) -> bool:
    """No placeholder outside a Heaviside or sign: its derivative is DiracDeltas, 0 a.e."""
    steps = expr.atoms(sp.Heaviside, sp.sign)
    return bool(steps) and not (expr.xreplace(dict.fromkeys(steps, sp.Integer(1))).free_symbols & set(s))


def column(buffer: Flat, index: np.ndarray, identity: bool) -> Flat:
    if buffer is None:
        return None
    return buffer if identity and len(buffer) == len(index) else buffer[index]


def add(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else a + b


# ---- templates ----------------------------------------------------------------------------


def template_partials(step: Any, tape: Any) -> list[list[Any]]:
    """Per stage and group: the SymPy first partials at the forward values (None: one-source linear)."""
    _, columns = tape
    out = []
    for stage_cols, compiled, groups in zip(columns, step.compiled, (st.groups for st in step.stages)):
        out.append([None if L.one_source(g, vt) else (vt.gradient(*cols) if cols else [])
                    for g, vt, cols in zip(groups, compiled, stage_cols)])
    return out


def template_tangent(step: Any, parts: list, tangents: list[Flat]) -> list[Flat]:
    """Tangent buffers of every stage from the inputs' flat tangents: df = sum_k f_k ds_k."""
    tb: list[Flat] = list(tangents)
    for stage, compiled, same_flags, stage_parts in zip(step.stages, step.compiled, step.identity, parts):
        out: Flat = None
        if not stage.detached:
            for group, vt, same, p in zip(stage.groups, compiled, same_flags, stage_parts):
                total = _group_tangent(group, vt, same, p, tb)
                if total is not None:
                    out = np.zeros(stage.size) if out is None else out
                    out[group.out_index] = total
        tb.append(out)
    return tb


def _group_tangent(group: Any, vt: Any, same: Any, p: Any, tb: list[Flat]) -> Any:
    if p is None:  # one-source linear: weights @ gathered tangent
        src = tb[group.sources[0]]
        return None if src is None else src[group.gather] @ vt.weights
    total = None
    for j, src in enumerate(group.sources):
        col = column(tb[src], group.gather[:, j], bool(same and same[j]))
        if col is not None:
            total = add(total, p[j] * col)
    return total


def template_backward_tangent(step: Any, tape: Any, parts: list, seconds: list, adj: list,
                              tb: list[Flat], tadjoint: Flat, wants: list[bool]) -> list[Flat]:
    """Input adjoints' tangents. ``adj``: the primal adjoint of every buffer (inputs, stages)."""
    buffers, columns = tape
    n_in = len(buffers) - len(step.stages)
    tadj: list[Flat] = [None] * len(buffers)
    tadj[-1] = tadjoint
    for s in range(len(step.stages) - 1, -1, -1):
        if step.stages[s].detached or adj[n_in + s] is None:
            continue
        groups = zip(step.stages[s].groups, step.compiled[s], columns[s], step.identity[s], parts[s], seconds[s])
        for group, vt, cols, same, p, second in groups:
            up = column(adj[n_in + s], group.out_index, bool(same))
            tup = column(tadj[n_in + s], group.out_index, bool(same))
            if p is None:
                src = group.sources[0]
                if tup is not None and (src >= n_in or wants[src]):
                    tadj[src] = add(tadj[src], L.backward(group, vt, tup, len(buffers[src])))
                continue
            weights = _tangent_weights(group, same, cols, p, second, up, tup, tb)
            for src, contribution in _scatter(group, weights, same, buffers, n_in, wants):
                tadj[src] = add(tadj[src], contribution)
    return tadj[:n_in]


def _tangent_weights(group: Any, same: Any, cols: list, p: list, second: SecondKernel, up: Any,
                     tup: Flat, tb: list[Flat]) -> list[Any]:
    """Per placeholder j: d(u f_j) = du f_j + u sum_k f_jk ds_k (None where both are 0)."""
    tcols = [column(tb[src], group.gather[:, j], bool(same and same[j])) for j, src in enumerate(group.sources)]
    h = None
    if second.fn is not None and any(c is not None for c in tcols):
        h = second.fn(*cols, *[0.0 if c is None else c for c in tcols])
    weights = []
    for j in range(len(group.sources)):
        w = None if tup is None else tup * p[j]
        weights.append(w if h is None else add(w, up * h[j]))
    return weights


def _scatter(group: Any, weights: list, same: Any, buffers: list, n_in: int,
             wants: list[bool]) -> list[tuple[int, np.ndarray]]:
    """Each source's tangent contribution: identity columns as they are, others by one bincount."""
    out: list[tuple[int, np.ndarray]] = []
    scatter: dict[int, list[int]] = {}
    n = len(group.out_index)
    for j, src in enumerate(group.sources):
        if weights[j] is None or (src < n_in and not wants[src]):
            continue
        if same and same[j] and n == len(buffers[src]):
            out.append((src, np.broadcast_to(weights[j], (n,))))
        else:
            scatter.setdefault(src, []).append(j)
    for src, cols in scatter.items():
        stacked = np.stack([np.broadcast_to(weights[j], (n,)) for j in cols])
        where = group.gather[:, cols].T
        out.append((src, np.bincount(where.reshape(-1), stacked.reshape(-1), minlength=len(buffers[src]))))
    return out


# ---- contractions (matmul, linear, sum, mean, conv): the product rule ----------------------


def product_rule(terms: tuple[C.Term, ...], arrays: dict[str, np.ndarray], tangents: dict[str, np.ndarray],
                 out_shape: tuple[int, ...]) -> np.ndarray | None:
    """The tangent of sum_terms coef * einsum(operands): each operand swapped for its tangent in turn."""
    total: np.ndarray | None = None
    for term in terms:
        for p, name in enumerate(term.operands):
            if name not in tangents:
                continue
            operands = [arrays[n] for n in term.operands]
            operands[p] = tangents[name]
            value = C.einsum(term.spec, *operands)
            if term.expand:
                value = np.expand_dims(value, term.expand)
            if term.coef != 1.0:
                value = value * term.coef
            total = value if total is None else total + value
    if total is None:
        return None
    return total if total.shape == out_shape else np.broadcast_to(total, out_shape)


def present(inputs: list[np.ndarray | None], tangents: list[np.ndarray | None]) -> list[np.ndarray]:
    """The present inputs' tangents, zeros standing in for a constant's (dropped by name later)."""
    return [np.zeros(x.shape) if t is None else t.reshape(x.shape)
            for x, t in zip(inputs, tangents) if x is not None]
