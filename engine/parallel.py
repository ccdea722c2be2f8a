"""Independent parts of one in-process check side by side in threads.

numpy's array operations and BLAS products release the GIL, so on a large graph the symbolic
tensor tier can run beside the numeric and finite-difference witnesses, and the batches of
perturbed copies of the finite differences beside each other. Each part computes exactly what it
computes alone, and its results are collected in the sequential order, so a check's report is
the same whether threads ran or not; an error is raised where the sequential code raised it (a
batch's: the first failing batch in order).

Only large graphs go to threads (``MIN_ELEMENTS`` values computed per forward pass): on small
ones a handoff costs more than it saves. Nor do they when every core is busy (``idle_core``).
The threads are one process-wide pool of ``threads() - 1`` workers, created on first use; the
calling thread is the other one.

``CROSSGRAD_CHECK_THREADS`` (default 1: off): threads one check may use, the caller's included;
the pool is sized when first used. ``crossgrad.check(..., threads=1)`` turns them off for one
check (``threads`` can only lower the environment's count).
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from .graph import Leaf, Plan

ENV = "CROSSGRAD_CHECK_THREADS"
DEFAULT_THREADS = 1  # opt-in: on this project's shared 2-core machine a second thread did not pay (see idle_core)
MIN_ELEMENTS = 1 << 18  # elements one forward pass computes below which nothing goes to threads
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_idle: threading.Semaphore | None = None
_pool_lock = threading.Lock()
_limit: contextvars.ContextVar[int | None] = contextvars.ContextVar("crossgrad_check_threads", default=None)


def configured() -> int:
    """The threads the environment allows (at least 1)."""
    text = os.environ.get(ENV, "").strip()
    try:
        return max(1, int(text)) if text else _default()
    except ValueError:
        return _default()


def _default() -> int:
    """DEFAULT_THREADS, at most the cores (asked only when it matters: os.cpu_count reads a file)."""
    return 1 if DEFAULT_THREADS <= 1 else max(1, min(DEFAULT_THREADS, os.cpu_count() or 1))


def threads() -> int:
    """Threads this check may use: the environment's, lowered by ``limit``."""
    limit = _limit.get()
    found = configured()
    return found if limit is None else max(1, min(found, limit))


def valid(count: object) -> bool:
    """Whether ``count`` is a thread limit: None or a positive int."""
    return count is None or (type(count) is int and count >= 1)


@contextmanager
def limit(count: int | None) -> Iterator[None]:
    """At most ``count`` threads (the caller's included) in this context; None: no limit."""
    token = _limit.set(count)
    try:
        yield
    finally:
        _limit.reset(token)


def idle_core() -> bool:
    """Whether some core was idle lately: the 1-minute load average (this process's own threads
    included) is below the core count. On a saturated machine a second thread gained nothing (two
    threads of numpy products ran 0.93-1.08x as fast as one at load 2.2-7 on 2 cores) and cost
    ~9% more CPU time."""
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1)
    except OSError:
        return True


def worth_it(plan: Plan) -> bool:
    """Whether this graph's forward pass is large enough for threads, they are allowed, and a
    core is free for them."""
    if threads() < 2 or not idle_core():
        return False
    total = 0
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        if not isinstance(node, Leaf):
            total += math.prod(plan.shapes[i])
            if total >= MIN_ELEMENTS:
                return True
    return False


def _executor() -> tuple[ThreadPoolExecutor, threading.Semaphore]:
    """The pool and its count of idle workers."""
    global _pool, _idle
    with _pool_lock:
        if _pool is None or _idle is None:
            workers = max(1, configured() - 1)
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="crossgrad-check")
            _idle = threading.Semaphore(workers)
        return _pool, _idle


def _submit(fn: Callable[[], T]) -> Future[T] | None:
    """``fn`` on an idle pool thread, in a copy of the caller's context (numpy's errstate, the
    limit); None when every worker is busy (another check's part: nothing queues behind it)."""
    pool, idle = _executor()
    if not idle.acquire(blocking=False):
        return None

    def run() -> T:
        try:
            return fn()
        finally:
            idle.release()

    return pool.submit(contextvars.copy_context().run, run)


class Pending:
    """A task started on the pool: call it for the result (its error is raised there);
    ``cancel()`` drops it if not started, else waits for it to end. ``seconds``: its own run time."""

    def __init__(self, future: Future[Any], timing: list[float]) -> None:
        self._future, self._timing = future, timing

    @property
    def seconds(self) -> float:
        return self._timing[0]

    def __call__(self) -> Any:
        return self._future.result()

    def cancel(self) -> None:
        if not self._future.cancel():
            self._future.exception()  # wait: no work of a failed check goes on behind its back


def start(fn: Callable[[], T]) -> Pending | Callable[[], T]:
    """``fn`` begun on an idle pool thread now, or (every worker busy) ``fn`` itself, computed
    when collected."""
    timing = [0.0]

    def timed() -> T:
        begun = time.perf_counter()
        try:
            return fn()
        finally:
            timing[0] = time.perf_counter() - begun

    future = _submit(timed)
    return fn if future is None else Pending(future, timing)


def map_ordered(fn: Callable[[T], Any], items: Sequence[T] | Iterable[T], parallel: bool = True) -> list[Any]:
    """``[fn(x) for x in items]``, the items shared between the caller and up to ``threads() - 1``
    idle pool threads, each taking the next item not yet taken. Returns once every item is done;
    a failing item's error is raised after the others ended, the first in order (as the loop
    would raise it)."""
    items = list(items)
    helpers = min(threads() - 1, len(items) - 1) if parallel else 0  # (idle ones only: _submit)
    if helpers < 1:
        return [fn(x) for x in items]
    results: list[Any] = [None] * len(items)
    errors: dict[int, BaseException] = {}
    state = {"next": 0, "done": 0}
    finished = threading.Condition()

    def work() -> None:
        while True:
            with finished:
                k = state["next"]
                if k >= len(items) or errors:
                    return
                state["next"] = k + 1
            try:
                results[k] = fn(items[k])
            except BaseException as err:  # noqa: BLE001  (re-raised by the caller)
                with finished:
                    errors[k] = err
            with finished:
                state["done"] += 1
                finished.notify_all()

    for _ in range(helpers):
        if _submit(work) is None:
            break
    work()
    with finished:  # items a pool thread took are waited for; one it never took is not there
        finished.wait_for(lambda: state["done"] == state["next"])
    if errors:
        raise errors[min(errors)]
    return results
