"""Running one child from outside: wall-clock deadlines, an output cap, and a kill that leaves
no process of the submission behind.

The child answers in lines (see runner.py): the first must arrive within ``time_limit`` (+ a
start-up allowance) of the process start, each next one within ``time_limit`` of the previous
one. Nothing here relies on a signal the child could catch: on a deadline or too much output
the whole process group is SIGKILLed, and, when the sandbox has a uid of its own, every process
of that uid, until /proc shows none. Only then does :func:`supervise` return.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field

from .sandbox import pids_of

STARTUP = 1.0  # seconds allowed for the interpreter and numpy to start, before the first phase
LINGER = 0.5  # seconds a child that has answered everything gets to exit by itself
REAP_TIMEOUT = 10.0


@dataclass
class ChildRun:
    """The complete lines the child wrote, and why it stopped early (None: it did not)."""

    lines: list[bytes] = field(default_factory=list)
    failure: str | None = None


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"killed by signal {name}"
    return f"exit code {returncode}"


def kill_all(proc: subprocess.Popen[bytes], uid: int | None) -> None:
    """SIGKILL the process group and every process of ``uid``; return when all are gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(REAP_TIMEOUT)
    except subprocess.TimeoutExpired:  # pragma: no cover - a stuck bwrap
        proc.kill()
        proc.wait()
    if uid is None:
        return
    deadline = time.monotonic() + REAP_TIMEOUT
    while time.monotonic() < deadline:
        pids = list(pids_of(uid))
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.002)
    raise RuntimeError(f"processes of sandbox uid {uid} survive SIGKILL")  # pragma: no cover


class _Reader:
    """Reads the child's result pipe against deadlines and a byte cap."""

    def __init__(self, proc: subprocess.Popen[bytes], expected: int, time_limit: float, cap: int) -> None:
        self.proc, self.expected, self.time_limit, self.cap = proc, expected, time_limit, cap
        self.run = ChildRun()
        self.buffer = b""
        self.total = 0
        self.deadline = time.monotonic() + STARTUP + time_limit

    def _timeout_message(self) -> str:
        where = " while importing the module" if not self.run.lines else ""
        return f"time limit of {self.time_limit:g} s exceeded{where} (the process was killed)"

    def _take(self, chunk: bytes) -> None:
        self.total += len(chunk)
        *complete, self.buffer = (self.buffer + chunk).split(b"\n")
        if complete:
            self.run.lines += complete
            self.deadline = time.monotonic() + self.time_limit
        if self.total > self.cap:
            self.run.failure = f"the process wrote more than {self.cap} bytes of answers (it was killed)"

    def read(self) -> ChildRun:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while self.run.failure is None and len(self.run.lines) < self.expected:
                left = self.deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.run.failure = self._timeout_message()
                    break
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self.run.failure = "eof"
                    break
                self._take(chunk)
        return self.run


def supervise(argv: list[str], stdin: int, pass_fds: tuple[int, ...], env: dict[str, str], expected: int,
              time_limit: float, cap: int, uid: int | None = None, cwd: str | None = None) -> ChildRun:
    """Run ``argv`` until it has written ``expected`` lines, failed, or overrun; kill what is left."""
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            pass_fds=pass_fds, env=env, cwd=cwd, start_new_session=True)
    try:
        run = _Reader(proc, expected, time_limit, cap).read()
        if run.failure is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(LINGER)
        elif run.failure == "eof":
            try:
                code = proc.wait(LINGER + time_limit)
                run.failure = f"the submission crashed ({_describe(code)})"
            except subprocess.TimeoutExpired:
                run.failure = "the submission closed its output and did not exit (it was killed)"
    finally:
        kill_all(proc, uid)
        assert proc.stdout is not None
        proc.stdout.close()
    return run
