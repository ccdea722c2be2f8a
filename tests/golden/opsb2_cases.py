# ruff: noqa: E501  (each case is a short torch program, kept whole)
"""The everyday ops of the opsb sweep (einsum, MultiheadAttention, addmm/baddbmm, repeat_interleave,
cumprod, hooks, atan2, hardswish/hardsigmoid/mish, tensor_split, TransformerEncoderLayer): each case
runs under real torch (recorded in opsb2_sweep.json by make_golden_opsb2.py) and under
``import crossgrad as torch``; ``out`` is compared (values, dtypes, shapes, grad_fn names,
requires_grad; for an error, the exception type). Values are deterministic (no seeded draws)."""

HEAD = ("def T(*s, k=0.0, g=True):\n    n = 1\n    for v in s:\n        n *= v\n"
        "    t = torch.arange(n, dtype=DT).reshape(*s).mul(0.37).add(k).sin()\n    return t.requires_grad_() if g else t\n"
        "def W(y):\n    return torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).mul(0.61).cos()\n")


def both(name: str, body: str) -> dict[str, str]:
    """The case in float32 and in float64."""
    return {f"{name} [{dt}]": f"DT = torch.{dt}\n" + HEAD + body for dt in ("float32", "float64")}


def _einsum(eq: str, *shapes: tuple[int, ...]) -> str:
    names = "abcd"[: len(shapes)]
    make = "".join(f"{n} = T{s}\n".replace(",)", ")") if len(s) > 1 else f"{n} = T({s[0]}, k={i}.5)\n"
                   for i, (n, s) in enumerate(zip(names, shapes)))
    ops = ", ".join(names)
    return make + f"y = torch.einsum({eq!r}, {ops})\n(y * W(y)).sum().backward()\nout = (y, {', '.join(n + '.grad' for n in names)})"


EINSUM = [("ij,jk->ik", (2, 3), (3, 4)), ("ij->ji", (2, 3)), ("ij->", (2, 3)), ("ii->i", (3, 3)), ("ii", (3, 3)),
          ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)), ("i,j->ij", (3,), (4,)), ("ij,ij->i", (2, 3), (2, 3)),
          ("...ij,...jk", (2, 3), (3, 4)), ("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)), ("ij,jk->", (2, 3), (3, 4)),
          ("ij,jk,kl->il", (2, 3), (3, 4), (4, 5)), ("ij,jk->ki", (2, 3), (3, 4)), ("ijk->ik", (2, 3, 4)),
          ("bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5)), ("ij,jk", (2, 1), (3, 4)), ("iij->j", (3, 3, 4)),
          ("...ij,...jk->...ik", (5, 1, 2, 3), (4, 3, 2)), ("b...,b...->b", (2, 3, 4), (2, 3, 4)), ("ab,cd->", (2, 3), (4, 5)),
          ("ij,ij->ij", (1, 3), (2, 3)), ("Ab,bA->A", (2, 3), (3, 2)), ("iji->j", (2, 3, 2)), ("i,i", (3,), (3,))]
EINSUM_BAD = {"size mismatch": "torch.einsum('ij,jk->ik', T(2, 3), T(4, 5))", "unknown output": "torch.einsum('ij->k', T(2, 3))",
              "repeated output": "torch.einsum('ij->ii', T(2, 3))", "too many subscripts": "torch.einsum('ijk', T(2, 3))",
              "too few operands": "torch.einsum('ij,jk', T(2, 3))", "too many operands": "torch.einsum('ij', T(2, 3), T(3, 3))",
              "bad char": "torch.einsum('i1', T(2, 3))", "lone dot": "torch.einsum('i.j', T(2, 3))",
              "diagonal sizes": "torch.einsum('ii', T(2, 3))", "no operands": "torch.einsum('i')"}

CASES: dict[str, str] = {}
for _eq, *_shapes in EINSUM:
    CASES.update(both(f"einsum {_eq}", _einsum(_eq, *_shapes)))
for _name, _call in EINSUM_BAD.items():
    CASES.update(both(f"einsum error {_name}", f"out = {_call}"))
CASES.update(both("einsum list and sublist forms", "a, b = T(2, 3), T(3, 4, k=1.0)\nout = (torch.einsum('ij,jk', [a, b]), torch.einsum(a, [0, 1], b, [1, 2], [0, 2]))"))
CASES.update(both("einsum no grad", "out = torch.einsum('ij,jk->ik', T(2, 3, g=False), T(3, 4, g=False))"))
