"""unary_values: a unary Check of a request seen before reads only its values, and answers exactly
as the full conversion does; anything else, and everything that depends on the call, is the full
way's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from crossgrad.client import wire
from crossgrad.server.limits import LimitError, Limits
from crossgrad.server.service import EXACT_EVALUATIONS_PER_SECOND, CrossgradServicer
from crossgrad.v1 import crossgrad_pb2 as pb

SEED = Path(__file__).parents[1] / "examples" / "seed.json"
NO_SYMBOLIC = (pb.WITNESS_NUMERIC, pb.WITNESS_FINITE_DIFFERENCE)  # no worker pool needed


def _servicer(limits: Limits | None = None) -> CrossgradServicer:
    return CrossgradServicer(limits or Limits(), pool=None)  # type: ignore[arg-type]


def _seed(w: list[float], b: list[float], **fields) -> pb.CheckRequest:
    request = wire.request_from_json(SEED.read_text())
    request.formulas = False
    request.witnesses[:] = NO_SYMBOLIC
    for node in request.graph.nodes:
        if node.name in ("w", "b"):
            node.leaf.value.data[:] = w if node.name == "w" else b
    for name, value in fields.items():
        setattr(request, name, value)
    return request


def _answer(servicer: CrossgradServicer, request: pb.CheckRequest) -> pb.CheckResponse:
    answer = servicer.Check(request, None)
    answer.ClearField("timings_ms")
    return answer


def test_repeated_requests_with_new_values_answer_as_the_full_way():
    rng = np.random.default_rng(3)
    fast, full = _servicer(), _servicer()
    full.known.prepare = lambda servicer, request, deadline, budget: servicer.prepare(request, deadline, budget)
    for k in range(6):
        w, b = rng.standard_normal(15).tolist(), rng.standard_normal(3).tolist()
        if k == 5:  # beyond float32: inf, as tensor_in rounds it; and a -0.0
            w[0], b[1] = 1e300, -0.0
        request = _seed(w, b)
        assert _answer(fast, request) == _answer(full, request)
    assert fast.known.hits == 4  # the 1st prepares, the 2nd (its structure seen before) is learned
    assert full.known.hits == 0


def test_other_bytes_outside_the_values_go_the_full_way():
    servicer = _servicer()
    for _ in range(3):
        servicer.known.prepare(servicer, _seed([0.5] * 15, [1.0] * 3), 1e12, 60.0)
    hits = servicer.known.hits
    other_tier = _seed([0.5] * 15, [1.0] * 3, tier=pb.TIER_TENSOR)
    request, _ = servicer.known.prepare(servicer, other_tier, 1e12, 60.0)
    assert request.tier == "tensor" and servicer.known.hits == hits
    bad = _seed([0.5] * 15, [1.0] * 3)
    bad.graph.nodes[1].leaf.value.data.append(1.0)  # 16 values for shape [5, 3]
    with pytest.raises(Exception, match="16 values for shape"):
        servicer.known.prepare(servicer, bad, 1e12, 60.0)
    assert servicer.known.hits == hits


def test_the_deadline_and_the_exact_budget_are_each_calls_own():
    servicer = _servicer(Limits(exact_budget=4_000_000))
    for _ in range(3):  # learned from calls with a short deadline
        servicer.known.prepare(servicer, _seed([0.5] * 15, [1.0] * 3), 1e12, 0.001)
    request, _ = servicer.known.prepare(servicer, _seed([0.25] * 15, [2.0] * 3), 123.0, 0.002)
    assert servicer.known.hits >= 1
    assert request.deadline == 123.0 and request.exact_budget == int(0.002 * EXACT_EVALUATIONS_PER_SECOND / 2)
    again, _ = servicer.known.prepare(servicer, _seed([0.75] * 15, [3.0] * 3), 456.0, 60.0)
    assert again.deadline == 456.0 and again.exact_budget == 4_000_000


def test_limits_that_read_the_call_are_applied_to_a_known_request():
    servicer = _servicer(Limits(exact_budget=100))  # the seed's exact tier needs 165 evaluations
    auto = _seed([0.5] * 15, [1.0] * 3)
    exact = _seed([0.5] * 15, [1.0] * 3, tier=pb.TIER_EXACT)
    for _ in range(3):
        servicer.known.prepare(servicer, auto, 1e12, 60.0)
        with pytest.raises(LimitError, match="exact tier"):
            servicer.known.prepare(servicer, exact, 1e12, 60.0)
    hits = servicer.known.hits
    request, _ = servicer.known.prepare(servicer, _seed([0.1] * 15, [0.2] * 3), 1e12, 60.0)
    assert servicer.known.hits == hits + 1 and request.exact_budget == 100


def test_large_requests_are_not_kept(monkeypatch):
    from crossgrad.server import unary_values

    monkeypatch.setattr(unary_values, "MAX_BYTES", 100)  # the seed request is ~500 bytes
    servicer = _servicer()
    for _ in range(4):
        servicer.known.prepare(servicer, _seed([0.5] * 15, [1.0] * 3), 1e12, 60.0)
    assert servicer.known.hits == 0 and not servicer.known._templates


def test_requests_with_many_values_are_not_serialized_again(monkeypatch):
    """Above MAX_VALUES leaf values a request goes the full way at once: its bytes are not rebuilt
    to be compared with the templates (12 MB took 4-16 ms of the interpreter)."""
    from crossgrad.server import unary_values

    servicer = _servicer()
    request = _seed([0.5] * 15, [1.0] * 3)  # 15 + 3 leaf values, plus the constant inputs'
    assert unary_values._values_in(request) >= 18
    monkeypatch.setattr(unary_values, "MAX_VALUES", 10)
    serialized = []
    real = pb.CheckRequest.SerializeToString
    monkeypatch.setattr(pb.CheckRequest, "SerializeToString", lambda self: serialized.append(1) or real(self))
    for _ in range(3):
        servicer.known.prepare(servicer, request, 1e12, 60.0)
    assert serialized == [] and servicer.known.hits == 0 and not servicer.known._templates
