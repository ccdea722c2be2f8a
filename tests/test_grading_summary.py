"""Staff summaries (CSV, one-page HTML) and the regrade cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from crossgrad.client.grading import grade as grade_module
from crossgrad.client.grading.assignment import load
from crossgrad.client.grading.cache import assignment_key
from crossgrad.client.grading.reference import references
from crossgrad.client.grading.summary import write_csv, write_html

from .test_sandbox import HOSTILE, require_bwrap


def _result(score: float, output: str) -> dict:
    return {"score": score, "tests": [{"name": "p: dL/dx", "score": score, "max_score": 2.0, "output": output}]}


def test_html_summary_counts_scores_and_the_most_common_mistakes(tmp_path):
    wrong = "- trial 1: 3 of 3 elements wrong\n  likely mistake: **wrong sign (the gradient is negated)**"
    results = [_result(2.0, "- trial 1: correct"), _result(0.0, wrong), _result(0.0, wrong),
               _result(0.0, "- trial 1: time limit of 2 s exceeded (the process was killed)"),
               _result(0.0, "- trial 1: <script>alert(1)</script>")]
    paths = [Path(f"s{i}.py") for i in range(len(results))]
    write_html(tmp_path / "s.html", "Course <1>", paths, results)
    page = (tmp_path / "s.html").read_text()
    assert "5 submissions; mean 0.40 / 2; full marks: 1." in page
    assert "2× wrong sign (the gradient is negated)" in page
    assert "1× time limit of N s exceeded (the process was killed)" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "Course &lt;1&gt;" in page
    assert "<td>0–0.2</td><td><div class=bar style='width:300px'></div></td><td>4</td>" in page
    write_csv(tmp_path / "s.csv", paths + [Path("s5.py")], results + [{"score": 0.0, "tests": []}])
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert rows[0] == "submission,score,p: dL/dx" and rows[1] == "s0.py,2.0,2.0" and rows[-1] == "s5.py,0.0,"


def test_regrading_reruns_only_changed_submissions(tmp_path, monkeypatch):
    require_bwrap()
    assignment = load(HOSTILE / "assignment.toml")
    refs = references(assignment)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a", "b", "c"):  # distinct bytes: identical files would share one cache entry
        (subs / f"{name}.py").write_text((HOSTILE / "good.py").read_text() + f"# {name}\n")
    paths = sorted(subs.glob("*.py"))
    first = grade_module.grade_many(paths, assignment, refs, tmp_path / "out", 2, None)
    graded: list[str] = []
    real = grade_module.grade

    def counting(path, *args, **kwargs):
        graded.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(grade_module, "grade", counting)
    (subs / "b.py").write_text((subs / "b.py").read_text() + "\n# edited\n")
    again = grade_module.grade_many(paths, assignment, refs, tmp_path / "out", 2, None)
    assert graded == ["b.py"]
    assert again[0] == first[0] and again[2] == first[2]  # execution_time included: reused as stored
    assert again[1]["score"] == first[1]["score"] == 3.0
    assert (tmp_path / "out" / "summary.html").exists()
    graded.clear()
    grade_module.grade_many(paths, assignment, refs, tmp_path / "other", 2, None, cache=False)
    assert sorted(graded) == ["a.py", "b.py", "c.py"]


def test_cache_key_changes_with_the_references_the_seed_and_the_mode():
    assignment = load(HOSTILE / "assignment.toml")
    refs = references(assignment)
    key = assignment_key(assignment, refs, False)
    assert key == assignment_key(assignment, references(assignment), False)
    refs[0].trials[0].reference["x"] = refs[0].trials[0].reference["x"] + 1e-12
    assert assignment_key(assignment, refs, False) != key
    reseeded = dataclasses.replace(assignment, seed=assignment.seed + 1)
    assert len({key, assignment_key(reseeded, references(reseeded), False),
                assignment_key(assignment, references(assignment), True)}) == 3
