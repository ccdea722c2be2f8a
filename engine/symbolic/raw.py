"""SymPy expressions compiled to Python functions on raw mpmath values.

A raw value is the ``(sign, mantissa, exponent, bitcount)`` tuple an ``mpmath.mpf`` wraps. The
exact tier spends most of its time in mpmath arithmetic; calling the ``libmp`` functions on
the tuples directly skips the mpf objects (their creation and operator dispatch), about a third
of the cost. Results are the same numbers: the same functions at the same precision and
rounding that mpf's operators use.

An expression becomes a tree of small Python functions, one per SymPy node (no source text is
generated). Arithmetic, powers, exp and log call libmp; any other function (tanh, Abs, Max,
Min, sign, Heaviside, Piecewise) is lambdified by SymPy for mpmath and called on wrapped values.
"""

from __future__ import annotations

import linecache
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import sympy as sp
from mpmath import libmp

from . import raw_extremes, raw_piecewise

DPS = 40
PREC = libmp.dps_to_prec(DPS)
RND = libmp.round_nearest
NAN = libmp.fnan  # what a value is where float64 would give nan: a domain error, a complex result
Raw = tuple


def add(a: Raw, b: Raw) -> Raw:
    return libmp.mpf_add(a, b, PREC, RND)


def mul(a: Raw, b: Raw) -> Raw:
    return libmp.mpf_mul(a, b, PREC, RND)


def to_floats(values: Sequence[Raw | None]) -> list[float]:
    """Rounded to float64 (None, an adjoint nothing reached, is 0)."""
    return [0.0 if v is None else _to_float(v) for v in values]


def _to_float(v: Raw) -> float:
    """libmp.to_float(v, rnd=RND), faster where the result is a normal float: int -> float rounds
    to nearest, ties to even, as RND does, and scaling by 2**exp is then exact. Zero, inf, nan
    (mantissa 0) and results near the subnormal range take libmp's path."""
    sign, man, exp, bc = v
    if not man or exp + bc < -1000:
        return libmp.to_float(v, rnd=RND)
    try:
        return math.ldexp(float(-man if sign else man), exp)
    except OverflowError:
        return libmp.to_float(v, rnd=RND)


def from_number(value: Any) -> Raw:
    """A value an mpmath function returned, as raw (a complex result with an imaginary part is nan)."""
    if hasattr(value, "_mpc_"):
        return value.real._mpf_ if value.imag == 0 else NAN
    if hasattr(value, "_mpf_"):
        return value._mpf_
    if isinstance(value, int):
        return libmp.from_int(value)
    return libmp.from_float(float(value))


# A context of our own at the working precision: lambdified functions run in it without
# entering workdps (~5 us) on every call, and nothing else's precision can leak in.
_CONTEXT = mpmath.MPContext()
_CONTEXT.dps = DPS
_MPMATH = {name: getattr(_CONTEXT, name) for name in dir(_CONTEXT) if not name.startswith("_")}
_MPMATH.update(raw_extremes.NAMESPACE)  # max/min propagate NaN, as torch's


def lambdify(symbols: Sequence[sp.Symbol], expr: sp.Expr) -> Callable[..., Any]:
    """SymPy's lambdify for mpmath, in our context (its source is not kept in linecache: a
    server compiles templates with ever new client constants)."""
    fn = sp.lambdify(symbols, expr, [_MPMATH, "mpmath"])
    linecache.cache.pop(fn.__code__.co_filename, None)
    return fn


def constant(expr: sp.Expr) -> Raw:
    """A SymPy number (Rational, pi, ...) evaluated at the working precision."""
    return from_number(lambdify((), expr)())


def _on_objects(fn: Callable[..., Any]) -> Callable[..., Raw]:
    """A lambdified mpmath function, called on raw values."""
    make = _CONTEXT.make_mpf

    def call(*values: Raw) -> Raw:
        return from_number(fn(*[make(v) for v in values]))

    return call


def _complex_is_nan(fn: Callable[..., Raw]) -> Callable[..., Raw]:
    """log, sqrt, pow: a complex result (mpmath would return an mpc) is nan for this value only."""
    def call(*args: Any) -> Raw:
        try:
            return fn(*args)
        except libmp.ComplexResult:
            return NAN

    return call


Env = list  # the placeholders' raw values, then each common subexpression's, in order
Node = Callable[[Env], Raw]

_BINARY = {"add": libmp.mpf_add, "mul": libmp.mpf_mul}
# exp(x) for |x| >= 2^40 is taken as inf (or 0): nested exps stop there. Below it mpmath's exp is
# cheap (its exponent a ~40-bit integer) and exact, so a log_softmax row masked with -1e9 or a
# logsumexp of 2e4 stays finite, as PyTorch's (which subtracts the row's max); 2^14 made them
# log(0) = -inf and blamed the numeric forward.
EXP_LIMIT_BITS = 40


def _bounded_exp(x: Raw, prec: int, rnd: str) -> Raw:
    """exp without the blow-up: past 2^40, exp of exp would build an integer of ~x bits (minutes,
    or OverflowError "too many digits") for a value that is inf or 0 in every float format."""
    sign, man, exp, bc = x
    if man and exp + bc > EXP_LIMIT_BITS:
        return libmp.fzero if sign else libmp.finf
    return libmp.mpf_exp(x, prec, rnd)


_UNARY = {"exp": _bounded_exp, "log": _complex_is_nan(libmp.mpf_log), "sqrt": _complex_is_nan(libmp.mpf_sqrt)}


