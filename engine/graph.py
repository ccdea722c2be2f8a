"""The graph IR: a flat list of named nodes in topological order, validated before any work.

A :class:`Leaf` holds values (float32, float64, or int64 class targets) and ``requires_grad``;
an :class:`OpNode` names a catalogue op, its input nodes (None for an absent optional input)
and its attributes. :func:`validate` checks names, order, ops, arity, attribute types and
shapes from the spec alone, and returns a :class:`Plan` the witnesses share.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import ops
from .errors import FieldError, ShapeError, UnknownOpError
from .suggest import did_you_mean

INDEX = "index"  # the shape ops' int64 index domain (engine/shape_specs.py)

DTYPES = ("float32", "float64", "int64", "bool")


class GraphError(FieldError):
    """A request graph is malformed; ``path`` names the field (``graph.nodes[3].inputs[1]``)."""


@dataclass(frozen=True)
class Leaf:
    name: str
    value: np.ndarray
    requires_grad: bool = False


@dataclass(frozen=True)
class OpNode:
    name: str
    op: str
    inputs: tuple[str | None, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    no_grad: bool = False  # computed as under torch.no_grad(): a constant downstream


GraphNode = Leaf | OpNode


@dataclass(frozen=True)
class Graph:
    nodes: tuple[GraphNode, ...]
    output: str


@dataclass
class Plan:
    """A validated graph: per node its shape, dtype, resolved attrs and whether grad reaches it."""

    graph: Graph
    index: dict[str, int]
    shapes: list[tuple[int, ...]]
    dtypes: list[str]
    attrs: list[dict[str, Any]]
    active: list[bool]
    structure_hash: str = ""
    sources: list[tuple[int | None, ...]] = field(default_factory=list)  # per op node: input_indices
    _grad_leaves: list[int] | None = field(default=None, repr=False)

    @property
    def output(self) -> int:
        return self.index[self.graph.output]

    def grad_leaves(self) -> list[int]:
        if self._grad_leaves is None:
            self._grad_leaves = [i for i, n in enumerate(self.graph.nodes) if isinstance(n, Leaf) and n.requires_grad]
        return list(self._grad_leaves)


_DTYPE_NAMES = {np.dtype(name): name for name in DTYPES}  # str(dtype) runs Python code in numpy


def _dtype_name(value: np.ndarray, path: str) -> str:
    name = _DTYPE_NAMES.get(value.dtype)
    if name is None:
        raise GraphError(f"{path}.value", f"dtype {value.dtype} is not one of {list(DTYPES)}")
    return name


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# attribute kind -> whether a value is of that kind
_KIND_CHECKS: dict[str, Callable[[ops.Attr, Any], bool]] = {
    "int": lambda a, v: _is_int(v),
    "float": lambda a, v: isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v)),
    "bool": lambda a, v: isinstance(v, bool),
    "choice": lambda a, v: v in a.choices,
    "opt_int": lambda a, v: v is None or _is_int(v),
    "opt_float": lambda a, v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                            and bool(np.isfinite(v))),
    "fill": lambda a, v: isinstance(v, (int, float)) and not isinstance(v, bool) and not np.isnan(v),  # +-inf ok
    "dims": lambda a, v: v is None or _int_tuple(v, allow_int=True),
    "shape": lambda a, v: _int_tuple(v, allow_int=False),
}


def _check_attr(attr: ops.Attr, value: Any, path: str) -> Any:
    """Type-check one attribute value against its kind; returns the normalized value."""
    if not _KIND_CHECKS[attr.kind](attr, value):
        raise GraphError(f"{path}.attrs.{attr.name}", f"invalid value {value!r} for a {attr.kind}")
    if attr.kind in ("float", "fill") or (attr.kind == "opt_float" and value is not None):
        return float(value)
    if attr.kind in ("dims", "shape") and isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _int_tuple(v: Any, allow_int: bool) -> bool:
    if allow_int and isinstance(v, int) and not isinstance(v, bool):
        return True
    return isinstance(v, (list, tuple)) and all(isinstance(d, int) and not isinstance(d, bool) for d in v)


def _resolve_attrs(spec: ops.OpSpec, given: Mapping[str, Any], path: str) -> dict[str, Any]:
    known = {a.name: a for a in spec.attrs}
    for name in given:
        if name not in known:
            raise GraphError(f"{path}.attrs.{name}", f"op {spec.name!r} has no attribute {name!r}"
                                                     f"{did_you_mean(name, known)}")
    return {a.name: _check_attr(a, given.get(a.name, a.default), path) for a in spec.attrs}


def _input_dtype(plan: Plan, spec: ops.OpSpec, pos: int, src: int, path: str) -> None:
    inp = spec.input_specs(pos + 1)[pos]
    want = "int64" if inp.domain in (ops.CLASS, INDEX) else "bool" if inp.domain == "bool" else "float"
    have = plan.dtypes[src] if plan.dtypes[src] in ("int64", "bool") else "float"
    if want != have:
        kind = {"int64": "int64 indices" if inp.domain == INDEX else "int64 class indices", "bool": "a bool tensor",
                "float": "a float tensor"}[want]
        raise GraphError(f"{path}.inputs[{pos}]", f"{inp.name} of {spec.name} must be {kind}")


def _check_class_indices(plan: Plan, spec: ops.OpSpec, srcs: list[int | None], attrs: dict[str, Any],
                         path: str) -> None:
    """Class-index targets lie in [0, classes) (classes: the input's last dim) or are ignore_index."""
    for pos, src in enumerate(srcs):
        node = None if src is None else plan.graph.nodes[src]
        if spec.input_specs(len(srcs))[pos].domain != ops.CLASS or not isinstance(node, Leaf) or srcs[0] is None:
            continue
        classes = plan.shapes[srcs[0]][-1] if plan.shapes[srcs[0]] else 1
        values = np.asarray(node.value)
        bad = (values != attrs.get("ignore_index")) & ((values < 0) | (values >= classes))
        if bad.any():
            raise GraphError(f"{path}.inputs[{pos}]", f"class index {int(values[bad][0])} is out of range "
                                                      f"for {classes} classes")


def _add_op(plan: Plan, node: OpNode, path: str) -> None:
    try:
        spec = ops.get(node.op)
    except UnknownOpError:
        raise GraphError(f"{path}.op", f"unknown op {node.op!r}{did_you_mean(node.op, ops.CATALOGUE)}") from None
    specs = spec.input_specs(len(node.inputs))
    required = sum(not i.optional for i in spec.inputs)
    if not required <= len(node.inputs) <= len(specs):
        most = " or more" if spec.inputs and spec.inputs[-1].variadic else f"..{len(specs)}"
        raise GraphError(f"{path}.inputs", f"{spec.name} takes {required}{most} inputs, "
                                           f"got {len(node.inputs)}")
    srcs: list[int | None] = []
    for pos, name in enumerate(node.inputs):
        if name is None or name == "":
            if not specs[pos].optional:
                raise GraphError(f"{path}.inputs[{pos}]", f"{specs[pos].name} is required")
            srcs.append(None)
            continue
        if name not in plan.index:
            hint = did_you_mean(name, plan.index)
            raise GraphError(f"{path}.inputs[{pos}]", f"unknown node {name!r}{hint} (inputs must come earlier)")
        srcs.append(plan.index[name])
        _input_dtype(plan, spec, pos, plan.index[name], path)
    srcs += [None] * (len(specs) - len(srcs))
    plan.sources.append(tuple(srcs))
    attrs = _resolve_attrs(spec, node.attrs, path)
    _check_class_indices(plan, spec, srcs, attrs, path)
    try:
        shape = spec.out_shape([None if s is None else plan.shapes[s] for s in srcs], attrs)
    except ShapeError as err:
        raise GraphError(path, str(err)) from None
    check_index_range(plan, spec, srcs, attrs, path)
    floats = [plan.dtypes[s] for s in srcs if s is not None and plan.dtypes[s] not in ("int64", "bool")]
    plan.shapes.append(tuple(shape))
    plan.dtypes.append(attrs["dtype"] if node.op == "to_dtype" else "float64" if "float64" in floats else "float32")
    plan.attrs.append(attrs)
    plan.active.append(node.op != "detach" and not node.no_grad and any(
        s is not None and plan.active[s] and specs[p].differentiable for p, s in enumerate(srcs)))


def validate(graph: Graph, max_nodes: int = 100_000) -> Plan:
    """Check the whole graph from the spec (no array is allocated) and return its plan. A graph
    whose validation-relevant content (:func:`_validation_key`) matched one already validated
    gets that plan's facts without checking again."""
    if not graph.nodes:
        raise GraphError("graph.nodes", "the graph is empty")
    if len(graph.nodes) > max_nodes:
        raise GraphError("graph.nodes", f"{len(graph.nodes)} nodes exceed the limit of {max_nodes}")
    key = _validation_key(graph)
    with _VALIDATED_LOCK:
        known = _VALIDATED.get(key) if key is not None else None
    if known is not None:
        return _on(known, graph)
    plan = _validate(graph)
    if key is not None:
        plan.grad_leaves()  # computed once, shared with every plan made from these facts
        facts = _on(plan, Graph((), graph.output))  # holds no leaf values
        with _VALIDATED_LOCK:
            _VALIDATED[key] = facts
            if len(_VALIDATED) > VALIDATED_CACHE_SIZE:
                del _VALIDATED[next(iter(_VALIDATED))]
    return plan


# validation key -> the facts of a plan that passed (plans are never changed after validation,
# so plans of the same structure share them)
_VALIDATED: dict[tuple, Plan] = {}
_VALIDATED_LOCK = threading.Lock()
VALIDATED_CACHE_SIZE = 256


def _on(plan: Plan, graph: Graph) -> Plan:
    """The same validated facts for another graph of the same structure."""
    return dataclasses.replace(plan, graph=graph)


def _validation_key(graph: Graph) -> tuple | None:
    """Everything validation reads — names, ops, inputs, attributes (with their types: True is
    not 1 here), flags, leaf shapes and dtypes, integer leaf values — but no float value. None
    when some attribute cannot be hashed (then the graph is simply validated)."""
    parts: list[Any] = [graph.output]
    for node in graph.nodes:
        if isinstance(node, Leaf):
            value = np.asarray(node.value)
            ints = value.tobytes() if value.dtype == np.int64 else None
            parts.append((node.name, value.shape, value.dtype, node.requires_grad, ints))
        else:
            attrs = tuple((name, _typed(v)) for name, v in dict(node.attrs).items())
            parts.append((node.name, node.op, tuple(node.inputs), attrs, node.no_grad))
    key = tuple(parts)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _typed(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_typed(v) for v in value))
    return (type(value), value)


