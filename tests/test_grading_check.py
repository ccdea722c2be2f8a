"""crossgrad grade --check-assignment: every mistake named with its line; the solution graded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crossgrad.client.grading.assignment import load
from crossgrad.client.grading.check_assignment import check_assignment, findings
from crossgrad.client.grading.grade import grade
from crossgrad.client.grading.reference import references

from .test_sandbox import require_bwrap

CHECK = Path(__file__).parent / "data" / "check"


def test_typos_unknown_ops_unused_leaves_and_shapes_are_found_with_their_lines():
    lines, assignment = findings(CHECK / "typos.toml")
    path = CHECK / "typos.toml"
    assert assignment is None
    assert lines == [
        f"{path}:6: unknown key `time_limt` (did you mean 'time_limit'?) (known: ['memory_mb', 'name', 'seed', "
        "'solution', 'time_limit', 'visibility'])",
        f"{path}:12: unknown key `trails` (did you mean 'trials'?) (known: ['expression', 'gradients', 'hint', "
        "'kinks', 'leaves', 'name', 'partial', 'points', 'title', 'tolerance', 'trials', 'visibility'])",
        f"{path}:11: `y` is not used by the expression: its gradient is always zero",
        f"{path}:20: expression (column 5): unknown op 'frobnicate': only calls of catalogue ops are allowed "
        "(crossgrad ops)",
        f"{path}:28: expression (column 5), `x @ w`: matmul: shapes [3] and [4, 2] cannot be multiplied (3 != 4)",
    ]


def test_a_syntax_error_is_reported_with_toml_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[assignment]\nname = "x"\n[[problems]]\nname = \n')
    [line], _ = findings(bad)
    assert line.startswith(f"{bad}: TOML syntax:") and "line 4" in line


def test_the_solution_is_graded_and_a_wrong_one_fails_the_check():
    require_bwrap()
    problems, verdict = check_assignment(CHECK / "solvable.toml")
    assert problems == [] and verdict.endswith("OK, solution scores 1 / 1")
    problems, verdict = check_assignment(CHECK / "unsolvable.toml")
    assert "NOT SOLVABLE" in verdict and "0 / 1" in verdict
    assert len(problems) == 1 and "factor of 1/2" in problems[0]


def test_cli_exit_codes():
    for name, code in (("solvable.toml", 0), ("typos.toml", 2)):
        done = subprocess.run([sys.executable, "-m", "crossgrad.client.cli", "grade", "--check-assignment",
                               str(CHECK / name)], capture_output=True, text=True, timeout=120)
        assert done.returncode == code, done.stderr
    assert "typos.toml:12: unknown key `trails`" in done.stderr


def test_visibility_overall_and_per_problem_reach_results_json():
    require_bwrap()
    assignment = load(CHECK / "solvable.toml")
    results = grade(CHECK / "sol.py", assignment, references(assignment))
    assert results["visibility"] == "after_published"
    assert [t["visibility"] for t in results["tests"]] == ["after_due_date"]
    assert results["tests"][0]["status"] == "passed" and results["execution_time"] > 0


def test_the_example_assignment_is_solvable():
    require_bwrap()
    basics = Path(__file__).parents[1] / "examples" / "assignments" / "backprop_basics.toml"
    problems, verdict = check_assignment(basics)
    assert problems == [] and verdict.endswith("OK, solution scores 11 / 11")
