"""The client's converter: engine objects <-> protobuf messages, and the proto3 JSON mapping.
The only client module that imports generated code."""

from __future__ import annotations

from typing import Any

import numpy as np
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.compare import PairComparison
from crossgrad.engine.culprit_fields import from_fields
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.program import StepReport
from crossgrad.engine.report import LeafReport, Report
from crossgrad.engine.tolerance import Tolerance
from crossgrad.v1 import crossgrad_pb2 as pb
from crossgrad.v1 import crossgrad_pb2_grpc as pb_grpc
from google.protobuf import json_format

Stub = pb_grpc.CrossgradServiceStub
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CrossgradService"].full_name
DTYPE_ENUM = {"float32": pb.DTYPE_FLOAT32, "float64": pb.DTYPE_FLOAT64, "int64": pb.DTYPE_INT64,
              "bool": pb.DTYPE_BOOL}
DTYPE_NAME = {v: k for k, v in DTYPE_ENUM.items()}
TIER_ENUM = {"auto": pb.TIER_AUTO, "exact": pb.TIER_EXACT, "tensor": pb.TIER_TENSOR, "off": pb.TIER_OFF}
TIER_NAME = {v: k for k, v in TIER_ENUM.items()}
WITNESS_ENUM = {"numeric": pb.WITNESS_NUMERIC, "symbolic": pb.WITNESS_SYMBOLIC,
                "finite_difference": pb.WITNESS_FINITE_DIFFERENCE, "claimed": pb.WITNESS_CLAIMED}
WITNESS_NAME = {v: k for k, v in WITNESS_ENUM.items()}
VERDICT_NAME = {pb.VERDICT_AGREE: "agree", pb.VERDICT_MISMATCH: "mismatch",
                pb.VERDICT_CONVENTION: "convention", pb.VERDICT_NON_FINITE: "non_finite",
                pb.VERDICT_SKIPPED: "skipped", pb.VERDICT_UNSPECIFIED: "skipped",
                pb.VERDICT_UNRESOLVED: "unresolved"}
STEP_ENUM = {"forward": pb.STEP_KIND_FORWARD, "backward": pb.STEP_KIND_BACKWARD,
             "zero_grad": pb.STEP_KIND_ZERO_GRAD, "sgd_step": pb.STEP_KIND_SGD_STEP}
STEP_NAME = {**{v: k for k, v in STEP_ENUM.items()}, pb.STEP_KIND_FINAL_PARAMETERS: "final_parameters"}


# --- requests out --------------------------------------------------------------------------
def tensor_out(arr: Any) -> Any:
    arr = np.asarray(arr)
    dtype = str(arr.dtype) if str(arr.dtype) in DTYPE_ENUM else "float64"
    t = pb.Tensor(shape=list(arr.shape), dtype=DTYPE_ENUM[dtype])
    if dtype in ("int64", "bool"):
        t.int_data.extend(arr.astype(np.int64).ravel().tolist())
    else:
        t.data.extend(arr.astype(np.float64).ravel().tolist())
    return t


def attr_out(value: Any) -> Any:
    if value is None:
        return pb.AttrValue(none_value=True)
    if isinstance(value, bool):
        return pb.AttrValue(bool_value=value)
    if isinstance(value, int):
        return pb.AttrValue(int_value=value)
    if isinstance(value, float):
        return pb.AttrValue(float_value=value)
    if isinstance(value, str):
        return pb.AttrValue(string_value=value)
    return pb.AttrValue(ints_value=pb.IntList(values=[int(v) for v in value]))


def graph_out(graph: Graph) -> Any:
    nodes = []
    for node in graph.nodes:
        if isinstance(node, Leaf):
            nodes.append(pb.Node(name=node.name, leaf=pb.Leaf(value=tensor_out(node.value),
                                                              requires_grad=node.requires_grad)))
        else:
            op = pb.Op(op=node.op, inputs=[n or "" for n in node.inputs], no_grad=node.no_grad,
                       attrs={k: attr_out(v) for k, v in node.attrs.items()})
            nodes.append(pb.Node(name=node.name, op=op))
    return pb.Graph(nodes=nodes)


