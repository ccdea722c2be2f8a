"""crossgrad.torch: capture real PyTorch code; gradcheck judges PyTorch's own gradients."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

from crossgrad.engine.check import check  # noqa: E402
from crossgrad.engine.errors import CrossgradError  # noqa: E402
from crossgrad.engine.graph import Leaf, OpNode  # noqa: E402
from crossgrad.torch import GradcheckError, UnsupportedOpError, from_torch, gradcheck  # noqa: E402
from torch import nn  # noqa: E402

TorchGradcheckError = importlib.import_module("torch.autograd.gradcheck").GradcheckError


def mlp(dtype: torch.dtype, sizes=(784, 512, 512, 10)) -> nn.Module:
    torch.manual_seed(0)
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers).to(dtype)


class Loss(nn.Module):
    """The seed's MLP with CrossEntropyLoss, as one module of (x, target)."""

    def __init__(self, dtype: torch.dtype, sizes=(784, 512, 512, 10)) -> None:
        super().__init__()
        self.net, self.loss = mlp(dtype, sizes), nn.CrossEntropyLoss()

    def forward(self, x, target):
        return self.loss(self.net(x), target)


def test_module_leaves_keep_names_values_dtypes_and_requires_grad():
    model = Loss(torch.float32, (12, 8, 3))
    model.net[1].bias.requires_grad_(False)
    x, t = torch.randn(4, 3, 4), torch.tensor([0, 2, 1, 1])
    request = from_torch(model, (x, t))
    leaves = {n.name: n for n in request.graph.nodes if isinstance(n, Leaf)}
    assert list(leaves) == ["net.1.weight", "net.1.bias", "net.3.weight", "net.3.bias", "x", "target"]
    np.testing.assert_array_equal(leaves["net.1.weight"].value, model.net[1].weight.detach().numpy())
    assert leaves["net.1.weight"].value.dtype == np.float32 and leaves["target"].value.dtype == np.int64
    assert [leaves[n].requires_grad for n in leaves] == [True, False, True, True, False, False]
    ops = [n.op for n in request.graph.nodes if isinstance(n, OpNode)]
    assert ops == ["flatten", "linear", "relu", "linear", "cross_entropy"]
    report = check(request)
    assert report.verdict == "agree"
    assert np.isclose(float(report.output), float(model(x, t).detach()), rtol=1e-6)


