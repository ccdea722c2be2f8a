"""Cross-check speed, with every baseline measured in the same run.

    python bench/bench_check.py [--quick]

1. The seed graph's full three-way check, cold (all caches emptied) and with the structure
   cached (new weight values on every call, so no result can be reused), rounds of cached
   checks alternating with rounds of the engine's own forward+backward of the seed graph (the
   baseline: this machine's speed swings about 2x from minute to minute, the ratio much less).
   Goals: cached <= 1 ms, cold <= 100 ms.
2. The exact tier on 2-layer tanh nets of growing size (full check, tier=exact) against naive
   whole-expression SymPy (one expression for the loss, sympy.diff by every weight), each
   size limited to 10 s (naive runs in a subprocess that is stopped at the limit).
   Goal: >= 8,192 weights within 10 s.
3. The seed MLP (784-512-512-10, batch 64): the tensor tier's gradient time over one engine
   forward+backward (float32). Goal: <= 3x. Printed twice: as crossgrad runs it (freed memory
   kept for reuse, engine/allocator.py) and, in a child process, with glibc's allocator defaults.
4. The seed MLP with one planted bug (bench_localize.py): the check, the localization that names
   the faulty node, the HTML report, each timed. Goal: localization <= 3x the check.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
from crossgrad.engine import allocator, graph
from crossgrad.engine.graph import validate
from crossgrad.engine.numeric import batched
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.symbolic import exact, tensor

LIMIT = 10.0
SEED_CHECKS = 300  # cached seed checks timed (each ~1 ms), in --quick runs too
ROUND = 50  # cached checks and baseline steps alternate in rounds of this many


def clear_caches() -> None:
    """Everything a check caches by structure: derivations, compiled plans, validation, reach."""
    for cache in (exact._TEMPLATES, exact._GRADIENTS, exact._PLANS, exact._WORK, tensor._TEMPLATES,
                  tensor._PLANS, tensor._SAVES, graph._VALIDATED, batched._REACH):
        cache.clear()


def seed_loss(values_seed: int = 1):
    torch.manual_seed(values_seed)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    return F.binary_cross_entropy_with_logits(torch.matmul(torch.ones(5), w) + b, torch.zeros(3))


def engine_step(values_seed: int) -> float:
    """The baseline: the seed graph built and differentiated by the engine (what a user runs)."""
    start = time.perf_counter()
    seed_loss(values_seed).backward()
    return time.perf_counter() - start


def bench_seed(repeats: int) -> None:
    """Every check gets new weights: only the structure can be cached, never a result. Rounds
    of cached checks alternate with rounds of the engine's forward+backward of the seed graph,
    the baseline that shows how fast the machine is running at that moment."""
    losses = [seed_loss(values_seed) for values_seed in range(repeats + 5)]
    cold = []
    for loss in losses[:5]:
        clear_caches()
        start = time.perf_counter()
        torch.check(loss)
        cold.append(time.perf_counter() - start)
    warm, step = [], []
    for first in range(5, len(losses), ROUND):  # rounds of checks, then as many engine steps
        for loss in losses[first:first + ROUND]:
            start = time.perf_counter()
            report = torch.check(loss)
            warm.append(time.perf_counter() - start)
        step.extend(engine_step(values_seed) for values_seed in range(first, first + ROUND))
    assert report.verdict == "agree"
    c, w, e = statistics.median(cold), statistics.median(warm), statistics.median(step)
    print("1. seed graph, full three-way check (median):")
    print(f"   cold {c * 1e3:8.2f} ms (goal <= 100 ms)   cached {w * 1e3:8.3f} ms (goal <= 1 ms)"
          f"   cold/cached {c / w:.1f}x")
    print(f"   baseline, the engine's forward+backward of the seed graph {e * 1e3:.3f} ms: cached check / "
          f"engine {w / e:.1f}x")
    print("   cached stages (last call): " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in report.timings.items()))


def two_layer(d: int, h: int):
    """loss = sum(tanh(x W1) W2) for x of size d: d*h + h weights."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((1, d)), dtype=torch.float64)
    w1 = torch.tensor(rng.standard_normal((d, h)) / np.sqrt(d), dtype=torch.float64, requires_grad=True)
    w2 = torch.tensor(rng.standard_normal((h, 1)) / np.sqrt(h), dtype=torch.float64, requires_grad=True)
    return (torch.tanh(x @ w1) @ w2).sum(), (x, w1, w2)


