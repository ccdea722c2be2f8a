# ruff: noqa: E501  (a table of cases, one graph and its torch twin each)
"""Can crossgrad be made to say `agree` on a wrong claimed gradient, or `mismatch` on a right one?
(a bench with real torch as the oracle, not a test)

    python bench/verdict_trust.py [--only SUBSTRING] [--wire]

Each case is a small graph in crossgrad's IR and the same computation in torch. torch's gradient
is sent as the claimed witness (it must not be `mismatch`), then planted wrong versions of it: the
largest element off by 1%, one element's sign flipped, and (at a kink) the gradient moved to a
tied neighbour (each must not be `agree`). ``--wire`` sends them to a server started here.
Prints each verdict that breaks the rule; the exit status counts them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode

Case = tuple[str, list[Any], Callable[..., Any], dict[str, np.ndarray], dict[str, np.ndarray]]


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, requires_grad=a.dtype.kind == "f")


def torch_grads(fn: Callable[..., Any], leaves: dict[str, np.ndarray], consts: dict[str, np.ndarray]) -> dict:
    ts = {k: _t(v) for k, v in leaves.items()}
    out = fn(**ts, **{k: torch.tensor(v) for k, v in consts.items()})
    grads = torch.autograd.grad(out, list(ts.values()), allow_unused=True)
    return {k: (np.zeros_like(leaves[k]) if g is None else g.numpy()) for k, g in zip(ts, grads)}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def cases() -> Iterator[Case]:
    f32 = np.float32
    # float32 cancellations
    x = rng().standard_normal((4, 6)).astype(f32)
    yield ("softmax sum (zero gradient, float32)", [OpNode("s", "softmax", ("x",), {"dim": 1}), OpNode("l", "sum", ("s",))],
           lambda x: torch.softmax(x, 1).sum(), {"x": x}, {})
    yield ("offset 1e4 cancels (float32)", [OpNode("a", "add", ("x", "c")), OpNode("b", "sub", ("a", "c")),
                                            OpNode("q", "square", ("b",)), OpNode("l", "sum", ("q",))],
           lambda x, c: ((x + c) - c).square().sum(), {"x": x}, {"c": np.full((4, 6), 1e4, f32)})
    yield ("x - mean (float32, gradient ~0 per row)", [OpNode("m", "mean", ("x",), {"dim": (1,), "keepdim": True}),
                                                        OpNode("d", "sub", ("x", "m")), OpNode("l", "sum", ("d",))],
           lambda x: (x - x.mean(1, keepdim=True)).sum(), {"x": x}, {})
    yield ("logsumexp of large values (float32)", [OpNode("s", "logsumexp", ("x",), {"dim": (1,)}), OpNode("l", "sum", ("s",))],
           lambda x: torch.logsumexp(x, 1).sum(), {"x": x * 30 + 60}, {})
    # kinks at ties
    tie = np.array([[[[1.0, 1.0, 0.5, 0.2], [0.3, 0.1, 0.5, 0.5], [2.0, 2.0, 2.0, 2.0], [0.0, -1.0, 3.0, 3.0]]]])
    yield ("max_pool2d ties", [OpNode("p", "max_pool2d", ("x",), {"kernel_size": (2, 2)}), OpNode("q", "square", ("p",)),
                               OpNode("l", "sum", ("q",))],
           lambda x: F.max_pool2d(x, 2).square().sum(), {"x": tie}, {})
    yield ("max_pool2d ties float32", [OpNode("p", "max_pool2d", ("x",), {"kernel_size": (2, 2)}), OpNode("q", "square", ("p",)),
                                       OpNode("l", "sum", ("q",))],
           lambda x: F.max_pool2d(x, 2).square().sum(), {"x": tie.astype(f32)}, {})
    m = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0]])
    yield ("amax ties", [OpNode("a", "amax", ("x",), {"dim": (1,)}), OpNode("q", "square", ("a",)), OpNode("l", "sum", ("q",))],
           lambda x: x.amax(1).square().sum(), {"x": m}, {})
    yield ("max(dim) ties", [OpNode("a", "max_dim", ("x",), {"dim": 1}), OpNode("q", "square", ("a",)), OpNode("l", "sum", ("q",))],
           lambda x: x.max(1).values.square().sum(), {"x": m}, {})
    yield ("max_all ties", [OpNode("a", "max_all", ("x",)), OpNode("l", "square", ("a",))],
           lambda x: x.max().square(), {"x": m}, {})
    yield ("relu at exact zeros", [OpNode("r", "relu", ("x",)), OpNode("q", "square", ("r",)), OpNode("l", "sum", ("q",))],
           lambda x: torch.relu(x).square().sum(), {"x": np.array([0.0, 1.0, -1.0, 0.0, 2.0])}, {})
    yield ("adaptive_max_pool2d ties", [OpNode("p", "adaptive_max_pool2d", ("x",), {"output_size": (2, 2)}),
                                        OpNode("q", "square", ("p",)), OpNode("l", "sum", ("q",))],
           lambda x: F.adaptive_max_pool2d(x, 2).square().sum(), {"x": tie}, {})
    yield ("clamp at its bound", [OpNode("c", "clamp", ("x",), {"min": 0.0, "max": 1.0}), OpNode("q", "square", ("c",)),
                                  OpNode("l", "sum", ("q",))],
           lambda x: x.clamp(0.0, 1.0).square().sum(), {"x": np.array([0.0, 1.0, 0.5, 2.0, -1.0])}, {})
    yield ("hardtanh at its bound", [OpNode("c", "hardtanh", ("x",), {"min_val": -1.0, "max_val": 1.0}),
                                     OpNode("q", "square", ("c",)), OpNode("l", "sum", ("q",))],
           lambda x: F.hardtanh(x).square().sum(), {"x": np.array([-1.0, 1.0, 0.5, 2.0])}, {})
    # windows that hold a NaN or only -inf (session 6): torch's gradient must not be a mismatch
    nanwin = np.array([[[[1.0, np.nan, 2.0, 0.5], [0.3, 0.1, 4.0, 0.2]]]])
    keep = np.array([False, True])
    yield ("max_pool2d NaN window masked out", [OpNode("p", "max_pool2d", ("x",), {"kernel_size": (2, 2)}),
                                                OpNode("f", "masked_fill", ("p", "m"), {"value": 0.0}),
                                                OpNode("q", "square", ("f",)), OpNode("l", "sum", ("q",))],
           lambda x, m: F.max_pool2d(x, 2).masked_fill(m, 0.0).square().sum(), {"x": nanwin}, {"m": ~keep})
    img = rng(30).standard_normal((1, 1, 4, 4))
    sq = np.zeros((1, 1, 4, 4), bool)
    sq[..., :2, :2] = True
    yield ("max_pool2d padded all -inf window", [OpNode("f", "masked_fill", ("x", "m"), {"value": float("-inf")}),
                                                 OpNode("p", "max_pool2d", ("f",), {"kernel_size": (2, 2), "padding": (1, 1)}),
                                                 OpNode("e", "exp", ("p",)), OpNode("l", "sum", ("e",))],
           lambda x, m: F.max_pool2d(x.masked_fill(m, float("-inf")), 2, padding=1).exp().sum(), {"x": img}, {"m": sq})
    rows = np.zeros((3, 4), bool)
    rows[0] = True
    yield ("log_softmax fully masked row (-1e9)", [OpNode("f", "masked_fill", ("x", "m"), {"value": -1e9}),
                                                   OpNode("s", "log_softmax", ("f",), {"dim": -1}), OpNode("q", "mul", ("s", "w")),
                                                   OpNode("l", "sum", ("q",))],
           lambda x, m, w: (torch.log_softmax(x.masked_fill(m, -1e9), -1) * w).sum(), {"x": rng(31).standard_normal((3, 4))},
           {"m": rows, "w": np.where(rows, 0.0, rng(32).standard_normal((3, 4)))})
    yield ("amax over a fully masked row", [OpNode("f", "masked_fill", ("x", "m"), {"value": float("-inf")}),
                                            OpNode("a", "amax", ("f",), {"dim": (1,)}), OpNode("e", "exp", ("a",)),
                                            OpNode("l", "sum", ("e",))],
           lambda x, m: x.masked_fill(m, float("-inf")).amax(1).exp().sum(), {"x": rng(33).standard_normal((3, 4))}, {"m": rows})
    yield ("pow at a zero base", [OpNode("p", "pow_tensor", ("x", "c")), OpNode("l", "sum", ("p",))],
           lambda x, c: (x ** c).sum(), {"x": np.array([0.0, 2.0, -1.5, 0.0])}, {"c": np.array([1.0, 2.0, 3.0, 2.0])})
    # masked softmax
    s = rng(1).standard_normal((4, 4))
    causal = np.triu(np.ones((4, 4), bool), 1)
    yield ("causal -inf softmax", [OpNode("f", "masked_fill", ("x", "m"), {"value": float("-inf")}),
                                   OpNode("s", "softmax", ("f",), {"dim": -1}), OpNode("q", "mul", ("s", "w")),
                                   OpNode("l", "sum", ("q",))],
           lambda x, m, w: (torch.softmax(x.masked_fill(m, float("-inf")), -1) * w).sum(), {"x": s},
           {"m": causal, "w": rng(2).standard_normal((4, 4))})
    yield ("causal -inf softmax float32", [OpNode("f", "masked_fill", ("x", "m"), {"value": float("-inf")}),
                                           OpNode("s", "softmax", ("f",), {"dim": -1}), OpNode("q", "mul", ("s", "w")),
                                           OpNode("l", "sum", ("q",))],
           lambda x, m, w: (torch.softmax(x.masked_fill(m, float("-inf")), -1) * w).sum(), {"x": s.astype(f32)},
           {"m": causal, "w": rng(2).standard_normal((4, 4)).astype(f32)})
    yield ("log_softmax with -1e9 mask", [OpNode("f", "masked_fill", ("x", "m"), {"value": -1e9}),
                                          OpNode("s", "log_softmax", ("f",), {"dim": -1}), OpNode("q", "mul", ("s", "w")),
                                          OpNode("l", "sum", ("q",))],
           lambda x, m, w: (torch.log_softmax(x.masked_fill(m, -1e9), -1) * w).sum(), {"x": s},
           {"m": causal, "w": rng(2).standard_normal((4, 4))})
    # magnitudes
    for scale in (1e-30, 1e-150, 1e30, 1e150):
        yield (f"tanh-matmul scaled {scale:g}", [OpNode("h", "matmul", ("x", "w")), OpNode("t", "tanh", ("h",)),
                                                  OpNode("l", "sum", ("t",)), OpNode("o", "mul", ("l", "k"))],
               lambda x, w, k: torch.tanh(x @ w).sum() * k, {"x": rng(3).standard_normal((3, 4)), "w": rng(4).standard_normal((4, 2))},
               {"k": np.array(scale)})
    yield ("float32 near overflow (exp 80)", [OpNode("e", "exp", ("x",)), OpNode("l", "sum", ("e",))],
           lambda x: x.exp().sum(), {"x": np.array([80.0, 85.0, 1.0], f32)}, {})
    yield ("float32 tiny (1e-38)", [OpNode("q", "square", ("x",)), OpNode("l", "sum", ("q",))],
           lambda x: x.square().sum(), {"x": np.array([1e-20, 3e-20, 1.0], f32)}, {})
    # normalizations at their edges
    bx = rng(5).standard_normal((2, 3))
    yield ("batch_norm 2 per channel", [OpNode("n", "batch_norm", ("x",), {"training": True}), OpNode("q", "mul", ("n", "w")),
                                        OpNode("l", "sum", ("q",))],
           lambda x, w: (F.batch_norm(x, None, None, training=True) * w).sum(), {"x": bx}, {"w": rng(6).standard_normal((2, 3))})
    yield ("batch_norm 2 per channel float32", [OpNode("n", "batch_norm", ("x",), {"training": True}), OpNode("q", "mul", ("n", "w")),
                                                OpNode("l", "sum", ("q",))],
           lambda x, w: (F.batch_norm(x, None, None, training=True) * w).sum(), {"x": bx.astype(f32)},
           {"w": rng(6).standard_normal((2, 3)).astype(f32)})
    yield ("batch_norm near-constant channel", [OpNode("n", "batch_norm", ("x",), {"training": True}), OpNode("q", "mul", ("n", "w")),
                                                OpNode("l", "sum", ("q",))],
           lambda x, w: (F.batch_norm(x, None, None, training=True) * w).sum(),
           {"x": np.array([[1.0, 2.0], [1.0 + 1e-4, -1.0], [1.0 - 1e-4, 0.5]])}, {"w": rng(7).standard_normal((3, 2))})
    yield ("batch_norm sum only (gradient exactly 0)", [OpNode("n", "batch_norm", ("x",), {"training": True}), OpNode("l", "sum", ("n",))],
           lambda x: F.batch_norm(x, None, None, training=True).sum(), {"x": rng(8).standard_normal((1, 2, 2, 2))}, {})
    yield ("layer_norm of 2 elements float32", [OpNode("n", "layer_norm", ("x",), {"normalized_shape": (2,)}),
                                                OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
           lambda x, w: (F.layer_norm(x, (2,)) * w).sum(), {"x": rng(15).standard_normal((3, 2)).astype(f32)},
           {"w": rng(16).standard_normal((3, 2)).astype(f32)})
    yield ("batch_norm (2, C, 1, 1) float32 with affine", [OpNode("n", "batch_norm", ("x", "", "", "g", "b"), {"training": True}),
                                                           OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
           lambda x, g, b, w: (F.batch_norm(x, None, None, g, b, training=True) * w).sum(),
           {"x": rng(17).standard_normal((2, 3, 1, 1)).astype(f32), "g": rng(18).standard_normal(3).astype(f32),
            "b": rng(19).standard_normal(3).astype(f32)}, {"w": rng(20).standard_normal((2, 3, 1, 1)).astype(f32)})
    const = np.array([[2.0, 2.0, 2.0, 2.0], [1.0, -1.0, 0.5, 3.0]])
    yield ("layer_norm constant row", [OpNode("n", "layer_norm", ("x",), {"normalized_shape": (4,)}), OpNode("q", "mul", ("n", "w")),
                                       OpNode("l", "sum", ("q",))],
           lambda x, w: (F.layer_norm(x, (4,)) * w).sum(), {"x": const}, {"w": rng(9).standard_normal((2, 4))})
    yield ("layer_norm constant row float32", [OpNode("n", "layer_norm", ("x",), {"normalized_shape": (4,)}),
                                               OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
           lambda x, w: (F.layer_norm(x, (4,)) * w).sum(), {"x": const.astype(f32)},
           {"w": rng(9).standard_normal((2, 4)).astype(f32)})
    yield ("layer_norm row 1e6 offset float32", [OpNode("n", "layer_norm", ("x",), {"normalized_shape": (4,)}),
                                                 OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
           lambda x, w: (F.layer_norm(x, (4,)) * w).sum(), {"x": (const + 1e6).astype(f32)},
           {"w": rng(9).standard_normal((2, 4)).astype(f32)})
    # convolutions and pooling in float32, odd geometry
    cx, cw = rng(21).standard_normal((2, 4, 7, 6)).astype(f32), rng(22).standard_normal((6, 2, 3, 2)).astype(f32)
    cs = rng(23).standard_normal((2, 6, 4, 4)).astype(f32)
    yield ("conv2d groups/stride/dilation float32", [OpNode("c", "conv2d", ("x", "w"), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
                                                     OpNode("q", "mul", ("c", "s")), OpNode("l", "sum", ("q",))],
           lambda x, w, s: (F.conv2d(x, w, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2) * s).sum(), {"x": cx, "w": cw}, {"s": cs})
    tx, tw = rng(24).standard_normal((1, 2, 3, 3)).astype(f32), rng(25).standard_normal((2, 3, 3, 3)).astype(f32)
    yield ("conv_transpose2d stride 2 output_padding float32", [OpNode("c", "conv_transpose2d", ("x", "w"), {"stride": (2, 2), "padding": (1, 1), "output_padding": (1, 0)}),
                                                                OpNode("t", "tanh", ("c",)), OpNode("l", "sum", ("t",))],
           lambda x, w: torch.tanh(F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=(1, 0))).sum(), {"x": tx, "w": tw}, {})
    px = rng(26).standard_normal((1, 2, 5, 5))
    yield ("avg_pool2d ceil_mode, no pad count", [OpNode("p", "avg_pool2d", ("x",), {"kernel_size": (3, 3), "stride": (2, 2), "padding": (1, 1), "ceil_mode": True, "count_include_pad": False}),
                                                  OpNode("q", "square", ("p",)), OpNode("l", "sum", ("q",))],
           lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).square().sum(), {"x": px}, {})
    yield ("interpolate bilinear align_corners", [OpNode("p", "interpolate", ("x",), {"size": (7, 4), "mode": "bilinear", "align_corners": True}),
                                                  OpNode("q", "square", ("p",)), OpNode("l", "sum", ("q",))],
           lambda x: F.interpolate(x, size=(7, 4), mode="bilinear", align_corners=True).square().sum(), {"x": px}, {})
    # losses at their kinks and options
    lx, ly = np.array([0.0, 1.0, 2.5, -1.0, 0.3]), np.array([0.0, 0.0, 0.5, -1.0, 1.3])
    yield ("huber at delta, l1 at 0", [OpNode("h", "huber_loss", ("x", "y"), {"delta": 1.0}), OpNode("a", "l1_loss", ("x", "y")),
                                       OpNode("l", "add", ("h", "a"))],
           lambda x, y: F.huber_loss(x, y, delta=1.0) + F.l1_loss(x, y), {"x": lx}, {"y": ly})
    yield ("smooth_l1 at beta", [OpNode("l", "smooth_l1_loss", ("x", "y"), {"beta": 1.0})],
           lambda x, y: F.smooth_l1_loss(x, y, beta=1.0), {"x": lx}, {"y": ly})
    logits = rng(27).standard_normal((5, 4)) * 3
    yield ("cross_entropy ignore_index + label_smoothing + weight", [OpNode("l", "cross_entropy", ("x", "t", "cw"), {"ignore_index": 2, "label_smoothing": 0.1})],
           lambda x, t, cw: F.cross_entropy(x, t, cw, ignore_index=2, label_smoothing=0.1), {"x": logits},
           {"t": np.array([0, 2, 3, 1, 2]), "cw": np.array([0.5, 1.0, 2.0, 1.5])})
    yield ("cross_entropy huge logits float32", [OpNode("l", "cross_entropy", ("x", "t"))],
           lambda x, t: F.cross_entropy(x, t), {"x": (logits * 1e3).astype(f32)}, {"t": np.array([0, 2, 3, 1, 2])})
    yield ("embedding padding_idx", [OpNode("e", "embedding", ("i", "x"), {"padding_idx": 1}), OpNode("q", "mul", ("e", "w")), OpNode("l", "sum", ("q",))],
           lambda x, i, w: (F.embedding(i, x, padding_idx=1) * w).sum(), {"x": rng(28).standard_normal((5, 3))},
           {"i": np.array([1, 0, 1, 4]), "w": rng(29).standard_normal((4, 3))})
    yield ("where with inf in the unselected branch", [OpNode("a", "log", ("x",)), OpNode("w", "where", ("c", "a", "x")), OpNode("l", "sum", ("w",))],
           lambda x, c: torch.where(c, torch.log(x), x).sum(), {"x": np.array([1.0, 0.0, 2.0])}, {"c": np.array([True, False, True])})
    # index ops with repeats
    yield ("embedding repeated rows", [OpNode("e", "embedding", ("i", "x")), OpNode("q", "mul", ("e", "w")), OpNode("l", "sum", ("q",))],
           lambda x, i, w: (F.embedding(i, x) * w).sum(), {"x": rng(10).standard_normal((5, 3))},
           {"i": np.array([1, 1, 4, 1]), "w": rng(11).standard_normal((4, 3))})
    yield ("gather repeated", [OpNode("g", "gather", ("x", "i"), {"dim": 1}), OpNode("q", "square", ("g",)), OpNode("l", "sum", ("q",))],
           lambda x, i: x.gather(1, i).square().sum(), {"x": rng(12).standard_normal((2, 3))}, {"i": np.array([[0, 0, 2], [1, 1, 1]])})
    yield ("dropout mask", [OpNode("d", "dropout", ("x", "m")), OpNode("t", "tanh", ("d",)), OpNode("l", "sum", ("t",))],
           lambda x, m: torch.tanh(x * m).sum(), {"x": rng(13).standard_normal((3, 4))},
           {"m": (rng(14).random((3, 4)) > 0.5) * 2.0})


def graph_of(ops: list[Any], leaves: dict[str, np.ndarray], consts: dict[str, np.ndarray]) -> Graph:
    nodes = [Leaf(k, v, True) for k, v in leaves.items()] + [Leaf(k, v, False) for k, v in consts.items()]
    return Graph(tuple(nodes + ops), ops[-1].name)


def planted(grad: dict[str, np.ndarray], kink: bool) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
    name, g = max(grad.items(), key=lambda kv: float(np.abs(kv[1]).max(initial=0)))
    if not np.abs(g).max(initial=0) > 0:
        return
    k = int(np.abs(g).argmax())
    off = g.copy().ravel()
    off[k] *= 1.01
    yield "largest element +1%", {**grad, name: off.reshape(g.shape)}
    flip = g.copy().ravel()
    flip[k] = -flip[k]
    yield "largest element sign flipped", {**grad, name: flip.reshape(g.shape)}
    doubled = g * 2
    yield "everything doubled", {**grad, name: doubled}


def run(send: Callable[[CheckRequest], Any], only: str) -> int:
    bad = 0
    for name, ops, fn, leaves, consts in cases():
        if only not in name:
            continue
        graph = graph_of(ops, leaves, consts)
        want = torch_grads(fn, leaves, consts)
        right = send(CheckRequest(graph, claimed=want))
        claim = [p.verdict for leaf in right.leaves for p in leaf.pairs if "claimed" in p.witnesses]
        line = f"{name}: torch's gradient -> {right.verdict} (claimed pairs {claim})"
        wrong_ok = True
        for what, claimed in planted(want, False):
            got = send(CheckRequest(graph, claimed=claimed))
            if got.verdict == "agree" or got.verdict == "convention":
                wrong_ok = False
                line += f"\n    ! planted {what} -> {got.verdict}"
        broke = right.verdict == "mismatch" or not wrong_ok
        bad += broke
        print(("FAIL " if broke else "ok   ") + line, flush=True)
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="")
    parser.add_argument("--wire", action="store_true")
    args = parser.parse_args()
    if not args.wire:
        return run(check, args.only)
    from crossgrad.client.sdk import Client

    proc = subprocess.Popen([sys.executable, "-m", "crossgrad", "-q", "serve", "--port", "0"], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())  # type: ignore[union-attr]
    try:
        with Client(f"127.0.0.1:{port}") as client:
            return run(client.check, args.only)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
