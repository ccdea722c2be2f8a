"""ATen ops -> catalogue ops found missing by the issue-13 conformance probes (tried first; same
rule shape as aten.py): ``_trilinear``, which ``F.bilinear`` / ``nn.Bilinear`` call and which has no
PyTorch decomposition. ATen's ``_trilinear(i1, i2, i3, expand1, expand2, expand3, sumdim)``
unsqueezes each input at its ``expand`` dims (in increasing order), multiplies the three
(broadcasting) and sums over ``sumdim``: a chain of catalogue unsqueeze, mul and sum.
"""

from __future__ import annotations

from typing import Any

from .aten import Rule, arg


def _trilinear(e: Any, a: tuple, k: dict) -> str | None:
    tensors = [a[0], a[1], a[2]]
    if not all(isinstance(t, str) for t in tensors):
        return None
    expanded = []
    for i, t in enumerate(tensors):
        for dim in sorted(int(d) for d in arg(a, k, 3 + i, f"expand{i + 1}", ())):
            t = e.op("unsqueeze", [t], dim=dim)
        expanded.append(t)
    product = e.op("mul", [e.op("mul", [expanded[0], expanded[1]]), expanded[2]])
    sumdim = tuple(sorted(int(d) for d in arg(a, k, 6, "sumdim", ())))
    return e.op("sum", [product], dim=sumdim, keepdim=False) if sumdim else product


CONFORM: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten._trilinear.default": (("unsqueeze", "mul", "sum"), _trilinear),
}
