"""Unary Checks of a request seen before: only their values are read.

A client that checks one graph again and again with new values (a training loop, a course's
students, a benchmark) sends requests whose wire bytes differ only in the packed doubles of their
float values. The first ones are converted, validated and priced in full (``servicer.prepare``);
from the second sighting of a structure, a request's bytes become a template — the mechanism of
CheckStream's batches (stream_values.Template): a later request equal to a template everywhere
outside its values takes the template's engine request and plan with its own values, read by
``np.frombuffer`` (float32 rounded from the doubles as ``wire.tensor_in`` rounds them). That skips
walking the message into engine objects, validating the graph and pricing it (~0.1 ms of a seed
check). What depends on the call is applied on every call, as ``prepare`` does: the deadline, the
exact-tier budget it allows, and the limits that read them (``servicer.admit``). Bytes that differ
anywhere else, another encoding, or a message that does not parse go the full way.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from crossgrad.engine import batch_check

from .stream_values import _STREAM_REQUEST, Template
from .wire import _varint

ENABLED = os.environ.get("CROSSGRAD_UNARY_TEMPLATES", "1") != "0"  # off: every request the full way (A/B)
SIZE = 128  # templates kept, least recently learned dropped first
MAX_BYTES = 1 << 16  # larger requests are not kept (their compute dwarfs the conversion; memory stays small)
MAX_VALUES = MAX_BYTES // 8  # requests with more leaf values are not even compared with the templates
PER_LENGTH = 4  # templates tried for one request size (the newest first)
_TAG = bytes([_STREAM_REQUEST << 3 | 2])  # CheckStreamRequest.request, length-delimited


def _values_in(request: Any) -> int:
    """How many values the request's leaves carry (a bound on its size that costs ~1 us)."""
    return sum(len(node.leaf.value.data) for node in request.graph.nodes)


def _as_stream_request(data: bytes) -> bytes:
    """A CheckRequest's bytes as those of a CheckStreamRequest holding it (the templates' form)."""
    return _TAG + _varint(len(data)) + data


class Known:
    """The templates of one server process (shared by its request threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._templates: OrderedDict[int, Template] = OrderedDict()  # by id, in learning order
        self._by_length: dict[int, list[Template]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()  # structures prepared once
        self.hits = 0  # requests read by their values only (tests and benchmarks)

    def prepare(self, servicer: Any, request: Any, deadline: float, budget: float) -> tuple[Any, Any]:
        """``servicer.prepare(request, deadline, budget)``, from a template when one matches."""
        serialize = getattr(request, "SerializeToString", None)
        if serialize is None or not ENABLED or _values_in(request) > MAX_VALUES:
            # not a message (wire.Undecodable): the full way reports it; a large request is not
            # serialized again (12 MB took 4-16 ms of the interpreter that small checks wait for)
            return servicer.prepare(request, deadline, budget)
        data = _as_stream_request(serialize())
        for template in self._by_length.get(len(data), ()):
            with np.errstate(over="ignore"):  # a double beyond float32's range is inf (tensor_in's rule)
                values = template.values_in(data)
            if values is not None:
                engine_request, plan, _ = template.prepared_with(values)
                servicer.admit(engine_request, plan, request.figures_only, deadline, budget)
                self.hits += 1
                return engine_request, plan
        engine_request, plan = servicer.prepare(request, deadline, budget)
        self._learn(data, engine_request, plan)
        return engine_request, plan

    def _learn(self, data: bytes, engine_request: Any, plan: Any) -> None:
        """Keep a template of this request when its structure was prepared before."""
        if len(data) > MAX_BYTES:
            return
        with self._lock:
            if plan.structure_hash not in self._seen:
                self._seen[plan.structure_hash] = None
                if len(self._seen) > SIZE:
                    self._seen.popitem(last=False)
                return
        template = Template.of_bytes(data, (engine_request, plan, None), batch_check.fixed_leaf_indices(plan))
        if template is None:
            return
        with self._lock:
            self._templates[id(template)] = template
            same = self._by_length.setdefault(len(data), [])
            self._by_length[len(data)] = [template, *same[:PER_LENGTH - 1]]
            while len(self._templates) > SIZE:
                self._forget(self._templates.popitem(last=False)[1])
            for old in same[PER_LENGTH - 1:]:
                self._templates.pop(id(old), None)

    def _forget(self, template: Template) -> None:
        same = [t for t in self._by_length.get(len(template.data), []) if t is not template]
        if same:
            self._by_length[len(template.data)] = same
        else:
            self._by_length.pop(len(template.data), None)
