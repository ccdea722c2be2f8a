"""Engine speed against a hand-written numpy floor, measured in the same run.

    python bench/bench_engine.py [--repeats N]

1. The seed MLP (Flatten-Linear(784,512)-ReLU-Linear(512,512)-ReLU-Linear(512,10), batch 64,
   float32, CrossEntropyLoss): forward + backward in crossgrad vs the same maths written
   directly in numpy (the floor). Goal: ratio <= 1.15.
2. Per-op overhead: a chain of 1,000 small ops (forward + backward), per op.
   Goal: at or below PyTorch's; PyTorch is measured too when it happens to be installed, never
   required. Wall time and process CPU time (on a loaded machine the CPU time is the steadier
   figure: it leaves out time spent waiting for a core).
Both engines on one thread (numpy's BLAS and torch's intra-op pool), rounds alternating in
order; prints medians, the 10th-90th percentile spread and the per-round ratio.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads: both engines on one core

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import crossgrad  # noqa: E402
import crossgrad.nn.functional as F  # noqa: E402
import numpy as np  # noqa: E402

SIZES = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]


def paired_times(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 3,
                 clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Each function's times, run in turn within every repeat, the order reversed every other
    repeat (so drift and cache warmth hit all alike)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            start = clock()
            fns[name]()
            times[name].append(clock() - start)
    return times


def paired_medians(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 3) -> dict[str, float]:
    """Median time of each function (paired_times)."""
    return {name: statistics.median(t) for name, t in paired_times(fns, repeats, warmup).items()}


def spread(values: list[float]) -> tuple[float, float]:
    """The 10th and 90th percentiles."""
    ordered = sorted(values)
    return ordered[len(ordered) // 10], ordered[min(len(ordered) - 1, 9 * len(ordered) // 10)]


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


def bench_mlp(repeats: int) -> dict[str, dict[str, float]]:
    """Per clock (wall, cpu): each step's median time."""
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
    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    return {c: {name: statistics.median(ts) for name, ts in paired_times(fns, repeats, clock=clock).items()}
            for c, clock in clocks.items()}


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
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


def bench_chain(repeats: int, n: int = 1000) -> dict[str, dict[str, list[float]]]:
    """Per clock (wall, cpu): each engine's per-op times, one entry per repeat."""
    x = crossgrad.randn(8, requires_grad=True)
    fns: dict[str, Callable[[], object]] = {"crossgrad": lambda: chain(crossgrad, x, n)}
    torch = _torch()
    if torch is not None:
        tx = torch.randn(8, requires_grad=True)
        fns["pytorch"] = lambda: chain(torch, tx, n)
    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    return {c: {name: [t / n for t in ts] for name, ts in paired_times(fns, repeats, clock=clock).items()}
            for c, clock in clocks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(f"seed MLP forward+backward, batch 64, float32 (median of {args.repeats}, alternating):")
    for clock, mlp in bench_mlp(args.repeats).items():
        for name, t in mlp.items():
            print(f"  {clock:4s} {name:12s} {t * 1e3:8.3f} ms   ratio to numpy floor {t / mlp['numpy floor']:.3f}")
    print("  goal: crossgrad / numpy floor <= 1.15")
    print(f"per-op overhead, 1,000-op chain, forward+backward ({2 * args.repeats} alternating rounds):")
    for clock, per_op in bench_chain(2 * args.repeats).items():
        for name, ts in per_op.items():
            lo, hi = spread(ts)
            print(f"  {clock:4s} {name:10s} {statistics.median(ts) * 1e6:7.2f} us/op "
                  f"(p10-p90 {lo * 1e6:.2f}-{hi * 1e6:.2f})")
        if "pytorch" in per_op:
            ratios = [a / b for a, b in zip(per_op["crossgrad"], per_op["pytorch"])]
            lo, hi = spread(ratios)
            print(f"  {clock:4s} crossgrad / pytorch per round: median {statistics.median(ratios):.3f} "
                  f"(p10-p90 {lo:.3f}-{hi:.3f})")
    print("  goal: <= PyTorch's")


if __name__ == "__main__":
    main()
