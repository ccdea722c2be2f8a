"""An FX graph of ATen ops -> a crossgrad Graph, through the table in aten.py."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import torch
from crossgrad.engine import ops
from crossgrad.engine.errors import CrossgradError
from crossgrad.engine.graph import Graph, GraphNode, Leaf, OpNode

from . import aten
from .capture import Captured
from .values import is_dropout, record

ARITHMETIC = {"add", "sub", "mul", "div", "maximum", "minimum", "pow_tensor", "matmul", "where"}
DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64, torch.bool: np.bool_}


class UnsupportedOpError(CrossgradError, NotImplementedError):
    """An ATen op with no catalogue mapping and no decomposition; names the op and the user's line."""

    def __init__(self, op: str, source: str, detail: str = "") -> None:
        where = f"\n  from {source}" if source else ""
        more = f" ({detail})" if detail else ""
        super().__init__(f"{op} has no crossgrad catalogue op and no decomposition into them{more}{where}")
        self.op, self.source = op, source


def leaf_value(name: str, value: torch.Tensor, copy: bool = True) -> np.ndarray:
    """A tensor's values as float32 / float64 / int64 / bool numpy (other dtypes are refused); without
    ``copy`` it may share the tensor's memory (for a check that ends before the tensor changes)."""
    if value.dtype not in DTYPES:
        raise TypeError(f"leaf {name!r} has dtype {value.dtype}; crossgrad takes float32, float64, int64 and bool")
    array = value.detach().cpu().numpy()
    return array.copy() if copy else array  # (numpy's dtype is the tensor's: the four map one to one)


def _floating(dtype: Any) -> bool:
    return dtype is not None and np.issubdtype(dtype, np.floating)


def _data_dtype(dtype: Any) -> bool:
    return dtype is not None and (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.bool_))


def _meta(node: torch.fx.Node) -> tuple[tuple[int, ...], Any]:
    val = node.meta.get("val")
    return (tuple(val.shape), val.dtype) if isinstance(val, torch.Tensor) else ((), None)


