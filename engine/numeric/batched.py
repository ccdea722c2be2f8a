"""Forward passes over a stack of perturbed copies of some leaves, for finite differences.

``Batched(plan, leaves).outputs({leaf: stack, ...})`` evaluates the graph once for every copy:
copy b gives each listed leaf the value ``stack[b]`` (shape ``(B, *leaf_shape)``) and the
others their base value, and the outputs come back as ``(B, *output_shape)``. Nodes that
depend on no listed leaf keep their single base value, and so do detached ones (detach,
no_grad, non-differentiable inputs): finite differences see the function autograd
differentiates. Each op's ordinary forward rule does the math (matmul and linear call numpy's
matmul, as their rules do); the table below only says how a leading batch axis passes through
an op (broadcast for elementwise ops, shifted dims for reductions, ...). Ops without an entry
run once per copy.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from ..graph import Leaf, Plan, input_indices
from . import losses
from .rules import RULES, index_along, reduced_dims
from .rules_conv import conv_and_cols, conv_from_cols
from .ruletools import Arr
from .run_graph import evaluator
from .values_only import STAND_INS

# issue 11, part A: elementwise ops whose forward broadcasts a leading batch axis
ELEMENTWISE_A = ("sin", "cos", "erf", "log1p", "expm1", "reciprocal", "rsqrt", "square", "silu", "gelu",
                 "leaky_relu", "elu", "clamp", "hardtanh", "where", "tril", "triu")

Forward = Callable[[tuple, dict], tuple[Arr, Any]]
# (forward rule, inputs, which inputs are batched, attrs, unbatched input shapes, output shape)
BatchRule = Callable[[Forward, tuple, list[bool], dict, list, tuple], Arr]


def _lift(x: Arr, shape: tuple, rank: int) -> Arr:
    """A batched input reshaped so that it broadcasts against the others at rank ``rank``."""
    return x.reshape((x.shape[0],) + (1,) * (rank - len(shape)) + tuple(shape))


def _elementwise(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    rank = max([len(out)] + [len(s) for s in shapes if s is not None])
    lifted = tuple(_lift(x, s, rank) if f else x for x, f, s in zip(xs, flags, shapes))
    return fwd(lifted, at)[0]


def _loop(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """The fallback: the op once per copy (a single copy as a view: no stacking copy)."""
    count = next(x.shape[0] for x, f in zip(xs, flags) if f)
    if count == 1:
        return np.asarray(fwd(tuple(x[0] if f else x for x, f in zip(xs, flags)), at)[0])[None]
    return np.stack([np.asarray(fwd(tuple(x[b] if f else x for x, f in zip(xs, flags)), at)[0])
                     for b in range(count)])


def _matmul(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """numpy's matmul broadcasts the batch axis itself when the other operand is at most 2-D."""
    (a, b), (sa, sb) = xs, shapes
    if flags[0] and not flags[1] and len(sb) <= 2:
        return np.matmul(a, b)
    if flags[1] and not flags[0] and len(sa) <= 2 and len(sb) == 2:
        return np.matmul(a, b)
    if flags[1] and not flags[0] and len(sa) <= 2 and len(sb) == 1:
        return np.matmul(a, b[..., None])[..., 0]
    return _loop(fwd, xs, flags, at, shapes, out)