def test_decomposed_ops_compute_the_same_function():
    """layer_norm has no catalogue entry: PyTorch's decomposition (var_mean, rsqrt, ...) maps."""
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, dtype=torch.float64, requires_grad=True)

    def f(x, w):
        return (nn.functional.layer_norm(x, (5,), w) * torch.arange(5.0, dtype=torch.float64)).sum()

    report = check(from_torch(f, (x, w)))
    assert report.verdict == "agree" and np.isclose(float(report.output), float(f(x, w).detach()))
    f(x, w).backward()
    np.testing.assert_allclose(report.grad("x"), x.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_an_op_outside_the_catalogue_is_refused_with_its_name_and_line():
    def spectrum(x):
        return torch.fft.rfft(x).abs().sum()  # the line the error must show

    with pytest.raises(UnsupportedOpError) as err:
        from_torch(spectrum, (torch.randn(8),))
    assert err.value.op == "aten._fft_r2c.default"
    assert "test_torch_bridge.py" in err.value.source and "torch.fft.rfft(x)" in str(err.value)


# --- custom autograd.Functions: right and planted-wrong backwards ------------------------------
def _randn(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def _fn(forward, backward):
    return type("Custom", (torch.autograd.Function,), {"forward": staticmethod(forward),
                                                         "backward": staticmethod(backward)}).apply


def _sig_forward(ctx, x):
    y = 1 / (1 + torch.exp(-x))
    ctx.save_for_backward(y)
    return y


def _linear_forward(ctx, x, w, b):
    ctx.save_for_backward(x, w)
    return x @ w.T + b


def _ln_forward(ctx, x, w):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    xhat = (x - mean) / torch.sqrt(var + 1e-5)
    ctx.save_for_backward(xhat, var, w)
    return xhat * w


def _ln_backward(ctx, g, batch_mean=False):
    xhat, var, w = ctx.saved_tensors
    gx = g * w
    n = xhat.shape[-1]
    dx = (gx - gx.mean(-1, keepdim=True) - xhat * (gx * xhat).mean(-1, keepdim=True)) / torch.sqrt(var + 1e-5)
    dw = (g * xhat).mean(0) if batch_mean else (g * xhat).sum(0)
    assert n == w.numel()
    return dx, dw


def _softmax_forward(ctx, x):
    e = torch.exp(x)  # (max(dim) is not in the catalogue yet: no max subtraction)
    y = e / e.sum(-1, keepdim=True)
    ctx.save_for_backward(y)
    return y


def _softmax_backward(ctx, g, off=0.0):
    (y,) = ctx.saved_tensors
    dx = y * (g - (g * y).sum(-1, keepdim=True))
    dx[1, 2] += off
    return dx


def _sigmoid_backward(ctx, g):
    return g * ctx.saved_tensors[0] * (1 - ctx.saved_tensors[0])


def _linear_backward(ctx, g, transpose=False):
    x, w = ctx.saved_tensors
    gw = g.T @ x
    return g @ w, gw.T if transpose else gw, g.sum(0)


D = torch.float64
CASES = {
    "sigmoid": (_sig_forward, _sigmoid_backward, lambda: (_randn(3, 4),)),
    "linear": (_linear_forward, _linear_backward, lambda: (_randn(5, 4), _randn(4, 4), _randn(4))),
    "layer_norm": (_ln_forward, _ln_backward, lambda: (_randn(3, 4), _randn(4))),
    "softmax": (_softmax_forward, _softmax_backward, lambda: (_randn(3, 4),)),
}
BUGS = {  # planted backward bug -> (case, backward, the input named, elements off)
    "dropped factor": ("sigmoid", lambda ctx, g: g * ctx.saved_tensors[0], "x", None),
    "transposed weight gradient": ("linear", lambda ctx, g: _linear_backward(ctx, g, transpose=True), "w", None),
    "one element off": ("softmax", lambda ctx, g: _softmax_backward(ctx, g, off=1e-3), "x", (1, [1, 2])),
    "batch mean not sum": ("layer_norm", lambda ctx, g: _ln_backward(ctx, g, batch_mean=True), "w", None),
}


@pytest.mark.parametrize("name", CASES)
def test_a_correct_custom_backward_passes(name):
    forward, backward, inputs = CASES[name]
    torch.manual_seed(1)
    assert gradcheck(_fn(forward, backward), inputs()) is True


@pytest.mark.parametrize("bug", BUGS)
def test_a_planted_backward_bug_is_named_by_input_and_element(bug):
    case, backward, input_name, element = BUGS[bug]
    torch.manual_seed(1)
    inputs = CASES[case][2]()
    func = _fn(CASES[case][0], backward)
    assert gradcheck(func, inputs, raise_exception=False) is False
    with pytest.raises(GradcheckError) as err:
        gradcheck(func, inputs)
    message = str(err.value)
    assert isinstance(err.value, RuntimeError) and f"input {input_name!r}" in message
    assert "worst at [" in message and "suspect: claimed" in message
    if element is not None:  # one element of every VJP (12 Jacobian rows of 12), at the planted index
        assert "12 of 144 Jacobian entries off" in message and f"worst at {element[1]}" in message


def test_the_worst_element_carries_expected_and_claimed_values():
    x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=D, requires_grad=True)
    func = _fn(_sig_forward, lambda ctx, g: g * ctx.saved_tensors[0])  # dropped (1 - y)
    with pytest.raises(GradcheckError) as err:
        gradcheck(func, (x,))
    y = torch.sigmoid(x.detach())  # dy[i, j]/dx[i, j] = y (1 - y), claimed y: the largest gap is at x = 2
    line = err.value.args[0].split("\n")[1].strip()
    assert line.startswith("input 'x' [2, 2] float64: 4 of 16 Jacobian entries off")
    assert "worst at [1, 0] along output element [1, 0]" in line
    assert f"expected {float(y[1, 0] * (1 - y[1, 0]))!r}"[:20] in line and f"claimed {float(y[1, 0])!r}" in line


# --- the seed's MLP, float32 and float64 ---------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_seed_mlp_module_passes_gradcheck(dtype):
    torch.manual_seed(2)
    x, t = torch.randn(4, 1, 28, 28, dtype=dtype), torch.randint(0, 10, (4,))
    assert gradcheck(Loss(dtype), (x, t)) is True


def test_a_wrong_parameter_gradient_in_the_mlp_is_caught():
    model = Loss(torch.float64, (12, 8, 3))
    model.net[1].weight.register_hook(lambda g: g * 1.01)  # a 1% error on one layer's weight
    x, t = torch.randn(4, 12, dtype=D), torch.tensor([0, 2, 1, 1])
    with pytest.raises(GradcheckError, match="input 'net.1.weight'"):
        gradcheck(model, (x, t))


def test_one_wrong_element_in_the_full_mlp_is_found_by_the_symbolic_witness_and_fd():
    """670k parameters: the numeric engine sits out; symbolic (confirmed by FD) names the element."""
    model = Loss(torch.float32)

    def plant(g):
        g = g.clone()
        g[7, 300] += 1e-2
        return g

    model.net[3].weight.register_hook(plant)
    x, t = torch.randn(4, 1, 28, 28), torch.randint(0, 10, (4,))
    with pytest.raises(GradcheckError) as err:
        gradcheck(model, (x, t))
    assert "input 'net.3.weight' [512, 512] float32: 1 of 262144 Jacobian entries off" in str(err.value)
    assert "worst at [7, 300]" in str(err.value) and "suspect: claimed" in str(err.value)


def test_the_mlp_request_agrees_through_a_real_server(client):
    torch.manual_seed(3)
    model = Loss(torch.float32)
    request = from_torch(model, (torch.randn(4, 1, 28, 28), torch.randint(0, 10, (4,))))
    report = client.check(request)
    assert report.verdict == "agree" and len(report.leaves) == 6
    assert report.leaf("net.1.weight").shape == (512, 784)


# --- where torch.autograd.gradcheck fails falsely ------------------------------------------------
def test_float32_mlp_torch_fails_crossgrad_passes():
    net = mlp(torch.float32, (6, 16, 16, 3))
    x = torch.randn(4, 6, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"), pytest.raises(TorchGradcheckError):
        torch.autograd.gradcheck(net, (x,))
    assert gradcheck(net, (x,)) is True


def test_relu_at_exact_zeros_torch_fails_crossgrad_passes():
    x = torch.tensor([-1.0, 0.0, 0.0, 2.0], dtype=D, requires_grad=True)
    with pytest.raises(TorchGradcheckError):
        torch.autograd.gradcheck(torch.relu, (x,))
    assert gradcheck(torch.relu, (x,)) is True
    with pytest.warns(UserWarning, match=r"ignores \['eps', 'fast_mode'\]"):
        assert gradcheck(torch.relu, (x,), eps=1e-6, fast_mode=True) is True


def test_parameters_a_function_closes_over_are_checked_by_name():
    net = nn.Linear(3, 2).double()
    net.bias.register_hook(lambda g: g + 0.5)  # PyTorch's gradient of the bias, shifted
    x = torch.randn(4, 3, dtype=D, requires_grad=True)
    with pytest.raises(GradcheckError, match="input 'net.bias'"):
        gradcheck(lambda x: torch.tanh(net(x)).sum(), (x,))


def test_non_tensor_inputs_are_constants_of_the_trace():
    def scaled(x, k, w):
        return (torch.tanh(x * k) @ w).sum()

    x, w = torch.randn(3, 2, dtype=D, requires_grad=True), torch.randn(2, dtype=D, requires_grad=True)
    assert gradcheck(scaled, (x, 3, w)) is True
    names = [n.name for n in from_torch(scaled, (x, 3, w)).graph.nodes if isinstance(n, Leaf)]
    assert names[:2] == ["x", "w"]
    bad = _fn(_sig_forward, lambda ctx, g: g * ctx.saved_tensors[0])
    assert gradcheck(lambda x, k: bad(x * k).sum(), (x, 2.0), raise_exception=False) is False


class _TanhScale(torch.autograd.Function):
    """A new-style Function: forward without ctx, setup_context saves."""

    @staticmethod
    def forward(x, w):
        return (x * w).tanh()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output, *inputs)

    @staticmethod
    def backward(ctx, g):
        y, x, w = ctx.saved_tensors
        d = g * (1 - y * y)
        return d * w, (d * x).sum(0)


class _TanhScaleBatchMean(_TanhScale):
    @staticmethod
    def backward(ctx, g):
        dx, dw = _TanhScale.backward(ctx, g)
        return dx, dw / g.shape[0]  # averaged over the batch instead of summed


def test_a_setup_context_function_is_named_from_its_forward():
    x, w = _randn(3, 4), _randn(4)
    assert gradcheck(_TanhScale.apply, (x, w)) is True
    with pytest.raises(GradcheckError, match=r"input 'w' \[4\] float64: 12 of 48 Jacobian entries off"):
        gradcheck(_TanhScaleBatchMean.apply, (x, w))


def test_nothing_requiring_grad_is_a_value_error_as_in_torch():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda x: x.sum(), (torch.randn(3),))


class _Spectral(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def forward(self, x):
        return torch.fft.rfft(self.proj(x)).abs().sum()  # the module's line


def test_a_refused_op_inside_a_module_names_the_modules_line():
    with pytest.raises(UnsupportedOpError) as err:
        from_torch(_Spectral(), (torch.randn(2, 8),))
    assert isinstance(err.value, CrossgradError) and "aten._fft_r2c" in str(err.value)
    assert "in forward" in err.value.source and "torch.fft.rfft(self.proj(x))" in err.value.source
