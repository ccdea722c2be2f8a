"""Second-order speed, every baseline measured in the same run (alternating rounds).

    python bench/bench_higher.py [--quick]

1. ``crossgrad.check(loss, order=2)`` of the seed graph (BCE-with-logits of ones(5) @ w + b,
   18 differentiable elements: 3 seeded Hessian-vector directions, three witnesses), cold (caches emptied) and
   with the structure cached (new weight values every call), against the first-order check of
   the same graphs in alternating rounds.
2. The same for a 2-layer 64-unit tanh net (x 16x8 -> Linear(8, 64) -> tanh -> Linear(64, 1),
   MSE; 641 weights).
3. The Hessian-vector product of the seed MLP (784-512-512-10, batch 64, float32, cross-entropy)
   by double backward: crossgrad vs PyTorch's double backward (torch on 1 thread, BLAS on 1
   thread for numpy too), alternating rounds. Goal: <= 1.5x. PyTorch only when installed.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads: both engines on one core

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import crossgrad  # noqa: E402
import crossgrad.nn.functional as F  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import clear_caches as clear_first_order_caches  # noqa: E402
from bench_check import seed_loss  # noqa: E402
from crossgrad.engine.symbolic import second_order  # noqa: E402


def clear_caches() -> None:
    clear_first_order_caches()
    second_order._COMPILED.clear()


def tanh_net(values_seed: int):
    rng = np.random.default_rng(values_seed)
    x = crossgrad.tensor(rng.standard_normal((16, 8)))
    y = crossgrad.tensor(rng.standard_normal((16, 1)))
    w1 = crossgrad.tensor(rng.standard_normal((64, 8)) / np.sqrt(8), requires_grad=True)
    b1 = crossgrad.tensor(rng.standard_normal(64) * 0.1, requires_grad=True)
    w2 = crossgrad.tensor(rng.standard_normal((1, 64)) / 8, requires_grad=True)
    b2 = crossgrad.tensor(rng.standard_normal(1) * 0.1, requires_grad=True)
    return F.mse_loss(F.linear(crossgrad.tanh(F.linear(x, w1, b1)), w2, b2), y)


def timed(fn: Callable[..., object], *args: object, **kw: object) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - start, out


def bench_check(name: str, make: Callable[[int], object], calls: int, rounds: int) -> None:
    """Cold order 1 / order 2, then rounds of cached order-2 checks alternating with order-1 ones."""
    cold = {}
    for order in (1, 2):
        clear_caches()
        cold[order], _ = timed(crossgrad.check, make(10_000 + order), order=order)
    times: dict[int, list[float]] = {1: [], 2: []}
    reports: dict[int, object] = {}
    seed = 0
    for _ in range(rounds):
        for order in (2, 1):
            losses = [make(seed + k) for k in range(calls)]
            seed += calls
            for loss in losses:
                t, reports[order] = timed(crossgrad.check, loss, order=order)
                times[order].append(t)
    m1, m2 = statistics.median(times[1]), statistics.median(times[2])
    print(f"{name}: order 2 verdict {reports[2].verdict}, order 1 verdict {reports[1].verdict}")  # type: ignore[attr-defined]
    print(f"   order 2: cold {cold[2] * 1e3:8.2f} ms, cached {m2 * 1e3:8.2f} ms (median of {len(times[2])})")
    print(f"   order 1: cold {cold[1] * 1e3:8.2f} ms, cached {m1 * 1e3:8.2f} ms (median of {len(times[1])})")
    print(f"   order 2 / order 1 (cached, same run): {m2 / m1:.2f}x")
    print("   order-2 stages (last call): " + ", ".join(
        f"{k} {v * 1e3:.2f} ms" for k, v in reports[2].timings.items()) if reports[2].timings  # type: ignore[attr-defined]
        else "   " + "; ".join(reports[2].notes))  # type: ignore[attr-defined]


def mlp_hvp(lib: object, params: list, x: object, y: object, vs: list) -> object:
    """H v of the seed MLP's loss by double backward, written once for both libraries."""
    t = lib  # crossgrad or torch
    h = x.flatten(1)  # type: ignore[attr-defined]
    f = t.nn.functional  # type: ignore[attr-defined]
    h = t.relu(f.linear(h, params[0], params[1]))  # type: ignore[attr-defined]
    h = t.relu(f.linear(h, params[2], params[3]))  # type: ignore[attr-defined]
    loss = f.cross_entropy(f.linear(h, params[4], params[5]), y)
    gs = t.autograd.grad(loss, params, create_graph=True)  # type: ignore[attr-defined]
    total = sum((g * v).sum() for g, v in zip(gs, vs))
    return t.autograd.grad(total, params)  # type: ignore[attr-defined]


def bench_hvp(repeats: int) -> None:
    rng = np.random.default_rng(0)
    sizes = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
    arrays = [rng.uniform(-0.05, 0.05, s).astype(np.float32) for s in sizes]
    directions = [rng.standard_normal(s).astype(np.float32) for s in sizes]
    x, y = rng.random((64, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    fns = {"crossgrad": _setup(crossgrad, arrays, directions, x, y)}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        fns["pytorch"] = _setup(torch, arrays, directions, x, y)
        ours = [o.numpy() for o in fns["crossgrad"]()]  # type: ignore[attr-defined]
        theirs = [o.numpy() for o in fns["pytorch"]()]  # type: ignore[attr-defined]
        worst = max(float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30)) for a, b in zip(ours, theirs))
        print(f"3. seed MLP HVP by double backward (float32): max |ours - torch| / max |torch| = {worst:.1e}")
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn)[0])
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in med.items():
        print(f"   {name:10s} {t * 1e3:8.2f} ms (median of {repeats}, alternating)")
    if "pytorch" in med:
        print(f"   crossgrad / pytorch {med['crossgrad'] / med['pytorch']:.2f}x (goal <= 1.5x)")


def _setup(lib: object, arrays: list, directions: list, x: np.ndarray, y: np.ndarray) -> Callable[[], object]:
    params = [lib.tensor(a, requires_grad=True) for a in arrays]  # type: ignore[attr-defined]
    vs = [lib.tensor(v) for v in directions]  # type: ignore[attr-defined]
    xt, yt = lib.tensor(x), lib.tensor(y)  # type: ignore[attr-defined]
    return lambda: mlp_hvp(lib, params, xt, yt, vs)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    calls, rounds, repeats = (5, 2, 5) if args.quick else (20, 5, 20)
    bench_check("1. seed graph", seed_loss, calls, rounds)
    bench_check("2. 2-layer 64-unit tanh net", tanh_net, max(calls // 4, 2), rounds)
    bench_hvp(repeats)


if __name__ == "__main__":
    main()
