"""Contractions for the tensor tier: an op's forward written in index notation with SymPy
``Indexed`` objects, its VJP obtained by ``sympy.diff`` with respect to an input element, and
both compiled to ``numpy.einsum``.

For an input X, the VJP is  gX[p, q] = sum over the output indices of G[out] * dE/dX[p, q];
``sympy.diff`` gives dE/dX[p, q] as sums of products of KroneckerDeltas and Indexed factors,
and :func:`compile_terms` eliminates the deltas and writes one einsum per term.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

GRAD = sp.IndexedBase("G")


@dataclass(frozen=True)
class Term:
    """coef * einsum(spec, *operands), broadcast to ``out_shape`` along ``expand`` dims."""

    coef: float
    spec: str
    operands: tuple[str, ...]  # IndexedBase names: input names or "G"
    expand: tuple[int, ...]  # output dims no operand carries (filled by broadcasting)


def _terms(expr: sp.Expr) -> list[tuple[sp.Expr, list, list, set]]:
    """Flatten into (coef, Indexed factors, KroneckerDelta pairs, summed index symbols) terms."""
    if isinstance(expr, sp.Add):
        return [t for arg in expr.args for t in _terms(arg)]
    if isinstance(expr, sp.Sum):
        limits = {lim[0] for lim in expr.limits}
        return [(c, f, d, s | limits) for c, f, d, s in _terms(expr.function)]
    if isinstance(expr, sp.Mul):
        out: list[tuple[sp.Expr, list, list, set]] = [(sp.Integer(1), [], [], set())]
        for arg in expr.args:
            out = [(c1 * c2, f1 + f2, d1 + d2, s1 | s2) for c1, f1, d1, s1 in out
                   for c2, f2, d2, s2 in _terms(arg)]
        return out
    if isinstance(expr, sp.KroneckerDelta):
        return [(sp.Integer(1), [], [tuple(expr.args)], set())]
    if isinstance(expr, sp.Indexed):
        return [(sp.Integer(1), [expr], [], set())]
    if expr.is_number:
        return [(expr, [], [], set())]
    raise NotImplementedError(f"cannot compile {expr!r} to an einsum")


def _eliminate(factors: list, deltas: list, summed: set) -> list:
    """Sum out each KroneckerDelta by renaming its summed index to the other one."""
    for a, b in deltas:
        if a in summed:
            old, new = a, b
        elif b in summed:
            old, new = b, a
        else:
            raise NotImplementedError("a delta between two free indices (a diagonal) is not supported")
        summed.discard(old)
        factors = [f.xreplace({old: new}) for f in factors]
        deltas = [(x.xreplace({old: new}), y.xreplace({old: new})) for x, y in deltas]
    return factors


def compile_terms(expr: sp.Expr, free: tuple[sp.Symbol, ...], extra_sums: tuple[sp.Symbol, ...] = ()
                  ) -> tuple[Term, ...]:
    """One einsum per term of ``expr`` (with ``extra_sums`` also summed), output in ``free`` order."""
    out: list[Term] = []
    for coef, factors, deltas, summed in _terms(sp.expand(expr)):
        summed = set(summed) | set(extra_sums)
        factors = _eliminate(factors, list(deltas), summed)
        carried = {i for f in factors for i in f.indices}
        if summed - carried - set(free):
            raise NotImplementedError("a summed index that no factor carries (a range factor)")
        symbols = sorted(carried | set(free), key=str)
        letter = {s: string.ascii_letters[k] for k, s in enumerate(symbols)}
        present = [s for s in free if s in carried]
        spec = ",".join("".join(letter[i] for i in f.indices) for f in factors)
        spec += "->" + "".join(letter[s] for s in present)
        expand = tuple(k for k, s in enumerate(free) if s not in carried)
        names = tuple(str(f.base) for f in factors)
        out.append(Term(float(coef), spec, names, expand))
    return tuple(out)


_PATHS: dict[tuple, list] = {}


def _as_matmul(spec: str, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """A two-operand 2-D contraction over one index, as a BLAS matmul with transposes."""
    inputs, out = spec.split("->")
    x, y = inputs.split(",")
    if len(x) != 2 or len(y) != 2 or len(out) != 2:
        return None
    shared = set(x) & set(y)
    if len(shared) != 1 or shared & set(out) or set(out) != set(x + y) - shared:
        return None
    (j,) = shared
    left = a if x[1] == j else a.T  # (free, j)
    right = b if y[0] == j else b.T  # (j, free)
    product = left @ right  # (free of a, free of b)
    return product if out[0] in x else product.T


def _as_tensordot(spec: str, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """A two-operand contraction without a batch index (no index in both operands and the
    output), no diagonal and no index summed inside one operand: np.tensordot (one copy of each
    operand into a matrix, one BLAS product — numpy 2.4's einsum took 1.3-3x longer on a conv's
    strided window view; on contiguous operands it was as fast or faster), its axes put in the
    output's order (a view)."""
    inputs, out = spec.split("->")
    x, y = inputs.split(",")
    shared = set(x) & set(y)
    if len(set(x)) != len(x) or len(set(y)) != len(y) or shared & set(out) or set(out) != set(x + y) - shared:
        return None
    order = sorted(shared)
    product = np.tensordot(a, b, axes=([x.index(i) for i in order], [y.index(i) for i in order]))
    free = [i for i in x if i not in shared] + [i for i in y if i not in shared]
    return product.transpose([free.index(i) for i in out])


