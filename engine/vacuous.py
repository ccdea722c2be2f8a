"""Notes for checks that pass or skip without having tested anything (issue 21: never a silent pass).

A skipped check says why in the report itself (so ``str(report)``, the HTML page and the proto's
``notes`` carry it, not only the CLI's stderr). A check whose every gradient is exactly zero
agrees, and rightly (a structural zero is exact), but no backward rule was exercised: the report
says so, and says when the cause is an all-zero output gradient (seed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .compare import SKIPPED

PASSING = ("agree", "convention")


def note_skipped(report: Any) -> None:
    """Why nothing was compared: no differentiable leaf, or the pairs' own reasons; and which leaves
    went unchecked when others were (their verdict does not weigh in the report's)."""
    if report.verdict != SKIPPED:
        unchecked = [leaf.name for leaf in report.leaves if leaf.verdict == SKIPPED]
        if unchecked:
            report.notes.append(f"not checked: {', '.join(unchecked)} — no pair of witnesses compared "
                                f"{'it' if len(unchecked) == 1 else 'them'}; the verdict covers the other leaves only")
        return
    if not report.leaves:
        report.notes.append("skipped: no leaf requires grad, so there is no gradient to check (mark a leaf "
                            "requires_grad=True, or :grad on the command line)")
        return
    reasons = sorted({p.reason for leaf in report.leaves for p in leaf.pairs if p.reason})
    report.notes.append(f"skipped: no pair of witnesses compared any leaf ({'; '.join(reasons) or 'no pair'}); "
                        "ask for at least two witnesses")


def note_all_zero(report: Any, seed: np.ndarray) -> None:
    """A passing check whose every witness's gradient (finite differences aside) is exactly 0."""
    if report.verdict not in PASSING or not report.leaves:
        return
    exact = [g for leaf in report.leaves for w, g in leaf.grads.items() if w != "finite_difference"]
    if not exact or any(np.any(np.asarray(g) != 0) for g in exact):
        return
    if not np.any(np.asarray(seed) != 0):
        report.notes.append("the output's gradient (seed) is all zeros: every gradient is 0 whatever the backward "
                            "rules are, so nothing was tested; seed with a nonzero gradient")
    else:
        report.notes.append("every gradient is exactly 0 on every leaf: the witnesses agree, but no backward rule "
                            "was exercised (a dead branch, a zero factor, a detached path); check at a point where "
                            "the gradient is not zero")
