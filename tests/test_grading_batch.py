"""The grading tool checks a problem's trials as one batch: the same references as one at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from crossgrad.client.grading import reference
from crossgrad.client.grading.assignment import load
from crossgrad.engine.check import check

BASICS = Path(__file__).parents[1] / "examples" / "assignments" / "backprop_basics.toml"


def _one_at_a_time(assignment, checker):
    """The sequential oracle: draw, check, redraw on a kink (at most MAX_REDRAWS), next trial."""
    out = []
    for index, problem in enumerate(assignment.problems):
        rng = np.random.default_rng([assignment.seed, index])
        trials, seen = [], []
        for _ in range(problem.trials):
            for _ in range(reference.MAX_REDRAWS):
                values, graph, _ = reference._draw(problem, rng)
                report = checker(reference.CheckRequest(graph, formulas=problem.hint == "closed_form"))
                seen.append(report)
                trial, invalid, again = reference._judge(problem, graph, values, report)
                if not again:
                    break
            trials.append(trial)
        out.append((trials, len(seen)))
    return out


def test_batched_trials_with_redraws_equal_one_at_a_time():
    """A checker that calls every other draw a kink forces redraws in the middle of batches."""
    assignment = load(BASICS)
    calls = []

    def kinky(request):
        report = check(request)
        first = next(n.value for n in request.graph.nodes if getattr(n, "requires_grad", False))
        if float(np.ravel(first)[0]) > 0:  # about half the draws
            report.verdict = "convention"
        calls.append(report)
        return report

    batched = reference.references(assignment, kinky)
    checked = len(calls)
    alone = _one_at_a_time(assignment, kinky)
    assert checked - sum(n for _, n in alone) > 0  # the batches checked draws they later dropped
    for ref, (trials, _) in zip(batched, alone):
        assert ref.invalid is None and len(ref.trials) == len(trials) == ref.problem.trials
        for a, b in zip(ref.trials, trials):
            assert all(np.array_equal(a.values[k], b.values[k]) for k in a.values)
            assert all(np.array_equal(a.reference[k], b.reference[k]) for k in a.reference)


def test_embedded_references_use_batched_checks(monkeypatch):
    from crossgrad.engine import batch_check

    sizes = []
    real = batch_check.check_group
    monkeypatch.setattr(batch_check, "check_group", lambda r, p, s=None: sizes.append(len(r)) or real(r, p, s))
    refs = reference.references(load(BASICS))
    assert sizes and max(sizes) == max(p.trials for p in load(BASICS).problems) > 1
    assert all(ref.invalid is None for ref in refs)
