"""The child process that runs a student's submission. Run as a script (it imports only numpy
and the standard library, never the reference or crossgrad).

stdin: JSON {"module": path, "memory_mb": N, "time_limit": s,
             "problems": [{"function": name, "trials": [{leaf: {"shape", "data", "int"}}]}]}
stdout: JSON, per problem, per trial: {"ok": {leaf: {"shape", "data"}}} or {"error": text}.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import signal
import sys
import traceback
from typing import Any

import numpy as np


class _TimeLimit(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TimeLimit()


def _encode(value: Any) -> dict[str, Any]:
    arr = np.asarray(value, dtype=np.float64)
    return {"shape": list(arr.shape), "data": arr.ravel().tolist()}


def _call(fn: Any, trial: dict[str, Any]) -> dict[str, Any]:
    args = {k: np.asarray(v["data"], dtype=np.int64 if v.get("int") else np.float64).reshape(v["shape"])
            for k, v in trial.items()}
    try:
        result = fn(**args)
        if not isinstance(result, dict):
            return {"error": f"returned {type(result).__name__}, expected a dict of arrays"}
        return {"ok": {str(k): _encode(v) for k, v in result.items()}}
    except MemoryError:
        return {"error": "MemoryError: the memory limit was exceeded"}
    except _TimeLimit:
        raise
    except Exception:
        lines = traceback.format_exc().strip().splitlines()
        return {"error": "\n".join(lines[-3:])}


def _problem(module: Any, job: dict[str, Any], time_limit: float) -> list[dict[str, Any]]:
    fn = getattr(module, job["function"], None)
    if fn is None:
        return [{"error": f"no function {job['function']}()"}] * len(job["trials"])
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        return [_call(fn, trial) for trial in job["trials"]]
    except _TimeLimit:
        return [{"error": f"time limit of {time_limit:g} s exceeded"}] * len(job["trials"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main() -> None:
    job = json.loads(sys.stdin.read())
    limit = int(job["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _on_alarm)
    results_out, sys.stdout = sys.stdout, sys.stderr  # a student's print() must not corrupt results
    problems = job["problems"]
    try:
        spec = importlib.util.spec_from_file_location("submission", job["module"])
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception:
        why = "the module failed to import: " + traceback.format_exc().strip().splitlines()[-1]
        results_out.write(json.dumps([[{"error": why}] * len(p["trials"]) for p in problems]))
        return
    results = [_problem(module, p, float(job["time_limit"])) for p in problems]
    results_out.write(json.dumps(results))


if __name__ == "__main__":
    main()
