"""Module surface (issue 11): containers, buffers, torch's names and order, state_dict round trips,
train/eval. Expected names were printed by torch 2.13.0 for the same Block."""

from __future__ import annotations

import crossgrad as torch
import numpy as np
import pytest
from crossgrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(4)
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 2, bias=False)])
        self.proj = nn.ModuleDict({"b": nn.Linear(2, 3), "a": nn.Identity()})
        self.emb = nn.Embedding(5, 4, padding_idx=1)
        self.register_buffer("mask", torch.ones(2, 2))
        self.drop = nn.Dropout(0.1)
        self.shared = self.heads[0]


TORCH_PARAMS = ["ln.weight", "ln.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight", "proj.b.weight",
                "proj.b.bias", "emb.weight"]
TORCH_STATE = ["mask", *TORCH_PARAMS, "shared.weight", "shared.bias"]
TORCH_MODULES = ["", "ln", "heads", "heads.0", "heads.1", "proj", "proj.b", "proj.a", "emb", "drop"]


def test_names_and_order_match_torch():
    m = Block()
    assert [n for n, _ in m.named_parameters()] == TORCH_PARAMS
    assert list(m.state_dict()) == TORCH_STATE
    assert [n for n, _ in m.named_modules()] == TORCH_MODULES
    assert [n for n, _ in m.named_buffers()] == ["mask"] and len(list(m.parameters(recurse=False))) == 0


def test_layer_init_and_repr_as_torch():
    m = Block()
    assert m.emb.weight[1].tolist() == [0.0] * 4 and m.ln.weight.tolist() == [1.0] * 4
    assert m.ln.bias.tolist() == [0.0] * 4
    assert "(ln): LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)" in repr(m)
    assert "(emb): Embedding(5, 4, padding_idx=1)" in repr(m) and "(drop): Dropout(p=0.1, inplace=False)" in repr(m)
    assert nn.LayerNorm(3, elementwise_affine=False).weight is None
    assert nn.Embedding(4, 2, padding_idx=-1).padding_idx == 3


def test_state_dict_round_trip_with_numpy_arrays_and_tensors():
    src, dst = Block(), Block()
    as_numpy = {k: v.numpy().copy() for k, v in src.state_dict().items()}
    assert dst.load_state_dict(as_numpy) == ([], [])
    for k, v in dst.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), as_numpy[k])
    assert dst.heads[0].weight.requires_grad and dst.heads[0].weight.is_leaf
    dst2 = Block()
    dst2.load_state_dict(src.state_dict())
    assert dst2.proj["b"].bias.tolist() == src.proj["b"].bias.tolist()


def test_state_dict_shares_memory_like_torch():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    with torch.no_grad():
        m.weight.mul_(0)
    assert sd["weight"].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_load_state_dict_strict_errors_and_non_strict_keys():
    m = nn.Linear(2, 3)
    good = m.state_dict()
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        m.load_state_dict({"weight": good["weight"]})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        m.load_state_dict({**good, "extra": torch.ones(1)})
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape \[3, 3\]"):
        m.load_state_dict({"weight": np.zeros((3, 3)), "bias": good["bias"]})
    keys = m.load_state_dict({"weight": np.ones((3, 2)), "extra": np.ones(1)}, strict=False)
    assert keys.missing_keys == ["bias"] and keys.unexpected_keys == ["extra"]
    assert m.weight.tolist() == [[1.0, 1.0]] * 3


def test_train_eval_recurse_and_dropout_is_identity_in_eval():
    m = Block()
    m.eval()
    assert not any(x.training for x in m.modules())
    x = torch.randn(3, 4)
    assert m.drop(x) is x
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_module_list_and_dict_behave_like_containers():
    ml = nn.ModuleList([nn.Tanh()]).append(nn.Sigmoid())
    ml.extend([nn.Identity()])
    assert len(ml) == 3 and isinstance(ml[1], nn.Sigmoid) and isinstance(ml[-1], nn.Identity)
    assert [type(m).__name__ for m in ml[:2]] == ["Tanh", "Sigmoid"]
    md = nn.ModuleDict([("x", nn.Tanh())])
    md["y"] = nn.Linear(1, 1)
    assert list(md) == ["x", "y"] and "y" in md and [n for n, _ in md.named_parameters()] == ["y.weight", "y.bias"]
    del md["y"]
    assert list(md.keys()) == ["x"] and list(md.parameters()) == []


def test_activation_modules_compute_their_functions():
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())))
    np.testing.assert_allclose(nn.SiLU()(x).numpy(), x.numpy() / (1 + np.exp(-x.numpy())))
    assert nn.GELU()(x).numpy()[2] == pytest.approx(1.9544997361036416, rel=1e-12)


def test_module_to_double_and_apply():
    m = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    w = m[0].weight
    assert m.to("cpu") is m and m.double() is m
    assert m[0].weight is w and w.dtype == torch.float64 and w.requires_grad
    with pytest.raises(RuntimeError, match="one device"):
        m.to("cuda")
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Tanh", "Sequential"]


def test_nested_batch_norm_buffers_in_state_dict_as_torch():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert list(m.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                    "1.running_var", "1.num_batches_tracked"]
    other = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = m.state_dict()
    sd["1.running_mean"].add_(5)
    other.load_state_dict(sd)
    assert other[1].running_mean.tolist() == [5.0, 5.0, 5.0]
    assert nn.BatchNorm1d(3, track_running_stats=False).state_dict().keys() == {"weight", "bias"}
