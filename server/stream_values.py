"""CheckStream's requests after the first of a structure: only their values are read.

A batch's first request is converted and validated as a lone Check's (``servicer.prepare``).
Its wire bytes then serve as a template: the packed ``data`` payloads of its float tensors that
are per-request values (leaf values, except leaves whose value is structure, see
``batch_check.batch_key``; the seed ``gradient``; claimed gradients) are the holes. A later
request whose serialized bytes equal the template's everywhere outside the holes, with holes of
the same lengths, is the same request with other values: protobuf decoding of identical bytes
around payloads of packed doubles cannot differ otherwise. Its engine request is the first one's
with those values read by ``np.frombuffer`` (float32 rounded from the doubles as ``wire.tensor_in``
rounds them), and its plan the first one's with the new graph (validation reads no float value).
Anything else (other bytes, another encoding, a message that does not parse) goes the full way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from crossgrad.engine.graph import Leaf
from crossgrad.v1 import crossgrad_pb2 as pb

_F = {name: pb.CheckRequest.DESCRIPTOR.fields_by_name[name].number for name in ("graph", "gradient", "claimed")}
_STREAM_REQUEST = pb.CheckStreamRequest.DESCRIPTOR.fields_by_name["request"].number
_NODES = pb.Graph.DESCRIPTOR.fields_by_name["nodes"].number
_LEAF = pb.Node.DESCRIPTOR.fields_by_name["leaf"].number
_VALUE = pb.Leaf.DESCRIPTOR.fields_by_name["value"].number
_DATA = pb.Tensor.DESCRIPTOR.fields_by_name["data"].number
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_LENGTH_DELIMITED = 2


class _Unexpected(Exception):
    """The template's bytes are not laid out as this module reads them (no template then)."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Unexpected
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(field number, wire type, value start, value end) of a message's fields in buf[start:end]."""
    out = []
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos)
        number, kind = tag >> 3, tag & 7
        if kind == 0:
            _, stop = _varint(buf, pos)
        elif kind == 1:
            stop = pos + 8
        elif kind == 5:
            stop = pos + 4
        elif kind == _LENGTH_DELIMITED:
            size, pos = _varint(buf, pos)
            stop = pos + size
        else:
            raise _Unexpected
        if stop > end:
            raise _Unexpected
        out.append((number, kind, pos, stop))
        pos = stop
    return out


def _one(buf: bytes, start: int, end: int, number: int) -> tuple[int, int] | None:
    """The single length-delimited field ``number`` (None when absent; repeated: unexpected)."""
    found = [(s, e) for n, k, s, e in _fields(buf, start, end) if n == number]
    if not found:
        return None
    if len(found) > 1 or any(k != _LENGTH_DELIMITED for n, k, _, _ in _fields(buf, start, end) if n == number):
        raise _Unexpected
    return found[0]


def _data(buf: bytes, span: tuple[int, int] | None) -> tuple[int, int] | None:
    """A Tensor message's packed ``data`` payload (None when it has no data field)."""
    if span is None:
        return None
    return _one(buf, span[0], span[1], _DATA)


@dataclasses.dataclass
class _Hole:
    start: int
    end: int
    dtype: np.dtype
    shape: tuple[int, ...]
    where: tuple[str, Any]  # ("leaf", node index), ("seed", None) or ("claimed", name)


