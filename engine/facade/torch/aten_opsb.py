"""ATen ops -> catalogue ops for the everyday-ops sweep (tried after aten_parity, before the chains;
same rule shape as aten.py): addbmm (beta * input + alpha * the batch sum of bmm)."""

from __future__ import annotations

from typing import Any

from .aten import Rule, _binary, arg


def _addbmm(e: Any, a: tuple, k: dict) -> str:
    product = e.op("sum", [e.op("matmul", [a[1], a[2]])], dim=(0,), keepdim=False)
    beta, alpha = arg(a, k, 3, "beta", 1), arg(a, k, 4, "alpha", 1)
    if alpha != 1:
        product = _binary("mul")(e, (product, alpha), {})
    if beta == 0:
        return product
    base = a[0] if beta == 1 else _binary("mul")(e, (a[0], beta), {})
    return e.op("add", [base, product])


OPSB: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten.addbmm.default": (("matmul", "sum", "mul", "add"), _addbmm),
}
