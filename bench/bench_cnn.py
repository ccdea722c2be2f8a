"""CNN benchmarks: LeNet-5 forward+backward (batch 64) and the ResNet block (batch 32, 16x32x32),
crossgrad vs PyTorch eager CPU in the same run (when torch is installed); conv2d fwd+bwd vs a
hand-written numpy im2col floor; the three-way check of LeNet vs one engine step (time and
tracemalloc peak).

    .venv/bin/python bench/bench_cnn.py [--repeat 5]

Threads: torch runs on 1 thread and so does numpy's BLAS (OPENBLAS_NUM_THREADS etc. default to 1
here, set before numpy loads; export them to compare otherwise).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "models"))

import lenet  # noqa: E402
import resnet_block  # noqa: E402


def best(fn: Any, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def model_step(lib: Any, module: Any, batch: int, **kw: Any) -> Any:
    model = module.build(lib, **({"channels": kw["channels"]} if "channels" in kw else {}))
    module.init(lib, model, lib.float32)
    x, y = module.data(lib, batch, lib.float32, **kw)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step() -> Any:
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    return step


def im2col_conv(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple:
    """The floor: stride-1 unpadded conv2d forward and both gradients with explicit im2col + GEMM."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    cols = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # n c oh ow kh kw
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    y = (cols @ w.reshape(o, -1).T).reshape(n, oh, ow, o).transpose(0, 3, 1, 2)
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, o)
    gw = (g2.T @ cols).reshape(w.shape)
    dcols = (g2 @ w.reshape(o, -1)).reshape(n, oh, ow, c, kh, kw)
    gx = np.zeros_like(x)
    for p in range(kh):
        for q in range(kw):
            gx[:, :, p:p + oh, q:q + ow] += dcols[:, :, :, :, p, q].transpose(0, 3, 1, 2)
    return y, gw, gx


def conv_row(repeat: int) -> None:
    import crossgrad
    import crossgrad.nn.functional as F

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    g = rng.standard_normal((64, 16, 10, 10)).astype(np.float32)
    floor = best(lambda: im2col_conv(x, w, g), repeat)
    xt, wt = crossgrad.tensor(x, requires_grad=True), crossgrad.tensor(w, requires_grad=True)
    gt = crossgrad.tensor(g)
    ours = best(lambda: F.conv2d(xt, wt).backward(gt), repeat)
    print(f"conv2d fwd+bwd (64x6x14x14 * 16x6x5x5): crossgrad {ours * 1e3:.2f} ms, numpy im2col floor "
          f"{floor * 1e3:.2f} ms, ratio {ours / floor:.2f}x")


def model_rows(repeat: int) -> dict:
    import crossgrad

    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    out = {}
    for name, module, batch, kw in (("LeNet-5 b64", lenet, 64, {}),
                                    ("ResNet block b32 16x32x32", resnet_block, 32, {"channels": 16, "size": 32})):
        ours = best(model_step(crossgrad, module, batch, **kw), repeat)
        line = f"{name} fwd+bwd: crossgrad {ours * 1e3:.1f} ms"
        if torch is not None:
            theirs = best(model_step(torch, module, batch, **kw), repeat)
            line += f", torch CPU (1 thread) {theirs * 1e3:.1f} ms, ratio {ours / theirs:.2f}x"
        out[name] = ours
        print(line)
    return out


def check_row(step_seconds: float) -> None:
    import crossgrad

    model = lenet.build(crossgrad)
    lenet.init(crossgrad, model, crossgrad.float32)
    x, y = lenet.data(crossgrad, 64, crossgrad.float32)
    loss_fn = crossgrad.nn.CrossEntropyLoss()
    tracemalloc.start()
    loss = loss_fn(model(x), y)
    loss.backward()
    step_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    t = time.perf_counter()
    report = crossgrad.check(loss_fn(model(x), y), names=dict(model.named_parameters()), tier="tensor")
    seconds = time.perf_counter() - t
    check_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"LeNet b64 three-way check (tensor tier): {seconds * 1e3:.0f} ms = {seconds / step_seconds:.1f}x one "
          f"engine step; verdict {report.verdict}; tracemalloc peak {check_peak / 1e6:.1f} MB vs step "
          f"{step_peak / 1e6:.1f} MB ({check_peak / step_peak:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"numpy BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, torch threads 1")
    conv_row(args.repeat)
    steps = model_rows(args.repeat)
    check_row(steps["LeNet-5 b64"])


if __name__ == "__main__":
    main()