def _attr_in(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "ints_value":
        return tuple(value.ints_value.values)
    return None if kind in (None, "none_value") else getattr(value, kind)


def graph_in(msg: Any) -> Graph:
    """An engine Graph from a request's graph message (the user's own file: for drawing it)."""
    nodes: list[Leaf | OpNode] = []
    for node in msg.graph.nodes:
        if node.HasField("leaf"):
            nodes.append(Leaf(node.name, tensor_in(node.leaf.value), node.leaf.requires_grad))
        else:
            nodes.append(OpNode(node.name, node.op.op, tuple(i or None for i in node.op.inputs),
                                {k: _attr_in(v) for k, v in node.op.attrs.items()}, node.op.no_grad))
    return Graph(tuple(nodes), msg.root or (nodes[-1].name if nodes else ""))


def request_out(req: CheckRequest) -> Any:
    msg = pb.CheckRequest(graph=graph_out(req.graph), root=req.graph.output,
                          tier=TIER_ENUM.get(req.tier, pb.TIER_AUTO), formulas=req.formulas,
                          fd_seed=req.fd_seed, witnesses=[WITNESS_ENUM[w] for w in req.witnesses],
                          claimed={k: tensor_out(v) for k, v in req.claimed.items()})
    if req.order != 1:
        msg.order = req.order
    if req.seed is not None:
        msg.gradient.CopyFrom(tensor_out(req.seed))
    if req.tolerance is not None:
        msg.tolerance.CopyFrom(pb.Tolerance(rtol=req.tolerance.rtol, atol=req.tolerance.atol,
                                            floor=req.tolerance.floor))
    for step in req.program or []:
        s = msg.program.add(kind=STEP_ENUM[step.kind], root=step.root or "",
                            retain_graph=step.retain_graph, lr=step.lr)
        if step.gradient is not None:
            s.gradient.CopyFrom(tensor_out(step.gradient))
    return msg


def stream_request_message(request: Any) -> Any:
    return pb.CheckStreamRequest(request=request)


def request_from_json(text: str) -> Any:
    """A CheckRequest message from its proto3 JSON mapping (ValueError when malformed)."""
    try:
        return json_format.Parse(text, pb.CheckRequest())
    except json_format.ParseError as err:
        raise ValueError(f"not a crossgrad.v1.CheckRequest in JSON: {err}") from None


def to_json(message: Any) -> str:
    return json_format.MessageToJson(message, preserving_proto_field_name=False, indent=2)


# --- reports in ----------------------------------------------------------------------------
def tensor_in(t: Any) -> np.ndarray:
    if t.dtype == pb.DTYPE_INT64:
        return np.asarray(t.int_data, np.int64).reshape(tuple(t.shape))
    if t.dtype == pb.DTYPE_BOOL:
        return np.asarray(t.int_data, np.int64).astype(np.bool_).reshape(tuple(t.shape))
    return np.asarray(t.data, np.float64).reshape(tuple(t.shape))


def comparison_in(c: Any) -> PairComparison:
    tol = None
    if c.HasField("tolerance"):
        tol = Tolerance(c.tolerance.rtol, c.tolerance.atol, c.tolerance.floor)
    return PairComparison(
        (WITNESS_NAME.get(c.first, "?"), WITNESS_NAME.get(c.second, "?")), VERDICT_NAME[c.verdict], tol,
        total=c.total, mismatched=c.mismatched, kinks=c.kinks, non_finite=c.non_finite, unresolved=c.unresolved,
        max_abs=c.max_abs, max_rel=c.max_rel, max_ulp=c.max_ulp,
        worst_index=tuple(c.worst_index), worst_values=(c.worst_first, c.worst_second),
        unit=c.unit or "elements", reason=c.reason,
        max_abs_index=tuple(c.max_abs_index) if c.max_abs_index else None,
        mismatched_indices=[tuple(m.index) for m in c.mismatches],
        mismatched_values=[(m.first, m.second, m.excess) for m in c.mismatches])


def leaf_in(msg: Any) -> LeafReport:
    grads = {w: tensor_in(getattr(msg, w)) for w in WITNESS_ENUM if msg.HasField(w)}
    return LeafReport(msg.name, tuple(msg.shape), DTYPE_NAME.get(msg.dtype, "float64"), grads,
                      [comparison_in(c) for c in msg.comparisons], VERDICT_NAME[msg.verdict],
                      WITNESS_NAME.get(msg.suspect), list(msg.closed_form) or None,
                      list(msg.closed_form_latex) or None)


CULPRIT_KIND = {pb.CULPRIT_KIND_BACKWARD: "backward", pb.CULPRIT_KIND_FORWARD: "forward",
                pb.CULPRIT_KIND_CLAIMED_STAGE: "claimed_stage"}


def culprit_in(c: Any) -> Any:
    return from_fields(CULPRIT_KIND.get(c.kind, "backward"), c.node, c.op, c.grad_fn, c.input, list(c.index),
                       dict(c.values), WITNESS_NAME.get(c.suspect, ""), c.mismatched, c.total,
                       list(c.consumers), c.first)


def report_in(msg: Any) -> Report:
    """The same Report type ``crossgrad.check`` returns locally."""
    steps = [StepReport(s.index, STEP_NAME.get(s.kind, "?"), dict(s.errors),
                        [leaf_in(leaf) for leaf in s.leaves], VERDICT_NAME[s.verdict]) for s in msg.steps]
    return Report(VERDICT_NAME[msg.verdict], [leaf_in(leaf) for leaf in msg.leaves], TIER_NAME.get(msg.tier, "off"),
                  msg.tier_reason, msg.finite_difference,
                  output=tensor_in(msg.output) if msg.HasField("output") else None,
                  timings={k: v / 1e3 for k, v in msg.timings_ms.items()}, notes=list(msg.notes),
                  steps=steps, grad_fns={n.name: n.grad_fn for n in msg.nodes},
                  culprits=[culprit_in(c) for c in msg.culprits], order=msg.order or 1,
                  directions_seed=msg.directions_seed if msg.HasField("directions_seed") else None)


def ops_in(msg: Any) -> list[dict[str, Any]]:
    return [json_format.MessageToDict(op, preserving_proto_field_name=True) for op in msg.ops]


def info_in(msg: Any) -> dict[str, Any]:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def empty(name: str) -> Any:
    """An empty request message by name (ListOpsRequest, GetServerInfoRequest)."""
    return getattr(pb, name)()