class Builder:
    """Emits graph nodes for one FX graph; implements aten.Emit."""

    def __init__(self, captured: Captured, rng_state: torch.Tensor | None = None) -> None:
        self.captured = captured
        self.rng_state = torch.get_rng_state() if rng_state is None else rng_state
        self.recorded: tuple[dict, dict] | None = None  # concrete values and dropout masks, when needed
        self.value_dependent = False  # some leaf holds a value computed from the inputs (mask, indices)
        self.data: set[torch.fx.Node] = set()  # nodes holding data computed from the inputs (never differentiated)
        self.nodes: list[GraphNode] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.dtypes: dict[str, Any] = {}
        self.env: dict[torch.fx.Node, Any] = {}
        self.constants: dict[torch.fx.Node, Any] = {}  # concrete values of nodes no leaf reaches
        self.unsupported: dict[str, tuple[Any, str]] = {}  # ATen op name -> (the op, the user's line)
        self.params: dict[str, torch.Tensor] = {}  # closed-over tensors that require grad, as leaves
        self.values: dict[str, np.ndarray] = {}  # leaf values that require no grad (indices, masks), by name
        self.constant_leaves: set[str] = set()  # leaves holding constants of the trace (not input data)
        self.current: torch.fx.Node | None = None
        self._count = 0

    # --- aten.Emit ------------------------------------------------------------------------
    def op(self, op: str, inputs: list[Any], **attrs: Any) -> str:
        floats = [self.dtypes[i] for i in inputs if _floating(self.dtypes.get(i))]
        if op in ARITHMETIC and floats:  # torch promotes a bool / int operand (mask * x): a float copy
            inputs = [i if op == "where" and k == 0 else self._as_float(i, floats[0]) for k, i in enumerate(inputs)]
        name = self._fresh(self.current.name if self.current is not None else op)
        self.nodes.append(OpNode(name, op, tuple(inputs), attrs))
        self.shapes[name] = self._shape_of(op, inputs, attrs)
        self.dtypes[name] = np.dtype(attrs["dtype"]).type if op == "to_dtype" else \
            floats[0] if floats else self.dtypes.get(inputs[0])
        return name

    def _as_float(self, name: str, dtype: Any) -> str:
        if not _data_dtype(self.dtypes.get(name)):
            return name
        (leaf,) = [n for n in self.nodes if n.name == name and isinstance(n, Leaf)]
        return self.leaf(f"{name}_float", np.asarray(leaf.value, dtype=dtype), False)

    def _shape_of(self, op: str, inputs: list[Any], attrs: dict[str, Any]) -> tuple[int, ...]:
        spec = ops.CATALOGUE[op]
        try:
            return tuple(spec.out_shape([None if i is None else self.shapes[i] for i in inputs],
                                        {**spec.defaults(), **attrs}))
        except Exception:  # the validator reports a bad op properly; here the traced shape will do
            return self.out_shape()

    def const(self, value: Any, like: str, shape: tuple[int, ...] = ()) -> str:
        dtype = self.dtypes.get(like, np.float64)
        return self.leaf("const", np.full(shape, value, dtype=dtype), False)

    def shape(self, name: str) -> tuple[int, ...]:
        return self.shapes[name]

    def mask(self) -> str:
        """The dropout mask the current node draws, as a leaf (scaled: 0 or 1 / (1 - p))."""
        assert self.current is not None
        return self._recorded_leaf(self.current, self._recorded()[1][self.current], "mask")

    def out_shape(self) -> tuple[int, ...]:
        return _meta(self.current)[0] if self.current is not None else ()

    def out_dtype(self) -> Any:
        """The numpy dtype of the current node's traced value (None if not a supported tensor)."""
        dtype = _meta(self.current)[1] if self.current is not None else None
        return None if dtype is None else DTYPES.get(dtype)

    def dtype(self, name: str) -> Any:
        return self.dtypes.get(name)

    def traced_value(self) -> Any:
        """What the current node computed for these inputs (a tensor or a tuple): the request
        becomes value-dependent."""
        assert self.current is not None
        self.value_dependent = True
        return self._recorded()[0][self.current]

    def value(self, name: str) -> np.ndarray | None:
        """The value of a leaf that requires no grad (an index or a mask known at capture); reading
        one that came from the inputs makes the request value-dependent (never reused as a template)."""
        if name not in self.values:
            return None
        if name not in self.constant_leaves:
            self.value_dependent = True
        return self.values[name]

    # --- conversion -----------------------------------------------------------------------
    def _fresh(self, stem: str) -> str:
        while stem in self.shapes:
            self._count += 1
            stem = f"{stem.rsplit('#', 1)[0]}#{self._count}"
        self.shapes[stem] = ()
        return stem

    def leaf(self, stem: str, value: np.ndarray, requires_grad: bool) -> str:
        name = self._fresh(stem)
        self.nodes.append(Leaf(name, value, requires_grad))
        self.shapes[name], self.dtypes[name] = tuple(value.shape), value.dtype.type
        if not requires_grad:
            self.values[name] = value
        return name

    def _args(self, args: Any) -> Any:
        return torch.fx.node.map_arg(args, self._name)

    def _name(self, node: torch.fx.Node) -> Any:
        """The graph node holding ``node``'s value; a constant becomes a leaf when first used, so
        constants only other constants read (a uint8 scratch tensor) never reach the graph."""
        if node not in self.env:
            value = self.constants[node]
            self.env[node] = self.leaf(node.name, leaf_value(node.name, value), False) \
                if isinstance(value, torch.Tensor) else value
            if isinstance(value, torch.Tensor):
                self.constant_leaves.add(self.env[node])
        return self.env[node]

    def _recorded(self) -> tuple[dict, dict]:
        if self.recorded is None:
            self.recorded = record(self.captured.graph, self.captured.values, self.rng_state)
        return self.recorded

    def _recorded_leaf(self, node: torch.fx.Node, value: torch.Tensor, suffix: str = "") -> str:
        """A non-differentiable leaf holding what ``node`` computed for these inputs."""
        self.value_dependent = True
        stem = f"{node.name}_{suffix}" if suffix else node.name
        return self.leaf(stem, leaf_value(stem, value.detach()), False)

    def _data(self, node: torch.fx.Node) -> bool:
        """A bool or integer result (a comparison, indices), or a value computed from such data only
        (``indices.double()``): data for the graph, never differentiated."""
        if is_dropout(node):
            return False
        dtype = _meta(node)[1]
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            return True
        inputs = node.all_input_nodes
        return bool(inputs) and all(n in self.data or n in self.constants for n in inputs)

    def _concrete(self, args: Any) -> Any:
        return torch.fx.node.map_arg(args, lambda n: self.constants[n])

    def convert(self) -> list[Any]:
        placeholders = iter(zip(self.captured.names, self.captured.values, self.captured.requires_grad))
        for node in self.captured.graph.graph.nodes:
            self.current = node
            if node.op == "placeholder":
                name, value, grad = next(placeholders)
                grad = grad and value.dtype in (torch.float32, torch.float64)
                self.env[node] = self.leaf(name, leaf_value(name, value), grad)
            elif node.op == "get_attr":
                self._attribute(node, getattr(self.captured.graph, str(node.target)))
            elif node.op == "call_function":
                self._call(node)
            elif node.op == "output":
                return [self._name(n) for n in torch.utils._pytree.tree_leaves(node.args[0])]
        raise AssertionError("an FX graph ends with an output node")

    def _attribute(self, node: torch.fx.Node, value: Any) -> None:
        """A closed-over tensor: a parameter (a leaf that requires grad, named as in the user's code)
        or a constant."""
        if not (isinstance(value, torch.Tensor) and value.requires_grad and value.is_floating_point()):
            self._constant(node, value)
            return
        same = [leaf for leaf, t in self.params.items() if t is value]  # a second use: the same leaf
        if same:
            self.env[node] = same[0]
            return
        name = self.captured.constant_names.get(id(value), node.name)
        self.env[node] = self.leaf(name, leaf_value(name, value), True)
        self.params[self.env[node]] = value

    def _constant(self, node: torch.fx.Node, value: Any) -> None:
        self.constants[node] = value

    def _call(self, node: torch.fx.Node) -> None:
        inputs = node.all_input_nodes
        if all(n in self.constants for n in inputs):  # factory ops and what only they feed
            target: Any = node.target
            self._constant(node, target(*self._concrete(node.args), **self._concrete(node.kwargs)))
            return
        if self._data(node):
            self.data.add(node)
            value = self._recorded()[0][node]
            self.env[node] = self._recorded_leaf(node, value) if isinstance(value, torch.Tensor) else value
            return
        if node.target is operator.getitem:
            source: Any = node.args[0]
            found = self.env[source]  # a tuple of names, or a refused op's stand-in leaf
            self.env[node] = found if isinstance(found, str) else found[node.args[1]]
            if self.env[node] is None and node.users:  # an output with no catalogue op, read later
                self._unsupported(node, f"{source.target} (output {node.args[1]})", None)
            return
        found = aten.rule(str(node.target))
        result = None if found is None else found(self, self._args(node.args), self._args(node.kwargs))
        if result is None:
            self._unsupported(node, str(node.target), node.target)
        else:
            self.env[node] = result

    def _unsupported(self, node: torch.fx.Node, name: str, op: Any) -> None:
        """Noted (with the user's line); a stand-in leaf lets conversion go on to list them all."""
        self.unsupported.setdefault(name, (op, node.meta.get("stack_trace") or ""))
        self.env[node] = self.leaf(node.name, np.zeros(_meta(node)[0]), False)

    def graph(self, outputs: list[str], directions: list[str] | None = None) -> Graph:
        """The graph whose output is the single output, or sum_k sum(output_k * direction_k)."""
        if len(outputs) == 1 and directions is None:
            return Graph(tuple(self.nodes), outputs[0])
        self.current = None
        total = None
        for k, out in enumerate(outputs):
            term = out if directions is None else self.op("mul", [out, directions[k]])
            term = self.op("sum", [term], dim=None, keepdim=False)
            total = term if total is None else self.op("add", [total, term])
        return Graph(tuple(self.nodes), str(total))
