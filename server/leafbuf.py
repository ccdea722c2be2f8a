"""The compact worker protocol: a structure a worker has seen travels as leaf values only.

The first job of a structure sends the validated plan (pickled) once; the worker keeps it by
key (tier, structure hash, seed dtype). Later jobs of that structure send one bytes buffer: the
key, then every leaf's values and the seed, raw, in node order. The worker knows every shape and
dtype from its copy of the plan, so the buffer has no other framing. Both sides keep the last
``KNOWN_PER_WORKER`` keys with the same LRU rule, so the parent knows what each worker holds.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import cast

import numpy as np
from crossgrad.engine.graph import Graph, Leaf, Plan

KNOWN_PER_WORKER = 256
_SEP = b"\n"
VALUES, PLAN = b"V", b"P"  # a message's first byte: leaf values of a known structure, or a pickled plan
MANY, PLANS = b"M", b"Q"  # the same for a group of requests of one structure (one job, one answer)
CALL = b"C"  # a pickled (function, args) of a check's other SymPy work (calls.py)


def key_of(plan: Plan, seed: np.ndarray, tier: str) -> str:
    return f"{tier}:{plan.structure_hash}:{seed.dtype.str}:{'x'.join(map(str, seed.shape))}"


def pack(key: str, plan: Plan, seed: np.ndarray) -> bytes:
    """A VALUES message: the key, then every leaf's values and the seed, raw bytes in node order."""
    return b"".join([VALUES, key.encode(), _SEP, *_values(plan, seed)])


def pack_many(key: str, plans: list[Plan], seeds: list[np.ndarray]) -> bytes:
    """A MANY message: the key, then each request's leaf values and seed as in ``pack``."""
    return b"".join([MANY, key.encode(), _SEP, *[part for p, s in zip(plans, seeds) for part in _values(p, s)]])


def _values(plan: Plan, seed: np.ndarray) -> list[bytes]:
    parts = [np.ascontiguousarray(node.value).tobytes() for node in plan.graph.nodes if isinstance(node, Leaf)]
    return [*parts, np.ascontiguousarray(seed).tobytes()]


def split_key(buffer: bytes) -> tuple[str, memoryview]:
    """A VALUES message's key and its raw data."""
    cut = buffer.index(_SEP)
    return buffer[1:cut].decode(), memoryview(buffer)[cut + 1:]


def unpack(known: Plan, seed_dtype: np.dtype, data: memoryview) -> tuple[Plan, np.ndarray]:
    """The known plan with the buffer's leaf values, and the seed (arrays own their memory)."""
    plan, seed, offset = _unpack_at(known, seed_dtype, data, 0)
    if offset != len(data):
        raise ValueError(f"leaf buffer of {len(data)} bytes, {offset} expected")
    return plan, seed


def unpack_stacks(known: Plan, seed_dtype: np.dtype, data: memoryview) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """A MANY message's values as arrays with the requests on the first axis: every leaf's
    [requests, *shape] and the seeds' (one numpy view per leaf, no per-request objects)."""
    leaves = [i for i, node in enumerate(known.graph.nodes) if isinstance(node, Leaf)]
    fields = [(f"n{i}", np.asarray(known.graph.nodes[i].value).dtype, known.shapes[i]) for i in leaves]
    record = np.dtype([*fields, ("seed", seed_dtype, known.shapes[known.output])])
    if record.itemsize == 0 or len(data) % record.itemsize:
        raise ValueError(f"leaf buffer of {len(data)} bytes is not a whole number of {record.itemsize}-byte requests")
    rows = np.frombuffer(data, record)
    return {i: rows[f"n{i}"].copy() for i in leaves}, rows["seed"].copy()


def with_values(known: Plan, values: dict[int, np.ndarray]) -> Plan:
    """The known plan with these leaf values (the others as they are)."""
    nodes = tuple(Leaf(n.name, values[i], n.requires_grad) if i in values and isinstance(n, Leaf) else n
                  for i, n in enumerate(known.graph.nodes))
    return dataclasses.replace(known, graph=Graph(nodes, known.graph.output))


def _unpack_at(known: Plan, seed_dtype: np.dtype, data: memoryview, offset: int) -> tuple[Plan, np.ndarray, int]:
    nodes = list(known.graph.nodes)
    for i, node in enumerate(nodes):
        if isinstance(node, Leaf):
            value, offset = _take(data, offset, np.asarray(node.value).dtype, known.shapes[i])
            nodes[i] = Leaf(node.name, value, node.requires_grad)
    seed, offset = _take(data, offset, seed_dtype, known.shapes[known.output])
    graph = Graph(tuple(nodes), known.graph.output)
    return dataclasses.replace(known, graph=graph), seed, offset


def skeleton(plan: Plan) -> Plan:
    """The plan without its leaf values (empty arrays of their dtypes): what a worker keeps."""
    nodes = tuple(Leaf(n.name, np.empty(0, np.asarray(n.value).dtype), n.requires_grad) if isinstance(n, Leaf) else n
                  for n in plan.graph.nodes)
    return dataclasses.replace(plan, graph=Graph(nodes, plan.graph.output))


def _take(data: memoryview, offset: int, dtype: np.dtype, shape: tuple[int, ...]) -> tuple[np.ndarray, int]:
    count = int(np.prod(shape, dtype=np.int64))
    end = offset + count * dtype.itemsize
    if end > len(data):
        raise ValueError("leaf buffer too short for the known structure")
    return np.frombuffer(data[offset:end], dtype=dtype).reshape(shape).copy(), end


class Known:
    """Keys a worker holds, mirrored on both sides (same size, same LRU order)."""

    def __init__(self) -> None:
        self.items: OrderedDict[str, object] = OrderedDict()

    def get(self, key: str) -> object | None:
        item = self.items.get(key)
        if item is not None:
            self.items.move_to_end(key)
        return item

    def structure(self, message: bytes) -> tuple[str, memoryview, Plan, np.dtype, str]:
        """(key, raw values, skeleton plan, seed dtype, tier) of a VALUES or MANY message whose
        structure this worker holds; LookupError if it does not."""
        key, data = split_key(message)
        entry = self.get(key)
        if entry is None:
            raise LookupError(f"structure {key} is not known to this worker")
        skeleton, seed_dtype, tier = cast(tuple[Plan, np.dtype, str], entry)
        return key, data, skeleton, seed_dtype, tier

    def put(self, key: str, item: object) -> None:
        self.items[key] = item
        self.items.move_to_end(key)
        while len(self.items) > KNOWN_PER_WORKER:
            self.items.popitem(last=False)
