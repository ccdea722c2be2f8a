"""The exact tier's raw-mpmath functions against SymPy's own lambdify on mpf objects (the path
they replace): every catalogue template and partial, domain edges, working precision."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from crossgrad.engine.graph import validate
from crossgrad.engine.symbolic import exact, raw
from crossgrad.engine.symbolic.templates import args
from mpmath.libmp import fone, from_float, from_int, mpf_mul, mpf_sub, to_float

from .catalogue_inputs import all_cases
from .graphs import case_request

MAX_REFERENCE_ARGS = 6  # templates compared with SymPy's lambdify (the larger ones repeat the same functions)


def _objects(symbols, exprs, values):
    """SymPy's lambdify for mpmath on mpf objects at the same precision: nan for a complex
    value, all nan when mpmath raises."""
    fn = sp.lambdify(symbols, exprs, "mpmath")
    with mpmath.workdps(raw.DPS):
        try:
            out = fn(*[mpmath.mpf(v) for v in values])
        except (ZeroDivisionError, ValueError):
            return [float("nan")] * len(exprs)
    return [float("nan") if isinstance(v, mpmath.mpc) and v.imag != 0 else float(mpmath.re(v)) for v in out]


def _same(got, want):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-15, atol=0)


def _catalogue_templates():
    for name, index in all_cases():
        exact.compile_plan(validate(case_request(name, index).graph))
    return sorted(exact._TEMPLATES.values(), key=lambda c: str(c.template))


@pytest.mark.parametrize("scale", [0.7, 3.0])
def test_every_catalogue_template_and_partial_matches_lambdify_on_objects(scale):
    rng = np.random.default_rng(11)
    templates = _catalogue_templates()
    assert len(templates) > 20
    for compiled in templates:
        n = len(compiled.partials)
        if n > MAX_REFERENCE_ARGS:
            continue  # SymPy's own printer rewrites Max/Heaviside of many args exponentially slowly
        symbols = args(n)
        gradient = exact.gradient_for(compiled, (True,) * n)
        for _ in range(3):
            values = (rng.standard_normal(n) * scale).tolist()  # negatives reach log/sqrt/pow: nan
            raws = [from_float(v) for v in values]
            _same([to_float(compiled.forward(*raws))], _objects(symbols, [compiled.template], values))
            if gradient.fn is not None:
                _same([to_float(p) for p in _as_list(gradient.fn(*raws), n)],
                      _objects(symbols, list(compiled.partials), values))


def _as_list(result, n):
    return [raw.NAN] * n if result is raw.NAN else result


def test_a_complex_value_is_nan_alone_and_a_division_by_zero_is_nan_everywhere():
    s0, s1 = args(2)
    fn = raw.compile_raw((s0, s1), [sp.log(s0), sp.sqrt(s0), s1 * 2, s0 ** sp.Rational(3, 2), sp.tanh(s1)], many=True)
    got = [to_float(v) for v in fn(from_float(-2.0), from_float(0.5))]
    assert np.isnan(got[0]) and np.isnan(got[1]) and np.isnan(got[3])
    assert got[2] == 1.0 and got[4] == pytest.approx(np.tanh(0.5), rel=1e-15)
    assert raw.compile_raw((s0, s1), [1 / s0, s1], many=True)(from_float(0.0), from_float(1.0)) is raw.NAN


def test_constants_and_operations_keep_the_working_precision():
    """1/3 and the arithmetic on it carry ~40 digits (float64 would leave ~1e-17)."""
    s0, s1 = args(2)
    third = raw.compile_raw((s0, s1), [sp.Rational(1, 3) * s0 + s1 * sp.pi], many=False)
    value = third(from_float(1.0), from_float(0.0))
    error = mpf_sub(mpf_mul(value, from_int(3), raw.PREC, raw.RND), fone, raw.PREC, raw.RND)
    assert abs(to_float(error)) < 1e-38
    pi = raw.compile_raw((s0, s1), [sp.pi * s1 - s0], many=False)(from_float(0.0), from_float(1.0))
    with mpmath.workdps(60):
        assert abs(mpmath.mpf(pi) - mpmath.pi) < mpmath.mpf(10) ** -38
