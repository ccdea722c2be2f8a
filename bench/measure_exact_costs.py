"""Measures the exact tier's time per placeholder evaluation, op by op (issue 19).

For each catalogue op, a graph ``leaves -> op -> sum`` of a few thousand elements is checked on
the exact tier (structure warm, so derivation is cached and only evaluation is timed); the time
divided by ``exact.estimate_work``'s raw count of that op gives seconds per evaluation. The
printed table, relative to matmul, is ``engine/symbolic/exact.py``'s ``OP_COST``: rerun this
script after changing the exact tier and paste the weights there.

    python bench/measure_exact_costs.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from crossgrad.engine import ops
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.symbolic import exact

RNG = np.random.default_rng(0)
ROWS, COLS = 48, 32


def _value(domain: str, shape: tuple[int, ...], classes: int = COLS) -> np.ndarray:
    if domain == ops.CLASS:
        return RNG.integers(0, classes, size=shape).astype(np.int64)
    if domain in (ops.POSITIVE, ops.WEIGHT):
        return RNG.uniform(0.5, 2.0, size=shape)
    if domain == ops.UNIT:
        return RNG.uniform(0.0, 1.0, size=shape)
    return RNG.standard_normal(size=shape) + 0.05


SHAPES = {  # inputs' shapes where an op's first case cannot simply be (ROWS, COLS) everywhere
    "matmul": ((ROWS, COLS), (COLS, 16)), "linear": ((ROWS, COLS), (16, COLS), (16,)),
    "cross_entropy": ((ROWS, COLS), (ROWS,)), "select": ((ROWS, COLS),), "slice": ((ROWS, COLS),),
}
ATTRS = {"reshape": {"shape": (COLS, ROWS)}, "permute": {"dims": (1, 0)}, "pow": {"exponent": 2.5}}


def graph_for(spec: ops.OpSpec) -> Graph | None:
    shapes = SHAPES.get(spec.name) or tuple((ROWS, COLS) for _ in spec.inputs)
    leaves = []
    for k, (inp, shape) in enumerate(zip(spec.inputs, shapes)):
        if inp.optional and spec.name != "linear":
            continue
        leaves.append(Leaf(f"x{k}", _value(inp.domain, shape), inp.differentiable and inp.domain != ops.CLASS))
    node = OpNode("y", spec.name, tuple(leaf.name for leaf in leaves), ATTRS.get(spec.name, {}))
    graph = Graph((*leaves, node, OpNode("out", "sum", ("y",))), "out")
    try:
        validate(graph)
    except Exception:  # an op whose contract this generic shape does not meet: not measured
        return None
    return graph


def seconds_per_evaluation(spec: ops.OpSpec, repeat: int) -> tuple[float, int] | None:
    graph = graph_for(spec)
    if graph is None:
        return None
    plan = validate(graph)
    seed = np.ones(())
    base = validate(Graph((*[n for n in graph.nodes if isinstance(n, Leaf)], OpNode("out", "sum", ("x0",))), "out"))
    for warm in (plan, base):
        exact.gradients(warm, seed)  # derivation and compilation: cached by structure
    work = exact.raw_work(plan) - exact.raw_work(base)
    elapsed = min(_timed(plan, seed) for _ in range(repeat)) - min(_timed(base, seed) for _ in range(repeat))
    if work < 100:  # the op is (like) the baseline's own sum: time the whole graph instead
        work, elapsed = exact.raw_work(plan), min(_timed(plan, seed) for _ in range(repeat))
    return max(elapsed, 0.0) / max(work, 1), work


def _timed(plan, seed) -> float:
    start = time.perf_counter()
    exact.gradients(plan, seed)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rates = {}
    for name, spec in ops.CATALOGUE.items():
        measured = seconds_per_evaluation(spec, args.repeat)
        if measured is not None:
            rates[name] = measured
    unit = rates["matmul"][0]
    print(f"matmul: {unit * 1e6:.3f} us per evaluation (the unit)")
    print(f"{'op':34s} {'us/eval':>9s} {'evals':>9s} {'relative':>9s}")
    for name, (rate, work) in sorted(rates.items(), key=lambda item: -item[1][0]):
        print(f"{name:34s} {rate * 1e6:9.3f} {work:9d} {rate / unit:9.2f}")


if __name__ == "__main__":
    main()
