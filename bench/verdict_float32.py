# ruff: noqa: E501  (a table of cases, one graph and its torch twin each)
"""A hostile campaign on float32 cancellation shapes, torch as the oracle (a bench, not a test).

    python bench/verdict_float32.py [--only SUBSTRING] [--seeds N]

Graphs whose float32 forward cancels large terms (sums of large opposite terms, softmax and
cross_entropy of large logits, layer/batch norm of large offsets, var and std of large means,
mse of two offset tensors), at offsets 1e2 .. 1e6, several seeds. For each:

- torch's float32 gradient is the claimed witness: a `mismatch` is a FALSE ALARM;
- planted wrong claims (one element's sign flipped, one element 10% off, everything doubled):
  `agree`/`convention` is a MISSED BUG unless that element's difference is within what forward
  rounding can explain (then it is counted `below resolution`, reported apart);
- a planted numeric VJP bug (the graph's main op with the first element of its input gradient
  sign-flipped): the same rule, against numeric; a mismatch blaming another witness is a WRONG
  BLAME, one blaming none (finite differences unreliable there) is counted apart.

Prints each finding; the exit status counts false alarms and missed bugs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crossgrad.engine.check import CheckRequest, check  # noqa: E402
from crossgrad.engine.forward_rounding import SPREAD_FACTOR, Spreads  # noqa: E402
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate  # noqa: E402
from crossgrad.engine.magnitudes import flowing_magnitudes  # noqa: E402
from crossgrad.engine.numeric.rules import RULES  # noqa: E402
from crossgrad.engine.numeric.ruletools import Rule  # noqa: E402

Case = tuple[str, str, list[Any], Callable[..., Any], dict[str, np.ndarray], dict[str, np.ndarray]]
F32 = np.float32


def cases(seed: int) -> Iterator[Case]:
    """(name, op to plant a bug in, graph ops, torch function, grad leaves, constants)."""
    rng = np.random.default_rng(seed)
    for m in (1e2, 1e4, 1e6):
        x = rng.standard_normal((3, 5)).astype(F32)
        w = rng.standard_normal((3, 5)).astype(F32)
        big = np.full((3, 5), m, F32)
        yield (f"(x + M) - M, M={m:g}", "sub", [OpNode("a", "add", ("x", "c")), OpNode("b", "sub", ("a", "c")), OpNode("q", "mul", ("b", "w")), OpNode("l", "sum", ("q",))],
               lambda x, c, w: (((x + c) - c) * w).sum(), {"x": x}, {"c": big, "w": w})
        y = rng.standard_normal((3, 5)).astype(F32)
        yield (f"(x * M + y) - x * M, M={m:g}", "add", [OpNode("s", "mul", ("x", "k")), OpNode("a", "add", ("s", "y")), OpNode("b", "sub", ("a", "s")),
                                                     OpNode("q", "mul", ("b", "w")), OpNode("l", "sum", ("q",))],
               lambda x, y, k, w: ((x * k + y - x * k) * w).sum(), {"x": x, "y": y}, {"k": np.array(m, F32), "w": w})
        yield (f"softmax(x + M), M={m:g}", "softmax", [OpNode("a", "add", ("x", "c")), OpNode("s", "softmax", ("a",), {"dim": 1}), OpNode("q", "mul", ("s", "w")), OpNode("l", "sum", ("q",))],
               lambda x, c, w: (torch.softmax(x + c, 1) * w).sum(), {"x": x}, {"c": big, "w": w})
        yield (f"softmax(x * M / 100), M={m:g}", "softmax", [OpNode("a", "mul", ("x", "k")), OpNode("s", "softmax", ("a",), {"dim": 1}), OpNode("q", "mul", ("s", "w")), OpNode("l", "sum", ("q",))],
               lambda x, k, w: (torch.softmax(x * k, 1) * w).sum(), {"x": x}, {"k": np.array(m / 100, F32), "w": w})
        yield (f"log_softmax(x + M), M={m:g}", "log_softmax", [OpNode("a", "add", ("x", "c")), OpNode("s", "log_softmax", ("a",), {"dim": 1}), OpNode("q", "mul", ("s", "w")), OpNode("l", "sum", ("q",))],
               lambda x, c, w: (torch.log_softmax(x + c, 1) * w).sum(), {"x": x}, {"c": big, "w": w})
        t = rng.integers(0, 5, 3)
        yield (f"cross_entropy(x + M), M={m:g}", "cross_entropy", [OpNode("a", "add", ("x", "c")), OpNode("l", "cross_entropy", ("a", "t"))],
               lambda x, c, t: F.cross_entropy(x + c, t), {"x": x}, {"c": big, "t": t})
        yield (f"logsumexp(x + M), M={m:g}", "logsumexp", [OpNode("a", "add", ("x", "c")), OpNode("s", "logsumexp", ("a",), {"dim": (1,)}), OpNode("q", "mul", ("s", "v")), OpNode("l", "sum", ("q",))],
               lambda x, c, v: (torch.logsumexp(x + c, 1) * v).sum(), {"x": x}, {"c": big, "v": w[:, 0].copy()})
        yield (f"layer_norm(x + M), M={m:g}", "layer_norm", [OpNode("n", "layer_norm", ("x",), {"normalized_shape": (5,)}), OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
               lambda x, w: (F.layer_norm(x, (5,)) * w).sum(), {"x": (x + m).astype(F32)}, {"w": w})
        yield (f"batch_norm(x + M), M={m:g}", "batch_norm", [OpNode("n", "batch_norm", ("x",), {"training": True}), OpNode("q", "mul", ("n", "w")), OpNode("l", "sum", ("q",))],
               lambda x, w: (F.batch_norm(x, None, None, training=True) * w).sum(), {"x": (x + m).astype(F32)}, {"w": w})
        yield (f"var(x + M), M={m:g}", "var", [OpNode("v", "var", ("x",), {"dim": (1,)}), OpNode("q", "mul", ("v", "u")), OpNode("l", "sum", ("q",))],
               lambda x, u: (x.var(1) * u).sum(), {"x": (x + m).astype(F32)}, {"u": w[:, 0].copy()})
        yield (f"std(x + M), M={m:g}", "std", [OpNode("v", "std", ("x",), {"dim": (1,)}), OpNode("q", "mul", ("v", "u")), OpNode("l", "sum", ("q",))],
               lambda x, u: (x.std(1) * u).sum(), {"x": (x + m).astype(F32)}, {"u": w[:, 0].copy()})
        yield (f"x - mean(x), M={m:g}", "sub", [OpNode("m", "mean", ("x",), {"dim": (1,), "keepdim": True}), OpNode("d", "sub", ("x", "m")), OpNode("q", "mul", ("d", "w")), OpNode("l", "sum", ("q",))],
               lambda x, w: ((x - x.mean(1, keepdim=True)) * w).sum(), {"x": (x + m).astype(F32)}, {"w": w})
        yield (f"mse_loss(x + M, y + M), M={m:g}", "mse_loss", [OpNode("a", "add", ("x", "c")), OpNode("b", "add", ("y", "c")), OpNode("l", "mse_loss", ("a", "b"))],
               lambda x, y, c: F.mse_loss(x + c, y + c), {"x": x, "y": y}, {"c": big})


def graph_of(ops: list[Any], leaves: dict[str, np.ndarray], consts: dict[str, np.ndarray]) -> Graph:
    nodes = [Leaf(k, v, True) for k, v in leaves.items()] + [Leaf(k, v, False) for k, v in consts.items()]
    return Graph(tuple(nodes + ops), ops[-1].name)


def torch_grads(fn: Callable[..., Any], leaves: dict[str, np.ndarray], consts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    ts = {k: torch.tensor(v, requires_grad=True) for k, v in leaves.items()}
    out = fn(**ts, **{k: torch.tensor(v) for k, v in consts.items()})
    grads = torch.autograd.grad(out, list(ts.values()), allow_unused=True)
    return {k: (np.zeros_like(leaves[k]) if g is None else g.numpy()) for k, g in zip(ts, grads)}


def planted_claims(grad: dict[str, np.ndarray]) -> Iterator[tuple[str, str, int, dict[str, np.ndarray]]]:
    """(what, leaf, flat element, claims): wrong claims of realistic size."""
    name, g = max(grad.items(), key=lambda kv: float(np.abs(kv[1]).max(initial=0)))
    if not np.abs(g).max(initial=0) > 0:
        return
    k = int(np.abs(g).argmax())
    for what, change in (("sign flipped", lambda v: -v), ("10% off", lambda v: v * 1.1)):
        bad = g.copy().ravel()
        bad[k] = change(bad[k])
        yield f"largest element {what}", name, k, {**grad, name: bad.reshape(g.shape)}
    yield "everything doubled", name, k, {**grad, name: g * 2}


def resolvable(spread: np.ndarray, k: int, difference: float, grad: np.ndarray, magnitude: float) -> bool:
    """Whether a difference this size at element k exceeds the float32 tolerance, the floor and what
    forward rounding explains (README's policy: rtol 1e-4, atol 1e-5 x scale, floor 1e-6 x magnitude)."""
    g = np.abs(grad).ravel()
    allowed = 1e-4 * (g[k] + difference) + 1e-5 * g.max() + 1e-6 * magnitude + SPREAD_FACTOR * float(spread.ravel()[k])
    return difference > 1.01 * allowed


def flip_first(op: str) -> Rule:
    rule = RULES[op]

    def vjp(g: Any, s: Any, n: Any) -> tuple:
        found = list(rule.vjp(g, s, n))
        if found[0] is not None:
            found[0] = np.array(found[0], copy=True)
            found[0].flat[0] = -found[0].flat[0]
        return tuple(found)

    return Rule(rule.forward, vjp)


def run_case(case: Case, tally: dict[str, int]) -> list[str]:
    name, op, ops, fn, leaves, consts = case
    graph = graph_of(ops, leaves, consts)
    plan = validate(graph)
    spreads = Spreads(plan, np.ones(plan.shapes[plan.output]))
    index = {plan.graph.nodes[i].name: i for i in plan.grad_leaves()}
    flowing = flowing_magnitudes(plan, np.ones(plan.shapes[plan.output]))
    want = torch_grads(fn, leaves, consts)
    out = []
    right = check(CheckRequest(graph, claimed=want))
    tally["cases"] += 1
    if right.verdict == "mismatch":
        tally["false alarms"] += 1
        out.append(f"FALSE ALARM {name}: torch's gradient -> mismatch\n{right}")
    for what, leaf, k, claims in planted_claims(want):
        got = check(CheckRequest(graph, claimed=claims))
        difference = float(np.abs(claims[leaf] - want[leaf]).max())
        if got.verdict not in ("agree", "convention"):
            tally["planted caught"] += 1
        elif resolvable(spreads(index[leaf]), k, difference, want[leaf], flowing[index[leaf]]) or what == "everything doubled":
            tally["missed bugs"] += 1
            out.append(f"MISSED {name}: planted {what} -> {got.verdict}")
        else:
            tally["below resolution"] += 1
    RULES[op], keep = flip_first(op), RULES[op]
    try:
        got = check(CheckRequest(graph))
    finally:
        RULES[op] = keep
    clean = check(CheckRequest(graph))
    flipped = {leaf.name: leaf.grads["numeric"] for leaf in got.leaves}
    base = {leaf.name: leaf.grads["numeric"] for leaf in clean.leaves}
    moved = max(float(np.abs(flipped[n] - base[n]).max()) for n in base)
    if moved == 0:
        return out
    caught = got.verdict == "mismatch" and any(leaf.suspect == "numeric" for leaf in got.leaves)
    if caught:
        tally["planted caught"] += 1
    elif got.verdict in ("agree", "convention") and any(
            resolvable(spreads(i), int(np.abs(flipped[n] - base[n]).argmax()), moved, base[n], flowing[i]) for n, i in index.items()):
        tally["missed bugs"] += 1
        out.append(f"MISSED {name}: numeric {op} VJP with its first input element flipped -> {got.verdict} "
                   f"(suspects {[leaf.suspect for leaf in got.leaves]})")
    elif got.verdict in ("agree", "convention"):
        tally["below resolution"] += 1
    elif got.verdict == "mismatch" and all(leaf.suspect is None for leaf in got.leaves):
        tally["caught, no suspect"] += 1  # finite differences unreliable there: numeric vs symbolic, one to one
        out.append(f"NO SUSPECT {name}: numeric {op} VJP bug -> mismatch, culprits {[c.op for c in got.culprits]}")
    elif got.verdict == "mismatch":
        tally["wrong blame"] += 1
        out.append(f"WRONG BLAME {name}: numeric {op} VJP bug -> mismatch, suspects {[leaf.suspect for leaf in got.leaves]}")
    else:
        tally["planted caught"] += 1
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    tally = {"cases": 0, "false alarms": 0, "planted caught": 0, "missed bugs": 0, "wrong blame": 0,
             "caught, no suspect": 0, "below resolution": 0}
    for seed in range(args.seeds):
        for case in cases(seed):
            if args.only in case[0]:
                for line in run_case(case, tally):
                    print(f"[seed {seed}] {line}", flush=True)
    print(", ".join(f"{k} {v}" for k, v in tally.items()))
    return tally["false alarms"] + tally["missed bugs"] + tally["wrong blame"]


if __name__ == "__main__":
    raise SystemExit(main())