def _node(e: sp.Expr, slots: dict[sp.Symbol, int]) -> Node:
    """A function computing ``e`` from the environment (no source text is generated)."""
    if e.is_Symbol:
        return operator.itemgetter(slots[e])  # env[k], without a Python frame
    if e.is_Number or e.is_NumberSymbol:
        value = constant(e)
        return lambda env: value
    if isinstance(e, sp.Add) and all(_product_of_two(t) for t in e.args):
        return _dot([(slots[t.args[0]], slots[t.args[1]]) for t in e.args])
    if isinstance(e, sp.Add):
        return _fold("add", [_node(a, slots) for a in e.args])
    if isinstance(e, sp.Mul) and e.args[0] == -1:
        rest = _fold("mul", [_node(a, slots) for a in e.args[1:]])
        return lambda env: libmp.mpf_neg(rest(env))
    if isinstance(e, sp.Mul):
        return _fold("mul", [_node(a, slots) for a in e.args])
    if isinstance(e, sp.Pow):
        return _power(_node(e.base, slots), e.exp, slots)
    if isinstance(e, sp.exp):
        return _unary("exp", _node(e.args[0], slots))
    if isinstance(e, sp.log) and len(e.args) == 1:
        return _unary("log", _node(e.args[0], slots))
    if isinstance(e, (sp.Max, sp.Min, sp.Heaviside)):  # NaN in, NaN out (torch's max)
        return raw_extremes.node(e, [_node(a, slots) for a in e.args[:1 if isinstance(e, sp.Heaviside) else None]],
                                 constant)
    if isinstance(e, sp.Piecewise):
        found = raw_piecewise.piecewise(e, lambda x: _node(x, slots))
        if found is not None:
            return found
    return _lambdified(e, slots)


def _fold(op: str, terms: list[Node]) -> Node:
    fn, first, rest = _BINARY[op], terms[0], terms[1:]

    def fold(env: Env) -> Raw:
        out = first(env)
        for term in rest:
            out = fn(out, term(env), PREC, RND)
        return out

    return fold


def _product_of_two(term: sp.Expr) -> bool:
    return isinstance(term, sp.Mul) and len(term.args) == 2 and all(a.is_Symbol for a in term.args)


def _dot(pairs: list[tuple[int, int]]) -> Node:
    """s_i * s_j + s_k * s_l + ...: a dot product (matmul, linear), the exact tier's commonest
    template, read straight from the environment."""
    (i0, j0), rest = pairs[0], pairs[1:]
    add, mul = libmp.mpf_add, libmp.mpf_mul

    def dot(env: Env) -> Raw:
        out = mul(env[i0], env[j0], PREC, RND)
        for i, j in rest:
            out = add(out, mul(env[i], env[j], PREC, RND), PREC, RND)
        return out

    return dot


def _unary(op: str, arg: Node) -> Node:
    fn = _UNARY[op]
    return lambda env: fn(arg(env), PREC, RND)


def _power(base: Node, exponent: sp.Expr, slots: dict[sp.Symbol, int]) -> Node:
    if exponent == -1:
        one = libmp.fone
        return lambda env: libmp.mpf_div(one, base(env), PREC, RND)
    if exponent == sp.Rational(1, 2):
        return _unary("sqrt", base)
    if exponent.is_Integer:
        n = int(exponent)
        return lambda env: libmp.mpf_pow_int(base(env), n, PREC, RND)
    power, pow_ = _node(exponent, slots), _complex_is_nan(libmp.mpf_pow)

    def run(env: Env) -> Raw:
        b, e = base(env), power(env)
        if b == libmp.fzero and libmp.mpf_lt(e, libmp.fzero):
            return libmp.finf  # 0 ** negative is +inf (IEEE pow, numpy, torch); mpmath raises
        return pow_(b, e, PREC, RND)

    return run


def _lambdified(e: sp.Expr, slots: dict[sp.Symbol, int]) -> Node:
    symbols = sorted(e.free_symbols, key=str)
    fn, at = _on_objects(lambdify(symbols, e)), [slots[s] for s in symbols]
    return lambda env: fn(*[env[k] for k in at])


def compile_raw(symbols: Sequence[sp.Symbol], exprs: Sequence[sp.Expr], many: bool,
                shared: bool = True) -> Callable[..., Any]:
    """A function of raw values for ``symbols`` returning the raw value of ``exprs[0]`` (``many``
    False) or the list of all of them, common subexpressions computed once (``shared``). A value
    that would be complex is nan; a division by zero makes the whole result :data:`NAN` (mpmath
    raises) — unless it came from a subexpression shared out of a Piecewise branch whose condition
    does not hold (x / |x| where |x| = 0 picks 0): such a call is redone without sharing."""
    temporaries, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols("t")) if shared else ([], list(exprs))
    branches = bool(temporaries) and any(e.has(sp.Piecewise) for e in exprs)
    unshared: list[Callable[..., Any]] = []
    slots = {s: k for k, s in enumerate(symbols)}
    steps = []
    for name, value in temporaries:
        steps.append(_node(value, slots))
        slots[name] = len(slots)
    outputs = [_node(e, slots) for e in reduced]
    only = outputs[0]

    def run(*values: Raw) -> Any:
        env = list(values)
        try:
            for step in steps:
                env.append(step(env))
            return [out(env) for out in outputs] if many else only(env)
        except (ZeroDivisionError, ValueError, OverflowError):  # OverflowError: a magnitude past any float
            if not branches:
                return NAN
            if not unshared:
                unshared.append(compile_raw(symbols, exprs, many, shared=False))
            return unshared[0](*values)

    return run
