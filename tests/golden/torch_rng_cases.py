"""Seeded random programs run under real torch 2.13 (make_golden_torch_rng.py records
torch_rng.json) and under ``import crossgrad as torch`` (tests/test_torch_rng.py): each case is a
function of the torch module returning named arrays, compared byte for byte.

The grid: seeds x sizes (1, 3, 15, 16, 17, 33, 100, 1000) x rand/randn/uniform_/normal_ x float32/
float64; randint (both ranges), randperm, bernoulli_; the normal cache across calls; torch's
generator state bytes; modules' initial weights; nn.init; DataLoader order; dropout masks;
torch.normal/bernoulli/multinomial."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

SEEDS = (0, 1, 7, 2 ** 40 + 5)
SIZES = (1, 3, 15, 16, 17, 33, 100, 1000)


def _np(t: Any) -> np.ndarray:
    return np.ascontiguousarray(t.detach().numpy() if hasattr(t, "detach") else np.asarray(t))


def grid(torch: Any, seed: int) -> dict[str, np.ndarray]:
    """Every size and dtype in one stream per seed: each draw depends on all before it."""
    out: dict[str, np.ndarray] = {}
    torch.manual_seed(seed)
    for n in SIZES:
        for name, dt in (("f32", torch.float32), ("f64", torch.float64)):
            out[f"rand_{n}_{name}"] = _np(torch.rand(n, dtype=dt))
            out[f"randn_{n}_{name}"] = _np(torch.randn(n, dtype=dt))
            out[f"uniform_{n}_{name}"] = _np(torch.empty(n, dtype=dt).uniform_(-0.37, 0.71))
            out[f"normal_{n}_{name}"] = _np(torch.empty(n, dtype=dt).normal_(0.5, 2.3))
        out[f"randint_{n}"] = _np(torch.randint(-3, 17, (n,)))
        out[f"randint_big_{n}"] = _np(torch.randint(0, 2 ** 40, (n,)))
        out[f"randperm_{n}"] = _np(torch.randperm(n))
        out[f"bernoulli_{n}"] = _np(torch.empty(n).bernoulli_(0.3))
    out["state"] = _np(torch.get_rng_state()).astype(np.int64)
    return out


def ranges(torch: Any) -> dict[str, np.ndarray]:
    """randint's draw switches from random() to random64() at a range of 2**28; a floating dtype
    first moves its bounds to values it can hold (torch warns past 2**24 for float32)."""
    out = {}
    torch.manual_seed(9)
    for low, high in ((0, 2 ** 28 - 1), (0, 2 ** 28), (-5, 2 ** 31), (0, 2 ** 33), (-2 ** 62, 2 ** 62)):
        for name, dt in (("f32", torch.float32), ("f64", torch.float64), ("i64", torch.int64)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch: "to - 1 is out of bounds" for float32
                out[f"{low}_{high}_{name}"] = _np(torch.randint(low, high, (40,), dtype=dt))
    out["randperm_60000"] = _np(torch.randperm(60000))
    return out


def cache(torch: Any) -> dict[str, np.ndarray]:
    """Small randn calls share Box-Muller pairs: the second sample waits on the generator."""
    torch.manual_seed(1)
    w, b = torch.randn(5, 3), torch.randn(3)
    mid = torch.get_rng_state()
    c = torch.randn(2, 2, dtype=torch.float64)
    torch.set_rng_state(mid)
    d = torch.randn(2, 2, dtype=torch.float64)
    return {"w": _np(w), "b": _np(b), "state": _np(mid).astype(np.int64), "c": _np(c), "d": _np(d),
            "big_after_small": _np(torch.randn(40)), "small_after_big": _np(torch.randn(3))}


def modules(torch: Any) -> dict[str, np.ndarray]:
    nn = torch.nn
    torch.manual_seed(0)
    lin = nn.Linear(784, 512)
    conv, convt = nn.Conv2d(3, 8, 3), nn.ConvTranspose2d(3, 8, 3)
    emb, ln = nn.Embedding(10, 4, padding_idx=1), nn.LayerNorm(4)
    small = nn.Linear(3, 2, dtype=torch.float64)
    return {"linear_w": _np(lin.weight), "linear_b": _np(lin.bias), "conv_w": _np(conv.weight),
            "conv_b": _np(conv.bias), "convt_w": _np(convt.weight), "convt_b": _np(convt.bias),
            "emb": _np(emb.weight), "ln_w": _np(ln.weight), "ln_b": _np(ln.bias),
            "lin64_w": _np(small.weight), "lin64_b": _np(small.bias)}


def inits(torch: Any) -> dict[str, np.ndarray]:
    init, out = torch.nn.init, {}
    torch.manual_seed(4)
    w = torch.empty(20, 30)
    for name, call in (("xavier_uniform", lambda: init.xavier_uniform_(w, gain=1.3)),
                       ("xavier_normal", lambda: init.xavier_normal_(w)),
                       ("kaiming_uniform", lambda: init.kaiming_uniform_(w, nonlinearity="relu")),
                       ("kaiming_normal", lambda: init.kaiming_normal_(w, mode="fan_out")),
                       ("trunc_normal", lambda: init.trunc_normal_(w, std=0.02)),
                       ("trunc_normal_wide", lambda: init.trunc_normal_(w, mean=0.0, std=1.0, a=1.0, b=3.0)),
                       ("normal", lambda: init.normal_(w, 0.5, 0.1)), ("uniform", lambda: init.uniform_(w, -0.1, 0.3))):
        call()
        out[name] = _np(w).copy()
    return out


def data(torch: Any) -> dict[str, np.ndarray]:
    d = torch.utils.data
    ds = d.TensorDataset(torch.arange(10))
    torch.manual_seed(5)
    shuffled = [b[0].tolist() for _ in range(2) for b in d.DataLoader(ds, batch_size=3, shuffle=True)]
    g = torch.Generator().manual_seed(3)
    with_gen = [b[0].tolist() for b in d.DataLoader(ds, batch_size=4, shuffle=True, generator=g)]
    torch.manual_seed(2)
    return {"loader": np.concatenate([np.asarray(b) for b in shuffled]),
            "loader_gen": np.concatenate([np.asarray(b) for b in with_gen]),
            "replacement": np.asarray(list(d.RandomSampler(range(7), replacement=True, num_samples=40))),
            "num_samples": np.asarray(list(d.RandomSampler(range(7), num_samples=17))),
            "subset": np.asarray(list(d.SubsetRandomSampler([10, 20, 30, 40, 50]))),
            "split": np.asarray([i for s in d.random_split(range(10), [0.3, 0.7]) for i in s.indices]),
            "after": _np(torch.rand(2))}


def masks(torch: Any) -> dict[str, np.ndarray]:
    F = torch.nn.functional
    torch.manual_seed(6)
    out = {f"dropout_{p}": _np(F.dropout(torch.ones(64), p)) for p in (0.1, 0.25, 0.5, 0.9)}
    out["dropout64"] = _np(F.dropout(torch.ones(20, dtype=torch.float64), 0.3))
    out["module"] = _np(torch.nn.Dropout(0.2)(torch.ones(3, 7)))
    out["dropout2d"] = _np(F.dropout2d(torch.ones(4, 3, 2, 2), 0.5))
    out["after"] = _np(torch.rand(3))
    return out


def sampling(torch: Any) -> dict[str, np.ndarray]:
    torch.manual_seed(8)
    p = torch.tensor([[0.1, 0.5, 0.4, 0.0], [0.3, 0.3, 0.2, 0.2]])
    return {"bernoulli_t": _np(torch.bernoulli(torch.full((3, 4), 0.3))),
            "bernoulli64": _np(torch.bernoulli(torch.full((5,), 0.6, dtype=torch.float64))),
            "normal_tt": _np(torch.normal(torch.zeros(3), torch.ones(3) * 2)),
            "normal_ff": _np(torch.normal(2.0, 3.0, size=(20,))),
            "normal_tf": _np(torch.normal(torch.arange(4.0), 0.5)),
            "multi_rep": _np(torch.multinomial(p, 9, replacement=True)),
            "multi_norep": _np(torch.multinomial(p, 3)),
            "multi_one": _np(torch.multinomial(p[0], 1)),
            "rand_like": _np(torch.rand_like(torch.zeros(2, 3))),
            "randn_like": _np(torch.randn_like(torch.zeros(2, 9, dtype=torch.float64))),
            "generator": _np(torch.randn(20, generator=torch.Generator().manual_seed(9))),
            "unseeded_generator": _np(torch.rand(3, generator=torch.Generator()))}


CASES: dict[str, Callable[[Any], dict[str, np.ndarray]]] = {
    **{f"grid_seed{s}": (lambda torch, s=s: grid(torch, s)) for s in SEEDS},
    "cache": cache, "ranges": ranges, "modules": modules, "inits": inits, "data": data, "masks": masks,
    "sampling": sampling}