def _linear(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """The rule's own product (it folds every leading dim into one GEMM): copies of the input are
    more rows of one product; a moved weight takes one product per copy. The bias is added after."""
    x, w, b = xs
    if flags[1] and fwd is _LINEAR_FORWARD and x.dtype == w.dtype == np.float64:
        product = _linear_per_copy(x, w, flags[0], out)
    elif flags[1]:
        product = _loop(fwd, (x, w, None), [flags[0], True, False], at, shapes, out)
    else:
        product = fwd((x, w, None), at)[0]
    if b is None:
        return product
    if any(flags[:2]) and product.dtype == np.result_type(product, b) and \
            not any(np.may_share_memory(product, v) for v in (x, w)):  # a new array (a planted rule's may not be)
        product += _lift(b, shapes[2], len(out)) if flags[2] else b
        return product
    return _elementwise(lambda ys, _: (ys[0] + ys[1], None), (product, b), [any(flags[:2]), flags[2]], at,
                        [out, shapes[2]], out)


_LINEAR_FORWARD = RULES["linear"].forward  # the rule itself: a rule swapped in (a planted bug) runs as itself


def _linear_per_copy(x: Arr, w: Arr, moved_x: bool, out: tuple) -> Arr:
    """The linear rule's product per copy of the weight (x folded to one matrix, times w.T),
    written into one result array instead of stacked after: the same GEMMs, no stacking copy."""
    result = np.empty((len(w),) + tuple(out))
    inner, rows = w.shape[-1], math.prod(out[:-1]) if len(out) > 1 else 1
    for copy in range(len(w)):
        xc = x[copy] if moved_x else x
        folded = xc.reshape(-1, inner) if xc.ndim > 2 else xc
        if folded.ndim == 1:
            result[copy] = folded @ w[copy].T
        else:
            np.matmul(folded, w[copy].T, out=result[copy].reshape(rows, -1))
    return result


def _reduction(reduce: Callable[..., Arr]) -> BatchRule:
    def rule(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
        axes = tuple(d + 1 for d in reduced_dims(at["dim"], len(shapes[0])))
        return reduce(xs[0], axis=axes, keepdims=at["keepdim"])

    return rule


def _reshape(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    return xs[0].reshape((xs[0].shape[0],) + tuple(out))


def _transpose(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    n = len(shapes[0])
    return np.swapaxes(xs[0], at["dim0"] % n + 1, at["dim1"] % n + 1) if n else xs[0]


def _permute(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    n = len(shapes[0])
    return np.transpose(xs[0], (0,) + tuple(d % n + 1 for d in at["dims"]))


def _indexing(item: Callable[[dict], Any]) -> BatchRule:
    def rule(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
        return xs[0][(slice(None),) + index_along(shapes[0], at["dim"], item(at))]

    return rule


def _along_dim(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """softmax / log_softmax: the same rule along the dim shifted past the batch axis."""
    n = len(shapes[0])
    if not n:
        return _loop(fwd, xs, flags, at, shapes, out)
    return fwd(xs, {**at, "dim": at["dim"] % n + 1})[0]


def _reduce_batch(loss: Arr, reduction: str, denominator: float) -> Arr:
    """A per-copy loss of shape (B, ...) reduced over everything but the batch axis."""
    flat = loss.reshape(loss.shape[0], -1)
    if reduction == "sum":
        return flat.sum(axis=1)
    return flat.sum(axis=1) / denominator


def _elementwise_loss(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """bce_with_logits / mse_loss: the elementwise loss ('none'), then the reduction per copy."""
    if at["reduction"] == "none":
        return _elementwise(fwd, xs, flags, at, shapes, out)
    full = tuple(np.broadcast_shapes(*[s for s in shapes if s is not None]))
    loss = _elementwise(fwd, xs, flags, {**at, "reduction": "none"}, shapes, full)
    if loss.shape[1:] != full:  # a copy's loss broadcast to the full shape before it is reduced
        loss = np.broadcast_to(loss, (loss.shape[0],) + full)
    return _reduce_batch(loss, at["reduction"], float(math.prod(full)))


def _cross_entropy(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """Copies become extra samples (the targets repeated); the mean divides by one copy's weight."""
    x, t, weight = xs
    if flags[1:] != [False] * (len(flags) - 1):
        return _loop(fwd, xs, flags, at, shapes, out)
    copies, classes = x.shape[0], x.shape[-1]
    targets = np.broadcast_to(t, (copies,) + t.shape).reshape(-1)
    per = fwd((x.reshape(-1, classes), targets, weight), {**at, "reduction": "none"})[0]
    per = per.reshape((copies,) + t.shape)
    if at["reduction"] == "none":
        return per
    sample_weights = losses.ce_parts(x[0], t, weight, at["ignore_index"])[3]
    return _reduce_batch(per, at["reduction"], sample_weights.sum())


ELEMENTWISE = ("add", "sub", "mul", "div", "maximum", "minimum", "pow_tensor", "pow", "neg", "exp",
               "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "softplus", "detach")
TABLE: dict[str, BatchRule] = {
    **{op: _elementwise for op in ELEMENTWISE},
    "matmul": _matmul, "linear": _linear, "sum": _reduction(np.sum), "mean": _reduction(np.mean),
    "reshape": _reshape, "flatten": _reshape, "transpose": _transpose, "permute": _permute,
    "select": _indexing(lambda at: at["index"]),
    "slice": _indexing(lambda at: slice(at["start"], at["stop"], at["step"])),
    "softmax": _along_dim, "log_softmax": _along_dim,
    "binary_cross_entropy_with_logits": _elementwise_loss, "mse_loss": _elementwise_loss,
    "cross_entropy": _cross_entropy,
    **{op: _loop for op in ("logsumexp", "amax", "amin", "max_all", "min_all", "max_dim", "min_dim", "var", "std",
                            "norm", "prod", "cumsum")},
}
TABLE.update({op: _elementwise for op in ELEMENTWISE_A})


_REACH: OrderedDict[tuple[str, int], list[int]] = OrderedDict()


def _reach(plan: Plan, leaf: int) -> list[int]:
    """The op nodes up to the output whose value depends on ``leaf`` as autograd sees it (in
    order); cached by structure. A detach or no_grad node, or a non-differentiable input, does not pass
    the dependence on: its value stays the unperturbed one, a constant, as it is to autograd."""
    key = (plan.structure_hash, leaf)
    if key not in _REACH:
        reached = {leaf}
        for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
            if isinstance(node, Leaf) or not plan.active[i]:
                continue
            srcs = input_indices(plan, i)
            inputs = ops.CATALOGUE[node.op].input_specs(len(srcs))
            if any(s in reached and inputs[p].differentiable for p, s in enumerate(srcs)):
                reached.add(i)
        _REACH[key] = sorted(reached - {leaf})
        if len(_REACH) > 1024:
            _REACH.popitem(last=False)
    return _REACH[key]


_SCHEDULES: OrderedDict[tuple[str, tuple[int, ...]], tuple[dict[int, int], int]] = OrderedDict()


def _schedule(plan: Plan, leaves: list[int], order: list[int]) -> tuple[dict[int, int], int]:
    """For the batched nodes ``order`` (moving ``leaves``): the node after which each batched
    value is read no more, and the most elements one copy holds at once when every value is
    dropped after that (the leaves' stacks stay) — what a batch's memory is sized by. Cached."""
    key = (plan.structure_hash, tuple(leaves))
    if key not in _SCHEDULES:
        batched = set(order) | set(leaves)
        last_use: dict[int, int] = {}
        for i in order:
            for s in input_indices(plan, i):
                if s in batched:
                    last_use[s] = i
        size = {i: math.prod(plan.shapes[i]) for i in batched}
        live = peak = sum(size[leaf] for leaf in leaves)
        for i in order:
            live += size[i]
            peak = max(peak, live)
            live -= sum(size[s] for s in set(input_indices(plan, i))
                        if s in size and s not in leaves and last_use.get(s) == i and s != plan.output)
        _SCHEDULES[key] = (last_use, peak)
        if len(_SCHEDULES) > 1024:
            _SCHEDULES.popitem(last=False)
    return _SCHEDULES[key]


class Batched:
    """Batched forwards of the graph with some leaves moved, copy by copy (see the module doc)."""

    table: dict[str, BatchRule] = TABLE  # a subclass may pass a leading axis through more ops

    def __init__(self, plan: Plan, leaves: dict[int, Arr]) -> None:
        self.plan, self.leaves = plan, leaves
        self._base: list[Any] | None = None
        self._lock = threading.Lock()  # batches of one Batched may run on several threads

    def _unmoved(self, downstream: list[int]) -> list[Any]:
        """Unperturbed values: every leaf's, and every op node's if a batched forward reads one
        unmoved (that forward runs once, and only then: with every leaf moved, it never does)."""
        with self._lock:
            if self._base is None and _reads_unmoved_ops(self.plan, downstream):
                self._base = evaluator(self.plan)(self.leaves)
        if self._base is not None:
            return self._base
        values: list[Any] = [None] * (self.plan.output + 1)
        for i, node in enumerate(self.plan.graph.nodes[: self.plan.output + 1]):
            if isinstance(node, Leaf):
                values[i] = self.leaves.get(i, np.asarray(node.value))
        return values

    def downstream(self, leaves: list[int]) -> list[int]:
        """The op nodes up to the output whose value depends on any of ``leaves``, in order."""
        if len(leaves) == 1:
            return _reach(self.plan, leaves[0])
        return sorted({i for leaf in leaves for i in _reach(self.plan, leaf)})

    def widest(self, leaves: list[int]) -> int:
        """The most elements one copy holds at once, its batched values dropped after their last
        use (sizes the batches: a long chain of wide nodes must not hold every node's copies)."""
        return _schedule(self.plan, sorted(leaves), self.downstream(leaves))[1]

    def outputs(self, stacks: dict[int, Arr]) -> Arr:
        plan, downstream = self.plan, self.downstream(list(stacks))
        last_use = _schedule(plan, sorted(stacks), downstream)[0]
        unmoved = self._unmoved(downstream)
        moved: dict[int, Arr] = dict(stacks)
        for i in downstream:
            srcs = input_indices(plan, i)
            op = plan.graph.nodes[i].op  # type: ignore[union-attr]
            inputs = ops.CATALOGUE[op].input_specs(len(srcs))
            flags = [s in moved and inputs[p].differentiable for p, s in enumerate(srcs)]
            xs = tuple(None if s is None else moved[s] if f else unmoved[s] for s, f in zip(srcs, flags))
            shapes = [None if s is None else plan.shapes[s] for s in srcs]
            rule, fwd = self.table.get(op, _loop), RULES[op].forward
            moved[i] = np.asarray(rule(STAND_INS.get(fwd, fwd), xs, flags, plan.attrs[i], shapes, plan.shapes[i]))
            if op == "embedding" and flags[1] and plan.attrs[i].get("padding_idx") is not None:
                weight = self.leaves.get(srcs[1]) if srcs[1] is not None else None
                moved[i] = padding_rows_unmoved(moved[i], xs[0], plan.attrs[i]["padding_idx"], weight)
            del xs
            for s in set(srcs):
                if s is not None and last_use.get(s) == i and s != plan.output and s not in stacks:
                    del moved[s]  # read no more: a chain holds two nodes' copies, not all of them
        if plan.output in moved:
            return moved[plan.output]
        out = unmoved[plan.output]
        return np.broadcast_to(out, (len(next(iter(stacks.values()))),) + np.shape(out))


def _reads_unmoved_ops(plan: Plan, downstream: list[int]) -> bool:
    """Whether a batched node reads an op node's unperturbed value (the op is not batched, or
    feeds a non-differentiable input), or the output is such an op."""
    batched = set(downstream)
    nodes = plan.graph.nodes
    if plan.output not in batched and not isinstance(nodes[plan.output], Leaf):
        return True
    for i in downstream:
        srcs = input_indices(plan, i)
        inputs = ops.CATALOGUE[nodes[i].op].input_specs(len(srcs))  # type: ignore[union-attr]
        for p, s in enumerate(srcs):
            if s is not None and not isinstance(nodes[s], Leaf) and (s not in batched or not inputs[p].differentiable):
                return True
    return False


CONV_CHUNK = 1 << 18  # input (or im2col) elements one call of a conv or pooling rule may take


def _conv(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """Copies of the input alone fold into the batch dim; a moved weight or bias runs per copy."""
    if not flags[0] or any(flags[1:]):
        return _loop(fwd, xs, flags, at, shapes, out)
    x = xs[0]
    per_call = max(1, CONV_CHUNK // max(1, math.prod(shapes[0])))  # copies folded per call (bounds its buffers)
    if per_call >= len(x):
        folded = fwd((x.reshape((-1,) + tuple(shapes[0][1:])),) + xs[1:], at)[0]
        return folded.reshape((x.shape[0],) + tuple(out))
    result = np.empty((len(x),) + tuple(out), np.result_type(x, *[v for v in xs[1:] if v is not None]))
    for start in range(0, len(x), per_call):
        part = x[start:start + per_call]
        result[start:start + len(part)] = fwd((part.reshape((-1,) + tuple(shapes[0][1:])),) + xs[1:], at)[0].reshape(
            (len(part),) + tuple(out))
    return result


def _conv_samples(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """conv1d/conv2d with a moved weight or bias: per copy, as ``_conv``, but over slices of the
    samples, so the float64 im2col buffer of a large batch is never built whole."""
    if flags[0] or not any(flags[1:]):
        return _conv(fwd, xs, flags, at, shapes, out)
    window = math.prod(shapes[1][1:]) * math.prod(out[2:])
    step = max(1, CONV_CHUNK // max(1, window))
    count = next(x.shape[0] for x, f in zip(xs, flags) if f)
    result = np.empty((count,) + tuple(out))
    copies = [tuple(x[b] if f else x for x, f in zip(xs, flags)) + (None,) for b in range(count)]
    shared = fwd in _CONV_FORWARDS and len(shapes[0]) == len(shapes[1])  # batched input
    for start in range(0, shapes[0][0], step):
        part = xs[0][start:start + step]
        if not shared:
            for b in range(count):
                result[b, start:start + step] = fwd((part,) + copies[b][1:-1], at)[0]
            continue
        part = part.astype(np.result_type(part, copies[0][1]), copy=False)  # the windows in the products'
        # dtype (a float32 input, float64 weights): copied once, not cast inside every product
        result[0, start:start + step], cols = conv_and_cols(part, copies[0][1], copies[0][2], at)
        for b in range(1, count):  # the same windows: copied once, multiplied by each copy's weight
            result[b, start:start + step] = conv_from_cols(cols, part.dtype, copies[b][1], copies[b][2], out[2:])
    return result


_CONV_FORWARDS = (RULES["conv2d"].forward, STAND_INS[RULES["conv2d"].forward])  # the rule, or its stand-in
TABLE.update({op: _conv for op in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
                                   "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d")})
TABLE.update({"conv1d": _conv_samples, "conv2d": _conv_samples})


def _direct(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """pad / pixel_shuffle address their last dims, so a leading copy axis passes through."""
    return fwd(xs, at)[0]


def _batch_norm(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """Copies of the input alone: in eval mode they fold into the batch; in training each copy
    keeps its own statistics, so copy b's channel c becomes channel b C + c of one (N, B C, ...) call."""
    if not flags[0] or any(flags[1:]):
        return _loop(fwd, xs, flags, at, shapes, out)
    x = xs[0]
    if not at["training"]:
        return _conv(fwd, xs, flags, at, shapes, out)
    copies, n, c = x.shape[:3]
    wide = np.swapaxes(x, 0, 1).reshape((n, copies * c) + x.shape[3:])
    affine = tuple(None if v is None else np.tile(v, copies) for v in xs[3:])
    y = fwd((wide, None, None) + affine, at)[0]
    return np.swapaxes(y.reshape((n, copies, c) + x.shape[3:]), 0, 1)


TABLE.update({"pad": _direct, "pixel_shuffle": _direct, "interpolate": _conv, "batch_norm": _batch_norm})


from .batched_shape import SHAPE_BATCH, padding_rows_unmoved  # noqa: E402 (registration block)

TABLE.update(SHAPE_BATCH)

from .values_only import batched_max_pool  # noqa: E402 (registration block)

TABLE["max_pool2d"] = batched_max_pool


def _pointwise_loss(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """The part-B losses: as bce/mse; kl_div's batchmean is the per-copy sum over the batch size."""
    if at["reduction"] != "batchmean":
        return _elementwise_loss(fwd, xs, flags, at, shapes, out)
    return _elementwise_loss(fwd, xs, flags, {**at, "reduction": "sum"}, shapes, out) / max(shapes[0][0], 1)


TABLE["dropout"] = TABLE["masked_fill"] = _elementwise
TABLE["nll_loss"] = _loop
TABLE.update({op: _pointwise_loss for op in ("l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                                             "binary_cross_entropy")})
# to_dtype: finite differences compute in float64 and pass a conversion through unrounded
TABLE["to_dtype"] = lambda fwd, xs, flags, at, shapes, out: xs[0]


def _cumprod(fwd: Forward, xs: tuple, flags: list[bool], at: dict, shapes: list, out: tuple) -> Arr:
    """cumprod along the dim shifted past the batch axis (a 0-d input is its own product)."""
    rank = len(shapes[0])
    return xs[0] if rank == 0 else np.cumprod(xs[0], axis=at["dim"] % rank + 1)


# the everyday-ops sweep: elementwise ops broadcast the batch axis; cumprod shifts its dim
TABLE.update({op: _elementwise for op in ("atan2", "hardswish", "hardsigmoid", "mish")})
TABLE["cumprod"] = _cumprod