def _validate(graph: Graph) -> Plan:
    plan = Plan(graph, {}, [], [], [], [])
    for i, node in enumerate(graph.nodes):
        path = f"graph.nodes[{i}]"
        if not node.name or node.name in plan.index:
            raise GraphError(f"{path}.name", f"node name {node.name!r} is empty or repeated")
        if isinstance(node, Leaf):
            _add_leaf(plan, node, path)
        else:
            _add_op(plan, node, path)
        if isinstance(node, OpNode):
            _refuse_empty(plan, node, i, path)
        plan.index[node.name] = i
    if graph.output not in plan.index:
        raise GraphError("output", f"unknown node {graph.output!r}")
    plan.structure_hash = structure_hash(plan)
    return plan


EMPTY_OK = ("sum", "mean")  # ops whose witnesses all handle an input with no elements


def _refuse_empty(plan: Plan, node: OpNode, i: int, path: str) -> None:
    """An op with no output elements, or an empty input to an op beyond sum/mean: the witnesses'
    kernels and SymPy's templates assume elements (they failed, or named a witness suspect)."""
    if 0 in plan.shapes[i]:
        raise GraphError(path, f"{node.op} {node.name!r} would have no elements (shape "
                               f"{list(plan.shapes[i])}): a check needs non-empty tensors")
    for pos, src in enumerate(plan.sources[i]):
        if node.op not in EMPTY_OK and src is not None and 0 in plan.shapes[src]:
            shape = list(plan.shapes[src])
            raise GraphError(f"{path}.inputs[{pos}]", f"{node.op} of {node.inputs[pos]!r} with no elements (shape "
                                                      f"{shape}): only sum and mean take empty tensors")


