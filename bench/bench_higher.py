"""Second-order speed, every baseline measured in the same run (alternating rounds).

    python bench/bench_higher.py [--quick]

1. ``crossgrad.check(loss, order=2)`` of the seed graph (BCE-with-logits of ones(5) @ w + b,
   18 differentiable elements: 3 seeded Hessian-vector directions, three witnesses), cold (caches emptied) and
   with the structure cached (new weight values every call), against the first-order check of
   the same graphs in alternating rounds.
2. The same for a 2-layer 64-unit tanh net (x 16x8 -> Linear(8, 64) -> tanh -> Linear(64, 1),
   MSE; 641 weights): above the exact tier's 24 elements, so the symbolic witness is the tensor
   tier's Hessian-vector products (tangents through its SymPy-derived gradient program); cold
   includes SymPy's derivations and compilation. Also order 2 without the symbolic witness
   (tier off), same rounds, to show what the tensor tier adds.
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
from crossgrad.engine.symbolic import (  # noqa: E402
    contractions,
    second_order,
    tensor_cache,
    tensor_hvp,
    tensor_second,
)


def clear_caches() -> None:
    clear_first_order_caches()
    for cache in (second_order._COMPILED, tensor_hvp._SECONDS, tensor_second._SECOND):
        cache.clear()
    for module in (contractions, tensor_cache):
        for value in vars(module).values():
            if hasattr(value, "cache_clear"):  # the contractions' lru caches
                value.cache_clear()
    tensor_cache._STEPS.clear()  # compiled steps per op signature, process-wide


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


CONFIGS = {"order 2": {"order": 2}, "order 2, tier off": {"order": 2, "tier": "off"}, "order 1": {"order": 1}}


def bench_check(name: str, make: Callable[[int], object], calls: int, rounds: int) -> None:
    """Cold, then rounds of cached checks per configuration (order 2 with and without the symbolic
    witness, order 1), alternating."""
    cold = {}
    for k, (label, kw) in enumerate(CONFIGS.items()):
        clear_caches()
        cold[label], _ = timed(crossgrad.check, make(10_000 + k), **kw)
    for k, kw in enumerate(CONFIGS.values()):  # each clear above emptied the others' caches
        crossgrad.check(make(20_000 + k), **kw)
    times: dict[str, list[float]] = {label: [] for label in CONFIGS}
    reports: dict[str, object] = {}
    seed = 0
    for _ in range(rounds):
        for label, kw in CONFIGS.items():
            losses = [make(seed + k) for k in range(calls)]
            seed += calls
            for loss in losses:
                t, reports[label] = timed(crossgrad.check, loss, **kw)
                times[label].append(t)
    med = {label: statistics.median(t) for label, t in times.items()}
    two = reports["order 2"]
    print(f"{name}: order 2 verdict {two.verdict} (symbolic tier {two.tier}), "  # type: ignore[attr-defined]
          f"order 1 verdict {reports['order 1'].verdict}")  # type: ignore[attr-defined]
    for label in CONFIGS:
        spread = f"p10-p90 {_quantile(times[label], 0.1) * 1e3:.2f}-{_quantile(times[label], 0.9) * 1e3:.2f}"
        print(f"   {label:18s}: cold {cold[label] * 1e3:8.2f} ms, cached {med[label] * 1e3:8.2f} ms "
              f"(median of {len(times[label])}, {spread})")
    print(f"   order 2 / order 1 (cached, same run): {med['order 2'] / med['order 1']:.2f}x")
    print("   order-2 stages (last call): " + ", ".join(
        f"{k} {v * 1e3:.2f} ms" for k, v in two.timings.items()))  # type: ignore[attr-defined]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
