"""Spawned worker processes for the CPU-heavy symbolic witness.

Each worker is started with the ``spawn`` method (never forked after gRPC starts), runs with an
address-space limit, and keeps its own structure caches. A call that overruns its deadline, or
whose client has gone, gets its worker killed and replaced; the caller gets
:class:`WitnessTimeout` and answers with the numeric result and the symbolic part marked timed
out.

A structure that a worker has already run (successfully, quickly) is "proven": its derivation is
known to be bounded. Later checks of a proven structure whose exact-tier work is tiny
(``INLINE_WORK`` units of exact.estimate_work, ~1 us each) run in the calling thread, without a
worker round trip: their derivation replays one whose first run finished within ``PROVEN_SECONDS``
in a memory-limited worker, and their evaluation takes about a millisecond, far below any deadline.
Everything else still goes to a worker, and never as a pickled plan twice: each worker keeps the
plans it has run by key (tier, structure hash, seed dtype and shape) and later jobs of a structure
carry only the leaf values and the seed in one raw buffer (leafbuf.py). Workers start with one BLAS
thread (a busy core's spinning BLAS threads slow everyone).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import resource
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import numpy as np
from crossgrad.engine.check import WitnessTimeout
from crossgrad.engine.graph import Plan

from . import calls, leafbuf
from .group_jobs import GroupAnswers, SplitAnswers, run_many

_CTX = mp.get_context("spawn")
INLINE_WORK = 2_000  # exact-tier units (~2 ms at the slow end) run in the caller when proven
PROVEN_SECONDS = 0.5  # a first run this fast in a worker (derivation included) proves a structure bounded
PROVEN_CACHE_SIZE = 1024
# True: a proven structure goes to an idle worker that holds it (in parallel with the other
# witnesses) rather than inline. Off: on a loaded 2-core machine the worker's wake-up cost more
# than the ~0.3 ms it saves (bench_service.py, Check-i vs Check, same run)
PARALLEL_PROVEN = False
SPLIT_AT_LEAST = 16  # a group's job goes to two idle workers when each half has this many requests
COMPACT_JOBS = True  # False: every job carries the pickled plan (bench_service's A/B)


def _serve(conn: Any, memory_mb: int) -> None:
    """The worker loop: a job (see leafbuf) in, (gradients by leaf index, first-run seconds) or an
    error out. Plans it has seen are kept by key, so later jobs carry leaf values only."""
    from .lifetime import die_with_parent

    die_with_parent(signal.SIGKILL)  # a server killed mid-check leaves no worker behind
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from crossgrad.engine.symbolic import exact, tensor

    known = leafbuf.Known()
    first: dict[str, float] = {}  # structure -> seconds of its first run here (derivation included)
    while True:
        try:
            message = conn.recv_bytes()
        except EOFError:
            return
        try:
            if message[:1] in (leafbuf.MANY, leafbuf.PLANS):
                run_many(known, first, message, conn.send)
                continue
            if message[:1] == leafbuf.CALL:
                conn.send(calls.run(message))
                continue
            key, plan, seed, tier = _job(known, message)
            run = exact.gradients if tier == "exact" else tensor.gradients
            started = time.perf_counter()
            grads, _ = run(plan, seed)
            first.setdefault(key, time.perf_counter() - started)
            conn.send(("ok", (grads, first[key])))
        except BaseException as err:  # reported to the parent, which maps it
            conn.send(("error", f"{type(err).__name__}: {err}"))


def _job(known: leafbuf.Known, message: bytes) -> tuple[str, Plan, np.ndarray, str]:
    """(key, plan with this job's values, seed, tier) from a PLAN or VALUES message."""
    if message[:1] == leafbuf.PLAN:
        key, plan, seed, tier = pickle.loads(message[1:])
        known.put(key, (leafbuf.skeleton(plan), seed.dtype, tier))
        return key, plan, seed, tier
    key, data, skeleton, seed_dtype, tier = known.structure(message)
    plan, seed = leafbuf.unpack(skeleton, seed_dtype, data)
    return key, plan, seed, tier


@contextmanager
def _without_main_file() -> Iterator[None]:
    """Workers need nothing from the parent's __main__; spawn would re-run a main script (or fail
    when it is not a file, as with ``python -``), so its path is hidden while a worker starts."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None:
        del main.__file__  # type: ignore[union-attr]
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path  # type: ignore[union-attr]


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """A worker is one of several CPU-bound processes per core budget: its numpy (imported when it
    starts) gets one BLAS/OpenMP thread, so spinning BLAS threads do not fight the server's."""
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in _BLAS_ENV}
        os.environ.update(dict.fromkeys(_BLAS_ENV, "1"))
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_ENV_LOCK = threading.Lock()


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        self.conn, child = _CTX.Pipe()
        self.process = _CTX.Process(target=_serve, args=(child, memory_mb), daemon=True)
        self.known = leafbuf.Known()  # mirrors the worker's own (see leafbuf)
        with _without_main_file(), _single_threaded_blas():
            self.process.start()
        child.close()

    def send(self, plan: Plan, seed: np.ndarray, tier: str) -> bool:
        """Send a job: leaf values only (True) when this worker knows the structure, else the plan."""
        key = leafbuf.key_of(plan, seed, tier)
        if COMPACT_JOBS and self.known.get(key) is not None:
            self.conn.send_bytes(leafbuf.pack(key, plan, seed))
            return True
        self.known.put(key, True)
        self.conn.send_bytes(leafbuf.PLAN + pickle.dumps((key, plan, seed, tier), pickle.HIGHEST_PROTOCOL))
        return False

    def send_many(self, plans: list[Plan], seeds: list[np.ndarray], tier: str) -> None:
        """A group's job: leaf values only when this worker knows the structure, else the plans."""
        key = leafbuf.key_of(plans[0], seeds[0], tier)
        if COMPACT_JOBS and self.known.get(key) is not None:
            self.conn.send_bytes(leafbuf.pack_many(key, plans, seeds))
            return
        self.known.put(key, True)
        self.conn.send_bytes(leafbuf.PLANS + pickle.dumps((key, plans, seeds, tier), pickle.HIGHEST_PROTOCOL))

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class SymbolicPool:
    """A fixed number of workers; ``submit`` blocks for a free one, bounded by the deadline."""

    def __init__(self, size: int = 2, memory_mb: int = 4096) -> None:
        self.memory_mb = memory_mb
        self._idle: list[_Worker] = []
        self._free = threading.Condition()
        self.replaced = 0
        self._lock = threading.Lock()
        self.proven: OrderedDict[str, None] = OrderedDict()
        self.inline_calls = 0
        self.values_jobs = 0  # jobs sent as leaf values only (the worker held the structure)
        self.calls = 0  # other SymPy work sent to a worker (calls.py)
        for _ in range(size):
            self._release(_Worker(memory_mb))

    def submit(self, plan: Plan, seed: np.ndarray, tier: str, deadline: float,
               alive: Callable[[], bool] = lambda: True) -> Callable[[], dict[int, np.ndarray]]:
        """Start the symbolic witness in a worker; the returned function waits for its gradients
        (or raises WitnessTimeout at ``deadline``, monotonic, or when ``alive()`` turns False).

        A proven small structure goes to an idle worker that already holds it (it then runs while
        this thread computes the other witnesses) and otherwise runs inline: it never waits."""
        if self._inline(plan, tier):
            worker = self._take(leafbuf.key_of(plan, seed, tier), known_only=True) if PARALLEL_PROVEN else None
            if worker is None:
                with self._lock:
                    self.inline_calls += 1
                return _Pending(lambda: _run_inline(plan, seed))
        else:
            worker = self._acquire(deadline, leafbuf.key_of(plan, seed, tier))
        try:
            if worker.send(plan, seed, tier):
                with self._lock:
                    self.values_jobs += 1
        except OSError:
            self._replace(worker)
            raise WitnessTimeout("the worker died") from None
        return _Pending(lambda: self._collect(worker, deadline, alive, plan.structure_hash, tier))

    def submit_many(self, plans: list[Plan], seeds: list[np.ndarray], tier: str, deadline: float,
                    alive: Callable[[], bool] = lambda: True) -> GroupAnswers | SplitAnswers:
        """One worker job for requests of one structure (a stream's batch, never inline), split
        in two halves when a second worker is idle; answers arrive a part at a time (group_jobs)."""
        key = leafbuf.key_of(plans[0], seeds[0], tier)
        workers = [self._acquire(deadline, key)]
        second = self._take(key, known_only=False) if len(plans) >= 2 * SPLIT_AT_LEAST else None
        workers += [second] if second is not None else []
        cut = [0, len(plans) // 2, len(plans)] if len(workers) == 2 else [0, len(plans)]
        jobs: list[GroupAnswers] = []
        for k, worker in enumerate(workers):
            part = slice(cut[k], cut[k + 1])
            try:
                worker.send_many(plans[part], seeds[part], tier)
            except OSError:
                self._replace(worker)
                for job in jobs:
                    job.finish()
                for other in workers[k + 1:]:
                    self._release(other)
                raise WitnessTimeout("the worker died") from None
            jobs.append(GroupAnswers(self, worker, deadline, alive, plans[0].structure_hash, tier))
        return jobs[0] if len(jobs) == 1 else SplitAnswers(jobs[0], jobs[1], cut[1])

    def run(self, plan: Plan, seed: np.ndarray, tier: str, deadline: float,
            alive: Callable[[], bool] = lambda: True) -> dict[int, np.ndarray]:
        return self.submit(plan, seed, tier, deadline, alive)()

    def inline(self, plan: Plan, tier: str) -> bool:
        """Whether ``submit`` would run this structure in the calling thread."""
        return self._inline(plan, tier)

    def _inline(self, plan: Plan, tier: str) -> bool:
        """A proven structure with tiny exact-tier work (see the module docstring)."""
        if tier != "exact" or plan.structure_hash not in self.proven:
            return False
        from crossgrad.engine.symbolic import exact

        return exact.estimate_work(plan) <= INLINE_WORK

    def _prove(self, structure: str, first_run: float) -> None:
        if first_run <= PROVEN_SECONDS:
            with self._lock:
                self.proven[structure] = None
                if len(self.proven) > PROVEN_CACHE_SIZE:
                    self.proven.popitem(last=False)

    def answer(self, worker: _Worker, deadline: float, alive: Callable[[], bool]) -> Any:
        """The worker's answer; past ``deadline``, when ``alive()`` turns False or the worker dies,
        the worker is replaced and WitnessTimeout raised. The worker is not released here."""
        try:
            while not worker.conn.poll(0.05):
                if time.monotonic() > deadline or not alive() or not worker.process.is_alive():
                    why = "the worker died" if not worker.process.is_alive() else "the deadline passed"
                    raise WitnessTimeout(f"symbolic witness stopped: {why}")
            return worker.conn.recv()
        except (WitnessTimeout, EOFError, OSError) as err:
            self._replace(worker)
            raise err if isinstance(err, WitnessTimeout) else WitnessTimeout("the worker died") from None

    def _collect(self, worker: _Worker, deadline: float, alive: Callable[[], bool], structure: str,
                 tier: str) -> dict[int, np.ndarray]:
        status, payload = self.answer(worker, deadline, alive)
        self._release(worker)
        if status != "ok":
            raise WitnessTimeout(f"symbolic witness failed: {payload}")
        grads, first_run = payload
        if tier == "exact":
            self._prove(structure, first_run)
        return grads

    def _take(self, key: str, known_only: bool) -> _Worker | None:
        """An idle live worker, preferring one that holds ``key`` (dead ones found are replaced)."""
        with self._free:
            live = [w for w in self._idle if w.process.is_alive()]
            dead = [w for w in self._idle if w not in live]
            holders = [w for w in live if key in w.known.items]
            chosen = holders[0] if holders else (None if known_only or not live else live[0])
            self._idle = [w for w in live if w is not chosen]
        for worker in dead:
            self._replace(worker)
        return chosen

    def _acquire(self, deadline: float, key: str) -> _Worker:
        """An idle worker, waiting for one until ``deadline``."""
        while True:
            worker = self._take(key, known_only=False)
            if worker is not None:
                return worker
            with self._free:
                if not self._idle and not self._free.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise WitnessTimeout("no symbolic worker became free before the deadline") from None

    def idle_workers(self) -> list[_Worker]:
        with self._free:
            return list(self._idle)

    def _release(self, worker: _Worker) -> None:
        with self._free:
            self._idle.append(worker)
            self._free.notify()

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start its replacement in the background: spawning a Python process
        takes a while, and the call that found the dead or late worker must still answer in time."""
        worker.kill()
        with self._lock:
            self.replaced += 1
        threading.Thread(target=lambda: self._release(_Worker(self.memory_mb)), daemon=True).start()

    def close(self) -> None:
        with self._free:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


def _run_inline(plan: Plan, seed: np.ndarray) -> dict[int, np.ndarray]:
    """The exact tier in this thread; a failure is reported like a worker's."""
    from crossgrad.engine.symbolic import exact

    try:
        return exact.gradients(plan, seed)[0]
    except Exception as err:
        raise WitnessTimeout(f"symbolic witness failed: {type(err).__name__}: {err}") from None


class _Pending:
    """A submitted symbolic job: call it for the gradients; ``cancel()`` (when the check failed
    before collecting) still takes the worker's answer so the worker returns to the pool."""

    def __init__(self, collect: Callable[[], dict[int, np.ndarray]]) -> None:
        self._collect = collect

    def __call__(self) -> dict[int, np.ndarray]:
        return self._collect()

    def cancel(self) -> None:
        with suppress(WitnessTimeout):
            self._collect()


def runner(pool: SymbolicPool, deadline: float, alive: Callable[[], bool]) -> Callable[..., Any]:
    """The engine's symbolic hook for one request: (plan, seed, tier) -> a wait for the gradients."""

    def start(plan: Plan, seed: np.ndarray, tier: str) -> Callable[[], dict[int, np.ndarray]]:
        return pool.submit(plan, seed, tier, deadline, alive)

    return start
