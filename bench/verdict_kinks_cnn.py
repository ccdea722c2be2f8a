# ruff: noqa: E501  (a table of ops, one lambda each)
"""Random graphs of the newer kink ops on integer leaves (a bench, not a test): max/avg/adaptive
pooling, amax/max(dim), clamp/hardtanh/leaky_relu/elu/relu, -inf masks before softmax /
log_softmax / logsumexp, layer_norm, training batch_norm, conv2d — ties and kinks everywhere.
Every witness is right, so a mismatch is a false alarm (issue 20 item 5's test, extended).

    python bench/verdict_kinks_cnn.py [--graphs N] [--seed S]
"""

from __future__ import annotations

import argparse
import warnings

import crossgrad as torch
import crossgrad.nn.functional as F  # noqa: N812
import numpy as np

IMAGE = {  # (N, C, H, W) -> same rank
    "max_pool2d": lambda t, r: F.max_pool2d(t, 2, stride=int(r.integers(1, 3)), padding=int(r.integers(0, 2))),
    "adaptive_max_pool2d": lambda t, r: F.adaptive_max_pool2d(t, (int(r.integers(1, 4)), int(r.integers(1, 4)))),
    "avg_pool2d": lambda t, r: F.avg_pool2d(t, 2, stride=1, padding=int(r.integers(0, 2))),
    "relu": lambda t, r: torch.relu(t), "leaky_relu": lambda t, r: F.leaky_relu(t, 0.1),
    "elu": lambda t, r: F.elu(t), "hardtanh": lambda t, r: F.hardtanh(t), "clamp": lambda t, r: t.clamp(-1.0, 1.0),
    "batch_norm": lambda t, r: F.batch_norm(t, None, None, training=True),
    "conv2d": lambda t, r: F.conv2d(t, torch.tensor(r.integers(-1, 2, (2, t.shape[1], 2, 2)).astype(float), dtype=t.dtype),
                                    padding=1),
    "maximum": lambda t, r: torch.maximum(t, t.flip(-1)),
    "mask -inf softmax": lambda t, r: torch.softmax(t.masked_fill(torch.tensor(r.random(t.shape) < 0.4), float("-inf")), -1),
    "mask -inf log_softmax": lambda t, r: torch.log_softmax(t.masked_fill(torch.tensor(r.random(t.shape) < 0.2), -1e9), -1),
    "layer_norm": lambda t, r: F.layer_norm(t, t.shape[-1:]),
}
ROWS = {  # -> a smaller tensor (then back to a loss)
    "amax": lambda t, r: t.amax(-1), "max(dim)": lambda t, r: t.max(-1).values, "min(dim)": lambda t, r: t.min(-2).values,
    "logsumexp": lambda t, r: torch.logsumexp(t, -1), "max()": lambda t, r: t.max(),
}


def one(r: np.random.Generator, dtype: object) -> object:
    x = torch.tensor(r.integers(-2, 3, (2, 2, 4, 4)).astype(float), dtype=dtype, requires_grad=True)
    t, names = x, []
    for _ in range(int(r.integers(1, 4))):
        name = str(r.choice(sorted(IMAGE)))
        if t.shape[-1] < 2 or t.shape[-2] < 2:
            break
        t = IMAGE[name](t, r)
        names.append(name)
    if r.random() < 0.5:
        name = str(r.choice(sorted(ROWS)))
        t = ROWS[name](t, r)
        names.append(name)
    w = torch.tensor(r.integers(1, 4, tuple(t.shape)).astype(float) * 0.5, dtype=dtype)
    return (t * w).sum(), names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graphs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    r = np.random.default_rng(args.seed)
    counts: dict[str, int] = {}
    bad = 0
    for k in range(args.graphs):
        dtype = torch.float64 if k % 2 else torch.float32
        with np.errstate(all="ignore"):
            loss, names = one(r, dtype)
            report = torch.check(loss)
        counts[report.verdict] = counts.get(report.verdict, 0) + 1
        if (k + 1) % 20 == 0:
            print(f"  {k + 1} graphs: {counts}", flush=True)
        if report.verdict == "mismatch":
            bad += 1
            print(f"graph {k} ({'float64' if k % 2 else 'float32'}): {' -> '.join(names)}: MISMATCH\n{report}", flush=True)
    print(f"{args.graphs} graphs: {counts}; {bad} false alarms")
    return bad


if __name__ == "__main__":
    raise SystemExit(main())
