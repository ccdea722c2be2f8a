"""torch.autograd.gradcheck's own words for a failure, added to crossgrad's message: torch says
"Jacobian mismatch for output i with respect to input j", numbering the outputs among those
that require grad and the inputs among the tensors that require grad (a tensor
passed twice is numbered at its first position; a module's parameters have no number)."""

from __future__ import annotations

import re
from typing import Any

import torch


def torch_numbers(inputs: list[Any], named: dict[str, torch.Tensor]) -> dict[str, int]:
    """Leaf name -> torch's input number, for the inputs (not parameters) that require grad."""
    differentiable = [v for v in inputs if isinstance(v, torch.Tensor) and v.requires_grad]
    numbers: dict[str, int] = {}
    for name, tensor in named.items():
        found = next((j for j, v in enumerate(differentiable) if v is tensor), None)
        if found is not None:
            numbers[name] = found
    return numbers


def _output(row: str, outputs: list[torch.Tensor]) -> int | None:
    """torch's number of the output a failing row belongs to ('output 1 element [2]'; the only
    one when there is one): its place among the outputs that require grad."""
    found = re.match(r"output (\d+) element", row)
    index = int(found[1]) if found else 0 if len(outputs) == 1 else None
    if index is None or not outputs[index].requires_grad:
        return None
    return sum(o.requires_grad for o in outputs[:index])


def torch_words(rows: dict[str, str], numbers: dict[str, int], outputs: list[torch.Tensor]) -> list[str]:
    """One line per failing input torch numbers: input name -> the row of its worst element."""
    lines = []
    for name, row in rows.items():
        if name not in numbers:
            continue
        output = _output(row, outputs)
        where = "" if output is None else f" for output {output}"
        lines.append(f"(torch.autograd.gradcheck's numbering: Jacobian mismatch{where} "
                     f"with respect to input {numbers[name]}, {name!r})")
    return lines
