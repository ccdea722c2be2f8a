"""torch.einsum as a chain of catalogue ops, contracted left to right as torch does without
opt_einsum: a repeated subscript within an operand takes its diagonal; a subscript in one operand
only and not in the output is summed first; each pair is then a broadcast ``mul`` (nothing to
contract) or permute/reshape/``matmul``/reshape; the result is permuted into the output's order.
Ellipsis, size-1 broadcasting, implicit output (the once-seen subscripts in alphabetical order,
ellipsis dims first) and torch's sublist form are supported; a bad equation raises torch's
RuntimeError text. The output shows torch's grad_fn name (PermuteBackward0, SumBackward1,
MulBackward0 or ViewBackward0); every witness differentiates the chain's catalogue ops.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from typing import Any

from .tensor import Tensor
from .tensor_math import _renamed

LETTERS = string.ascii_letters


def _fail(text: str) -> RuntimeError:
    return RuntimeError(f"einsum(): {text}")


def _term(term: str, index: int, where: str) -> list[str]:
    """One operand's (or the output's) subscripts; '...' as the single item '...'."""
    labels: list[str] = []
    rest = term
    while rest:
        if rest.startswith("..."):
            if "..." in labels:
                raise _fail(f"found '.' for {where} {index} for which an ellipsis was already found")
            labels.append("...")
            rest = rest[3:]
        elif rest[0] == ".":
            raise _fail(f"found '.' for {where} {index} that is not part of any ellipsis")
        elif rest[0] in LETTERS:
            labels.append(rest[0])
            rest = rest[1:]
        else:
            raise _fail(f"invalid subscript given at index {len(term) - len(rest)} in the equation string, "
                        "subscripts must be in [a-zA-Z]")
    return labels


def _expand(labels: list[str], ndim: int, index: int, width: int) -> list[str]:
    """The operand's labels with '...' replaced by its ellipsis dims (right-aligned names)."""
    if "..." not in labels:
        if len(labels) != ndim:
            raise _fail(f"the number of subscripts in the equation ({len(labels)}) does not match the number "
                        f"of dimensions ({ndim}) for operand {index} and no ellipsis was given")
        return labels
    named = len(labels) - 1
    if named > ndim:
        raise _fail(f"the number of subscripts in the equation ({named}) is more than the number of "
                    f"dimensions ({ndim}) for operand {index}")
    k = labels.index("...")
    dots = [f"...{d}" for d in range(width - (ndim - named), width)]
    return labels[:k] + dots + labels[k + 1:]


