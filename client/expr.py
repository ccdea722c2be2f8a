"""The safe expression form: ``"binary_cross_entropy_with_logits(x @ w + b, y)"`` plus leaves.

Parsed with a whitelist over Python's ``ast``: leaf names, numbers, ``+ - * / ** @``, unary
minus, calls of catalogue ops with keyword attributes, and PyTorch's method form on values
(``x.sum()``, ``(x @ w).mean(dim=0)``, ``h.relu()``, ``x.T``) mapped onto the same ops. No other
attribute is ever looked up, and nothing is evaluated: no ``eval``, no ``sympify``; anything else
is an :class:`ExpressionError` naming the column, with close-match suggestions for unknown names.
Named stages may precede the expression, ``"z = x @ w + b; h = relu(z); mse_loss(h, y)"``: the
op node computing a stage is called by its name (so ``claimed`` and assignments can ask for
d loss / d z).

Leaf specs (CLI ``--leaf``): ``NAME=randn(5,3)``, ``rand(..)``, ``ones(..)``, ``zeros(..)``,
``randint(HIGH,SHAPE..)`` or a JSON array, optionally followed by ``:grad`` and/or
``:float64``; e.g. ``w=randn(5,3):grad``, ``y=[0,1,1]``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace
from typing import Any

import numpy as np
from crossgrad.engine import ops
from crossgrad.engine.errors import FieldError
from crossgrad.engine.graph import Graph, GraphNode, Leaf, OpNode
from crossgrad.engine.suggest import did_you_mean

MAX_LENGTH = 10_000
MAX_DEPTH = 100
BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.MatMult: "matmul"}
SPEC = re.compile(r"^(?P<kind>randn|rand|ones|zeros|randint)\((?P<args>[0-9,\s]*)\)$")


class ExpressionError(FieldError):
    """The expression or a leaf spec is not allowed; ``path`` names where."""


# Method names PyTorch users write that are not catalogue names, and what they mean.
METHOD_ALIASES = {"view": "reshape", "t": "transpose", "__matmul__": "matmul"}
# Methods whose positional numbers are varargs of one attribute: x.reshape(2, 3), x.permute(1, 0).
VARARG_ATTRS = {"reshape": "shape", "permute": "dims"}


def _where(node: ast.AST) -> str:
    return f"expression (column {getattr(node, 'col_offset', 0) + 1})"




class _Builder:
    def __init__(self, leaves: dict[str, Leaf]) -> None:
        self.leaves = dict(leaves)  # stage names are added to resolve them
        self.nodes: list[GraphNode] = []
        self.used: set[str] = set()
        self.origins: dict[int, ast.AST] = {}  # op node position -> the sub-expression it came from
        self.float = "float64" if any(str(v.value.dtype) == "float64" for v in leaves.values()) else "float32"
        self.stages: set[str] = set()  # names given with ``z = ...``: op nodes, not leaves

    def add(self, node: GraphNode) -> str:
        self.nodes.append(node)
        return node.name

    def op(self, name: str, inputs: tuple[str | None, ...], attrs: dict | None = None,
           where: ast.AST | None = None) -> str:
        if where is not None:
            self.origins[len(self.nodes)] = where
        return self.add(OpNode(f"{name}{len(self.nodes)}", name, inputs, attrs or {}))

    def stage(self, statement: ast.stmt) -> None:
        """``z = x @ w + b``: a named stage; its op node is called ``z`` and later statements use it."""
        target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
        if not isinstance(statement, ast.Assign) or not isinstance(target, ast.Name):
            raise ExpressionError(_where(statement), "only `name = expression` stages may precede the expression")
        if target.id in self.leaves or any(n.name == target.id for n in self.nodes):
            raise ExpressionError(_where(target), f"stage {target.id!r} is already a leaf or a stage")
        before = len(self.nodes)
        result = self.visit(statement.value)
        if len(self.nodes) == before or self.nodes[-1].name != result or not isinstance(self.nodes[-1], OpNode):
            raise ExpressionError(_where(statement), f"stage {target.id!r} must compute an op, not name a value")
        self.nodes[-1] = replace(self.nodes[-1], name=target.id)
        self.leaves[target.id] = Leaf(target.id, np.zeros(()))  # resolves the name; never added to the graph
        self.stages.add(target.id)

    def const(self, value: float) -> str:
        return self.add(Leaf(f"const{len(self.nodes)}", np.asarray(value, dtype=self.float)))

    def visit(self, node: ast.AST, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            raise ExpressionError(_where(node), f"nested deeper than {MAX_DEPTH}")
        if isinstance(node, ast.Name):
            if node.id not in self.leaves:
                hint = did_you_mean(node.id, list(self.leaves) + list(ops.CATALOGUE))
                raise ExpressionError(_where(node), f"unknown leaf {node.id!r}{hint} (give it with --leaf)")
            if node.id not in self.stages:
                self.used.add(node.id)
            return node.id
        number = _literal(node) if isinstance(node, ast.Constant) else None
        if number is not None:
            return self.const(float(number))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.visit(node.operand, depth + 1)
            return self.op("neg", (inner,)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, depth)
        raise ExpressionError(_where(node), f"{type(node).__name__} is not allowed here")

    def binary(self, node: ast.BinOp, depth: int) -> str:
        if isinstance(node.op, ast.Pow):
            left = self.visit(node.left, depth + 1)
            exponent = _literal(node.right)
            if _is_number(exponent):
                return self.op("pow", (left,), {"exponent": float(exponent)}, where=node)
            return self.op("pow_tensor", (left, self.visit(node.right, depth + 1)), where=node)
        if type(node.op) not in BINARY:
            raise ExpressionError(_where(node), f"operator {type(node.op).__name__} is not allowed")
        left, right = self.visit(node.left, depth + 1), self.visit(node.right, depth + 1)
        return self.op(BINARY[type(node.op)], (left, right), where=node)

    def attribute(self, node: ast.Attribute, depth: int) -> str:
        """``x.T``: the one attribute (not a method call) allowed; 2-D transpose as in torch."""
        if node.attr != "T":
            raise ExpressionError(_where(node), f"attribute {node.attr!r} is not allowed (only .T and "
                                                "method calls of catalogue ops)")
        inner = self.visit(node.value, depth + 1)
        return self.op("transpose", (inner,), {"dim0": 0, "dim1": 1}, where=node)

    def call(self, node: ast.Call, depth: int) -> str:
        if isinstance(node.func, ast.Attribute):
            return self.method(node, node.func, depth)
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(_where(node), "only calls of catalogue ops are allowed (crossgrad ops)")
        if node.func.id not in ops.CATALOGUE:
            hint = did_you_mean(node.func.id, ops.CATALOGUE)
            raise ExpressionError(_where(node), f"unknown op {node.func.id!r}{hint}: only calls of catalogue "
                                                "ops are allowed (crossgrad ops)")
        spec = ops.CATALOGUE[node.func.id]
        inputs = [self.visit(a, depth + 1) for a in node.args]
        return self.finish_call(spec, node, inputs, {}, depth)

    def method(self, node: ast.Call, func: ast.Attribute, depth: int) -> str:
        """``recv.name(args)``: catalogue op ``name`` with ``recv`` as its first input."""
        name = METHOD_ALIASES.get(func.attr, func.attr)
        if name.startswith("_") or name not in ops.CATALOGUE:
            hint = did_you_mean(func.attr, list(ops.CATALOGUE) + list(METHOD_ALIASES))
            raise ExpressionError(_where(func), f"method {func.attr!r} is not allowed{hint}; methods are "
                                                "catalogue ops (crossgrad ops)")
        spec = ops.CATALOGUE[name]
        inputs = [self.visit(func.value, depth + 1)]
        attrs: dict[str, Any] = {}
        tensors, numbers = _split_method_args(node.args)
        inputs += [self.visit(a, depth + 1) for a in tensors]
        if numbers:
            attrs = _positional_attrs(spec, [_attr(a) for a in numbers], node)
        return self.finish_call(spec, node, inputs, attrs, depth)

    def finish_call(self, spec: ops.OpSpec, node: ast.Call, given: list[str], attrs: dict, depth: int) -> str:
        if len(given) > len(spec.inputs):
            raise ExpressionError(_where(node), f"{spec.name} takes at most {len(spec.inputs)} tensors")
        inputs: list[str | None] = [*given, *[None] * (len(spec.inputs) - len(given))]
        names = [i.name for i in spec.inputs]
        for kw in node.keywords:
            if kw.arg in names:
                inputs[names.index(kw.arg)] = self.visit(kw.value, depth + 1)
            elif kw.arg in {a.name for a in spec.attrs}:
                attrs[kw.arg] = _attr(kw.value)
            else:
                hint = did_you_mean(kw.arg or "", names + [a.name for a in spec.attrs])
                raise ExpressionError(_where(kw.value), f"{spec.name} has no argument {kw.arg!r}{hint}")
        while inputs and inputs[-1] is None:
            inputs.pop()
        return self.op(spec.name, tuple(inputs), attrs, where=node)


def _split_method_args(args: list[ast.expr]) -> tuple[list[ast.expr], list[ast.expr]]:
    """A method's positional arguments: leading tensors, then attribute literals."""
    literal = [_literal(a) is not None or isinstance(a, (ast.Tuple, ast.List, ast.Constant)) for a in args]
    first = literal.index(True) if True in literal else len(args)
    if not all(literal[first:]):
        raise ExpressionError(_where(args[first]), "tensor arguments come before numbers")
    return args[:first], args[first:]


