"""Grading 200 submissions of the example assignment, measured: the bubblewrap sandbox on vs off.

    python bench/bench_grade.py [--submissions N] [--jobs J] [--rounds R]

The submissions are copies of the five example submissions (correct and one per common
mistake). The same submissions are graded with the sandbox and with --unsafe-no-sandbox (same
runner, same rlimits, no bwrap/setpriv/uid sweep), alternating in R rounds so that load from
other processes falls on both alike. Prints the time to build the references (once, three-way
checked), the wall time per submission in each mode and the sandbox's extra cost per submission
(goal: at most 50 ms).
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


def _copies(folder: Path, count: int) -> list[Path]:
    examples = sorted((ROOT / "submissions").glob("*.py"))
    folder.mkdir()
    paths = []
    for i in range(count):
        target = folder / f"student{i:03d}_{examples[i % len(examples)].name}"
        shutil.copy(examples[i % len(examples)], target)
        paths.append(target)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    opts = parser.parse_args()
    assignment = load(ROOT / "backprop_basics.toml")
    start = time.perf_counter()
    refs = references(assignment)
    built = time.perf_counter() - start
    seconds = {"sandbox": 0.0, "unsafe": 0.0}
    scores: dict[str, list[float]] = {"sandbox": [], "unsafe": []}
    with tempfile.TemporaryDirectory() as tmp:
        paths = _copies(Path(tmp) / "submissions", opts.submissions)
        size = -(-len(paths) // opts.rounds)
        for r in range(opts.rounds):
            chunk = paths[r * size:(r + 1) * size]
            for mode in (("sandbox", "unsafe") if r % 2 == 0 else ("unsafe", "sandbox")):
                out = Path(tmp) / f"{mode}{r}"
                start = time.perf_counter()
                results = grade_many(chunk, assignment, refs, out, opts.jobs, out / "summary.csv", mode == "unsafe",
                                     cache=False)
                seconds[mode] += time.perf_counter() - start
                scores[mode] += [res["score"] for res in results]
    assert scores["sandbox"] == scores["unsafe"], "the sandbox changed a score"
    n = len(paths)
    per = {mode: s / n * opts.jobs * 1e3 for mode, s in seconds.items()}  # process-time per submission
    print(f"references (3 problems x 3 trials, each checked three ways): {built:.2f} s")
    for mode in ("sandbox", "unsafe"):
        print(f"{mode:>8}: {n} submissions with {opts.jobs} jobs in {seconds[mode]:.2f} s "
              f"({seconds[mode] / n * 1e3:.0f} ms wall each, {per[mode]:.0f} ms per submission per job slot)")
    print(f"sandbox cost: {per['sandbox'] - per['unsafe']:+.0f} ms per submission per job slot "
          f"(goal <= 50 ms); {sum(s == 11.0 for s in scores['sandbox'])} with full marks in both modes")


if __name__ == "__main__":
    main()
