"""Worker processes that run whole big checks, off the server's request threads.

A big check (see admission.py) is sent, as its validated request and plan, to one of these
workers, which runs ``engine.check.check`` on it exactly as the server would (same code, same
plan, same seeds: the same report) and sends back the report's figures and its CheckResponse,
already serialized (``wire.AnsweredReport``): the server process sends those bytes as they are,
so even millions of gradient values cost it only a copy. The server process's interpreter is
then free for small checks, and the worker runs at a lower CPU priority (``nice``), so the kernel
gives the small checks' process the core first.

Isolation is the symbolic workers' (workers.py): spawned, an address-space limit, one BLAS
thread, killed when the server dies. Each check worker has its own symbolic worker process (a
child), which stops the symbolic witness at the call's deadline while the numeric and
finite-difference answers still return, as in the server. A check that is still running when
the call's deadline passes, or whose client has gone, gets its worker killed and replaced
(DEADLINE_EXCEEDED); a worker that dies is replaced (RESOURCE_EXHAUSTED for its check).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import resource
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from crossgrad.engine.errors import CrossgradError, DeadlineError, FieldError
from crossgrad.engine.graph import GraphError, Plan

from .limits import LimitError
from .workers import _single_threaded_blas, _without_main_file

_CTX = mp.get_context("spawn")
POLL_SECONDS = 0.05
READY = b"ready"  # a worker's first message, once it has started
_FIELD_ERRORS: dict[str, type[FieldError]] = {c.__name__: c for c in (FieldError, GraphError, LimitError,
                                                                       DeadlineError)}


def _serve(conn: Any, memory_mb: int, nice: int) -> None:
    """The worker loop: (request, plan, symbolic deadline, figures_only) in, a report or an error out."""
    from .lifetime import die_with_parent

    die_with_parent(signal.SIGKILL)
    with suppress(OSError):
        os.nice(nice)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.setdefault("CROSSGRAD_CHECK_THREADS", "1")  # parallelism is the processes (docs/deploy.md)
    mp.current_process().daemon = False  # it starts its own symbolic worker (a daemon child)
    from crossgrad.engine.check import check

    from . import wire
    from .workers import SymbolicPool, runner

    symbolic = SymbolicPool(1, memory_mb)
    conn.send_bytes(READY)  # started: a request's message can be read now
    while True:
        try:
            message = conn.recv_bytes()
        except EOFError:
            return
        try:
            request, plan, deadline, figures_only = pickle.loads(message)
            report = wire.answered(check(request, runner(symbolic, deadline, lambda: True), plan), figures_only)
            answer: tuple[str, Any] = ("ok", _slim(report))
        except BaseException as err:  # rebuilt in the server as the same typed error
            answer = ("error", _portable(err))
        conn.send_bytes(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))


def _slim(report: Any) -> Any:
    """The report without the arrays its serialized answer already carries (gradients, output)
    and without the graph (the server has it)."""
    report.graph = None
    report.output = None
    for leaf in [*report.leaves, *(leaf for step in report.steps for leaf in step.leaves)]:
        leaf.grads = {}
    return report


def _portable(err: BaseException) -> tuple[str, ...]:
    """An exception as plain data (the engine's errors do not survive pickling)."""
    if isinstance(err, FieldError):
        return ("field", type(err).__name__, err.path, err.reason)
    if isinstance(err, CrossgradError):
        return ("crossgrad", type(err).__name__, str(err))
    if isinstance(err, MemoryError):
        return ("memory", "MemoryError", str(err))
    return ("internal", type(err).__name__, str(err))


def _rebuilt(data: tuple[str, ...], memory_mb: int) -> Exception:
    """The server-side exception for a worker's error: the same status as if checked in-thread."""
    kind = data[0]
    if kind == "field":
        return _FIELD_ERRORS.get(data[1], FieldError)(data[2], data[3])
    if kind == "crossgrad":
        return CrossgradError(data[2])
    if kind == "memory":
        return LimitError("request", f"the check ran out of memory in its worker ({memory_mb} MB address space)")
    return RuntimeError(f"check worker: {data[1]}: {data[2]}")


class _Worker:
    def __init__(self, memory_mb: int, nice: int) -> None:
        self.ready = False  # its READY message has been read
        self.conn, child = _CTX.Pipe()
        self.process = _CTX.Process(target=_serve, args=(child, memory_mb, nice), daemon=True)
        with _without_main_file(), _single_threaded_blas():
            self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class CheckPool:
    """Up to ``size`` check workers, started when first needed (a server that never sees a big
    check never starts one; the first big check waits for its worker's start, a second or two,
    until the call's deadline at most: the request is sent only once the worker reads);
    ``run`` waits for a free one until the call's deadline."""

    def __init__(self, size: int = 1, memory_mb: int = 4096, nice: int = 10) -> None:
        self.size, self.memory_mb, self.nice = size, memory_mb, nice
        self._idle: list[_Worker] = []
        self._started = 0  # workers alive or being replaced (at most ``size``)
        self._free = threading.Condition()
        self.replaced = 0
        self.checks = 0  # checks answered by a worker

    def run(self, request: Any, plan: Plan, figures_only: bool, deadline: float, end: float,
            alive: Callable[[], bool] = lambda: True) -> Any:
        """The report of ``check(request, plan=plan)`` computed in a worker, as a
        ``wire.AnsweredReport`` (figures, and the serialized response in place of the arrays).
        ``deadline`` stops its symbolic witness (monotonic, as in the server); ``end`` is the call's
        own end, when the worker is killed if it has not answered (and when ``alive()`` turns False)."""
        worker = self._acquire(end)
        self._await_start(worker, end, alive)
        try:
            worker.conn.send_bytes(pickle.dumps((request, plan, deadline, figures_only), pickle.HIGHEST_PROTOCOL))
        except OSError:
            self._replace(worker)
            raise LimitError("request", "the check's worker died before it started; try again") from None
        status, payload = self._collect(worker, end, alive)
        if status != "ok":
            raise _rebuilt(payload, self.memory_mb)
        payload.graph = request.graph
        self.checks += 1
        return payload

    def _await_start(self, worker: _Worker, end: float, alive: Callable[[], bool]) -> None:
        """Wait for a new worker's READY until the call's end: a request larger than the pipe's
        buffer would otherwise block its sending thread, past any deadline, while the worker
        starts (seconds on a loaded machine). One not ready in time stays in the pool."""
        while not worker.ready:
            if worker.conn.poll(POLL_SECONDS):
                worker.ready = worker.conn.recv_bytes() == READY
                if not worker.ready:
                    self._replace(worker)
                    raise LimitError("request", "the check's worker did not start properly; it has been replaced")
            elif not worker.process.is_alive():
                self._replace(worker)
                raise LimitError("request", "the check's worker died as it started; it has been replaced")
            elif time.monotonic() > end or not alive():
                self._release(worker)
                raise DeadlineError("request", "the worker for large checks was still starting at the call's "
                                               "deadline")

    def _collect(self, worker: _Worker, end: float, alive: Callable[[], bool]) -> tuple[str, Any]:
        try:
            while not worker.conn.poll(POLL_SECONDS):
                if not worker.process.is_alive():
                    raise EOFError
                if time.monotonic() > end or not alive():
                    raise DeadlineError("request", "the check did not finish before the call's deadline; "
                                                   "its worker was stopped")
            answer = pickle.loads(worker.conn.recv_bytes())
        except DeadlineError:  # before OSError: a DeadlineError is a TimeoutError
            self._replace(worker)
            raise
        except (EOFError, OSError):
            self._replace(worker)
            raise LimitError("request", f"the check's worker died (address space limit {self.memory_mb} MB); "
                                        "it has been replaced") from None
        except BaseException:  # an answer that cannot be read: the worker's state is unknown
            self._replace(worker)
            raise
        self._release(worker)
        return answer

    def _acquire(self, end: float) -> _Worker:
        """An idle live worker, a new one while fewer than ``size`` exist, else wait for one."""
        with self._free:
            while True:
                for dead in [w for w in self._idle if not w.process.is_alive()]:
                    self._idle.remove(dead)
                    dead.kill()  # already dead: the join is immediate; closes its pipe
                    self._forget(dead)
                if self._idle:
                    return self._idle.pop()
                if self._started < self.size:
                    self._started += 1
                    break
                if not self._free.wait(timeout=max(0.0, end - time.monotonic())):
                    raise DeadlineError("request", "no worker for large checks became free before the deadline")
        try:
            return _Worker(self.memory_mb, self.nice)
        except BaseException:
            with self._free:
                self._started -= 1
            raise

    def idle_workers(self) -> list[_Worker]:
        with self._free:
            return list(self._idle)

    def _release(self, worker: _Worker) -> None:
        with self._free:
            self._idle.append(worker)
            self._free.notify()

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` (outside the lock: its join may take seconds); its replacement starts
        when a big check next needs one."""
        worker.kill()
        with self._free:
            self._forget(worker)
            self._free.notify()

    def _forget(self, worker: _Worker) -> None:
        """(Holding ``_free``) free the place of a dead or killed worker."""
        self._started -= 1
        self.replaced += 1

    def close(self) -> None:
        with self._free:
            idle, self._idle = self._idle, []
            self._started -= len(idle)
        for worker in idle:
            worker.kill()
