"""Exact-tier work estimates (placeholder evaluations, from shapes alone) of the issue-11 part-A
reductions, so the server's limits count them. Their lowerings are stages of elementwise maps,
row sums and two-argument trees (lowering_reductions.py): a few evaluations per input element,
except cumsum, whose k-th output sums k elements."""

from __future__ import annotations

from collections.abc import Callable


def _stages(count: int) -> Callable[[tuple[int, ...], int, int], int]:
    return lambda first, out, inputs: count * inputs + 2 * out


def _cumsum(first: tuple[int, ...], out: int, inputs: int) -> int:
    return out * (max(first) if first else 1)


WORK: dict[str, Callable[[tuple[int, ...], int, int], int]] = {
    **{op: _stages(4) for op in ("logsumexp", "var", "std", "norm")},
    **{op: _stages(2) for op in ("amax", "amin", "max", "min", "prod")},
    "cumsum": _cumsum,
}
