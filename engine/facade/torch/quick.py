"""One VJP of ``gradcheck`` judged: the agreement screen first, the full check on any doubt.

gradcheck's answer depends only on the pairs that hold PyTorch's gradient (``claimed``): it
fails where such a pair is a mismatch or non-finite. When PyTorch's gradient is, element by
element, within tolerance of both the symbolic witness (the CAS reference) and crossgrad's
numeric engine, every such pair agrees whatever the other witnesses say
(engine/claimed_screen.py), so the answer is known without finite differences and without the
report's figures. Any difference at all (a kink, a wrong backward, a non-finite value, a witness
that did not run) runs the full check — finite differences, every pair, localization — reusing
the two witnesses' gradients, and its report is what gradcheck's message quotes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from crossgrad.engine.check import (
    Checking,
    CheckRequest,
    _local_symbolic,
    _local_witnesses,
    check,
    check_begin,
)
from crossgrad.engine.claimed_screen import claimed_agrees
from crossgrad.engine.graph import Plan
from crossgrad.engine.report import Report

SCREEN = ("numeric", "symbolic")  # the witnesses the screen needs


def judged(request: CheckRequest, plan: Plan) -> tuple[Report, bool]:
    """The check's report and whether the screen settled it (then the report has no leaves: every
    claimed pair agrees). ``request`` asks for every witness the full check should run."""
    if not set(SCREEN) <= set(request.witnesses) or request.program or request.order != 1:
        return check(request, plan=plan), False
    screened = replace(request, witnesses=SCREEN)
    quick = check_begin(screened, plan=plan)
    if isinstance(quick, Checking) and claimed_agrees(quick, ("symbolic", "numeric")):
        return quick.report, True
    if not isinstance(quick, Checking):
        return check(request, plan=plan), False
    return check(request, symbolic=_symbolic_from(quick), plan=plan, local=_local_from(quick)), False


def _symbolic_from(quick: Checking) -> Any:
    """The symbolic witness's gradients the screen computed (computed again if it gave none)."""
    def start(plan: Plan, seed: np.ndarray, tier: str) -> Any:
        found = quick.grads.get("symbolic")
        return (lambda: found) if found is not None else _local_symbolic(plan, seed, tier)
    return start


def _local_from(quick: Checking) -> Any:
    """The numeric witness as the screen ran it (its gradients, output and failure), then the rest."""
    def local(request: CheckRequest, plan: Plan, seed: np.ndarray, timer: Any, report: Report,
              grads: dict[str, dict[int, np.ndarray]]) -> Any:
        if "numeric" in quick.grads:
            grads["numeric"] = quick.grads["numeric"]
            report.output = quick.report.output
            report.failures.update(quick.report.failures)
            if "numeric" in quick.timer.times:
                timer.times["numeric"] = quick.timer.times["numeric"]
        rest = replace(request, witnesses=tuple(w for w in request.witnesses if w != "numeric"))
        return _local_witnesses(rest, plan, seed, timer, report, grads)
    return local