def _positional_attrs(spec: ops.OpSpec, values: list[Any], node: ast.AST) -> dict[str, Any]:
    """``x.sum(0)`` -> dim=0; ``x.reshape(2, 3)`` -> shape=(2, 3); ``x.pow(2)`` -> exponent=2."""
    if spec.name in VARARG_ATTRS:
        single = len(values) == 1 and isinstance(values[0], tuple)
        return {VARARG_ATTRS[spec.name]: values[0] if single else tuple(values)}
    if len(values) > len(spec.attrs):
        raise ExpressionError(_where(node), f"{spec.name} takes at most {len(spec.attrs)} positional attributes")
    return {a.name: v for a, v in zip(spec.attrs, values)}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _literal(node: ast.AST) -> Any:
    """A number (possibly negated) or None when the node is not one."""
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand)
        return None if inner is None else -inner
    return None


def _attr(node: ast.AST) -> Any:
    """Attribute literals: numbers, strings, booleans, None, tuples/lists of ints."""
    number = _literal(node)
    if number is not None:
        return number
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (str, bool))):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        values = [_literal(e) for e in node.elts]
        if all(isinstance(v, int) for v in values):
            return tuple(values)
    raise ExpressionError(_where(node), "attributes are numbers, strings, True/False/None or int tuples")


