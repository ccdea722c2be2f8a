"""Assignments that ask for intermediate gradients (issue 15): a problem names its stages, the
student returns dL/dz too, and the feedback names the first wrong stage of the backward pass.
Submissions run in the real sandbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from crossgrad.client.expr import ExpressionError, parse_expression
from crossgrad.client.grading.assignment import AssignmentError, load
from crossgrad.client.grading.check_assignment import findings
from crossgrad.client.grading.grade import grade
from crossgrad.client.grading.reference import references
from crossgrad.engine.graph import Leaf

DATA = Path(__file__).parent / "data" / "stages"


@pytest.fixture(scope="module")
def staged():
    assignment = load(DATA / "stages.toml")
    return assignment, references(assignment)


def _outputs(results):
    return {t["name"]: (t["score"], t["output"]) for t in results["tests"]}


def test_stage_references_are_the_adjoints_at_those_nodes(staged):
    [ref] = staged[1]
    assert ref.invalid is None
    for trial in ref.trials:
        v = trial.values
        z = v["x"] @ v["w1"] + v["b1"]
        dh = 2 * (np.maximum(z, 0) @ v["w2"] - v["y"]) / 10 @ v["w2"].T
        assert np.allclose(trial.reference["h"], dh, rtol=1e-12, atol=0)
        assert np.allclose(trial.reference["z"], dh * (z > 0), rtol=1e-12, atol=0)
        assert np.allclose(trial.reference["w1"], v["x"].T @ (dh * (z > 0)), rtol=1e-12, atol=0)


def test_a_correct_submission_scores_every_stage(staged):
    results = grade(DATA / "correct.py", *staged)
    assert results["score"] == 3.0 and "first wrong stage" not in str(results)


def test_a_wrong_relu_backward_is_named_as_the_first_wrong_stage(staged):
    tests = _outputs(grade(DATA / "no_relu_mask.py", *staged))
    assert tests["mlp_stages: dL/dh"][0] == 1.0
    assert tests["mlp_stages: dL/dz"][0] == 0 and tests["mlp_stages: dL/dw1"][0] == 0
    line = "first wrong stage: dL/dz — dL/dh is right, so the mistake is in your backward step through `h` (relu)"
    assert line in tests["mlp_stages: dL/dz"][1] and line in tests["mlp_stages: dL/dw1"][1]
    assert "first wrong stage" not in tests["mlp_stages: dL/dh"][1]


def test_a_wrong_last_step_is_named_at_the_leaf(staged):
    tests = _outputs(grade(DATA / "transposed_last.py", *staged))
    assert [tests[f"mlp_stages: dL/d{n}"][0] for n in ("h", "z", "w1")] == [1.0, 1.0, 0]
    assert "first wrong stage: dL/dw1 — dL/dz is right, so the mistake is in your backward step through " \
           "the matmul" in tests["mlp_stages: dL/dw1"][1]


def test_the_assignment_with_stages_passes_its_own_check():
    problems, assignment = findings(DATA / "stages.toml")
    assert problems == [] and assignment is not None and assignment.problems[0].gradients == ("h", "z", "w1")


def test_an_unknown_stage_names_the_field(tmp_path):
    text = (DATA / "stages.toml").read_text().replace('gradients = ["h", "z", "w1"]', 'gradients = ["q"]')
    (tmp_path / "a.toml").write_text(text)
    with pytest.raises(AssignmentError, match=r"problems\[0\].gradients names unknown leaves or stages \['q'\]"):
        load(tmp_path / "a.toml")


@pytest.mark.parametrize(("text", "message"), [
    ("z = x; z.sum()", "stage 'z' must compute an op"),
    ("x = relu(x); x.sum()", "stage 'x' is already a leaf or a stage"),
    ("import os; x.sum()", "only `name = expression` stages"),
    ("z = relu(x)", "the last statement must be the expression"),
])
def test_bad_stages_are_expression_errors(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text, {"x": Leaf("x", np.ones(3), True)})
