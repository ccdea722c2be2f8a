"""One VJP of ``gradcheck`` judged: the agreement screen first, the full check on any doubt.

gradcheck's answer depends only on the pairs that hold PyTorch's gradient (``claimed``): it
fails where such a pair is a mismatch or non-finite. When PyTorch's gradient is, element by
element, within tolerance of both the symbolic witness (the CAS reference) and crossgrad's
numeric engine, every such pair agrees whatever the other witnesses say
(engine/claimed_screen.py), so the answer is known without finite differences and without the
report. On a graph the exact tier takes, the screen runs those two witnesses itself (the
functions ``check`` runs, on the same plan and seed) and skips the report's bookkeeping; a
larger graph's screen runs through ``check_begin``. Any difference at all (a kink, a wrong
backward, a non-finite value, a witness that failed or did not run, a claim naming no
differentiable leaf) runs the full check — finite differences, every pair, localization —
reusing the two witnesses' gradients, and its report is what gradcheck's message quotes.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import numpy as np
from crossgrad.engine import parallel, plan_facts
from crossgrad.engine.check import (
    EXACT_BUDGET,
    Checking,
    CheckRequest,
    _local_witnesses,
    _seed,
    check,
    check_begin,
)
from crossgrad.engine.claimed_screen import claimed_agrees, grads_agree
from crossgrad.engine.graph import Graph, Plan
from crossgrad.engine.numeric.run_graph import numeric_gradients
from crossgrad.engine.report import Report
from crossgrad.engine.symbolic import exact
from crossgrad.engine.value_domains import refuse_out_of_domain

SCREEN = ("numeric", "symbolic")  # the witnesses the screen needs
Grads = dict[str, dict[int, np.ndarray]]
Screened = tuple[Grads, Any, bool, dict[str, float]]  # gradients, output, agreed, the witnesses' seconds


def judged(graph: Graph, seed: np.ndarray | None, claims: dict[str, np.ndarray], plan: Plan,
           options: dict[str, Any]) -> tuple[Report | None, Any, bool]:
    """(the full check's report or None, the graph's output value, whether the screen settled it:
    every claimed pair agrees). ``options``: CheckRequest fields, the witnesses the full check runs."""
    witnesses = options.get("witnesses", SCREEN)
    if not set(SCREEN) <= set(witnesses) or set(options) - {"witnesses", "tolerance"}:
        report = check(CheckRequest(graph, seed, claimed=claims, **options), plan=plan)
        return report, report.output, False
    found = _screen(plan, seed, claims, options.get("tolerance")) \
        if exact.estimate_work(plan) <= EXACT_BUDGET else _screen_by_check(graph, seed, claims, plan, options)
    if found is not None and found[2]:
        return None, found[1], True
    request = CheckRequest(graph, seed, claimed=claims, **options)
    reuse = {} if found is None else {"symbolic": _symbolic_from(found[0], found[3]),
                                      "local": _local_from(found[0], found[1], found[3])}
    report = check(request, plan=plan, **reuse)
    return report, report.output, False


def _screen(plan: Plan, given: np.ndarray | None, claims: dict[str, np.ndarray],
            tolerance: Any) -> Screened | None:
    """The numeric and exact-tier witnesses as ``check`` runs them, and the screen's answer; None
    when a witness failed or a claim names no differentiable leaf (the full check says why).
    Request errors (the seed's shape, a value outside an op's domain) are raised as check raises them."""
    index = plan_facts.memo(plan, "differentiable leaves by name", _leaf_index, names=True)
    if not set(claims) <= index.keys():
        return None
    seed = _seed(plan, given)
    refuse_out_of_domain(plan)
    try:
        begun = time.perf_counter()
        with np.errstate(all="ignore"):
            numeric, output = numeric_gradients(plan, seed)
        middle = time.perf_counter()
        symbolic = exact.gradients(plan, seed)[0]
        seconds = {"numeric": middle - begun, "symbolic": time.perf_counter() - middle}
    except Exception:  # noqa: BLE001 - the full check runs them again and reports the failure its way
        return None
    grads = {"numeric": numeric, "symbolic": symbolic,
             "claimed": {index[name]: np.asarray(value, np.float64) for name, value in claims.items()}}
    return grads, output, grads_agree(plan, grads, tolerance), seconds


def _leaf_index(plan: Plan) -> dict[str, int]:
    return {plan.graph.nodes[i].name: i for i in plan.grad_leaves()}


def _screen_by_check(graph: Graph, seed: np.ndarray | None, claims: dict[str, np.ndarray], plan: Plan,
                     options: dict[str, Any]) -> Screened | None:
    """The screen through ``check_begin`` (the tensor tier, its threads and its failures as check has them)."""
    quick = check_begin(CheckRequest(graph, seed, claimed=claims, **{**options, "witnesses": SCREEN}), plan=plan)
    if not isinstance(quick, Checking) or quick.report.failures or "symbolic" not in quick.grads:
        return None
    return quick.grads, quick.report.output, claimed_agrees(quick, ("symbolic", "numeric")), quick.timer.times


def _symbolic_from(grads: Grads, seconds: dict[str, float]) -> Any:
    """The symbolic witness's gradients the screen computed (as a finished task: the report's
    timings keep the time it took)."""
    def start(plan: Plan, seed: np.ndarray, tier: str) -> parallel.Pending:
        done: Future[Any] = Future()
        done.set_result(grads["symbolic"])
        return parallel.Pending(done, [seconds.get("symbolic", 0.0)])
    return start


def _local_from(grads: Grads, output: Any, seconds: dict[str, float]) -> Any:
    """The numeric witness's gradients and output the screen computed, then the other local witnesses."""
    def local(request: CheckRequest, plan: Plan, seed: np.ndarray, timer: Any, report: Report, out: Grads) -> Any:
        out["numeric"], report.output = grads["numeric"], output
        timer.times["numeric"] = seconds.get("numeric", 0.0)
        rest = replace(request, witnesses=tuple(w for w in request.witnesses if w != "numeric"))
        return _local_witnesses(rest, plan, seed, timer, report, out)
    return local

