"""Where is the bug, and what it costs (issue 15).

    python bench/bench_localize.py [--repeats N]

The seed MLP (784-512-512-10, batch 64, cross entropy) with one planted bug — the middle
layer's linear VJP multiplies by W instead of W^T (the classic bug a square weight hides) — is
checked; the report names that node. Per round: the check with localization (its stages timed by
the report: localization = forward_check + localize, the check itself = every other stage), the
HTML report rendered, and a check of the same MLP without the bug (agreeing: no localization
runs). Goal: localization <= 3x the check itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import OpNode
from crossgrad.engine.html_report import render
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

LOCALIZATION = ("forward_check", "localize")


def seed_mlp(batch: int = 64):
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    from seed_autograd import NeuralNetwork

    torch.manual_seed(0)
    model = NeuralNetwork()
    x = torch.rand(batch, 28, 28)
    y = torch.tensor(np.random.default_rng(0).integers(0, 10, batch))
    return to_graph(F.cross_entropy(model(x), y), {id(p): n for n, p in model.named_parameters()})[0]


def planted(on: bool) -> None:
    """Install (or remove) the transposed-weight bug in the 512x512 layer's linear VJP."""
    rule = RULES["linear"]
    base = getattr(rule, "clean", rule)
    if not on:
        RULES["linear"] = base
        return

    def wrong(g, saved, node):
        gx, gw, gb = base.vjp(g, saved, node)
        return (g @ saved[1].T if saved[1].shape == (512, 512) and gx is not None else gx), gw, gb
    bugged = Rule(base.forward, wrong)
    object.__setattr__(bugged, "clean", base)
    RULES["linear"] = bugged


def one_round(graph) -> dict[str, float]:
    planted(True)
    try:
        start = time.perf_counter()
        report = check(CheckRequest(graph))
        total = time.perf_counter() - start
    finally:
        planted(False)
    middle = next(n.name for n in graph.nodes if isinstance(n, OpNode) and n.op == "linear"
                  and "linear_relu_stack.2.weight" in n.inputs)
    assert [c.node for c in report.culprits] == [middle], str(report)[:2000]
    local = sum(report.timings.get(k, 0.0) for k in LOCALIZATION)
    start = time.perf_counter()
    page = render(report, graph)
    html = time.perf_counter() - start
    start = time.perf_counter()
    clean = check(CheckRequest(graph))
    agreeing = time.perf_counter() - start
    assert clean.verdict == "agree" and not any(k in clean.timings for k in LOCALIZATION)
    return {"check": total - local, "localization": local, "html": html, "bytes": len(page.encode()),
            "agreeing": agreeing}


def bench_planted_mlp(repeats: int) -> None:
    graph = seed_mlp()
    one_round(graph)  # compile the tensor tier's templates once
    rounds = [one_round(graph) for _ in range(repeats)]
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    ratios = [r["localization"] / r["check"] for r in rounds]
    print("4. seed MLP 784-512-512-10, batch 64, one planted bug (middle layer's linear VJP uses W, not W^T):")
    print(f"   check {med['check'] * 1e3:7.1f} ms   localization {med['localization'] * 1e3:7.1f} ms   "
          f"ratio {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f}; goal <= 3x)")
    print(f"   HTML report {med['html'] * 1e3:7.1f} ms, {med['bytes'] / 1e6:.2f} MB (goal <= 2 MB)   "
          f"the same MLP without the bug (agrees, no localization) {med['agreeing'] * 1e3:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    bench_planted_mlp(parser.parse_args().repeats)


if __name__ == "__main__":
    main()
