"""Tutorial script: grade a gradient assignment in the sandbox, as course staff do.

    python docs/tutorials/grading.py

1. checks the assignment (TOML typos with line numbers, and that its solution scores full marks);
2. grades the five example submissions (one correct, four with a classic mistake) into a
   temporary results folder, each in its own bubblewrap sandbox;
3. prints each student's score and the first line of feedback, and the staff summary's files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
ASSIGNMENT = ROOT / "examples" / "assignments" / "backprop_basics.toml"
SUBMISSIONS = ROOT / "examples" / "assignments" / "submissions"
CROSSGRAD = [sys.executable, "-m", "crossgrad"]


def main() -> None:
    check = subprocess.run(CROSSGRAD + ["grade", "--check-assignment", str(ASSIGNMENT)], capture_output=True,
                           text=True)
    print(check.stdout + check.stderr)
    assert check.returncode == 0, "the assignment has problems"
    with tempfile.TemporaryDirectory() as out:
        graded = subprocess.run(CROSSGRAD + ["grade", str(ASSIGNMENT), str(SUBMISSIONS), "--out-dir", out,
                                             "--jobs", "2"], capture_output=True, text=True)
        assert graded.returncode == 0, graded.stderr
        scores = {}
        for result in sorted(Path(out).glob("*.json")):
            data = json.loads(result.read_text())
            scores[result.stem] = data["score"]
            wrong = [t for t in data["tests"] if t["score"] < t["max_score"]]
            first = wrong[0]["output"].splitlines()[0] if wrong else "all correct"
            print(f"{result.stem:14s} {data['score']:5.2f}  {first}")
        print("staff summary:", sorted(p.name for p in Path(out).iterdir() if p.suffix in (".csv", ".html")))
    assert scores["correct"] == max(scores.values()) and min(scores.values()) < scores["correct"]


if __name__ == "__main__":
    main()
