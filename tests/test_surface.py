"""The everyday tensor surface (issue 11) and engine parity (issue 21) against torch 2.13's behaviour
(dtypes and grad_fn names below were recorded from torch 2.13.0 on CPU)."""

from __future__ import annotations

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.utils.data import DataLoader, Dataset, TensorDataset

a = torch.arange(3)
b = torch.tensor([True, False, True])
f64 = torch.ones(3, dtype=torch.float64)

PROMOTION = [  # expression, torch 2.13's result dtype
    (lambda: a * 1.5, torch.float32), (lambda: 1.5 * a, torch.float32), (lambda: a - 1.5, torch.float32),
    (lambda: 1.5 - a, torch.float32), (lambda: a / 2, torch.float32), (lambda: a / (a + 1), torch.float32),
    (lambda: a * 2, torch.int64), (lambda: a + True, torch.int64), (lambda: b * 1.5, torch.float32),
    (lambda: b + 1, torch.int64), (lambda: a ** 2, torch.int64), (lambda: a ** 0.5, torch.float32),
    (lambda: 2 ** a, torch.int64), (lambda: 2.0 ** a, torch.float32), (lambda: a * torch.ones(3), torch.float32),
    (lambda: f64 * 2.5, torch.float64), (lambda: a * f64, torch.float64), (lambda: torch.ones(2) * 3, torch.float32),
]


@pytest.mark.parametrize("i", range(len(PROMOTION)))
def test_python_scalar_and_category_promotion_follows_torch(i):
    expr, want = PROMOTION[i]
    assert expr().dtype == want


def test_promoted_values_are_right():
    np.testing.assert_array_equal((a * 1.5).numpy(), np.array([0, 1.5, 3], np.float32))
    np.testing.assert_array_equal((a / 2).numpy(), np.array([0, 0.5, 1], np.float32))
    np.testing.assert_array_equal((a ** 2).numpy(), [0, 1, 4])


def _leaf(*shape):
    return torch.ones(*shape, requires_grad=True)


@pytest.mark.parametrize("make, name", [
    (lambda x, y: 2 - x, "RsubBackward1"), (lambda x, y: 2.5 - x, "RsubBackward1"),
    (lambda x, y: x - y, "SubBackward0"), (lambda x, y: x - 2, "SubBackward0"),
    (lambda x, y: x ** 2, "PowBackward0"), (lambda x, y: x ** y, "PowBackward1"),
    (lambda x, y: 2 ** x, "PowBackward2"), (lambda x, y: 2.0 ** x, "PowBackward2"),
    (lambda x, y: x.clone(), "CloneBackward0"), (lambda x, y: 2 + x, "AddBackward0"),
])
def test_grad_fn_names_match_torch(make, name):
    assert type(make(_leaf(2), _leaf(2)).grad_fn).__name__ == name


def test_renamed_nodes_still_differentiate_and_check():
    x = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    loss = ((2 - x) * (3.0 ** x)).sum() + x.clone().sum()
    loss.backward()
    want = -(3.0 ** x.detach().numpy()) + (2 - x.detach().numpy()) * 3.0 ** x.detach().numpy() * np.log(3) + 1
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-14)
    assert torch.check(loss).verdict == "agree"


def test_clone_copies_and_detached_clone_is_a_plain_copy():
    t = torch.tensor([1.0, 2.0])
    c = t.clone()
    c.add_(1)
    assert t.tolist() == [1.0, 2.0] and c.tolist() == [2.0, 3.0] and c.grad_fn is None
    x = _leaf(2)
    y = x.clone()
    assert not np.shares_memory(y._data, x._data) and not y.is_leaf


def test_one_device_cpu_honestly_reported():
    x = _leaf(2)
    assert str(x.device) == "cpu" and x.device == torch.device("cpu") and x.device.type == "cpu"
    assert x.cpu() is x and x.to("cpu") is x and x.to(torch.device("cpu")) is x
    assert torch.cuda.is_available() is False and x.is_cuda is False
    for bad in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: torch.device("cuda:0"), lambda: x.to("mps")):
        with pytest.raises(RuntimeError, match="one device, 'cpu'"):
            bad()


def test_to_dtype_converts_data_and_records_float_conversions():
    t = torch.arange(3).to(torch.float64)
    assert t.dtype == torch.float64 and t.tolist() == [0.0, 1.0, 2.0]
    assert torch.ones(2).to("cpu", torch.float64).dtype == torch.float64
    assert torch.ones(2).to(torch.arange(2)).dtype == torch.int64
    assert torch.ones(2).to(dtype=torch.float64, device="cpu").dtype == torch.float64
    x = _leaf(2)
    y = x.to(torch.float64)
    assert y.dtype == torch.float64 and type(y.grad_fn).__name__ == "ToCopyBackward0"
    (y * 3).sum().backward()
    assert x.grad.dtype == x.dtype and x.grad.tolist() == [3.0, 3.0]
    assert x.long().requires_grad is False  # to an integer dtype: data, no gradient
    with pytest.raises(TypeError, match="invalid argument"):
        torch.ones(2).to(3)


