"""Real models: one training step in crossgrad vs PyTorch CPU, and the full three-way
``crossgrad.check(loss)`` against one engine step — time and peak memory — in the same run
(issues 11 and 12).

    python bench/bench_models.py [--model gpt|lenet|resnet|all] [--quick] [--rounds 5]

Sizes are the issues': the GPT block (vocab 256, d_model 128, 4 heads, seq 64, batch 16), LeNet-5
at batch 64, the ResNet basic block at batch 32 on 16x32x32; all float32. ``--quick`` shrinks
the GPT block (vocab 64, d 32, seq 16, batch 4). A step is zero_grad + forward + backward +
optimizer step (AdamW for the GPT block, SGD with momentum for the CNNs). Rounds alternate a
crossgrad step and a torch step (when torch is installed, else no ratio is printed), steps back
to back as in training; then rounds of a check (its derivations compiled and cached by the
first, "cold", check), each ratio taken against that back-to-back step (a step right after a
check is slower, its caches evicted: printed, not used); medians are reported. Peak
memory is tracemalloc's, measured after the timing (it slows allocation) for one step and one
check of the same model. On a shared machine, run with OPENBLAS_NUM_THREADS=1 (numpy's
multi-threaded BLAS under load made single steps vary 10x between rounds; torch runs on 1 thread).
A large graph's check runs its witnesses side by side on CROSSGRAD_CHECK_THREADS threads (default
2, engine/parallel.py): its process CPU time counts every thread; ``--sequential-too`` also times
the check on one thread in alternating rounds.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads
    os.environ.setdefault(_var, "1")

ROOT = pathlib.Path(__file__).parents[1]


def _example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "models" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def gpt(lib: Any, quick: bool) -> tuple[Any, Callable[[], Any], Any]:
    """The model, its loss (a fresh graph per call) and its optimizer."""
    sizes = dict(vocab=64, d_model=32, heads=4, seq=16) if quick else dict(vocab=256, d_model=128, heads=4, seq=64)
    batch = 4 if quick else 16
    lib.manual_seed(0)
    model = _example("gpt_block").build(lib, **sizes)
    idx = lib.randint(0, sizes["vocab"], (batch, sizes["seq"]))
    targets = lib.randint(0, sizes["vocab"], (batch, sizes["seq"]))
    model.eval()  # dropout off: the check sees the function the step differentiates
    return model, lambda: model(idx, targets), lib.optim.AdamW(model.parameters(), lr=1e-3)


def cnn(name: str, batch: int, **data: Any) -> Callable[[Any, bool], tuple[Any, Callable[[], Any], Any]]:
    def make(lib: Any, quick: bool) -> tuple[Any, Callable[[], Any], Any]:
        module = _example(name)
        model = module.build(lib)
        module.init(lib, model, lib.float32)
        x, y = module.data(lib, batch, lib.float32, **data)
        loss_fn = lib.nn.CrossEntropyLoss()
        return model, lambda: loss_fn(model(x), y), lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    return make


MODELS = {
    "gpt": ("GPT block", gpt),
    "lenet": ("LeNet-5 batch 64", cnn("lenet", 64)),
    "resnet": ("ResNet block batch 32, 16x32x32", cnn("resnet_block", 32, channels=16, size=32)),
}


CPU: dict[str, list[float]] = {}  # process CPU seconds per timed call, by kind (load-independent-ish)


def stepper(model: Any, loss: Callable[[], Any], optimizer: Any, kind: str = "step") -> Callable[[], float]:
    def step() -> float:
        start, cpu = time.perf_counter(), time.process_time()
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
        CPU.setdefault(kind, []).append(time.process_time() - cpu)
        return time.perf_counter() - start

    return step


def peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def run(key: str, quick: bool, rounds: int, torch: Any, step_only: bool = False, sequential: bool = False) -> None:
    import crossgrad
    from crossgrad.engine import parallel

    label, make = MODELS[key]
    model, loss, optimizer = make(crossgrad, quick)
    ours = stepper(model, loss, optimizer)
    theirs = stepper(*make(torch, quick), kind="torch") if torch is not None else None
    names = dict(model.named_parameters())

    def check(threads: int | None = None, kind: str = "check") -> tuple[float, Any]:
        start, cpu = time.perf_counter(), time.process_time()
        report = crossgrad.check(loss(), names=names, threads=threads)
        CPU.setdefault(kind, []).append(time.process_time() - cpu)
        return time.perf_counter() - start, report

    ours(), theirs and theirs()  # warm up
    cold, report = check() if not step_only else (0.0, None)
    CPU.clear()
    times: dict[str, list[float]] = {"step": [], "torch": [], "check": [], "after": [], "sequential": []}
    last = report
    for _ in range(rounds):  # steps back to back, as in training: the step the check is measured against
        times["step"].append(ours())
        if theirs is not None:
            times["torch"].append(theirs())
    for _ in range(0 if step_only else rounds):
        seconds, last = check()
        times["check"].append(seconds)
        times["after"].append(ours())  # a step right after a check (its caches evicted): shown, not used
        if sequential:  # the same check on one thread, alternating with the default
            times["sequential"].append(check(1, "sequential")[0])
    step = statistics.median(times["step"])
    print(f"{label}{' (quick sizes)' if quick and key == 'gpt' else ''}, float32")
    line = f"  engine step: {step * 1e3:.1f} ms"
    if theirs is not None:
        ref = statistics.median(times["torch"])
        line += f"; PyTorch CPU (1 thread) {ref * 1e3:.1f} ms; ratio {step / ref:.2f}x"
    print(line)
    if step_only:
        return
    checked = statistics.median(times["check"])
    print(f"  full three-way check: cold {cold * 1e3:.0f} ms = {cold / step:.1f}x a step; "
          f"cached {checked * 1e3:.0f} ms = {checked / step:.1f}x a step (goal <= 10x; a step right after "
          f"a check takes {statistics.median(times['after']) * 1e3:.1f} ms)")
    cpu_step, cpu_check = (statistics.median(CPU[k][:rounds]) if k == "step" else statistics.median(CPU[k])
                           for k in ("step", "check"))
    print(f"  the same in process CPU time (less sensitive to other processes on a loaded machine): step "
          f"{cpu_step * 1e3:.1f} ms, cached check {cpu_check * 1e3:.0f} ms = {cpu_check / cpu_step:.1f}x; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  threads per check: {parallel.threads()} ({parallel.ENV}; a large graph's witnesses side by side, "
          f"when a core is idle: {'yes' if parallel.idle_core() else 'no'} at the end)")
    if sequential:
        one, cpu_one = statistics.median(times["sequential"]), statistics.median(CPU["sequential"])
        print(f"  the cached check on one thread, alternating: {one * 1e3:.0f} ms = {one / step:.1f}x a step; "
              f"CPU {cpu_one * 1e3:.0f} ms = {cpu_one / cpu_step:.1f}x")
    print(f"  verdict {report.verdict}, tier {report.tier}, finite differences {report.finite_difference}")
    for name, found in (("cold", report), ("cached, last round", last)):
        print(f"  check stages ({name}, ms): " + ", ".join(f"{k} {v * 1e3:.0f}" for k, v in found.timings.items()))
    step_mb = peak_mb(lambda: ours())
    check_mb = peak_mb(check)
    print(f"  tracemalloc peak: step {step_mb:.1f} MB, check {check_mb:.1f} MB = {check_mb / step_mb:.1f}x "
          "(issue 12's goal for LeNet: <= 3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="a smaller GPT block (vocab 64, d 32, seq 16, batch 4)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--step-only", action="store_true", help="time the training step only, not the check")
    parser.add_argument("--sequential-too", action="store_true",
                        help="also time the check on one thread (threads=1), alternating rounds")
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
        print("PyTorch not installed: no step ratios (pip install 'crossgrad[torch]')")
    import crossgrad.engine.check  # noqa: F401  (imports, SymPy's included, are not the check's cost)

    for key in MODELS if args.model == "all" else [args.model]:
        run(key, args.quick, args.rounds, torch, args.step_only, args.sequential_too)


if __name__ == "__main__":
    main()
