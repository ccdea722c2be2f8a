"""Peak memory of one check at the server's limits, against the documented per-request ceiling.

    python bench/bench_memory.py

Each request is built at the default limits (server/limits.py): op outputs together near
max_intermediate_elements, leaves at max_total_elements. It runs through the server's own
validation and then ``check`` in this process, with the numeric and finite-difference
witnesses (the symbolic witness runs in a worker process under its own address-space cap,
4 GiB by default, so it is not part of the server process's figure). Peak memory is traced
(tracemalloc sees numpy's buffers) and printed next to the ceiling docs/deploy.md documents:

    CEILING = 8 bytes x (4 x max_intermediate_elements + 3 x finite_diff.BATCH_ELEMENTS)

(float64 op outputs and their adjoints, a second float64 backward for the floor's magnitudes
or a kink hull, and a finite-difference batch with an op's temporaries). Each case runs in a
child process so that one's peak does not hide the next's.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _cases() -> dict:
    from tests.test_hardening import leaf, op, request

    def chain(n: int, k: int) -> list:
        nodes = [leaf("x", [n], np.linspace(-1, 1, n).tolist())]
        for i in range(k):
            nodes.append(op(f"t{i}", "tanh", [nodes[-1].name]))
        return nodes + [op("out", "sum", [nodes[-1].name])]

    def broadcast(rows: int, cols: int, k: int) -> list:
        nodes = [leaf("a", [rows, 1], np.linspace(-1, 1, rows).tolist()),
                 leaf("b", [1, cols], np.linspace(-1, 1, cols).tolist())]
        for i in range(k):
            nodes.append(op(f"s{i}", "add" if i == 0 else "mul", ["a", "b"] if i == 0 else [f"s{i - 1}", "b"]))
        return nodes + [op("out", "sum", [nodes[-1].name])]

    def mlp(batch: int, width: int) -> list:
        return [leaf("x", [batch, width], np.linspace(-1, 1, batch * width).tolist(), grad=False),
                leaf("w", [width, width], (np.eye(width) * 0.5).ravel().tolist()),
                op("h", "matmul", ["x", "w"]), op("t", "tanh", ["h"]), op("g", "matmul", ["t", "w"]),
                op("u", "tanh", ["g"]), op("out", "sum", ["u"])]

    return {"chain 4M x 6 tanh": request(*chain(4_000_000, 6)),
            "broadcast 4000x1000 x 7": request(*broadcast(4_000, 1_000, 7)),
            "mlp 4000x1000, 4 outputs of 4M": request(*mlp(4_000, 1_000)),
            "chain 1000 x 2000 tanh (finite differences)": request(*chain(1_000, 2_000))}


def _measure(name: str, queue: mp.Queue) -> None:
    from crossgrad.engine.check import check
    from crossgrad.engine.graph import validate
    from crossgrad.server import wire
    from crossgrad.server.limits import Limits
    from crossgrad.v1 import crossgrad_pb2 as pb

    limits = Limits()
    message = _cases()[name]
    message.tier = pb.TIER_OFF
    message.figures_only = True
    tracemalloc.start()
    started = time.perf_counter()
    request = wire.request_in(message, limits)
    plan = validate(request.graph, limits.max_nodes)
    limits.check_plan(plan, request, figures_only=True)
    report = check(request)
    peak = tracemalloc.get_traced_memory()[1]
    queue.put((peak, time.perf_counter() - started, report.verdict, sum(
        int(np.prod(s)) for s in plan.shapes), report.finite_difference))


def main() -> None:
    from crossgrad.engine import finite_diff
    from crossgrad.server.limits import Limits

    limits = Limits()
    ceiling = 8 * (4 * limits.max_intermediate_elements + 3 * finite_diff.BATCH_ELEMENTS)
    print(f"documented per-request ceiling (server process): {ceiling / 2**20:,.0f} MiB")
    ctx = mp.get_context("spawn")
    for name in _cases():
        queue = ctx.Queue()
        child = ctx.Process(target=_measure, args=(name, queue))
        child.start()
        child.join()
        if queue.empty():
            print(f"{name:45s} failed (exit code {child.exitcode})")
            continue
        peak, seconds, verdict, elements, fd = queue.get()
        print(f"{name:45s} {elements:>11,} elements  peak {peak / 2**20:8,.0f} MiB = {peak / ceiling:5.2f} x ceiling"
              f"  {seconds:6.1f} s  {verdict} (finite differences: {fd})")


if __name__ == "__main__":
    main()