def _add_leaf(plan: Plan, leaf: Leaf, path: str) -> None:
    dtype = _dtype_name(np.asarray(leaf.value), path)
    if leaf.requires_grad and dtype in ("int64", "bool"):
        raise GraphError(f"{path}.requires_grad", "only floating point leaves can require grad")
    plan.sources.append(())
    plan.shapes.append(tuple(np.shape(leaf.value)))
    plan.dtypes.append(dtype)
    plan.attrs.append({})
    plan.active.append(bool(leaf.requires_grad))


def structure_hash(plan: Plan) -> str:
    """Hash of everything a derivation depends on: ops, attrs, shapes, dtypes, grad flags,
    and int64 leaf values (class targets decide which logit a loss picks). Float values are out."""
    items: list[Any] = []
    for i, node in enumerate(plan.graph.nodes):
        common = [plan.shapes[i], plan.dtypes[i], plan.active[i]]
        if isinstance(node, Leaf):
            ints = np.asarray(node.value).ravel().tolist() if plan.dtypes[i] == "int64" else None
            items.append(["leaf", *common, ints])
        else:
            inputs = [plan.index[n] if n else None for n in node.inputs]
            items.append(["op", node.op, inputs, sorted(plan.attrs[i].items()), node.no_grad, *common])
    items.append(plan.index[plan.graph.output])
    return hashlib.sha256(repr(items).encode()).hexdigest()  # repr of plain values is deterministic


def input_indices(plan: Plan, i: int) -> tuple[int | None, ...]:
    """The node indices feeding op node ``i`` (None for absent optional inputs), spec-length."""
    return plan.sources[i]



def check_index_range(plan: Plan, spec: ops.OpSpec, srcs: list[int | None], attrs: dict[str, Any],
                      path: str) -> None:
    """Index leaves of gather / index_select / index lie in [-n, n) for the size n they index."""
    from .shape_specs import INDEX_BOUND

    bound = INDEX_BOUND.get(spec.name)
    for pos, src in enumerate(srcs):
        node = None if src is None else plan.graph.nodes[src]
        if bound is None or spec.input_specs(len(srcs))[pos].domain != INDEX or not isinstance(node, Leaf):
            continue
        n = bound([None if s is None else plan.shapes[s] for s in srcs], attrs)
        values = np.asarray(node.value)
        bad = (values < -n) | (values >= n) if spec.name == "index" else (values < 0) | (values >= n)
        if bad.any():
            raise GraphError(f"{path}.inputs[{pos}]", f"{spec.name}(): index {int(values[bad][0])} is out of "
                                                      f"bounds for dimension with size {n}")