class Template:
    """A prepared request and where its values lie in its wire bytes (see the module doc)."""

    def __init__(self, data: bytes, holes: list[_Hole], prepared: tuple) -> None:
        self.data, self.holes, self.prepared = data, holes, prepared
        cuts = [0, *[x for h in holes for x in (h.start, h.end)], len(data)]
        self.segments = [(cuts[k], cuts[k + 1], data[cuts[k]:cuts[k + 1]]) for k in range(0, len(cuts), 2)]
        self.dtype = holes[0].dtype if len({h.dtype for h in holes}) == 1 else None  # one cast for all holes
        ends = np.cumsum([0] + [(h.end - h.start) // 8 for h in holes]).tolist()
        self.spans = list(zip(ends, ends[1:]))

    @classmethod
    def of(cls, item: Any, prepared: tuple, fixed: set[int]) -> Template | None:
        """The template of ``item`` (a CheckStreamRequest) prepared as ``prepared``: (engine request,
        plan, batch key); ``fixed``: leaves whose value is structure. None when its bytes are not as
        expected or it has no values to vary."""
        serialize = getattr(item, "SerializeToString", None)
        return None if serialize is None else cls.of_bytes(serialize(), prepared, fixed)

    @classmethod
    def of_bytes(cls, data: bytes, prepared: tuple, fixed: set[int]) -> Template | None:
        """``of`` from the CheckStreamRequest's wire bytes."""
        try:
            holes = _holes(data, prepared[0], fixed)
        except (_Unexpected, IndexError, KeyError, UnicodeDecodeError):
            return None
        return cls(data, holes, prepared) if holes else None

    def values(self, item: Any) -> list[np.ndarray] | None:
        """The hole values of ``item`` when it equals the template outside the holes, else None.
        A double beyond float32's range becomes inf, as in ``wire.tensor_in`` (numpy warns about
        that overflow unless called under ``np.errstate(over="ignore")``, as batching does)."""
        serialize = getattr(item, "SerializeToString", None)
        return None if serialize is None else self.values_in(serialize())

    def values_in(self, data: bytes) -> list[np.ndarray] | None:
        """``values`` from the CheckStreamRequest's wire bytes."""
        if len(data) != len(self.data):
            return None
        for start, end, same in self.segments:
            if data[start:end] != same:
                return None
        if self.dtype is not None:
            values = np.frombuffer(b"".join([data[h.start:h.end] for h in self.holes]), "<f8").astype(self.dtype)
            return [values[a:b].reshape(h.shape) for (a, b), h in zip(self.spans, self.holes)]
        return [np.frombuffer(data, "<f8", (h.end - h.start) // 8, h.start).astype(h.dtype).reshape(h.shape)
                for h in self.holes]

    def prepared_with(self, values: list[np.ndarray]) -> tuple:
        """(engine request, plan, batch key) of the template with these hole values."""
        request, plan, key = self.prepared
        nodes = list(request.graph.nodes)
        seed, claimed = request.seed, dict(request.claimed)
        for hole, value in zip(self.holes, values):
            kind, at = hole.where
            if kind == "leaf":
                nodes[at] = _replaced(nodes[at], value=value)
            elif kind == "seed":
                seed = value
            else:
                claimed[at] = value
        graph = _replaced(request.graph, nodes=tuple(nodes))
        return _replaced(request, graph=graph, seed=seed, claimed=claimed), _replaced(plan, graph=graph), key


def _replaced(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` without running the generated ``__init__`` again (~5x faster): the
    fields copied and changed, then ``__post_init__`` when the class has one, as ``__init__``
    would (these dataclasses have only init fields: tests/test_stream_values.py checks it)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    post_init = getattr(new, "__post_init__", None)
    if post_init is not None:
        post_init()
    return new


def _holes(data: bytes, request: Any, fixed: set[int]) -> list[_Hole]:
    """The value payloads of a serialized CheckStreamRequest whose engine request is ``request``."""
    outer = _one(data, 0, len(data), _STREAM_REQUEST)
    if outer is None:
        raise _Unexpected
    fields = _fields(data, *outer)
    holes: list[_Hole] = []
    graph = _one(data, outer[0], outer[1], _F["graph"])
    nodes = [] if graph is None else [(s, e) for n, _, s, e in _fields(data, *graph) if n == _NODES]
    if len(nodes) != len(request.graph.nodes):
        raise _Unexpected
    for i, (node, span) in enumerate(zip(request.graph.nodes, nodes)):
        if isinstance(node, Leaf) and i not in fixed and np.asarray(node.value).dtype in _FLOATS:
            leaf = _one(data, span[0], span[1], _LEAF)
            value = None if leaf is None else _one(data, leaf[0], leaf[1], _VALUE)
            _add(holes, _data(data, value), node.value, ("leaf", i))
    if request.seed is not None and np.asarray(request.seed).dtype in _FLOATS:
        _add(holes, _data(data, _one(data, outer[0], outer[1], _F["gradient"])), request.seed, ("seed", None))
    for number, _, start, end in fields:
        if number == _F["claimed"]:
            key, value = _one(data, start, end, 1), _one(data, start, end, 2)
            name = "" if key is None else data[key[0]:key[1]].decode()
            if name in request.claimed and np.asarray(request.claimed[name]).dtype in _FLOATS:
                _add(holes, _data(data, value), request.claimed[name], ("claimed", name))
    holes.sort(key=lambda h: h.start)
    return holes


def _add(holes: list[_Hole], span: tuple[int, int] | None, value: Any, where: tuple[str, Any]) -> None:
    array = np.asarray(value)
    if span is None and array.size == 0:
        return  # no values to vary
    if span is None or span[1] - span[0] != 8 * array.size:
        raise _Unexpected  # no packed payload, or not as many doubles as values: read the full way
    holes.append(_Hole(span[0], span[1], array.dtype, array.shape, where))