def test_all_any():
    m = torch.tensor([[1.0, 0.0], [2.0, 3.0]])
    assert m.all().tolist() is False and m.any().tolist() is True and m.all().dtype == torch.bool_
    assert m.all(dim=1).tolist() == [False, True] and torch.any(m, dim=0, keepdim=True).shape == (1, 2)


def test_isclose_allclose_use_torch_defaults():
    x, y = torch.tensor([1.0, 2.0, 100.0]), torch.tensor([1.0 + 1e-6, 2.1, 100.0005])
    assert torch.isclose(x, y).tolist() == [True, False, True]
    assert torch.allclose(x, x) is True and x.allclose(y) is False
    assert torch.allclose(x, y, rtol=0.1)


def test_python_number_conversions():
    assert float(torch.tensor([2.5])) == 2.5 and int(torch.tensor([[3.7]])) == 3
    assert bool(torch.tensor([0.0])) is False and [10, 20, 30][torch.tensor(1)] == 20
    with pytest.raises(ValueError, match="only one element tensors"):
        float(torch.ones(2))
    with pytest.raises(TypeError, match="index"):
        [1, 2][torch.tensor(1.0)]


def test_in_place_on_tensors_without_grad_and_torch_error_on_leaf():
    t = torch.ones(3)
    t.add_(2).mul_(torch.tensor([1.0, 2.0, 3.0]))
    assert t.tolist() == [3.0, 6.0, 9.0]
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        _leaf(2).add_(1)
    x = _leaf(2)
    with torch.no_grad():
        x.mul_(3)
    assert x.tolist() == [3.0, 3.0]


def test_random_functions_are_deterministic_under_manual_seed():
    def draw():
        torch.manual_seed(123)
        return [torch.randint(0, 10, (20,)), torch.randint(5, (3,)), torch.rand_like(torch.ones(4)),
                torch.randn_like(torch.ones(2, dtype=torch.float64)), torch.randperm(6)]
    first, second = draw(), draw()
    for p, q in zip(first, second):
        assert p.dtype == q.dtype and p.tolist() == q.tolist()
    ints, small, r, n, perm = first
    assert ints.dtype == torch.int64 and ints.numpy().min() >= 0 and ints.numpy().max() < 10
    assert small.numpy().max() < 5 and r.dtype == torch.float32 and n.dtype == torch.float64
    assert sorted(perm.tolist()) == list(range(6))
    with pytest.raises(RuntimeError, match="from=3 >= to=3"):
        torch.randint(3, 3, (2,))


def test_linspace_matches_torch():
    assert torch.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert torch.linspace(-1, 1, 3, dtype=torch.float64).dtype == torch.float64


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return torch.tensor([float(i)]), i * i


def test_dataloader_batches_drop_last_and_collation():
    batches = list(DataLoader(Squares(), batch_size=3))
    assert len(batches) == 3 and batches[-1][0].shape == (1, 1)
    x, y = batches[0]
    assert x.shape == (3, 1) and y.tolist() == [0, 1, 4] and y.dtype == torch.int64
    assert len(DataLoader(Squares(), batch_size=3, drop_last=True)) == 2
    assert [len(b[1]) for b in DataLoader(Squares(), batch_size=3, drop_last=True)] == [3, 3]


def test_dataloader_shuffle_is_reproducible_and_a_permutation():
    ds = TensorDataset(torch.arange(10), torch.arange(10) * 2)

    def epoch(seed):
        torch.manual_seed(seed)
        return [(x.tolist(), y.tolist()) for x, y in DataLoader(ds, batch_size=4, shuffle=True)]
    assert epoch(1) == epoch(1) and epoch(1) != epoch(2)
    flat = [v for xs, _ in epoch(1) for v in xs]
    assert sorted(flat) == list(range(10)) and flat != list(range(10))
    assert all(ys == [2 * v for v in xs] for xs, ys in epoch(1))


def test_tensor_dataset_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(torch.ones(3), torch.ones(4))


def test_tutorial_train_loop_runs_unchanged():
    torch.manual_seed(0)
    X = torch.randn(32, 4)
    Y = (X.sum(1) > 0).long()
    loader = DataLoader(TensorDataset(X, Y), batch_size=8, shuffle=True)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=0.05)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(5):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert losses[-1] < losses[0]
