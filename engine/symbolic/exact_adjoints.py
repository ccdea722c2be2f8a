"""The exact tier's adjoints at every op node (issue 15): d loss / d node output, and each
input's contribution from that node alone, for localizing a wrong backward rule."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Leaf, OpNode, Plan
from .exact import _accumulate, _backward_node, _leaf_mpfs, _Tape, _to_float, compile_plan


def node_adjoints(plan: Plan, seed: np.ndarray) -> dict[int, tuple[np.ndarray, list[np.ndarray | None]]]:
    """Per active op node reached by the seed: (its output's adjoint, per input position the
    adjoint that node sends there, None where nothing is sent), float64."""
    programs = compile_plan(plan)
    nodes = plan.graph.nodes
    values, seed_values = _leaf_mpfs(plan, programs, seed)
    tapes: list[_Tape | None] = [None] * len(nodes)
    for i, node in enumerate(nodes[: plan.output + 1]):
        program = programs[i]
        if isinstance(node, Leaf) or program is None:
            continue
        tapes[i] = _Tape([None if s is None else values[s] for s in program.srcs])
        values[i] = tapes[i].run(program)  # type: ignore[union-attr]
    adjoints: list[list[Any] | None] = [None] * len(programs)
    adjoints[plan.output] = seed_values
    found: dict[int, tuple[np.ndarray, list[np.ndarray | None]]] = {}
    for i in range(plan.output, -1, -1):
        program, adjoint = programs[i], adjoints[i]
        if program is None or adjoint is None or not plan.active[i] or not isinstance(nodes[i], OpNode):
            continue
        sent: list[np.ndarray | None] = []
        tape = tapes[i]
        assert tape is not None
        for pos, adj in enumerate(_backward_node(program, tape, adjoint)):
            src = program.srcs[pos]
            sent.append(None if adj is None or src is None else _to_float(adj, plan.shapes[src]))
            if adj is None or src is None:
                continue
            if adjoints[src] is None:
                adjoints[src] = list(adj)
            else:
                for k, contribution in enumerate(adj):
                    if contribution is not None:
                        _accumulate(adjoints[src], k, contribution)  # type: ignore[arg-type]
        found[i] = (_to_float(adjoint, plan.shapes[i]), sent)
    return found
