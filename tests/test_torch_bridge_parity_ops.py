"""Parity sweep, part 2: torch.nn.functional ops of issues 11 and 12 through ``crossgrad.torch.gradcheck``
(answers as torch's, gradients equal to torch's, planted bugs caught), ``from_torch`` on a nested
module with buffers, the ``python -m crossgrad.torch`` CLI, and repeated calls after the user changed
what the function closes over."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import crossgrad.torch as ct  # noqa: E402
from crossgrad.client import wire  # noqa: E402
from crossgrad.engine.check import check  # noqa: E402
from crossgrad.engine.graph import Leaf  # noqa: E402
from torch import nn  # noqa: E402
from torch.autograd.gradcheck import GradcheckError as TorchError  # noqa: E402
from torch.nn import functional as F  # noqa: E402

D = torch.float64


def rand(*shape: int, seed: int = 0, grad: bool = True) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed + sum(shape))
    return torch.randn(*shape, generator=g, dtype=D).requires_grad_(grad)


def both(func: Any, inputs: Any) -> tuple[Any, Any]:
    found = []
    for impl in (torch.autograd.gradcheck, ct.gradcheck):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                found.append(impl(func, inputs))
            except Exception as err:  # noqa: BLE001 - the type is the answer
                found.append(type(err))
    return found[0], found[1]


MASK = torch.tensor([[True, False, True], [True, True, False], [False, True, True]])
Q, K, V = rand(1, 2, 3, 4, seed=1), rand(1, 2, 3, 4, seed=2), rand(1, 2, 3, 4, seed=3)
RUNNING = (torch.zeros(3, dtype=D), torch.ones(3, dtype=D))

OPS: dict[str, tuple[Any, tuple]] = {
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (6,), w, b, eps=1e-5),
                   (rand(2, 6), rand(6, seed=1), rand(6, seed=2))),
    "layer_norm 2-d shape": (lambda x: F.layer_norm(x, (3, 4)), (rand(2, 3, 4),)),
    "gelu": (F.gelu, (rand(2, 5),)),
    "gelu tanh": (lambda x: F.gelu(x, approximate="tanh"), (rand(2, 5),)),
    "sdpa": (F.scaled_dot_product_attention, (Q, K, V)),
    "sdpa causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (Q, K, V)),
    "sdpa bool mask": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=MASK), (Q, K, V)),
    "sdpa float mask input": (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.3),
                              (Q, K, V, rand(3, 3, seed=4))),
    "conv2d stride padding groups": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
                                     (rand(1, 4, 5, 5), rand(4, 2, 3, 3), rand(4))),
    "conv2d dilation": (lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=2, dilation=2, groups=2),
                        (rand(1, 4, 6, 6), rand(4, 2, 3, 3))),
    "conv2d padding same": (lambda x, w: F.conv2d(x, w, padding="same"), (rand(1, 2, 5, 5), rand(3, 2, 3, 3))),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), (rand(1, 2, 4, 4),)),
    "max_pool2d stride padding ceil": (lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
                                       (rand(1, 2, 6, 6),)),
    "max_pool2d return_indices": (lambda x: F.max_pool2d(x, 2, return_indices=True), (rand(1, 2, 4, 4),)),
    "max_pool2d indices read": (lambda x: x.flatten(2).gather(2, F.max_pool2d(x, 2, return_indices=True)[1].flatten(2)),
                                (rand(1, 2, 4, 4),)),
    "batch_norm train": (lambda x, w, b: F.batch_norm(x, *RUNNING, w, b, training=True),
                         (rand(4, 3, 2, 2), rand(3, seed=1), rand(3, seed=2))),
    "batch_norm train no stats": (lambda x: F.batch_norm(x, None, None, training=True), (rand(5, 3),)),
    "BatchNorm2d module train": (nn.BatchNorm2d(3).double(), (rand(4, 3, 2, 2),)),
}


@pytest.mark.parametrize("name", OPS)
def test_functional_ops_answer_as_torch_with_torchs_gradients(name: str) -> None:
    func, inputs = OPS[name]
    assert both(func, inputs) == (True, True)
    out = func(*inputs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.is_floating_point()]
    weights = [rand(*o.shape, seed=9, grad=False) for o in outs]
    loss = lambda *xs: sum((o * w).sum() for o, w in zip(_floats(func(*xs)), weights))  # noqa: E731
    report = check(ct.from_torch(loss, inputs))
    wanted = [t for t in inputs if t.requires_grad]
    grads = torch.autograd.grad(loss(*inputs), wanted)
    assert report.verdict in ("agree", "convention")
    assert len(report.leaves) >= len(grads)  # the inputs first, then parameters the function closes over
    for leaf, g in zip(report.leaves, grads):
        np.testing.assert_allclose(leaf.grads["symbolic"], g.detach().numpy(), rtol=1e-7, atol=1e-10)


def _floats(out: Any) -> list[torch.Tensor]:
    return [o for o in (out if isinstance(out, tuple) else (out,)) if o.is_floating_point()]


class WrongWeightGrad(torch.autograd.Function):
    """F.conv2d(x, w, stride 2, padding 1, groups 2), its weight gradient transposed in the kernel."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, w)
        return F.conv2d(x, w, stride=2, padding=1, groups=2)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, w = ctx.saved_tensors
        with torch.enable_grad():
            x1, w1 = x.detach().requires_grad_(), w.detach().requires_grad_()
            gx, gw = torch.autograd.grad(F.conv2d(x1, w1, stride=2, padding=1, groups=2), (x1, w1), g)
        return gx, gw.transpose(2, 3)


