"""Parity sweep of ``crossgrad.torch.gradcheck``/``gradgradcheck`` against ``torch.autograd``'s: called
exactly as users call torch's, each case runs through both and the answers (True, False, the
error's type) must match; where both fail, crossgrad's message must name the input and the element
and carry torch's own claimed value and the true derivative (from ``torch.autograd.functional``)."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest

torch = pytest.importorskip("torch")
import crossgrad.torch as ct  # noqa: E402
from torch.autograd.function import once_differentiable  # noqa: E402
from torch.autograd.gradcheck import GradcheckError as TorchError  # noqa: E402

D = torch.float64


def _t(*values: Any, grad: bool = True) -> torch.Tensor:
    return torch.tensor(values, dtype=D, requires_grad=grad)


X = _t(0.5, -1.25, 2.0)
W = _t([0.3, -0.7, 1.1], [0.9, 0.2, -0.4])


def outcome(check: Any, func: Any, inputs: Any, **kw: Any) -> Any:
    """True / False, or the type of what was raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return check(func, inputs, **kw)
        except Exception as err:  # noqa: BLE001 - the type is the answer
            return type(err)


def both(func: Any, inputs: Any, **kw: Any) -> tuple[Any, Any]:
    return outcome(torch.autograd.gradcheck, func, inputs, **kw), outcome(ct.gradcheck, func, inputs, **kw)


def worst(func: Any, inputs: Any, **kw: Any) -> tuple[str, list[int], float, float]:
    """crossgrad's error: the input named, the worst element, expected and claimed there."""
    with pytest.raises(ct.GradcheckError) as caught:
        ct.gradcheck(func, inputs, **kw)
    err = caught.value
    assert isinstance(err, RuntimeError) and isinstance(err, TorchError)
    found = re.search(r"input '(\w+)'.*?worst at \[([\d, ]*)\] .*?: expected (\S+) \(\w+\), claimed (\S+) ",
                      str(err))
    assert found, str(err)
    index = [int(i) for i in found[2].split(",") if i.strip()]
    return found[1], index, float(found[3]), float(found[4])


