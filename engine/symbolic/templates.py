"""Element templates: how one op's output elements are SymPy expressions of input elements.

A lowering is a list of :class:`Stage` s; each stage fills a flat buffer by :class:`Group` s.
A group is one SymPy ``template`` in the placeholder symbols ``ARGS[0..k-1]``, plus for every
output element it fills, which element of which buffer each placeholder stands for
(``gather``). Buffers ``0..n_inputs-1`` are the op's inputs, ``n_inputs + s`` is stage ``s``.
Many elements share a template, so SymPy differentiates each template once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp


@cache
def args(n: int) -> tuple[sp.Symbol, ...]:
    """Placeholder symbols s0..s{n-1}, real (so Abs' is sign and Max' is Heaviside)."""
    return tuple(sp.Symbol(f"s{i}", real=True) for i in range(n))


def exact_number(value: float) -> sp.Expr:
    """An attribute as an exact number (the double's exact binary value)."""
    return sp.Integer(int(value)) if float(value).is_integer() else sp.Rational(value)


def partials(template: sp.Expr, symbols: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """sympy.diff of ``template`` by each symbol. A sum (or a constant times a sum) is
    differentiated term by term, touching only the terms that hold the symbol: O(K) instead of
    O(K^2) for a K-term dot product, same result."""
    if any(p.exp.free_symbols for p in template.atoms(sp.Pow)):  # a**b: diff writes a**b*b/a, 0/0 at a = 0
        return [on_lines(template, v, sp.powsimp(sp.diff(template, v))) for v in symbols]  # b*a**(b - 1)
    scale, body = sp.Integer(1), template
    if isinstance(template, sp.Mul):
        sums = [f for f in template.args if isinstance(f, sp.Add)]
        if len(sums) == 1 and all(not f.free_symbols for f in template.args if f is not sums[0]):
            body = sums[0]
            scale = sp.Mul(*[f for f in template.args if f is not body])
    if not isinstance(body, sp.Add):
        return [sp.diff(template, v) for v in symbols]
    holding: dict[sp.Symbol, list[sp.Expr]] = {}
    for term in body.args:
        for s in term.free_symbols:
            holding.setdefault(s, []).append(term)
    return [scale * sp.Add(*[sp.Integer(1) if t == v else sp.diff(t, v) for t in holding.get(v, [])])
            for v in symbols]  # d s / d s = 1 without a Derivative object: a K-term sum's K partials


def on_lines(template: sp.Expr, v: sp.Symbol, partial: sp.Expr) -> sp.Expr:
    """``partial`` (d template / d v) with its values where a placeholder power a**b meets a line the
    general formula cannot evaluate, each the derivative of ``template`` restricted to that line
    (sympy.diff again): at b == 0, a**0 = 1, so d/da is 0 there (0 * 0**-1 otherwise); at a == 0,
    b > 0, 0**b = 0, so d/db is 0 there (0**b * log(0) = 0 * -inf otherwise; torch's
    pow_backward_exponent takes b >= 0). Other templates are left alone."""
    for power in template.atoms(sp.Pow):
        a, b = power.base, power.exp
        if not (a.is_Symbol and b.is_Symbol and a != b):
            continue
        if v == a:
            partial = sp.Piecewise((sp.diff(template.subs(b, 0), a), sp.Eq(b, 0)), (partial, True))
        elif v == b:
            positive = sp.Dummy("b", positive=True)
            line = sp.diff(template.subs(a, 0).subs(b, positive), positive).subs(positive, b)
            partial = sp.Piecewise((line, sp.Eq(a, 0) & (b >= 0)), (partial, True))
    return partial


@dataclass(frozen=True)
class Group:
    template: sp.Expr
    sources: tuple[int, ...]  # per placeholder: which buffer it reads
    out_index: np.ndarray  # (n,) flat positions in the stage's output this group fills
    gather: np.ndarray  # (n, k) flat element index into each placeholder's buffer


@dataclass(frozen=True)
class Stage:
    size: int
    groups: tuple[Group, ...]
    detached: bool = False  # a stop-gradient read: its value is used, no adjoint passes through it


def grid(shape: Sequence[int]) -> np.ndarray:
    """Flat element indices laid out in ``shape``."""
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(tuple(shape))


def elementwise(fn: Callable[..., sp.Expr], shapes: Sequence[tuple[int, ...]],
                sources: Sequence[int], out_shape: tuple[int, ...]) -> Stage:
    """out[e] = fn(in_0[e'], in_1[e''], ...) with numpy broadcasting of the inputs."""
    cols = [np.broadcast_to(grid(s), out_shape).reshape(-1) for s in shapes]
    size = int(np.prod(out_shape, dtype=np.int64))
    gather = np.stack(cols, axis=1) if cols else np.zeros((size, 0), np.int64)
    template = fn(*args(len(shapes)))
    return Stage(size, (Group(template, tuple(sources), np.arange(size), gather),))


def rows_last(shape: Sequence[int], dims: Sequence[int]) -> np.ndarray:
    """Index grid with ``dims`` moved last and flattened: (kept elements, reduced elements)."""
    g = grid(shape)
    kept = [d for d in range(len(shape)) if d not in dims]
    g = np.transpose(g, kept + list(dims))
    reduced = int(np.prod([shape[d] for d in dims], dtype=np.int64))
    return g.reshape(int(np.prod([shape[d] for d in kept], dtype=np.int64)), reduced)  # -1 fails on 0 elements


def reduce_rows(rows: np.ndarray, source: int, combine: Callable[[Sequence[sp.Expr]], sp.Expr]) -> Stage:
    """out[m] = combine(row m of the source buffer)."""
    template = combine(args(rows.shape[1]))
    group = Group(template, (source,) * rows.shape[1], np.arange(rows.shape[0]), rows)
    return Stage(rows.shape[0], (group,))


def gather_only(index_grid: np.ndarray, source: int) -> Stage:
    """out[e] = in[index_grid[e]]: reshape, transpose, select, slice, detach."""
    flat = index_grid.reshape(-1, 1)
    return Stage(len(flat), (Group(args(1)[0], (source,), np.arange(len(flat)), flat),))


def rotated_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row and position i, the row rotated so that element i comes first.

    Returns (gather (rows*K, K), flat output positions) for softmax-style templates whose
    first placeholder is "this element" and the rest are its row.
    """
    k = rows.shape[1]
    shifts = (np.arange(k)[:, None] + np.arange(k)[None, :]) % k  # (K positions, K)
    gather = rows[:, shifts].reshape(-1, k)
    return gather, rows.reshape(-1)
