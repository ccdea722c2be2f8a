"""crossgrad.nn and crossgrad.optim against PyTorch's definitions (hand-derived values)."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad import nn


class NeuralNetwork(nn.Module):
    """The seed's network."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
        )

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


SEED_REPR = """NeuralNetwork(
  (flatten): Flatten(start_dim=1, end_dim=-1)
  (linear_relu_stack): Sequential(
    (0): Linear(in_features=784, out_features=512, bias=True)
    (1): ReLU()
    (2): Linear(in_features=512, out_features=512, bias=True)
    (3): ReLU()
    (4): Linear(in_features=512, out_features=10, bias=True)
  )
)"""


def test_seed_network_registers_parameters_in_pytorch_order():
    model = NeuralNetwork()
    names = [n for n, _ in model.named_parameters()]
    assert names == [f"linear_relu_stack.{i}.{k}" for i in (0, 2, 4) for k in ("weight", "bias")]
    assert [tuple(p.shape) for p in model.parameters()] == [
        (512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
    assert list(model.parameters())[3].shape == (512,)
    assert repr(model) == SEED_REPR
    assert model(torch.rand(1, 28, 28)).shape == (1, 10)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    torch.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / 20
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
        assert values.max() > 0.9 * bound and values.min() < -0.9 * bound
        assert p.requires_grad and p.dtype is torch.float32
    # U(-b, b) has variance b^2 / 3
    assert layer.weight.detach().numpy().var() == pytest.approx(bound**2 / 3, rel=0.02)


def test_linear_computes_x_wT_plus_b():
    layer = nn.Linear(3, 2)
    x = torch.tensor([[1.0, 2.0, 3.0]])
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), x.numpy() @ w.T + b, rtol=1e-6)


def test_state_dict_round_trip_and_errors():
    a, b = NeuralNetwork(), NeuralNetwork()
    b.load_state_dict(a.state_dict())
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())
    state = a.state_dict()
    del state["linear_relu_stack.0.bias"]
    state["extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "linear_relu_stack.0.bias"'):
        b.load_state_dict(state)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        nn.Linear(2, 3).load_state_dict(nn.Linear(3, 3).state_dict())


def test_train_eval_and_module_zero_grad():
    model = NeuralNetwork()
    assert model.training and model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    F.cross_entropy(model(torch.rand(2, 28, 28)), torch.tensor([1, 2])).backward()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_loss_modules_match_functional():
    x = torch.randn(4, 3, requires_grad=True)
    t = torch.tensor([0, 2, 1, 2])
    y = torch.rand(4, 3)
    assert nn.CrossEntropyLoss(label_smoothing=0.1)(x, t).item() == F.cross_entropy(
        x, t, label_smoothing=0.1).item()
    assert nn.BCEWithLogitsLoss(reduction="sum")(x, y).item() == F.binary_cross_entropy_with_logits(
        x, y, reduction="sum").item()
    assert nn.MSELoss()(x, y).item() == F.mse_loss(x, y).item()


def _param_with_grad(value, grad):
    p = nn.Parameter(torch.tensor(value, dtype=torch.float64))
    p.grad = torch.tensor(grad, dtype=torch.float64)
    return p


def test_sgd_plain_step():
    p = _param_with_grad([1.0, 2.0], [0.5, -1.0])
    torch.optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.95, 2.1])


def test_sgd_momentum_weight_decay_and_nesterov_follow_the_formulas():
    lr, mu, wd = 0.1, 0.9, 0.01
    for nesterov in (False, True):
        p = _param_with_grad([1.0], [0.5])
        opt = torch.optim.SGD([p], lr=lr, momentum=mu, weight_decay=wd, nesterov=nesterov)
        value, buf = 1.0, None
        for _ in range(3):
            opt.step()
            d = 0.5 + wd * value
            buf = d if buf is None else mu * buf + d
            value -= lr * (d + mu * buf if nesterov else buf)
            assert p.item() == pytest.approx(value, rel=1e-12)


def test_sgd_zero_grad_and_argument_errors():
    p = _param_with_grad([1.0], [0.5])
    opt = torch.optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # parameters without a gradient are skipped
    assert p.item() == 1.0
    with pytest.raises(ValueError, match="Invalid learning rate"):
        torch.optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        torch.optim.SGD([p], lr=0.1, nesterov=True)


def test_training_without_zero_grad_accumulates_linearly():
    """The seed's last experiment, in miniature: with lr=0, grads grow k * g0 without zero_grad."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    x, y = torch.randn(1, 4), torch.tensor([1])
    grads = []
    for _ in range(4):
        F.cross_entropy(model(x), y).backward()
        grads.append(list(model.parameters())[3].grad.numpy().copy())
        opt.step()
    for k, g in enumerate(grads, start=1):
        np.testing.assert_allclose(g, k * grads[0], rtol=1e-5)
