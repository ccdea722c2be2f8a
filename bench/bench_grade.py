"""Grading 200 submissions of the example assignment, measured.

    python bench/bench_grade.py [--submissions N] [--jobs J]

The submissions are copies of the five example submissions (correct and one per common
mistake). Prints the time to build the references (once, three-way checked) and to grade all
submissions, and the time per submission.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from crossgrad.client.grading.assignment import load
from crossgrad.client.grading.grade import grade_many
from crossgrad.client.grading.reference import references

ROOT = Path(__file__).parents[1] / "examples" / "assignments"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    opts = parser.parse_args()
    examples = sorted((ROOT / "submissions").glob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        paths = []
        for i in range(opts.submissions):
            target = folder / f"student{i:03d}_{examples[i % len(examples)].name}"
            shutil.copy(examples[i % len(examples)], target)
            paths.append(target)
        assignment = load(ROOT / "backprop_basics.toml")
        start = time.perf_counter()
        refs = references(assignment)
        built = time.perf_counter() - start
        start = time.perf_counter()
        results = grade_many(paths, assignment, refs, Path(tmp) / "results", opts.jobs, Path(tmp) / "summary.csv")
        graded = time.perf_counter() - start
    full = sum(r["score"] == 11.0 for r in results)
    print(f"references (3 problems x 3 trials, each checked three ways): {built:.2f} s")
    print(f"graded {len(paths)} submissions with {opts.jobs} jobs in {graded:.2f} s "
          f"({graded / len(paths) * 1e3:.0f} ms each); {full} with full marks")


if __name__ == "__main__":
    main()
