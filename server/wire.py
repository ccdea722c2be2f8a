"""The server's converter: protobuf messages <-> engine objects. The only server module that
imports generated code; everything past it sees engine types only.

Incoming tensors are checked against the limits from their declared shapes before any array
is allocated; dtypes come from the enum, never from client text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import grpc
import numpy as np
from crossgrad.engine import ops
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.compare import PairComparison
from crossgrad.engine.culprit_fields import as_fields
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode
from crossgrad.engine.hessian import check_order
from crossgrad.engine.program import Step, StepReport
from crossgrad.engine.report import LeafReport, Report
from crossgrad.engine.tolerance import Tolerance
from crossgrad.v1 import crossgrad_pb2 as pb
from crossgrad.v1 import crossgrad_pb2_grpc as pb_grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2

from .limits import Limits

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["CrossgradService"].full_name
ServicerBase = pb_grpc.CrossgradServiceServicer


class Undecodable:
    """Bytes that are not a request message. gRPC's own deserializer would answer INTERNAL;
    this placeholder reaches the servicer instead, which answers INVALID_ARGUMENT."""

    def __init__(self, size: int) -> None:
        self.size = size

    def ByteSize(self) -> int:  # noqa: N802  (the protobuf message method the access log calls)
        return self.size

    @property
    def request(self) -> Undecodable:  # a CheckStreamRequest's field
        return self


def _tolerant(parse: Any) -> Any:
    def read(data: bytes) -> Any:
        try:
            return parse(data)
        except DecodeError:
            return Undecodable(len(data))
    return read


@dataclass
class AnsweredReport(Report):
    """A report whose CheckResponse was already built and serialized where the check ran (a
    big-check worker, server/witness_pool.py): the server process sends these bytes as they are."""

    response: bytes = b""


@dataclass(frozen=True)
class Serialized:
    """A response message already in wire format (sent unchanged by ``_serialize``)."""

    data: bytes


def _serialize(message: Any) -> bytes:
    return message.data if isinstance(message, Serialized) else message.SerializeToString()


def answered(report: Report, figures_only: bool) -> AnsweredReport:
    """``report`` with its serialized CheckResponse (built here, in the process that ran it)."""
    data = response_out(report, figures_only).SerializeToString()
    return AnsweredReport(**{f.name: getattr(report, f.name) for f in fields(Report)}, response=data)


def add_servicer(servicer: Any, server: Any) -> None:
    """The generated registration, with Check's and CheckStream's requests parsed tolerantly (and
    responses already serialized by a big-check worker sent as they are)."""
    handlers = {
        "Check": grpc.unary_unary_rpc_method_handler(
            servicer.Check, request_deserializer=_tolerant(pb.CheckRequest.FromString),
            response_serializer=_serialize),
        "CheckStream": grpc.stream_stream_rpc_method_handler(
            servicer.CheckStream, request_deserializer=_tolerant(pb.CheckStreamRequest.FromString),
            response_serializer=_serialize),
        "ListOps": grpc.unary_unary_rpc_method_handler(
            servicer.ListOps, request_deserializer=pb.ListOpsRequest.FromString,
            response_serializer=pb.ListOpsResponse.SerializeToString),
        "GetServerInfo": grpc.unary_unary_rpc_method_handler(
            servicer.GetServerInfo, request_deserializer=pb.GetServerInfoRequest.FromString,
            response_serializer=pb.GetServerInfoResponse.SerializeToString),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))

DTYPES = {pb.DTYPE_FLOAT32: np.float32, pb.DTYPE_FLOAT64: np.float64, pb.DTYPE_INT64: np.int64,
          pb.DTYPE_BOOL: np.bool_}
DTYPE_ENUM = {"float32": pb.DTYPE_FLOAT32, "float64": pb.DTYPE_FLOAT64, "int64": pb.DTYPE_INT64}
TIERS = {pb.TIER_UNSPECIFIED: "auto", pb.TIER_AUTO: "auto", pb.TIER_EXACT: "exact",
         pb.TIER_TENSOR: "tensor", pb.TIER_OFF: "off"}
TIER_OUT = {"exact": pb.TIER_EXACT, "tensor": pb.TIER_TENSOR, "off": pb.TIER_OFF}
# Engine field names that are not the proto's: an error at "seed" is about CheckRequest.gradient.
ENGINE_PATHS = {"seed": "gradient"}
DTYPE_OUT = {np.dtype(name): enum for name, enum in DTYPE_ENUM.items()}
WITNESSES = {pb.WITNESS_NUMERIC: "numeric", pb.WITNESS_SYMBOLIC: "symbolic",
             pb.WITNESS_FINITE_DIFFERENCE: "finite_difference", pb.WITNESS_CLAIMED: "claimed"}
WITNESS_ENUM = {v: k for k, v in WITNESSES.items()}
VERDICTS = {"agree": pb.VERDICT_AGREE, "mismatch": pb.VERDICT_MISMATCH, "convention": pb.VERDICT_CONVENTION,
            "non_finite": pb.VERDICT_NON_FINITE, "skipped": pb.VERDICT_SKIPPED,
            "unresolved": pb.VERDICT_UNRESOLVED}
CULPRIT_KINDS = {"backward": pb.CULPRIT_KIND_BACKWARD, "forward": pb.CULPRIT_KIND_FORWARD,
                 "claimed_stage": pb.CULPRIT_KIND_CLAIMED_STAGE}
STEP_KINDS = {pb.STEP_KIND_FORWARD: "forward", pb.STEP_KIND_BACKWARD: "backward",
              pb.STEP_KIND_ZERO_GRAD: "zero_grad", pb.STEP_KIND_SGD_STEP: "sgd_step"}
STEP_ENUM = {**{v: k for k, v in STEP_KINDS.items()}, "final_parameters": pb.STEP_KIND_FINAL_PARAMETERS}


# --- requests in ---------------------------------------------------------------------------
def tensor_in(t: Any, path: str, limits: Limits) -> np.ndarray:
    """A numpy array from a Tensor message, checked against the limits before allocation."""
    dtype = t.dtype
    if dtype not in DTYPES:
        raise GraphError(f"{path}.dtype", "must be DTYPE_FLOAT32, DTYPE_FLOAT64, DTYPE_INT64 or DTYPE_BOOL")
    shape = tuple(t.shape)  # upb's repeated int64: Python ints
    limits.check_shape(shape, path)
    size = math.prod(shape)
    is_int = dtype == pb.DTYPE_INT64 or dtype == pb.DTYPE_BOOL
    data, other = (t.int_data, t.data) if is_int else (t.data, t.int_data)
    if other:
        kind = "float" if not is_int else "int64" if dtype == pb.DTYPE_INT64 else "bool"
        raise GraphError(path, f"values of a {kind} tensor belong in {'int_data' if is_int else 'data'}")
    if len(data) != size:
        raise GraphError(f"{path}.{'int_data' if is_int else 'data'}",
                         f"{len(data)} values for shape {list(shape)} ({size} elements)")
    if dtype == pb.DTYPE_BOOL:
        return _bools(data, shape, path)
    if dtype != pb.DTYPE_FLOAT32:
        return np.asarray(list(data) if size <= LIST_UP_TO else data, dtype=DTYPES[dtype]).reshape(shape)
    if 0 < size <= LIST_UP_TO:
        values = list(data)
        if min(values) > -F32_MAX and max(values) < F32_MAX:  # (a NaN first fails this: the general path)
            return np.array(values, dtype=np.float32).reshape(shape)  # nothing overflows: no errstate
    with np.errstate(over="ignore"):  # a double too big for float32 becomes inf, reported as non-finite
        return np.asarray(data, dtype=np.float32).reshape(shape)


LIST_UP_TO = 4096  # elements: a small tensor's values go through a list (numpy reads it faster than upb's)
F32_MAX = float(np.finfo(np.float32).max)


def _bools(data: Any, shape: tuple[int, ...], path: str) -> np.ndarray:
    values = np.asarray(data, dtype=np.int64)
    if ((values != 0) & (values != 1)).any():
        raise GraphError(f"{path}.int_data", "the values of a DTYPE_BOOL tensor must be 0 or 1")
    return values.astype(np.bool_).reshape(shape)


def attr_in(value: Any, path: str) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        raise GraphError(path, "attribute has no value")
    if kind == "ints_value":
        return tuple(int(v) for v in value.ints_value.values)
    if kind == "none_value":
        return None
    return getattr(value, kind)


def graph_in(g: Any, root: str, limits: Limits) -> Graph:
    limits.check_count(len(g.nodes), limits.max_nodes, "graph.nodes", "nodes")
    nodes: list[Any] = []
    total = 0
    depth: dict[str, int] = {}
    for i, node in enumerate(g.nodes):
        kind = node.WhichOneof("kind")
        if kind == "leaf":
            leaf = node.leaf
            value = tensor_in(leaf.value, f"graph.nodes[{i}].leaf.value", limits)
            total += value.size
            limits.check_count(total, limits.max_total_elements, f"graph.nodes[{i}].leaf.value", "elements in all")
            nodes.append(Leaf(node.name, value, leaf.requires_grad))
        elif kind == "op":
            nodes.append(_op_in(node, i, depth, limits))
        else:
            raise GraphError(f"graph.nodes[{i}]", "a node is either a leaf or an op")
    if not nodes:
        raise GraphError("graph.nodes", "the graph is empty")
    return Graph(tuple(nodes), root or nodes[-1].name)


def _op_in(node: Any, i: int, depth: dict[str, int], limits: Limits) -> OpNode:
    """An OpNode from node ``i``; ``depth`` (ops deep, by name) is updated and checked."""
    op = node.op
    attrs = {k: attr_in(v, f"graph.nodes[{i}].op.attrs.{k}") for k, v in op.attrs.items()} if op.attrs else {}
    inputs = tuple(name or None for name in op.inputs)
    deepest = 0
    for name in inputs:
        found = depth.get(name or "", 0)
        deepest = found if found > deepest else deepest
    depth[node.name] = deepest + 1
    limits.check_count(deepest + 1, limits.max_depth, f"graph.nodes[{i}].op.inputs", "ops deep")
    return OpNode(node.name, op.op, inputs, attrs, op.no_grad)


def step_in(step: Any, index: int, limits: Limits) -> Step:
    path = f"program[{index}]"
    if step.kind not in STEP_KINDS:
        raise GraphError(f"{path}.kind", "must be FORWARD, BACKWARD, ZERO_GRAD or SGD_STEP")
    gradient = tensor_in(step.gradient, f"{path}.gradient", limits) if step.HasField("gradient") else None
    return Step(STEP_KINDS[step.kind], step.root or None, step.retain_graph, gradient, step.lr)


def request_in(req: Any, limits: Limits) -> CheckRequest:
    """An engine CheckRequest from a protobuf one (GraphError / LimitError name the field)."""
    if isinstance(req, Undecodable):
        raise GraphError("request", f"{req.size} bytes that are not a CheckRequest message (protobuf parse error)")
    graph = graph_in(req.graph, req.root, limits)
    limits.check_count(len(req.program), limits.max_program_steps, "program", "steps")
    for i, w in enumerate(req.witnesses):
        if w not in WITNESSES:
            raise GraphError(f"witnesses[{i}]", f"unknown witness {w} (NUMERIC, SYMBOLIC, FINITE_DIFFERENCE, CLAIMED)")
    if req.tier not in TIERS:
        raise GraphError("tier", f"unknown tier {req.tier} (AUTO, EXACT, TENSOR or OFF)")
    witnesses = tuple(WITNESSES[w] for w in req.witnesses) or ("numeric", "symbolic", "finite_difference")
    return CheckRequest(
        graph=graph,
        seed=tensor_in(req.gradient, "gradient", limits) if req.HasField("gradient") else None,
        tier=TIERS[req.tier],
        witnesses=witnesses,
        tolerance=Tolerance(req.tolerance.rtol, req.tolerance.atol, req.tolerance.floor)
        if req.HasField("tolerance") else None,
        claimed={k: tensor_in(v, f"claimed.{k}", limits) for k, v in req.claimed.items()},
        formulas=req.formulas,
        fd_seed=int(req.fd_seed),
        program=[step_in(s, i, limits) for i, s in enumerate(req.program)] or None,
        exact_budget=limits.exact_budget,
        order=check_order(int(req.order or 1)),
    )


# --- reports out ---------------------------------------------------------------------------
PACKED_FROM = 256  # elements: from here float data is parsed from its packed bytes, not a list


def tensor_out(arr: np.ndarray) -> Any:
    arr = np.asarray(arr)
    dtype = DTYPE_OUT.get(arr.dtype, pb.DTYPE_FLOAT64)
    if dtype == pb.DTYPE_INT64:
        return pb.Tensor(shape=arr.shape, dtype=dtype, int_data=arr.ravel().tolist())
    if arr.size < PACKED_FROM:
        return pb.Tensor(shape=arr.shape, dtype=dtype, data=arr.ravel().tolist())  # tolist gives Python floats
    msg = pb.Tensor(shape=arr.shape, dtype=dtype)
    msg.MergeFromString(_packed_data(arr))
    return msg


def _packed_data(arr: np.ndarray) -> bytes:
    """``Tensor.data`` (field 3, packed doubles) in wire format: tag, length, little-endian float64
    values. Parsing these bytes is a copy; a list of a million Python floats holds the GIL ~0.1 s."""
    raw = np.ascontiguousarray(arr, dtype="<f8").tobytes()
    return b"\x1a" + _varint(len(raw)) + raw  # field 3, wire type 2 (length-delimited)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tolerance_out(tol: Tolerance | None) -> Any:
    return None if tol is None else pb.Tolerance(rtol=tol.rtol, atol=tol.atol, floor=tol.floor)


def comparison_out(p: PairComparison) -> Any:
    worst = p.worst_values or (0.0, 0.0)
    return pb.Comparison(
        first=WITNESS_ENUM.get(p.witnesses[0], 0), second=WITNESS_ENUM.get(p.witnesses[1], 0),
        verdict=VERDICTS[p.verdict], max_abs=p.max_abs, max_rel=p.max_rel, max_ulp=p.max_ulp,
        mismatched=p.mismatched, total=p.total, kinks=p.kinks, non_finite=p.non_finite, unresolved=p.unresolved,
        worst_index=list(p.worst_index or ()), worst_first=worst[0], worst_second=worst[1],
        tolerance=tolerance_out(p.tolerance), unit=p.unit, reason=p.reason,
        mismatches=[pb.Mismatch(index=list(i), first=a, second=b, excess=e)
                    for i, (a, b, e) in zip(p.mismatched_indices, p.mismatched_values)],
        max_abs_index=list(p.max_abs_index or ()))


def leaf_out(leaf: LeafReport, figures_only: bool = False) -> Any:
    msg = pb.LeafReport(name=leaf.name, shape=list(leaf.shape), dtype=DTYPE_ENUM[leaf.dtype],
                        verdict=VERDICTS[leaf.verdict], suspect=WITNESS_ENUM.get(leaf.suspect or "", 0),
                        closed_form=leaf.closed_form or [], closed_form_latex=leaf.closed_form_latex or [],
                        comparisons=[comparison_out(p) for p in leaf.pairs])
    for witness, grad in () if figures_only else leaf.grads.items():
        getattr(msg, witness).CopyFrom(tensor_out(grad))
    return msg


def step_out(step: StepReport, figures_only: bool = False) -> Any:
    return pb.StepResult(index=step.index, kind=STEP_ENUM[step.kind], verdict=VERDICTS[step.verdict],
                         errors={w: e for w, e in step.errors.items() if e},
                         leaves=[leaf_out(leaf, figures_only) for leaf in step.leaves])


def culprit_out(culprit: Any, grad_fns: dict[str, str]) -> Any:
    fields = as_fields(culprit, grad_fns)
    fields["kind"] = CULPRIT_KINDS[fields["kind"]]
    fields["suspect"] = WITNESS_ENUM.get(fields["suspect"], 0)
    return pb.Culprit(**fields)


def response_out(report: Report, figures_only: bool = False) -> Any:
    if isinstance(report, AnsweredReport):
        return Serialized(report.response)
    return pb.CheckResponse(
        verdict=VERDICTS[report.verdict], leaves=[leaf_out(leaf, figures_only) for leaf in report.leaves],
        nodes=[pb.NodeInfo(name=n, grad_fn=g) for n, g in report.grad_fns.items()],
        steps=[step_out(s, figures_only) for s in report.steps], tier=TIER_OUT.get(report.tier, pb.TIER_UNSPECIFIED),
        tier_reason=report.tier_reason,
        finite_difference=report.finite_difference,
        timings_ms={k: v * 1e3 for k, v in report.timings.items()}, notes=report.notes,
        output=tensor_out(report.output) if report.output is not None and not figures_only else None,
        culprits=[culprit_out(c, report.grad_fns) for c in report.culprits],
        order=report.order, directions_seed=report.directions_seed)


# --- catalogue and server info ------------------------------------------------------------------
def attr_value_out(value: Any) -> Any:
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
    return pb.AttrValue(ints_value=pb.IntList(values=list(value)))


def ops_out() -> Any:
    return pb.ListOpsResponse(ops=[
        pb.OpInfo(name=spec.name, grad_fn=spec.grad_fn if isinstance(spec.grad_fn, str) else "",
                  kink=spec.kink, doc=spec.doc,
                  inputs=[pb.InputSpec(name=i.name, domain=i.domain, optional=i.optional,
                                       differentiable=i.differentiable, variadic=i.variadic)
                          for i in spec.inputs],
                  attrs=[pb.AttrSpec(name=a.name, kind=a.kind, default_value=attr_value_out(a.default),
                                     choices=list(a.choices)) for a in spec.attrs])
        for spec in ops.CATALOGUE.values()])


def info_out(version: str, limits: Limits) -> Any:
    return pb.GetServerInfoResponse(
        version=version, tiers=[pb.TIER_AUTO, pb.TIER_EXACT, pb.TIER_TENSOR, pb.TIER_OFF],
        limits=pb.Limits(**limits.as_dict()))


def stream_response(report: Report, figures_only: bool = False) -> Any:
    if isinstance(report, AnsweredReport):  # field 1 (response), length-delimited, by hand
        return Serialized(b"\x0a" + _varint(len(report.response)) + report.response)
    return pb.CheckStreamResponse(response=response_out(report, figures_only))


def stream_error(status: Any) -> Any:
    """A stream request's own error (a google.rpc.Status with at most one field violation)."""
    error = pb.StreamError(code=status.code, message=status.message)
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad) and bad.field_violations:
            error.field, error.description = bad.field_violations[0].field, bad.field_violations[0].description
    return pb.CheckStreamResponse(error=error)
