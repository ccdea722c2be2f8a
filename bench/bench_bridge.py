"""crossgrad.torch.gradcheck against torch.autograd.gradcheck, same run, same inputs.

    .venv/bin/python bench/bench_bridge.py [--rounds N]   (default 100; the MLP runs N // 4)

1. The seed graph (bce_with_logits(ones(5) @ w + b, zeros(3)), float64), both full: torch
   builds the whole numerical and analytical Jacobian; crossgrad checks every element of w
   and b against its numeric and symbolic (exact tier) witnesses; finite differences and the
   full report run only when some element differs (engine/facade/torch/quick.py).
2. The seed MLP (784-512-512-10 + cross-entropy, batch 4, float64) with x and every parameter
   as inputs: torch with fast_mode=True (one random projection per input), crossgrad checking
   every element (tensor tier, directional finite differences).

The two are called alternately, round after round. The goal figure is the median of these
repeated calls: a crossgrad call reuses its cached capture (the graph structure, the mapping and
the validated plan, per function and input shapes/dtypes/requires_grad) and re-runs every
witness and comparison on the current values; the first call, which pays make_fx, is reported
apart. Medians are reported with the ratio, and the load average with them.
Both run on one thread: torch.set_num_threads(1), crossgrad's check threads off
(CROSSGRAD_CHECK_THREADS=1, engine/parallel.py), and numpy's OpenBLAS pinned to one thread
before numpy loads (on a loaded 2-core machine its spinning threads made crossgrad's MLP
check ~15x torch instead of ~2x).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CROSSGRAD_CHECK_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import torch  # noqa: E402
from crossgrad.torch import gradcheck  # noqa: E402
from torch import nn  # noqa: E402


def seed_case() -> tuple[Callable[..., torch.Tensor], tuple[torch.Tensor, ...]]:
    torch.manual_seed(1)
    w = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)

    def seed(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        logits = torch.ones(5, dtype=torch.float64) @ w + b
        return nn.functional.binary_cross_entropy_with_logits(logits, torch.zeros(3, dtype=torch.float64))

    return seed, (w, b)


def mlp_case(batch: int = 4) -> tuple[Callable[..., torch.Tensor], tuple[torch.Tensor, ...]]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                        nn.Linear(512, 10)).double()
    names = [n for n, _ in net.named_parameters()]
    x = torch.randn(batch, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 10, (batch,))
    params = tuple(p.detach().clone().requires_grad_(True) for p in net.parameters())

    def mlp(x: torch.Tensor, *ps: torch.Tensor) -> torch.Tensor:
        out = torch.func.functional_call(net, dict(zip(names, ps)), (x,))
        return nn.functional.cross_entropy(out, target)

    return mlp, (x, *params)


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    assert fn() is True
    return time.perf_counter() - start


def compare(name: str, ours: Callable[[], object], theirs: Callable[[], object], rounds: int) -> float:
    first = _time(ours)
    times: dict[str, list[float]] = {"crossgrad": [], "torch": []}
    for _ in range(rounds):
        times["crossgrad"].append(_time(ours))
        times["torch"].append(_time(theirs))
    a, b = statistics.median(times["crossgrad"]), statistics.median(times["torch"])
    print(f"{name}: crossgrad.torch.gradcheck {a * 1e3:.2f} ms, torch.autograd.gradcheck {b * 1e3:.2f} ms, "
          f"ratio {a / b:.2f}x (median of {rounds} repeated calls, the goal figure; {_spread(times)}; crossgrad's "
          f"first call with capture {first * 1e3:.0f} ms; load average {os.getloadavg()[0]:.1f})")
    return a / b


def _spread(times: dict[str, list[float]], blocks: int = 5) -> str:
    """The ratio of medians in each fifth of the rounds: how far the machine's state moved it."""
    size = len(times["crossgrad"]) // blocks
    if size < 3:
        return "too few rounds for a spread"
    ratios = [statistics.median(times["crossgrad"][k * size:(k + 1) * size]) /
              statistics.median(times["torch"][k * size:(k + 1) * size]) for k in range(blocks)]
    return f"per fifth of the rounds {min(ratios):.2f}-{max(ratios):.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seed, inputs = seed_case()
    compare("seed graph, float64, both full", lambda: gradcheck(seed, inputs),
            lambda: torch.autograd.gradcheck(seed, inputs), args.rounds)
    mlp, inputs = mlp_case()
    compare("seed MLP 784-512-512-10, batch 4, float64 (torch fast_mode)", lambda: gradcheck(mlp, inputs),
            lambda: torch.autograd.gradcheck(mlp, inputs, fast_mode=True), max(3, args.rounds // 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
