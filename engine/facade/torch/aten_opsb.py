"""ATen ops -> catalogue ops for the everyday-ops sweep (tried after aten_parity, before the chains;
same rule shape as aten.py): addbmm (beta * input + alpha * the batch sum of bmm), and the
catalogue ops cumprod, atan2, hardswish, hardsigmoid, mish."""

from __future__ import annotations

from typing import Any

import numpy as np

from .aten import Rule, _binary, _unary, arg
from .aten_more import FLOATS


def _addbmm(e: Any, a: tuple, k: dict) -> str:
    product = e.op("sum", [e.op("matmul", [a[1], a[2]])], dim=(0,), keepdim=False)
    beta, alpha = arg(a, k, 3, "beta", 1), arg(a, k, 4, "alpha", 1)
    if alpha != 1:
        product = _binary("mul")(e, (product, alpha), {})
    if beta == 0:
        return product
    base = a[0] if beta == 1 else _binary("mul")(e, (a[0], beta), {})
    return e.op("add", [base, product])


def _cumprod(e: Any, a: tuple, k: dict) -> str | None:
    x, dtype = a[0], arg(a, k, 2, "dtype")
    if dtype is not None:
        target = e.out_dtype()
        if target not in FLOATS:
            return None
        if target is not e.dtype(x):
            x = e.op("to_dtype", [x], dtype=np.dtype(target).name)
    return e.op("cumprod", [x], dim=int(arg(a, k, 1, "dim")))


OPSB: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten.addbmm.default": (("matmul", "sum", "mul", "add"), _addbmm),
    "aten.cumprod.default": (("cumprod", "to_dtype"), _cumprod),
    "aten.atan2.default": (("atan2",), _binary("atan2")),
    **{f"aten.{op}.default": ((op,), _unary(op)) for op in ("hardswish", "hardsigmoid", "mish")},
}
