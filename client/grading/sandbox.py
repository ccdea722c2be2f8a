"""Runs a submission's functions in a child process with a wall-clock and memory limit.

All problems run in one child; if that child dies (a crash, os._exit, a hard timeout), each
problem is re-run in a child of its own, so a failure costs that problem only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

RUNNER = Path(__file__).with_name("runner.py")
Result = list[dict[str, np.ndarray] | str]  # per trial: the arrays, or an error message


def _encode(values: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: {"shape": list(v.shape), "data": v.ravel().tolist(), "int": v.dtype == np.int64}
            for k, v in values.items()}


def _decode(result: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v["data"], np.float64).reshape(v["shape"]) for k, v in result.items()}


def _child(module: Path, problems: list[tuple[str, list[dict[str, np.ndarray]]]], time_limit: float,
           memory_mb: int) -> list[Result] | str:
    """Per problem, per trial results; or why the child as a whole failed."""
    job = json.dumps({"module": str(module.resolve()), "memory_mb": memory_mb, "time_limit": time_limit,
                      "problems": [{"function": f, "trials": [_encode(t) for t in trials]} for f, trials in problems]})
    env = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory() as workdir:
        try:
            done = subprocess.run([sys.executable, str(RUNNER)], input=job, capture_output=True, text=True,
                                  timeout=time_limit * len(problems) + 5, cwd=workdir, env=env)
        except subprocess.TimeoutExpired:
            return f"time limit of {time_limit:g} s exceeded"
    if done.returncode != 0:
        why = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit code {done.returncode}"
        return f"the submission crashed ({why})"
    try:
        raw = json.loads(done.stdout)
    except json.JSONDecodeError:
        return "the submission's process produced no readable results"
    return [[_decode(r["ok"]) if "ok" in r else str(r.get("error", "no result")) for r in problem]
            for problem in raw]


def run_submission(module: Path, problems: list[tuple[str, list[dict[str, np.ndarray]]]],
                   time_limit: float, memory_mb: int) -> list[Result]:
    """Results for every problem (function name, trial leaf values) of one submission."""
    together = _child(module, problems, time_limit, memory_mb)
    if not isinstance(together, str):
        return together
    alone: list[Result] = []
    for function, trials in problems:  # isolate: one problem's crash costs that problem only
        result = _child(module, [(function, trials)], time_limit, memory_mb)
        failed: Result = [result] * len(trials) if isinstance(result, str) else []
        alone.append(failed if isinstance(result, str) else result[0])
    return alone
