"""Regrading only what changed: results cached by the submission's bytes and the assignment.

The key hashes the submission file, the assignment (every field, so the seed, limits and
tolerances too), the references (trial values and reference gradients, so an engine that
computes them differently regrades), the sandbox mode and the grader's own source files.
Internal grading errors are never cached.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from .assignment import Assignment, Reference

GRADER = Path(__file__).parent


def assignment_key(assignment: Assignment, refs: list[Reference], unsafe: bool) -> str:
    digest = hashlib.sha256(repr(assignment).encode() + (b"unsafe" if unsafe else b"sandbox"))
    for source in sorted(GRADER.glob("*.py")):
        digest.update(source.read_bytes())
    for ref in refs:
        digest.update(repr((ref.problem.name, ref.invalid)).encode())
        for trial in ref.trials:
            for arrays in (trial.values, trial.reference):
                for name in sorted(arrays):
                    digest.update(name.encode() + np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


class ResultCache:
    """results.json per (submission bytes, assignment key), as files in ``folder``."""

    def __init__(self, folder: Path, assignment: Assignment, refs: list[Reference], unsafe: bool) -> None:
        self.folder = folder
        self.key = assignment_key(assignment, refs, unsafe)

    def _path(self, submission: Path) -> Path | None:
        if submission.is_symlink() or not submission.is_file():
            return None
        try:
            data = submission.read_bytes()
        except OSError:
            return None
        return self.folder / hashlib.sha256(self.key.encode() + data).hexdigest()[:40]

    def get(self, submission: Path) -> dict[str, Any] | None:
        path = self._path(submission)
        if path is None or not path.exists():
            return None
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return result if isinstance(result, dict) else None

    def put(self, submission: Path, result: dict[str, Any]) -> None:
        path = self._path(submission)
        if path is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result))
