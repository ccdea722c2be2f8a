"""Engine speed against a hand-written numpy floor, measured in the same run.

    python bench/bench_engine.py [--repeats N]

1. The seed MLP (Flatten-Linear(784,512)-ReLU-Linear(512,512)-ReLU-Linear(512,10), batch 64,
   float32, CrossEntropyLoss): forward + backward in crossgrad vs the same maths written
   directly in numpy (the floor). Goal: ratio <= 1.15.
2. Per-op overhead: a chain of 1,000 small ops (forward + backward), per op.
   Goal: at or below PyTorch's (about 9 us per op on 2 cores); PyTorch is measured too when
   it happens to be installed, never required.
Prints medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import crossgrad
import crossgrad.nn.functional as F
import numpy as np

SIZES = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]


def paired_medians(fns: dict[str, Callable[[], object]], repeats: int,
                   warmup: int = 3) -> dict[str, float]:
    """Median time of each function, run in turn within every repeat (so drift hits all)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [rng.uniform(-0.05, 0.05, s).astype(np.float32) for s in SIZES]
    x = rng.random((64, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    return params, x, y


def numpy_floor_step(params, x, y):
    """Forward and backward of the MLP + mean cross-entropy, written directly in numpy."""
    w1, b1, w2, b2, w3, b3 = params
    h0 = x.reshape(64, -1)
    a1 = h0 @ w1.T + b1
    h1 = np.maximum(a1, 0)
    a2 = h1 @ w2.T + b2
    h2 = np.maximum(a2, 0)
    logits = h2 @ w3.T + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(64), y].mean()
    d = np.exp(logp)
    d[np.arange(64), y] -= 1
    d /= 64
    g3, gb3 = d.T @ h2, d.sum(0)
    d2 = (d @ w3) * (a2 > 0)
    g2, gb2 = d2.T @ h1, d2.sum(0)
    d1 = (d2 @ w2) * (a1 > 0)
    g1, gb1 = d1.T @ h0, d1.sum(0)
    return loss, (g1, gb1, g2, gb2, g3, gb3)


def crossgrad_step(params, x, y):
    for p in params:
        p.grad = None
    h = x.flatten(1)
    h = F.relu(F.linear(h, params[0], params[1]))
    h = F.relu(F.linear(h, params[2], params[3]))
    loss = F.cross_entropy(F.linear(h, params[4], params[5]), y)
    loss.backward()
    return loss


def bench_mlp(repeats: int) -> dict[str, float]:
    arrays, x, y = make_data()
    params = [crossgrad.tensor(a, requires_grad=True) for a in arrays]
    xt, yt = crossgrad.tensor(x), crossgrad.tensor(y)
    fns: dict[str, Callable[[], object]] = {
        "numpy floor": lambda: numpy_floor_step(arrays, x, y),
        "crossgrad": lambda: crossgrad_step(params, xt, yt),
    }
    torch = _torch()
    if torch is not None:
        tp = [torch.tensor(a, requires_grad=True) for a in arrays]
        tx, ty = torch.tensor(x), torch.tensor(y)
        fns["pytorch"] = lambda: _torch_step(torch, tp, tx, ty)
    return paired_medians(fns, repeats)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def _torch_step(torch, params, x, y):
    for p in params:
        p.grad = None
    fn = torch.nn.functional
    h = x.flatten(1)
    h = torch.relu(fn.linear(h, params[0], params[1]))
    h = torch.relu(fn.linear(h, params[2], params[3]))
    fn.cross_entropy(fn.linear(h, params[4], params[5]), y).backward()


def chain(lib, x, n: int):
    """n small ops alternating mul / add / tanh, then sum and backward."""
    y = x
    for i in range(n // 3):
        y = lib.tanh(y * 0.9 + 0.1) if i % 2 else (y * 1.01 + 0.01)
    y.sum().backward()


def bench_chain(repeats: int, n: int = 1000) -> dict[str, float]:
    x = crossgrad.randn(8, requires_grad=True)
    fns: dict[str, Callable[[], object]] = {"crossgrad": lambda: chain(crossgrad, x, n)}
    torch = _torch()
    if torch is not None:
        tx = torch.randn(8, requires_grad=True)
        fns["pytorch"] = lambda: chain(torch, tx, n)
    return {name: t / n for name, t in paired_medians(fns, repeats).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    mlp = bench_mlp(args.repeats)
    print("seed MLP forward+backward, batch 64, float32 (median of "
          f"{args.repeats}):")
    for name, t in mlp.items():
        print(f"  {name:12s} {t * 1e3:8.3f} ms   ratio to numpy floor {t / mlp['numpy floor']:.3f}")
    print("  goal: crossgrad / numpy floor <= 1.15")
    per_op = bench_chain(args.repeats)
    print("per-op overhead, 1,000-op chain, forward+backward:")
    for name, t in per_op.items():
        print(f"  {name:12s} {t * 1e6:8.2f} us/op")
    if "pytorch" in per_op:
        print(f"  ratio crossgrad / pytorch {per_op['crossgrad'] / per_op['pytorch']:.3f}")
    print("  goal: <= PyTorch's (about 9 us/op on 2 cores)")


if __name__ == "__main__":
    main()