def naive_sympy(d: int, h: int, out: mp.Queue) -> None:
    """The whole loss as one SymPy expression, differentiated by every weight."""
    import sympy as sp

    rng = np.random.default_rng(0)
    x = rng.standard_normal(d)
    w1 = sp.symbols(f"a0:{d * h}")
    w2 = sp.symbols(f"b0:{h}")
    loss = sum(w2[k] * sp.tanh(sum(sp.Float(x[i]) * w1[i * h + k] for i in range(d))) for k in range(h))
    start = time.perf_counter()
    for v in w1 + w2:
        sp.diff(loss, v)
    out.put(time.perf_counter() - start)


def timed_naive(d: int, h: int) -> float | None:
    queue: mp.Queue = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=naive_sympy, args=(d, h, queue))
    start = time.perf_counter()
    proc.start()
    proc.join(LIMIT + 5)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None
    return queue.get() if not queue.empty() else time.perf_counter() - start


def bench_exact(sizes: list[tuple[int, int]]) -> None:
    print("2. exact tier on 2-layer tanh nets (full check, tier=exact) vs naive whole-expression SymPy:")
    naive_alive = True
    best = 0
    for d, h in sizes:
        weights = d * h + h
        loss, _ = two_layer(d, h)
        clear_caches()
        start = time.perf_counter()
        report = torch.check(loss, tier="exact")
        ours = time.perf_counter() - start
        naive = timed_naive(d, h) if naive_alive else None
        naive_alive = naive is not None and naive < LIMIT
        naive_text = f"{naive:7.2f} s" if naive is not None else f"> {LIMIT:.0f} s (stopped)"
        ratio = f"  naive/ours {naive / ours:6.1f}x" if naive is not None else ""
        print(f"   {weights:6d} weights  crossgrad {ours:7.2f} s ({report.verdict})"
              f"  naive {naive_text}{ratio}")
        if ours <= LIMIT and report.verdict == "agree":
            best = weights
        if ours > LIMIT:
            break
    print(f"   largest verified within {LIMIT:.0f} s: {best} weights (goal >= 8,192)")


def bench_mlp(repeats: int) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    from seed_autograd import NeuralNetwork

    torch.manual_seed(0)
    model = NeuralNetwork()
    x = torch.rand(64, 28, 28)
    y = torch.tensor(np.random.default_rng(0).integers(0, 10, 64))

    def engine_step():
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()

    plan = validate(to_graph(F.cross_entropy(model(x), y))[0])
    seed = np.ones(())
    tensor.gradients(plan, seed)
    for _ in range(3):
        engine_step()
    steps, checks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        engine_step()
        steps.append(time.perf_counter() - start)
        start = time.perf_counter()
        tensor.gradients(plan, seed)
        checks.append(time.perf_counter() - start)
    s, c = statistics.median(steps), statistics.median(checks)
    tuned = "kept for reuse" if allocator.keep_freed_memory() else "glibc defaults"
    print(f"   engine step (float32) {s * 1e3:7.2f} ms   tensor tier (float64) {c * 1e3:7.2f} ms"
          f"   ratio {c / s:.2f}x (goal <= 3x; freed memory: {tuned})")


def bench_mlp_both(repeats: int) -> None:
    """Section 3 as crossgrad runs it, then in a child with glibc's allocator defaults."""
    print("3. seed MLP 784-512-512-10, batch 64:")
    bench_mlp(repeats)
    env = {**os.environ, "CROSSGRAD_MALLOC_DEFAULTS": "1"}
    subprocess.run([sys.executable, __file__, "--mlp-only", "--repeats", str(repeats)], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes")
    parser.add_argument("--mlp-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=None, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    repeats = opts.repeats or (10 if opts.quick else 50)
    if opts.mlp_only:
        bench_mlp(repeats)
        return
    bench_seed(SEED_CHECKS)
    sizes = [(8, 16), (16, 32), (32, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 512), (512, 512)]
    bench_exact(sizes[:3] if opts.quick else sizes)
    bench_mlp_both(repeats)
    from bench_localize import bench_planted_mlp  # section 4 (issue 15), in bench/ next to this file

    bench_planted_mlp(3 if opts.quick else 5)


if __name__ == "__main__":
    main()
