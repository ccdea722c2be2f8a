"""Scores and feedback, as Gradescope's results.json.

One test per (problem, gradient). Partial credit is the fraction of trials (or elements) within
tolerance; scores are rounded to 2 decimals so that the tests add up exactly to the total.
Feedback names the leaf, how many elements are wrong, the worst element (when the hint level
allows) and a recognised common mistake.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from crossgrad.engine.compare import compare
from crossgrad.engine.tolerance import policy

from . import sandbox, stages
from .answers import Answer, Result, read_answer_file
from .assignment import Assignment, Problem, Reference, Trial
from .cache import ResultCache
from .diagnose import diagnose
from .execute import Job, run_submission
from .progress import progress
from .summary import write_csv, write_html

DEFAULT_TOLERANCE = policy("float32", ("claimed", "symbolic"))
MAX_FORM = 400  # characters of a closed form worth showing
Answers = Result  # per trial: the arrays, or an error message


@dataclass
class Outcome:
    """One gradient of one problem: per trial, passed or the reason it did not."""

    fraction: float
    lines: list[str]


def split_points(points: float, parts: int) -> list[float]:
    """``points`` in ``parts`` shares of 2 decimals that add up exactly."""
    share = round(points / parts, 2)
    return [share] * (parts - 1) + [round(points - share * (parts - 1), 2)]


def _judge_trial(problem: Problem, trial: Trial, leaf: str, answer: Answer, index: int) -> tuple[float, str]:
    """(fraction of credit, feedback line) for one trial of one gradient; with the first wrong
    stage when the problem asks for intermediate gradients."""
    score, line = _judge_one(problem, trial, leaf, answer, index)
    tol = problem.tolerance or DEFAULT_TOLERANCE
    stage = stages.first_wrong_of(problem, trial, answer, tol) if score < 1.0 else None
    return score, line + (f"\n  {stage}" if stage else "")


def _judge_one(problem: Problem, trial: Trial, leaf: str, answer: Answer, index: int) -> tuple[float, str]:
    ref = trial.reference[leaf]
    if isinstance(answer, str):
        return 0.0, f"trial {index + 1}: {answer}"
    if leaf not in answer:
        return 0.0, f"trial {index + 1}: no gradient for `{leaf}` in the returned dict"
    got = answer[leaf]
    if isinstance(got, str):
        return 0.0, f"trial {index + 1}: `{leaf}`: {got}"
    if got.shape != ref.shape:
        hint = diagnose(got, ref, {})
        return 0.0, f"trial {index + 1}: shape {list(got.shape)}, expected {list(ref.shape)}" + \
            (f" — {hint}" if hint else "")
    if not np.isfinite(got).all():
        return 0.0, f"trial {index + 1}: {int((~np.isfinite(got)).sum())} values are NaN or infinite"
    result = compare(("claimed", "symbolic"), got, ref, "float64", problem.tolerance or DEFAULT_TOLERANCE)
    if result.mismatched == 0:
        return 1.0, f"trial {index + 1}: correct"
    line = f"trial {index + 1}: {result.mismatched} of {result.total} elements wrong"
    if problem.hint != "none" and result.worst_index is not None:
        line += f"; worst at {list(result.worst_index)}: expected {ref[result.worst_index]:.6g}, got " \
                f"{got[result.worst_index]:.6g}"
    if problem.hint == "closed_form" and trial.closed_form and leaf in trial.closed_form:
        flat = int(np.ravel_multi_index(result.worst_index or (0,) * ref.ndim, ref.shape)) if ref.ndim else 0
        form = trial.closed_form[leaf][flat]
        line += f"\n  expected, in closed form: `{form}`" if len(form) <= MAX_FORM else \
            "\n  (the closed form is too long to show)"
    mistake = diagnose(got, ref, {k: v[leaf] for k, v in trial.variants.items() if leaf in v})
    if mistake:
        line += f"\n  likely mistake: **{mistake}**"
    partial = (result.total - result.mismatched) / result.total if problem.partial == "elements" else 0.0
    return partial, line


def judge(problem: Problem, reference: Reference, answers: Answers, leaf: str) -> Outcome:
    scored = [_judge_trial(problem, trial, leaf, answer, i)
              for i, (trial, answer) in enumerate(zip(reference.trials, answers))]
    return Outcome(sum(s for s, _ in scored) / max(1, len(scored)), [line for _, line in scored])


def _answers_from_file(path: Path, reference: Reference) -> Answers:
    """Numeric answers (JSON or npz) for problems whose values are fixed (one trial)."""
    problem = reference.problem
    if problem.trials != 1 or any(leaf.dist != "fixed" for leaf in problem.leaves):
        return ["this problem's values are drawn at grading time: submit a Python module"]
    shapes = {leaf: reference.trials[0].values[leaf].shape for leaf in problem.gradients}
    return read_answer_file(path, problem.name, shapes)


def all_answers(path: Path, refs: list[Reference], assignment: Assignment, unsafe: bool = False) -> list[Answers]:
    """Per valid reference, the submission's answers (files read, modules run in a sandbox)."""
    if path.suffix in (".json", ".npz"):
        return [_answers_from_file(path, r) for r in refs]
    if not unsafe:
        sandbox.probe()
    jobs = [Job(f"grad_{r.problem.name}", r.problem.gradients, [t.values for t in r.trials],
                {n: r.trials[0].reference[n].shape for n in r.problem.gradients if n not in r.trials[0].values})
            for r in refs]
    return run_submission(path, jobs, assignment.time_limit, assignment.memory_mb, unsafe)


