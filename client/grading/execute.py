"""Running a submission's functions: one sandboxed child for all problems; when it dies, the
problem it was on fails with the reason and the remaining problems run in a fresh child, so a
crash or overrun costs that problem only (an import that fails or overruns costs them all).

The child receives only, per problem, the function name, the leaves it must return and its
trials' leaf values: never the seed, the expression, the references or the assignment.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import sandbox
from .answers import Malformed, Result, load_line, message, output_cap, parse_problem
from .supervise import ChildRun, supervise

MAX_SOURCE = 1 << 20  # bytes of a submission module


@dataclass(frozen=True)
class Job:
    """One problem as the child sees it."""

    function: str
    gradients: tuple[str, ...]
    trials: list[dict[str, np.ndarray]]
    stage_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # asked stages (not leaves)

    def shapes(self) -> list[dict[str, tuple[int, ...]]]:
        return [{n: trial[n].shape if n in trial else self.stage_shapes[n] for n in self.gradients}
                for trial in self.trials]


def _encode(values: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: {"shape": list(v.shape), "data": v.ravel().tolist(), "int": v.dtype == np.int64}
            for k, v in values.items()}


def _job_file(jobs: list[Job], time_limit: float) -> Any:
    data = {"time_limit": time_limit, "problems": [
        {"function": j.function, "gradients": list(j.gradients), "trials": [_encode(t) for t in j.trials],
         "sizes": {n: math.prod(shape) for n, shape in j.stage_shapes.items()}}
        for j in jobs]}
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - returned to a with block
    handle.write(json.dumps(data).encode())
    handle.seek(0)
    return handle


def _read_source(path: Path) -> bytes | str:
    """The module's bytes, or why it cannot be run (a symlink could point anywhere on the host)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as err:
        return f"the submission file cannot be read ({err.strerror})"
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return "the submission is not a regular file"
        source = f.read(MAX_SOURCE + 1)
    return source if len(source) <= MAX_SOURCE else f"the submission is larger than {MAX_SOURCE} bytes"


def _child(source: bytes, jobs: list[Job], time_limit: float, memory_mb: int, unsafe: bool) -> ChildRun:
    limits = sandbox.Limits(time_limit, memory_mb, len(jobs) + 1, output_cap([j.shapes() for j in jobs]))
    with _job_file(jobs, time_limit) as job:
        if unsafe:
            return _unsafe_child(source, job.fileno(), limits)
        with tempfile.TemporaryFile() as module:
            module.write(source)
            module.seek(0)
            fd = module.fileno()
            if not sandbox.sandbox_uid():
                return supervise(sandbox.bwrap_argv(limits, None, fd), job.fileno(), (fd,), sandbox.ENV,
                                 limits.phases, time_limit, limits.output_bytes)
            with sandbox.UIDS.take() as uid:
                return supervise(sandbox.bwrap_argv(limits, uid, fd), job.fileno(), (fd,), sandbox.ENV,
                                 limits.phases, time_limit, limits.output_bytes, uid)


def _unsafe_child(source: bytes, job: int, limits: sandbox.Limits) -> ChildRun:
    """No sandbox: rlimits, a process group and a throw-away directory only (--unsafe-no-sandbox)."""
    with tempfile.TemporaryDirectory() as work:
        site = Path(work) / "site"
        site.mkdir()
        for src, dest in sandbox.host().numpy:
            (site / Path(dest).name).symlink_to(src)
        module = Path(work) / "submission.py"
        module.write_bytes(source)
        argv = [*sandbox.prlimit_args(limits, None), sys.executable, "-I", "-S", "-B", str(sandbox.RUNNER),
                str(site), str(module)]
        env = {**sandbox.ENV, "HOME": work}
        return supervise(argv, job, (), env, limits.phases, limits.time_limit, limits.output_bytes, cwd=work)


def _collect(run: ChildRun, jobs: list[Job]) -> tuple[list[Result], str | None, bool]:
    """(results of the problems answered, why the child stopped, whether the import failed)."""
    if not run.lines:
        return [], run.failure or "the submission produced no answers", True
    try:
        first = load_line(run.lines[0])
        if not isinstance(first, dict) or first.get("imported") is not True:
            why = message(first.get("error")) if isinstance(first, dict) else "malformed"
            return [], why, True
    except Malformed as err:
        return [], f"the submission's output was malformed: {err}", True
    done = [parse_problem(line, job.shapes()) for line, job in zip(run.lines[1:], jobs)]
    return done, run.failure, False


def run_submission(path: Path, jobs: list[Job], time_limit: float, memory_mb: int,
                   unsafe: bool = False) -> list[Result]:
    """Per job, per trial: the answer or why there is none. Never raises for a bad submission."""
    source = _read_source(path)
    if isinstance(source, str):
        return [[source] * len(j.trials) for j in jobs]
    results: list[Result] = []
    pending = list(jobs)
    while pending:
        done, failure, at_import = _collect(_child(source, pending, time_limit, memory_mb, unsafe), pending)
        results += done
        pending = pending[len(done):]
        if not pending:
            break
        why = failure or "the submission stopped answering"
        if at_import:
            return results + [[why] * len(j.trials) for j in pending]
        results.append([why] * len(pending[0].trials))
        pending = pending[1:]
    return results


__all__ = ["Job", "run_submission"]
