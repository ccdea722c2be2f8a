"""server/plan_memo.py: the limits and the big/small decision are computed once per structure and
request fields, and a memoized structure is still refused wherever the arithmetic would refuse it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.server import plan_memo
from crossgrad.server.admission import estimated_work
from crossgrad.server.limits import LimitError, Limits


def _request(n: int, value: float = 1.0, **fields) -> tuple[CheckRequest, object]:
    """x (n x n) @ w (n x n), summed: the values never matter to the memo, the shapes do."""
    graph = Graph((Leaf("x", np.full((n, n), value), True), Leaf("w", np.full((n, n), -value), True),
                   OpNode("m", "matmul", ("x", "w")), OpNode("l", "sum", ("m",))), "l")
    request = CheckRequest(graph, **fields)
    return request, validate(graph)


@pytest.fixture
def counted(monkeypatch):
    """How often Limits.check_plan really ran."""
    calls = []
    real = Limits.check_plan

    def counting(self, plan, request, figures_only=False):
        calls.append(plan.structure_hash)
        return real(self, plan, request, figures_only)

    monkeypatch.setattr(Limits, "check_plan", counting)
    monkeypatch.setattr(plan_memo, "_PASSED", type(plan_memo._PASSED)())
    return calls


def test_a_structure_is_priced_once_whatever_its_values(counted):
    limits = Limits()
    for value in (1.0, 2.0, -3.5):
        request, plan = _request(4, value)
        plan_memo.check_plan(limits, plan, request, False)
    assert len(counted) == 1
    plan_memo.check_plan(limits, *reversed(_request(5)), False)  # another shape: another structure
    assert len(counted) == 2


def test_other_request_fields_are_priced_again(counted):
    limits = Limits()
    request, plan = _request(4)
    plan_memo.check_plan(limits, plan, request, False)
    plan_memo.check_plan(limits, plan, request, True)  # figures_only: the response size is not checked
    plan_memo.check_plan(limits, plan, replace(request, witnesses=("numeric", "symbolic")), False)
    plan_memo.check_plan(limits, plan, replace(request, tier="tensor"), False)
    assert len(counted) == 4


def test_a_memoized_structure_is_still_refused_by_tighter_limits_and_by_the_response_size(counted):
    request, plan = _request(40)
    plan_memo.check_plan(Limits(), plan, request, True)
    with pytest.raises(LimitError, match="max_element_evaluations"):
        plan_memo.check_plan(Limits(max_element_evaluations=1000), plan, request, True)
    small = Limits(max_message_bytes=10_000)  # 3 witnesses x 3,200 gradient elements x 8 bytes
    plan_memo.check_plan(small, plan, request, True)  # figures only: small
    for _ in range(2):  # a refusal is not remembered
        with pytest.raises(LimitError, match="message limit"):
            plan_memo.check_plan(small, plan, request, False)


def test_programs_are_always_priced(counted):
    request, plan = _request(4, program=[object()])
    assert plan_memo._key(plan, request) is None


def test_the_estimated_work_is_remembered_per_structure_and_fields(monkeypatch):
    monkeypatch.setattr(plan_memo, "_WORK", type(plan_memo._WORK)())
    seen = []

    def compute(plan, request):
        seen.append(1)
        return estimated_work(plan, request)

    request, plan = _request(6)
    first = plan_memo.work(plan, request, compute)
    again = plan_memo.work(*reversed(_request(6, 9.0)), compute)
    fewer = plan_memo.work(plan, replace(request, witnesses=("numeric", "symbolic")), compute)
    assert first == again == estimated_work(plan, request) and len(seen) == 2
    assert fewer == estimated_work(plan, replace(request, witnesses=("numeric", "symbolic"))) < first
