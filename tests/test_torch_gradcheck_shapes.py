"""crossgrad.torch.gradcheck/gradgradcheck take torch.autograd.gradcheck's call shapes and answer
as torch does where torch's answer is right (the second parity sweep's findings)."""

import pytest

torch = pytest.importorskip("torch")
import crossgrad.torch as ct  # noqa: E402
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError  # noqa: E402

X = torch.tensor([[0.5, -1.0], [2.0, 0.25], [-0.5, 1.5]], dtype=torch.float64, requires_grad=True)


def test_integer_and_detached_outputs_are_skipped_as_torch_skips_them():
    for fn in (lambda a: (a.exp(), a.argmax()), lambda a: (a.sin(), a.detach() * 2), lambda a: a.argmax()):
        assert torch.autograd.gradcheck(fn, (X,)) is True
        assert ct.gradcheck(fn, (X,)) is True


def test_a_wrong_output_next_to_an_integer_one_is_still_caught():
    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3  # planted: should be 2

    with pytest.raises(ct.GradcheckError, match="input 'a'"):
        ct.gradcheck(lambda a: (Twice.apply(a), a.argmax()), (X,))


def test_unknown_keywords_are_torchs_type_error_and_torchs_own_are_accepted():
    f = lambda a: a.tanh()  # noqa: E731
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        ct.gradcheck(f, (X,), foo=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        ct.gradgradcheck(f, (X,), foo=1)
    with pytest.warns(UserWarning, match="ignores"):
        assert ct.gradcheck(f, X, eps=1e-6, nondet_tol=0.0, check_undefined_grad=True, fast_mode=True,
                            check_batched_grad=False, masked=None)
    with pytest.warns(UserWarning, match="ignores"):
        assert ct.gradgradcheck(f, X, eps=1e-6, gen_non_contig_grad_outputs=False, check_rev_over_rev=True)


def test_the_error_is_torchs_gradcheck_error_too():
    class Half(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * a  # planted: dropped factor 2

    with pytest.raises(TorchGradcheckError) as caught:  # code written for torch catches it
        ct.gradcheck(Half.apply, (X,))
    assert isinstance(caught.value, ct.GradcheckError) and isinstance(caught.value, RuntimeError)
    assert ct.gradcheck(Half.apply, (X,), raise_exception=False) is False
    with pytest.raises(ValueError, match="none of them have requires_grad=True"):
        ct.gradcheck(lambda a: a * 2, (X.detach(),))