def parse(equation: str, shapes: Sequence[tuple[int, ...]]) -> tuple[list[list[str]], list[str]]:
    """Each operand's labels (ellipsis dims named '...0', '...1', ...) and the output's labels."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise _fail("fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise _fail("more operands were provided than specified in the equation")
    raw = [_term(t, i, "operand") for i, t in enumerate(terms)]
    width = max([len(s) - (len(r) - 1) for r, s in zip(raw, shapes) if "..." in r] + [0])
    ops = [_expand(r, len(s), i, width) for i, (r, s) in enumerate(zip(raw, shapes))]
    seen = [label for labels in ops for label in labels]
    if not arrow:
        dots = [f"...{d}" for d in range(width)]
        return ops, dots + sorted(x for x in set(seen) if x[0] != "." and seen.count(x) == 1)
    out = _term(rhs, 0, "output")
    for label in out:
        if label != "..." and out.count(label) > 1:
            raise _fail(f"output subscript {label} appears more than once in the output")
        if label != "..." and label not in seen:
            raise _fail(f"output subscript {label} does not appear in the equation for any input operand")
    k = out.index("...") if "..." in out else len(out)
    return ops, out[:k] + ([f"...{d}" for d in range(width)] if "..." in out else []) + out[k + 1:]


def _diagonals(x: Tensor, labels: list[str], index: int) -> tuple[Tensor, list[str]]:
    """A subscript repeated within one operand: its diagonal (torch's layout: the dim goes last)."""
    labels = list(labels)
    for label in dict.fromkeys(labels):
        while labels.count(label) > 1:
            d1 = labels.index(label)
            d2 = labels.index(label, d1 + 1)
            if x.shape[d1] != x.shape[d2]:
                raise _fail(f"subscript {label} is repeated for operand {index} but the sizes don't match, "
                            f"{x.shape[d2]} != {x.shape[d1]}")
            x = x.diagonal(0, d1, d2)  # type: ignore[attr-defined]
            labels = [lb for k, lb in enumerate(labels) if k not in (d1, d2)] + [label]
    return x, labels


def _sum_out(x: Tensor, labels: list[str], drop: set[str]) -> tuple[Tensor, list[str]]:
    dims = tuple(k for k, lb in enumerate(labels) if lb in drop)
    if not dims:
        return x, labels
    return x.sum(dims), [lb for lb in labels if lb not in drop]


def _permuted(x: Tensor, labels: list[str], order: list[str]) -> Tensor:
    return x if labels == order else x.permute(*[labels.index(lb) for lb in order])


def _broadcast_error(pairs: Sequence[tuple[Tensor, list[str]]]) -> RuntimeError:
    shapes = " ".join(f"{list(x.shape)}" for x, _ in pairs)
    return _fail(f"operands do not broadcast with remapped shapes (original->remapped): {shapes}")


def _pair(a: Tensor, la: list[str], b: Tensor, lb: list[str], needed: set[str]) -> tuple[Tensor, list[str], bool]:
    """One left-to-right step: (result, its labels, whether a contraction (matmul) ran)."""
    a, la = _sum_out(a, la, {lab for lab in la if lab not in needed and lab not in lb})
    own = {lab for lab in lb if lab not in needed and lab not in la}  # torch's sum dims of the pair too
    b, lb = _sum_out(b, lb, own)
    batch = [lab for lab in la if lab in lb and lab in needed]
    contracted = [lab for lab in la if lab in lb and lab not in needed]
    for lab in batch + contracted:
        na, nb = a.shape[la.index(lab)], b.shape[lb.index(lab)]
        if na != nb and 1 not in (na, nb):
            raise _broadcast_error(((a, la), (b, lb)))
        if na != nb and lab in contracted:  # a size-1 side: the other is summed over it first
            if na == 1:
                b = b.sum(lb.index(lab), keepdim=True)
            else:
                a = a.sum(la.index(lab), keepdim=True)
    only_a = [lab for lab in la if lab not in lb]
    only_b = [lab for lab in lb if lab not in la]
    if not contracted:
        target = batch + only_a + only_b
        return _aligned(a, la, target) * _aligned(b, lb, target), target, bool(own)
    sizes = {lab: max(a.shape[la.index(lab)], b.shape[lb.index(lab)]) for lab in batch}
    sizes.update({lab: a.shape[la.index(lab)] for lab in only_a})
    sizes.update({lab: b.shape[lb.index(lab)] for lab in only_b})
    a = _permuted(a, la, batch + only_a + contracted)
    b = _permuted(b, lb, batch + contracted + only_b)
    bs = tuple(sizes[lab] for lab in batch)
    ca = math.prod(a.shape[len(batch) + len(only_a):])
    a = a.expand(*bs, *a.shape[len(batch):]).reshape(math.prod(bs), -1, ca)
    b = b.expand(*bs, *b.shape[len(batch):]).reshape(math.prod(bs), ca, -1)
    out = (a @ b).reshape(*[sizes[lab] for lab in batch + only_a + only_b])
    return out, batch + only_a + only_b, True


def _aligned(x: Tensor, labels: list[str], target: list[str]) -> Tensor:
    """x permuted into target's order with size-1 dims where it lacks a label (broadcasting)."""
    mine = [lab for lab in target if lab in labels]
    x = _permuted(x, labels, mine)
    shape = [x.shape[mine.index(lab)] if lab in labels else 1 for lab in target]
    return x if len(shape) == x.ndim else x.reshape(*shape)


def _check_sizes(operands: Sequence[Tensor], labels: Sequence[list[str]]) -> None:
    """torch's check: one size per subscript across operands, size 1 broadcasting."""
    seen: dict[str, int] = {}
    for i, (x, labs) in enumerate(zip(operands, labels)):
        for lab, n in zip(labs, x.shape):
            was = seen.setdefault(lab, n)
            if n != was and 1 not in (n, was):
                name = "..." if lab[0] == "." else lab
                raise _fail(f"subscript {name} has size {n} for operand {i} which does not broadcast with "
                            f"previously seen size {was}")
            seen[lab] = max(n, was) if 1 in (n, was) else n


def _operands(args: tuple) -> tuple[str, list[Any]]:
    """(equation, operands) from torch's forms: (eq, *ops), (eq, [ops]) and the sublist form."""
    if not args:
        raise TypeError("einsum() missing required argument: 'equation'")
    if isinstance(args[0], str):
        ops = list(args[1][:]) if len(args) == 2 and isinstance(args[1], (list, tuple)) else list(args[1:])
        return args[0], ops
    return _sublists(args)


def _sublists(args: tuple) -> tuple[str, list[Any]]:
    """einsum(a, [0, 1], b, [1, 2], [0, 2]): integer subscripts (0..51, Ellipsis) as letters."""
    def term(sub: Sequence[Any]) -> str:
        if any(s is not Ellipsis and not 0 <= int(s) < 52 for s in sub):
            raise _fail("subscript in subscript list is not within the valid range [0, 52)")
        return "".join("..." if s is Ellipsis else LETTERS[int(s)] for s in sub)
    pairs = list(args)
    out = pairs.pop() if len(pairs) % 2 else None
    eq = ",".join(term(s) for s in pairs[1::2]) + ("" if out is None else "->" + term(out))
    return eq, pairs[0::2]


def einsum(*args: Any) -> Tensor:
    """torch.einsum(equation, *operands) (see the module docstring)."""
    equation, operands = _operands(args)
    if not operands:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    for k, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 1, but got {type(x).__name__}")
    labels, out = parse(equation, [tuple(x.shape) for x in operands])
    pairs = [_diagonals(x, lab, i) for i, (x, lab) in enumerate(zip(operands, labels))]
    _check_sizes([p[0] for p in pairs], [p[1] for p in pairs])
    if len(pairs) == 1:
        x, lab = pairs[0]
        x, lab = _sum_out(x, lab, set(lab) - set(out))
        if len(lab) < len(pairs[0][1]):
            return _renamed(_permuted(x, lab, out), "SumBackward1")
        return _renamed(x.permute(*[lab.index(o) for o in out]), "PermuteBackward0")
    acc, lab = pairs[0]
    contracted = False
    for k in range(1, len(pairs)):
        needed = set(out).union(*(set(p[1]) for p in pairs[k + 1:]))
        acc, lab, contracted = _pair(acc, lab, pairs[k][0], pairs[k][1], needed)
    acc, lab = _sum_out(acc, lab, set(lab) - set(out))
    if any(o not in lab for o in out):  # a broadcast label of size 1 that only the output keeps
        raise _broadcast_error(pairs)
    return _renamed(_permuted(acc, lab, out), "ViewBackward0" if contracted else "MulBackward0")
