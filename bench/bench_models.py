"""The GPT block of examples/models/gpt_block.py: one training step in crossgrad vs PyTorch CPU,
and the full three-way crossgrad.check against one engine step, in the same run (issue 11).

    python bench/bench_models.py [--quick] [--rounds 5] [--step-only]

Default sizes are the issue's: vocab 256, d_model 128, 4 heads, seq 64, batch 16 (float32).
Rounds alternate crossgrad and torch; medians are printed with their ratio. Without torch the
ratio is left out (said so, no stored figure is passed off as measured). Threads: torch runs on
1 thread and so does numpy's BLAS (OPENBLAS_NUM_THREADS etc. default to 1 here, set before numpy
loads; export them to compare otherwise). On a shared 2-core machine a 2-thread OpenBLAS spins
against the other processes: the step measured 1,063 ms that way vs 132 ms on 1 thread.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads
    os.environ.setdefault(_var, "1")

ROOT = pathlib.Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location("gpt_block", ROOT / "examples" / "models" / "gpt_block.py")
gpt_block = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpt_block)  # type: ignore[union-attr]


def step_timer(lib, sizes: dict, batch: int):  # noqa: ANN001, ANN201
    lib.manual_seed(0)
    model = gpt_block.build(lib, **sizes)
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3)
    idx = lib.randint(0, sizes["vocab"], (batch, sizes["seq"]))
    targets = lib.randint(0, sizes["vocab"], (batch, sizes["seq"]))

    def step() -> float:
        start = time.perf_counter()
        optimizer.zero_grad()
        model(idx, targets).backward()
        optimizer.step()
        return time.perf_counter() - start

    return step, model, idx, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller block (vocab 64, d 32, seq 16, batch 4)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--step-only", action="store_true", help="time the training step only, not the check")
    args = parser.parse_args()
    sizes = dict(vocab=64, d_model=32, heads=4, seq=16) if args.quick else dict(vocab=256, d_model=128, heads=4, seq=64)
    batch = 4 if args.quick else 16
    import crossgrad

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    ours, model, idx, targets = step_timer(crossgrad, sizes, batch)
    theirs = step_timer(torch, sizes, batch)[0] if torch is not None else None
    ours(), theirs and theirs()  # warm up
    times: dict[str, list[float]] = {"crossgrad": [], "torch": []}
    for _ in range(args.rounds):
        times["crossgrad"].append(ours())
        if theirs is not None:
            times["torch"].append(theirs())
    step = statistics.median(times["crossgrad"])
    print(f"GPT block {sizes}, batch {batch}, float32; numpy BLAS threads "
          f"{os.environ['OPENBLAS_NUM_THREADS']}, torch threads 1")
    print(f"  engine step (forward+backward+AdamW): crossgrad {step * 1e3:.1f} ms")
    if theirs is not None:
        ref = statistics.median(times["torch"])
        print(f"  PyTorch CPU (1 thread) {ref * 1e3:.1f} ms; ratio {step / ref:.2f}x (goal <= 1.3x)")
    else:
        print("  PyTorch not installed: no ratio (pip install 'crossgrad[torch]')")
    if args.step_only:
        return
    model.eval()
    for label in ("cold (derivations compiled)", "cached structure"):
        start = time.perf_counter()
        report = crossgrad.check(model(idx, targets), names=dict(model.named_parameters()))
        elapsed = time.perf_counter() - start
        print(f"  full three-way check, {label}: {elapsed * 1e3:.0f} ms = {elapsed / step:.1f}x one engine step "
              f"(goal <= 10x); verdict {report.verdict}, tier {report.tier}, "
              f"finite differences {report.finite_difference}")


if __name__ == "__main__":
    main()
