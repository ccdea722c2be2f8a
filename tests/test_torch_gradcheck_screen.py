"""gradcheck's screen (crossgrad/torch/quick.py): agreement is settled without finite
differences; any doubt runs the full check, finite differences included."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from crossgrad.engine import fd_joint  # noqa: E402
from crossgrad.torch import GradcheckError, gradcheck  # noqa: E402


@pytest.fixture
def fd_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = fd_joint.finite_differences

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fd_joint, "finite_differences", counted)
    return calls


def _seed_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    return (torch.randn(5, 3, dtype=torch.float64, requires_grad=True),
            torch.randn(3, dtype=torch.float64, requires_grad=True))


def _seed(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    logits = torch.ones(5, dtype=torch.float64) @ w + b
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.zeros(3, dtype=torch.float64))


class _SigmoidForward(torch.autograd.Function):
    """sigmoid's forward, saving its output; the subclasses plant bugs in the backward."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[no-untyped-def]
        s = torch.sigmoid(x)
        ctx.save_for_backward(s)
        return s


class _HalfSigmoid(_SigmoidForward):
    """sigmoid with a planted bug: the backward drops the factor (1 - s)."""

    @staticmethod
    def backward(ctx, g):  # type: ignore[no-untyped-def]
        (s,) = ctx.saved_tensors
        return g * s


class _OneOff(_SigmoidForward):
    """sigmoid whose backward is off at element 0 only: one Jacobian row fails, the others agree."""

    @staticmethod
    def backward(ctx, g):  # type: ignore[no-untyped-def]
        (s,) = ctx.saved_tensors
        out = g * s * (1 - s)
        out[0] = out[0] * 2
        return out


def test_an_agreeing_gradient_needs_no_finite_differences(fd_calls: list[int]) -> None:
    assert gradcheck(_seed, _seed_inputs())
    assert gradcheck(_seed, _seed_inputs())  # the repeated call too
    assert fd_calls == []


def test_a_wrong_backward_runs_the_full_check(fd_calls: list[int]) -> None:
    x = torch.randn(4, dtype=torch.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 'x' \[4\] float64: 4 of 16 Jacobian entries off"):
        gradcheck(_HalfSigmoid.apply, (x,))
    assert len(fd_calls) == 4  # one full check per Jacobian row
    assert not gradcheck(_HalfSigmoid.apply, (x,), raise_exception=False)


def test_a_kink_runs_the_full_check_and_passes_as_a_convention(fd_calls: list[int]) -> None:
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda t: (torch.relu(t) * torch.arange(1.0, 4.0, dtype=torch.float64)).sum(), (x,))
    assert fd_calls == [1]


def test_rows_the_screen_settled_still_count_in_the_message(fd_calls: list[int]) -> None:
    x = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=torch.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 'x' \[4\] float64: 1 of 16 Jacobian entries off; worst at "
                                             r"\[0\] along output element \[0\]"):
        gradcheck(_OneOff.apply, (x,))
    assert len(fd_calls) == 1  # only the failing row ran the full check