def test_a_planted_conv_weight_gradient_is_named_by_element() -> None:
    x, w = rand(1, 4, 5, 5), rand(4, 2, 3, 3)
    assert both(WrongWeightGrad.apply, (x, w)) == (TorchError, ct.GradcheckError)
    with pytest.raises(ct.GradcheckError, match=r"input 'w' \[4, 2, 3, 3\] float64: \d+ of \d+ VJP elements off; "
                                                r"worst at \[\d, \d, \d, \d\]") as caught:
        ct.gradcheck(WrongWeightGrad.apply, (x, w))
    assert "input 'x'" not in str(caught.value).split("\n\n")[0]


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.register_buffer("scale", torch.tensor([2.0, 3.0, 0.5]))
        self.register_buffer("shift", torch.ones(3), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.lin(x) * self.scale + self.shift)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block(), Block()])
        self.norm = nn.BatchNorm1d(3)
        self.head = nn.Sequential(nn.Linear(3, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return (self.head(self.norm(x)) ** 2).sum()


def test_from_torch_names_parameters_and_buffers_and_gets_torchs_gradients() -> None:
    torch.manual_seed(0)
    net = Net().double()
    x = rand(4, 3)
    before = {n: b.clone() for n, b in net.named_buffers()}
    request = ct.from_torch(net, (x,))
    leaves = {n.name: n for n in request.graph.nodes if isinstance(n, Leaf)}
    named = {**dict(net.named_parameters()), **dict(net.named_buffers()), "x": x}
    assert list(leaves)[:len(named)] == list(named)  # blocks.0.lin.weight ... norm.num_batches_tracked, x
    for name, tensor in named.items():
        assert leaves[name].requires_grad == tensor.requires_grad
        np.testing.assert_array_equal(leaves[name].value, tensor.detach().numpy())
    assert all(torch.equal(b, before[n]) for n, b in net.named_buffers())  # capture kept the running stats
    report = check(request)
    wanted = {n: t for n, t in named.items() if t.requires_grad}
    torch_grads = dict(zip(wanted, torch.autograd.grad(net(x), list(wanted.values()))))
    assert [leaf.name for leaf in report.leaves] == list(wanted)
    for leaf in report.leaves:
        np.testing.assert_allclose(leaf.grads["numeric"], torch_grads[leaf.name].numpy(), rtol=1e-9, atol=1e-12)
    assert ct.gradcheck(net, (x,)) is True


CLI_MODULE = textwrap.dedent("""
    import torch
    from torch import nn

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
            self.register_buffer("scale", torch.tensor([2.0, -1.0]))

        def forward(self, x):
            y = self.body(x) * self.scale
            return y.pow(2).sum(), y.argmax(1)

    def make():
        torch.manual_seed(0)
        return Scaled(), (torch.randn(4, 3, requires_grad=True),)

    def refused():
        return (lambda x: torch.fft.rfft(x).abs().sum()), (torch.randn(8),)
""")


def test_the_cli_exports_a_module_with_buffers_and_an_index_output(tmp_path: Any) -> None:
    (tmp_path / "parity_cli_model.py").write_text(CLI_MODULE)
    run = [sys.executable, "-m", "crossgrad.torch", "export"]
    done = subprocess.run([*run, "parity_cli_model:make", "--claimed"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)  # no --out: the JSON on stdout
    leaves = [n["name"] for n in request["graph"]["nodes"] if "leaf" in n]
    assert leaves[:4] == ["body.0.weight", "body.0.bias", "scale", "x"]
    assert set(request["claimed"]) == {"body.0.weight", "body.0.bias", "x"}
    sys.path.insert(0, str(tmp_path))
    try:
        from parity_cli_model import make  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    module, (x,) = make()
    grads = torch.autograd.grad(module(x)[0], [*module.body.parameters(), x])
    claimed = wire.request_from_json(done.stdout).claimed
    for name, g in zip(["body.0.weight", "body.0.bias", "x"], grads):
        np.testing.assert_allclose(wire.tensor_in(claimed[name]), g.numpy(), rtol=1e-6)


def test_the_cli_refuses_an_op_by_name_and_line(tmp_path: Any, capsys: Any, monkeypatch: Any) -> None:
    from crossgrad.torch.__main__ import main

    (tmp_path / "parity_cli_refused.py").write_text(CLI_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["export", "parity_cli_refused:refused"]) == 2
    err = capsys.readouterr().err
    assert "aten._fft_r2c" in err and "parity_cli_refused.py" in err and "torch.fft.rfft(x)" in err


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, a: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        return g * 3 * ctx.saved_tensors[0] ** 2 * (1.01 if Cube.planted else 1.0)

    planted = False


TARGET = torch.zeros(3, dtype=D)


def _shifted(x: torch.Tensor) -> torch.Tensor:
    return Cube.apply(x - TARGET).sum()


def test_a_repeated_call_sees_what_the_function_closes_over_now() -> None:
    global TARGET
    x = rand(3)
    assert ct.gradcheck(_shifted, (x,)) is True
    TARGET.add_(5.0)  # changed in place
    assert both(_shifted, (x,)) == (True, True)
    TARGET = torch.full((3,), -4.0, dtype=D)  # rebound
    assert both(_shifted, (x,)) == (True, True)
    Cube.planted = True
    try:
        assert both(_shifted, (x,)) == (TorchError, ct.GradcheckError)  # still judged after the change
    finally:
        Cube.planted = False
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).double().eval()
    f = lambda x: net(x).pow(2).sum()  # noqa: E731
    xb = rand(4, 3)
    assert ct.gradcheck(f, (xb,)) is True
    with torch.no_grad():
        net[1].running_mean.add_(3.0)
        net[1].running_var.mul_(5.0)
    assert both(f, (xb,)) == (True, True)


class Holder:
    """A plain object whose tensor attribute the function reads (invisible to the cache key)."""

    def __init__(self) -> None:
        self.target = torch.zeros(3, dtype=D)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        return Cube.apply(x - self.target).sum()


def test_a_reused_capture_that_no_longer_matches_torchs_forward_is_captured_again(monkeypatch: Any) -> None:
    gradcheck_module = sys.modules["crossgrad.torch.gradcheck"]
    captures = []
    original = gradcheck_module._capture
    monkeypatch.setattr(gradcheck_module, "_capture", lambda *a: captures.append(1) or original(*a))
    holder, x = Holder(), rand(3)
    assert ct.gradcheck(holder.loss, (x,)) is True and ct.gradcheck(holder.loss, (x,)) is True
    assert len(captures) == 1  # reused while it computes what torch computes
    holder.target = torch.full((3,), 2.5, dtype=D)  # a new tensor behind an attribute
    assert both(holder.loss, (x,)) == (True, True) and len(captures) == 2
    Cube.planted = True
    try:
        assert both(holder.loss, (x,)) == (TorchError, ct.GradcheckError)
    finally:
        Cube.planted = False
