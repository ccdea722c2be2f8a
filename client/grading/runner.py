"""The child that runs a student's submission, inside the sandbox. Run as a script with the
standard library only until it puts numpy's directory (argv[1]) on sys.path; it never imports
crossgrad. Everything it writes is re-checked by the grader: it helps an honest submission be
understood, it is not trusted.

argv:   SITE_DIR SUBMISSION_PATH
stdin:  JSON {"time_limit": s, "problems": [{"function": name, "gradients": [leaf or stage, ...],
                                             "trials": [{leaf: {"shape", "data", "int"}}],
                                             "sizes": {stage: element count}}]}
output (on the fd that was 1 at start; fd 1 itself then points at stderr): one JSON line once
the module is imported, {"imported": true} or {"error": text}; then one line per problem, a
list per trial of {"ok": {leaf: {"shape", "data"}}} (non-finite numbers as null; "data" left out
when the size is not the leaf's) or {"error": text}.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import signal
import sys
import time
import traceback
from typing import Any


class _TimeLimit(BaseException):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TimeLimit()


class _NotNumbers(Exception):
    pass


def _encode(key: str, value: Any, size: int) -> dict[str, Any]:
    import numpy as np

    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:  # the grader's conversion, not the student's code: no traceback
        raise _NotNumbers(f"gradient {key!r} is a {type(value).__name__}, not an array of numbers ({err})") from None
    if arr.size != size:
        return {"shape": list(arr.shape)}
    return {"shape": list(arr.shape), "data": [v if math.isfinite(v) else None for v in arr.ravel().tolist()]}


def _call(fn: Any, trial: dict[str, Any], gradients: list[str], sizes: dict[str, int]) -> dict[str, Any]:
    import numpy as np

    args = {k: np.asarray(v["data"], dtype=np.int64 if v.get("int") else np.float64).reshape(v["shape"])
            for k, v in trial.items()}
    try:
        result = fn(**args)
        if not isinstance(result, dict):
            return {"error": f"returned {type(result).__name__}, expected a dict of arrays"}
        return {"ok": {k: _encode(k, result[k], args[k].size if k in args else sizes[k]) for k in gradients
                       if k in result}}
    except _NotNumbers as err:
        return {"error": str(err)}
    except MemoryError:
        return {"error": "MemoryError: the memory limit was exceeded"}
    except Exception:
        lines = traceback.format_exc().strip().splitlines()
        return {"error": "\n".join(lines[-3:])}


def _problem(module: Any, job: dict[str, Any], time_limit: float) -> list[dict[str, Any]]:
    fn = getattr(module, job["function"], None)
    if fn is None:
        return [{"error": f"no function {job['function']}()"}] * len(job["trials"])
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        return [_call(fn, trial, job["gradients"], job.get("sizes", {})) for trial in job["trials"]]
    except _TimeLimit:
        return [{"error": f"time limit of {time_limit:g} s exceeded"}] * len(job["trials"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _send(out: int, payload: Any) -> None:
    data = (json.dumps(payload) + "\n").encode()
    while data:
        data = data[os.write(out, data):]


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    out = os.dup(1)
    os.dup2(2, 1)  # a student's print() and os.write(1, ...) go to stderr, not into the results
    job = json.loads(sys.stdin.read())
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        spec = importlib.util.spec_from_file_location("submission", sys.argv[2])
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except (Exception, _TimeLimit):
        _send(out, {"error": "the module failed to import: " + traceback.format_exc().strip().splitlines()[-1]})
        return
    _send(out, {"imported": True})
    for problem in job["problems"]:
        _send(out, _problem(module, problem, float(job["time_limit"])))
        _kill_leftovers()


def _kill_leftovers() -> None:
    """As PID 1 of the sandbox: end and reap every process a problem left behind (their zombies
    would count against the process limit of the next problem). Never outside a sandbox."""
    if os.getpid() != 1:
        return
    while True:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        time.sleep(0.001)


if __name__ == "__main__":
    main()