class Square(torch.autograd.Function):
    """x^2 with a planted bug: the factor 2 dropped."""

    @staticmethod
    def forward(ctx: Any, a: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        (a,) = ctx.saved_tensors
        return g * a


@pytest.mark.parametrize("form", ["tensor", "tuple", "list"])
def test_single_tensor_tuple_and_list_inputs(form: str) -> None:
    wrap = {"tensor": lambda x: x, "tuple": lambda x: (x,), "list": lambda x: [x]}[form]
    assert both(torch.sin, wrap(X)) == (True, True)
    assert both(Square.apply, wrap(X)) == (TorchError, ct.GradcheckError)
    name, index, expected, claimed = worst(Square.apply, wrap(X))
    assert (name, index) == ("a", [2])  # |2x - x| is largest at x = 2.0
    assert expected == pytest.approx(2 * 2.0, rel=1e-9) and claimed == 2.0


def test_non_tensor_and_non_requires_grad_entries() -> None:
    def f(a: torch.Tensor, k: float, b: torch.Tensor, mode: str, nothing: None, n: int) -> torch.Tensor:
        assert mode == "scaled" and nothing is None
        return (a * k + b).pow(n)

    inputs = (X, 1.5, _t(1.0, 2.0, 3.0, grad=False), "scaled", None, 3)
    assert both(f, inputs) == (True, True)

    def wrong(a: torch.Tensor, k: float, b: torch.Tensor, mode: str, nothing: None, n: int) -> torch.Tensor:
        return Square.apply(a * k + b) * n

    assert both(wrong, inputs) == (TorchError, ct.GradcheckError)
    name, index, expected, claimed = worst(wrong, inputs)
    true = torch.autograd.functional.jacobian(lambda a: (a * 1.5 + inputs[2]) ** 2 * 3, X.detach())
    assert name == "a" and expected == pytest.approx(true[index[0], index[0]].item(), rel=1e-9)
    frozen = (X.detach(), 1.5, inputs[2], "scaled", None, 3)
    assert both(f, frozen) == (ValueError, ValueError)  # nothing requires grad: torch's ValueError


TORCH_KEYWORDS = [{"eps": 1e-7}, {"nondet_tol": 1e-12}, {"check_undefined_grad": False}, {"check_grad_dtypes": True},
                  {"check_batched_grad": True}, {"check_backward_ad": True}, {"fast_mode": True}, {"masked": None},
                  {"check_forward_ad": True}, {"check_forward_ad": True, "check_batched_forward_grad": True}]


@pytest.mark.parametrize("keywords", TORCH_KEYWORDS, ids=lambda k: "+".join(k))
def test_every_torch_keyword_is_accepted_with_a_note(keywords: dict) -> None:
    assert outcome(torch.autograd.gradcheck, torch.tanh, (X,), **keywords) is True
    with pytest.warns(UserWarning, match=f"ignores .*{next(iter(keywords))}"):
        assert ct.gradcheck(torch.tanh, (X,), **keywords) is True
    with pytest.warns(UserWarning, match="ignores"):  # still judged: a wrong gradient fails
        assert ct.gradcheck(Square.apply, (X,), raise_exception=False, **keywords) is False


def test_atol_rtol_raise_exception_and_gradgradcheck_keywords_are_honoured_without_a_note() -> None:
    class Close(torch.autograd.Function):  # d/da sin(a), claimed 0.2% too large
        @staticmethod
        def forward(ctx: Any, a: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(a)
            return a.sin()

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            return g * ctx.saved_tensors[0].cos() * 1.002

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no note for keywords crossgrad uses
        assert both(Close.apply, (X,), raise_exception=False) == (False, False)
        assert both(Close.apply, (X,), rtol=1e-2, atol=1e-5) == (True, True)
        assert ct.gradgradcheck(torch.sin, (X,), grad_outputs=_t(1.0, 2.0, 3.0, grad=False), atol=1e-5, rtol=1e-3)
    with pytest.warns(UserWarning, match="gen_non_contig_grad_outputs"):
        assert ct.gradgradcheck(torch.sin, (X,), gen_non_contig_grad_outputs=True, eps=1e-6, nondet_tol=0.0,
                                check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                                check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False)
    with pytest.raises(TypeError, match="unexpected keyword argument 'epsilon'"):
        ct.gradcheck(torch.sin, (X,), epsilon=1e-6)


def test_the_error_names_the_input_and_the_element_with_torchs_values() -> None:
    class OneOff(torch.autograd.Function):  # x @ w; the weight gradient's element [1, 2] is off
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(x, w)
            return x @ w

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x, w = ctx.saved_tensors
            gw = x.t() @ g
            gw[1, 2] += 0.5
            return g @ w.t(), gw

    x = _t([1.0, -2.0], [0.5, 3.0])
    assert both(OneOff.apply, (x, W)) == (TorchError, ct.GradcheckError)
    name, index, expected, claimed = worst(OneOff.apply, (x, W))
    assert (name, index) == ("w", [1, 2])
    row = re.search(r"along output element \[(\d+), (\d+)\]", str(_error(OneOff.apply, (x, W))))
    assert row is not None
    jacobian = torch.autograd.functional.jacobian(lambda w: x.detach() @ w, W.detach())  # [out i, j, w k, l]
    true = jacobian[int(row[1]), int(row[2]), 1, 2].item()
    assert expected == pytest.approx(true, abs=1e-12) and claimed == pytest.approx(true + 0.5, rel=1e-12)
    assert outcome(ct.gradcheck, OneOff.apply, (x, W), raise_exception=False) is False


def _error(func: Any, inputs: Any) -> Exception:
    with pytest.raises(ct.GradcheckError) as caught:
        ct.gradcheck(func, inputs)
    return caught.value


OUTPUTS = {
    "int output beside": lambda a, b: (a * b, a.argmax()),
    "list of outputs": lambda a, b: [a.sin(), (a * b).sum()],
    "output independent of b": lambda a, b: (a.exp(), torch.ones(2, dtype=D)),
    "b unused": lambda a, b: a.exp(),
    "constant only": lambda a, b: torch.zeros(3, dtype=D),
    "integer only": lambda a, b: (a + b).argsort(),
    "0-d output": lambda a, b: (a * b).sum(),
    "detached beside": lambda a, b: (a.sin(), b.detach() * 2),
}


@pytest.mark.parametrize("name", OUTPUTS)
def test_outputs_torch_accepts(name: str) -> None:
    assert both(OUTPUTS[name], (X, _t(1.0, -2.0, 0.5))) == (True, True)


def test_an_output_that_moves_but_requires_no_grad_fails_as_in_torch() -> None:
    def no_grad_body(a: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return a.sin()

    for fn in (no_grad_body, lambda a: a.detach() * 2):
        assert both(fn, (X,)) == (TorchError, ct.GradcheckError)
        with pytest.raises(ct.GradcheckError, match="input 'a'.*numerical gradient is not zero"):
            ct.gradcheck(fn, (X,))
        assert both(fn, (X,), raise_exception=False) == (False, False)
    assert both(lambda a: (a * 0).detach(), (X,)) == (True, True)  # does not move: zero is right


def test_bool_outputs_crossgrad_skips_where_torch_crashes() -> None:
    f = lambda a: (a > 0, a * 3)  # noqa: E731
    assert both(f, (X,)) == (RuntimeError, True)  # torch subtracts bool tensors; its gradient of a*3 is right


def test_one_tensor_at_two_positions_is_one_input() -> None:
    class Product(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            a, b = ctx.saved_tensors
            return g * b, g * b  # planted: b's should be g * a (invisible when a is b)

    y = _t(2.0, 0.5, -1.0)
    assert both(lambda a, b: a * b.exp(), (X, X)) == (True, True)
    assert both(lambda a, b: a * b.exp(), (X, y)) == (True, True)  # same shapes, other pattern: recaptured
    assert both(Product.apply, (X, X)) == (True, True)
    assert both(Product.apply, (X, y)) == (TorchError, ct.GradcheckError)
    assert worst(Product.apply, (X, y))[0] == "b"
    assert ct.gradgradcheck(lambda a, k, b: a * b.exp() * k, (X, 2.0, X))


def test_non_leaf_inputs() -> None:
    base = _t([0.5, -1.0, 2.0], [1.5, 0.25, -0.75])
    for inputs in ((base[0],), (base * 2,), (base.t()[1:],)):
        assert both(torch.tanh, inputs) == (True, True)


class Scaled(torch.autograd.Function):
    """a * b * k with ctx.needs_input_grad; ``planted`` swaps in a wrong b gradient."""

    planted = False

    @staticmethod
    def forward(ctx: Any, a: torch.Tensor, b: torch.Tensor, k: float) -> torch.Tensor:
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a * b * k

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, Any, None]:
        a, b = ctx.saved_tensors
        ga = g * b * ctx.k if ctx.needs_input_grad[0] else None
        gb = (g * a * (ctx.k + Scaled.planted)) if ctx.needs_input_grad[1] else None
        return ga, gb, None


class SortValues(torch.autograd.Function):
    """sort with the indices marked non-differentiable; ``shift`` plants a misrouted gradient."""

    shift = 0

    @staticmethod
    def forward(ctx: Any, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        values, indices = a.sort()
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor, _: Any) -> torch.Tensor:
        (indices,) = ctx.saved_tensors
        return torch.zeros_like(g).scatter(0, indices.roll(SortValues.shift), g)


class SinCos(torch.autograd.Function):
    """Two outputs; ``drop`` plants a backward that ignores the second output's gradient."""

    drop = False

    @staticmethod
    def forward(ctx: Any, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.save_for_backward(a)
        return a.sin(), a.cos()

    @staticmethod
    def backward(ctx: Any, g1: torch.Tensor, g2: torch.Tensor) -> torch.Tensor:
        (a,) = ctx.saved_tensors
        return g1 * a.cos() - (0 if SinCos.drop else g2 * a.sin())


class ExpOnce(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, a: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(a)
        return a.exp()

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        return g * ctx.saved_tensors[0].exp()


class NoneForB(torch.autograd.Function):
    """a * 2 + b * c: the backward returns None for b (right only when c == 0)."""

    @staticmethod
    def forward(ctx: Any, a: torch.Tensor, b: torch.Tensor, c: float) -> torch.Tensor:
        return a * 2 + b * c

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return g * 2, None, None


@pytest.fixture
def planted() -> Any:
    yield
    Scaled.planted, SortValues.shift, SinCos.drop = False, 0, False


B = _t(1.5, 0.5, -2.0)


def test_custom_function_needs_input_grad_and_save_for_backward(planted: Any) -> None:
    assert both(Scaled.apply, (X, B, 2.0)) == (True, True)
    assert both(Scaled.apply, (X, B.detach(), 2.0)) == (True, True)  # b's branch not taken
    Scaled.planted = True
    assert both(Scaled.apply, (X, B.detach(), 2.0)) == (True, True)
    assert both(Scaled.apply, (X, B, 2.0)) == (TorchError, ct.GradcheckError)
    name, index, expected, claimed = worst(Scaled.apply, (X, B, 2.0))
    assert (name, index) == ("b", [2]) and expected == 2 * 2.0 and claimed == 2 * 3.0  # d/db = a k at a = 2


def test_custom_function_mark_non_differentiable_and_multiple_outputs(planted: Any) -> None:
    a = _t(0.3, -1.2, 2.5, 0.9)
    assert both(SortValues.apply, (a,)) == (True, True)
    assert both(SinCos.apply, (a,)) == (True, True)
    SortValues.shift, SinCos.drop = 1, True
    assert both(SortValues.apply, (a,)) == (TorchError, ct.GradcheckError)
    assert both(SinCos.apply, (a,)) == (TorchError, ct.GradcheckError)
    name, index, expected, claimed = worst(SinCos.apply, (a,))
    assert name == "a" and expected == pytest.approx(-torch.sin(a[index[0]]).item(), rel=1e-9) and claimed == 0.0


def test_custom_function_once_differentiable() -> None:
    a = _t(0.3, -1.2, 2.5)
    assert both(ExpOnce.apply, (a,)) == (True, True)
    torch_gg = outcome(torch.autograd.gradgradcheck, ExpOnce.apply, (a,))
    assert torch_gg is TorchError and outcome(ct.gradgradcheck, ExpOnce.apply, (a,)) is ct.GradcheckError
    assert outcome(ct.gradgradcheck, ExpOnce.apply, (a,), raise_exception=False) is False


def test_custom_function_returning_none_gradients() -> None:
    assert both(NoneForB.apply, (X, B, 0.0)) == (True, True)  # b does not matter: None (zero) is right
    assert both(NoneForB.apply, (X, B, 3.0)) == (TorchError, ct.GradcheckError)
    name, index, expected, claimed = worst(NoneForB.apply, (X, B, 3.0))
    assert name == "b" and expected == pytest.approx(3.0, rel=1e-9) and claimed == 0.0


def test_gradgradcheck_call_shapes() -> None:
    cube = lambda a, b: (a ** 3 * b, (a * b).sum())  # noqa: E731
    given = (_t(1.0, 2.0, 3.0, grad=False), torch.tensor(2.0, dtype=D))
    for kw in ({}, {"grad_outputs": given}, {"grad_outputs": list(given)}):
        assert outcome(torch.autograd.gradgradcheck, cube, (X, B), **kw) is True
        assert outcome(ct.gradgradcheck, cube, (X, B), **kw) is True
    assert outcome(ct.gradgradcheck, torch.sin, X, grad_outputs=given[0]) is True  # one tensor, not a tuple

    class CubeFirstOrderOnly(torch.autograd.Function):  # backward right, its own derivative wrong
        @staticmethod
        def forward(ctx: Any, a: torch.Tensor) -> torch.Tensor:
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
            (a,) = ctx.saved_tensors
            return g * 3 * a.detach() ** 2

    assert outcome(torch.autograd.gradcheck, CubeFirstOrderOnly.apply, (X,)) is True
    assert outcome(ct.gradcheck, CubeFirstOrderOnly.apply, (X,)) is True
    assert outcome(torch.autograd.gradgradcheck, CubeFirstOrderOnly.apply, (X,)) is TorchError
    assert outcome(ct.gradgradcheck, CubeFirstOrderOnly.apply, (X,)) is ct.GradcheckError
    with pytest.raises(ct.GradcheckError, match="input 'a'"):
        ct.gradgradcheck(CubeFirstOrderOnly.apply, (X,))


def test_gradgradcheck_inputs_and_outputs_as_torch() -> None:
    lin = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh()).double()
    cases = [(lambda a: (a ** 3, a.argmax()), (X,)), (lambda a, k, b: a ** 3 * k * b, (X, 2.0, B.detach())),
             (lin, (_t([0.5, -1.0, 2.0], [1.0, 0.0, -0.5]),)), (torch.tanh, X)]
    for func, inputs in cases:
        assert outcome(torch.autograd.gradgradcheck, func, inputs) is True
        assert outcome(ct.gradgradcheck, func, inputs) is True
    only_indices = lambda a: a.argmax()  # noqa: E731
    assert outcome(torch.autograd.gradgradcheck, only_indices, (X,)) is TypeError  # torch crashes
    assert outcome(ct.gradcheck, only_indices, (X,)) is True and outcome(ct.gradgradcheck, only_indices, (X,)) is True
    for check in (torch.autograd.gradgradcheck, ct.gradgradcheck):
        assert outcome(check, lambda a: a ** 2, (X.detach(),)) is ValueError  # nothing requires grad
    with pytest.raises(ct.GradcheckError, match="input 'a'.*numerical gradient is not zero"):
        ct.gradgradcheck(lambda a: a.detach() ** 2, (X,))  # torch's own gradgradcheck crashes (TypeError)
