"""crossgrad.check(loss, order=2) over the graphs a PyTorch user builds from issue 12's ops (and
the new interpolate modes and conv padding modes), and the smooth losses' kink at order 2:
huber_loss at |d| == delta and smooth_l1_loss at |d| == beta have a continuous gradient and a
jumping second derivative, so three valid answers there (torch's 0, SymPy's, central differences'
midpoint) are a `convention`, not a `mismatch`; a wrong curvature elsewhere is still caught."""

from __future__ import annotations

import crossgrad
import numpy as np
import pytest
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

torch, F, nn = crossgrad, crossgrad.nn.functional, crossgrad.nn


def _x(*shape: int, scale: float = 0.43) -> crossgrad.Tensor:
    n = int(np.prod(shape))
    return torch.arange(n, dtype=torch.float64).reshape(shape).mul(scale).sin().requires_grad_()


def _huber_at_bound() -> tuple[crossgrad.Tensor, crossgrad.Tensor]:
    """huber: x[0] on its bound (|x[0]| == delta), x[1] inside, x[2] outside; smooth_l1 of 2x: x[0],
    x[1] inside, x[2] on its bound (2 x[2] - 3 == beta)."""
    x = torch.tensor([-0.5, 0.3, 2.0], dtype=torch.float64, requires_grad=True)
    loss = F.huber_loss(x, torch.zeros(3, dtype=torch.float64), delta=0.5) + \
        F.smooth_l1_loss(x * 2, torch.tensor([-0.5, 1.0, 3.0], dtype=torch.float64), beta=1.0, reduction="sum")
    return loss, x


def test_smooth_loss_bound_is_an_order2_convention() -> None:
    loss, x = _huber_at_bound()
    assert crossgrad.check(loss, names={"x": x}).verdict == "agree"
    loss, x = _huber_at_bound()
    report = crossgrad.check(loss, names={"x": x}, order=2)
    assert report.verdict == "convention", str(report)
    h = report.leaf("x").grads["numeric"].reshape(3, 3)
    # torch's double backward: 0 on a bound; smooth_l1 of 2x inside: 4 / beta; huber inside: 1 / 3
    np.testing.assert_allclose(np.diag(h), [4.0, 1 / 3 + 4.0, 0.0], rtol=1e-12)


def _huber_flat_curvature(g, saved, node):  # noqa: ANN001, ANN202
    """Right to first order, but its clip runs on a detached d: no second derivative anywhere."""
    x, y, _ = saved
    d = (x._data if hasattr(x, "_data") else x) - (y._data if hasattr(y, "_data") else y)
    dx = np.clip(d, -node.attrs["delta"], node.attrs["delta"]) / d.size
    return g * dx, None


def test_wrong_curvature_next_to_the_bound_is_still_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(RULES, "huber_loss", Rule(RULES["huber_loss"].forward, _huber_flat_curvature))
    x = torch.tensor([-0.5, 0.3, 0.1], dtype=torch.float64, requires_grad=True)
    loss = F.huber_loss(x, torch.zeros(3, dtype=torch.float64), delta=0.5)
    assert crossgrad.check(loss, names={"x": x}).verdict == "agree"
    x = torch.tensor([-0.5, 0.3, 0.1], dtype=torch.float64, requires_grad=True)
    report = crossgrad.check(F.huber_loss(x, torch.zeros(3, dtype=torch.float64), delta=0.5),
                             names={"x": x}, order=2)
    assert report.verdict == "mismatch" and report.leaf("x").suspect == "numeric", str(report)


def _conv_reflect() -> crossgrad.Tensor:
    torch.manual_seed(0)
    m = nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect").double()
    x = _x(1, 1, 3, 4)
    return m(x).tanh().pow(2).sum()


GRAPHS = {
    "conv2d stride padding groups": lambda: F.conv2d(_x(1, 2, 4, 3), _x(2, 1, 2, 2, scale=0.9), stride=(2, 1),
                                                     padding=1, groups=2).tanh().pow(2).sum(),
    "conv padding_mode reflect": _conv_reflect,
    "batch_norm training": lambda: (F.batch_norm(_x(3, 2, 2, 1), None, None, training=True)
                                    * _x(3, 2, 2, 1).detach()).pow(2).sum(),
    "interpolate bicubic": lambda: F.interpolate(_x(1, 1, 2, 3), size=(3, 2), mode="bicubic",
                                                 align_corners=True).sin().sum(),
    "interpolate nearest-exact": lambda: F.interpolate(_x(1, 2, 2, 3), size=(3, 5), mode="nearest-exact").pow(3).sum(),
    "avg_pool2d ceil count_include_pad off": lambda: F.avg_pool2d(_x(1, 1, 5, 4), 2, 2, 1, ceil_mode=True,
                                                                  count_include_pad=False).pow(3).sum(),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_order2_check_agrees(name: str) -> None:
    report = crossgrad.check(GRAPHS[name](), order=2)
    assert report.order == 2 and report.verdict == "agree", str(report)