def _test(problem: Problem, leaf: str, max_score: float, outcome: Outcome) -> dict[str, Any]:
    score = round(max_score * outcome.fraction, 2)
    title = problem.title or problem.name
    status = "passed" if score >= max_score else "failed"
    output = f"**{title}: dL/d{leaf}** — {score:g} / {max_score:g}\n\n" + \
        "\n".join(f"- {line}" for line in outcome.lines)
    return {"name": f"{problem.name}: dL/d{leaf}", "score": score, "max_score": max_score,
            "status": status, "output": output, "output_format": "md", "visibility": problem.visibility}


def grade(path: Path, assignment: Assignment, refs: list[Reference], unsafe: bool = False) -> dict[str, Any]:
    """Gradescope's results.json for one submission (modules run in the sandbox unless ``unsafe``)."""
    start = time.perf_counter()
    tests = []
    valid = [r for r in refs if not r.invalid]  # invalid ones are reported to the instructor only
    for reference, answers in zip(valid, all_answers(path, valid, assignment, unsafe)):
        problem = reference.problem
        for leaf, share in zip(problem.gradients, split_points(problem.points, len(problem.gradients))):
            tests.append(_test(problem, leaf, share, judge(problem, reference, answers, leaf)))
    total = round(sum(t["score"] for t in tests), 2)
    maximum = round(sum(t["max_score"] for t in tests), 2)
    return {"score": total, "execution_time": round(time.perf_counter() - start, 3),
            "output": f"{assignment.name}: {total:g} / {maximum:g} points, every reference checked by "
                      "crossgrad (numeric engine, SymPy and finite differences agree).",
            "output_format": "md", "visibility": assignment.visibility, "stdout_visibility": "hidden",
            "tests": tests}


def _not_graded(err: Exception, seconds: float) -> dict[str, Any]:
    return {"score": 0.0, "execution_time": round(seconds, 3),
            "output": f"This submission could not be graded (an error in the grader, not in your code: "
                      f"{type(err).__name__}). Please tell your course staff.",
            "output_format": "md", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def invalid_problems(refs: list[Reference]) -> list[str]:
    return [f"{r.problem.name}: {r.invalid}" for r in refs if r.invalid]


def grade_many(paths: list[Path], assignment: Assignment, refs: list[Reference], out_dir: Path,
               jobs: int, summary: Path | None, unsafe: bool = False, cache: bool = True) -> list[dict[str, Any]]:
    """Grade in parallel, each submission in its own sandbox; every submission gets a results JSON
    and the summaries (CSV, and summary.html next to the results) are always written. Refuses
    (SandboxUnavailable) before grading anything when modules must run and no sandbox can start,
    unless ``unsafe``. With ``cache``, unchanged submissions reuse OUT_DIR/.crossgrad-cache.
    ``jobs`` <= 0 uses every core."""
    if unsafe:
        print(sandbox.UNSAFE_WARNING, file=sys.stderr)
    elif any(p.suffix not in (".json", ".npz") for p in paths):
        sandbox.probe()
    out_dir.mkdir(parents=True, exist_ok=True)
    store = ResultCache(out_dir / ".crossgrad-cache", assignment, refs, unsafe) if cache else None
    results: list[dict[str, Any]] = [{}] * len(paths)

    def one(i: int) -> None:
        results[i] = _graded(paths[i], assignment, refs, unsafe, store)
        (out_dir / f"{paths[i].stem}.json").write_text(json.dumps(results[i], indent=2))

    with ThreadPoolExecutor(max_workers=jobs if jobs > 0 else os.cpu_count() or 1) as pool:
        for _ in progress(pool.map(one, range(len(paths))), len(paths)):
            pass
    if summary is not None:
        write_csv(summary, paths, results)
    write_html(out_dir / "summary.html", assignment.name, paths, results)
    return results


def _graded(path: Path, assignment: Assignment, refs: list[Reference], unsafe: bool,
            store: ResultCache | None) -> dict[str, Any]:
    """One submission's results: from the cache, or graded (an internal error is reported, not raised)."""
    cached = store.get(path) if store else None
    if cached is not None:
        return cached
    start = time.perf_counter()
    try:
        result = grade(path, assignment, refs, unsafe)
    except Exception as err:  # the grader's own failure: reported, the others still graded
        print(f"\ncrossgrad grade: {path.name}: internal error: {err!r}", file=sys.stderr)
        return _not_graded(err, time.perf_counter() - start)
    if store:
        store.put(path, result)
    return result


__all__ = ["grade", "grade_many", "invalid_problems"]