def einsum(spec: str, *operands: np.ndarray) -> np.ndarray:
    """np.einsum with its contraction path computed once per spec and shapes (two operands: as
    a matmul or a tensordot where that is the same contraction)."""
    if len(operands) == 2:
        product = _as_matmul(spec, *operands)
        if product is None and not all(op.flags.c_contiguous for op in operands):  # a window view
            product = _as_tensordot(spec, *operands)
        if product is not None:
            return product
    key = (spec,) + tuple(op.shape for op in operands)
    path = _PATHS.get(key)
    if path is None:
        path = _PATHS[key] = np.einsum_path(spec, *operands, optimize="optimal")[0]
    return np.einsum(spec, *operands, optimize=path)


def evaluate(terms: tuple[Term, ...], arrays: dict[str, np.ndarray],
             out_shape: tuple[int, ...]) -> np.ndarray:
    """Sum of the terms' einsums, each broadcast to ``out_shape`` where an index is missing."""
    total: np.ndarray | None = None
    for term in terms:
        if term.operands:
            value = einsum(term.spec, *(arrays[n] for n in term.operands))
        else:
            value = np.asarray(1.0)
        if term.expand:
            value = np.expand_dims(value, term.expand)
        if term.coef != 1.0:
            value = value * term.coef
        total = value if total is None else total + value
    if total is None:
        return np.zeros(out_shape)
    return total if total.shape == out_shape else np.broadcast_to(total, out_shape)


def indices(prefix: str, n: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"{prefix}{k}", integer=True) for k in range(n))


@dataclass(frozen=True)
class Contraction:
    """Forward and per-input VJP einsums of one op signature (2-D/3-D canonical shapes)."""

    forward: tuple[Term, ...]
    vjps: dict[str, tuple[Term, ...]]


def derive(expr: sp.Expr, out_idx: tuple[sp.Symbol, ...], inputs: dict[str, int]) -> Contraction:
    """Differentiate the index expression ``expr`` (output element ``out_idx``) by each input."""
    forward = compile_terms(expr, out_idx)
    vjps = {}
    for name, rank in inputs.items():
        p = indices("p", rank)
        derivative = sp.diff(expr, sp.IndexedBase(name)[p])
        vjps[name] = compile_terms(GRAD[out_idx] * derivative, p, extra_sums=out_idx)
    return Contraction(forward, vjps)


def size(name: str) -> sp.Symbol:
    """A summation range's length as a symbol: the einsums do not depend on it, so one derivation
    serves every size (a transformer's linears of 128 and 512 inputs, LeNet's two convs)."""
    return sp.Symbol(name, integer=True, positive=True)


def matmul(batched: bool, n_j: int) -> Contraction:
    """C[(n,) i, k] = sum_j A[(n,) i, j] B[(n,) j, k], j < n_j (derived once for every n_j)."""
    return _matmul(batched)


@lru_cache(maxsize=4)
def _matmul(batched: bool) -> Contraction:
    n, i, j, k = sp.symbols("n i j k", integer=True)
    A, B = sp.IndexedBase("A"), sp.IndexedBase("B")
    lead = (n,) if batched else ()
    expr = sp.Sum(A[lead + (i, j)] * B[lead + (j, k)], (j, 0, size("J") - 1))
    return derive(expr, lead + (i, k), {"A": len(lead) + 2, "B": len(lead) + 2})


def linear(n_in: int, bias: bool) -> Contraction:
    """Y[m, o] = sum_j X[m, j] W[o, j] + b[o], j < n_in (derived once for every n_in)."""
    return _linear(bias)


@lru_cache(maxsize=4)
def _linear(bias: bool) -> Contraction:
    m, o, j = sp.symbols("m o j", integer=True)
    X, W, b = sp.IndexedBase("X"), sp.IndexedBase("W"), sp.IndexedBase("b")
    expr = sp.Sum(X[m, j] * W[o, j], (j, 0, size("J") - 1)) + (b[o] if bias else 0)
    return derive(expr, (m, o), {"X": 2, "W": 2, **({"b": 1} if bias else {})})


@lru_cache(maxsize=256)
def reduce_rows(n_r: int, mean: bool) -> Contraction:
    """S[m] = sum_r X[m, r] (divided by the count for a mean)."""
    m, r = sp.symbols("m r", integer=True)
    X = sp.IndexedBase("X")
    expr = sp.Sum(X[m, r], (r, 0, n_r - 1))
    return derive(expr / n_r if mean else expr, (m,), {"X": 2})