def parse_expression(text: str, leaves: dict[str, Leaf]) -> Graph:
    """A graph for ``text`` over ``leaves``; only the leaves it uses are included."""
    return parse_expression_located(text, leaves)[0]


def parse_expression_located(text: str, leaves: dict[str, Leaf]) -> tuple[Graph, dict[str, str]]:
    """The graph, and for each op node's field path (``graph.nodes[3]``) where it is in ``text``.

    Errors about a node (a shape mismatch found by the server, say) are then reported at the
    sub-expression the user wrote, not at a node index they never saw.
    """
    if len(text) > MAX_LENGTH:
        raise ExpressionError("expression", f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as err:
        raise ExpressionError(f"expression (column {err.offset or 0})", f"syntax error: {err.msg}") from None
    builder = _Builder(leaves)
    *stages, last = tree.body or [ast.Pass()]
    for statement in stages:
        builder.stage(statement)
    if not isinstance(last, ast.Expr):
        raise ExpressionError(_where(last), "the last statement must be the expression to differentiate")
    output = builder.visit(last.value)
    used = [leaf for name, leaf in leaves.items() if name in builder.used]
    located = {f"graph.nodes[{len(used) + position}]": f"{_where(origin)}, `{ast.get_source_segment(text, origin)}`"
               for position, origin in builder.origins.items()}
    return Graph(tuple(used) + tuple(builder.nodes), output), located


def parse_leaf(spec: str, rng: np.random.Generator) -> Leaf:
    """``NAME=randn(5,3):grad`` or ``NAME=[1,2]`` (JSON) -> a Leaf."""
    name, _, rest = spec.partition("=")
    if not name.isidentifier() or not rest:
        raise ExpressionError(f"--leaf {spec!r}", "expected NAME=VALUES[:grad][:float64]")
    body, *flags = rest.split(":")
    unknown = set(flags) - {"grad", "float64"}
    if unknown:
        raise ExpressionError(f"--leaf {name}", f"unknown flags {sorted(unknown)}")
    value = _values(body.strip(), rng, name)
    if value.dtype != np.int64:
        value = value.astype(np.float64 if "float64" in flags else np.float32)
    if "grad" in flags and value.dtype == np.int64:
        raise ExpressionError(f"--leaf {name}", "integer leaves cannot require grad")
    return Leaf(name, value, "grad" in flags)


def _values(body: str, rng: np.random.Generator, name: str) -> np.ndarray:
    match = SPEC.match(body)
    if match:
        numbers = [int(n) for n in match["args"].replace(" ", "").split(",") if n]
        kind = match["kind"]
        if kind == "randint":
            if not numbers:
                raise ExpressionError(f"--leaf {name}", "randint(HIGH, SHAPE...) needs HIGH")
            return rng.integers(0, numbers[0], size=tuple(numbers[1:])).astype(np.int64)
        shape = tuple(numbers)
        if int(np.prod(shape, dtype=np.int64)) > 10_000_000:
            raise ExpressionError(f"--leaf {name}", "too many elements")
        makers = {"randn": lambda: rng.standard_normal(shape), "rand": lambda: rng.random(shape),
                  "ones": lambda: np.ones(shape), "zeros": lambda: np.zeros(shape)}
        return makers[kind]()
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise ExpressionError(f"--leaf {name}", "values are randn(..), rand(..), ones(..), zeros(..), "
                                                "randint(..) or a JSON array") from None
    arr = np.asarray(data)
    if arr.dtype.kind not in "if":
        raise ExpressionError(f"--leaf {name}", "values must be numbers")
    return arr.astype(np.int64) if arr.dtype.kind == "i" else arr.astype(np.float64)
