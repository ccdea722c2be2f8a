"""The exact tier's forward values, one node at a time (issue 20, item 8).

Each op node's forward template is evaluated at ``raw.DPS`` digits on the float64 values its
inputs have in the numeric engine, so a difference at a node is that node's own forward rule,
not something inherited from upstream (and ill-conditioned graphs upstream cannot cause it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..graph import Leaf, Plan
from . import raw
from .exact import _mpfs, _Tape, compile_plan


def node_values(plan: Plan, inputs: list[Any]) -> dict[int, np.ndarray]:
    """Per active op node up to the output: its value (float64, rounded from the exact one)
    computed from ``inputs[src]``, the numeric engine's value of each of its sources."""
    programs = compile_plan(plan)
    out: dict[int, np.ndarray] = {}
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        program = programs[i]
        if isinstance(node, Leaf) or program is None or not plan.active[i]:
            continue
        full = replace(program, needed=[True] * len(program.stages))
        tape = _Tape([None if s is None else _mpfs(np.asarray(inputs[s], np.float64)) for s in program.srcs])
        out[i] = np.array(raw.to_floats(tape.run(full)), np.float64).reshape(plan.shapes[i])
    return out
