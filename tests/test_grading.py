"""crossgrad grade: full marks, exact losses with named mistakes, containment, Gradescope format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from crossgrad.client.grading.assignment import AssignmentError, load
from crossgrad.client.grading.grade import grade, split_points
from crossgrad.client.grading.reference import references

ROOT = Path(__file__).parents[1]
BASICS = ROOT / "examples" / "assignments" / "backprop_basics.toml"
SUBMISSIONS = ROOT / "examples" / "assignments" / "submissions"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def basics():
    assignment = load(BASICS)
    return assignment, references(assignment)


@pytest.fixture(scope="module")
def contained():
    assignment = load(DATA / "contained.toml")
    return assignment, references(assignment)


def scores(results):
    return {t["name"]: t["score"] for t in results["tests"]}


def test_correct_submission_scores_full_marks(basics):
    results = grade(SUBMISSIONS / "correct.py", *basics)
    assert results["score"] == 11.0
    assert all(t["status"] == "passed" for t in results["tests"])


@pytest.mark.parametrize(("name", "lost", "mistake"), [
    ("transposed.py", {"linear_bce: dL/dw"}, "transposed"),
    ("forgot_mean.py", {"softmax_ce: dL/dw"}, "forgot the mean's 1/N with N = 6"),
    ("wrong_sign.py", {"linear_bce: dL/dw", "linear_bce: dL/db"}, "wrong sign"),
    ("missing_relu.py", {"mlp2: dL/dw1"}, "missing relu' factor"),
])
def test_each_mistake_loses_exactly_its_points_and_is_named(basics, name, lost, mistake):
    results = grade(SUBMISSIONS / name, *basics)
    full = scores(grade(SUBMISSIONS / "correct.py", *basics))
    got = scores(results)
    assert {k for k in full if got[k] != full[k]} == lost
    assert all(got[k] == 0 for k in lost)
    assert results["score"] == round(sum(full.values()) - sum(full[k] for k in lost), 2)
    for test in results["tests"]:
        if test["name"] in lost:
            assert mistake in test["output"]
            assert "worst at" in test["output"] or "shape [3, 5], expected [5, 3]" in test["output"]


def test_failures_are_contained_to_their_problem(contained):
    good = scores(grade(DATA / "submissions" / "good.py", *contained))
    assert sum(good.values()) == 5.0 and "broken: dL/dx" not in good
    for name, message in [("sleeper.py", "time limit of 3 s exceeded"), ("hog.py", "MemoryError"),
                          ("exiter.py", "crashed"), ("nan.py", "NaN or infinite")]:
        results = grade(DATA / "submissions" / name, *contained)
        got = scores(results)
        assert got["square: dL/dx"] == 0, name
        assert got["tanh_sum: dL/dw"] == 2.0, name  # the other problems still count
        square = next(t for t in results["tests"] if t["name"] == "square: dL/dx")
        assert message in square["output"], (name, square["output"])


def test_nan_submission_also_gets_its_factor_diagnosed(contained):
    results = grade(DATA / "submissions" / "nan.py", *contained)
    fixed = next(t for t in results["tests"] if t["name"] == "fixed: dL/dx")
    assert fixed["score"] == 0 and "factor of 2" in fixed["output"]


def test_invalid_reference_is_caught_before_anyone_is_charged(contained):
    assignment, refs = contained
    broken = next(r for r in refs if r.problem.name == "broken")
    assert broken.invalid and "non_finite" in broken.invalid
    results = grade(DATA / "submissions" / "good.py", assignment, refs)
    assert all(not t["name"].startswith("broken") for t in results["tests"])


def test_json_answers_for_fixed_value_problems(contained):
    results = grade(DATA / "submissions" / "answers.json", *contained)
    got = scores(results)
    assert got["fixed: dL/dx"] == 1.0
    assert got["square: dL/dx"] == 0.0
    square = next(t for t in results["tests"] if t["name"] == "square: dL/dx")
    assert "submit a Python module" in square["output"]


def test_closed_form_hint_shows_the_expected_formula(contained, tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text("import numpy as np\n\ndef grad_tanh_sum(x, w):\n    return {'w': np.outer(x, np.ones(1))}\n")
    results = grade(wrong, *contained)
    test = next(t for t in results["tests"] if t["name"] == "tanh_sum: dL/dw")
    assert "expected, in closed form: `" in test["output"] and "tanh" in test["output"]
    assert "missing tanh' factor" in test["output"]


# Gradescope's documented results.json format (https://gradescope-autograders.readthedocs.io)
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def validate_gradescope(results):
    assert isinstance(results["score"], (int, float))
    assert isinstance(results.get("execution_time", 0), (int, float))
    assert isinstance(results.get("output", ""), str)
    assert results.get("visibility", "visible") in VISIBILITY
    assert results.get("stdout_visibility", "visible") in VISIBILITY
    assert results.get("output_format", "text") in {"text", "html", "simple_format", "md", "ansi"}
    for test in results["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                             "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert test["status"] in {"passed", "failed"}
        assert test.get("visibility", "visible") in VISIBILITY
        assert 0 <= test["score"] <= test["max_score"]
    assert results["score"] == round(sum(t["score"] for t in results["tests"]), 2)


@pytest.mark.parametrize("name", sorted(p.name for p in SUBMISSIONS.glob("*.py")))
def test_results_json_follows_gradescopes_format(basics, name):
    validate_gradescope(json.loads(json.dumps(grade(SUBMISSIONS / name, *basics))))


def test_points_split_adds_up_exactly():
    for points, parts in [(1, 3), (10, 3), (4, 2), (7.5, 4), (0.1, 3)]:
        shares = split_points(points, parts)
        assert len(shares) == parts and round(sum(shares), 2) == points


def test_bad_assignment_files_name_the_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[problems]]\nname = "p"\nexpression = "x"\ngradients = ["y"]\n[problems.leaves]\n'
                    'x = { shape = [2] }\n')
    with pytest.raises(AssignmentError, match=r"problems\[0\]\.gradients"):
        load(path)


def test_cli_grades_a_folder_in_parallel_with_a_csv(tmp_path):
    out = subprocess.run([sys.executable, "-m", "crossgrad.client.cli", "grade", str(BASICS), str(SUBMISSIONS),
                          "--out-dir", str(tmp_path), "--jobs", "2"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = (tmp_path / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("submission,score") and len(rows) == 6
    assert "correct.py,11.0,2.0,2.0,3.0,2.0,2.0" in rows
    validate_gradescope(json.loads((tmp_path / "correct.json").read_text()))


def test_partial_credit_by_trials_and_by_elements(contained, tmp_path):
    """Right on the first trial only: half the points. Elements mode: the share of right elements."""
    assignment, refs = contained
    flaky = tmp_path / "flaky.py"
    flaky.write_text("calls = []\n\ndef grad_square(x):\n    calls.append(1)\n"
                     "    return {'x': 2 * x if len(calls) == 1 else 2 * x * [1, 1, 3]}\n")
    assert scores(grade(flaky, assignment, refs))["square: dL/dx"] == 1.0
    import dataclasses

    by_elements = [dataclasses.replace(r, problem=dataclasses.replace(r.problem, partial="elements"))
                   if r.problem.name == "square" else r for r in refs]
    # trial 1 right (1.0), trial 2 right on 2 of 3 elements (2/3): 2 points * (1 + 2/3) / 2
    assert scores(grade(flaky, assignment, by_elements))["square: dL/dx"] == round(2 * (1 + 2 / 3) / 2, 2)


def test_references_through_a_running_server(server, contained):
    from crossgrad.client import Client

    assignment, local = contained
    with Client(f"127.0.0.1:{server.port}") as client:
        remote = references(assignment, client.check)
    for a, b in zip(local, remote):
        assert (a.invalid is None) == (b.invalid is None)
        for ta, tb in zip(a.trials, b.trials):
            for leaf in ta.reference:
                assert (ta.reference[leaf] == tb.reference[leaf]).all()


def test_npz_answers(contained, tmp_path):
    import numpy as np

    path = tmp_path / "answers.npz"
    np.savez(path, **{"fixed.x": np.array([1.5, 6.0])})
    assert scores(grade(path, *contained))["fixed: dL/dx"] == 1.0
